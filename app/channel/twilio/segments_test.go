package twilio

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"masteria/app/sim/twiliosim"
)

var segmentCases = []struct {
	name, body string
	count      int
	enc        string
}{
	{"empty", "", 0, EncodingGSM7},
	{"short", "Olá", 1, EncodingUCS2},
	{"gsm 160", strings.Repeat("a", 160), 1, EncodingGSM7},
	{"gsm 161", strings.Repeat("a", 161), 2, EncodingGSM7},
	{"gsm 306", strings.Repeat("a", 306), 2, EncodingGSM7},
	{"gsm 307", strings.Repeat("a", 307), 3, EncodingGSM7},
	{"euro 80", strings.Repeat("€", 80), 1, EncodingGSM7},
	{"euro 81", strings.Repeat("€", 81), 2, EncodingGSM7},
	{"caret 159+1", strings.Repeat("a", 159) + "^", 2, EncodingGSM7},
	{"caret 158+1", strings.Repeat("a", 158) + "^", 1, EncodingGSM7},
	{"escape not split", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152), 3, EncodingGSM7},
	{"capital Ç is gsm", "Ç" + strings.Repeat("a", 159), 1, EncodingGSM7},
	{"ucs2 70", strings.Repeat("ç", 70), 1, EncodingUCS2},
	{"ucs2 71", strings.Repeat("ç", 71), 2, EncodingUCS2},
	{"ucs2 134", strings.Repeat("ã", 134), 2, EncodingUCS2},
	{"ucs2 135", strings.Repeat("ã", 135), 3, EncodingUCS2},
	{"emoji 35", strings.Repeat("😀", 35), 1, EncodingUCS2},
	{"emoji 36", strings.Repeat("😀", 36), 2, EncodingUCS2},
	{"surrogate not split", strings.Repeat("ç", 66) + "😀" + strings.Repeat("ç", 66), 3, EncodingUCS2},
	{"one emoji makes ucs2", strings.Repeat("a", 69) + "😀", 2, EncodingUCS2},
}

func TestSegments(t *testing.T) {
	for _, c := range segmentCases {
		n, enc := Segments(c.body)
		if n != c.count || enc != c.enc {
			t.Errorf("%s: got %d %s, want %d %s", c.name, n, enc, c.count, c.enc)
		}
	}
}

// TestSegmentsMatchSimulator: our count is what the Twilio simulator bills, on the table and
// on random bodies mixing GSM-7, extension, Latin-1, emoji and invalid bytes.
func TestSegmentsMatchSimulator(t *testing.T) {
	check := func(body string) {
		t.Helper()
		n, enc := Segments(body)
		sn, senc := twiliosim.Segments(body)
		if n != sn || enc != senc {
			t.Fatalf("%q: got %d %s, simulator says %d %s", body, n, enc, sn, senc)
		}
	}
	for _, c := range segmentCases {
		check(c.body)
	}
	r := rand.New(rand.NewPCG(1, 2))
	gsmOnly := []string{"a", "Z", "0", " ", "\n", "@", "€", "^", "{", "\\", "~", "Ç", "é", "ñ"}
	mixed := append([]string{"ç", "ã", "õ", "😀", "中", "\xff", "\u00a0", "👍🏽"}, gsmOnly...)
	for i := range 3000 {
		pool := gsmOnly
		if i%2 == 1 {
			pool = mixed
		}
		var b strings.Builder
		for range r.IntN(500) {
			b.WriteString(pool[r.IntN(len(pool))])
		}
		check(b.String())
	}
}

// TestSegmentsJSMatches runs static/js/segments.js under Node (skipped without it) on the
// same bodies, so the composer's counter and the server agree.
func TestSegmentsJSMatches(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "static", "js", "segments.js"))
	if err != nil {
		t.Fatal(err)
	}
	bodies := []string{}
	for _, c := range segmentCases {
		bodies = append(bodies, c.body)
	}
	r := rand.New(rand.NewPCG(3, 4))
	pool := []string{"a", " ", "\n", "€", "^", "~", "Ç", "é", "ç", "ã", "😀", "中", "👍🏽", "\f"}
	for range 500 {
		var b strings.Builder
		for range r.IntN(400) {
			b.WriteString(pool[r.IntN(len(pool))])
		}
		bodies = append(bodies, b.String())
	}
	in, _ := json.Marshal(bodies)
	script := `var window = {}, document = {readyState: "complete", addEventListener() {}, querySelectorAll() { return []; }};
` + string(src) + `
let input = ""; process.stdin.on("data", d => input += d).on("end", () => {
  console.log(JSON.stringify(JSON.parse(input).map(b => { const s = window.MasterIASegments(b); return [s.count, s.gsm ? "GSM-7" : "UCS-2"]; })));
});`
	cmd := exec.Command(node, "-e", script)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var got [][2]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for i, b := range bodies {
		n, enc := Segments(b)
		if int(got[i][0].(float64)) != n || got[i][1] != enc {
			t.Fatalf("%q: js %v, go %d %s", b, got[i], n, enc)
		}
	}
}
