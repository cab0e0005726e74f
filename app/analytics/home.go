package analytics

import (
	"context"
	"fmt"
	"sync"
)

// What the manager's dashboard (the org's home) shows, in order. The page, its CSV
// exports and GET /api/v1/analytics/dashboard all read Home, so they show the same figures.
var (
	// HomeKPIs are the cards at the top, each beside the previous period.
	HomeKPIs = []string{
		"conversations.started", "response.first_median", "resolution.median", "response.within_target",
		"messages.sent", "messages.delivery_rate", "leads.created", "leads.won", "leads.won_value",
		"ai.share", "calls.total",
	}
	// HomeNow are the figures of the present moment beside the cards.
	HomeNow = []string{"conversations.open", "conversations.waiting", "conversations.unassigned"}
	// HomeSeries are the charts.
	HomeSeries = []string{"conversations.started", "messages.sent", "messages.inbound", "response.first_median", "leads.created"}
	// HomeTables and HomeFunnels are the breakdowns below the charts.
	HomeTables  = []string{"agents", "channels", "campaigns"}
	HomeFunnels = []string{"campaign", "cadence", "leads"}
)

// Home is the manager's dashboard of a period. A part whose figures could not be worked
// out is zero and named in Failed (the page says that part is unavailable; the others show).
type Home struct {
	Filter  Filter   `json:"-"`
	KPIs    []KPI    `json:"kpis"`
	Now     []Figure `json:"now"`
	Series  []Series `json:"series"`
	Tables  []Table  `json:"tables"`
	Funnels []Funnel `json:"funnels"`
	// Failed holds each failed part's error by part: "kpi:<key>", "now", "series:<key>",
	// "table:<name>", "funnel:<name>".
	Failed map[string]error `json:"-"`
}

// Err is the first failure of the dashboard's parts, in the order Failed names them, or nil.
func (h Home) Err() error {
	for _, part := range homeParts() {
		if err := h.Failed[part]; err != nil {
			return fmt.Errorf("analytics: %s: %w", part, err)
		}
	}
	return nil
}

func homeParts() []string {
	var out []string
	for _, k := range HomeKPIs {
		out = append(out, "kpi:"+k)
	}
	out = append(out, "now")
	for _, k := range HomeSeries {
		out = append(out, "series:"+k)
	}
	for _, n := range HomeTables {
		out = append(out, "table:"+n)
	}
	for _, n := range HomeFunnels {
		out = append(out, "funnel:"+n)
	}
	return out
}

// homeParallel is how many parts of the dashboard are worked out at once: its queries are
// independent, so one request's figures come in about the time of its slowest few parts
// rather than of all of them one after the other.
const homeParallel = 4

// Home works out the manager's dashboard, its parts side by side (the KPIs family by
// family), each rollup query once (WithMemo). It fails only when ctx ends.
func (s *Service) Home(ctx context.Context, orgID int64, f Filter) (Home, error) {
	ctx = WithMemo(ctx)
	h := Home{Filter: f, KPIs: make([]KPI, len(HomeKPIs)), Series: make([]Series, len(HomeSeries)),
		Tables: make([]Table, len(HomeTables)), Funnels: make([]Funnel, len(HomeFunnels)), Failed: map[string]error{}}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		slots = make(chan struct{}, homeParallel)
	)
	run := func(parts []string, work func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			if err := work(); err != nil {
				mu.Lock()
				for _, p := range parts {
					h.Failed[p] = err
				}
				mu.Unlock()
			}
		}()
	}
	// The KPIs of each family apart, so one family's failure leaves the others' cards.
	byFamily := map[string][]int{}
	var families []string
	for i, k := range HomeKPIs {
		d, _ := DefinitionOf(k)
		if _, ok := byFamily[d.Family]; !ok {
			families = append(families, d.Family)
		}
		byFamily[d.Family] = append(byFamily[d.Family], i)
	}
	for i, k := range HomeKPIs {
		d, _ := DefinitionOf(k)
		h.KPIs[i] = KPI{Metric: k, Unit: d.Unit, Current: Figure{Metric: k}, Previous: Figure{Metric: k}}
	}
	for _, fam := range families {
		idx := byFamily[fam]
		keys, parts := make([]string, len(idx)), make([]string, len(idx))
		for j, i := range idx {
			keys[j], parts[j] = HomeKPIs[i], "kpi:"+HomeKPIs[i]
		}
		run(parts, func() error {
			got, err := s.KPIs(ctx, orgID, f, keys)
			if err != nil {
				return err
			}
			for j, i := range idx {
				h.KPIs[i] = got[j]
			}
			return nil
		})
	}
	for i, name := range HomeTables {
		h.Tables[i].Name = name
		run([]string{"table:" + name}, func() error {
			t, err := s.Table(ctx, orgID, f, name)
			if err == nil {
				h.Tables[i] = t
			}
			return err
		})
	}
	for i, k := range HomeSeries {
		d, _ := DefinitionOf(k)
		h.Series[i] = Series{Metric: k, Unit: d.Unit, Step: StepOf(f)}
		run([]string{"series:" + k}, func() error {
			sr, err := s.Series(ctx, orgID, f, k)
			if err == nil {
				h.Series[i] = sr
			}
			return err
		})
	}
	h.Now = make([]Figure, len(HomeNow))
	for i, k := range HomeNow {
		h.Now[i] = Figure{Metric: k}
	}
	run([]string{"now"}, func() error {
		now, err := s.Figures(ctx, orgID, f, HomeNow)
		if err == nil {
			for i := range now {
				now[i].IgnoredFilters = Ignored(now[i].Metric, f)
			}
			h.Now = now
		}
		return err
	})
	for i, name := range HomeFunnels {
		h.Funnels[i].Name = name
		run([]string{"funnel:" + name}, func() error {
			fu, err := s.Funnel(ctx, orgID, f, name)
			if err == nil {
				h.Funnels[i] = fu
			}
			return err
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Home{}, err
	}
	return h, nil
}
