package analytics

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"masteria/app/store/storetest"
)

// brokenFamily fails every question, as a family whose rollup table is unreadable would.
type brokenFamily struct{}

var errBroken = errors.New("rollup unreadable")

func (brokenFamily) figures(context.Context, int64, Filter, []string) (map[string]Figure, error) {
	return nil, errBroken
}
func (brokenFamily) series(context.Context, int64, Filter, string, string) (Series, error) {
	return Series{}, errBroken
}
func (brokenFamily) drill(context.Context, int64, Filter, string, string, string, int) (DrillPage, error) {
	return DrillPage{}, errBroken
}
func (brokenFamily) table(context.Context, int64, Filter, string) (Table, error) {
	return Table{}, errBroken
}
func (brokenFamily) funnel(context.Context, int64, Filter, string) (Funnel, error) {
	return Funnel{}, errBroken
}

// TestHomeKeepsTheOtherPartsWhenOneFails: with the cadences and calls families broken, the
// dashboard names the cadence funnel and the calls KPI in Failed and Err says so, while every other part is there,
// worked out side by side.
func TestHomeKeepsTheOtherPartsWhenOneFails(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	org, err := st.CreateOrg(ctx, "Loja")
	if err != nil {
		t.Fatal(err)
	}
	s := New(st)
	s.register("cadences", brokenFamily{})
	s.register("calls", brokenFamily{})
	f, err := ParseFilter(url.Values{"period": {"7d"}}, "America/Sao_Paulo", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.Home(ctx, org.ID, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Failed) != 2 || !errors.Is(h.Failed["kpi:calls.total"], errBroken) || !errors.Is(h.Failed["funnel:cadence"], errBroken) {
		t.Fatalf("failed parts %v", h.Failed)
	}
	if err := h.Err(); !errors.Is(err, errBroken) {
		t.Fatalf("Err %v", err)
	}
	if len(h.KPIs) != len(HomeKPIs) || len(h.Series) != len(HomeSeries) || len(h.Tables) != len(HomeTables) || len(h.Funnels) != len(HomeFunnels) {
		t.Fatalf("parts missing: %d KPIs, %d series, %d tables, %d funnels", len(h.KPIs), len(h.Series), len(h.Tables), len(h.Funnels))
	}
	for i, k := range HomeKPIs {
		if h.KPIs[i].Metric != k {
			t.Errorf("KPI %d is %q, want %q", i, h.KPIs[i].Metric, k)
		}
	}
	// A 7-day period: the messages series has its 7 days, each known (zero).
	for _, sr := range h.Series {
		if sr.Metric == "messages.sent" && (len(sr.Points) != 7 || !sr.Points[0].Known) {
			t.Errorf("messages series %+v", sr)
		}
	}
	if h.Funnels[0].Name != "campaign" || len(h.Funnels[0].Steps) == 0 {
		t.Errorf("campaign funnel %+v", h.Funnels[0])
	}
}
