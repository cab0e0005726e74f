package inbox

import "masteria/app/model"

// notePart is a piece of a note's text: plain, or a mention of UserID.
type notePart struct {
	Text   string
	UserID int64
}

// noteParts cuts a note's text around the members it mentions (model.Mentions).
func noteParts(body string, members map[int64]string) []notePart {
	ms := model.Mentions(body, members, 0)
	if len(ms) == 0 {
		return []notePart{{Text: body}}
	}
	var out []notePart
	at := 0
	for _, m := range ms {
		if m.Start > at {
			out = append(out, notePart{Text: body[at:m.Start]})
		}
		out = append(out, notePart{Text: body[m.Start:m.End], UserID: m.UserID})
		at = m.End
	}
	if at < len(body) {
		out = append(out, notePart{Text: body[at:]})
	}
	return out
}
