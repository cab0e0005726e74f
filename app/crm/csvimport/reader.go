// Package csvimport reads the contact spreadsheets people really upload: Excel exports in
// Windows-1252 with ";", Google Sheets in UTF-8 with ",", Excel's "Unicode text" (UTF-16,
// tabs), files with a BOM, blank lines, trailing empty columns and broken quoting. It
// streams, so a file of any size is read in bounded memory, and it maps the columns to
// contact fields. It knows nothing of the database: the import job normalizes phones
// (app/phone) and stores the rows.
package csvimport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Errors of Open about the file as a whole.
var (
	ErrEmpty     = errors.New("csvimport: the file is empty")
	ErrNotCSV    = errors.New("csvimport: the file is not a CSV text file (save the spreadsheet as CSV)")
	ErrNoColumns = errors.New("csvimport: the columns could not be told apart; separate them with , ; tab or | and start with a header row")
)

// Encodings Open recognizes, as Encoding reports them.
const (
	EncodingUTF8        = "utf-8"
	EncodingUTF16LE     = "utf-16le"
	EncodingUTF16BE     = "utf-16be"
	EncodingWindows1252 = "windows-1252"
)

// Reasons a row is refused. They are stable: the UI translates them and the import keeps
// them with each rejected row.
const (
	ReasonBadQuote          = "bad_quote"          // a quote inside a value that is not quoted, or text after a closing quote
	ReasonUnterminatedQuote = "unterminated_quote" // a quote opened and never closed
	ReasonTooManyFields     = "too_many_fields"    // values beyond the header's columns
	ReasonLineTooLong       = "line_too_long"      // a line longer than maxRecordBytes
	ReasonBadOptOut         = "bad_opt_out"        // an opt-out value that is not yes or no
)

// RowError is a row that cannot be read or used; the rows after it still can.
type RowError struct {
	Line   int    // the physical line where the row starts, 1-based
	Reason string // one of the Reason constants
	Raw    string // the row's text (its first line when a quote swallowed the next ones), cut to maxRawError bytes
}

func (e *RowError) Error() string {
	msg := e.Reason
	switch e.Reason {
	case ReasonBadQuote:
		msg = `a quote (") is misplaced; quote whole values and double the quotes inside them`
	case ReasonUnterminatedQuote:
		msg = `a quote (") opened here is never closed`
	case ReasonTooManyFields:
		msg = "the row has more values than the header has columns"
	case ReasonLineTooLong:
		msg = "the line is too long"
	case ReasonBadOptOut:
		msg = "the opt-out value is not yes or no"
	}
	if e.Line > 0 {
		return fmt.Sprintf("csvimport: line %d: %s", e.Line, msg)
	}
	return "csvimport: " + msg
}

// Record is one row of values, as many as the header has columns.
type Record struct {
	Line   int      // the physical line where the row starts, 1-based; the header is usually line 1
	Fields []string // one per header column, padded with ""
	Raw    string   // the row's text, its lines joined with "\n"
}

const (
	sniffSize       = 64 << 10 // what Open reads ahead to guess the encoding and the delimiter
	sniffRecords    = 50       // rows compared when guessing the delimiter
	maxRecordBytes  = 1 << 20  // longer rows are refused, so memory stays bounded
	maxRecordLines  = 1000     // a quoted value spanning more lines is taken for a stray quote
	maxRawError     = 1000     // text kept in a RowError
	candidateDelims = ",;\t|"
)

// Reader streams the records of a CSV file after its header.
type Reader struct {
	lines    lineReader
	split    splitter
	encoding string
	header   []string
	skipped  int

	raw  []byte // the text of the record being read, lines joined with "\n"
	ends []int  // where each of its lines ends in raw
}

