package knowledge

import (
	_ "embed"
	"encoding/json"
	"strings"
)

// The retrieval tests' labelled set doubles as the demo knowledge base `masteria dev`
// gives the demo org: one bakery's questions and answers.
//
//go:embed testdata/bakery_passages.json
var bakeryPassages []byte

// DemoDocument is the demo knowledge base's one document: every passage of the bakery
// under its heading, as the chunker cuts them (one passage a chunk).
func DemoDocument() (title, text string) {
	var ps []struct{ Heading, Text string }
	_ = json.Unmarshal(bakeryPassages, &ps) // a file of this package, checked by its tests
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("# " + strings.ReplaceAll(p.Heading, " > ", " — ") + "\n\n" + p.Text + "\n\n")
	}
	return "Perguntas frequentes da Confeitaria Doce Lar", strings.TrimSpace(b.String())
}
