package csvimport

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Why not encoding/csv: on a stray quote its Reader reads on until the next quote anywhere
// in the file and returns one error for the whole stretch, so the rows in between are
// lost (their count unknown); a quote never closed makes it buffer the rest of the file
// before it fails; and it cannot give a row's text back for the reject report. The
// splitter below follows the same rules as csv.Reader with LazyQuotes=false (the tests
// compare the two on every input csv.Reader accepts) but works line by line, so the
// Reader can put the lines after a broken row back and read them again.

// physLine is one line of the file without its line ending.
type physLine struct {
	no      int    // 1-based line number
	text    []byte // valid until the next read, unless it was given back
	tooLong bool   // the line was longer than maxRecordBytes; text holds its start
}

// lineReader reads the lines of the decoded file, numbering them, and lets lines be given
// back to be read again.
type lineReader struct {
	br      *bufio.Reader
	next    int        // number of the next line read from br
	pending []physLine // lines given back, read before br
	fixUTF8 bool       // the file was taken for UTF-8: repair what is not
	long    []byte     // a line longer than br's buffer
	err     error      // sticky: io.EOF or the read error
}

func (lr *lineReader) read() (physLine, error) {
	if len(lr.pending) > 0 {
		l := lr.pending[0]
		lr.pending = lr.pending[1:]
		return l, nil
	}
	if lr.err != nil {
		return physLine{}, lr.err
	}
	b, err := lr.br.ReadSlice('\n')
	tooLong := false
	if err == bufio.ErrBufferFull {
		lr.long = append(lr.long[:0], b...)
		for err == bufio.ErrBufferFull {
			b, err = lr.br.ReadSlice('\n')
			if tooLong = tooLong || len(lr.long)+len(b) > maxRecordBytes; !tooLong {
				lr.long = append(lr.long, b...)
			} // else read on to the end of the line without keeping it
		}
		b = lr.long
	}
	if err != nil {
		lr.err = err
		if err != io.EOF {
			lr.err = fmt.Errorf("csvimport: reading the file: %w", err)
		}
		if err != io.EOF || len(b) == 0 {
			return physLine{}, lr.err
		}
	}
	l := physLine{no: lr.next, text: trimEOL(b), tooLong: tooLong}
	lr.next++
	if tooLong {
		l.text = truncate(l.text, maxRawError)
	}
	if lr.fixUTF8 && !utf8.Valid(l.text) {
		l.text = toValidUTF8(l.text)
	}
	if bytes.IndexByte(l.text, 0) >= 0 {
		// PostgreSQL text cannot hold NUL.
		l.text = bytes.ReplaceAll(l.text, []byte{0}, nil)
	}
	return l, nil
}

// unread gives lines back; they are read again before anything else.
func (lr *lineReader) unread(lines []physLine) {
	if len(lines) > 0 {
		lr.pending = append(lines, lr.pending...)
	}
}

// trimEOL drops the "\n" or "\r\n" that ends a line, like csv.Reader.
func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// toValidUTF8 keeps the valid UTF-8 of a line and reads each other byte as Windows-1252: a
// file that looked like UTF-8 in its first 64 KiB may have been pasted together with an
// Excel export further on.
func toValidUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			out = utf8.AppendRune(out, charmap.Windows1252.DecodeByte(b[0]))
			b = b[1:]
			continue
		}
		out = append(out, b[:size]...)
		b = b[size:]
	}
	return out
}

// splitter cuts the lines of one record into fields, following RFC 4180 as csv.Reader
// does, with two leniencies for hand-written files: spaces before an opening quote and
// after a closing quote are ignored ("a", "b" reads as a and b).
type splitter struct {
	delim  byte
	buf    []byte // the unescaped fields, one after another
	ends   []int  // where each field ends in buf
	quoted bool   // inside a quoted field that goes on past the line
}

func (s *splitter) reset() {
	s.buf = s.buf[:0]
	s.ends = s.ends[:0]
	s.quoted = false
}

// feed parses one line of the current record (without its line ending) and returns a
// reason when the line breaks the quoting rules. The record is complete when feed returns
// "" and s.quoted is false; while s.quoted is true the next line continues the field.
func (s *splitter) feed(line []byte) string {
	i := 0
	if s.quoted {
		s.buf = append(s.buf, '\n')
	}
	for {
		if !s.quoted {
			// At the start of a field.
			j := i
			for j < len(line) && s.isSpace(line[j]) {
				j++
			}
			if j < len(line) && line[j] == '"' {
				s.quoted = true
				i = j + 1
			} else {
				end := len(line)
				if k := bytes.IndexByte(line[i:], s.delim); k >= 0 {
					end = i + k
				}
				field := line[i:end]
				if bytes.IndexByte(field, '"') >= 0 {
					return ReasonBadQuote
				}
				s.buf = append(s.buf, field...)
				s.ends = append(s.ends, len(s.buf))
				if end == len(line) {
					return ""
				}
				i = end + 1
				continue
			}
		}
		// Inside a quoted field.
		k := bytes.IndexByte(line[i:], '"')
		if k < 0 {
			s.buf = append(s.buf, line[i:]...)
			return "" // the field goes on on the next line
		}
		s.buf = append(s.buf, line[i:i+k]...)
		i += k + 1
		if i < len(line) && line[i] == '"' {
			s.buf = append(s.buf, '"') // "" is a quote
			i++
			continue
		}
		s.quoted = false
		s.ends = append(s.ends, len(s.buf))
		for i < len(line) && s.isSpace(line[i]) {
			i++
		}
		switch {
		case i == len(line):
			return ""
		case line[i] == s.delim:
			i++ // a delimiter at the very end makes one more, empty, field
		default:
			return ReasonBadQuote
		}
	}
}

