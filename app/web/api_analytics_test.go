package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"masteria/app/analytics"
	"masteria/app/model"
	"masteria/app/web/webtest"
)

// The API's bad input: every refusal has its status and stable code, and a field error
// names its field.
func TestAPIAnalyticsBadInput(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c, orgID, key := apiOrg(t, inst, "Loja Números")
	_, otherID, _ := apiOrg(t, inst, "Loja Vizinha")
	ctx := context.Background()
	other := model.Actor{OrgID: otherID, Role: model.RoleOwner}
	foreignChannel, err := inst.App.Inbox.CreateChannel(ctx, other, model.KindSandbox, "Vizinha", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var foreignUser, foreignPipeline int64
	_ = inst.App.Store.DB().Get(&foreignUser, `SELECT user_id FROM memberships WHERE org_id = $1`, otherID)
	if err := inst.App.Store.DB().Get(&foreignPipeline, `INSERT INTO pipelines (org_id, name) VALUES ($1, 'Vendas') RETURNING id`, otherID); err != nil {
		t.Fatal(err)
	}
	_, contactsKey, err := inst.App.Account.CreateScopedAPIKey(ctx, model.Actor{OrgID: orgID, Role: model.RoleAdmin}, "só contatos", "contacts:read")
	if err != nil {
		t.Fatal(err)
	}
	_, analyticsKey, err := inst.App.Account.CreateScopedAPIKey(ctx, model.Actor{OrgID: orgID, Role: model.RoleAdmin}, "números", "analytics:read")
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name, key, path string
		status          int
		code, field     string
	}{
		{"unknown parameter", key, "/api/v1/analytics/dashboard?periodo=7d", 400, "bad_request", ""},
		{"parameter twice", key, "/api/v1/analytics/dashboard?period=7d&period=30d", 400, "bad_request", ""},
		{"bad preset", key, "/api/v1/analytics/kpis?metrics=messages.sent&period=fortnight", 422, "invalid", "period"},
		{"bad date", key, "/api/v1/analytics/kpis?metrics=messages.sent&from=2026-02-30&to=2026-03-01", 422, "invalid", "from"},
		{"half a range", key, "/api/v1/analytics/kpis?metrics=messages.sent&from=2026-02-01", 422, "invalid", "to"},
		{"reversed range", key, "/api/v1/analytics/kpis?metrics=messages.sent&from=2026-03-01&to=2026-02-01", 422, "invalid", "to"},
		{"over 366 days", key, "/api/v1/analytics/kpis?metrics=messages.sent&from=2024-01-01&to=2025-01-02", 422, "invalid", "from"},
		{"preset and dates", key, "/api/v1/analytics/kpis?metrics=messages.sent&period=7d&from=2026-01-01&to=2026-01-02", 422, "invalid", "period"},
		{"bad id", key, "/api/v1/analytics/kpis?metrics=messages.sent&channel=abc", 422, "invalid", "channel"},
		{"negative id", key, "/api/v1/analytics/kpis?metrics=messages.sent&agent=-3", 422, "invalid", "agent"},
		{"bad hours", key, "/api/v1/analytics/kpis?metrics=messages.sent&hours=night", 422, "invalid", "hours"},
		{"long label", key, "/api/v1/analytics/kpis?metrics=messages.sent&label=" + strings.Repeat("x", 65), 422, "invalid", "label"},
		{"NUL in label", key, "/api/v1/analytics/kpis?metrics=messages.sent&label=a%00b", 400, "bad_request", ""},
		{"invalid UTF-8 in label", key, "/api/v1/analytics/kpis?metrics=messages.sent&label=%ff%fe", 400, "bad_request", ""},
		{"no metrics", key, "/api/v1/analytics/kpis", 422, "invalid", "metrics"},
		{"unknown metric", key, "/api/v1/analytics/kpis?metrics=messages.sent,messages.lost", 422, "invalid", "metrics"},
		{"too many metrics", key, "/api/v1/analytics/kpis?metrics=" + strings.Repeat("messages.sent,", 61), 422, "invalid", "metrics"},
		{"series unknown metric", key, "/api/v1/analytics/series?metric=nope", 422, "invalid", "metric"},
		{"series without metric", key, "/api/v1/analytics/series", 422, "invalid", "metric"},
		{"unknown table", key, "/api/v1/analytics/tables/people", 404, "not_found", ""},
		{"unknown funnel", key, "/api/v1/analytics/funnels/sales", 404, "not_found", ""},
		{"table unknown parameter", key, "/api/v1/analytics/tables/agents?sort=name", 400, "bad_request", ""},
		{"drill unknown metric", key, "/api/v1/analytics/drill?metric=nope", 422, "invalid", "metric"},
		{"drill limit 0", key, "/api/v1/analytics/drill?metric=messages.sent&limit=0", 400, "bad_request", ""},
		{"drill limit 201", key, "/api/v1/analytics/drill?metric=messages.sent&limit=201", 400, "bad_request", ""},
		{"drill limit text", key, "/api/v1/analytics/drill?metric=messages.sent&limit=ten", 400, "bad_request", ""},
		{"drill long row", key, "/api/v1/analytics/drill?metric=messages.sent&row=" + strings.Repeat("9", 65), 422, "invalid", "row"},
		{"drill huge cursor", key, "/api/v1/analytics/drill?metric=messages.sent&after=" + strings.Repeat("a", 600), 400, "bad_cursor", ""},
		{"foreign channel", key, fmt.Sprintf("/api/v1/analytics/kpis?metrics=messages.sent&channel=%d", foreignChannel.ID), 404, "not_found", ""},
		{"foreign agent", key, fmt.Sprintf("/api/v1/analytics/kpis?metrics=messages.sent&agent=%d", foreignUser), 404, "not_found", ""},
		{"foreign pipeline", key, fmt.Sprintf("/api/v1/analytics/tables/stages?pipeline=%d", foreignPipeline), 404, "not_found", ""},
		{"missing campaign", key, "/api/v1/analytics/funnels/campaign?campaign=999999", 404, "not_found", ""},
		{"definitions bad lang", key, "/api/v1/analytics/definitions?lang=fr", 422, "invalid", "lang"},
		{"definitions unknown parameter", key, "/api/v1/analytics/definitions?locale=en", 400, "bad_request", ""},
		{"contacts key", contactsKey, "/api/v1/analytics/dashboard", 403, "insufficient_scope", ""},
		{"contacts key definitions", contactsKey, "/api/v1/analytics/definitions", 403, "insufficient_scope", ""},
		{"no key", "", "/api/v1/analytics/dashboard", 401, "unauthorized", ""},
	}
	for _, tc := range cases {
		res := apiCall(t, c, tc.key, "GET", tc.path, "")
		if res.StatusCode != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, res.StatusCode, res.Body, tc.status)
			continue
		}
		var e struct {
			Error struct {
				Code   string            `json:"code"`
				Fields map[string]string `json:"fields"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(res.Body), &e); err != nil {
			t.Errorf("%s: not JSON: %s", tc.name, res.Body)
			continue
		}
		if e.Error.Code != tc.code {
			t.Errorf("%s: code %q, want %q (%s)", tc.name, e.Error.Code, tc.code, res.Body)
		}
		if tc.field != "" && e.Error.Fields[tc.field] == "" {
			t.Errorf("%s: no error on field %s: %s", tc.name, tc.field, res.Body)
		}
		if strings.Contains(res.Body, ".error.") {
			t.Errorf("%s: the API answered a translation key: %s", tc.name, res.Body)
		}
	}

	// A key limited to analytics reads them (definitions need no family).
	if res := apiCall(t, c, analyticsKey, "GET", "/api/v1/analytics/definitions", ""); res.StatusCode != 200 {
		t.Errorf("analytics:read key: %d %s", res.StatusCode, res.Body)
	}
	if res := apiCall(t, c, analyticsKey, "GET", "/api/v1/contacts", ""); res.StatusCode != 403 {
		t.Errorf("analytics:read key on contacts: %d %s", res.StatusCode, res.Body)
	}
}

// Definitions list every metric of the engine, in its order, with the language asked.
func TestAPIAnalyticsDefinitions(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c, _, key := apiOrg(t, inst, "Loja Definições")
	for _, lang := range []string{"en", "pt-BR"} {
		res := apiCall(t, c, key, "GET", "/api/v1/analytics/definitions?lang="+lang, "")
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", lang, res.StatusCode, res.Body)
		}
		var out struct {
			Lang        string `json:"lang"`
			Definitions []struct {
				Key, Name, About, Unit, Family, Drill string
				Now                                   bool
				NarrowedBy                            []string `json:"narrowed_by"`
			} `json:"definitions"`
		}
		if err := json.Unmarshal([]byte(res.Body), &out); err != nil {
			t.Fatal(err)
		}
		if out.Lang != lang || len(out.Definitions) != len(analytics.Definitions) {
			t.Fatalf("%s: lang %q, %d definitions, want %d", lang, out.Lang, len(out.Definitions), len(analytics.Definitions))
		}
		for i, d := range analytics.Definitions {
			got := out.Definitions[i]
			if got.Key != d.Key || got.Unit != string(d.Unit) || got.Family != d.Family || got.Drill != string(d.Drill) || got.Now != d.Now ||
				!slices.Equal(got.NarrowedBy, nonNilNames(analytics.NarrowedBy(d.Key))) {
				t.Errorf("%s: definition %d is %+v, want %+v", lang, i, got, d)
			}
		}
	}
}

// Each figure of an answer names the filters in force it does not follow: with a label
// chosen, the leads' figures say the label was left aside, the messages' say nothing.
func TestAPIAnalyticsIgnoredFilters(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c, _, key := apiOrg(t, inst, "Loja Filtros")
	get := func(path string, out any) {
		t.Helper()
		res := apiCall(t, c, key, "GET", path, "")
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, res.StatusCode, res.Body)
		}
		if err := json.Unmarshal([]byte(res.Body), out); err != nil {
			t.Fatal(err)
		}
	}
	type scoped struct {
		Metric  string   `json:"metric"`
		Name    string   `json:"name"`
		Ignored []string `json:"ignored_filters"`
	}
	var dash struct {
		KPIs    []scoped `json:"kpis"`
		Now     []scoped `json:"now"`
		Series  []scoped `json:"series"`
		Tables  []scoped `json:"tables"`
		Funnels []scoped `json:"funnels"`
	}
	get("/api/v1/analytics/dashboard?period=7d&label=vip", &dash)
	ignored := map[string][]string{}
	for _, list := range [][]scoped{dash.KPIs, dash.Now, dash.Series, dash.Tables, dash.Funnels} {
		for _, p := range list {
			ignored[p.Metric+p.Name] = p.Ignored
		}
	}
	for part, want := range map[string][]string{
		"leads.created": {"label"}, "leads.won": {"label"}, "calls.total": {"label"}, "messages.sent": nil,
		"conversations.started": nil, "conversations.open": nil, "campaigns": {"label"}, "channels": nil,
		"cadence": {"label"}, "leads": {"label"},
	} {
		got, ok := ignored[part]
		if !ok {
			t.Errorf("the dashboard has no %s", part)
		} else if !slices.Equal(got, want) {
			t.Errorf("%s: ignored_filters %v, want %v", part, got, want)
		}
	}
	// Business hours are named only for a time they do not measure: a call's length.
	var kp struct {
		KPIs []scoped `json:"kpis"`
	}
	get("/api/v1/analytics/kpis?metrics=calls.duration_avg,response.first_median,leads.created&hours=business", &kp)
	if len(kp.KPIs) != 3 || !slices.Equal(kp.KPIs[0].Ignored, []string{"business_hours"}) || kp.KPIs[1].Ignored != nil || kp.KPIs[2].Ignored != nil {
		t.Errorf("under business hours: %+v", kp.KPIs)
	}
	// No filter in force: nothing named anywhere.
	res := apiCall(t, c, key, "GET", "/api/v1/analytics/dashboard?period=7d", "")
	if res.StatusCode != 200 || strings.Contains(res.Body, "ignored_filters") {
		t.Errorf("without filters: %d, ignored_filters named: %v", res.StatusCode, strings.Contains(res.Body, "ignored_filters"))
	}
	var page struct {
		Ignored []string `json:"ignored_filters"`
	}
	get("/api/v1/analytics/drill?metric=cadence.enrolled&label=vip&period=7d", &page)
	if !slices.Equal(page.Ignored, []string{"label"}) {
		t.Errorf("drill of cadence.enrolled under a label: ignored_filters %v", page.Ignored)
	}
}

// The API's numbers are the engine's for the same filter: each route's answer equals what
// analytics.Service gives, read in the org's zone, for every metric, table and funnel.
func TestAPIAnalyticsMatchesService(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	inst := o.inst
	orgID := o.orgID()
	ctx := context.Background()
	key, err := inst.App.Account.CreateAPIKeyForOrgName(ctx, o.name, "números")
	if err != nil {
		t.Fatal(err)
	}
	c := webtest.NewClient(t, inst.URL)
	// Some traffic of today: two customers write, one gets a reply, one is closed.
	owner := model.Actor{OrgID: orgID, Role: model.RoleOwner}
	_ = inst.App.Store.DB().Get(&owner.UserID, `SELECT user_id FROM memberships WHERE org_id = $1`, orgID)
	r1 := o.receive("+5511987650301", "Ana", "Oi, tem pão de queijo?")
	o.receive("+5511987650302", "Caio", "Vocês abrem domingo?")
	if _, err := inst.App.Inbox.Send(ctx, owner, r1.ConversationID, "Tem sim!"); err != nil {
		t.Fatal(err)
	}
	// The sandbox reports the reply delivered, then read: wait for the last, so that the
	// figures stand still while the API and the engine are compared.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var read bool
		_ = inst.App.Store.DB().Get(&read, `SELECT bool_and(status = 'read') FROM messages WHERE org_id = $1 AND direction = 'out'`, orgID)
		if read {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sandbox did not report the reply read")
		}
	}
	if _, err := inst.App.Analytics.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	zone, _ := inst.App.Store.OrgTimeZone(ctx, orgID)
	q := url.Values{"period": {"7d"}}
	f, err := analytics.ParseFilter(q, zone, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	svc := inst.App.Analytics
	same := func(path, field string, want any) {
		t.Helper()
		res := apiCall(t, c, key, "GET", path, "")
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, res.StatusCode, res.Body)
		}
		var got map[string]any
		_ = json.Unmarshal([]byte(res.Body), &got)
		b, _ := json.Marshal(want)
		var w any
		_ = json.Unmarshal(b, &w)
		g := got[field]
		if field == "" {
			delete(got, "filter")
			g = got
		}
		if gj, wj := canonical(g), canonical(w); gj != wj {
			t.Errorf("%s: the API says\n%s\nthe engine says\n%s", path, gj, wj)
		}
	}
	enc := q.Encode()
	var keys []string
	for _, d := range analytics.Definitions {
		keys = append(keys, d.Key)
	}
	kp, err := svc.KPIs(ctx, orgID, f, keys)
	if err != nil {
		t.Fatal(err)
	}
	same("/api/v1/analytics/kpis?metrics="+strings.Join(keys, ",")+"&"+enc, "kpis", kp)
	if !slices.ContainsFunc(kp, func(k analytics.KPI) bool { return k.Current.Known && k.Current.Value > 0 }) {
		t.Errorf("no figure counted today's traffic: %+v", kp)
	}
	checked := 0
	for _, k := range keys {
		if d, _ := analytics.DefinitionOf(k); d.Now {
			continue
		}
		sr, err := svc.Series(ctx, orgID, f, k)
		if err != nil {
			t.Fatal(err)
		}
		same("/api/v1/analytics/series?metric="+k+"&"+enc, "series", sr)
		if d, _ := analytics.DefinitionOf(k); d.Drill != analytics.NoDrill {
			dr, err := svc.Drill(ctx, orgID, f, k, "", "", 50)
			if err != nil {
				t.Fatal(err)
			}
			res := apiCall(t, c, key, "GET", "/api/v1/analytics/drill?metric="+k+"&"+enc, "")
			var page struct {
				Total int64 `json:"total"`
				Items []any `json:"items"`
			}
			_ = json.Unmarshal([]byte(res.Body), &page)
			if res.StatusCode != 200 || page.Total != dr.Total || len(page.Items) != len(dr.Items) {
				t.Errorf("drill %s: the API says %d %d rows (%d on the page), the engine %d (%d)", k, res.StatusCode, page.Total, len(page.Items), dr.Total, len(dr.Items))
			}
		}
		checked++
	}
	for name := range analytics.Tables {
		tb, err := svc.Table(ctx, orgID, f, name)
		if err != nil {
			continue // its family is not there yet
		}
		same("/api/v1/analytics/tables/"+name+"?"+enc, "table", tb)
	}
	for name := range analytics.Funnels {
		fu, err := svc.Funnel(ctx, orgID, f, name)
		if err != nil {
			continue
		}
		same("/api/v1/analytics/funnels/"+name+"?"+enc, "funnel", fu)
	}
	if h, err := svc.Home(ctx, orgID, f); err == nil {
		same("/api/v1/analytics/dashboard?"+enc, "", h)
	} else {
		t.Logf("the dashboard waits for every family: %v", err)
	}
	t.Logf("checked %d metrics' figures, series and lists", checked)
}

// canonical is v as JSON with null lists as empty ones, so that an answer's [] equals a
// nil slice of the engine.
func canonical(v any) string {
	var norm func(any) any
	norm = func(v any) any {
		switch x := v.(type) {
		case nil:
			return []any{}
		case map[string]any:
			for k, e := range x {
				x[k] = norm(e)
			}
		case []any:
			for i, e := range x {
				x[i] = norm(e)
			}
		}
		return v
	}
	b, _ := json.Marshal(norm(v))
	return string(b)
}

// analyticsContract calls every analytics route for TestAPIAnswersMatchOpenAPI: its
// refusals always, its figures once the engine's families compute them.
func analyticsContract(t *testing.T, inst *webtest.Instance, orgID int64, key string, call contractCall) {
	t.Helper()
	call("GET", "/analytics/definitions", "", key, 200, true)
	call("GET", "/analytics/definitions?lang=pt-BR", "", key, 200, true)
	call("GET", "/analytics/definitions?lang=fr", "", key, 422, false)
	call("GET", "/analytics/definitions?x=1", "", key, 400, false)
	call("GET", "/analytics/dashboard?period=fortnight", "", key, 422, false)
	call("GET", "/analytics/dashboard?periodo=7d", "", key, 400, false)
	call("GET", "/analytics/dashboard?channel=999999", "", key, 404, true)
	call("GET", "/analytics/kpis?metrics=nope", "", key, 422, true)
	call("GET", "/analytics/kpis?metrics=messages.sent&from=2026-03-01&to=2026-02-01", "", key, 422, true)
	call("GET", "/analytics/kpis?metrics=messages.sent&agent=999999", "", key, 404, true)
	call("GET", "/analytics/kpis?metrics=messages.sent&x=1", "", key, 400, false)
	call("GET", "/analytics/series?metric=nope", "", key, 422, true)
	call("GET", "/analytics/series?metric=messages.sent&campaign=999999", "", key, 404, true)
	call("GET", "/analytics/series?metric=messages.sent&x=1", "", key, 400, false)
	call("GET", "/analytics/tables/people", "", key, 404, true)
	call("GET", "/analytics/tables/agents?from=2026-01-01", "", key, 422, true)
	call("GET", "/analytics/tables/agents?x=1", "", key, 400, false)
	call("GET", "/analytics/funnels/sales", "", key, 404, true)
	call("GET", "/analytics/funnels/campaign?hours=night", "", key, 422, false)
	call("GET", "/analytics/funnels/campaign?x=1", "", key, 400, false)
	call("GET", "/analytics/drill?metric=nope", "", key, 422, true)
	call("GET", "/analytics/drill?metric=messages.sent&limit=500", "", key, 400, false)
	call("GET", "/analytics/drill?metric=messages.sent&pipeline=999999", "", key, 404, true)
	call("GET", "/analytics/kpis?metrics=messages.sent,conversations.open,response.first_median", "", key, 200, true)
	call("GET", "/analytics/series?metric=messages.sent&period=today", "", key, 200, true)
	call("GET", "/analytics/series?metric=conversations.open", "", key, 422, true)
	call("GET", "/analytics/drill?metric=messages.sent&limit=5", "", key, 200, true)
	call("GET", "/analytics/drill?metric=messages.sent&after=forged", "", key, 400, true)
	call("GET", "/analytics/tables/channels?hours=business", "", key, 200, true)
	call("GET", "/analytics/tables/agents", "", key, 200, true)
	call("GET", "/analytics/dashboard", "", key, 200, true)
	call("GET", "/analytics/dashboard?period=7d&hours=business", "", key, 200, true)
	call("GET", "/analytics/dashboard?label=vip&hours=business", "", key, 200, true)
	call("GET", "/analytics/kpis?metrics=leads.created,calls.duration_avg,messages.sent&label=vip&hours=business", "", key, 200, true)
	call("GET", "/analytics/series?metric=leads.created&label=vip", "", key, 200, true)
	call("GET", "/analytics/tables/stages?label=vip", "", key, 200, true)
	call("GET", "/analytics/funnels/cadence?label=vip", "", key, 200, true)
	call("GET", "/analytics/drill?metric=leads.created&label=vip", "", key, 200, true)
	for name := range analytics.Tables {
		call("GET", "/analytics/tables/"+name, "", key, 200, true)
	}
	for name := range analytics.Funnels {
		call("GET", "/analytics/funnels/"+name, "", key, 200, true)
	}
}

// nonNilNames is names, or an empty list for nil (an answer's []).
func nonNilNames(names []string) []string {
	if names == nil {
		return []string{}
	}
	return names
}
