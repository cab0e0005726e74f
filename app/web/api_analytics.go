package web

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"masteria/app/analytics"
	"masteria/app/i18n"
	"masteria/app/model"
)

// apiAnalyticsRoutes mounts GET /api/v1/analytics/...: the same figures the manager's
// dashboard shows, from the same engine, for the same filter (period, channel, agent,
// campaign, pipeline, label, hours) read in the org's time zone.
func (s *Server) apiAnalyticsRoutes(api *echo.Group) {
	api.GET("/analytics/dashboard", s.apiAnalyticsDashboard)
	api.GET("/analytics/kpis", s.apiAnalyticsKPIs)
	api.GET("/analytics/series", s.apiAnalyticsSeries)
	api.GET("/analytics/tables/:name", s.apiAnalyticsTable)
	api.GET("/analytics/funnels/:name", s.apiAnalyticsFunnel)
	api.GET("/analytics/drill", s.apiAnalyticsDrill)
	api.GET("/analytics/definitions", s.apiAnalyticsDefinitions)
}

// apiFilterJSON is the filter an answer was worked out for: the period as days in the
// org's zone (both included) and the narrowing ids, so a caller sees what "30d" meant.
type apiFilterJSON struct {
	Period     string `json:"period"` // a preset, or custom
	From       string `json:"from"`   // YYYY-MM-DD, the first day
	To         string `json:"to"`     // YYYY-MM-DD, the last day (included)
	Zone       string `json:"zone"`
	ChannelID  *int64 `json:"channel,omitempty"`
	AgentID    *int64 `json:"agent,omitempty"`
	CampaignID *int64 `json:"campaign,omitempty"`
	PipelineID *int64 `json:"pipeline,omitempty"`
	Label      string `json:"label,omitempty"`
	Hours      string `json:"hours"` // all or business
}

func filterJSON(f analytics.Filter) apiFilterJSON {
	id := func(v int64) *int64 {
		if v == 0 {
			return nil
		}
		return &v
	}
	out := apiFilterJSON{Period: f.Preset, From: f.From.Format(time.DateOnly), To: f.To.AddDate(0, 0, -1).Format(time.DateOnly),
		Zone: f.Zone.String(), ChannelID: id(f.ChannelID), AgentID: id(f.AgentID), CampaignID: id(f.CampaignID),
		PipelineID: id(f.PipelineID), Label: f.Label, Hours: "all"}
	if f.BusinessHours {
		out.Hours = "business"
	}
	return out
}

// apiAnalyticsFilter reads the filter as the dashboard does, in the org's zone: a
// parameter the route does not take is 400, a bad value 422 with its field, another
// org's channel, agent, campaign or pipeline 404.
func (s *Server) apiAnalyticsFilter(c echo.Context, extra ...string) (analytics.Filter, bool, error) {
	q := c.QueryParams()
	for k, vs := range q {
		if !analytics.FilterParams(k) && !slices.Contains(extra, k) {
			allowed := "period, from, to, channel, agent, campaign, pipeline, label, hours"
			if len(extra) > 0 {
				allowed += ", " + strings.Join(extra, ", ")
			}
			return analytics.Filter{}, false, apiFail(c, http.StatusBadRequest, "bad_request", "unknown query parameter "+strconv.Quote(k)+"; this route takes "+allowed)
		}
		if len(vs) > 1 {
			return analytics.Filter{}, false, apiFail(c, http.StatusBadRequest, "bad_request", "query parameter "+strconv.Quote(k)+" is given more than once")
		}
	}
	ctx := c.Request().Context()
	orgID := apiActor(c).OrgID
	zone, err := s.st.OrgTimeZone(ctx, orgID)
	if err != nil {
		return analytics.Filter{}, false, err
	}
	f, err := analytics.ParseFilter(q, zone, time.Now())
	var v *model.ValidationError
	if errors.As(err, &v) {
		return f, false, apiInvalidFields(c, v)
	}
	if err != nil {
		return f, false, err
	}
	if f.ChannelID != 0 {
		if _, err := s.st.Channel(ctx, orgID, f.ChannelID); err != nil {
			return f, false, apiCRMFail(c, err, "no such channel in your organization")
		}
	}
	if f.AgentID != 0 {
		if _, err := s.st.Member(ctx, orgID, f.AgentID); err != nil {
			return f, false, apiCRMFail(c, err, "no such member (agent) in your organization")
		}
	}
	if f.CampaignID != 0 {
		if _, err := s.st.Campaign(ctx, orgID, f.CampaignID); err != nil {
			return f, false, apiCRMFail(c, err, "no such campaign in your organization")
		}
	}
	if f.PipelineID != 0 {
		if _, err := s.st.Pipeline(ctx, orgID, f.PipelineID); err != nil {
			return f, false, apiCRMFail(c, err, "no such pipeline in your organization")
		}
	}
	return f, true, nil
}

