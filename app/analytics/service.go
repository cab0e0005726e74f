package analytics

import (
	"context"
	"fmt"
	"time"

	"masteria/app/model"
	"masteria/app/store"
)

// family computes the metrics of one part of the product (messages, conversations,
// leads, campaigns, cadences, calls) from its rollups. Each lives in its own file and is
// registered in New; the Service routes every metric key to the family of its Definition.
type family interface {
	// figures are the period's figures of these keys (all of this family).
	figures(ctx context.Context, orgID int64, f Filter, keys []string) (map[string]Figure, error)
	// series is one key over the period, bucket by bucket of step.
	series(ctx context.Context, orgID int64, f Filter, key, step string) (Series, error)
	// drill is one page of the rows behind a figure of key; row narrows it to one row of a
	// table (an agent's id, a channel's id, a stage's id…; "" for the whole figure).
	drill(ctx context.Context, orgID int64, f Filter, key, row, after string, limit int) (DrillPage, error)
	// table is one of the family's breakdowns (Tables names them); funnel one of its funnels.
	table(ctx context.Context, orgID int64, f Filter, name string) (Table, error)
	funnel(ctx context.Context, orgID int64, f Filter, name string) (Funnel, error)
}

// Tables are the breakdowns, by name, with the family that computes each: a row's Key is
// what a drill-down's row narrows to.
var Tables = map[string]string{
	"agents":    "conversations", // per agent: conversations, replies, first response, resolution, within target
	"channels":  "messages",      // per channel: sent, delivered, read, failed and their rates, inbound
	"stages":    "leads",         // per stage of a pipeline: leads in, moved on, conversion to the next
	"campaigns": "campaigns",     // per campaign: its funnel
	"cadences":  "cadences",      // per cadence: its funnel
}

// Funnels are the funnels, by name, with the family that computes each.
var Funnels = map[string]string{
	"campaign": "campaigns", // sent → delivered → read → replied → lead → won
	"cadence":  "cadences",  // enrolled → replied → completed
	"leads":    "leads",     // created → moved past the first stage → won
}

// Service is the metric engine.
type Service struct {
	st       *store.Store
	families map[string]family
	rollups  map[string]rollup
	// OnChange, when set, is told of each org whose figures a catch-up changed (the app
	// sends its pages a signal to refresh).
	OnChange func(ctx context.Context, orgID int64)
}

// New builds the engine over the store.
func New(st *store.Store) *Service {
	s := &Service{st: st, families: map[string]family{}, rollups: map[string]rollup{}}
	s.register("messages", &messagesFamily{st: st})
	s.addRollup(messageHours{})
	s.register("conversations", &conversationsFamily{st: st})
	s.addRollup(cases{})
	newLeads(s)
	newCampaigns(s)
	newCadences(s)
	newCalls(s)
	return s
}

// register adds the family of name (each family's constructor calls it from New).
func (s *Service) register(name string, fam family) { s.families[name] = fam }

func (s *Service) familyOf(key string) (family, Definition, error) {
	d, ok := DefinitionOf(key)
	if !ok {
		return nil, Definition{}, model.FieldError("metric", "analytics.error.metric")
	}
	fam, ok := s.families[d.Family]
	if !ok {
		return nil, d, fmt.Errorf("analytics: no family %q for %s", d.Family, key)
	}
	return fam, d, nil
}

// Figures are the period's figures of keys, in their order.
func (s *Service) Figures(ctx context.Context, orgID int64, f Filter, keys []string) ([]Figure, error) {
	byFamily := map[string][]string{}
	for _, k := range keys {
		_, d, err := s.familyOf(k)
		if err != nil {
			return nil, err
		}
		byFamily[d.Family] = append(byFamily[d.Family], k)
	}
	got := map[string]Figure{}
	for name, ks := range byFamily {
		figs, err := s.families[name].figures(ctx, orgID, f, ks)
		if err != nil {
			return nil, err
		}
		for k, v := range figs {
			got[k] = v
		}
	}
	out := make([]Figure, len(keys))
	for i, k := range keys {
		out[i] = got[k]
		out[i].Metric = k
	}
	return out, nil
}

