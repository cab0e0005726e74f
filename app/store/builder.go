package store

import (
	"strconv"
	"strings"
)

// builder completes a fragment with conditions, keeping every value a bind parameter:
// callers write `?` and the builder numbers them after the fragment's own ($1 is the org).
type builder struct {
	sql  strings.Builder
	args []any
}

func newBuilder(fragment string, args ...any) *builder {
	b := &builder{args: args}
	b.sql.WriteString(fragment)
	return b
}

// where adds " AND cond" with its ? placeholders bound to args, in order.
func (b *builder) where(cond string, args ...any) { b.add(" AND ", cond, args...) }

// add appends text with its ? placeholders bound to args. A ? inside a '…' literal (a
// regular expression, say) is text, not a placeholder.
func (b *builder) add(prefix, text string, args ...any) {
	b.sql.WriteString(prefix)
	quoted := false
	for _, r := range text {
		switch {
		case r == '\'':
			quoted = !quoted
		case r == '?' && !quoted && len(args) > 0:
			b.args = append(b.args, args[0])
			args = args[1:]
			b.sql.WriteString("$" + strconv.Itoa(len(b.args)))
			continue
		}
		b.sql.WriteRune(r)
	}
}

func (b *builder) String() string { return b.sql.String() }
