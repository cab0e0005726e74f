package csvimport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	"nome,telefone\nAna,1\n",
	"nome;telefone;;\r\n\r\nJo\xe3o;1;;\r\n;;\r\n",
	"\xEF\xBB\xBFtelefone\n11 98765-4321\n",
	"\xFF\xFEn\x00o\x00m\x00e\x00\t\x00t\x00e\x00l\x00\n\x00",
	"nome,telefone\n\"Bia,2\nCarla,3\n\"Dani\" x,4\n",
	"nome,telefone\nA\"na,1\n\"Bia\nSouza\",2\n",
	"nome|telefone|x\na|b|c|d\ne\n",
	"a,b\r\"c\",d\r",
	"nome,telefone\n\"\"\"\",\"\n\n\"\n",
	"\xFE\xFF\x00a\x00,\x00b",
}

// FuzzReader: Open and Next never panic and always end, each Next call consuming at least
// one line; records have one field per column, valid UTF-8 without NUL, rising lines.
func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Open(bytes.NewReader(data))
		if err != nil {
			var re *RowError
			if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrNotCSV) && !errors.Is(err, ErrNoColumns) && !errors.As(err, &re) {
				t.Fatalf("Open: unexpected error %v", err)
			}
			return
		}
		// A line ends at \n or \r (old Mac files); UTF-16 has no more lines than bytes.
		maxCalls := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 2
		if r.Encoding() == EncodingUTF16LE || r.Encoding() == EncodingUTF16BE {
			maxCalls = len(data) + 2
		}
		header := r.Header()
		lastLine := 0
		for calls := 0; ; calls++ {
			if calls > maxCalls {
				t.Fatalf("more than %d calls to Next without io.EOF", maxCalls)
			}
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			var re *RowError
			if errors.As(err, &re) {
				if re.Line <= lastLine {
					t.Fatalf("row error on line %d after line %d", re.Line, lastLine)
				}
				lastLine = re.Line
				continue
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if rec.Line <= lastLine {
				t.Fatalf("record on line %d after line %d", rec.Line, lastLine)
			}
			lastLine = rec.Line
			if len(rec.Fields) != len(header) {
				t.Fatalf("line %d: %d fields for %d columns", rec.Line, len(rec.Fields), len(header))
			}
			for _, f := range rec.Fields {
				if !utf8.ValidString(f) || strings.IndexByte(f, 0) >= 0 {
					t.Fatalf("line %d: field %q is not clean UTF-8", rec.Line, f)
				}
			}
		}
		// Mapping the header never fails on it.
		_, _ = GuessMapping(header, nil).Apply(header)
	})
}

// FuzzSplitter: on every input encoding/csv reads, the splitter reads the same records.
func FuzzSplitter(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), byte(','))
	}
	f.Add([]byte("a;b\n\"c;\nd\";e"), byte(';'))
	f.Add([]byte("a\tb\n\"c\td\"\te"), byte('\t'))
	f.Fuzz(func(t *testing.T, data []byte, delim byte) {
		if strings.IndexByte(candidateDelims, delim) < 0 {
			return
		}
		compareWithEncodingCSV(t, data, delim)
	})
}

func BenchmarkRead(b *testing.B) {
	const rows = 100_000
	var buf bytes.Buffer
	buf.WriteString("Nome;Telefone;E-mail;Etiquetas;Observação\r\n")
	for i := range rows {
		fmt.Fprintf(&buf, "João %d;(11) 9%04d-%04d;joao%d@example.com;\"cliente, vip\";café às %dh\r\n", i, i%10000, i/10000, i, i%24)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r, err := Open(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != rows {
			b.Fatalf("%d rows", n)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
