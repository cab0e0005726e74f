// Package analytics renders the manager's dashboard (the org's home for managers and up,
// and /o/{org}/analytics) and the drill-down list behind each of its figures. Every figure
// is written by analytics.Format, the function the CSV exports write with, so a file reads
// exactly as the screen.
package analytics

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"masteria/app/analytics"
	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/views/ui"
)

// Option is one choice of a filter's select.
type Option struct {
	Value, Label string
}

// Options are the choices of the filter bar, from the org's own rows.
type Options struct {
	Channels, Agents, Campaigns, Pipelines []Option
	Labels                                 []string
}

// name is the label of the option of value v ("" when none).
func name(opts []Option, v int64) string {
	s := strconv.FormatInt(v, 10)
	for _, o := range opts {
		if o.Value == s {
			return o.Label
		}
	}
	return ""
}

// KPICard is one card: the KPI, or Err (an i18n key) when its figures are unavailable.
type KPICard struct {
	KPI analytics.KPI
	Err string
}

// NowFigure is one figure of the present moment.
type NowFigure struct {
	Figure analytics.Figure
	Err    string
}

// SeriesPart is one chart.
type SeriesPart struct {
	Metric string
	Series analytics.Series
	Err    string
}

// TablePart is one breakdown.
type TablePart struct {
	Name  string
	Table analytics.Table
	Err   string
}

// FunnelPart is one funnel.
type FunnelPart struct {
	Name   string
	Funnel analytics.Funnel
	Err    string
}

// Dash is what the dashboard shows: the filter, its choices, and each part of
// analytics.Home on its own, so a part whose figures are unavailable says so and the others
// still show.
type Dash struct {
	Filter analytics.Filter
	// Action is the page the filter form sends to (the org's home or /analytics).
	Action   string
	Options  Options
	Currency string
	// ErrField and Err are a refused filter (Err an i18n key): the page says why and shows
	// no figures.
	ErrField, Err string
	KPIs          []KPICard
	Now           []NowFigure
	Series        []SeriesPart
	Tables        []TablePart
	Funnels       []FunnelPart
}

// Unavailable is the text of a part whose figures cannot be worked out.
const Unavailable = "analytics.unavailable"

// MetricName is a metric's name in the reader's language.
func MetricName(ctx context.Context, key string) string {
	return ui.T(ctx, "analytics.metric."+key+".name")
}

// Fmt writes a figure of metric as the dashboard shows it (analytics.Format).
func Fmt(ctx context.Context, f analytics.Figure, currency string) string {
	d, _ := analytics.DefinitionOf(f.Metric)
	return analytics.Format(ui.From(ctx).Locale, d.Unit, f, currency)
}

// FmtUnit writes a figure of unit u.
func FmtUnit(ctx context.Context, u analytics.Unit, f analytics.Figure, currency string) string {
	return analytics.Format(ui.From(ctx).Locale, u, f, currency)
}

// ChangeText is a KPI's change against the previous period: "+12.5%" or "—".
func ChangeText(ctx context.Context, k analytics.KPI) string {
	c, ok := analytics.Change(k)
	return analytics.FormatChange(ui.From(ctx).Locale, c, ok)
}

// DrillURL is the drill-down of metric (row: one row of a table, "" for the whole figure)
// under filter f.
func DrillURL(ctx context.Context, f analytics.Filter, metric, row string) string {
	q := f.Query()
	q.Set("metric", metric)
	if row != "" {
		q.Set("row", row)
	}
	return ui.OrgURL(ctx, "/analytics/drill?"+q.Encode())
}

// ExportURL is the CSV of part ("kpis", "series:<metric>", "table:<name>",
// "funnel:<name>") under filter f.
func ExportURL(ctx context.Context, f analytics.Filter, part string) string {
	q := f.Query()
	q.Set("part", part)
	return ui.OrgURL(ctx, "/analytics/export?"+q.Encode())
}

