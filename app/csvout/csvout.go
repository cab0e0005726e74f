// Package csvout writes the CSV files people download and open in a spreadsheet: the
// contact export and an import's rejected rows. It keeps a cell from being run as a
// formula and writes what Excel in Brazil needs to read the file right.
package csvout

import (
	"encoding/csv"
	"io"
	"strings"
)

// BOM makes Excel read a CSV as UTF-8 (without it, "João" shows as "JoÃ£o").
const BOM = "\ufeff"

// Safe keeps a value from being run as a formula when the file is opened in a spreadsheet
// ("=HYPERLINK(…)" typed as a name by someone malicious): a value starting with = + - @,
// a tab or a carriage return gets a leading apostrophe, which spreadsheets hide.
func Safe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// SafeRow applies Safe to every cell of row, in place, and returns it.
func SafeRow(row []string) []string {
	for i, v := range row {
		row[i] = Safe(v)
	}
	return row
}

// NewWriter writes the BOM to w and returns a CSV writer with delim between values (a
// comma when delim is 0): a file is best given back with the delimiter it came with, as a
// Brazilian Excel splits columns on ";".
func NewWriter(w io.Writer, delim rune) (*csv.Writer, error) {
	if _, err := io.WriteString(w, BOM); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	if delim != 0 && delim != '"' && delim != '\r' && delim != '\n' {
		cw.Comma = delim
	}
	return cw, nil
}
