package dial

import (
	"testing"
	"time"
)

func TestHoursNext(t *testing.T) {
	sp, _ := time.LoadLocation("America/Sao_Paulo")
	ny, _ := time.LoadLocation("America/New_York")
	at := func(z *time.Location, y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, z)
	}
	weekdays := Hours{Start: 9, End: 18, Days: 0b0111110} // Monday to Friday
	cases := []struct {
		name string
		h    Hours
		now  time.Time
		zone *time.Location
		open bool
		next time.Time
	}{
		{"within", weekdays, at(sp, 2026, 12, 7, 10, 0), sp, true, time.Time{}},
		{"at the start", weekdays, at(sp, 2026, 12, 7, 9, 0), sp, true, time.Time{}},
		{"at the end", weekdays, at(sp, 2026, 12, 7, 18, 0), sp, false, at(sp, 2026, 12, 8, 9, 0)},
		{"early", weekdays, at(sp, 2026, 12, 7, 7, 59), sp, false, at(sp, 2026, 12, 7, 9, 0)},
		{"friday night", weekdays, at(sp, 2026, 12, 11, 22, 0), sp, false, at(sp, 2026, 12, 14, 9, 0)},
		{"saturday", weekdays, at(sp, 2026, 12, 12, 12, 0), sp, false, at(sp, 2026, 12, 14, 9, 0)},
		{"read in the contact's zone", weekdays, at(sp, 2026, 12, 7, 10, 30), ny, false, at(ny, 2026, 12, 7, 9, 0)},
		{"until midnight", Hours{Start: 0, End: 24, Days: 127}, at(sp, 2026, 12, 7, 23, 59), sp, true, time.Time{}},
		{"a DST morning in New York", weekdays, at(ny, 2027, 3, 14, 3, 0), ny, false, at(ny, 2027, 3, 15, 9, 0)},
		{"invalid hours never block", Hours{Start: 10, End: 9, Days: 127}, at(sp, 2026, 12, 7, 3, 0), sp, true, time.Time{}},
	}
	for _, c := range cases {
		next, open := c.h.Next(c.now, c.zone)
		if open != c.open || !next.Equal(c.next) {
			t.Errorf("%s: got %v %v, want %v %v", c.name, open, next, c.open, c.next)
		}
	}
}