// DefinitionURL is where the definitions page says how metric is counted.
func DefinitionURL(ctx context.Context, metric string) string {
	return ui.OrgURL(ctx, "/analytics/definitions#metric-"+strings.NewReplacer(".", "-", "_", "-").Replace(metric))
}

// PageURL is the dashboard under filter f at path (the org's home or /analytics).
func PageURL(action string, f analytics.Filter) string {
	return action + "?" + f.Query().Encode()
}

// BucketLabel writes a bucket's start as an axis shows it: "14:00" for an hour, "Nov 3" or
// "03/11" for a day or a week.
func BucketLabel(l i18n.Locale, start time.Time, step string) string {
	switch {
	case step == "hour":
		return start.Format("15:04")
	case l == i18n.PTBR:
		return start.Format("02/01")
	}
	return start.Format("Jan 2")
}

// BucketName writes a bucket in full for a tooltip or a CSV: "Nov 3, 2026 14:00",
// "Nov 3, 2026", "week of Nov 3, 2026".
func BucketName(ctx context.Context, start time.Time, step string) string {
	l := ui.From(ctx).Locale
	switch step {
	case "hour":
		return i18n.FormatTime(l, start)
	case "week":
		return ui.T(ctx, "analytics.week_of", "date", i18n.FormatDate(l, start))
	}
	return i18n.FormatDate(l, start)
}

// PeriodText is the filter's period in words: "Nov 1, 2026 – Nov 30, 2026", or a single
// day, or a day's hour.
func PeriodText(ctx context.Context, f analytics.Filter) string {
	l := ui.From(ctx).Locale
	if f.InHour {
		return i18n.FormatTime(l, f.From) + "–" + f.To.Format("15:04")
	}
	last := f.To.AddDate(0, 0, -1)
	if !last.After(f.From) {
		return i18n.FormatDate(l, f.From)
	}
	return i18n.FormatDate(l, f.From) + " – " + i18n.FormatDate(l, last)
}

// FilterText is what narrows the filter beyond its period, in words: "WhatsApp · Ana".
func FilterText(ctx context.Context, f analytics.Filter, o Options) []string {
	var out []string
	add := func(kind string, opts []Option, id int64) {
		if id == 0 {
			return
		}
		n := name(opts, id)
		if n == "" {
			n = "#" + strconv.FormatInt(id, 10)
		}
		out = append(out, ui.T(ctx, "analytics.filter."+kind)+": "+n)
	}
	add("channel", o.Channels, f.ChannelID)
	add("agent", o.Agents, f.AgentID)
	add("campaign", o.Campaigns, f.CampaignID)
	add("pipeline", o.Pipelines, f.PipelineID)
	if f.Label != "" {
		out = append(out, ui.T(ctx, "analytics.filter.label")+": "+f.Label)
	}
	if f.BusinessHours {
		out = append(out, ui.T(ctx, "analytics.filter.business_hours"))
	}
	return out
}

