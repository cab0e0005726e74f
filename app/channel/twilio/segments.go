package twilio

import "unicode/utf16"

// Encodings Segments reports.
const (
	EncodingGSM7 = "GSM-7"
	EncodingUCS2 = "UCS-2"
)

// gsmBasic is the GSM 03.38 default alphabet (one septet each); lower-case ç, ã, õ are not in
// it, so most Portuguese accents force UCS-2.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension characters cost two septets (ESC + code).
const gsmExtension = "\f^{}\\[~]|€"

var gsmSeptets = func() map[rune]int {
	m := map[rune]int{}
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}()

// Segments counts the SMS parts body is billed as: GSM-7 when every character is in the
// GSM 03.38 alphabet (extension characters € ^ { } [ ] ~ | \ count two), 160 in one part
// or 153 per part of a longer message; UCS-2 otherwise, counted in UTF-16 units (emoji
// count two), 70 in one part or 67 per part. A two-unit character is never split across
// parts. An empty body is 0 parts of GSM-7. static/js/segments.js applies the same rules.
func Segments(body string) (count int, encoding string) {
	if body == "" {
		return 0, EncodingGSM7
	}
	units := make([]int, 0, len(body))
	for _, r := range body {
		n, ok := gsmSeptets[r]
		if !ok {
			units = units[:0]
			for _, r := range body {
				units = append(units, utf16.RuneLen(r))
			}
			return parts(units, 70, 67), EncodingUCS2
		}
		units = append(units, n)
	}
	return parts(units, 160, 153), EncodingGSM7
}

func parts(units []int, single, multi int) int {
	total := 0
	for _, u := range units {
		total += u
	}
	if total <= single {
		return 1
	}
	n, used := 1, 0
	for _, u := range units {
		if used+u > multi {
			n, used = n+1, 0
		}
		used += u
	}
	return n
}
