package events

//go:generate go run ../internal/readmegen ../../README.md

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
)

// The README's list of events lies between these markers; go generate rewrites it.
const (
	readmeStart = "<!-- events:start (written by go generate ./app/events) -->\n"
	readmeEnd   = "<!-- events:end -->\n"
)

// Markdown is the catalogue as a Markdown table: name, payload keys, description.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| event | payload | what |\n|---|---|---|\n")
	for _, d := range ordered {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", d.Name, payloadKeys(d.Payload), d.Description)
	}
	return b.String()
}

// payloadKeys lists the JSON keys of a payload struct, in field order.
func payloadKeys(t reflect.Type) string {
	var keys []string
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		keys = append(keys, "`"+name+"`")
	}
	return strings.Join(keys, ", ")
}

// Readme returns readme with its event list rewritten from the catalogue.
func Readme(readme []byte) ([]byte, error) {
	start := bytes.Index(readme, []byte(readmeStart))
	end := bytes.Index(readme, []byte(readmeEnd))
	if start < 0 || end < start {
		return nil, fmt.Errorf("events: README has no %q … %q markers", strings.TrimSpace(readmeStart), strings.TrimSpace(readmeEnd))
	}
	var out bytes.Buffer
	out.Write(readme[:start+len(readmeStart)])
	out.WriteString(Markdown())
	out.Write(readme[end:])
	return out.Bytes(), nil
}
