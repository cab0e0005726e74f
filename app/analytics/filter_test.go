package analytics_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"masteria/app/analytics"
	"masteria/app/model"
)

// TestParseFilterRefusesBadInput: every bad parameter is a field error naming it, never a
// silent default.
func TestParseFilterRefusesBadInput(t *testing.T) {
	now := time.Date(2026, 11, 10, 15, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		q     url.Values
		field string
	}{
		{"unknown preset", url.Values{"period": {"fortnight"}}, "period"},
		{"preset and dates", url.Values{"period": {"7d"}, "from": {"2026-11-01"}, "to": {"2026-11-02"}}, "period"},
		{"bad from", url.Values{"from": {"2026-13-01"}, "to": {"2026-11-02"}}, "from"},
		{"bad to", url.Values{"from": {"2026-11-01"}, "to": {"02/11/2026"}}, "to"},
		{"missing to", url.Values{"from": {"2026-11-01"}}, "to"},
		{"reversed", url.Values{"from": {"2026-11-05"}, "to": {"2026-11-01"}}, "to"},
		{"too long", url.Values{"from": {"2025-01-01"}, "to": {"2026-01-02"}}, "from"},
		{"NUL in label", url.Values{"label": {"vi\x00p"}}, "label"},
		{"long label", url.Values{"label": {strings.Repeat("a", 65)}}, "label"},
		{"letters for an id", url.Values{"channel": {"abc"}}, "channel"},
		{"zero id", url.Values{"agent": {"0"}}, "agent"},
		{"negative id", url.Values{"campaign": {"-4"}}, "campaign"},
		{"huge id", url.Values{"pipeline": {"99999999999999999999"}}, "pipeline"},
		{"bad hours", url.Values{"hours": {"office"}}, "hours"},
		{"invalid UTF-8 preset", url.Values{"period": {"\xff\xfe"}}, "period"},
	} {
		_, err := analytics.ParseFilter(c.q, "America/Sao_Paulo", now)
		var ve *model.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: %v, want a validation error", c.name, err)
			continue
		}
		if _, ok := ve.Fields[c.field]; !ok {
			t.Errorf("%s: fields %v, want %s", c.name, ve.Fields, c.field)
		}
	}
	// 366 days is the longest period allowed.
	if _, err := analytics.ParseFilter(url.Values{"from": {"2025-01-01"}, "to": {"2026-01-01"}}, "America/Sao_Paulo", now); err != nil {
		t.Errorf("366 days: %v", err)
	}
	f, err := analytics.ParseFilter(url.Values{"period": {"7d"}, "hours": {"business"}, "label": {" vip "}}, "America/Sao_Paulo", now)
	if err != nil || f.Days() != 7 || !f.BusinessHours || f.Label != "vip" || f.From.Location().String() != "America/Sao_Paulo" {
		t.Errorf("7d: %+v %v", f, err)
	}
	if p := f.Previous(); !p.To.Equal(f.From) || p.Days() != 7 {
		t.Errorf("previous of 7d: %s", p)
	}
}
