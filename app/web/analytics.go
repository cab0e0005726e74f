package web

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"masteria/app/analytics"
	"masteria/app/csvout"
	"masteria/app/i18n"
	"masteria/app/model"
	av "masteria/views/analytics"
	"masteria/views/ui"
)

// analyticsRoutes mount the manager's dashboard, the list behind each figure and their CSV
// exports: managers and up.
func (s *Server) analyticsRoutes(o *echo.Group) {
	g := o.Group("/analytics", requireMay(model.ViewAnalytics))
	g.GET("", s.analyticsPage)
	g.GET("/drill", s.analyticsDrill)
	g.GET("/export", s.analyticsExport)
}

// maxParam is the longest value of a dashboard parameter (a label is at most 64 bytes, a
// drill-down cursor is short): longer is refused, not cut.
const maxParam = 200

// analyticsQuery checks the request's parameters: only the filter's and extra, each once
// and short. The filter form sends its period select beside its dates: a preset wins over
// the dates (they show the preset's days), "custom" takes the dates (form true only).
func analyticsQuery(c echo.Context, form bool, extra ...string) (url.Values, error) {
	q := c.QueryParams()
	for k, vs := range q {
		if !analytics.FilterParams(k) && !slices.Contains(extra, k) {
			return nil, model.FieldError(k, "analytics.error.param")
		}
		if len(vs) > 1 {
			return nil, model.FieldError(k, "analytics.error.param_twice")
		}
		if len(vs[0]) > maxParam || !utf8.ValidString(vs[0]) || strings.ContainsRune(vs[0], 0) {
			return nil, model.FieldError(k, "analytics.error.value")
		}
	}
	if form {
		q = cloneValues(q)
		switch p := q.Get("period"); {
		case p == "custom":
			q.Del("period")
		case p != "":
			q.Del("from")
			q.Del("to")
		}
		for k, vs := range q { // an empty select is "all"
			if len(vs) == 1 && vs[0] == "" {
				q.Del(k)
			}
		}
	}
	return q, nil
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, vs := range q {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// analyticsFilter reads the filter in the org's zone and checks that the ids it names are
// the org's own: another org's channel (or agent, campaign, pipeline) is refused as unknown,
// never counted as nothing.
func (s *Server) analyticsFilter(c echo.Context, q url.Values, opts av.Options) (analytics.Filter, error) {
	ctx := c.Request().Context()
	orgID := reqOf(c).Org.ID
	zone, err := s.st.OrgTimeZone(ctx, orgID)
	if err != nil {
		return analytics.Filter{}, err
	}
	f, err := analytics.ParseFilter(q, zone, time.Now())
	if err != nil {
		return f, err
	}
	has := func(list []av.Option, id int64) bool {
		v := strconv.FormatInt(id, 10)
		for _, o := range list {
			if o.Value == v {
				return true
			}
		}
		return false
	}
	switch {
	case f.ChannelID != 0 && !has(opts.Channels, f.ChannelID):
		return f, model.FieldError("channel", "analytics.error.unknown_channel")
	case f.AgentID != 0 && !has(opts.Agents, f.AgentID):
		return f, model.FieldError("agent", "analytics.error.unknown_agent")
	case f.PipelineID != 0 && !has(opts.Pipelines, f.PipelineID):
		return f, model.FieldError("pipeline", "analytics.error.unknown_pipeline")
	}
	if f.CampaignID != 0 {
		if _, err := s.st.Campaign(ctx, orgID, f.CampaignID); errors.Is(err, model.ErrNotFound) {
			return f, model.FieldError("campaign", "analytics.error.unknown_campaign")
		} else if err != nil {
			return f, err
		}
	}
	return f, nil
}

// dashCampaigns is how many of the newest campaigns the campaign filter offers.
const dashCampaigns = 100

// analyticsOptions are the filter bar's choices: the org's channels, members, newest
// campaigns, pipelines and labels in use.
func (s *Server) analyticsOptions(ctx context.Context, orgID int64) (av.Options, string, error) {
	var o av.Options
	chs, err := s.inbox.Channels(ctx, orgID)
	if err != nil {
		return o, "", err
	}
	for _, ch := range chs {
		o.Channels = append(o.Channels, av.Option{Value: strconv.FormatInt(ch.ID, 10), Label: ch.Name})
	}
	ms, err := s.acct.Members(ctx, orgID)
	if err != nil {
		return o, "", err
	}
	for _, m := range ms {
		o.Agents = append(o.Agents, av.Option{Value: strconv.FormatInt(m.UserID, 10), Label: m.UserName})
	}
	cs, err := s.st.Campaigns(ctx, orgID, 0, dashCampaigns)
	if err != nil {
		return o, "", err
	}
	for _, c := range cs {
		o.Campaigns = append(o.Campaigns, av.Option{Value: strconv.FormatInt(c.ID, 10), Label: c.Name})
	}
	ps, err := s.board.Pipelines(ctx, orgID)
	if err != nil {
		return o, "", err
	}
	currencies := map[string]bool{}
	for _, p := range ps {
		o.Pipelines = append(o.Pipelines, av.Option{Value: strconv.FormatInt(p.ID, 10), Label: p.Name})
		currencies[p.Currency] = true
	}
	currency := ""
	if len(currencies) == 1 {
		for c := range currencies {
			currency = c
		}
	}
	if o.Labels, err = s.st.LabelsInUse(ctx, orgID); err != nil {
		return o, "", err
	}
	return o, currency, nil
}

// dashboard is what the dashboard shows for a query: the filter, its choices and each
// part of analytics.Home. A refused filter is d.Err (the caller answers 422).
func (s *Server) dashboard(c echo.Context, action string) (av.Dash, error) {
	ctx := c.Request().Context()
	orgID := reqOf(c).Org.ID
	d := av.Dash{Action: action}
	var err error
	if d.Options, d.Currency, err = s.analyticsOptions(ctx, orgID); err != nil {
		return d, err
	}
	q, err := analyticsQuery(c, true)
	if err == nil {
		d.Filter, err = s.analyticsFilter(c, q, d.Options)
	}
	var v *model.ValidationError
	if errors.As(err, &v) {
		d.ErrField = v.Order()[0]
		d.Err = v.Fields[d.ErrField]
		if d.Filter.Zone == nil { // show the default period in the form
			d.Filter, _ = s.analyticsFilter(c, url.Values{}, d.Options)
		}
		return d, nil
	}
	if err != nil {
		return d, err
	}
	d.Currency = s.currencyOf(ctx, orgID, d.Filter, d.Currency)
	return d, s.dashParts(ctx, orgID, &d)
}

// currencyOf is the currency money figures are in: the filter's pipeline's, else the one
// all the org's pipelines share ("" when unknown: the real).
func (s *Server) currencyOf(ctx context.Context, orgID int64, f analytics.Filter, orgCurrency string) string {
	if f.PipelineID != 0 {
		if p, err := s.st.Pipeline(ctx, orgID, f.PipelineID); err == nil && p.Currency != "" {
			return p.Currency
		}
	}
	return orgCurrency
}

// partFailed tells what to do with a part's error: the filter was checked before, so
// anything but a request that ended makes that part say its figures are unavailable
// (logged), and one part cannot take the whole dashboard down.
func partFailed(ctx context.Context, part string, err error) (string, error) {
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return "", err
	}
	slog.Warn("analytics part unavailable", "part", part, "err", err)
	return av.Unavailable, nil
}

// dashParts puts analytics.Home, what the API's dashboard answers too, on the page: a
// part whose figures could not be worked out says so (logged), the others show.
func (s *Server) dashParts(ctx context.Context, orgID int64, d *av.Dash) error {
	h, err := s.analytics.Home(ctx, orgID, d.Filter)
	if err != nil {
		return err
	}
	failed := func(part string) string {
		err := h.Failed[part]
		if err == nil {
			return ""
		}
		key, _ := partFailed(ctx, part, err)
		return key
	}
	for _, k := range h.KPIs {
		d.KPIs = append(d.KPIs, av.KPICard{KPI: k, Err: failed("kpi:" + k.Metric)})
	}
	nowErr := failed("now")
	for _, f := range h.Now {
		d.Now = append(d.Now, av.NowFigure{Figure: f, Err: nowErr})
	}
	for _, sr := range h.Series {
		d.Series = append(d.Series, av.SeriesPart{Metric: sr.Metric, Series: sr, Err: failed("series:" + sr.Metric)})
	}
	for _, t := range h.Tables {
		d.Tables = append(d.Tables, av.TablePart{Name: t.Name, Table: t, Err: failed("table:" + t.Name)})
	}
	for _, fu := range h.Funnels {
		d.Funnels = append(d.Funnels, av.FunnelPart{Name: fu.Name, Funnel: fu, Err: failed("funnel:" + fu.Name)})
	}
	return nil
}

// analyticsPage is GET /o/{org}/analytics.
func (s *Server) analyticsPage(c echo.Context) error {
	d, err := s.dashboard(c, ui.OrgURL(c.Request().Context(), "/analytics"))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if d.Err != "" {
		status = http.StatusUnprocessableEntity
	}
	return render(c, status, av.Page(d), av.Dashboard(d))
}

// analyticsDrill is GET /o/{org}/analytics/drill?metric=…&row=…&after=…&<filter>: the
// rows behind one figure, a page at a time.
func (s *Server) analyticsDrill(c echo.Context) error {
	ctx := c.Request().Context()
	orgID := reqOf(c).Org.ID
	d := av.Drill{}
	var err error
	if d.Options, d.Currency, err = s.analyticsOptions(ctx, orgID); err != nil {
		return err
	}
	d.Page, err = s.drillPage(c, &d)
	var v *model.ValidationError
	if errors.As(err, &v) {
		d.Err = v.Fields[v.Order()[0]]
		if d.Filter.Zone == nil {
			d.Filter.Zone = time.UTC
		}
		return render(c, http.StatusUnprocessableEntity, av.DrillPage(d), nil)
	}
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, av.DrillPage(d), nil)
}

