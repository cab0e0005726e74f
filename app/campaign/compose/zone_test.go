package compose

import (
	"testing"
	"time"
)

func load(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("no tzdata for %s: %v", name, err)
	}
	return loc
}

func TestZone(t *testing.T) {
	fallback := time.FixedZone("fallback", -3*3600)
	cases := []struct{ in, want string }{
		{"+5511987654321", "America/Sao_Paulo"},
		{"+5521998765432", "America/Sao_Paulo"},
		{"+5592987654321", "America/Manaus"},
		{"+5568999887766", "America/Rio_Branco"},
		{"+12125551234", "America/New_York"},
		{"+14155552671", "America/Los_Angeles"},
		{"+351912345678", "Europe/Lisbon"}, // mobiles are listed in Azores and Lisbon
		{"+351212345678", "Europe/Lisbon"},
		{"+447911123456", "Europe/London"},
		{"+525512345678", "America/Mexico_City"},
		{"+541143211234", "America/Buenos_Aires"},
		{"+18005551234", "fallback"}, // toll-free: the whole continent
		{"+80012345678", "fallback"}, // non-geographic
		{"", "fallback"},
		{"abc", "fallback"},
		{"+55\x00\xff", "fallback"},
	}
	for _, c := range cases {
		got := Zone(c.in, fallback)
		if got == nil || got.String() != c.want {
			t.Errorf("Zone(%q) = %v, want %s", c.in, got, c.want)
		}
		if again := Zone(c.in, fallback); again != got {
			t.Errorf("Zone(%q) not cached: %p then %p", c.in, got, again)
		}
	}
	if Zone("x", nil) != nil {
		t.Error("a nil fallback should come back nil")
	}
}

func TestPhoneCountry(t *testing.T) {
	cases := map[string]string{
		"+5511987654321": "BR",
		"+12125551234":   "US",
		"+14165551234":   "CA",
		"+525512345678":  "MX",
		"+351912345678":  "PT",
		"+541143211234":  "AR",
		"+80012345678":   "",
		"+999123":        "",
		"":               "",
		"\xff\x00":       "",
	}
	for in, want := range cases {
		if got := PhoneCountry(in); got != want {
			t.Errorf("PhoneCountry(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestQuietUntil(t *testing.T) {
	sp := load(t, "America/Sao_Paulo")
	ny := load(t, "America/New_York")
	at := func(loc *time.Location, s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	utc := func(s string) time.Time { return at(time.UTC, s) }
	cases := []struct {
		what       string
		now        time.Time
		zone       *time.Location
		start, end int
		want       time.Time // zero: not quiet
	}{
		{"evening before the window", at(sp, "2025-06-10 21:59"), sp, 22, 8, time.Time{}},
		{"window starts", at(sp, "2025-06-10 22:00"), sp, 22, 8, at(sp, "2025-06-11 08:00")},
		{"before midnight", at(sp, "2025-06-10 23:30"), sp, 22, 8, at(sp, "2025-06-11 08:00")},
		{"after midnight", at(sp, "2025-06-11 03:00"), sp, 22, 8, at(sp, "2025-06-11 08:00")},
		{"window ends", at(sp, "2025-06-11 08:00"), sp, 22, 8, time.Time{}},
		{"month end", at(sp, "2025-06-30 23:00"), sp, 22, 8, at(sp, "2025-07-01 08:00")},
		{"read in the contact's zone", utc("2025-06-11 01:30"), sp, 22, 8, utc("2025-06-11 11:00")}, // 22:30 in São Paulo
		{"not wrapping, inside", at(sp, "2025-06-10 13:00"), sp, 12, 14, at(sp, "2025-06-10 14:00")},
		{"not wrapping, outside", at(sp, "2025-06-10 11:59"), sp, 12, 14, time.Time{}},
		{"window to midnight", at(sp, "2025-06-10 23:59"), sp, 20, 0, at(sp, "2025-06-11 00:00")},
		{"start == end", at(sp, "2025-06-10 23:00"), sp, 22, 22, time.Time{}},
		{"bad hour", at(sp, "2025-06-10 23:00"), sp, 22, 24, time.Time{}},
		{"negative hour", at(sp, "2025-06-10 23:00"), sp, -1, 8, time.Time{}},
		{"nil zone is UTC", utc("2025-06-10 23:00"), nil, 22, 8, utc("2025-06-11 08:00")},
		// New York springs forward on 2025-03-09 at 02:00: the night is an hour shorter.
		{"spring forward", at(ny, "2025-03-08 23:00"), ny, 22, 8, utc("2025-03-09 12:00")},
		// ... and an end hour the jump skips opens at the jump.
		{"end hour skipped", at(ny, "2025-03-09 01:30"), ny, 22, 2, utc("2025-03-09 07:00")},
		// It falls back on 2025-11-02 at 02:00: the night is an hour longer.
		{"fall back", at(ny, "2025-11-01 23:00"), ny, 22, 8, utc("2025-11-02 13:00")},
		// São Paulo's last DST started at midnight 2018-11-04: 00:00 did not exist.
		{"midnight skipped", at(sp, "2018-11-03 23:00"), sp, 22, 0, utc("2018-11-04 03:00")},
	}
	for _, c := range cases {
		got, quiet := QuietUntil(c.now, c.zone, c.start, c.end)
		if quiet != !c.want.IsZero() || !got.Equal(c.want) {
			t.Errorf("%s: QuietUntil(%v, %d→%d) = %v %v, want %v", c.what, c.now, c.start, c.end, got, quiet, c.want)
		}
		if quiet && !got.After(c.now) {
			t.Errorf("%s: opens at %v, not after %v", c.what, got, c.now)
		}
	}
}
