package compose

import (
	"encoding/json"
	"slices"
	"strings"

	"masteria/app/model"
)

// builtins maps the built-in placeholder names, Portuguese and English, to the contact
// field they read. Any other name is a custom field key; a custom field named like a
// built-in one is shadowed by it.
var builtins = map[string]string{
	"nome": FieldName, "name": FieldName,
	"primeiro_nome": FieldFirstName, "first_name": FieldFirstName,
	"telefone": FieldPhone, "phone": FieldPhone,
	"email": FieldEmail,
}

// Var is the mapping variable that reads the placeholder, so a text's placeholders and a
// WhatsApp template's variables follow one rule (and one SQL expression).
func (ph Placeholder) Var() Var {
	if f, ok := builtins[ph.Name]; ok {
		return Var{Name: ph.Name, Source: SourceField, Field: f, Fallback: ph.Fallback}
	}
	return Var{Name: ph.Name, Source: SourceCustom, Key: ph.Name, Fallback: ph.Fallback}
}

// Mapping is the text's placeholders as a mapping (one variable per Fields entry), for the
// launch query's missing-variable check (MissingSQL).
func (t *Template) Mapping() Mapping {
	m := make(Mapping, len(t.fields))
	for i, f := range t.fields {
		m[i] = f.Var()
	}
	return m
}

// Render parses text and renders it for contact c; see Template.Render. The error is the
// text's (an *Error); the recipient's own gaps are in missing.
func Render(text string, c model.Contact, seed int64) (out string, missing []string, err error) {
	t, err := Parse(text)
	if err != nil {
		return "", nil, err
	}
	out, missing = t.Render(c, seed)
	return out, missing, nil
}

// Render writes the text for contact c. seed (the recipient id) chooses each group's
// variation: the same seed gives the same text, and consecutive seeds spread evenly.
//
// missing names the placeholders (as written, lower case, each once) with no value and no
// fallback anywhere in the text, whichever variation was chosen, so it depends on the
// contact and the text only, as the launch query's check does; such a placeholder renders
// empty, and the engine skips the recipient with reason missing_variable.
func (t *Template) Render(c model.Contact, seed int64) (out string, missing []string) {
	v := values{c: &c}
	vals := make([]string, len(t.fields))
	for i, f := range t.fields {
		val, ok := v.resolve(f.Var())
		if !ok && !slices.Contains(missing, f.Name) {
			missing = append(missing, f.Name)
		}
		vals[i] = val
	}
	var b strings.Builder
	t.write(&b, t.nodes, vals, uint64(seed))
	return b.String(), missing
}

func (t *Template) write(b *strings.Builder, nodes []node, vals []string, seed uint64) {
	for i := range nodes {
		nd := &nodes[i]
		switch nd.kind {
		case nodeText:
			b.WriteString(nd.text)
		case nodeField:
			b.WriteString(vals[nd.field])
		case nodeGroup:
			t.write(b, nd.alts[pick(seed, nd.group, len(nd.alts))], vals, seed)
		}
	}
}

// pick chooses a group's variation from the seed and the group's ordinal with splitmix64,
// which is fixed here (not math/rand, whose sequence may change between Go releases) so a
// stored recipient always renders the same text.
func pick(seed, group uint64, n int) int {
	return int(mix(seed^mix(group+0x9e3779b97f4a7c15)) % uint64(n))
}

func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// blank is the whitespace trimmed from values, the same set MissingSQL gives btrim.
const blank = " \t\n\r"

// values reads a contact's fields, decoding its custom fields once and only when asked.
type values struct {
	c       *model.Contact
	attrs   map[string]json.RawMessage
	decoded bool
}

// resolve is the value of a variable: the contact's value trimmed, else the fallback
// trimmed; ok is false when both are blank.
func (v *values) resolve(x Var) (string, bool) {
	if val := strings.Trim(v.raw(x), blank); val != "" {
		return val, true
	}
	fb := strings.Trim(x.Fallback, blank)
	return fb, fb != ""
}

// raw is the variable's value before trimming; "" for an unknown source or field.
func (v *values) raw(x Var) string {
	switch x.Source {
	case SourceText:
		return x.Text
	case SourceField:
		switch x.Field {
		case FieldName:
			return v.c.Name
		case FieldFirstName:
			return firstName(v.c.Name)
		case FieldPhone:
			return deref(v.c.Phone)
		case FieldEmail:
			return deref(v.c.Email)
		}
	case SourceCustom:
		if !v.decoded {
			v.decoded = true
			_ = json.Unmarshal(v.c.Attributes, &v.attrs) // a broken value reads as no custom fields
		}
		return jsonText(v.attrs[x.Key])
	}
	return ""
}

// firstName is the name's first word, split at the blank characters only (as MissingSQL).
func firstName(name string) string {
	name = strings.TrimLeft(name, blank)
	if i := strings.IndexAny(name, blank); i >= 0 {
		return name[:i]
	}
	return name
}

// jsonText is a custom field's value as PostgreSQL's ->> gives it: a string unquoted, null
// (or absent) empty, a number or anything else as its JSON text.
func jsonText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	return string(raw)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