// drillPage reads a drill-down request into d and returns its page.
func (s *Server) drillPage(c echo.Context, d *av.Drill) (analytics.DrillPage, error) {
	ctx := c.Request().Context()
	orgID := reqOf(c).Org.ID
	q, err := analyticsQuery(c, false, "metric", "row", "after")
	if err != nil {
		return analytics.DrillPage{}, err
	}
	def, ok := analytics.DefinitionOf(q.Get("metric"))
	if !ok {
		return analytics.DrillPage{}, model.FieldError("metric", "analytics.error.metric")
	}
	d.Def, d.Row, d.After = def, q.Get("row"), q.Get("after")
	if d.Filter, err = s.analyticsFilter(c, q, d.Options); err != nil {
		return analytics.DrillPage{}, err
	}
	d.Currency = s.currencyOf(ctx, orgID, d.Filter, d.Currency)
	d.RowLabel = drillRowLabel(def, d.Row, d.Options)
	return s.analytics.Drill(ctx, orgID, d.Filter, def.Key, d.Row, d.After, drillPageSize)
}

// drillPageSize is how many rows a drill-down page shows.
const drillPageSize = 50

// drillRowLabel names a table row a drill-down narrows to: the tables' rows are agents
// (conversation figures), channels (message figures) and campaigns.
func drillRowLabel(def analytics.Definition, row string, o av.Options) string {
	if row == "" {
		return ""
	}
	var opts []av.Option
	switch def.Family {
	case "conversations":
		opts = o.Agents
	case "messages":
		opts = o.Channels
	case "campaigns":
		opts = o.Campaigns
	}
	for _, op := range opts {
		if op.Value == row {
			return op.Label
		}
	}
	return ""
}

