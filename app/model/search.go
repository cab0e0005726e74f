package model

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// SearchMaxRunes is the longest search a box takes; the rest of a longer one is dropped.
const SearchMaxRunes = 100

// CleanSearch makes what someone typed (or pasted, or forged) in a search box safe to
// search with: invalid UTF-8 and control characters such as NUL go (PostgreSQL refuses
// them in text and would answer an error), spaces are trimmed and collapsed, and it is cut
// to SearchMaxRunes characters. It never fails: the worst input is an empty search.
func CleanSearch(s string) string {
	var b strings.Builder
	n, space := 0, false
	for _, r := range s {
		if n >= SearchMaxRunes {
			break
		}
		switch {
		case r == utf8.RuneError: // invalid UTF-8 decodes to this, and it is no one's search
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case unicode.IsControl(r) || r == '\uFEFF':
			continue
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// Fold is the Go side of the database's fold(): lower-case without accents, so "João"
// and "JOAO" compare equal. It serves lists filtered in memory (the template picker).
func Fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue // the accent a decomposed letter carries
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// FoldContains tells whether haystack contains needle, both folded.
func FoldContains(haystack, needle string) bool {
	return strings.Contains(Fold(haystack), Fold(needle))
}