// apiField answers 422 invalid for one field, its error in English.
func apiField(c echo.Context, field, key string) error {
	var v *model.ValidationError
	errors.As(model.FieldError(field, key), &v)
	return apiInvalidFields(c, v)
}

// apiAnalyticsFail answers a refusal of the engine: an unknown metric or a metric without
// a series or a list is 422 with its field.
func apiAnalyticsFail(c echo.Context, err error) error {
	var v *model.ValidationError
	if errors.As(err, &v) {
		return apiInvalidFields(c, v)
	}
	return err
}

// apiAnalyticsDashboard is GET /analytics/dashboard: the manager's dashboard (analytics.Home).
func (s *Server) apiAnalyticsDashboard(c echo.Context) error {
	f, ok, err := s.apiAnalyticsFilter(c)
	if !ok {
		return err
	}
	h, err := s.analytics.Home(c.Request().Context(), apiActor(c).OrgID, f)
	if err == nil {
		err = h.Err() // an API answer is whole or an error, never a dashboard with holes
	}
	if err != nil {
		return apiAnalyticsFail(c, err)
	}
	h.KPIs, h.Now = nonNil(h.KPIs), nonNil(h.Now)
	h.Series, h.Tables, h.Funnels = nonNil(h.Series), nonNil(h.Tables), nonNil(h.Funnels)
	for i := range h.Series {
		h.Series[i].Points = nonNil(h.Series[i].Points)
	}
	for i := range h.Tables {
		wholeTable(&h.Tables[i])
	}
	for i := range h.Funnels {
		h.Funnels[i].Steps = nonNil(h.Funnels[i].Steps)
	}
	return c.JSON(http.StatusOK, struct {
		Filter apiFilterJSON `json:"filter"`
		analytics.Home
	}{filterJSON(f), h})
}

// maxAPIMetrics is the most metrics one GET /analytics/kpis asks for.
const maxAPIMetrics = 60

