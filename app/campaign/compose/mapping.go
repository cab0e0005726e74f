package compose

import (
	"strings"

	"masteria/app/model"
)

// Sources of a mapping variable.
const (
	SourceField  = "field"  // a contact field: Field
	SourceCustom = "custom" // a custom field: Key
	SourceText   = "text"   // fixed text: Text
)

// Contact fields a variable can read.
const (
	FieldName      = "name"       // the full name
	FieldFirstName = "first_name" // the name up to its first blank (space, tab, line break)
	FieldPhone     = "phone"      // E.164
	FieldEmail     = "email"
)

// Var says where one WhatsApp template variable ({{1}}, {{2}}… or a named one) takes its
// value. Fallback is used when the value is blank; a variable whose value and fallback are
// both blank is missing (Cloud API refuses empty parameters).
type Var struct {
	Name     string `json:"name,omitempty"` // a named template parameter; empty for positional ones
	Source   string `json:"source"`
	Field    string `json:"field,omitempty"`
	Key      string `json:"key,omitempty"`
	Text     string `json:"text,omitempty"`
	Fallback string `json:"fallback,omitempty"`
}

// Mapping gives each template variable its source, in the template's order ({{1}} first).
// Stored as JSON (campaigns keep it in a jsonb column), it reads:
//
//	[{"source":"field","field":"first_name","fallback":"cliente"},
//	 {"source":"custom","key":"cidade"},
//	 {"source":"text","text":"10%"}]
//
// A value is the contact's value with blanks (space, tab, CR, LF) trimmed off both ends:
// name and email as stored, first_name the name's first word, phone in E.164, a custom
// field as PostgreSQL's `attributes->>key` gives it (strings unquoted, numbers as written,
// null and absent blank). When it is blank the trimmed fallback is used; when that is blank
// too the variable is missing. An unknown source or field reads blank. MissingSQL computes
// the missing variables with the same rule; testdata/resolve.json holds cases both follow.
type Mapping []Var

// Validate checks a mapping for the campaign form. Pos in the *Error is the variable's index.
func (m Mapping) Validate() error {
	for i, v := range m {
		switch v.Source {
		case SourceField:
			switch v.Field {
			case FieldName, FieldFirstName, FieldPhone, FieldEmail:
			default:
				return &Error{Reason: ReasonBadField, Pos: i}
			}
		case SourceCustom:
			if !validKey(v.Key) {
				return &Error{Reason: ReasonBadField, Pos: i}
			}
		case SourceText:
			if strings.Trim(v.Text, blank) == "" {
				return &Error{Reason: ReasonEmptyText, Pos: i}
			}
		default:
			return &Error{Reason: ReasonBadSource, Pos: i}
		}
	}
	return nil
}

// Resolve computes the template's parameters for contact c, in the mapping's order, and
// the 0-based indexes of the missing variables (nil when none). Runs of blanks inside a
// value become one space: Cloud API refuses parameters with line breaks, tabs or more
// than four spaces in a row (error 132018).
func Resolve(m Mapping, c model.Contact) (params []string, missing []int) {
	v := values{c: &c}
	params = make([]string, len(m))
	for i, x := range m {
		val, ok := v.resolve(x)
		if !ok {
			missing = append(missing, i)
		}
		params[i] = squeeze(val)
	}
	return params, missing
}

// squeeze turns each run of blanks into one space.
func squeeze(s string) string {
	if !strings.ContainsAny(s, "\t\n\r") && !strings.Contains(s, "  ") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(blank, r) }), " ")
}

// MissingSQL is the PostgreSQL expression of Resolve's missing indexes: an int[] of the
// 0-based indexes of the variables that are missing, in order ('{}' when none). It reads
// the mapping as jsonb from $1 and the contact from the row alias c (contacts: name, phone,
// email, attributes); rename both to fit the query. A recipient is skipped with reason
// missing_variable when cardinality(<MissingSQL>) > 0. A text's placeholders use it
// through Template.Mapping.
const MissingSQL = `ARRAY(
  SELECT (v.i - 1)::int
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS v(m, i)
  WHERE coalesce(btrim(CASE v.m->>'source'
          WHEN 'field' THEN CASE v.m->>'field'
            WHEN 'name' THEN c.name
            WHEN 'first_name' THEN substring(c.name FROM '^[ \t\n\r]*([^ \t\n\r]+)')
            WHEN 'phone' THEN c.phone
            WHEN 'email' THEN c.email
          END
          WHEN 'custom' THEN c.attributes->>(v.m->>'key')
          WHEN 'text' THEN v.m->>'text'
        END, E' \t\n\r'), '') = ''
    AND coalesce(btrim(v.m->>'fallback', E' \t\n\r'), '') = ''
  ORDER BY v.i
)`
