package csvimport

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/text/encoding/charmap"
)

// event is what one Next call gave: a record or a row error.
type event struct {
	Line   int
	Fields []string
	Reason string
}

func (e event) String() string {
	if e.Reason != "" {
		return fmt.Sprintf("%d:error(%s)", e.Line, e.Reason)
	}
	return fmt.Sprintf("%d:%q", e.Line, e.Fields)
}

// readEvents opens data and reads it to the end, bounding the number of Next calls.
func readEvents(t *testing.T, data []byte) (*Reader, []event) {
	t.Helper()
	r, err := Open(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	var events []event
	for i := 0; ; i++ {
		if i > bytes.Count(data, []byte("\n"))+bytes.Count(data, []byte("\r"))+2 {
			t.Fatalf("Next did not reach io.EOF; events so far: %v", events)
		}
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		var re *RowError
		switch {
		case errors.As(err, &re):
			if re.Line < 1 || re.Raw == "" {
				t.Errorf("row error without line or raw: %+v", re)
			}
			events = append(events, event{Line: re.Line, Reason: re.Reason})
		case err != nil:
			t.Fatalf("Next: %v", err)
		default:
			if len(rec.Fields) != len(r.Header()) {
				t.Errorf("line %d: %d fields for %d columns", rec.Line, len(rec.Fields), len(r.Header()))
			}
			events = append(events, event{Line: rec.Line, Fields: rec.Fields})
		}
	}
	return r, events
}

func rec(line int, fields ...string) event { return event{Line: line, Fields: fields} }
func rowErr(line int, reason string) event { return event{Line: line, Reason: reason} }

func checkEvents(t *testing.T, got, want []event) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got\n  %v\nwant\n  %v", got, want)
	}
}

