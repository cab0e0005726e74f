package model

import (
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Mention is one "@Name" of a member in an internal note: who, and where in the note's
// text (byte offsets of the "@" and just past the name).
type Mention struct {
	UserID     int64
	Start, End int
}

// Mentions finds the members a note mentions. The rule:
//   - a mention is "@" followed by a member's full name or first name, compared without
//     case or accents ("@joao" is João Silva), and ending where a word ends ("@Anabela"
//     does not mention Ana);
//   - the "@" starts a word: after a letter, a digit or one of . _ - + it is part of an
//     email address or a handle ("ana@loja.com" mentions nobody);
//   - the longest name that matches wins ("@Ana Souza" is Ana Souza even beside an Ana
//     Lima); a name two members share (a first name, or a whole one) mentions nobody, so
//     the writer types the whole name;
//   - writer, when not 0, is never mentioned by their own note.
//
// members maps each member's user id to their name. Every occurrence is returned, in the
// order of the text; a member mentioned twice is there twice.
func Mentions(body string, members map[int64]string, writer int64) []Mention {
	if !strings.Contains(body, "@") || len(members) == 0 {
		return nil
	}
	// Every name a member may be called by, folded, with who it calls.
	byName := map[string][]int64{}
	add := func(name string, id int64) {
		for _, have := range byName[name] {
			if have == id {
				return
			}
		}
		byName[name] = append(byName[name], id)
	}
	for id, name := range members {
		words := strings.Fields(Fold(name))
		if len(words) == 0 {
			continue
		}
		add(strings.Join(words, " "), id)
		add(words[0], id)
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { // longest first, then by text for a stable order
		if li, lj := utf8.RuneCountInString(names[i]), utf8.RuneCountInString(names[j]); li != lj {
			return li > lj
		}
		return names[i] < names[j]
	})

	var out []Mention
	for i := 0; i < len(body); i++ {
		if body[i] != '@' {
			continue
		}
		if i > 0 {
			prev, _ := utf8.DecodeLastRuneInString(body[:i])
			if unicode.IsLetter(prev) || unicode.IsDigit(prev) || strings.ContainsRune("._-+@", prev) {
				continue
			}
		}
		for _, n := range names {
			end, ok := matchFolded(body, i+1, n)
			if !ok {
				continue
			}
			if ids := byName[n]; len(ids) == 1 && ids[0] != writer {
				out = append(out, Mention{UserID: ids[0], Start: i, End: end})
				i = end - 1
			}
			break // the longest match decides, even when it names nobody
		}
	}
	return out
}

// matchFolded tells whether body, from byte at, starts with the folded name and a word
// ends there; end is the byte just past it.
func matchFolded(body string, at int, name string) (end int, ok bool) {
	pos := at
	for _, want := range name {
		if pos >= len(body) {
			return 0, false
		}
		r, size := utf8.DecodeRuneInString(body[pos:])
		got := []rune(Fold(string(r)))
		if len(got) != 1 || got[0] != want {
			return 0, false
		}
		pos += size
	}
	if pos < len(body) {
		if r, _ := utf8.DecodeRuneInString(body[pos:]); unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
			return 0, false
		}
	}
	return pos, true
}

// MentionedUsers are the members a note mentions, each once, in the order first mentioned.
func MentionedUsers(ms []Mention) []int64 {
	var out []int64
	seen := map[int64]bool{}
	for _, m := range ms {
		if !seen[m.UserID] {
			seen[m.UserID] = true
			out = append(out, m.UserID)
		}
	}
	return out
}

// NoteMention is a note that mentions a member, as their "my day" lists it.
type NoteMention struct {
	MessageID      int64      `db:"message_id"`
	ConversationID int64      `db:"conversation_id"`
	Body           string     `db:"body"`
	CreatedAt      time.Time  `db:"created_at"`
	SeenAt         *time.Time `db:"seen_at"`
	SenderName     string     `db:"sender_name"`
	ContactName    string     `db:"contact_name"`
	ContactPhone   *string    `db:"contact_phone"`
}