// isSpace is the white space skipped around quotes; never the delimiter.
func (s *splitter) isSpace(c byte) bool {
	return (c == ' ' || c == '\t') && c != s.delim
}

// fields returns the fields of the complete record; they share one string.
func (s *splitter) fields() []string {
	str := string(s.buf)
	out := make([]string, len(s.ends))
	prev := 0
	for i, end := range s.ends {
		out[i] = str[prev:end]
		prev = end
	}
	return out
}

// splitAll splits text into records with delimiter d, skipping empty lines; a broken
// record comes back as nil with ok false. It is used on the sniffed sample and by tests.
// A record still open at the end of text is dropped when text is not the whole file.
func splitAll(text []byte, d byte, complete bool, limit int) (records [][]string, ok []bool) {
	s := splitter{delim: d}
	open := false
	if i := bytes.LastIndexByte(text, '\n'); !complete && i >= 0 {
		text = text[:i] // the last line was cut by the sample
	}
	for line := range bytes.SplitSeq(text, []byte("\n")) {
		if len(records) >= limit {
			break
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if !open {
			if len(line) == 0 {
				continue
			}
			s.reset()
		}
		if reason := s.feed(line); reason != "" {
			records, ok = append(records, nil), append(ok, false)
			open = false
			continue
		}
		open = s.quoted
		if !open {
			records, ok = append(records, s.fields()), append(ok, true)
		}
	}
	if open && complete {
		records, ok = append(records, nil), append(ok, false)
	}
	return records, ok
}

// sniffDelimiter picks the candidate that splits the header into more than one column and
// the rows below into the same number of columns most consistently. A file with a single
// column is accepted when its header names a known field ("telefone").
func sniffDelimiter(sample []byte, complete bool) (byte, error) {
	best, bestScore, bestCols := byte(0), -1.0, 0
	brokenHeader, brokenCount := byte(0), 0
	firstLine := firstContentLine(sample)
	for _, d := range []byte(candidateDelims) {
		records, ok := splitAll(sample, d, complete, sniffRecords)
		records, ok = dropBlank(records, ok)
		if len(records) == 0 {
			continue
		}
		if !ok[0] {
			// Remember it: if nothing splits better, Open reports the broken header.
			if n := strings.Count(firstLine, string(d)); n > brokenCount {
				brokenHeader, brokenCount = d, n
			}
			continue
		}
		cols := filledLen(records[0])
		if cols < 2 {
			continue
		}
		score := 1.0
		if rows := len(records) - 1; rows > 0 {
			sum := 0.0
			for i, rec := range records[1:] {
				switch n := filledLen(rec); {
				case !ok[i+1] || n > cols:
				case n == cols:
					sum++
				default:
					sum += 0.75 // missing values at the end are common, and less telling
				}
			}
			score = sum / float64(rows)
		}
		if score > bestScore || (score == bestScore && cols > bestCols) {
			best, bestScore, bestCols = d, score, cols
		}
	}
	switch {
	case best != 0:
		return best, nil
	case firstLine == "":
		return 0, ErrEmpty // blank rows only
	case brokenHeader != 0:
		return brokenHeader, nil
	}

	// One column: its header must be a field we know.
	name := strings.TrimRight(firstLine, candidateDelims+" ")
	if guessBuiltin(strings.Trim(name, `"`)) == "" {
		return 0, ErrNoColumns
	}
	// Excel may add empty columns after it ("telefone;;"): their delimiter is the file's.
	if i := strings.IndexAny(firstLine[len(name):], candidateDelims); i >= 0 {
		return firstLine[len(name)+i], nil
	}
	// Otherwise the rarest candidate, so values are not cut in two.
	best, fewest := candidateDelims[0], -1
	for _, d := range []byte(candidateDelims) {
		if n := bytes.Count(sample, []byte{d}); fewest < 0 || n < fewest {
			best, fewest = d, n
		}
	}
	return best, nil
}

// firstContentLine returns the first line of sample that has more than blanks and
// delimiters, trimmed, or "".
func firstContentLine(sample []byte) string {
	for line := range bytes.SplitSeq(sample, []byte("\n")) {
		if s := strings.TrimSpace(strings.TrimPrefix(string(line), "\uFEFF")); strings.Trim(s, candidateDelims+" ") != "" {
			return s
		}
	}
	return ""
}

// dropBlank removes the rows whose fields are all blank.
func dropBlank(records [][]string, ok []bool) ([][]string, []bool) {
	var r [][]string
	var o []bool
	for i, rec := range records {
		if ok[i] && isBlank(rec) {
			continue
		}
		r, o = append(r, rec), append(o, ok[i])
	}
	return r, o
}

// filledLen is the number of fields up to the last one that is not blank.
func filledLen(fields []string) int {
	n := len(fields)
	for n > 0 && strings.TrimSpace(fields[n-1]) == "" {
		n--
	}
	return n
}