// windows1252 encodes s as Brazilian Excel saves it.
func windows1252(t *testing.T, s string) []byte {
	t.Helper()
	b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// utf16Bytes encodes s with a BOM, as Excel's "Unicode text" does (little endian).
func utf16Bytes(s string, order binary.ByteOrder) []byte {
	var buf bytes.Buffer
	for _, u := range append([]uint16{0xFEFF}, utf16.Encode([]rune(s))...) {
		_ = binary.Write(&buf, order, u)
	}
	return buf.Bytes()
}

func TestGoogleSheetsCommaUTF8(t *testing.T) {
	data := "Nome,Telefone,E-mail,Etiquetas\n" +
		"João da Silva,(11) 98765-4321,joao@example.com,\"cliente, vip\"\n" +
		"Conceição Araújo,+55 21 99876-5432,,lead\n"
	r, events := readEvents(t, []byte(data))
	if r.Delimiter() != ',' || r.Encoding() != EncodingUTF8 {
		t.Errorf("delimiter %q, encoding %s", r.Delimiter(), r.Encoding())
	}
	if h := r.Header(); !reflect.DeepEqual(h, []string{"Nome", "Telefone", "E-mail", "Etiquetas"}) {
		t.Errorf("header %q", h)
	}
	checkEvents(t, events, []event{
		rec(2, "João da Silva", "(11) 98765-4321", "joao@example.com", "cliente, vip"),
		rec(3, "Conceição Araújo", "+55 21 99876-5432", "", "lead"),
	})
}

func TestExcelSemicolonWindows1252(t *testing.T) {
	data := windows1252(t, "Nome;Celular;Cidade;Observação\r\n"+
		"João;11 98765-4321;São Paulo;café às 10h\r\n"+
		"Conceição;(21) 99876-5432;Niterói;€ 1,50\r\n")
	r, events := readEvents(t, data)
	if r.Delimiter() != ';' || r.Encoding() != EncodingWindows1252 {
		t.Errorf("delimiter %q, encoding %s", r.Delimiter(), r.Encoding())
	}
	if h := r.Header(); h[3] != "Observação" {
		t.Errorf("header %q", h)
	}
	checkEvents(t, events, []event{
		rec(2, "João", "11 98765-4321", "São Paulo", "café às 10h"),
		rec(3, "Conceição", "(21) 99876-5432", "Niterói", "€ 1,50"),
	})
}

func TestUTF8BOM(t *testing.T) {
	r, events := readEvents(t, []byte("\xEF\xBB\xBFtelefone;nome\n11 98765-4321;Ana\n"))
	if h := r.Header(); h[0] != "telefone" {
		t.Errorf("the BOM stayed in the header: %q", h)
	}
	if r.Encoding() != EncodingUTF8 {
		t.Errorf("encoding %s", r.Encoding())
	}
	checkEvents(t, events, []event{rec(2, "11 98765-4321", "Ana")})
}

func TestExcelUnicodeTextUTF16(t *testing.T) {
	text := "Nome\tTelefone\r\nJoão\t11 98765-4321\r\nConceição\t\"21 99876-5432\"\r\n"
	for _, c := range []struct {
		order binary.ByteOrder
		enc   string
	}{{binary.LittleEndian, EncodingUTF16LE}, {binary.BigEndian, EncodingUTF16BE}} {
		r, events := readEvents(t, utf16Bytes(text, c.order))
		if r.Delimiter() != '\t' || r.Encoding() != c.enc {
			t.Errorf("delimiter %q, encoding %s; want tab, %s", r.Delimiter(), r.Encoding(), c.enc)
		}
		if h := r.Header(); !reflect.DeepEqual(h, []string{"Nome", "Telefone"}) {
			t.Errorf("header %q", h)
		}
		checkEvents(t, events, []event{rec(2, "João", "11 98765-4321"), rec(3, "Conceição", "21 99876-5432")})
	}
}

func TestDelimiterTraps(t *testing.T) {
	cases := []struct {
		name  string
		data  string
		delim rune
		first []string
	}{
		{"comma file, semicolons inside quoted names", "nome,telefone\n\"Silva; João\",11 98765-4321\n\"Souza; Ana; Bia\",11 91234-5678\n", ',', []string{"Silva; João", "11 98765-4321"}},
		{"semicolon file, decimal commas", "nome;valor;telefone\nJoão;1,5;11 98765-4321\nAna;2,75;11 91234-5678\nBia;10,00;11 90000-0000\n", ';', []string{"João", "1,5", "11 98765-4321"}},
		{"semicolon file, commas in the header", "Nome;Cidade, UF;Telefone\nJoão;São Paulo, SP;11 98765-4321\n", ';', []string{"João", "São Paulo, SP", "11 98765-4321"}},
		{"pipe file", "nome|telefone\nJoão|11 98765-4321\n", '|', []string{"João", "11 98765-4321"}},
		{"tab file with commas in values", "nome\ttelefone\tobs\nJoão\t11 98765-4321\ta, b, c\n", '\t', []string{"João", "11 98765-4321", "a, b, c"}},
		{"missing values at the end of rows", "nome;telefone;email;tags\nJoão;11 98765-4321\nAna;11 91234-5678;a@b.c\n", ';', []string{"João", "11 98765-4321", "", ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, events := readEvents(t, []byte(c.data))
			if r.Delimiter() != c.delim {
				t.Fatalf("delimiter %q; want %q", r.Delimiter(), c.delim)
			}
			if len(events) == 0 || !reflect.DeepEqual(events[0].Fields, c.first) {
				t.Errorf("events %v; first want %q", events, c.first)
			}
		})
	}
}

func TestExcelSepLine(t *testing.T) {
	r, events := readEvents(t, []byte("sep=,\r\nnome,valor;telefone\r\nAna,1;5\r\n"))
	if r.Delimiter() != ',' {
		t.Errorf("delimiter %q", r.Delimiter())
	}
	if h := r.Header(); !reflect.DeepEqual(h, []string{"nome", "valor;telefone"}) {
		t.Errorf("header %q", h)
	}
	checkEvents(t, events, []event{rec(3, "Ana", "1;5")})
}

func TestCRLFAndOldMacLineEndings(t *testing.T) {
	for _, eol := range []string{"\r\n", "\r", "\n"} {
		data := strings.ReplaceAll("nome,telefone\nAna,1\n\"Bia\nSouza\",2\nCarla,3", "\n", eol)
		_, events := readEvents(t, []byte(data))
		checkEvents(t, events, []event{rec(2, "Ana", "1"), rec(3, "Bia\nSouza", "2"), rec(5, "Carla", "3")})
	}
}

func TestBlankLinesAndRows(t *testing.T) {
	data := "\n\nnome;telefone;;\n\nAna;1;;\n;;;\n   ;  \n\nBia;2;;\n;;;\n"
	r, events := readEvents(t, []byte(data))
	checkEvents(t, events, []event{rec(5, "Ana", "1", "", ""), rec(9, "Bia", "2", "", "")})
	// Two lines before the header, then lines 4, 6, 7, 8 and 10.
	if n := r.SkippedEmpty(); n != 7 {
		t.Errorf("SkippedEmpty = %d; want 7", n)
	}
}

func TestQuotedNewlinesKeepLineNumbers(t *testing.T) {
	data := "nome,endereço,telefone\n" +
		"Ana,\"Rua A, 10\nApto 2\",1\n" +
		"Bia,\"Rua B\n\nFundos\",2\n" + // a blank line inside a value
		"Carla,\"diz \"\"oi\"\"\",3\n" +
		"Dani,,4\n"
	r, events := readEvents(t, []byte(data))
	checkEvents(t, events, []event{
		rec(2, "Ana", "Rua A, 10\nApto 2", "1"),
		rec(4, "Bia", "Rua B\n\nFundos", "2"),
		rec(7, "Carla", `diz "oi"`, "3"),
		rec(8, "Dani", "", "4"),
	})
	if r.SkippedEmpty() != 0 {
		t.Errorf("a blank line inside a value was counted as a blank row")
	}
}

func TestRecordRaw(t *testing.T) {
	r, err := Open(strings.NewReader("nome,telefone\r\nAna,\"1\r\n2\"\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Next()
	if err != nil || got.Raw != "Ana,\"1\n2\"" || got.Line != 2 {
		t.Errorf("Next = %+v, %v", got, err)
	}
}

func TestBrokenQuotingInTheMiddle(t *testing.T) {
	data := "nome,telefone\n" +
		"Ana,1\n" +
		"B\"ia,2\n" + // a quote inside a value that is not quoted
		"Carla,3\n" +
		"\"Dani\" Souza,4\n" + // text after the closing quote
		"Eva,5\n" +
		"\"Fábio,6\n" + // a quote opened and closed three lines down, in the wrong place
		"Gil,7\n" +
		"Hugo,8\n" +
		"\"Iara\"x,9\n" +
		"Júlia,10\n"
	_, events := readEvents(t, []byte(data))
	checkEvents(t, events, []event{
		rec(2, "Ana", "1"),
		rowErr(3, ReasonBadQuote),
		rec(4, "Carla", "3"),
		rowErr(5, ReasonBadQuote),
		rec(6, "Eva", "5"),
		rowErr(7, ReasonBadQuote), // the row where the stray quote is
		rec(8, "Gil", "7"),        // the rows it swallowed are read again
		rec(9, "Hugo", "8"),
		rowErr(10, ReasonBadQuote),
		rec(11, "Júlia", "10"),
	})
}

func TestUnterminatedQuoteAtTheEnd(t *testing.T) {
	for _, tail := range []string{"\n", ""} {
		data := "nome,telefone\nAna,1\n\"Bia,2\nCarla,3\nDani,4" + tail
		_, events := readEvents(t, []byte(data))
		checkEvents(t, events, []event{
			rec(2, "Ana", "1"),
			rowErr(3, ReasonUnterminatedQuote),
			rec(4, "Carla", "3"),
			rec(5, "Dani", "4"),
		})
	}
	// On the very last line.
	_, events := readEvents(t, []byte("nome,telefone\nAna,1\nBia,\"2"))
	checkEvents(t, events, []event{rec(2, "Ana", "1"), rowErr(3, ReasonUnterminatedQuote)})
}

func TestRowErrorRaw(t *testing.T) {
	r, err := Open(strings.NewReader("nome,telefone\n\"Bia,2\nCarla,3\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Next()
	var re *RowError
	if !errors.As(err, &re) || re.Raw != `"Bia,2` || re.Line != 2 || re.Reason != ReasonUnterminatedQuote {
		t.Fatalf("Next: %#v", err)
	}
	if msg := re.Error(); !strings.Contains(msg, "line 2") {
		t.Errorf("message %q does not name the line", msg)
	}
}

func TestStrayQuoteSpanningTooManyLines(t *testing.T) {
	var b strings.Builder
	b.WriteString("nome,telefone\n\"Ana,1\n")
	for i := range maxRecordLines + 10 {
		fmt.Fprintf(&b, "P%d,%d\n", i, i)
	}
	b.WriteString("fim\",x\n") // a closing quote far below: not taken as one value
	_, events := readEvents(t, []byte(b.String()))
	if len(events) != maxRecordLines+12 {
		t.Fatalf("%d events", len(events))
	}
	checkEvents(t, events[:3], []event{rowErr(2, ReasonUnterminatedQuote), rec(3, "P0", "0"), rec(4, "P1", "1")})
	checkEvents(t, events[len(events)-1:], []event{rowErr(maxRecordLines+13, ReasonBadQuote)})
}

func TestLineTooLong(t *testing.T) {
	data := "nome,telefone\nAna,1\nBia," + strings.Repeat("9", maxRecordBytes+10) + "\nCarla,3\n"
	_, events := readEvents(t, []byte(data))
	checkEvents(t, events, []event{rec(2, "Ana", "1"), rowErr(3, ReasonLineTooLong), rec(4, "Carla", "3")})

	// Inside a quoted value: the row is broken at its start, the long line still reported.
	data = "nome,telefone\n\"Ana,1\n" + strings.Repeat("9", maxRecordBytes+10) + "\nCarla,3\n"
	_, events = readEvents(t, []byte(data))
	checkEvents(t, events, []event{rowErr(2, ReasonUnterminatedQuote), rowErr(3, ReasonLineTooLong), rec(4, "Carla", "3")})
}

func TestFieldCounts(t *testing.T) {
	data := "nome;telefone;email\n" +
		"Ana;1;a@b.c\n" +
		"Bia;2;b@b.c;;  ;\n" + // extra empty fields: dropped
		"Carla;3;c@b.c;extra\n" + // an extra value: refused
		"Dani;4\n" + // fewer: padded
		"Eva\n"
	_, events := readEvents(t, []byte(data))
	checkEvents(t, events, []event{
		rec(2, "Ana", "1", "a@b.c"),
		rec(3, "Bia", "2", "b@b.c"),
		rowErr(4, ReasonTooManyFields),
		rec(5, "Dani", "4", ""),
		rec(6, "Eva", "", ""),
	})
}

func TestLenientSpacesAroundQuotes(t *testing.T) {
	_, events := readEvents(t, []byte("nome, telefone\n\"Ana\" , \"11 98765-4321\"\n"))
	checkEvents(t, events, []event{rec(2, "Ana", "11 98765-4321")})
}

func TestHeaderOnly(t *testing.T) {
	for _, data := range []string{"nome;telefone", "nome;telefone\r\n", "nome;telefone\n\n;;\n"} {
		r, events := readEvents(t, []byte(data))
		if len(events) != 0 || len(r.Header()) != 2 {
			t.Errorf("%q: header %q, events %v", data, r.Header(), events)
		}
	}
}

func TestEmptyFile(t *testing.T) {
	for _, data := range []string{"", "\xEF\xBB\xBF", "\n\n", "  \r\n\t", ";;;\n;;\n", "\xFF\xFE"} {
		if _, err := Open(strings.NewReader(data)); !errors.Is(err, ErrEmpty) {
			t.Errorf("Open(%q) = %v; want ErrEmpty", data, err)
		}
	}
}

func TestNotCSV(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")
	xlsx := append([]byte("PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00"), bytes.Repeat([]byte{0x9c, 0x01, 0x07, 0xff}, 100)...)
	noise := make([]byte, 4096)
	for i := range noise {
		noise[i] = byte(i*7919 + i/3)
	}
	for name, data := range map[string][]byte{"png": png, "xlsx": xlsx, "noise": noise, "nul": []byte("nome,telefone\nAna\x00,1\n")} {
		if _, err := Open(bytes.NewReader(data)); !errors.Is(err, ErrNotCSV) {
			t.Errorf("%s: Open = %v; want ErrNotCSV", name, err)
		}
	}
}

func TestSingleColumn(t *testing.T) {
	r, events := readEvents(t, []byte("Telefone\n11 98765-4321\n(21) 99876-5432, 21 3333-4444\n"))
	checkEvents(t, events, []event{rec(2, "11 98765-4321"), rec(3, "(21) 99876-5432, 21 3333-4444")})
	if h := r.Header(); len(h) != 1 {
		t.Errorf("header %q", h)
	}
	// Excel's trailing empty columns tell the delimiter.
	r, events = readEvents(t, []byte("celular;;\n11 98765-4321;;\n"))
	if r.Delimiter() != ';' {
		t.Errorf("delimiter %q", r.Delimiter())
	}
	checkEvents(t, events, []event{rec(2, "11 98765-4321", "", "")})

	if _, err := Open(strings.NewReader("Clientes\nAna\nBia\n")); !errors.Is(err, ErrNoColumns) {
		t.Errorf("an unknown single column: %v; want ErrNoColumns", err)
	}
}

func TestEncodingChangesAfterTheSample(t *testing.T) {
	// UTF-8 in the first 64 KiB, then a row pasted from a Windows-1252 export.
	var b bytes.Buffer
	b.WriteString("nome;telefone\n")
	for b.Len() < sniffSize+100 {
		b.WriteString("Ana;11 98765-4321\n")
	}
	b.Write(windows1252(t, "João;11 91234-5678\n"))
	b.WriteString("Conceição;11 90000-0000\n")
	r, events := readEvents(t, b.Bytes())
	if r.Encoding() != EncodingUTF8 {
		t.Fatalf("encoding %s", r.Encoding())
	}
	last := events[len(events)-2:]
	if last[0].Fields[0] != "João" || last[1].Fields[0] != "Conceição" {
		t.Errorf("last rows %v", last)
	}
}

func TestBrokenHeader(t *testing.T) {
	_, err := Open(strings.NewReader("nome,\"tele\"fone\nAna,1\n"))
	var re *RowError
	if !errors.As(err, &re) || re.Line != 1 || re.Reason != ReasonBadQuote {
		t.Errorf("Open = %v; want a bad_quote RowError on line 1", err)
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestReadErrorIsSticky(t *testing.T) {
	boom := errors.New("boom")
	if _, err := Open(failingReader{boom}); !errors.Is(err, boom) {
		t.Errorf("Open = %v", err)
	}
	// The error comes after the sniffed 64 KiB.
	good := "nome,telefone\n" + strings.Repeat("Ana,1\n", sniffSize/6+10)
	r, err := Open(io.MultiReader(strings.NewReader(good), failingReader{boom}))
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, err := r.Next()
		if err != nil {
			if !errors.Is(err, boom) {
				t.Fatalf("Next = %v; want boom", err)
			}
			break
		}
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Errorf("Next again = %v; want boom", err)
	}
}

// How encoding/csv recovers, and why the Reader does not rely on it: after a quote error
// on one line its next Read starts at the next line, but a stray opening quote makes it
// read on to the next quote anywhere below (or to the end of the file) and report one
// error for the whole stretch; the rows in between are gone.
func TestEncodingCSVRecovery(t *testing.T) {
	read := func(data string) (out []string) {
		cr := csv.NewReader(strings.NewReader(data))
		cr.LazyQuotes, cr.FieldsPerRecord, cr.ReuseRecord = false, -1, true
		for range 20 {
			fields, err := cr.Read()
			var pe *csv.ParseError
			switch {
			case err == io.EOF:
				return out
			case errors.As(err, &pe):
				out = append(out, fmt.Sprintf("error %d-%d %v", pe.StartLine, pe.Line, pe.Err))
			case err != nil:
				return append(out, err.Error())
			default:
				out = append(out, strings.Join(fields, "|"))
			}
		}
		return out
	}
	// A bare quote: one line lost, reading goes on.
	if got := read("a,b\nA\"na,1\nBia,2\n"); !reflect.DeepEqual(got, []string{"a|b", "error 2-2 bare \" in non-quoted-field", "Bia|2"}) {
		t.Errorf("bare quote: %q", got)
	}
	// A stray opening quote swallows the rows up to the next quote: Carla is lost.
	if got := read("a,b\n\"Bia,2\nCarla,3\n\"Dani\" x,4\nEva,5\n"); !reflect.DeepEqual(got, []string{"a|b", "error 2-4 extraneous or missing \" in quoted-field", "Eva|5"}) {
		t.Errorf("stray quote: %q", got)
	}
	// Never closed: one error at the end, every row after the quote lost.
	if got := read("a,b\n\"Bia,2\nCarla,3\nDani,4\n"); !reflect.DeepEqual(got, []string{"a|b", "error 2-4 extraneous or missing \" in quoted-field"}) {
		t.Errorf("unterminated: %q", got)
	}
}

// The splitter reads what encoding/csv reads, on every input encoding/csv accepts.
func TestSplitterMatchesEncodingCSV(t *testing.T) {
	for _, data := range []string{
		"a,b\nc,d\n", "a,b\r\nc,d", "\"a\nb\",c\n", "\"\"\"\",\"\"\n", ",\n,,\n", "a,\"\"\n\n\nb\n",
		"\"a\r\nb\"\r\n", "a\rb,c\n", "x\r", "\"a\"\"b\",c,\"\"\n", " a , b \n", "\"a,\nb\n\nc\",d",
	} {
		compareWithEncodingCSV(t, []byte(data), ',')
	}
}

func compareWithEncodingCSV(t *testing.T, data []byte, delim byte) {
	t.Helper()
	if bytes.IndexByte(data, 0) >= 0 {
		return // the Reader drops NUL, which PostgreSQL refuses
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma, cr.FieldsPerRecord = rune(delim), -1
	var want []event
	for {
		fields, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return // only inputs encoding/csv accepts are compared
		}
		line, _ := cr.FieldPos(0)
		want = append(want, rec(line, fields...))
	}

	rd := &Reader{lines: lineReader{br: bufio.NewReader(bytes.NewReader(data)), next: 1}, split: splitter{delim: delim}}
	var got []event
	for {
		r, err := rd.readRecord()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%q: %v; encoding/csv reads %v", data, err, want)
		}
		got = append(got, rec(r.Line, r.Fields...))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n Reader       %v\n encoding/csv %v", data, got, want)
	}
}

// A 50 MB Windows-1252 export, generated while it is read, goes through in bounded memory.
func TestLargeFileBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("50 MB")
	}
	const size = 50 << 20
	src := &generated{size: size, header: "Nome;Telefone;E-mail;Etiquetas;Observação\r\n"}
	runtime.GC()
	var before, now runtime.MemStats
	runtime.ReadMemStats(&before)

	r, err := Open(src)
	if err != nil {
		t.Fatal(err)
	}
	rows, peak := 0, uint64(0)
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("row %d: %v", rows, err)
		}
		if rows%10000 == 0 {
			runtime.ReadMemStats(&now)
			peak = max(peak, now.HeapAlloc)
			if rec.Fields[0] != fmt.Sprintf("João %d", rows) || rec.Fields[4] != fmt.Sprintf("café às %dh", rows%24) {
				t.Fatalf("row %d: %q", rows, rec.Fields)
			}
		}
		rows++
	}
	if src.n < size {
		t.Fatalf("read %d bytes of %d", src.n, size)
	}
	if r.Encoding() != EncodingWindows1252 {
		t.Errorf("encoding %s", r.Encoding())
	}
	grown := int64(peak) - int64(before.HeapAlloc)
	t.Logf("%d rows, %d MB read, heap grew by at most %.1f MB", rows, src.n>>20, float64(grown)/(1<<20))
	if grown > 20<<20 {
		t.Errorf("the heap grew by %d MB", grown>>20)
	}
}

// generated is an io.Reader of contact rows in Windows-1252, made up as they are read.
type generated struct {
	size    int    // stop after the row that reaches size bytes
	header  string // ASCII
	n       int    // bytes read
	row     int
	pending []byte
}

func (g *generated) Read(p []byte) (int, error) {
	for len(g.pending) == 0 {
		if g.n >= g.size {
			return 0, io.EOF
		}
		g.pending = g.pending[:0]
		if g.n == 0 && g.row == 0 {
			g.pending = append(g.pending, g.header...)
		}
		// \xe3 is ã, \xe9 é and \xe0 à in Windows-1252.
		g.pending = fmt.Appendf(g.pending, "Jo\xe3o %d;(11) 9%04d-%04d;joao%d@example.com;\"cliente, vip\";caf\xe9 \xe0s %dh\r\n",
			g.row, g.row%10000, g.row/10000%10000, g.row, g.row%24)
		g.row++
	}
	n := copy(p, g.pending)
	g.pending = g.pending[n:]
	g.n += n
	return n, nil
}
