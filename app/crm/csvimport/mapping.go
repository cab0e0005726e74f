package csvimport

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Target is the contact field a column goes to.
type Target string

// Targets a column can map to; "" ignores the column. Custom fields are "custom:<key>".
const (
	TargetNone      Target = ""
	TargetName      Target = "name"
	TargetFirstName Target = "first_name"
	TargetLastName  Target = "last_name"
	TargetPhone     Target = "phone"
	TargetEmail     Target = "email"
	TargetTags      Target = "tags"
	TargetOwner     Target = "owner"   // the owner's email
	TargetOptOut    Target = "opt_out" // yes/no: opted out of every channel
)

const customPrefix = "custom:"

// CustomTarget is the target of the org's custom field with this key.
func CustomTarget(key string) Target { return Target(customPrefix + key) }

// CustomKey returns the custom field key of a "custom:<key>" target.
func (t Target) CustomKey() (string, bool) {
	key, ok := strings.CutPrefix(string(t), customPrefix)
	return key, ok
}

// valid tells whether t is a target Apply knows; custom keys follow contact_fields.key.
func (t Target) valid() bool {
	switch t {
	case TargetNone, TargetName, TargetFirstName, TargetLastName, TargetPhone, TargetEmail, TargetTags, TargetOwner, TargetOptOut:
		return true
	}
	key, ok := t.CustomKey()
	if !ok || len(key) == 0 || len(key) > 40 || key[0] < 'a' || key[0] > 'z' {
		return false
	}
	for _, c := range []byte(key) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// CustomField is one of the org's custom contact fields, as GuessMapping needs it.
type CustomField struct {
	Key   string
	Label string
}

// Mapping gives the target of each column, in the header's order.
type Mapping []Target

// Reasons a mapping is refused.
const (
	ReasonNoPhoneOrName   = "no_phone_or_name" // nothing to identify a contact by
	ReasonDuplicateTarget = "duplicate_target" // two columns for a field that takes one
	ReasonUnknownTarget   = "unknown_target"   // not a field Apply knows
)

// MappingError says why a mapping cannot be used. Reason is one of the Reason constants.
type MappingError struct {
	Reason string
	Target Target // the target in question, when there is one
}

func (e *MappingError) Error() string {
	switch e.Reason {
	case ReasonNoPhoneOrName:
		return "csvimport: map a column to the phone or to the name"
	case ReasonDuplicateTarget:
		return "csvimport: two columns are mapped to " + string(e.Target)
	case ReasonUnknownTarget:
		return "csvimport: unknown field " + string(e.Target)
	}
	return "csvimport: invalid mapping (" + e.Reason + ")"
}

// Validate checks that the mapping can make contacts: every target is known, only tags
// take several columns, and there is a phone or a name column.
func (m Mapping) Validate() error {
	seen := map[Target]bool{}
	identified := false
	for _, t := range m {
		if t == TargetNone {
			continue
		}
		if !t.valid() {
			return &MappingError{Reason: ReasonUnknownTarget, Target: t}
		}
		if seen[t] && t != TargetTags {
			return &MappingError{Reason: ReasonDuplicateTarget, Target: t}
		}
		seen[t] = true
		switch t {
		case TargetPhone, TargetName, TargetFirstName, TargetLastName:
			identified = true
		}
	}
	if !identified {
		return &MappingError{Reason: ReasonNoPhoneOrName}
	}
	return nil
}

// Row is what one record says about a contact, trimmed. Phone is as written: the caller
// normalizes it with app/phone. Blank values are left out (empty strings, no tags, no
// custom key, OptOut nil), so an import does not erase what a contact already has.
type Row struct {
	Name       string
	Phone      string
	Email      string
	Tags       []string
	OwnerEmail string
	OptOut     *bool
	Custom     map[string]string
}

// Apply reads a record's fields through the mapping. first_name and last_name are joined
// into Name when no name column has a value; tags are split on , ; and |, trimmed, and
// deduplicated ignoring case. A value Apply cannot read is a *RowError (bad_opt_out)
// without Line and Raw, which the caller, holding the Record, fills in.
func (m Mapping) Apply(fields []string) (Row, error) {
	var row Row
	var first, last string
	seenTags := map[string]bool{}
	for i, t := range m {
		if i >= len(fields) {
			break
		}
		v := strings.TrimSpace(fields[i])
		if v == "" {
			continue
		}
		switch t {
		case TargetName:
			row.Name = v
		case TargetFirstName:
			first = v
		case TargetLastName:
			last = v
		case TargetPhone:
			row.Phone = v
		case TargetEmail:
			row.Email = v
		case TargetOwner:
			row.OwnerEmail = v
		case TargetTags:
			for _, tag := range strings.FieldsFunc(v, isTagSeparator) {
				tag = strings.TrimSpace(tag)
				if k := strings.ToLower(tag); tag != "" && !seenTags[k] {
					seenTags[k] = true
					row.Tags = append(row.Tags, tag)
				}
			}
		case TargetOptOut:
			out, ok := parseYesNo(v)
			if !ok {
				return Row{}, &RowError{Reason: ReasonBadOptOut}
			}
			row.OptOut = &out
		default:
			if key, ok := t.CustomKey(); ok && t.valid() {
				if row.Custom == nil {
					row.Custom = map[string]string{}
				}
				row.Custom[key] = v
			}
		}
	}
	if row.Name == "" {
		row.Name = strings.TrimSpace(first + " " + last)
	}
	return row, nil
}

func isTagSeparator(r rune) bool { return r == ',' || r == ';' || r == '|' }

// parseYesNo reads an opt-out cell; "x" is a ticked box.
func parseYesNo(v string) (value, ok bool) {
	switch fold(v) {
	case "sim", "s", "yes", "y", "true", "verdadeiro", "1", "x":
		return true, true
	case "nao", "n", "no", "false", "falso", "0":
		return false, true
	}
	return false, false
}

// Header names each target is guessed from, folded (see fold) and without spaces.
var aliases = map[string]Target{}

func init() {
	for t, names := range map[Target][]string{
		TargetName: {"nome", "nome completo", "nome do contato", "nome do cliente", "cliente",
			"name", "full name", "contact name", "display name"},
		TargetFirstName: {"primeiro nome", "prenome", "first name", "given name"},
		TargetLastName:  {"sobrenome", "ultimo nome", "last name", "surname", "family name"},
		TargetPhone: {"telefone", "celular", "whatsapp", "fone", "tel", "cel", "numero",
			"telefone celular", "numero de telefone", "numero do celular", "numero do whatsapp",
			"phone", "mobile", "phone number", "mobile phone", "mobile number", "cell phone",
			"cellphone", "telephone", "whatsapp number"},
		TargetEmail: {"email", "e mail", "correio eletronico", "endereco de email", "email address", "mail"},
		TargetTags:  {"etiquetas", "etiqueta", "tags", "tag", "marcadores", "marcador", "labels", "label"},
		TargetOwner: {"responsavel", "dono", "proprietario", "email do responsavel", "owner",
			"contact owner", "owner email"},
		TargetOptOut: {"descadastrado", "descadastrada", "opt out", "opted out", "unsubscribed",
			"nao perturbe", "do not contact"},
	} {
		for _, n := range names {
			aliases[compact(fold(n))] = t
		}
	}
}

// vague names lose to any other column that matches the same target.
var vague = map[string]bool{"numero": true, "mail": true, "cliente": true}

// GuessMapping guesses the target of each column from its header, in Portuguese or
// English, ignoring case, accents and punctuation. A header matches, from the strongest
// to the weakest: a built-in name ("Telefone", "E-mail"), a custom field's key or label,
// the same after dropping numbering and filler words ("Phone 1 - Value", "Telefone 2"),
// then a vague name ("Número", which may be a house number). Each target goes to the
// column with the strongest match, the first one among equals; tags take every tags
// column and are merged. When there is a last name column, a plain name column is taken
// for the first name ("Nome", "Sobrenome"). Columns it cannot place map to "" and are
// ignored.
func GuessMapping(header []string, custom []CustomField) Mapping {
	customs := map[string]Target{}
	for _, cf := range custom {
		for _, n := range []string{cf.Key, cf.Label} {
			if k := compact(fold(n)); k != "" {
				if _, dup := customs[k]; !dup {
					customs[k] = CustomTarget(cf.Key)
				}
			}
		}
	}

	// Each column's best guess and how strong it is (lower is stronger).
	type guess struct {
		target Target
		rank   int
	}
	guesses := make([]guess, len(header))
	for i, h := range header {
		exact, loose := compact(fold(h)), compact(loosen(fold(h)))
		switch {
		case aliases[exact] != TargetNone && !vague[exact]:
			guesses[i] = guess{aliases[exact], 0}
		case customs[exact] != TargetNone:
			guesses[i] = guess{customs[exact], 1}
		case aliases[loose] != TargetNone && !vague[loose]:
			guesses[i] = guess{aliases[loose], 2}
		case customs[loose] != TargetNone:
			guesses[i] = guess{customs[loose], 3}
		case aliases[exact] != TargetNone:
			guesses[i] = guess{aliases[exact], 4}
		case aliases[loose] != TargetNone:
			guesses[i] = guess{aliases[loose], 5}
		}
	}

	m := make(Mapping, len(header))
	winner := map[Target]int{} // target → column
	for i, g := range guesses {
		if g.target == TargetNone {
			continue
		}
		if g.target == TargetTags {
			m[i] = TargetTags
			continue
		}
		if j, ok := winner[g.target]; !ok || g.rank < guesses[j].rank {
			winner[g.target] = i
		}
	}
	for t, i := range winner {
		m[i] = t
	}
	if _, ok := winner[TargetLastName]; ok {
		if _, ok := winner[TargetFirstName]; !ok {
			if i, ok := winner[TargetName]; ok {
				m[i] = TargetFirstName
			}
		}
	}
	return m
}

// guessBuiltin returns the built-in target of one header name, or "".
func guessBuiltin(h string) Target {
	key := fold(h)
	if t := aliases[compact(key)]; t != TargetNone {
		return t
	}
	return aliases[compact(loosen(key))]
}

// fold lowers s, drops accents, and turns punctuation into single spaces:
// "Correio Eletrônico" → "correio eletronico", "E-mail" → "e mail".
func fold(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		default:
			space = true
		}
	}
	return b.String()
}

func compact(s string) string { return strings.ReplaceAll(s, " ", "") }

// loosen drops what numbers or qualifies a header without changing its field:
// "phone 1 value" → "phone", "telefone2" → "telefone", "email principal" → "email".
func loosen(key string) string {
	var kept []string
	for _, w := range strings.Fields(key) {
		w = strings.TrimRightFunc(w, unicode.IsDigit)
		switch w {
		case "", "value", "valor", "principal", "primary", "main":
			continue
		}
		kept = append(kept, w)
	}
	return strings.Join(kept, " ")
}
