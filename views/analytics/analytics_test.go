package analytics_test

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"masteria/app/analytics"
	"masteria/app/i18n"
	"masteria/app/model"
	av "masteria/views/analytics"
	"masteria/views/ui"
)

func ctxFor(l i18n.Locale) context.Context {
	return ui.With(context.Background(), &ui.Request{Locale: l, Path: "/o/7/analytics", Org: &model.Org{ID: 7, Name: "Loja"},
		User: &model.User{ID: 1, Name: "Ana"}, Role: model.RoleManager})
}

// TestEveryFigureHasItsWords: each metric, table, funnel, preset and drill-down kind the
// dashboard names by a key built at run time has its words in both languages.
func TestEveryFigureHasItsWords(t *testing.T) {
	var keys []string
	for _, d := range analytics.Definitions {
		keys = append(keys, "analytics.metric."+d.Key+".name")
		if d.Drill != analytics.NoDrill {
			keys = append(keys, "analytics.drill.count."+string(d.Drill)+".one", "analytics.drill.count."+string(d.Drill)+".other")
		}
	}
	for name := range analytics.Tables {
		keys = append(keys, "analytics.table."+name, "analytics.table."+name+".row")
	}
	for name := range analytics.Funnels {
		keys = append(keys, "analytics.funnel."+name)
	}
	for _, p := range append(analytics.Presets, "custom") {
		keys = append(keys, "analytics.preset."+p)
	}
	for _, k := range keys {
		for _, l := range i18n.Supported() {
			if !i18n.Has(l, k) {
				t.Errorf("%s: no %q", l, k)
			}
		}
	}
}

func TestNiceStep(t *testing.T) {
	for _, c := range []struct {
		max  float64
		u    analytics.Unit
		want float64
	}{
		{0, analytics.Count, 1}, {3, analytics.Count, 1}, {10, analytics.Count, 5}, {37, analytics.Count, 10},
		{1234, analytics.Count, 500}, {9, analytics.Count, 5}, {0.37, analytics.Ratio, 0.1}, {1, analytics.Ratio, 0.25},
		{200, analytics.Seconds, 60}, {5400, analytics.Seconds, 1800}, {12345, analytics.Cents, 5000},
	} {
		if got := av.NiceStep(c.max, 4, c.u); got != c.want {
			t.Errorf("NiceStep(%v, %s) = %v, want %v", c.max, c.u, got, c.want)
		}
	}
}

