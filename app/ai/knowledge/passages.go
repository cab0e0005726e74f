package knowledge

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"masteria/app/model"
)

// Passages writes retrieved chunks as the numbered passages a model is asked to cite:
// "[1] title — heading", then the text, one after another. A model cites passage n as [n].
func Passages(hits []model.ChunkHit) string {
	var b strings.Builder
	for i, h := range hits {
		title := h.Title
		if h.Heading != "" && h.Heading != h.Title {
			title += " — " + h.Heading
		}
		fmt.Fprintf(&b, "[%d] %s\n%s\n\n", i+1, title, strings.TrimSpace(h.Text))
	}
	return b.String()
}

var citation = regexp.MustCompile(`[ \t]*\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]`)

// TakeCitations takes the passage numbers out of a model's reply ("… 8 reais [2]." becomes
// "… 8 reais."): the customer never sees them. It returns the clean text and the numbers
// cited, between 1 and n, in the order first cited.
func TakeCitations(text string, n int) (string, []int) {
	var cited []int
	clean := citation.ReplaceAllStringFunc(text, func(m string) string {
		inner := citation.FindStringSubmatch(m)[1]
		for _, f := range strings.Split(inner, ",") {
			k, err := strconv.Atoi(strings.TrimSpace(f))
			if err == nil && k >= 1 && k <= n && !slices.Contains(cited, k) {
				cited = append(cited, k)
			}
		}
		return ""
	})
	return strings.TrimSpace(clean), cited
}