// exportRows is the most rows a drill-down's CSV holds.
const exportRows = 100_000

// analyticsExport is GET /o/{org}/analytics/export?part=…&<filter>: a part of the dashboard
// (kpis, series:<metric>, table:<name>, funnel:<name>) or a drill-down (part=drill with
// metric and row) as CSV, its figures written exactly as the screen writes them.
func (s *Server) analyticsExport(c echo.Context) error {
	ctx := c.Request().Context()
	r := reqOf(c)
	orgID := r.Org.ID
	q, err := analyticsQuery(c, false, "part", "metric", "row")
	if err != nil {
		return err
	}
	opts, orgCurrency, err := s.analyticsOptions(ctx, orgID)
	if err != nil {
		return err
	}
	f, err := s.analyticsFilter(c, q, opts)
	if err != nil {
		return err
	}
	currency := s.currencyOf(ctx, orgID, f, orgCurrency)
	loc := r.Locale
	fm := func(u analytics.Unit, fig analytics.Figure) string { return analytics.Format(loc, u, fig, currency) }
	name := func(k string) string { return i18n.T(loc, metricNameKey(k)) }
	var rows [][]string
	part := q.Get("part")
	kind, arg, _ := strings.Cut(part, ":")
	switch kind {
	case "kpis":
		kpis, err := s.analytics.KPIs(ctx, orgID, f, analytics.HomeKPIs)
		if err != nil {
			return err
		}
		rows = append(rows, []string{i18n.T(loc, "analytics.csv.metric"), i18n.T(loc, "analytics.csv.value"),
			i18n.T(loc, "analytics.csv.previous"), i18n.T(loc, "analytics.csv.change")})
		for _, k := range kpis {
			ch, ok := analytics.Change(k)
			rows = append(rows, []string{name(k.Metric), fm(k.Unit, k.Current), fm(k.Unit, k.Previous), analytics.FormatChange(loc, ch, ok)})
		}
		now, err := s.analytics.Figures(ctx, orgID, f, analytics.HomeNow)
		if err != nil {
			return err
		}
		for _, n := range now {
			def, _ := analytics.DefinitionOf(n.Metric)
			rows = append(rows, []string{name(n.Metric), fm(def.Unit, n), analytics.Unknown, analytics.Unknown})
		}
	case "series":
		sr, err := s.analytics.Series(ctx, orgID, f, arg)
		if err != nil {
			return err
		}
		rc := ui.With(ctx, r)
		rows = append(rows, []string{i18n.T(loc, "analytics.csv.bucket"), name(sr.Metric)})
		for _, p := range sr.Points {
			rows = append(rows, []string{av.BucketName(rc, p.Start, sr.Step), fm(sr.Unit, analytics.Figure{Metric: sr.Metric, Value: p.Value, Known: p.Known})})
		}
	case "table":
		t, err := s.analytics.Table(ctx, orgID, f, arg)
		if err != nil {
			return err
		}
		rc := ui.With(ctx, r)
		head := []string{i18n.T(loc, tableRowKey(arg))}
		for _, col := range t.Columns {
			head = append(head, name(col))
		}
		rows = append(rows, head)
		line := func(label string, row analytics.Row) []string {
			out := []string{label}
			for j, col := range t.Columns {
				def, _ := analytics.DefinitionOf(col)
				fig := analytics.Figure{}
				if j < len(row.Figures) {
					fig = row.Figures[j]
				}
				fig.Metric = col // its money's currency
				out = append(out, fm(def.Unit, fig))
			}
			return out
		}
		for _, row := range t.Rows {
			rows = append(rows, line(av.RowLabel(rc, row), row))
		}
		if t.Total != nil {
			rows = append(rows, line(i18n.T(loc, "analytics.total"), *t.Total))
		}
	case "funnel":
		fu, err := s.analytics.Funnel(ctx, orgID, f, arg)
		if err != nil {
			return err
		}
		rc := ui.With(ctx, r)
		rows = append(rows, []string{i18n.T(loc, "analytics.csv.step"), i18n.T(loc, "analytics.csv.value"), i18n.T(loc, "analytics.of_previous")})
		for i, st := range fu.Steps {
			def, _ := analytics.DefinitionOf(st.Metric)
			rows = append(rows, []string{name(st.Metric), fm(def.Unit, st), av.StepRate(rc, fu.Steps, i)})
		}
	case "drill":
		return s.exportDrill(c, q, f, currency)
	default:
		return model.FieldError("part", "analytics.error.part")
	}
	w, err := s.startCSV(c, part, f)
	if err != nil {
		return nil
	}
	for _, row := range rows {
		if err := w.Write(csvout.SafeRow(row)); err != nil {
			return nil // the browser left
		}
	}
	w.Flush()
	return nil
}

