package model

import (
	"testing"
	"time"
)

// TestBusinessHoursStored: the open days go to JSON and back; a bad window is refused.
func TestBusinessHoursStored(t *testing.T) {
	var h BusinessHours
	h[time.Monday] = BusinessDay{Open: true, From: "09:00", To: "18:00"}
	h[time.Saturday] = BusinessDay{Open: true, From: "08:30", To: "24:00"}
	v, err := h.Value()
	if err != nil || v != `[{"day":1,"from":"09:00","to":"18:00"},{"day":6,"from":"08:30","to":"24:00"}]` {
		t.Fatalf("stored as %v (%v)", v, err)
	}
	var back BusinessHours
	if err := back.Scan([]byte(v.(string))); err != nil || back != h {
		t.Fatalf("read back %+v (%v)", back, err)
	}
	for _, bad := range []string{`[{"day":7,"from":"09:00","to":"18:00"}]`, `[{"day":1,"from":"18:00","to":"09:00"}]`,
		`[{"day":1,"from":"9","to":"18:00"}]`, `{"day":1}`, `[{"day":1,"from":"09:00","to":"24:01"}]`} {
		if err := back.Scan(bad); err == nil {
			t.Errorf("%s read as %+v", bad, back)
		}
	}
	if (BusinessHours{}).Any() || !h.Any() {
		t.Error("Any")
	}
}
