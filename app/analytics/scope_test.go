package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

// CheckNarrowing checks what family declares it follows against its figures in org: set
// turns each filter of FilterNames on over base (with a value that narrows some family of
// the fixture). A filter the family follows changes one of its figures at least; a filter
// it does not follow leaves every figure, series, table and funnel of it as it was, and the
// answers name it in their IgnoredFilters. (Exported for the conversations fixture's test.)
func CheckNarrowing(t *testing.T, s *Service, orgID int64, base Filter, family string, set map[string]func(*Filter)) {
	t.Helper()
	ctx := context.Background()
	var keys []string
	for _, d := range Definitions {
		if d.Family == family {
			keys = append(keys, d.Key)
		}
	}
	var tables, funnels []string
	for name, fam := range Tables {
		if fam == family {
			tables = append(tables, name)
		}
	}
	for name, fam := range Funnels {
		if fam == family {
			funnels = append(funnels, name)
		}
	}
	slices.Sort(tables)
	slices.Sort(funnels)
	// read is every answer of the family under f, each written as JSON without the names
	// of the filters left aside (those differ by design).
	read := func(f Filter) map[string]string {
		t.Helper()
		out := map[string]string{}
		put := func(part string, v any) {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			out[part] = string(b)
		}
		kpis, err := s.KPIs(ctx, orgID, f, keys)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range kpis {
			if want := Ignored(k.Metric, f); !slices.Equal(k.IgnoredFilters, want) {
				t.Errorf("%s under %s: ignored_filters %v, want %v", k.Metric, f, k.IgnoredFilters, want)
			}
			put("figure:"+k.Metric, k.Current)
			d, _ := DefinitionOf(k.Metric)
			if d.Now {
				continue
			}
			sr, err := s.Series(ctx, orgID, f, k.Metric)
			if err != nil {
				t.Fatal(err)
			}
			sr.IgnoredFilters = nil
			put("series:"+k.Metric, sr)
		}
		for _, name := range tables {
			tb, err := s.Table(ctx, orgID, f, name)
			if err != nil {
				t.Fatal(err)
			}
			if want := TableIgnores(name, f); !slices.Equal(tb.IgnoredFilters, want) {
				t.Errorf("table %s under %s: ignored_filters %v, want %v", name, f, tb.IgnoredFilters, want)
			}
			tb.IgnoredFilters = nil
			put("table:"+name, tb)
		}
		for _, name := range funnels {
			fu, err := s.Funnel(ctx, orgID, f, name)
			if err != nil {
				t.Fatal(err)
			}
			if want := FunnelIgnores(name, f); !slices.Equal(fu.IgnoredFilters, want) {
				t.Errorf("funnel %s under %s: ignored_filters %v, want %v", name, f, fu.IgnoredFilters, want)
			}
			fu.IgnoredFilters = nil
			put("funnel:"+name, fu)
		}
		return out
	}
	before := read(base)
	for _, name := range FilterNames {
		on, ok := set[name]
		if !ok {
			t.Fatalf("%s: no value for the filter %s", family, name)
		}
		f := base
		on(&f)
		if got := f.InForce(); !slices.Equal(got, []string{name}) {
			t.Fatalf("%s: the value for %s puts %v in force", family, name, got)
		}
		after := read(f)
		changed := false
		for _, k := range keys {
			d, _ := DefinitionOf(k)
			part := "figure:" + k
			differs := before[part] != after[part] || before["series:"+k] != after["series:"+k]
			switch {
			case follows(d, name):
				changed = changed || before[part] != after[part]
				if slices.Contains(Ignored(k, f), name) {
					t.Errorf("%s follows %s but Ignored names it", k, name)
				}
			case differs:
				t.Errorf("%s is declared not to follow %s, but %s: %s became %s", k, name, family, before[part], after[part])
			}
		}
		declared := slices.Contains(familyNarrows[family], name) || (name == FilterBusinessHours && anyKey(keys, func(k string) bool { return businessHoursKeys[k] }))
		if declared && !changed {
			t.Errorf("%s is declared to follow %s, but none of its figures changed with it", family, name)
		}
		if !declared { // business hours change the agents table's times: declared for the family
			for _, part := range append(prefixed("table:", tables), prefixed("funnel:", funnels)...) {
				if before[part] != after[part] {
					t.Errorf("%s is declared not to follow %s, but its %s changed:\n%s\n%s", family, name, part, before[part], after[part])
				}
			}
		}
	}
}