// startCSV answers with a CSV file named after part and the period, in the reader's
// spreadsheet's delimiter (";" in Portuguese, where "," is the decimal mark).
func (s *Server) startCSV(c echo.Context, part string, f analytics.Filter) (*csv.Writer, error) {
	fname := fmt.Sprintf("%s-%s-%s.csv", strings.NewReplacer(":", "-", ".", "-").Replace(part),
		f.From.Format(time.DateOnly), f.To.AddDate(0, 0, -1).Format(time.DateOnly))
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+url.PathEscape(fname)+`"`)
	c.Response().WriteHeader(http.StatusOK)
	delim := ','
	if reqOf(c).Locale == i18n.PTBR {
		delim = ';'
	}
	cw, err := csvout.NewWriter(c.Response(), delim)
	if err != nil {
		return nil, err
	}
	return cw, nil
}

// exportDrill streams every row behind a figure, page after page.
func (s *Server) exportDrill(c echo.Context, q url.Values, f analytics.Filter, currency string) error {
	ctx := c.Request().Context()
	r := reqOf(c)
	def, ok := analytics.DefinitionOf(q.Get("metric"))
	if !ok {
		return model.FieldError("metric", "analytics.error.metric")
	}
	row := q.Get("row")
	// The first page before the answer starts: a refused request is still a clear error.
	page, err := s.analytics.Drill(ctx, r.Org.ID, f, def.Key, row, "", analytics.MaxDrill)
	if err != nil {
		return err
	}
	w, err := s.startCSV(c, "drill-"+def.Key, f)
	if err != nil {
		return nil
	}
	loc := r.Locale
	rc := ui.With(ctx, r)
	d := av.Drill{Def: def, Currency: currency, Filter: f}
	_ = w.Write([]string{i18n.T(loc, "analytics.csv.title"), i18n.T(loc, "analytics.csv.detail"), i18n.T(loc, "analytics.csv.at"),
		i18n.T(loc, "analytics.csv.value"), i18n.T(loc, "analytics.csv.link")})
	n := 0
	for {
		for _, it := range page.Items {
			at := ""
			if !it.At.IsZero() {
				at = i18n.FormatTime(loc, it.At.In(f.Zone))
			}
			link := ""
			if p := av.ItemPath(rc, it); p != "" {
				link = s.cfg.BaseURL + p
			}
			if err := w.Write(csvout.SafeRow([]string{it.Title, it.Detail, at, av.ItemValue(rc, d, it), link})); err != nil {
				return nil
			}
			n++
		}
		if page.Next == "" || n >= exportRows {
			break
		}
		if page, err = s.analytics.Drill(ctx, r.Org.ID, f, def.Key, row, page.Next, analytics.MaxDrill); err != nil {
			slog.Error("analytics drill export failed", "org", r.Org.ID, "metric", def.Key, "err", err)
			w.Flush()
			_, _ = fmt.Fprintf(c.Response(), "\n%s\n", i18n.T(loc, "contacts.export.failed"))
			c.Response().Flush()
			panic(http.ErrAbortHandler)
		}
	}
	w.Flush()
	return nil
}

// metricNameKey is the i18n key of a metric's name (every metric has one: views/analytics
// tests it).
func metricNameKey(metric string) string { return "analytics.metric." + metric + ".name" }

// tableRowKey is the i18n key of a table's first column (what its rows are).
func tableRowKey(table string) string { return "analytics.table." + table + ".row" }