func weekFilter(t *testing.T) analytics.Filter {
	t.Helper()
	f, err := analytics.ParseFilter(url.Values{"from": {"2026-11-01"}, "to": {"2026-11-07"}, "channel": {"4"}}, "America/Sao_Paulo", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func series(f analytics.Filter, metric string, u analytics.Unit, vals ...float64) analytics.Series {
	s := analytics.Series{Metric: metric, Unit: u, Step: "day"}
	for i, v := range vals {
		s.Points = append(s.Points, analytics.Point{Start: f.From.AddDate(0, 0, i), Value: v, Known: v >= 0})
	}
	return s
}

// TestChartDrawsEveryBucket: a bar per day, as tall as its share of the axis' top tick,
// each linking to the drill-down of its day only; a line breaks at an unknown day.
func TestChartDrawsEveryBucket(t *testing.T) {
	ctx := ctxFor(i18n.EN)
	f := weekFilter(t)
	c := av.NewChart(ctx, f, series(f, "conversations.started", analytics.Count, 0, 3, 12, 7, 0, 1, 9), "")
	if len(c.Marks) != 7 || c.Line {
		t.Fatalf("%d marks, line %v", len(c.Marks), c.Line)
	}
	if top := c.YTicks[len(c.YTicks)-1].Label; top != "15" {
		t.Errorf("top tick %q, want 15 (steps of 5 over 12)", top)
	}
	if c.Marks[0].H != 0 || c.Marks[2].H <= c.Marks[3].H || c.Marks[5].H < 1 {
		t.Errorf("bar heights %v %v %v %v", c.Marks[0].H, c.Marks[2].H, c.Marks[3].H, c.Marks[5].H)
	}
	if c.Marks[2].Value != "12" || !strings.Contains(c.Marks[2].Title, "Nov 3, 2026: 12") {
		t.Errorf("mark %+v", c.Marks[2])
	}
	u, _ := url.Parse(c.Marks[2].Href)
	if q := u.Query(); u.Path != "/o/7/analytics/drill" || q.Get("from") != "2026-11-03" || q.Get("to") != "2026-11-03" ||
		q.Get("channel") != "4" || q.Get("metric") != "conversations.started" {
		t.Errorf("point link %s", c.Marks[2].Href)
	}

	l := av.NewChart(ctx, f, series(f, "response.first_median", analytics.Seconds, 120, 200, -1, 90, 60, -1, 30), "")
	if !l.Line || strings.Count(l.Path, "M") != 3 || strings.Count(l.Path, "L") != 2 {
		t.Errorf("line path %q: want 3 pieces around the unknown days", l.Path)
	}
	if l.Marks[2].Value != "—" || l.Marks[1].Value != "3 min 20 s" {
		t.Errorf("line values %q %q", l.Marks[2].Value, l.Marks[1].Value)
	}
}

// figures reads the figures of a rendered page: part → row → col → value.
func figures(t *testing.T, page string) map[string]map[string]map[string]string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]map[string]string{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			a := map[string]string{}
			fig := false
			for _, at := range n.Attr {
				a[at.Key] = at.Val
				fig = fig || at.Key == "data-figure"
			}
			if fig {
				if out[a["data-part"]] == nil {
					out[a["data-part"]] = map[string]map[string]string{}
				}
				if out[a["data-part"]][a["data-row"]] == nil {
					out[a["data-part"]][a["data-row"]] = map[string]string{}
				}
				out[a["data-part"]][a["data-row"]][a["data-col"]] = a["data-value"]
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// TestDashboardWritesFiguresOnce: the figures on the page, the values of their data
// attributes and their text are the formatted figures, in the reader's language; an
// unavailable part says so and shows no number.
func TestDashboardWritesFiguresOnce(t *testing.T) {
	f := weekFilter(t)
	d := av.Dash{Filter: f, Action: "/o/7/analytics", Currency: "BRL",
		KPIs: []av.KPICard{
			{KPI: analytics.KPI{Metric: "conversations.started", Unit: analytics.Count,
				Current: analytics.Figure{Metric: "conversations.started", Value: 1250, Known: true}, Previous: analytics.Figure{Value: 1000, Known: true}}},
			{KPI: analytics.KPI{Metric: "response.first_median", Unit: analytics.Seconds,
				Current: analytics.Figure{Value: 200, Known: true}, Previous: analytics.Figure{Value: 100, Known: true}}},
			{KPI: analytics.KPI{Metric: "leads.won_value", Unit: analytics.Cents, Current: analytics.Figure{Value: 123456, Known: true}}},
			{KPI: analytics.KPI{Metric: "calls.total", Unit: analytics.Count}, Err: av.Unavailable},
		},
		Now:    []av.NowFigure{{Figure: analytics.Figure{Metric: "conversations.open", Value: 4, Known: true}}},
		Series: []av.SeriesPart{{Metric: "messages.sent", Series: series(f, "messages.sent", analytics.Count, 1, 2, 3, 4, 5, 6, 7)}},
		Tables: []av.TablePart{{Name: "channels", Table: analytics.Table{Name: "channels", Columns: []string{"messages.sent", "messages.delivery_rate"},
			Rows:  []analytics.Row{{Key: "4", Label: "WhatsApp", Figures: []analytics.Figure{{Value: 2000, Known: true}, {Value: 0.1249, Known: true}}}},
			Total: &analytics.Row{Figures: []analytics.Figure{{Value: 2000, Known: true}, {Value: 0.1249, Known: true}}}}}},
		Funnels: []av.FunnelPart{{Name: "leads", Funnel: analytics.Funnel{Name: "leads", Steps: []analytics.Figure{
			{Metric: "leads.created", Value: 40, Known: true}, {Metric: "leads.won", Value: 10, Known: true}}}}},
	}
	var b bytes.Buffer
	if err := av.Figures(d).Render(ctxFor(i18n.PTBR), &b); err != nil {
		t.Fatal(err)
	}
	got := figures(t, b.String())
	want := map[string]string{
		"kpis/conversations.started/value":        "1.250",
		"kpis/conversations.started/change":       "+25,0%",
		"kpis/conversations.started/previous":     "1.000",
		"kpis/response.first_median/value":        "3 min 20 s",
		"kpis/response.first_median/change":       "+100,0%",
		"kpis/leads.won_value/value":              "R$ 1.234,56",
		"kpis/leads.won_value/previous":           "—",
		"kpis/conversations.open/value":           "4",
		"series:messages.sent/6/value":            "7",
		"table:channels/0/messages.sent":          "2.000",
		"table:channels/0/messages.delivery_rate": "12,5%",
		"table:channels/total/messages.sent":      "2.000",
		"funnel:leads/1/value":                    "10",
		"funnel:leads/1/rate":                     "25,0%",
	}
	for k, v := range want {
		p := strings.SplitN(k, "/", 3)
		if g := got[p[0]][p[1]][p[2]]; g != v {
			t.Errorf("%s = %q, want %q", k, g, v)
		}
	}
	if _, ok := got["kpis"]["calls.total"]; ok {
		t.Error("an unavailable KPI shows a figure")
	}
	page := b.String()
	for _, s := range []string{"Números indisponíveis agora.", `class="kpi-change trend-up is-bad"`, `class="kpi-change trend-up is-good"`,
		"<title>", "<desc", `href="/o/7/analytics/drill?`, `data-testid="export-kpis"`} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
}
