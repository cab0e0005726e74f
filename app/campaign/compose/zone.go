package compose

import (
	"slices"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// QuietUntil tells whether now falls in the quiet hours [startHour:00, endHour:00) of zone,
// a window that may wrap midnight (22 → 8), and if so when it ends: the next endHour:00 in
// zone. start == end, or an hour outside 0–23, means no quiet hours. A nil zone is UTC.
//
// Hours are wall-clock hours, so a DST change moves the window with the clock; an end hour
// that a DST jump skips that day (Brazil's old midnight change) opens at the first instant
// after the jump.
func QuietUntil(now time.Time, zone *time.Location, startHour, endHour int) (time.Time, bool) {
	if startHour == endHour || startHour < 0 || startHour > 23 || endHour < 0 || endHour > 23 {
		return time.Time{}, false
	}
	if zone == nil {
		zone = time.UTC
	}
	local := now.In(zone)
	h := local.Hour()
	var quiet bool
	if startHour < endHour {
		quiet = h >= startHour && h < endHour
	} else {
		quiet = h >= startHour || h < endHour
	}
	if !quiet {
		return time.Time{}, false
	}
	y, m, d := local.Date()
	if h >= endHour { // past today's end: the window ends tomorrow
		d++
	}
	open := time.Date(y, m, d, endHour, 0, 0, 0, zone)
	// time.Date may land before a skipped wall-clock hour; never answer the past.
	for !open.After(now) {
		open = open.Add(time.Hour)
	}
	return open, true
}

// ambiguousMax is how many zones a number's prefix may map to and still be read as one of
// them; beyond it (a toll-free or unknown +1 area code lists the whole continent) the
// fallback is a better guess.
const ambiguousMax = 3

// mainZones settles a few prefixes that map to several zones: a Portuguese mobile is
// listed in Azores and Lisbon, a British one in Guernsey, Isle of Man and London.
var mainZones = []string{"Europe/Lisbon", "Europe/London", "Europe/Madrid", "America/Sao_Paulo"}

var zones sync.Map // zone name → *time.Location, or nil when it does not load

// Zone is the time zone of a phone number in E.164 from libphonenumber's prefix data:
// the zone of its area code, or, when the prefix maps to a few zones, the country's main
// one (else the first listed). An unknown, invalid or too ambiguous number gives fallback.
func Zone(e164 string, fallback *time.Location) *time.Location {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return fallback
	}
	names, err := phonenumbers.GetTimezonesForNumber(num)
	if err != nil || len(names) == 0 || len(names) > ambiguousMax || names[0] == phonenumbers.UNKNOWN_TIMEZONE {
		return fallback
	}
	name := names[0]
	for _, z := range mainZones {
		if slices.Contains(names, z) {
			name = z
			break
		}
	}
	if loc := loadZone(name); loc != nil {
		return loc
	}
	return fallback
}

func loadZone(name string) *time.Location {
	if v, ok := zones.Load(name); ok {
		loc, _ := v.(*time.Location)
		return loc
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = nil // a zone this system's tzdata lacks: remember, do not retry each time
	}
	zones.Store(name, loc)
	return loc
}

// PhoneCountry is the ISO 3166 alpha-2 country of a phone number in E.164 ("BR"), or ""
// when it cannot be told (invalid, or a non-geographic number such as +800).
func PhoneCountry(e164 string) string {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return ""
	}
	region := phonenumbers.GetRegionCodeForNumber(num)
	if region == "" || region == "001" || region == "ZZ" {
		return ""
	}
	return region
}
