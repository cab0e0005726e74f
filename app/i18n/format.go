package i18n

import (
	"strconv"
	"time"
)

// Times are written in the zone of the time given; callers convert to the
// user's zone first.

// FormatTime writes date and time: "Jan 2, 2006 15:04" or "02/01/2006 15:04".
func FormatTime(l Locale, t time.Time) string {
	if l == PTBR {
		return t.Format("02/01/2006 15:04")
	}
	return t.Format("Jan 2, 2006 15:04")
}

// FormatDate writes the date only: "Jan 2, 2006" or "02/01/2006".
func FormatDate(l Locale, t time.Time) string {
	if l == PTBR {
		return t.Format("02/01/2006")
	}
	return t.Format("Jan 2, 2006")
}

// RelTime says how long ago t was, seen at now: "just now" under a minute,
// then minutes, hours and days, and the date from a week on. A time more than
// a minute in the future (clock skew aside) gets its full date and time.
func RelTime(l Locale, t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < -time.Minute:
		return FormatTime(l, t)
	case d < time.Minute:
		return T(l, "time.just_now")
	case d < time.Hour:
		return N(l, "time.minutes_ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return N(l, "time.hours_ago", int(d/time.Hour))
	case d < 7*24*time.Hour:
		return N(l, "time.days_ago", int(d/(24*time.Hour)))
	}
	return FormatDate(l, t)
}

// FormatInt writes n with the locale's thousands separator: 1,234,567 or 1.234.567.
func FormatInt(l Locale, n int64) string {
	sep := byte(',')
	if l == PTBR {
		sep = '.'
	}
	digits := strconv.FormatInt(n, 10)
	sign := ""
	if digits[0] == '-' {
		sign, digits = "-", digits[1:]
	}
	if len(digits) <= 3 {
		return sign + digits
	}
	out := make([]byte, 0, len(digits)+len(digits)/3)
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			out = append(out, sep)
		}
		out = append(out, digits[i])
	}
	return sign + string(out)
}
