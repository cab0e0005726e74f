package compose

import (
	"math"
	"strings"
	"testing"

	"masteria/app/channel/twilio"
	"masteria/app/model"
)

func TestSMSSegments(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		enc  string
		what string
	}{
		{"", 0, twilio.EncodingGSM7, "empty"},
		{"Oi Maria, sua oferta chegou!", 1, twilio.EncodingGSM7, "plain"},
		{strings.Repeat("a", 160), 1, twilio.EncodingGSM7, "one full part"},
		{strings.Repeat("a", 161), 2, twilio.EncodingGSM7, "two parts"},
		{"Olá, promoção!", 1, twilio.EncodingUCS2, "Portuguese accents force UCS-2"},
		{strings.Repeat("ã", 71), 2, twilio.EncodingUCS2, "UCS-2 over 70"},
		{"a\x00b", 1, twilio.EncodingUCS2, "NUL is not GSM-7"},
		{"\xff", 1, twilio.EncodingUCS2, "invalid UTF-8 does not panic"},
	}
	for _, c := range cases {
		n, enc := SMSSegments(c.in)
		if n != c.n || enc != c.enc {
			t.Errorf("%s: SMSSegments = %d %s, want %d %s", c.what, n, enc, c.n, c.enc)
		}
	}
}

func TestPrices(t *testing.T) {
	p := DefaultPrices()
	if p.Currency != "USD" {
		t.Fatalf("currency %q", p.Currency)
	}
	for _, country := range []string{"BR", "US", "MX", "PT", "AR", OtherCountry} {
		for _, cat := range []string{CategoryMarketing, CategoryUtility, CategoryAuthentication} {
			if v, ok := p.Rows[PriceKey{model.KindWhatsAppCloud, country, cat}]; !ok || v <= 0 {
				t.Errorf("no WhatsApp %s price for %s", cat, country)
			}
		}
		if v, ok := p.Rows[PriceKey{model.KindTwilioSMS, country, CategoryAny}]; !ok || v <= 0 {
			t.Errorf("no SMS price for %s", country)
		}
	}
	cases := []struct {
		kind, country, category string
		want                    float64
		ok                      bool
	}{
		{model.KindWhatsAppCloud, "BR", CategoryMarketing, 0.0625, true},
		{model.KindWhatsAppCloud, "br", CategoryMarketing, 0.0625, true},
		{model.KindWhatsAppCloud, "DE", CategoryUtility, 0.0077, true}, // other
		{model.KindWhatsAppCloud, "", CategoryUtility, 0.0077, true},
		{model.KindWhatsAppCloud, "BR", CategoryService, 0, true},
		{model.KindTwilioSMS, "US", CategoryMarketing, 0.0083, true}, // SMS has one category
		{model.KindWhatsAppQR, "JP", CategoryMarketing, 0, true},
		{model.KindWhatsAppCloud, "BR", "unknown", 0, false},
		{"fax", "BR", CategoryAny, 0, false},
	}
	for _, c := range cases {
		got, ok := p.Price(c.kind, c.country, c.category)
		if got != c.want || ok != c.ok {
			t.Errorf("Price(%s, %s, %s) = %v %v, want %v %v", c.kind, c.country, c.category, got, ok, c.want, c.ok)
		}
	}
}

func TestEstimate(t *testing.T) {
	p := DefaultPrices()
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	audience := map[string]int{"BR": 1000, "US": 10, "": 5, "DE": 5, "PT": 0, "AR": -3}

	total, cur := Estimate(p, model.KindWhatsAppCloud, CategoryMarketing, audience, 3)
	if want := 1000*0.0625 + 10*0.025 + 10*0.0604; !near(total, want) || cur != "USD" {
		t.Errorf("WhatsApp: %v %s, want %v USD", total, cur, want)
	}
	total, _ = Estimate(p, model.KindTwilioSMS, CategoryAny, audience, 3)
	if want := 3 * (1000*0.045 + 10*0.0083 + 10*0.08); !near(total, want) {
		t.Errorf("SMS: %v, want %v", total, want)
	}
	if total, _ = Estimate(p, model.KindTwilioSMS, CategoryAny, audience, 0); total != 0 {
		t.Errorf("SMS of 0 segments: %v", total)
	}
	if total, _ = Estimate(p, model.KindWhatsAppQR, CategoryAny, audience, 1); total != 0 {
		t.Errorf("QR: %v", total)
	}
	if total, cur = Estimate(Prices{}, model.KindTwilioSMS, CategoryAny, audience, 1); total != 0 || cur != "" {
		t.Errorf("empty table: %v %q", total, cur)
	}
	// The same audience sums to the same float every time.
	first, _ := Estimate(p, model.KindWhatsAppCloud, CategoryUtility, audience, 1)
	for range 20 {
		if again, _ := Estimate(p, model.KindWhatsAppCloud, CategoryUtility, audience, 1); again != first {
			t.Fatalf("%v then %v", first, again)
		}
	}
}
