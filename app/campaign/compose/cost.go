package compose

import (
	"maps"
	"slices"
	"strings"

	"masteria/app/channel/twilio"
	"masteria/app/model"
)

// SMSSegments counts the parts an SMS text is billed as and its encoding (twilio.EncodingGSM7
// or twilio.EncodingUCS2), by the rules Twilio bills with.
func SMSSegments(text string) (segments int, encoding string) {
	return twilio.Segments(text)
}

// Message categories a price depends on. WhatsApp Cloud API bills a template message by its
// category; SMS and WhatsApp QR have one category, CategoryAny.
const (
	CategoryMarketing      = "marketing"
	CategoryUtility        = "utility"
	CategoryAuthentication = "authentication"
	CategoryService        = "service"
	CategoryAny            = ""
)

// OtherCountry is the price row of the countries a table does not list.
const OtherCountry = "other"

// PriceKey picks a price: channel kind (model.KindWhatsAppCloud…), ISO country of the
// recipient's number, and category.
type PriceKey struct {
	Kind, Country, Category string
}

// Prices is a price table in one currency: per message for WhatsApp, per segment for SMS.
type Prices struct {
	Currency string
	Rows     map[PriceKey]float64
}

// DefaultPrices are editable defaults for an estimate, in US dollars, rounded from the
// providers' public rate cards of 2025; they are not quotes, and the org can change them.
// WhatsApp QR (a phone's own account) costs nothing per message.
func DefaultPrices() Prices {
	rows := map[PriceKey]float64{}
	wa := func(country string, marketing, utility, authentication float64) {
		rows[PriceKey{model.KindWhatsAppCloud, country, CategoryMarketing}] = marketing
		rows[PriceKey{model.KindWhatsAppCloud, country, CategoryUtility}] = utility
		rows[PriceKey{model.KindWhatsAppCloud, country, CategoryAuthentication}] = authentication
		rows[PriceKey{model.KindWhatsAppCloud, country, CategoryService}] = 0
		rows[PriceKey{model.KindWhatsAppQR, country, CategoryAny}] = 0
	}
	wa("BR", 0.0625, 0.0080, 0.0315)
	wa("US", 0.0250, 0.0040, 0.0135)
	wa("MX", 0.0305, 0.0085, 0.0135)
	wa("PT", 0.0592, 0.0318, 0.0311)
	wa("AR", 0.0618, 0.0260, 0.0260)
	wa(OtherCountry, 0.0604, 0.0077, 0.0280)
	sms := map[string]float64{"BR": 0.0450, "US": 0.0083, "MX": 0.0600, "PT": 0.0550, "AR": 0.0750, OtherCountry: 0.0800}
	for country, p := range sms {
		rows[PriceKey{model.KindTwilioSMS, country, CategoryAny}] = p
	}
	return Prices{Currency: "USD", Rows: rows}
}

// Price is the price of one message (one segment for SMS) to country, falling back to the
// table's OtherCountry row, and in each to the CategoryAny row (SMS and QR have only that);
// ok is false when none is listed.
func (p Prices) Price(kind, country, category string) (price float64, ok bool) {
	for _, c := range []string{strings.ToUpper(country), OtherCountry} {
		for _, cat := range []string{category, CategoryAny} {
			if price, ok = p.Rows[PriceKey{kind, c, cat}]; ok {
				return price, true
			}
		}
	}
	return 0, false
}

// Estimate totals a send of one message to byCountry recipients (ISO country → count; ""
// or an unlisted country is priced as OtherCountry). For SMS each message costs segments
// times the segment price; other kinds ignore segments. Recipients whose price the table
// lacks entirely count as free: the estimate is a guide, not a bill.
func Estimate(prices Prices, kind, category string, byCountry map[string]int, segments int) (total float64, currency string) {
	per := 1
	if kind == model.KindTwilioSMS {
		per = max(segments, 0)
	}
	// In a fixed order, so the same audience always sums to the same float.
	for _, country := range slices.Sorted(maps.Keys(byCountry)) {
		n := byCountry[country]
		if n <= 0 {
			continue
		}
		if price, ok := prices.Price(kind, country, category); ok {
			total += price * float64(n*per)
		}
	}
	return total, prices.Currency
}