// KPIs are the figures of keys in the period beside the previous period's.
func (s *Service) KPIs(ctx context.Context, orgID int64, f Filter, keys []string) ([]KPI, error) {
	// The two periods side by side: independent queries.
	var prev []Figure
	var prevErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		prev, prevErr = s.Figures(ctx, orgID, f.Previous(), keys)
	}()
	cur, err := s.Figures(ctx, orgID, f, keys)
	<-done
	if err != nil {
		return nil, err
	}
	if prevErr != nil {
		return nil, prevErr
	}
	out := make([]KPI, len(keys))
	for i, k := range keys {
		d, _ := DefinitionOf(k)
		out[i] = KPI{Metric: k, Unit: d.Unit, Current: cur[i], Previous: prev[i], IgnoredFilters: Ignored(k, f)}
		if d.Now {
			out[i].Previous = Figure{Metric: k}
		}
	}
	return out, nil
}

// StepOf is the bucket of a period's series: hours for a day, days up to 92 days, weeks
// beyond.
func StepOf(f Filter) string {
	switch days := f.Days(); {
	case days <= 1:
		return "hour"
	case days <= 92:
		return "day"
	default:
		return "week"
	}
}

// Series is one metric over the period.
func (s *Service) Series(ctx context.Context, orgID int64, f Filter, key string) (Series, error) {
	fam, d, err := s.familyOf(key)
	if err != nil {
		return Series{}, err
	}
	if d.Now {
		return Series{}, model.FieldError("metric", "analytics.error.no_series")
	}
	sr, err := fam.series(ctx, orgID, f, key, StepOf(f))
	sr.IgnoredFilters = Ignored(key, f)
	return sr, err
}

// Table is one breakdown of the period (see Tables).
func (s *Service) Table(ctx context.Context, orgID int64, f Filter, name string) (Table, error) {
	fam, ok := s.families[Tables[name]]
	if !ok {
		return Table{}, model.FieldError("table", "analytics.error.table")
	}
	t, err := fam.table(ctx, orgID, f, name)
	t.Name, t.IgnoredFilters = name, TableIgnores(name, f)
	return t, err
}

// Funnel is one funnel of the period (see Funnels).
func (s *Service) Funnel(ctx context.Context, orgID int64, f Filter, name string) (Funnel, error) {
	fam, ok := s.families[Funnels[name]]
	if !ok {
		return Funnel{}, model.FieldError("funnel", "analytics.error.funnel")
	}
	fu, err := fam.funnel(ctx, orgID, f, name)
	fu.Name, fu.IgnoredFilters = name, FunnelIgnores(name, f)
	return fu, err
}

// MaxDrill is the most rows a drill-down page has.
const MaxDrill = 200

// Drill is one page of the rows behind a figure (see family.drill).
func (s *Service) Drill(ctx context.Context, orgID int64, f Filter, key, row, after string, limit int) (DrillPage, error) {
	fam, d, err := s.familyOf(key)
	if err != nil {
		return DrillPage{}, err
	}
	if d.Drill == NoDrill {
		return DrillPage{}, model.FieldError("metric", "analytics.error.no_drill")
	}
	if limit <= 0 || limit > MaxDrill {
		limit = 50
	}
	page, err := fam.drill(ctx, orgID, f, key, row, after, limit)
	if err != nil {
		return DrillPage{}, err
	}
	page.Metric, page.Kind, page.IgnoredFilters = key, d.Drill, Ignored(key, f)
	return page, nil
}

// buckets are the starts of the buckets of step over the period, in the filter's zone.
func buckets(f Filter, step string) []time.Time {
	var out []time.Time
	for t := f.From; t.Before(f.To); {
		out = append(out, t)
		switch step {
		case "hour":
			t = t.Add(time.Hour)
		case "week":
			t = t.AddDate(0, 0, 7)
		default:
			t = t.AddDate(0, 0, 1)
		}
	}
	return out
}
