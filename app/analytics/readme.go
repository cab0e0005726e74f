package analytics

//go:generate go run ../internal/readmegen ../../README.md

import (
	"bytes"
	"fmt"
	"strings"

	"masteria/app/i18n"
)

// The README's list of metrics lies between these markers; go generate rewrites it from
// Definitions and the English names and definitions, so it never drifts from the app.
const (
	readmeStart = "<!-- metrics:start (written by go generate ./app/analytics) -->\n"
	readmeEnd   = "<!-- metrics:end -->\n"
)

// Families are the parts of the engine in the order the definitions page shows them.
var Families = []string{"messages", "conversations", "leads", "campaigns", "cadences", "calls"}

// Markdown is every metric as Markdown tables, one per family: key, name, unit, what a
// click on it opens, the filters that narrow it (NarrowedBy) and its written definition.
func Markdown() string {
	var b strings.Builder
	for _, fam := range Families {
		fmt.Fprintf(&b, "**%s**\n\n| metric | name | unit | click opens | narrowed by | definition |\n|---|---|---|---|---|---|\n", english("definitions.family."+fam))
		for _, d := range Definitions {
			if d.Family != fam {
				continue
			}
			opens := "—"
			if d.Drill != NoDrill {
				opens = english("definitions.drill." + string(d.Drill))
			}
			unit := english("definitions.unit." + string(d.Unit))
			if d.Now {
				unit += " (" + i18n.T(i18n.EN, "definitions.now") + ")"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", d.Key, cell(metricText(d.Key, "name")), unit, opens,
				narrowedText(d.Key), cell(metricText(d.Key, "about")))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// narrowedText is, in English, the filters that narrow key, or that none does.
func narrowedText(key string) string {
	by := NarrowedBy(key)
	if len(by) == 0 {
		return english("definitions.narrowed_by_none")
	}
	names := make([]string, len(by))
	for i, n := range by {
		names[i] = english("analytics.scope." + n)
	}
	return strings.Join(names, ", ")
}

// metricText is a metric's English name or definition; a mark until it is written.
func metricText(key, part string) string {
	k := "analytics.metric." + key + "." + part
	if !i18n.Has(i18n.EN, k) {
		return "*(not written yet)*"
	}
	return i18n.T(i18n.EN, k)
}

// english is the English text of a key the page builds (a family's, a unit's…).
func english(key string) string { return i18n.T(i18n.EN, key) }

// cell keeps a text inside one table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// Readme returns readme with its metric list rewritten from Definitions.
func Readme(readme []byte) ([]byte, error) {
	start := bytes.Index(readme, []byte(readmeStart))
	end := bytes.Index(readme, []byte(readmeEnd))
	if start < 0 || end < start {
		return nil, fmt.Errorf("analytics: README has no %q … %q markers", strings.TrimSpace(readmeStart), strings.TrimSpace(readmeEnd))
	}
	var out bytes.Buffer
	out.Write(readme[:start+len(readmeStart)])
	out.WriteString(Markdown())
	out.Write(readme[end:])
	return out.Bytes(), nil
}