// apiAnalyticsKPIs is GET /analytics/kpis?metrics=a,b: each metric in the period beside the
// previous period.
func (s *Server) apiAnalyticsKPIs(c echo.Context) error {
	f, ok, err := s.apiAnalyticsFilter(c, "metrics")
	if !ok {
		return err
	}
	var keys []string
	for _, k := range strings.Split(c.QueryParam("metrics"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	switch {
	case len(keys) == 0:
		return apiField(c, "metrics", "analytics.error.metrics")
	case len(keys) > maxAPIMetrics:
		return apiField(c, "metrics", "analytics.error.metrics_many")
	}
	for _, k := range keys {
		if _, ok := analytics.DefinitionOf(k); !ok {
			return apiField(c, "metrics", "analytics.error.metric")
		}
	}
	kpis, err := s.analytics.KPIs(c.Request().Context(), apiActor(c).OrgID, f, keys)
	if err != nil {
		return apiAnalyticsFail(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"filter": filterJSON(f), "kpis": kpis})
}

// apiAnalyticsSeries is GET /analytics/series?metric=: one metric bucket by bucket.
func (s *Server) apiAnalyticsSeries(c echo.Context) error {
	f, ok, err := s.apiAnalyticsFilter(c, "metric")
	if !ok {
		return err
	}
	sr, err := s.analytics.Series(c.Request().Context(), apiActor(c).OrgID, f, c.QueryParam("metric"))
	if err != nil {
		return apiAnalyticsFail(c, err)
	}
	sr.Points = nonNil(sr.Points)
	return c.JSON(http.StatusOK, map[string]any{"filter": filterJSON(f), "series": sr})
}

// apiAnalyticsTable is GET /analytics/tables/{name}: one breakdown (analytics.Tables).
func (s *Server) apiAnalyticsTable(c echo.Context) error {
	name := c.Param("name")
	if _, ok := analytics.Tables[name]; !ok {
		return apiFail(c, http.StatusNotFound, "not_found", "no such table; the tables are "+strings.Join(slices.Sorted(maps.Keys(analytics.Tables)), ", "))
	}
	f, ok, err := s.apiAnalyticsFilter(c)
	if !ok {
		return err
	}
	t, err := s.analytics.Table(c.Request().Context(), apiActor(c).OrgID, f, name)
	if err != nil {
		return apiAnalyticsFail(c, err)
	}
	wholeTable(&t)
	return c.JSON(http.StatusOK, map[string]any{"filter": filterJSON(f), "table": t})
}

// apiAnalyticsFunnel is GET /analytics/funnels/{name}: one funnel (analytics.Funnels).
func (s *Server) apiAnalyticsFunnel(c echo.Context) error {
	name := c.Param("name")
	if _, ok := analytics.Funnels[name]; !ok {
		return apiFail(c, http.StatusNotFound, "not_found", "no such funnel; the funnels are "+strings.Join(slices.Sorted(maps.Keys(analytics.Funnels)), ", "))
	}
	f, ok, err := s.apiAnalyticsFilter(c)
	if !ok {
		return err
	}
	fu, err := s.analytics.Funnel(c.Request().Context(), apiActor(c).OrgID, f, name)
	if err != nil {
		return apiAnalyticsFail(c, err)
	}
	fu.Steps = nonNil(fu.Steps)
	return c.JSON(http.StatusOK, map[string]any{"filter": filterJSON(f), "funnel": fu})
}

// maxDrillRow is the longest row (a table row's key) a drill-down takes.
const maxDrillRow = 64

// apiAnalyticsDrill is GET /analytics/drill?metric=&row=&after=&limit=: a page of the rows
// behind a figure; pass next as after for the one after it.
func (s *Server) apiAnalyticsDrill(c echo.Context) error {
	f, ok, err := s.apiAnalyticsFilter(c, "metric", "row", "after", "limit")
	if !ok {
		return err
	}
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > analytics.MaxDrill {
			return apiFail(c, http.StatusBadRequest, "bad_request", "limit must be a number from 1 to "+strconv.Itoa(analytics.MaxDrill))
		}
		limit = n
	}
	row, after := c.QueryParam("row"), c.QueryParam("after")
	if len(row) > maxDrillRow {
		return apiField(c, "row", "analytics.error.row")
	}
	if len(after) > 512 {
		return apiFail(c, http.StatusBadRequest, "bad_cursor", "after must be the next of the previous page, with the same filter")
	}
	page, err := s.analytics.Drill(c.Request().Context(), apiActor(c).OrgID, f, c.QueryParam("metric"), row, after, limit)
	var v *model.ValidationError
	if errors.As(err, &v) {
		if _, bad := v.Fields["after"]; bad {
			return apiFail(c, http.StatusBadRequest, "bad_cursor", "after must be the next of the previous page, with the same filter")
		}
		return apiInvalidFields(c, v)
	}
	if err != nil {
		return err
	}
	page.Items = nonNil(page.Items)
	var next *string
	if page.Next != "" {
		next = &page.Next
	}
	out := map[string]any{"filter": filterJSON(f), "metric": page.Metric, "kind": page.Kind,
		"total": page.Total, "items": page.Items, "next": next}
	if len(page.IgnoredFilters) > 0 {
		out["ignored_filters"] = page.IgnoredFilters
	}
	return c.JSON(http.StatusOK, out)
}

// apiDefinitionJSON is one metric as GET /analytics/definitions lists it.
type apiDefinitionJSON struct {
	Key    string `json:"key"`
	Name   string `json:"name"`
	About  string `json:"about"`
	Unit   string `json:"unit"`
	Family string `json:"family"`
	Drill  string `json:"drill"` // the list a click opens; "" for none
	Now    bool   `json:"now"`   // a figure of the present moment, which no period changes
	// NarrowedBy are the filters that change the figure (analytics.NarrowedBy).
	NarrowedBy []string `json:"narrowed_by"`
}

// apiAnalyticsDefinitions is GET /analytics/definitions: every metric with its written
// definition, in ?lang= or the language of the key's creator.
func (s *Server) apiAnalyticsDefinitions(c echo.Context) error {
	if !apiOnlyParams(c, "lang") {
		return nil
	}
	lang := i18n.EN
	if v := c.QueryParam("lang"); v != "" {
		l, ok := i18n.Parse(v)
		if !ok {
			return apiField(c, "lang", "analytics.error.lang")
		}
		lang = l
	} else if k := c.Get(ctxAPIKey).(model.APIKey); k.CreatedBy != nil {
		if u, err := s.st.User(c.Request().Context(), *k.CreatedBy); err == nil && u.Locale != nil {
			if l, ok := i18n.Parse(*u.Locale); ok {
				lang = l
			}
		}
	}
	out := make([]apiDefinitionJSON, 0, len(analytics.Definitions))
	for _, d := range analytics.Definitions {
		out = append(out, apiDefinitionJSON{Key: d.Key, Name: metricText(lang, d.Key, "name"), About: metricText(lang, d.Key, "about"),
			Unit: string(d.Unit), Family: d.Family, Drill: string(d.Drill), Now: d.Now, NarrowedBy: nonNil(analytics.NarrowedBy(d.Key))})
	}
	return c.JSON(http.StatusOK, map[string]any{"lang": lang.String(), "definitions": out})
}

// metricText is a metric's name or written definition in l; "" until it is written.
func metricText(l i18n.Locale, key, part string) string {
	k := "analytics.metric." + key + "." + part
	if !i18n.Has(l, k) {
		return ""
	}
	return i18n.T(l, k)
}

// nonNil is list, or an empty list for nil: answers hold [] where nothing was found, never null.
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}

// wholeTable gives a table's lists [] rather than null.
func wholeTable(t *analytics.Table) {
	t.Columns, t.Rows = nonNil(t.Columns), nonNil(t.Rows)
	for i := range t.Rows {
		t.Rows[i].Figures = nonNil(t.Rows[i].Figures)
	}
	if t.Total != nil {
		t.Total.Figures = nonNil(t.Total.Figures)
	}
}
