// Package compose turns a campaign's message into the text one contact receives, and checks
// it before launch. It knows no database: the campaign engine gives it a contact and a seed.
//
// A message text has two kinds of braces:
//
//   - {{nome}} is a placeholder, filled from the contact: nome/name, primeiro_nome/first_name,
//     telefone/phone, email, or a custom field by its key ({{cidade}}). Names are
//     case-insensitive and may have spaces inside the braces. {{nome|cliente}} writes
//     "cliente" when the contact has no name.
//   - {Oi|Olá|E aí} is spintax: each recipient gets one variation, chosen from a seed (the
//     recipient id) so a retry renders the same text. Groups nest: {Oi {amigo|amiga}|Olá}.
//
// A backslash writes a brace or bar literally: \{ \} \| \\.
package compose

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Reasons a text or a mapping is refused. They are stable: the UI translates them.
const (
	ReasonEmpty           = "empty"            // nothing to send
	ReasonTooLong         = "too_long"         // longer than MaxText bytes
	ReasonInvalidUTF8     = "invalid_utf8"     // bytes that are not UTF-8 text
	ReasonControlChar     = "control_char"     // NUL or another control character (tab and line breaks are fine)
	ReasonUnclosedGroup   = "unclosed_group"   // a { with no }
	ReasonUnexpectedClose = "unexpected_close" // a } with no {
	ReasonEmptyVariation  = "empty_variation"  // {a||b}, {|a}, {a|}
	ReasonSingleVariation = "single_variation" // {a}: a group needs a | (write \{ for a literal brace)
	ReasonTooDeep         = "too_deep"         // groups nested deeper than MaxDepth
	ReasonUnclosedField   = "unclosed_field"   // a {{ with no }}
	ReasonEmptyField      = "empty_field"      // {{}} or {{|x}}
	ReasonBadField        = "bad_field"        // a field name that is not a-z, 0-9, _ (or, in a mapping, an unknown field)
	ReasonBadFallback     = "bad_fallback"     // {{nome|}}, or a fallback with { } |
	ReasonBadSource       = "bad_source"       // a mapping source other than field, custom, text
	ReasonEmptyText       = "empty_text"       // a mapping's fixed text is blank
)

// Reasons lists every reason, for the translation catalogue's tests.
var Reasons = []string{
	ReasonEmpty, ReasonTooLong, ReasonInvalidUTF8, ReasonControlChar, ReasonUnclosedGroup,
	ReasonUnexpectedClose, ReasonEmptyVariation, ReasonSingleVariation, ReasonTooDeep,
	ReasonUnclosedField, ReasonEmptyField, ReasonBadField, ReasonBadFallback, ReasonBadSource,
	ReasonEmptyText,
}

// Limits that keep a hostile text from costing much.
const (
	MaxText       = 64 << 10  // bytes; WhatsApp takes 4096 characters, SMS 1600: the engine checks per channel
	MaxDepth      = 8         // nested groups
	MaxVariations = 1_000_000 // Variations stops counting here
)

// Error says why a text or a mapping was refused. Reason is one of the Reason constants.
// Pos is where: in a text, the 0-based character (code point) offset of the offending
// brace or byte; in a mapping, the 0-based index of the variable.
type Error struct {
	Reason string
	Pos    int
}

func (e *Error) Error() string {
	var what string
	switch e.Reason {
	case ReasonEmpty:
		return "compose: the message is empty"
	case ReasonTooLong:
		return "compose: the message is too long"
	case ReasonInvalidUTF8:
		what = "bytes that are not text"
	case ReasonControlChar:
		what = "an invisible control character"
	case ReasonUnclosedGroup:
		what = "a { that is never closed with }"
	case ReasonUnexpectedClose:
		what = "a } with no { before it"
	case ReasonEmptyVariation:
		what = "an empty variation between | bars"
	case ReasonSingleVariation:
		what = "a {…} group with one variation; separate variations with | or write \\{ for a brace"
	case ReasonTooDeep:
		what = "groups nested too deep"
	case ReasonUnclosedField:
		what = "a {{ that is never closed with }}"
	case ReasonEmptyField:
		what = "a {{}} with no field name"
	case ReasonBadField:
		what = "an unknown field name"
	case ReasonBadFallback:
		what = "an empty or invalid fallback after |"
	case ReasonBadSource:
		return fmt.Sprintf("compose: variable %d has an unknown source", e.Pos+1)
	case ReasonEmptyText:
		return fmt.Sprintf("compose: variable %d has an empty text", e.Pos+1)
	default:
		what = "invalid syntax (" + e.Reason + ")"
	}
	return fmt.Sprintf("compose: %s at character %d", what, e.Pos+1)
}

// errAt builds an Error at byte offset i of s, reported as a character offset.
func errAt(reason, s string, i int) *Error {
	return &Error{Reason: reason, Pos: utf8.RuneCountInString(s[:i])}
}

// Validate checks a text for the composer: encoding, balanced braces, variations and field
// names. It does not know the org's custom fields; Template.Fields lists the names used.
// The error is always an *Error.
func Validate(text string) error {
	_, err := Parse(text)
	return err
}

// Template is a parsed text, ready to render for many recipients.
type Template struct {
	nodes  []node
	fields []Placeholder // distinct, in order of first appearance
}

// Placeholder is one {{…}} of a text.
type Placeholder struct {
	Name     string // lower case, as written: "nome", "first_name", "cidade"
	Fallback string // "" when there is none
}

type nodeKind uint8

const (
	nodeText nodeKind = iota
	nodeField
	nodeGroup
)

