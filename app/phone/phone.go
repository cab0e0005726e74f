// Package phone turns the phone numbers people type into E.164 ("+5511987654321") and back
// into something readable. The numbering plans come from github.com/nyaruka/phonenumbers
// (Google's libphonenumber metadata); this package only adds the few readings of raw digits
// that spreadsheets produce and errors a user can understand.
package phone

import (
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// Reasons a number is refused. They are stable: the UI translates them.
const (
	ReasonEmpty             = "empty"
	ReasonNotANumber        = "not_a_number"
	ReasonTooShort          = "too_short"
	ReasonTooLong           = "too_long"
	ReasonInvalidForCountry = "invalid_for_country"
	ReasonUnknownCountry    = "unknown_country"
)

// Error says why a number was refused. Reason is one of the Reason constants.
type Error struct {
	Reason string
}

func (e *Error) Error() string {
	switch e.Reason {
	case ReasonEmpty:
		return "phone: the number is empty"
	case ReasonNotANumber:
		return "phone: this does not look like a phone number"
	case ReasonTooShort:
		return "phone: the number is too short"
	case ReasonTooLong:
		return "phone: the number is too long"
	case ReasonInvalidForCountry:
		return "phone: the number is not valid in its country; check the area code and the number of digits"
	case ReasonUnknownCountry:
		return "phone: the country is unknown; write the number with + and its country code"
	}
	return "phone: invalid number (" + e.Reason + ")"
}

// maxInput is the longest input phonenumbers accepts.
const maxInput = 250

// Normalize reads a phone number as people type it and returns it in E.164.
//
// defaultCountry (ISO 3166 alpha-2, "BR") is the country of numbers written without a
// country code. Besides what phonenumbers reads (national formats, "+" and the country's
// own international and long-distance prefixes, such as Brazil's "0 21 11 …" with a carrier
// code), two readings of bare digits are tried when the national reading is not a valid
// number:
//   - digits starting with "00" are read as "+" followed by the rest, since "00" is the
//     international prefix of most countries (Brazil's needs a carrier code: "0021 55 …");
//   - digits too long to be a national number are read as an international number
//     without its "+" ("5511987654321" typed in the US).
//
// Either reading is kept only when it gives a valid number. An extension ("ext. 12") is
// dropped: E.164 has none. The error is always an *Error.
func Normalize(raw, defaultCountry string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", &Error{Reason: ReasonEmpty}
	}
	if len(raw) > maxInput {
		return "", &Error{Reason: ReasonTooLong}
	}
	region := strings.ToUpper(strings.TrimSpace(defaultCountry))

	num, err := phonenumbers.Parse(raw, region)
	if err != nil {
		return "", parseError(raw, err)
	}
	if phonenumbers.IsValidNumber(num) {
		return e164(num)
	}

	// The national reading is not valid: try the readings of bare digits described above.
	if !strings.ContainsAny(raw, "+＋") && !hasLetter(raw) {
		digits := phonenumbers.NormalizeDigitsOnly(raw)
		var intl string
		switch {
		case strings.HasPrefix(digits, "00"):
			intl = "+" + digits[2:]
		case phonenumbers.IsPossibleNumberWithReason(num) == phonenumbers.TOO_LONG:
			intl = "+" + digits
		}
		if intl != "" {
			if n, err := phonenumbers.Parse(intl, ""); err == nil && phonenumbers.IsValidNumber(n) {
				return e164(n)
			}
		}
	}
	return "", invalidReason(raw, num)
}

// e164 formats a valid number, checking the shape the contacts table requires.
func e164(num *phonenumbers.PhoneNumber) (string, error) {
	s := phonenumbers.Format(num, phonenumbers.E164)
	if !isE164(s) {
		return "", &Error{Reason: ReasonInvalidForCountry}
	}
	return s, nil
}

// isE164 matches ^\+[1-9][0-9]{6,14}$, the CHECK on contacts.phone.
func isE164(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseError maps the errors of phonenumbers.Parse to a reason.
func parseError(raw string, err error) error {
	reason := ReasonNotANumber
	switch err {
	case phonenumbers.ErrInvalidCountryCode:
		reason = ReasonUnknownCountry
	case phonenumbers.ErrTooShortNSN, phonenumbers.ErrTooShortAfterIDD:
		reason = ReasonTooShort
	case phonenumbers.ErrNumTooLong:
		reason = ReasonTooLong
	}
	// phonenumbers turns letters into keypad digits ("0800-FLORES"), so a note written next
	// to a number ("11 98765-4321 (casa)") comes back as "too long"; it is not a number.
	if reason != ReasonUnknownCountry && hasLetter(raw) {
		reason = ReasonNotANumber
	}
	// It also calls a lone digit or two ("0", "+55") not a number; to a user it is too short.
	if reason == ReasonNotANumber && !hasLetter(raw) {
		if n := len(phonenumbers.NormalizeDigitsOnly(raw)); n > 0 && n <= 3 {
			reason = ReasonTooShort
		}
	}
	return &Error{Reason: reason}
}

// invalidReason explains why a parsed number is not valid.
func invalidReason(raw string, num *phonenumbers.PhoneNumber) error {
	reason := ReasonInvalidForCountry
	switch phonenumbers.IsPossibleNumberWithReason(num) {
	case phonenumbers.INVALID_COUNTRY_CODE:
		reason = ReasonUnknownCountry
	case phonenumbers.TOO_SHORT:
		reason = ReasonTooShort
	case phonenumbers.TOO_LONG:
		reason = ReasonTooLong
	}
	if hasLetter(raw) && reason != ReasonUnknownCountry {
		reason = ReasonNotANumber
	}
	return &Error{Reason: reason}
}

// hasLetter tells whether s has a letter other than the "tel:" of an RFC 3966 URI.
func hasLetter(s string) bool {
	s = strings.TrimPrefix(strings.ToLower(s), "tel:")
	return strings.IndexFunc(s, unicode.IsLetter) >= 0
}

// Format shows an E.164 number for reading: in the national format when it belongs to
// country ("(11) 98765-4321" for BR), in the international format otherwise
// ("+1 415-555-2671"). What cannot be parsed is returned unchanged.
func Format(e164, country string) string {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return e164
	}
	if region := phonenumbers.GetRegionCodeForNumber(num); region != "" && region == strings.ToUpper(country) {
		return phonenumbers.Format(num, phonenumbers.NATIONAL)
	}
	return phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
}
