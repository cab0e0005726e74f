package csvout_test

import (
	"bytes"
	"testing"

	"masteria/app/csvout"
)

func TestSafe(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")",
		"+55 11":            "'+55 11",
		"-1":                "'-1",
		"@SUM(A1)":          "'@SUM(A1)",
		"\tx":               "'\tx",
		"\rx":               "'\rx",
		"Ana":               "Ana",
		"":                  "",
		"a=b":               "a=b",
	} {
		if got := csvout.Safe(in); got != want {
			t.Errorf("Safe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriterBOMAndDelimiter(t *testing.T) {
	var b bytes.Buffer
	w, err := csvout.NewWriter(&b, ';')
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Write(csvout.SafeRow([]string{"Nome", "=1+1", "a;b"}))
	w.Flush()
	if got, want := b.String(), "\ufeffNome;'=1+1;\"a;b\"\n"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	b.Reset()
	w, _ = csvout.NewWriter(&b, 0)
	_ = w.Write([]string{"a", "b"})
	w.Flush()
	if b.String() != "\ufeffa,b\n" {
		t.Fatalf("%q", b.String())
	}
}
