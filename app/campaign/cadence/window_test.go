package cadence

import (
	"testing"
	"time"

	"masteria/app/model"
)

// A wait until a window: inside it goes at once; before it, at its start; after it or on a
// day it does not run, at the next day's start, in the contact's zone.
func TestNextInWindow(t *testing.T) {
	sp, _ := time.LoadLocation("America/Sao_Paulo")
	weekdays := model.StepWindow{Start: 9, End: 18, Days: 0b0111110}                    // Monday to Friday
	at := func(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, sp) } // 7 Dec 2026 is a Monday
	for _, c := range []struct {
		name     string
		from, to time.Time
	}{
		{"inside", at(7, 10, 30), at(7, 10, 30)},
		{"before", at(7, 6, 0), at(7, 9, 0)},
		{"after", at(7, 18, 0), at(8, 9, 0)},
		{"friday night", at(11, 20, 0), at(14, 9, 0)},
		{"sunday", at(13, 12, 0), at(14, 9, 0)},
	} {
		if got := nextInWindow(c.from, sp, weekdays); !got.Equal(c.to) {
			t.Errorf("%s: %v, want %v", c.name, got, c.to)
		}
	}
	// The same instant is another hour elsewhere: 10:00 in São Paulo is 14:00 in Lisbon.
	lis, _ := time.LoadLocation("Europe/Lisbon")
	morning := model.StepWindow{Start: 8, End: 12, Days: 127}
	if got := nextInWindow(at(7, 10, 0), lis, morning); !got.Equal(time.Date(2026, 12, 8, 8, 0, 0, 0, lis)) {
		t.Errorf("Lisbon: %v", got)
	}
	if got := nextInWindow(at(7, 10, 0), sp, morning); !got.Equal(at(7, 10, 0)) {
		t.Errorf("São Paulo: %v", got)
	}
}
