package analytics

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"masteria/app/i18n"
)

func TestFormatWritesFiguresAsPeopleReadThem(t *testing.T) {
	for _, c := range []struct {
		l        i18n.Locale
		u        Unit
		v        float64
		known    bool
		currency string
		want     string
	}{
		{i18n.EN, Count, 1234567, true, "", "1,234,567"},
		{i18n.PTBR, Count, 1234567, true, "", "1.234.567"},
		{i18n.EN, Count, 0, true, "", "0"},
		{i18n.EN, Count, 12, false, "", "—"},
		{i18n.EN, Ratio, 0.1249, true, "", "12.5%"},
		{i18n.PTBR, Ratio, 0.1249, true, "", "12,5%"},
		{i18n.EN, Ratio, 1, true, "", "100.0%"},
		{i18n.EN, Ratio, 0, false, "", "—"},
		{i18n.EN, Seconds, 45, true, "", "45 s"},
		{i18n.EN, Seconds, 200, true, "", "3 min 20 s"},
		{i18n.EN, Seconds, 180, true, "", "3 min"},
		{i18n.EN, Seconds, 3900, true, "", "1 h 05 min"},
		{i18n.EN, Seconds, 3929, true, "", "1 h 05 min"},
		{i18n.EN, Seconds, 3930, true, "", "1 h 06 min"},
		{i18n.PTBR, Cents, 123456, true, "", "R$ 1.234,56"},
		{i18n.EN, Cents, 123456, true, "", "R$1,234.56"},
		{i18n.EN, Cents, 5, true, "USD", "US$0.05"},
		{i18n.PTBR, Cents, 99900, true, "EUR", "€ 999,00"},
		{i18n.EN, Cents, 1000, true, "CHF", "CHF 10.00"},
		{i18n.EN, Cents, -250, true, "BRL", "−R$2.50"},
	} {
		if got := Format(c.l, c.u, Figure{Value: c.v, Known: c.known}, c.currency); got != c.want {
			t.Errorf("Format(%s, %s, %v, %v, %q) = %q, want %q", c.l, c.u, c.v, c.known, c.currency, got, c.want)
		}
	}
}

func TestChangeAndTrendKnowWhichWayIsGood(t *testing.T) {
	kpi := func(metric string, cur, prev float64, known bool) KPI {
		return KPI{Metric: metric, Current: Figure{Value: cur, Known: true}, Previous: Figure{Value: prev, Known: known}}
	}
	for _, c := range []struct {
		k        KPI
		en, pt   string
		dir      string
		good     bool
		unknownC bool
	}{
		{kpi("conversations.started", 125, 100, true), "+25.0%", "+25,0%", "up", true, false},
		{kpi("conversations.started", 75, 100, true), "−25.0%", "−25,0%", "down", false, false},
		{kpi("response.first_median", 300, 200, true), "+50.0%", "+50,0%", "up", false, false},
		{kpi("response.first_median", 100, 200, true), "−50.0%", "−50,0%", "down", true, false},
		{kpi("leads.created", 100, 100, true), "0.0%", "0,0%", "flat", true, false},
		{kpi("leads.created", 5, 0, true), "—", "—", "", false, true},
		{kpi("leads.created", 5, 3, false), "—", "—", "", false, true},
	} {
		ch, ok := Change(c.k)
		if ok == c.unknownC {
			t.Errorf("%v: change known %v", c.k, ok)
		}
		if got := FormatChange(i18n.EN, ch, ok); got != c.en {
			t.Errorf("%v: %q, want %q", c.k, got, c.en)
		}
		if got := FormatChange(i18n.PTBR, ch, ok); got != c.pt {
			t.Errorf("%v: %q, want %q", c.k, got, c.pt)
		}
		if dir, good := Trend(c.k); dir != c.dir || (dir != "" && good != c.good) {
			t.Errorf("%v: trend %s %v, want %s %v", c.k, dir, good, c.dir, c.good)
		}
	}
}

