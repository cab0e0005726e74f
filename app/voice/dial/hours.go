package dial

import "time"

// Hours are when the org calls people, in each person's own time zone: from Start to End
// o'clock (End 24 is midnight) on the weekdays of Days (a bit per weekday, Sunday 0).
type Hours struct {
	Start, End int
	Days       int
}

// DefaultHours are a new account's: 9:00 to 20:00, Monday to Saturday.
var DefaultHours = Hours{Start: 9, End: 20, Days: 126}

// Valid tells whether h can ever open.
func (h Hours) Valid() bool {
	return h.Start >= 0 && h.Start < h.End && h.End <= 24 && h.Days > 0 && h.Days < 128
}

// On tells whether calls may be made on weekday d.
func (h Hours) On(d time.Weekday) bool { return h.Days&(1<<d) != 0 }

// Next tells whether now is within the hours in zone; when it is not, it returns when they
// next open. The hours are wall-clock hours, so a DST change moves them with the clock.
func (h Hours) Next(now time.Time, zone *time.Location) (time.Time, bool) {
	if !h.Valid() {
		return time.Time{}, true
	}
	if zone == nil {
		zone = time.UTC
	}
	local := now.In(zone)
	y, m, d := local.Date()
	for i := 0; i < 8; i++ {
		day := time.Date(y, m, d+i, 0, 0, 0, 0, zone)
		if !h.On(day.Weekday()) {
			continue
		}
		open := time.Date(y, m, d+i, h.Start, 0, 0, 0, zone)
		close := time.Date(y, m, d+i, h.End, 0, 0, 0, zone) // hour 24 is the next midnight
		if now.Before(open) {
			return open, false
		}
		if now.Before(close) {
			return time.Time{}, true
		}
	}
	return time.Time{}, true // unreachable with a valid h: some day of the week is on
}
