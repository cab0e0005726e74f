package phone

import (
	"errors"
	"regexp"
	"testing"
)

func TestNormalizeBrazil(t *testing.T) {
	cases := []struct {
		in, want string
	}{
		// Mobiles as people type them.
		{"(11) 98765-4321", "+5511987654321"},
		{"11 98765 4321", "+5511987654321"},
		{"11987654321", "+5511987654321"},
		{"11 9 8765-4321", "+5511987654321"},
		{"(11)98765-4321", "+5511987654321"},
		{"11.98765.4321", "+5511987654321"},
		{"  (21) 99876-5432  ", "+5521998765432"},
		{"'11987654321", "+5511987654321"}, // Excel's text marker
		{"１１９８７６５４３２１", "+5511987654321"},  // full-width digits
		// With the country code.
		{"+55 11 98765-4321", "+5511987654321"},
		{"+55 (11) 98765-4321", "+5511987654321"},
		{"+55 (11) 9 8765-4321", "+5511987654321"},
		{"+5511987654321", "+5511987654321"},
		{"5511987654321", "+5511987654321"},
		{"55 11 98765-4321", "+5511987654321"},
		{"55 (21) 98765-4321", "+5521987654321"},
		{"tel:+55-11-98765-4321", "+5511987654321"},
		// The long-distance prefix 0, with or without a carrier code.
		{"011 98765-4321", "+5511987654321"},
		{"(011) 98765-4321", "+5511987654321"},
		{"+55 (011) 98765-4321", "+5511987654321"},
		{"0 21 11 98765-4321", "+5511987654321"},
		{"021 21 98765-4321", "+5521987654321"},
		{"0xx11 98765-4321", "+5511987654321"},
		{"(0xx11) 98765-4321", "+5511987654321"},
		{"0 xx 21 11 98765-4321", "+5511987654321"},
		{"055 11 98765-4321", "+5511987654321"}, // 0 + carrier 55
		// International prefix: Brazil's needs a carrier code, plain 00 is read as "+".
		{"0021 1 415 555 2671", "+14155552671"},
		{"0055 11 98765-4321", "+5511987654321"},
		{"00 55 11 98765 4321", "+5511987654321"},
		// Landlines and special numbers.
		{"(11) 3456-7890", "+551134567890"},
		{"55 11 3456 7890", "+551134567890"},
		{"(47) 3322-1100", "+554733221100"},
		{"0800 123 4567", "+558001234567"},
		{"+55 0800 123 4567", "+558001234567"},
		{"4004-0001", "+5540040001"},
		// Extensions are dropped: E.164 has none.
		{"+55 11 98765-4321 ext 12", "+5511987654321"},
		{"11 98765-4321 x12", "+5511987654321"},
	}
	for _, c := range cases {
		got, err := Normalize(c.in, "BR")
		if err != nil || got != c.want {
			t.Errorf("Normalize(%q, BR) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestNormalizeForeign(t *testing.T) {
	cases := []struct {
		in, country, want string
	}{
		{"+1 (415) 555-2671", "BR", "+14155552671"},
		{"415 555 2671", "US", "+14155552671"},
		{"(415) 555-2671", "us", "+14155552671"}, // the country in lower case
		{"+44 20 7946 0958", "BR", "+442079460958"},
		{"020 7946 0958", "GB", "+442079460958"},
		{"+351 912 345 678", "BR", "+351912345678"},
		{"912 345 678", "PT", "+351912345678"},
		{"+54 9 11 2345-6789", "BR", "+5491123456789"},
		{"+49 30 123456", "BR", "+4930123456"},
		// Too long to be a Brazilian number: read as international without its "+".
		{"351912345678", "BR", "+351912345678"},
		{"447911123456", "BR", "+447911123456"},
		// And a Brazilian number typed with its country code in another country.
		{"5511987654321", "US", "+5511987654321"},
		// "00" as the international prefix.
		{"00 44 20 7946 0958", "BR", "+442079460958"},
		{"00351 912 345 678", "US", "+351912345678"},
		// A number with "+" needs no country.
		{"+5511987654321", "", "+5511987654321"},
		{"+5511987654321", "XX", "+5511987654321"},
	}
	for _, c := range cases {
		got, err := Normalize(c.in, c.country)
		if err != nil || got != c.want {
			t.Errorf("Normalize(%q, %q) = %q, %v; want %q", c.in, c.country, got, err, c.want)
		}
	}
}

func TestNormalizeInvalid(t *testing.T) {
	cases := []struct {
		in, country, reason string
	}{
		{"", "BR", ReasonEmpty},
		{"   ", "BR", ReasonEmpty},
		{"abc", "BR", ReasonNotANumber},
		{"-", "BR", ReasonNotANumber},
		{"João", "BR", ReasonNotANumber},
		{"n/a", "BR", ReasonNotANumber},
		{"11 98765-4321 (trabalho)", "BR", ReasonNotANumber},
		{"11 98765-4321 ramal 12", "BR", ReasonNotANumber},
		{"11 9876-ABCD", "BR", ReasonNotANumber},
		{"1,19877E+10", "BR", ReasonNotANumber}, // Excel's scientific notation lost the digits
		{`="11987654321"`, "BR", ReasonNotANumber},
		{"0", "BR", ReasonTooShort},
		{"+55", "BR", ReasonTooShort},
		{"+55 11", "BR", ReasonTooShort},
		{"123456", "BR", ReasonTooShort},
		{"190", "BR", ReasonTooShort},
		{"+55 11 98765-43210", "BR", ReasonTooLong},
		{"11 98765-4321 / 11 91234-5678", "BR", ReasonTooLong}, // two numbers in one cell
		{"11987654321.0", "BR", ReasonTooLong},                 // a spreadsheet float
		{"1234567890123456789012", "BR", ReasonTooLong},
		{string(make([]byte, 300)), "BR", ReasonTooLong},
		{"98765-4321", "BR", ReasonInvalidForCountry}, // no area code
		{"+55119876543", "BR", ReasonInvalidForCountry},
		{"000000000", "BR", ReasonInvalidForCountry},
		// A US number typed without "+1" in Brazil fits a Brazilian length: it is not guessed.
		{"14155552671", "BR", ReasonInvalidForCountry},
		{"+999 1234567", "BR", ReasonUnknownCountry},
		{"11 98765-4321", "", ReasonUnknownCountry},
		{"11 98765-4321", "XX", ReasonUnknownCountry},
	}
	for _, c := range cases {
		got, err := Normalize(c.in, c.country)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Normalize(%q, %q) = %q, %v; want an *Error %s", c.in, c.country, got, err, c.reason)
			continue
		}
		if pe.Reason != c.reason || got != "" {
			t.Errorf("Normalize(%q, %q) = %q, reason %s; want reason %s", c.in, c.country, got, pe.Reason, c.reason)
		}
		if pe.Error() == "" {
			t.Errorf("empty message for %s", pe.Reason)
		}
	}
}

// Before 2016 Brazilian mobiles had eight digits; "11 8765-4321" is such a number typed
// today. phonenumbers parses it (+551187654321) but does not call it valid, and it does not
// add the ninth digit: that would be a guess about which numbers were mobiles. Normalize
// does the same and refuses it, so the user fixes the number instead of us inventing one.
func TestNormalizeOldEightDigitMobile(t *testing.T) {
	for _, in := range []string{"11 8765-4321", "(11) 8765-4321", "+55 11 8765-4321", "5511 8765-4321", "(21) 9876-5432"} {
		got, err := Normalize(in, "BR")
		var pe *Error
		if !errors.As(err, &pe) || pe.Reason != ReasonInvalidForCountry {
			t.Errorf("Normalize(%q) = %q, %v; want reason %s", in, got, err, ReasonInvalidForCountry)
		}
	}
	// Old landlines kept their eight digits and stay valid.
	if got, err := Normalize("11 3456-7890", "BR"); err != nil || got != "+551134567890" {
		t.Errorf("landline: %q, %v", got, err)
	}
}

func TestFormat(t *testing.T) {
	cases := []struct {
		e164, country, want string
	}{
		{"+5511987654321", "BR", "(11) 98765-4321"},
		{"+5511987654321", "br", "(11) 98765-4321"},
		{"+551134567890", "BR", "(11) 3456-7890"},
		{"+558001234567", "BR", "0800 123 4567"},
		{"+5511987654321", "US", "+55 11 98765-4321"},
		{"+14155552671", "BR", "+1 415-555-2671"},
		{"+14155552671", "US", "(415) 555-2671"},
		{"+442079460958", "BR", "+44 20 7946 0958"},
		{"+351912345678", "PT", "912 345 678"},
		{"", "BR", ""},
		{"not a number", "BR", "not a number"},
		{"+551187654321", "", "+55 1187654321"}, // invalid: no region, international
	}
	for _, c := range cases {
		if got := Format(c.e164, c.country); got != c.want {
			t.Errorf("Format(%q, %q) = %q; want %q", c.e164, c.country, got, c.want)
		}
	}
}

var e164Shape = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"(11) 98765-4321", "+55 11 98765-4321", "5511987654321", "0 21 11 98765-4321",
		"+1 (415) 555-2671", "11 8765-4321", "0055 11 98765-4321", "351912345678", "tel:+55-11-98765-4321;ext=1",
		"+55 11 98765-4321 ext 12", "abc", "", "+", "00", "0xx11 98765-4321", "+800 1234 5678", "+39 06 1234 5678"} {
		f.Add(s, "BR")
	}
	f.Add("415 555 2671", "US")
	f.Add("5511987654321", "US")
	f.Add("06 1234 5678", "IT")
	f.Fuzz(func(t *testing.T, raw, country string) {
		got, err := Normalize(raw, country)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Normalize(%q, %q): error %T %v is not an *Error", raw, country, err, err)
			}
			return
		}
		if !e164Shape.MatchString(got) {
			t.Fatalf("Normalize(%q, %q) = %q: not E.164", raw, country, got)
		}
		again, err := Normalize(got, country)
		if err != nil || again != got {
			t.Fatalf("Normalize(%q, %q) = %q, but Normalize(%q) = %q, %v", raw, country, got, got, again, err)
		}
		_ = Format(got, country)
	})
}

func BenchmarkNormalize(b *testing.B) {
	inputs := []string{"(11) 98765-4321", "+55 11 98765-4321", "5511987654321", "0 21 11 98765-4321", "+1 (415) 555-2671", "11 8765-4321"}
	i := 0
	for b.Loop() {
		_, _ = Normalize(inputs[i%len(inputs)], "BR")
		i++
	}
}