type node struct {
	kind  nodeKind
	text  string   // nodeText
	field int      // nodeField: index in Template.fields
	group uint64   // nodeGroup: ordinal in document order, mixed with the seed
	alts  [][]node // nodeGroup
}

// Parse checks a text and prepares it for Render. The error is always an *Error.
func Parse(text string) (*Template, error) {
	if strings.TrimSpace(text) == "" {
		return nil, &Error{Reason: ReasonEmpty}
	}
	if len(text) > MaxText {
		return nil, &Error{Reason: ReasonTooLong}
	}
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if r == utf8.RuneError && n == 1 {
			return nil, errAt(ReasonInvalidUTF8, text, i)
		}
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f {
			return nil, errAt(ReasonControlChar, text, i)
		}
		i += n
	}
	p := parser{s: text, t: &Template{}}
	nodes, _, err := p.seq(0, 0)
	if err != nil {
		return nil, err
	}
	p.t.nodes = nodes
	return p.t, nil
}

type parser struct {
	s      string
	t      *Template
	groups uint64
}

// seq reads text, placeholders and groups from i until the end, or, inside a group
// (depth > 0), until a | or } it leaves for the caller.
func (p *parser) seq(i, depth int) ([]node, int, error) {
	var nodes []node
	s := p.s
	lit := i // the literal text being read is s[lit:i]
	flush := func() {
		if lit < i {
			nodes = append(nodes, node{kind: nodeText, text: s[lit:i]})
		}
	}
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && strings.IndexByte(`{}|\`, s[i+1]) >= 0:
			flush() // drop the backslash: the escaped byte starts the next run
			lit = i + 1
			i += 2
		case c == '{' && i+1 < len(s) && s[i+1] == '{' && (i+2 >= len(s) || s[i+2] != '{'):
			// {{ opens a placeholder; in {{{ the first brace opens a group.
			end := strings.Index(s[i+2:], "}}")
			if end < 0 {
				return nil, i, errAt(ReasonUnclosedField, s, i)
			}
			ph, err := placeholder(s[i+2 : i+2+end])
			if err != "" {
				return nil, i, errAt(err, s, i)
			}
			flush()
			nodes = append(nodes, node{kind: nodeField, field: p.t.addField(ph)})
			i += 2 + end + 2
			lit = i
		case c == '{':
			if depth >= MaxDepth {
				return nil, i, errAt(ReasonTooDeep, s, i)
			}
			flush()
			g := node{kind: nodeGroup, group: p.groups}
			p.groups++
			open, j := i, i+1
			for {
				alt, k, err := p.seq(j, depth+1)
				if err != nil {
					return nil, k, err
				}
				if k >= len(s) {
					return nil, open, errAt(ReasonUnclosedGroup, s, open)
				}
				if len(alt) == 0 {
					return nil, k, errAt(ReasonEmptyVariation, s, k)
				}
				g.alts = append(g.alts, alt)
				j = k + 1
				if s[k] == '}' {
					break
				}
			}
			if len(g.alts) < 2 {
				return nil, open, errAt(ReasonSingleVariation, s, open)
			}
			nodes = append(nodes, g)
			i, lit = j, j
		case (c == '|' || c == '}') && depth > 0:
			flush()
			return nodes, i, nil
		case c == '}':
			return nil, i, errAt(ReasonUnexpectedClose, s, i)
		default:
			i++
		}
	}
	flush()
	return nodes, i, nil
}

// placeholder reads the inside of {{…}}; the string is a reason when it is refused.
func placeholder(in string) (Placeholder, string) {
	name, fallback, hasFallback := strings.Cut(in, "|")
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return Placeholder{}, ReasonEmptyField
	}
	if !validKey(name) {
		return Placeholder{}, ReasonBadField
	}
	if hasFallback {
		fallback = strings.TrimSpace(fallback)
		if fallback == "" || strings.ContainsAny(fallback, "{}|") {
			return Placeholder{}, ReasonBadFallback
		}
	}
	return Placeholder{Name: name, Fallback: fallback}, ""
}

// validKey matches ^[a-z][a-z0-9_]{0,39}$, the CHECK on contact_fields.key.
func validKey(k string) bool {
	if len(k) == 0 || len(k) > 40 || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for i := 1; i < len(k); i++ {
		c := k[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

func (t *Template) addField(ph Placeholder) int {
	for i, f := range t.fields {
		if f == ph {
			return i
		}
	}
	t.fields = append(t.fields, ph)
	return len(t.fields) - 1
}

// Fields lists the text's placeholders, each distinct name and fallback once, in order of
// first appearance; the composer warns about names that are neither built in nor a custom
// field of the org.
func (t *Template) Fields() []Placeholder {
	return append([]Placeholder(nil), t.fields...)
}

// Variations counts the different texts spintax can make of text, up to MaxVariations;
// 1 for a text without groups, 0 for an invalid text.
func Variations(text string) int {
	t, err := Parse(text)
	if err != nil {
		return 0
	}
	return t.Variations()
}

// Variations counts the texts the template's spintax can make, up to MaxVariations.
func (t *Template) Variations() int {
	return countSeq(t.nodes)
}

func countSeq(nodes []node) int {
	n := 1
	for _, nd := range nodes {
		if nd.kind != nodeGroup {
			continue
		}
		sum := 0
		for _, alt := range nd.alts {
			sum = min(sum+countSeq(alt), MaxVariations)
		}
		if sum > MaxVariations/n {
			return MaxVariations
		}
		n = min(n*sum, MaxVariations)
	}
	return n
}