func idStr(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

func dateValue(t time.Time) string { return t.Format(time.DateOnly) }

func lastDayValue(f analytics.Filter) string {
	if f.InHour {
		return f.From.Format(time.DateOnly)
	}
	return f.To.AddDate(0, 0, -1).Format(time.DateOnly)
}

// errOn is the error key of field, if the refused filter was about it.
func (d Dash) errOn(field string) string {
	if d.ErrField == field {
		return d.Err
	}
	return ""
}

// figureKnown tells whether some figure of the dashboard is there to show.
func (d Dash) empty() bool { return d.Err != "" }

// Drill is the list behind one figure.
type Drill struct {
	Filter  analytics.Filter
	Options Options
	Def     analytics.Definition
	Row     string // the table row it narrows to ("" for the whole figure)
	// RowLabel names the row when it is an agent, a channel or a campaign of the filter's
	// choices.
	RowLabel string
	Page     analytics.DrillPage
	After    string // the cursor this page starts after ("" for the first page)
	Currency string
	Err      string // i18n key of a refused request (422)
}

// MoreURL is the next page of the list.
func (d Drill) MoreURL(ctx context.Context) string {
	q := d.Filter.Query()
	q.Set("metric", d.Def.Key)
	if d.Row != "" {
		q.Set("row", d.Row)
	}
	q.Set("after", d.Page.Next)
	return ui.OrgURL(ctx, "/analytics/drill?"+q.Encode())
}

// CSVURL is the list's CSV.
func (d Drill) CSVURL(ctx context.Context) string {
	q := d.Filter.Query()
	q.Set("part", "drill")
	q.Set("metric", d.Def.Key)
	if d.Row != "" {
		q.Set("row", d.Row)
	}
	return ui.OrgURL(ctx, "/analytics/export?"+q.Encode())
}

// BackURL is the dashboard under the same filter.
func (d Drill) BackURL(ctx context.Context) string {
	return ui.OrgURL(ctx, "/analytics?"+d.Filter.Query().Encode())
}

// CountText says what the list holds: "42 conversations".
func CountText(ctx context.Context, kind analytics.Drill, n int64) string {
	return ui.N(ctx, "analytics.drill.count."+string(kind), int(n), "count", i18n.FormatInt(ui.From(ctx).Locale, n))
}

// ItemValue writes a row's own part of the figure (a response time, a lead's value), or ""
// when the metric's rows carry none.
func ItemValue(ctx context.Context, d Drill, it analytics.DrillItem) string {
	if it.Value == 0 || d.Def.Unit == analytics.Count || d.Def.Unit == analytics.Ratio {
		return ""
	}
	return analytics.FormatValue(ui.From(ctx).Locale, d.Def.Unit, it.Value, analytics.CurrencyOf(d.Def.Key, d.Currency))
}

// ItemPath is the row's page in the app ("" when it has none).
func ItemPath(ctx context.Context, it analytics.DrillItem) string {
	if it.Path == "" {
		return ""
	}
	return ui.OrgURL(ctx, it.Path)
}

// presetLabel is a preset's name.
func presetLabel(ctx context.Context, p string) string { return ui.T(ctx, "analytics.preset."+p) }

// mayDefinitions tells whether to link the definitions page (every manager may read it).
func mayDefinitions(ctx context.Context) bool { return ui.May(ctx, model.ViewAnalytics) }

// RowLabel names a table's row: its label, else its key, else "—" (an unassigned agent).
func RowLabel(ctx context.Context, r analytics.Row) string {
	switch {
	case r.Label != "":
		return r.Label
	case r.Key != "" && r.Key != "0":
		return r.Key
	}
	return ui.T(ctx, "analytics.none")
}

// ScopeNote is the line that says which filters in force a figure does not follow, in the
// reader's language: "Not narrowed by channel or label"; "" when it follows them all.
func ScopeNote(ctx context.Context, ignored []string) string {
	if len(ignored) == 0 {
		return ""
	}
	return ui.T(ctx, "analytics.scope.ignored", "filters", FilterNames(ctx, ignored, "analytics.scope.or"))
}

// FilterNames joins the names of filters in words: "label", "channel or label",
// "channel, agent or label" (conj is the i18n key of the last joining word).
func FilterNames(ctx context.Context, names []string, conj string) string {
	words := make([]string, len(names))
	for i, n := range names {
		words[i] = ui.T(ctx, "analytics.scope."+n)
	}
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + ui.T(ctx, conj) + " " + words[len(words)-1]
}

// nowIgnored are the filters in force that the figures of the present moment do not follow
// (they are one family's: one line says it for them all).
func nowIgnored(d Dash) []string {
	var out []string
	for _, n := range d.Now {
		for _, name := range analytics.Ignored(n.Figure.Metric, d.Filter) {
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}