// Open sniffs the encoding and the delimiter from the first 64 KiB of r and reads the
// header row. It returns ErrEmpty, ErrNotCSV or ErrNoColumns for files it cannot read, a
// *RowError when the header row itself is broken, or the error of r.
func Open(r io.Reader) (*Reader, error) {
	rb := bufio.NewReaderSize(r, sniffSize)
	head, err := rb.Peek(sniffSize)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("csvimport: reading the file: %w", err)
	}
	if len(head) == 0 {
		return nil, ErrEmpty
	}

	var src io.Reader = rb
	enc := EncodingUTF8
	switch {
	case bytes.HasPrefix(head, []byte("\xEF\xBB\xBF")):
		_, _ = rb.Discard(3) // cannot fail: the bytes are buffered
	case bytes.HasPrefix(head, []byte("\xFF\xFE")):
		enc = EncodingUTF16LE
		src = transform.NewReader(rb, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
	case bytes.HasPrefix(head, []byte("\xFE\xFF")):
		enc = EncodingUTF16BE
		src = transform.NewReader(rb, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder())
	case !utf8.Valid(trimPartialRune(head, len(head) < sniffSize)):
		// Not UTF-8: Excel in Brazil writes Windows-1252 (a superset of Latin-1).
		enc = EncodingWindows1252
		src = transform.NewReader(rb, charmap.Windows1252.NewDecoder())
	}

	br := bufio.NewReaderSize(src, sniffSize)
	sample, err := br.Peek(sniffSize)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("csvimport: reading the file: %w", err)
	}
	complete := err == io.EOF
	if len(bytes.TrimSpace(bytes.TrimPrefix(sample, []byte("\uFEFF")))) == 0 {
		return nil, ErrEmpty
	}
	if isBinary(sample) {
		return nil, ErrNotCSV
	}
	// Old Mac files end lines with a lone CR.
	if bytes.IndexByte(sample, '\n') < 0 && bytes.IndexByte(sample, '\r') >= 0 {
		sample = bytes.ReplaceAll(sample, []byte("\r"), []byte("\n"))
		br = bufio.NewReaderSize(crToLF{br}, sniffSize)
	}

	rd := &Reader{
		lines:    lineReader{br: br, next: 1, fixUTF8: enc == EncodingUTF8},
		encoding: enc,
	}
	if d, ok := excelSepLine(sample); ok {
		rd.split.delim = d
		_, _ = rd.lines.read() // skip it: already in the sample, it cannot fail
	} else {
		d, err := sniffDelimiter(sample, complete)
		if err != nil {
			return nil, err
		}
		rd.split.delim = d
	}
	for {
		rec, err := rd.readRecord()
		if err == io.EOF {
			return nil, ErrEmpty // blank rows only
		}
		if err != nil {
			return nil, err
		}
		if isBlank(rec.Fields) {
			rd.skipped++
			continue
		}
		rd.header = rec.Fields
		break
	}
	for i, h := range rd.header {
		rd.header[i] = strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))
	}
	return rd, nil
}

// Header returns the column names, trimmed.
func (r *Reader) Header() []string { return append([]string(nil), r.header...) }

// Delimiter returns the column separator Open settled on.
func (r *Reader) Delimiter() rune { return rune(r.split.delim) }

// Encoding returns the encoding Open settled on: one of the Encoding constants.
func (r *Reader) Encoding() string { return r.encoding }

// SkippedEmpty returns how many blank rows (empty lines, or only blank values) were
// skipped so far.
func (r *Reader) SkippedEmpty() int { return r.skipped }

// Next returns the next record, or io.EOF after the last one. A row that cannot be read
// comes back as a *RowError, and the next call goes on with the rows after it. Any other
// error comes from reading the file, and is returned again by every later call.
func (r *Reader) Next() (Record, error) {
	for {
		rec, err := r.readRecord()
		if err != nil {
			return Record{}, err
		}
		if isBlank(rec.Fields) {
			r.skipped++
			continue
		}
		n := len(r.header)
		if len(rec.Fields) > n {
			if !isBlank(rec.Fields[n:]) {
				return Record{}, rowError(rec.Line, ReasonTooManyFields, rec.Raw)
			}
			rec.Fields = rec.Fields[:n]
		}
		for len(rec.Fields) < n {
			rec.Fields = append(rec.Fields, "")
		}
		return rec, nil
	}
}

