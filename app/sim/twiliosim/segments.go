package twiliosim

import "unicode/utf16"

// Encodings reported by Segments.
const (
	EncodingGSM7 = "GSM-7"
	EncodingUCS2 = "UCS-2"
)

// The GSM 03.38 default alphabet without ESC (0x1B), which only introduces the extension table.
// Only the capital Ç is in it: a Portuguese "ç", "ã" or "õ" forces UCS-2.
const gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// The extension table: each of these costs two septets (ESC + code).
const gsm7Extension = "\f^{}\\[~]|€"

var gsm7Cost = func() map[rune]int {
	m := make(map[rune]int, 140)
	for _, r := range gsm7Basic {
		m[r] = 1
	}
	for _, r := range gsm7Extension {
		m[r] = 2
	}
	return m
}()

// Segments counts the SMS segments of body the way Twilio bills them
// (https://www.twilio.com/docs/glossary/what-sms-character-limit and
// https://www.twilio.com/docs/glossary/what-is-ucs-2-character-encoding): GSM-7 when every
// character is in the GSM 03.38 alphabet, 160 septets in one segment or 153 per segment once
// concatenated, extension-table characters (€ ^ { } [ ] ~ | \ and form feed) counting two;
// UCS-2 otherwise, 70 UTF-16 units in one segment or 67 per segment, characters outside the
// BMP (most emoji) counting two. A two-unit character is never split across segments.
// An empty body has no segments.
func Segments(body string) (count int, encoding string) {
	if body == "" {
		return 0, EncodingGSM7
	}
	costs := make([]int, 0, len(body))
	gsm := true
	for _, r := range body {
		c, ok := gsm7Cost[r]
		if !ok {
			gsm = false
			break
		}
		costs = append(costs, c)
	}
	if gsm {
		return split(costs, 160, 153), EncodingGSM7
	}
	costs = costs[:0]
	for _, r := range body {
		costs = append(costs, utf16.RuneLen(r))
	}
	return split(costs, 70, 67), EncodingUCS2
}

// split fills segments greedily; a character that does not fit whole starts the next segment,
// as handsets cannot reassemble an escape sequence or surrogate pair cut in two.
func split(costs []int, single, multi int) int {
	total := 0
	for _, c := range costs {
		total += c
	}
	if total <= single {
		return 1
	}
	n, used := 1, 0
	for _, c := range costs {
		if used+c > multi {
			n++
			used = 0
		}
		used += c
	}
	return n
}

// utf16Len is the body length Twilio checks against its 1600 character limit: emoji and other
// characters outside the BMP count twice (https://www.twilio.com/docs/api/errors/21617).
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
