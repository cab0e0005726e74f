package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/app/web/webtest"
)

// TestAnalyticsGuardsAndRefusals: agents get 403 on the dashboard, its drill-downs and
// exports, and keep their own home; managers get the dashboard on the org's home. A bad
// filter re-renders the page with what is wrong (422); another org's channel, agent,
// campaign or pipeline is refused as unknown (never counted as nothing); NUL bytes and
// invalid UTF-8 are 400; oversized values, unknown parameters and parts are 422.
func TestAnalyticsGuardsAndRefusals(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	other := webtest.NewClient(t, o.inst.URL)
	otherHome := other.Signup("Outra Loja", "Olga", uniqueEmail("olga"), strongPassword)
	if res := other.Post(otherHome+"/settings/channels", url.Values{"kind": {model.KindSandbox}, "name": {"Deles"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("other channel: %d", res.StatusCode)
	}
	var otherOrg int64
	_, _ = fmt.Sscanf(otherHome, "/o/%d", &otherOrg)
	chs, err := o.inst.App.Inbox.Channels(context.Background(), otherOrg)
	if err != nil || len(chs) != 1 {
		t.Fatalf("other channels: %v", err)
	}
	foreign := chs[0].ID
	_, foreignUser := (&inboxOrg{t: t, inst: o.inst, name: "Outra Loja"}).member(model.RoleAgent)

	agent, _ := o.member(model.RoleAgent)
	for _, p := range []string{"/analytics", "/analytics?period=7d", "/analytics/drill?metric=conversations.started", "/analytics/export?part=kpis"} {
		if res := agent.Get(o.home + p); res.StatusCode != http.StatusForbidden {
			t.Errorf("agent %s: %d, want 403", p, res.StatusCode)
		}
	}
	res := agent.Get(o.home)
	if res.StatusCode != http.StatusOK || strings.Contains(res.Body, `data-testid="dashboard"`) || !strings.Contains(res.Body, `data-testid="home-conversations"`) {
		t.Fatalf("agent's home: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if strings.Contains(res.Body, `href="`+o.home+`/analytics"`) {
		t.Error("the agent's sidebar links to the dashboard")
	}

	manager, _ := o.member(model.RoleManager)
	res = manager.Get(o.home)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="dashboard"`) || !strings.Contains(res.Body, `data-testid="checklist"`) {
		t.Fatalf("manager's home: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	// The filter form sends its period beside its dates and empty selects: a preset wins
	// over the dates, "custom" takes them, an empty select is "all".
	for _, p := range []string{"/analytics", "/analytics?period=7d&channel=" + fmt.Sprint(o.ch.ID), "/analytics?period=custom&from=2026-11-01&to=2026-11-30",
		"/analytics?period=7d&from=2020-01-01&to=2026-11-30&channel=&agent=&label=", "/analytics?from=2026-11-01&to=2026-11-30&hours=business"} {
		if res := manager.Get(o.home + p); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="dash-figures"`) {
			t.Errorf("manager %s: %d %s", p, res.StatusCode, webtest.Text(res.Body))
		}
	}

	long := strings.Repeat("a", 65)
	for _, c := range []struct {
		path, says string // the i18n key of what the page says
		status     int
	}{
		{"/analytics?period=fortnight", "analytics.error.period", 422},
		{"/analytics?period=custom&from=2026-13-01&to=2026-11-30", "analytics.error.date", 422},
		{"/analytics?period=custom&from=2026-11-30&to=2026-11-01", "analytics.error.period_order", 422},
		{"/analytics?period=custom&from=2024-01-01&to=2026-11-30", "analytics.error.period_long", 422},
		{fmt.Sprintf("/analytics?channel=%d", foreign), "analytics.error.unknown_channel", 422},
		{fmt.Sprintf("/analytics?agent=%d", foreignUser), "analytics.error.unknown_agent", 422},
		{"/analytics?pipeline=999999999", "analytics.error.unknown_pipeline", 422},
		{"/analytics?campaign=999999999", "analytics.error.unknown_campaign", 422},
		{"/analytics?channel=abc", "analytics.error.id", 422},
		{"/analytics?label=" + long, "analytics.error.label", 422},
		{"/analytics?label=" + strings.Repeat("b", 300), "analytics.error.value", 422},
		{"/analytics?hours=night", "analytics.error.hours", 422},
		{"/analytics?sort=name", "analytics.error.param", 422},
		{"/analytics?label=a&label=b", "analytics.error.param_twice", 422},
		{"/analytics?label=a%00b", "", 400},
		{"/analytics?label=%ff%fe", "", 400},
		{fmt.Sprintf("/analytics/export?part=kpis&channel=%d", foreign), "", 422},
		{"/analytics/export?part=pie", "", 422},
		{"/analytics/export?part=table:nope", "", 422},
		{"/analytics/export?part=kpis&label=%00", "", 400},
		{"/analytics/drill?metric=nope", "analytics.error.metric", 422},
		{fmt.Sprintf("/analytics/drill?metric=conversations.started&channel=%d", foreign), "analytics.error.unknown_channel", 422},
		{"/analytics/drill?metric=conversations.started&row=" + strings.Repeat("9", 201), "analytics.error.value", 422},
		{"/analytics/drill?metric=conversations.started&period=today&hour=25", "analytics.error.hour", 422},
	} {
		res := manager.Get(o.home + c.path)
		says := ""
		if c.says != "" {
			says = i18n.T(i18n.EN, c.says)
		}
		if res.StatusCode != c.status || !strings.Contains(html.UnescapeString(webtest.Text(res.Body)), says) {
			t.Errorf("%s: %d, want %d saying %q: %s", c.path, res.StatusCode, c.status, says, webtest.Text(res.Body))
		}
		if c.status == 422 && strings.HasPrefix(c.path, "/analytics?") && strings.Contains(res.Body, `data-figure`) {
			t.Errorf("%s: a refused filter shows figures", c.path)
		}
	}
	// The home's own dashboard refuses the same way, with the checklist still there.
	if res := manager.Get(o.home + "?period=fortnight"); res.StatusCode != 422 || !strings.Contains(res.Body, `data-testid="dash-error"`) {
		t.Errorf("home with a bad period: %d", res.StatusCode)
	}
	// An htmx refresh gets the dashboard alone.
	res = manager.Get(o.home+"/analytics?period=7d", "HX-Request", "true")
	if res.StatusCode != http.StatusOK || strings.Contains(res.Body, "<html") || !strings.Contains(res.Body, `id="dash"`) {
		t.Errorf("htmx refresh: %d %.200s", res.StatusCode, res.Body)
	}
}

// TestAnalyticsScopeNotes: with a label chosen, each figure that does not follow it says
// so in one line (the leads' card, the cadence funnel, their drill-downs), the figures that
// follow it say nothing, and without a filter nothing is said; the CSV adds no line for it;
// the definitions page says what narrows each metric.
func TestAnalyticsScopeNotes(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	manager, _ := o.member(model.RoleManager)
	page := func(p string) string {
		t.Helper()
		res := manager.Get(o.home + p)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", p, res.StatusCode, webtest.Text(res.Body))
		}
		return res.Body
	}
	// part is the HTML of the element whose data-testid is id, up to the next card of its kind.
	part := func(body, id, next string) string {
		t.Helper()
		i := strings.Index(body, `data-testid="`+id+`"`)
		if i < 0 {
			t.Fatalf("no %s on the page", id)
		}
		rest := body[i+len(id):]
		if j := strings.Index(rest, next); j >= 0 {
			rest = rest[:j]
		}
		return rest
	}
	note := i18n.T(i18n.EN, "analytics.scope.ignored", "filters", "label")
	if body := page("/analytics?period=7d"); strings.Contains(body, `data-testid="scope-note"`) {
		t.Error("a note without any filter chosen")
	}
	body := page("/analytics?period=7d&label=vip")
	if p := part(body, "kpi-leads.created", `data-testid="kpi-`); !strings.Contains(p, `data-testid="scope-note"`) || !strings.Contains(p, note) {
		t.Errorf("the leads card says nothing of the label: %s", webtest.Text(p))
	}
	if p := part(body, "kpi-messages.sent", `data-testid="kpi-`); strings.Contains(p, `data-testid="scope-note"`) {
		t.Errorf("the messages card, which follows the label, has a note: %s", webtest.Text(p))
	}
	if p := part(body, "funnel-cadence", `data-testid="funnel-`); !strings.Contains(p, note) {
		t.Errorf("the cadence funnel says nothing of the label: %s", webtest.Text(p))
	}
	if p := part(body, "dash-now", `data-testid="dash-kpis"`); strings.Contains(p, `data-testid="scope-note"`) {
		t.Errorf("the figures of now follow the label but have a note: %s", webtest.Text(p))
	}
	// Several filters joined in words; business hours only beside a time that ignores them.
	body = page(fmt.Sprintf("/analytics?period=7d&label=vip&channel=%d&hours=business", o.ch.ID))
	if p := part(body, "kpi-leads.created", `data-testid="kpi-`); !strings.Contains(p, i18n.T(i18n.EN, "analytics.scope.ignored", "filters", "channel or label")) {
		t.Errorf("leads card under channel and label: %s", webtest.Text(p))
	}
	if p := part(body, "kpi-response.first_median", `data-testid="kpi-`); strings.Contains(p, `data-testid="scope-note"`) {
		t.Errorf("first response follows channel, label and business hours but has a note: %s", webtest.Text(p))
	}
	// The drill-downs say the same; the CSV has no line for it.
	if d := page("/analytics/drill?period=7d&label=vip&metric=leads.created"); !strings.Contains(d, note) {
		t.Errorf("the leads' drill-down says nothing of the label: %s", webtest.Text(d))
	}
	if d := page("/analytics/drill?period=7d&label=vip&metric=messages.sent"); strings.Contains(d, `data-testid="scope-note"`) {
		t.Error("the messages' drill-down, which follows the label, has a note")
	}
	if csv := page("/analytics/export?part=kpis&period=7d&label=vip"); strings.Contains(csv, note) || strings.Contains(csv, "narrowed") {
		t.Errorf("the CSV carries the note: %s", csv)
	}
	defs := page("/analytics/definitions")
	if p := part(defs, "definition-cadence.enrolled", "<article"); !strings.Contains(p, i18n.T(i18n.EN, "definitions.narrowed_by_none")) {
		t.Errorf("cadence.enrolled's definition: %s", webtest.Text(p))
	}
	if p := part(defs, "definition-leads.created", "<article"); !strings.Contains(p, i18n.T(i18n.EN, "definitions.narrowed_by", "filters", "agent and pipeline")) {
		t.Errorf("leads.created's definition: %s", webtest.Text(p))
	}
}
