package model

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// BusinessDay is one weekday's business hours: closed, or open From to To ("HH:MM", To
// after From; "24:00" ends at midnight).
type BusinessDay struct {
	Open     bool
	From, To string
}

// BusinessHours are an org's business hours by weekday (time.Sunday first), in the org's
// time zone. With no day open, every hour counts.
type BusinessHours [7]BusinessDay

// businessWindow is how one open day is stored (org_inbox_settings.business_hours).
type businessWindow struct {
	Day  time.Weekday `json:"day"`
	From string       `json:"from"`
	To   string       `json:"to"`
}

// Any tells whether some day is open.
func (h BusinessHours) Any() bool {
	for _, d := range h {
		if d.Open {
			return true
		}
	}
	return false
}

// clockMinutes reads "HH:MM" (or "24:00") as minutes after midnight.
func clockMinutes(s string) (int, bool) {
	if s == "24:00" {
		return 24 * 60, true
	}
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// Validate refuses an open day whose times are not "HH:MM" with To after From.
func (h BusinessHours) Validate() error {
	for _, d := range h {
		if !d.Open {
			continue
		}
		f, ok1 := clockMinutes(d.From)
		t, ok2 := clockMinutes(d.To)
		if !ok1 || !ok2 || t <= f {
			return FieldError("business_hours", "inbox_settings.error.hours")
		}
	}
	return nil
}

// Seconds is how long [a, b) lasts inside the business hours, in zone; with no day open,
// its whole length.
func (h BusinessHours) Seconds(a, b time.Time, zone *time.Location) int {
	if !b.After(a) {
		return 0
	}
	if !h.Any() {
		return int(b.Sub(a) / time.Second)
	}
	var total time.Duration
	a, b = a.In(zone), b.In(zone)
	for day := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, zone); day.Before(b); day = day.AddDate(0, 0, 1) {
		d := h[day.Weekday()]
		if !d.Open {
			continue
		}
		f, _ := clockMinutes(d.From)
		t, _ := clockMinutes(d.To)
		from := time.Date(day.Year(), day.Month(), day.Day(), f/60, f%60, 0, 0, zone)
		to := time.Date(day.Year(), day.Month(), day.Day(), t/60, t%60, 0, 0, zone)
		if from.Before(a) {
			from = a
		}
		if to.After(b) {
			to = b
		}
		if to.After(from) {
			total += to.Sub(from)
		}
	}
	return int(total / time.Second)
}

// MarshalJSON writes the open days as a list of windows.
func (h BusinessHours) MarshalJSON() ([]byte, error) {
	out := []businessWindow{}
	for i, d := range h {
		if d.Open {
			out = append(out, businessWindow{Day: time.Weekday(i), From: d.From, To: d.To})
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads a list of windows; a bad one is an error.
func (h *BusinessHours) UnmarshalJSON(b []byte) error {
	var ws []businessWindow
	if err := json.Unmarshal(b, &ws); err != nil {
		return err
	}
	*h = BusinessHours{}
	for _, w := range ws {
		if w.Day < time.Sunday || w.Day > time.Saturday {
			return fmt.Errorf("business hours: no weekday %d", w.Day)
		}
		h[w.Day] = BusinessDay{Open: true, From: w.From, To: w.To}
	}
	return h.Validate()
}

// Scan reads the stored JSON.
func (h *BusinessHours) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		return h.UnmarshalJSON(v)
	case string:
		return h.UnmarshalJSON([]byte(v))
	case nil:
		*h = BusinessHours{}
		return nil
	}
	return errors.New("business hours: not JSON")
}

// Value stores the JSON.
func (h BusinessHours) Value() (driver.Value, error) {
	b, err := h.MarshalJSON()
	return string(b), err
}
