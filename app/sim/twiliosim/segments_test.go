package twiliosim_test

import (
	"strings"
	"testing"

	"masteria/app/sim/twiliosim"
)

func TestSegments(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	const emoji = "😀" // outside the BMP: two UTF-16 units
	cases := []struct {
		name     string
		body     string
		count    int
		encoding string
	}{
		{"empty", "", 0, twiliosim.EncodingGSM7},
		{"á is not GSM-7", "Olá", 1, twiliosim.EncodingUCS2},
		{"plain", "Hello, world", 1, twiliosim.EncodingGSM7},
		{"exactly 160", a(160), 1, twiliosim.EncodingGSM7},
		{"161", a(161), 2, twiliosim.EncodingGSM7},
		{"exactly 2x153", a(306), 2, twiliosim.EncodingGSM7},
		{"307", a(307), 3, twiliosim.EncodingGSM7},
		{"GSM-7 accents", "àèéìòù ÄÖÑÜ äöñü Ç ¿¡ £¥§ ΔΦΓΛΩΠΨΣΘΞ", 1, twiliosim.EncodingGSM7},
		{"158 + € fits", a(158) + "€", 1, twiliosim.EncodingGSM7},
		{"159 + € is 161", a(159) + "€", 2, twiliosim.EncodingGSM7},
		{"159 + ^ is 161", a(159) + "^", 2, twiliosim.EncodingGSM7},
		{"80 extension chars", strings.Repeat("{}", 40), 1, twiliosim.EncodingGSM7},
		{"81 extension chars", strings.Repeat("[", 81), 2, twiliosim.EncodingGSM7},
		// 152 septets leave one free: the escape pair moves whole to the next segment.
		{"escape not split", a(152) + "|" + a(152), 3, twiliosim.EncodingGSM7},
		{"escape fits", a(151) + "|" + a(153), 2, twiliosim.EncodingGSM7},
		{"lower-case ç is UCS-2", "ç", 1, twiliosim.EncodingUCS2},
		{"ã forces UCS-2", a(100) + "ã", 2, twiliosim.EncodingUCS2},
		{"exactly 70 UCS-2", "ç" + a(69), 1, twiliosim.EncodingUCS2},
		{"71 UCS-2", "ç" + a(70), 2, twiliosim.EncodingUCS2},
		{"2x67 UCS-2", "ç" + a(133), 2, twiliosim.EncodingUCS2},
		{"135 UCS-2", "ç" + a(134), 3, twiliosim.EncodingUCS2},
		{"emoji", emoji, 1, twiliosim.EncodingUCS2},
		{"68 + emoji is 70", a(68) + emoji, 1, twiliosim.EncodingUCS2},
		{"69 + emoji is 71", a(69) + emoji, 2, twiliosim.EncodingUCS2},
		// 66 units leave one free: the surrogate pair moves whole to the next segment.
		{"pair not split", a(66) + emoji + a(66), 3, twiliosim.EncodingUCS2},
		{"pair fits", a(65) + emoji + a(67), 2, twiliosim.EncodingUCS2},
		{"35 emoji", strings.Repeat(emoji, 35), 1, twiliosim.EncodingUCS2},
		{"36 emoji", strings.Repeat(emoji, 36), 2, twiliosim.EncodingUCS2},
	}
	for _, c := range cases {
		count, enc := twiliosim.Segments(c.body)
		if count != c.count || enc != c.encoding {
			t.Errorf("%s: Segments = %d %s, want %d %s", c.name, count, enc, c.count, c.encoding)
		}
	}
}
