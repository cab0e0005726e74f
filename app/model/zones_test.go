package model

import (
	"testing"
	"time"
)

// TestTimeZonesLoad: every listed zone loads (tzdata is embedded), none is listed twice,
// the default is listed, and names off the list are refused.
func TestTimeZonesLoad(t *testing.T) {
	seen := map[string]bool{}
	for _, g := range TimeZones {
		for _, z := range g.Zones {
			if seen[z] {
				t.Errorf("%s listed twice", z)
			}
			seen[z] = true
			if _, err := time.LoadLocation(z); err != nil {
				t.Errorf("%s: %v", z, err)
			}
			if !ListedTimeZone(z) {
				t.Errorf("%s refused", z)
			}
		}
	}
	if !ListedTimeZone(DefaultTimeZone) || !ListedTimeZone("UTC") {
		t.Fatal("default or UTC not listed")
	}
	for _, z := range []string{"", "Local", "Mars/Olympus", "Europe/Berlin", "america/sao_paulo", "America/Sao_Paulo\x00", "../../etc/passwd"} {
		if ListedTimeZone(z) {
			t.Errorf("%q accepted", z)
		}
	}
}
