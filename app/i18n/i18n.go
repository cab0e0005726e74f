// Package i18n holds every user-facing string of the app, in English and
// Brazilian Portuguese.
//
// Catalogs are the embedded files en.json and pt-BR.json: flat objects of
// "area.thing": "text". Text may hold {name} placeholders, filled from
// name/value argument pairs:
//
//	i18n.T(loc, "members.invited", "email", "ana@loja.com.br")
//
// Counted text uses keys ending in .one and .other (and optionally .zero),
// chosen by N, which also fills {n}:
//
//	i18n.N(loc, "members.count", 3) // "3 members" / "3 membros"
//
// Templ components read the locale from the request context with Ctx.
package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// Locale is a supported language tag.
type Locale string

const (
	EN   Locale = "en"
	PTBR Locale = "pt-BR"
)

// Default is the locale used when nothing better is known.
const Default = EN

//go:embed en.json pt-BR.json
var files embed.FS

var catalogs = map[Locale]map[string]string{}

func init() {
	for _, l := range Supported() {
		c, err := loadCatalog(l)
		if err != nil {
			// The catalog test fails on this; at run time show keys rather than stop.
			slog.Error("i18n: catalog not loaded", "locale", string(l), "err", err)
			c = map[string]string{}
		}
		catalogs[l] = c
	}
}

func loadCatalog(l Locale) (map[string]string, error) {
	data, err := files.ReadFile(string(l) + ".json")
	if err != nil {
		return nil, fmt.Errorf("i18n: read %s catalog: %w", l, err)
	}
	var c map[string]string
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("i18n: parse %s catalog: %w", l, err)
	}
	return c, nil
}

// Supported returns the locales the app speaks, default first.
func Supported() []Locale {
	return []Locale{EN, PTBR}
}

// Name returns the language's name in that language, for a language picker.
func (l Locale) Name() string {
	switch l {
	case PTBR:
		return "Português (Brasil)"
	default:
		return "English"
	}
}

// String returns the BCP 47 tag, fit for <html lang>.
func (l Locale) String() string { return string(l) }

// Parse maps a language tag to a supported locale: "pt", "pt-br", "pt_BR",
// "pt-PT" give PTBR; "en", "en-US", "EN_gb" give EN. Anything else gives
// (Default, false).
func Parse(s string) (Locale, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.ReplaceAll(s, "_", "-")
	base, _, _ := strings.Cut(s, "-")
	switch base {
	case "en":
		return EN, true
	case "pt":
		return PTBR, true
	}
	return Default, false
}

// Negotiate picks a locale from an Accept-Language header, honouring q-values
// (q=0 means "not this one"). Any Portuguese gives PTBR; no match gives EN.
func Negotiate(acceptLanguage string) Locale {
	best, bestQ := Default, -1.0
	// A browser sends a handful of tags; stop early on an abusive header.
	for i, part := range strings.SplitN(acceptLanguage, ",", 33) {
		if i == 32 {
			break
		}
		tag, params, _ := strings.Cut(part, ";")
		l, ok := Parse(tag)
		if !ok {
			continue
		}
		q, ok := qValue(params)
		if !ok || q <= 0 {
			continue
		}
		// Strictly greater keeps the header's order among equal q-values.
		if q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}

// qValue reads "q=0.8" from the parameters after a tag; no q means 1.
func qValue(params string) (float64, bool) {
	params = strings.TrimSpace(params)
	if params == "" {
		return 1, true
	}
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || strings.TrimSpace(k) != "q" {
			continue
		}
		return parseQ(strings.TrimSpace(v))
	}
	return 1, true
}

// parseQ parses the RFC 9110 qvalue grammar: "0", "1", "0.x" up to three decimals.
func parseQ(s string) (float64, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole != "0" && whole != "1" {
		return 0, false
	}
	if hasDot && frac == "" {
		return 0, false
	}
	q, scale := 0.0, 0.1
	for _, c := range frac {
		if c < '0' || c > '9' {
			return 0, false
		}
		q += float64(c-'0') * scale
		scale /= 10
	}
	if whole == "1" {
		if q != 0 {
			return 0, false
		}
		return 1, true
	}
	return q, true
}

// missing remembers which locale/key pairs were already logged as missing.
var missing sync.Map

// lookup finds key in l's catalog, falling back to English, and logs a miss once.
func lookup(l Locale, key string) (string, bool) {
	c, ok := catalogs[l]
	if !ok {
		l, c = Default, catalogs[Default]
	}
	if s, ok := c[key]; ok {
		return s, true
	}
	if _, seen := missing.LoadOrStore(string(l)+"\x00"+key, struct{}{}); !seen {
		slog.Warn("i18n: missing key", "locale", string(l), "key", key)
	}
	if l != Default {
		if s, ok := catalogs[Default][key]; ok {
			return s, true
		}
	}
	return "", false
}

// T returns the text for key in locale l with {name} placeholders filled from
// args, given as name, value pairs. A missing key returns the key itself.
func T(l Locale, key string, args ...string) string {
	s, ok := lookup(l, key)
	if !ok {
		return key
	}
	return fill(s, args)
}

// N returns the plural form of key for n: key.zero when n is 0 and the
// catalog has it, key.one when n is 1, key.other otherwise. {n} is set to n
// written the locale's way (1,234 or 1.234).
//
// Portuguese uses .one only for 1 too: CLDR counts 0 as singular in
// Portuguese, but "0 contatos" reads more naturally to Brazilian users than
// "0 contato".
func N(l Locale, key string, n int, args ...string) string {
	form := ".other"
	switch {
	case n == 0 && has(l, key+".zero"):
		form = ".zero"
	case n == 1:
		form = ".one"
	}
	all := make([]string, 0, len(args)+2)
	all = append(all, "n", FormatInt(l, int64(n)))
	all = append(all, args...)
	return T(l, key+form, all...)
}

// Has tells whether the catalog of l (or the default one) has key.
func Has(l Locale, key string) bool { return has(l, key) }

func has(l Locale, key string) bool {
	c, ok := catalogs[l]
	if !ok {
		c = catalogs[Default]
	}
	_, ok = c[key]
	return ok
}

// fill replaces each {name} in s by its value from args (name, value pairs)
// in one pass, so a value that itself contains braces is left as given.
// Unknown placeholders stay as they are.
func fill(s string, args []string) string {
	if len(args) < 2 || !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(s[open+1:], '}')
		if end < 0 {
			break
		}
		name := s[open+1 : open+1+end]
		if v, ok := arg(args, name); ok {
			b.WriteString(s[:open])
			b.WriteString(v)
			s = s[open+end+2:]
			continue
		}
		b.WriteString(s[:open+1])
		s = s[open+1:]
	}
	b.WriteString(s)
	return b.String()
}

func arg(args []string, name string) (string, bool) {
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] == name {
			return args[i+1], true
		}
	}
	return "", false
}

type ctxKey struct{}

// WithLocale returns a context carrying l, for handlers and templ components.
func WithLocale(ctx context.Context, l Locale) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// FromContext returns the context's locale, or Default.
func FromContext(ctx context.Context) Locale {
	if ctx == nil {
		return Default
	}
	if l, ok := ctx.Value(ctxKey{}).(Locale); ok && l != "" {
		return l
	}
	return Default
}

// Ctx is T with the locale taken from ctx, for templ components.
func Ctx(ctx context.Context, key string, args ...string) string {
	return T(FromContext(ctx), key, args...)
}

// CtxN is N with the locale taken from ctx.
func CtxN(ctx context.Context, key string, n int, args ...string) string {
	return N(FromContext(ctx), key, n, args...)
}
