package inbox

import (
	"strings"

	"masteria/app/model"
)

// snippetPart is a run of a search snippet's text, matched by the search or not.
type snippetPart struct {
	Text string
	Mark bool
}

// snippetParts splits a conversation's search snippet at its match marks, so the view
// highlights the matched words and escapes all of it like any text.
func snippetParts(s string) []snippetPart {
	var out []snippetPart
	for s != "" {
		i := strings.IndexRune(s, model.SnippetMark)
		if i < 0 {
			out = append(out, snippetPart{Text: s})
			break
		}
		if i > 0 {
			out = append(out, snippetPart{Text: s[:i]})
		}
		s = s[i+len(string(model.SnippetMark)):]
		j := strings.IndexRune(s, model.SnippetEnd)
		if j < 0 {
			j = len(s)
		}
		if j > 0 {
			out = append(out, snippetPart{Text: s[:j], Mark: true})
		}
		if j < len(s) {
			j += len(string(model.SnippetEnd))
		}
		s = s[j:]
	}
	return out
}