// TestFilterHourAndNarrow: an hour narrows a one-day period to that hour and nothing else;
// a chart's point narrows its filter to its bucket, and the narrowed filter reads back
// the same from its URL.
func TestFilterHourAndNarrow(t *testing.T) {
	now := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	zone := "America/Sao_Paulo"
	loc, _ := time.LoadLocation(zone)
	f, err := ParseFilter(map[string][]string{"period": {"today"}, "hour": {"9"}, "channel": {"7"}}, zone, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 20, 9, 0, 0, 0, loc); !f.From.Equal(want) || !f.To.Equal(want.Add(time.Hour)) || !f.InHour || f.Hour != 9 {
		t.Fatalf("hour 9 of today: %s", f)
	}
	for name, q := range map[string]map[string][]string{
		"hour of a week": {"period": {"7d"}, "hour": {"9"}},
		"hour 24":        {"period": {"today"}, "hour": {"24"}},
		"hour -1":        {"period": {"today"}, "hour": {"-1"}},
		"hour word":      {"period": {"today"}, "hour": {"nine"}},
		"hour padded":    {"period": {"today"}, "hour": {"009"}},
	} {
		if _, err := ParseFilter(q, zone, now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}

	month, err := ParseFilter(map[string][]string{"from": {"2026-11-01"}, "to": {"2026-11-30"}, "agent": {"3"}}, zone, now)
	if err != nil {
		t.Fatal(err)
	}
	day := month.Narrow("day", time.Date(2026, 11, 3, 0, 0, 0, 0, loc))
	if day.Days() != 1 || day.From.Day() != 3 || day.AgentID != 3 {
		t.Fatalf("day of a month: %s", day)
	}
	week := month.Narrow("week", time.Date(2026, 11, 29, 0, 0, 0, 0, loc))
	if !week.To.Equal(month.To) {
		t.Fatalf("last week is cut at the period's end: %s", week)
	}
	today, _ := ParseFilter(map[string][]string{"period": {"today"}}, zone, now)
	hour := today.Narrow("hour", today.From.Add(14*time.Hour))
	if !hour.InHour || hour.Hour != 14 || hour.To.Sub(hour.From) != time.Hour {
		t.Fatalf("hour of a day: %s", hour)
	}
	for _, n := range []Filter{day, week, hour} {
		back, err := ParseFilter(n.Query(), zone, now)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if !back.From.Equal(n.From) || !back.To.Equal(n.To) || back.AgentID != n.AgentID || back.InHour != n.InHour {
			t.Errorf("%s read back as %s", n, back)
		}
	}
}

// TestThrottledSendsFirstAndLast: a burst of changes of one org is sent twice (the first at
// once, the rest as one at the end of the interval); another org is not held up by it.
func TestThrottledSendsFirstAndLast(t *testing.T) {
	var mu sync.Mutex
	sent := map[int64]int{}
	done := make(chan int64, 10)
	on := Throttled(500*time.Millisecond, func(_ context.Context, org int64) {
		mu.Lock()
		sent[org]++
		mu.Unlock()
		done <- org
	})
	ctx := context.Background()
	for range 5 {
		on(ctx, 1)
	}
	on(ctx, 2)
	got := map[int64]int{}
	for range 3 {
		select {
		case o := <-done:
			got[o]++
		case <-time.After(10 * time.Second):
			t.Fatalf("sent %v, want org 1 twice and org 2 once", got)
		}
	}
	if got[1] != 2 || got[2] != 1 {
		t.Fatalf("sent %v, want org 1 twice and org 2 once", got)
	}
	select {
	case o := <-done:
		t.Fatalf("a fourth send, for org %d", o)
	case <-time.After(time.Second):
	}
}

// TestProviderCostsAreInDollars: the AI provider's and Retell's costs show in US dollars
// whatever the org's currency; the org's own money (a lead's value) in the org's.
func TestProviderCostsAreInDollars(t *testing.T) {
	for _, c := range []struct {
		metric, want string
	}{{"ai.cost", "US$"}, {"ai.cost_per_resolved", "US$"}, {"calls.cost", "US$"}, {"leads.won_value", "R$"}} {
		got := Format(i18n.PTBR, Cents, Figure{Metric: c.metric, Value: 1250, Known: true}, "BRL")
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s shows as %q, want %s…", c.metric, got, c.want)
		}
	}
}