// readRecord reads the next record, skipping empty lines: one line, or several when a
// quoted value goes on past a line break. When a row's quoting is broken, its first line
// is reported and the lines after it are given back to be read again, so a stray quote
// costs one row and not the rest of the file.
func (r *Reader) readRecord() (Record, error) {
	var first physLine
	for {
		l, err := r.lines.read()
		if err != nil {
			return Record{}, err
		}
		if l.tooLong {
			return Record{}, rowError(l.no, ReasonLineTooLong, string(l.text))
		}
		if len(l.text) > 0 {
			first = l
			break
		}
		r.skipped++
	}

	r.raw = append(r.raw[:0], first.text...)
	r.ends = append(r.ends[:0], len(r.raw))
	r.split.reset()
	reason := r.split.feed(first.text)
	for reason == "" && r.split.quoted {
		if len(r.ends) >= maxRecordLines || len(r.raw) >= maxRecordBytes {
			return Record{}, r.broken(first.no, ReasonUnterminatedQuote, nil)
		}
		l, err := r.lines.read()
		if err == io.EOF {
			return Record{}, r.broken(first.no, ReasonUnterminatedQuote, nil)
		}
		if err != nil {
			return Record{}, err
		}
		if l.tooLong {
			return Record{}, r.broken(first.no, ReasonUnterminatedQuote, &l)
		}
		r.raw = append(r.raw, '\n')
		r.raw = append(r.raw, l.text...)
		r.ends = append(r.ends, len(r.raw))
		reason = r.split.feed(l.text)
	}
	if reason != "" {
		return Record{}, r.broken(first.no, reason, nil)
	}
	return Record{Line: first.no, Fields: r.split.fields(), Raw: string(r.raw)}, nil
}

// broken reports the record being read as a RowError at its first line, and gives its
// other lines (and a too long line that stopped it) back to the line reader.
func (r *Reader) broken(line int, reason string, tooLong *physLine) error {
	var back []physLine
	for i := 1; i < len(r.ends); i++ {
		text := append([]byte(nil), r.raw[r.ends[i-1]+1:r.ends[i]]...)
		back = append(back, physLine{no: line + i, text: text})
	}
	if tooLong != nil {
		back = append(back, physLine{no: tooLong.no, text: append([]byte(nil), tooLong.text...), tooLong: true})
	}
	r.lines.unread(back)
	return rowError(line, reason, string(r.raw[:r.ends[0]]))
}

func rowError(line int, reason, raw string) *RowError {
	return &RowError{Line: line, Reason: reason, Raw: truncate(raw, maxRawError)}
}

// truncate cuts s to at most n bytes without splitting a rune.
func truncate[T string | []byte](s T, n int) T {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// excelSepLine reads the "sep=;" first line Excel honours, which names the delimiter.
func excelSepLine(sample []byte) (byte, bool) {
	line, _, _ := bytes.Cut(sample, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) != 5 || !bytes.EqualFold(line[:4], []byte("sep=")) {
		return 0, false
	}
	d := line[4]
	isPunct := d > ' ' && d < 0x7F && d != '"' && !('0' <= d && d <= '9') && !('a' <= d|0x20 && d|0x20 <= 'z')
	return d, d == '\t' || isPunct
}

// isBlank tells whether every field is empty or white space.
func isBlank(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// trimPartialRune drops a rune cut in half at the end of a sample that is not the whole file.
func trimPartialRune(b []byte, complete bool) []byte {
	if complete {
		return b
	}
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// isBinary tells text from other files (a spreadsheet's .xlsx, a picture): text has no NUL
// and hardly any control characters.
func isBinary(sample []byte) bool {
	controls, runes := 0, 0
	for _, c := range string(sample) {
		runes++
		switch {
		case c == 0:
			return true
		case c == '\t' || c == '\n' || c == '\r' || c == '\f':
		case c < 0x20 || (c >= 0x7F && c < 0xA0):
			controls++
		}
	}
	return controls*100 > runes
}

// crToLF turns the lone CR line endings of old Mac files into LF.
type crToLF struct{ r io.Reader }

func (c crToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}
