package knowledge

import (
	"strings"
	"testing"
	"unicode/utf8"

	"masteria/app/model"
)

func TestSplitHeadingsAndParagraphs(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []model.ChunkText
	}{
		{"empty", "  \n\n ", nil},
		{"plain", "Abrimos às 8h.\n\nFechamos às 19h.", []model.ChunkText{{Text: "Abrimos às 8h.\n\nFechamos às 19h."}}},
		{"markdown path", "# Confeitaria\nIntro.\n## Entregas\nNo centro.\n### Taxas\nR$ 8.\n## Bolos\nDe festa.",
			[]model.ChunkText{
				{Heading: "Confeitaria", Text: "Intro."},
				{Heading: "Confeitaria > Entregas", Text: "No centro."},
				{Heading: "Confeitaria > Entregas > Taxas", Text: "R$ 8."},
				{Heading: "Confeitaria > Bolos", Text: "De festa."},
			}},
		{"html", "<html><head><title>x</title></head><body><h1>Horário</h1><p>Das 8h&nbsp;às 19h.</p><h2>Domingo</h2><p>Fechado</p><script>alert(1)</script></body></html>",
			[]model.ChunkText{{Heading: "Horário", Text: "Das 8h às 19h."}, {Heading: "Horário > Domingo", Text: "Fechado"}}},
		{"skipped level", "### Deep\ntext", []model.ChunkText{{Heading: "Deep", Text: "text"}}},
		{"nul and invalid utf-8", "Bo\x00lo \xff\xfede fubá\r\nquente", []model.ChunkText{{Text: "Bolo de fubá\nquente"}}},
		{"hash not a heading", "#hashtag no espaço", []model.ChunkText{{Text: "#hashtag no espaço"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Split(c.in)
			if len(got) != len(c.want) {
				t.Fatalf("got %d chunks %q, want %q", len(got), got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("chunk %d: got %q, want %q", i, got[i], c.want[i])
				}
			}
		})
	}
}

func TestSplitSizesOverlapAndWords(t *testing.T) {
	words := strings.Fields("o bolo de cenoura com cobertura de chocolate é feito todos os dias pela manhã " +
		"e sai do forno às nove horas quem chega cedo leva ainda quentinho")
	var b strings.Builder
	for i := 0; b.Len() < 5000; i++ {
		b.WriteString(words[i%len(words)])
		if i%17 == 16 {
			b.WriteString(". ")
		} else {
			b.WriteString(" ")
		}
		if i%90 == 89 {
			b.WriteString("\n\n")
		}
	}
	text := b.String()
	chunks := SplitSize(text, 300, 60)
	if len(chunks) < 10 {
		t.Fatalf("only %d chunks", len(chunks))
	}
	known := map[string]bool{}
	for _, w := range words {
		known[w] = true
	}
	for i, c := range chunks {
		if n := utf8.RuneCountInString(c.Text); n > 300 {
			t.Errorf("chunk %d has %d characters", i, n)
		}
		for _, w := range strings.Fields(c.Text) {
			if !known[strings.TrimSuffix(w, ".")] {
				t.Errorf("chunk %d has a cut word %q", i, w)
			}
		}
		if i > 0 { // starts with the end of the one before
			prev := chunks[i-1].Text
			head := strings.Join(strings.Fields(c.Text)[:3], " ")
			at := strings.LastIndex(prev, head)
			if at < 0 || len(prev)-at > 2*60 {
				t.Errorf("chunk %d does not start with the end of the previous one: %q… after …%q", i, head, prev[len(prev)-80:])
			}
		}
	}
	// Nothing is lost: every sentence of the text is in some chunk.
	all := ""
	for _, c := range chunks {
		all += c.Text + "\n"
	}
	flat := strings.Join(strings.Fields(all), " ")
	for _, s := range strings.Split(text, ". ") {
		s = strings.Join(strings.Fields(s), " ")
		if s != "" && !strings.Contains(flat, s) {
			t.Errorf("lost %q", s)
		}
	}
}

func TestSplitLongWordAndMultibyte(t *testing.T) {
	blob := strings.Repeat("ç", 1000)
	chunks := SplitSize("início "+blob+" fim", 300, 60)
	for i, c := range chunks {
		if !utf8.ValidString(c.Text) {
			t.Errorf("chunk %d is not valid UTF-8", i)
		}
		if n := utf8.RuneCountInString(c.Text); n > 300 {
			t.Errorf("chunk %d has %d characters", i, n)
		}
	}
	if got := strings.Count(strings.Join(func() []string {
		var s []string
		for _, c := range chunks {
			s = append(s, c.Text)
		}
		return s
	}(), ""), "ç"); got < 1000 {
		t.Errorf("lost part of the long word: %d of 1000", got)
	}
}

// The demo document holds every passage of the labelled set, one chunk each.
func TestDemoDocument(t *testing.T) {
	title, text := DemoDocument()
	if title == "" || !strings.Contains(text, "# Horário de funcionamento — Fim de semana") {
		t.Fatalf("demo document %q:\n%.300s", title, text)
	}
	if n := len(Split(text)); n < 30 {
		t.Fatalf("%d chunks, want one a passage (30 or more)", n)
	}
}