func anyKey(keys []string, ok func(string) bool) bool {
	return slices.ContainsFunc(keys, ok)
}

func prefixed(p string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = p + n
	}
	return out
}

// TestFiltersNarrowAsDeclared: the leads, campaigns, cadences and calls families follow
// the filters they declare, and no other (the messages and conversations families' test is
// TestConversationFiltersNarrowAsDeclared, on their fixture).
func TestFiltersNarrowAsDeclared(t *testing.T) {
	x := newCRMFixture(t)
	base := x.filter(t, "America/Sao_Paulo", period)
	set := map[string]func(*Filter){
		FilterChannel:       func(f *Filter) { f.ChannelID = x.ch1 },
		FilterAgent:         func(f *Filter) { f.AgentID = x.u1 },
		FilterCampaign:      func(f *Filter) { f.CampaignID = x.c1 },
		FilterPipeline:      func(f *Filter) { f.PipelineID = x.p1 },
		FilterLabel:         func(f *Filter) { f.Label = "vip" },
		FilterBusinessHours: func(f *Filter) { f.BusinessHours = true },
	}
	for _, fam := range []string{"leads", "campaigns", "cadences", "calls"} {
		t.Run(fam, func(t *testing.T) { CheckNarrowing(t, x.s, x.a, base, fam, set) })
	}
}

// TestIgnored: the names of the filters in force a figure does not follow; business hours
// only for a time that is not measured in them.
func TestIgnored(t *testing.T) {
	all := Filter{ChannelID: 1, AgentID: 2, CampaignID: 3, PipelineID: 4, Label: "vip", BusinessHours: true}
	for _, c := range []struct {
		key  string
		f    Filter
		want []string
	}{
		{"messages.sent", Filter{}, nil},
		{"messages.sent", Filter{Label: "vip", BusinessHours: true}, nil},
		{"messages.sent", all, []string{"pipeline"}},
		{"response.first_median", all, []string{"pipeline"}},
		{"leads.created", Filter{Label: "vip"}, []string{"label"}},
		{"leads.created", all, []string{"channel", "campaign", "label"}},
		{"campaign.sent", all, []string{"agent", "pipeline", "label"}},
		{"cadence.enrolled", all, []string{"channel", "agent", "campaign", "pipeline", "label"}},
		{"calls.total", all, []string{"channel", "agent", "pipeline", "label"}},
		{"calls.duration_avg", all, []string{"channel", "agent", "pipeline", "label", "business_hours"}},
		{"calls.duration_avg", Filter{CampaignID: 3}, nil},
		{"no.such", all, nil},
	} {
		if got := Ignored(c.key, c.f); !slices.Equal(got, c.want) {
			t.Errorf("Ignored(%s, %s) = %v, want %v", c.key, c.f.Query().Encode(), got, c.want)
		}
	}
	if got := TableIgnores("stages", all); !slices.Equal(got, []string{"channel", "campaign", "label"}) {
		t.Errorf("stages table ignores %v", got)
	}
	if got := FunnelIgnores("cadence", Filter{BusinessHours: true}); got != nil {
		t.Errorf("cadence funnel under business hours ignores %v", got)
	}
	if got := fmt.Sprint(NarrowedBy("response.within_target")); got != "[channel agent campaign label business_hours]" {
		t.Errorf("response.within_target is narrowed by %s", got)
	}
}
