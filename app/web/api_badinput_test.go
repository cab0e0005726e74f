package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/lib/pq"

	"masteria/app/config"
	"masteria/app/crm"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/sim/retellsim"
	"masteria/app/store/storetest"
	"masteria/app/web"
	"masteria/app/web/webtest"
)

// apiWalkRoute is what the bad-input walk knows of one API route: a body it takes (with
// {name} standing for an id of the org's fixture), and whether it is a paged list.
type apiWalkRoute struct {
	body string // "" for a route that reads no body
	list bool
}

const walkCadence = `{"name":"Walk","steps":[{"id":"s1","kind":"wait","wait_minutes":5}]}`

// apiWalkRoutes names every route of the API. A route missing here fails
// TestAPIBadInputOnEveryRoute, so a new route gets its bad input tried.
var apiWalkRoutes = map[string]apiWalkRoute{
	"GET /me": {},

	"GET /channels":               {list: true},
	"POST /channels":              {body: `{"kind":"sandbox","name":"Walk"}`},
	"GET /channels/:id":           {},
	"GET /channels/:id/templates": {},
	"PUT /channels/:id/bot":       {body: `{"persona_id":null}`},
	"POST /messages":              {body: `{"channel_id":{channel},"to":"+5511987650001","text":"Olá"}`},

	"GET /conversations":                         {list: true},
	"POST /conversations":                        {body: `{"channel_id":{channel},"contact_id":{contact},"text":"Olá"}`},
	"GET /conversations/:id/messages":            {list: true},
	"PUT /conversations/:id/bot":                 {body: `{"on":false}`},
	"POST /conversations/:id/assist/summary":     {body: `{"language":"pt-BR"}`},
	"POST /conversations/:id/assist/suggest":     {body: `{}`},
	"POST /conversations/:id/assist/rewrite":     {body: `{"text":"Olá","style":"shorter"}`},
	"GET /contacts":                              {list: true},
	"POST /contacts":                             {body: `{"name":"Walk"}`},
	"GET /contacts/:id":                          {},
	"PATCH /contacts/:id":                        {body: `{"name":"Walk"}`},
	"DELETE /contacts/:id":                       {},
	"POST /contacts/:id/tags":                    {body: `{"tag_ids":[{tag}]}`},
	"DELETE /contacts/:id/tags/:tag_id":          {},
	"PUT /contacts/:id/opt-outs":                 {body: `{"sms":true}`},
	"POST /contacts/:id/merge":                   {body: `{"other_id":{contact2}}`},
	"GET /tags":                                  {list: true},
	"POST /tags":                                 {body: `{"name":"Walk"}`},
	"PATCH /tags/:id":                            {body: `{"name":"Walk"}`},
	"DELETE /tags/:id":                           {},
	"GET /custom-fields":                         {list: true},
	"GET /segments":                              {list: true},
	"GET /segments/:id":                          {},
	"GET /segments/:id/count":                    {},
	"GET /pipelines":                             {list: true},
	"GET /pipelines/:id":                         {},
	"GET /pipelines/:id/suggestions":             {list: true},
	"GET /pipelines/:id/ai":                      {},
	"PUT /pipelines/:id/ai":                      {body: `{"enabled":false}`},
	"GET /leads":                                 {list: true},
	"POST /leads":                                {body: `{"stage_id":{stage},"title":"Walk"}`},
	"GET /leads/:id":                             {},
	"PATCH /leads/:id":                           {body: `{"title":"Walk"}`},
	"DELETE /leads/:id":                          {},
	"POST /leads/:id/move":                       {body: `{"stage_id":{stage}}`},
	"GET /leads/:id/suggestions":                 {},
	"GET /leads/:id/ai-moves":                    {},
	"POST /suggestions/:id/accept":               {},
	"POST /suggestions/:id/dismiss":              {},
	"POST /ai-moves/:id/undo":                    {},
	"GET /campaigns":                             {list: true},
	"POST /campaigns":                            {body: `{"name":"Walk"}`},
	"GET /campaigns/:id":                         {},
	"GET /campaigns/:id/check":                   {},
	"POST /campaigns/:id/launch":                 {},
	"POST /campaigns/:id/pause":                  {},
	"POST /campaigns/:id/resume":                 {},
	"POST /campaigns/:id/cancel":                 {},
	"POST /campaigns/:id/retry-failed":           {},
	"GET /campaigns/:id/progress":                {},
	"GET /campaigns/:id/recipients":              {list: true},
	"GET /cadences":                              {list: true},
	"POST /cadences":                             {body: walkCadence},
	"GET /cadences/:id":                          {},
	"PUT /cadences/:id":                          {body: walkCadence},
	"POST /cadences/:id/enrolments":              {body: `{"contact_ids":[{contact}]}`},
	"DELETE /cadences/:id/enrolments/:enrolment": {},
	"GET /enrolments/:id":                        {},
	"GET /knowledge-bases":                       {list: true},
	"POST /knowledge-bases":                      {body: `{"name":"Walk"}`},
	"GET /knowledge-bases/:id":                   {},
	"PATCH /knowledge-bases/:id":                 {body: `{"name":"Walk"}`},
	"DELETE /knowledge-bases/:id":                {},
	"GET /knowledge-bases/:id/documents":         {list: true},
	"POST /knowledge-bases/:id/documents":        {body: `{"title":"Walk","text":"Bolo de fubá"}`},
	"GET /knowledge-bases/:id/documents/:doc":    {},
	"DELETE /knowledge-bases/:id/documents/:doc": {},
	"GET /knowledge-bases/:id/search":            {},
	"GET /personas":                              {list: true},
	"POST /personas":                             {body: `{"name":"Walk"}`},
	"GET /personas/:id":                          {},
	"PUT /personas/:id":                          {body: `{"tone":"formal"}`},
	"DELETE /personas/:id":                       {},
	"GET /calls":                                 {list: true},
	"POST /calls":                                {body: `{"contact_id":{contact}}`},
	"GET /calls/:id":                             {},
	"GET /voice-numbers":                         {list: true},
	"POST /voice-numbers":                        {body: `{"channel_id":{channel},"phone_number":"+14155550100"}`},
	"GET /voice-numbers/available":               {},
	"POST /voice-numbers/link":                   {body: `{"phone_number":"+14155550100"}`},
	"GET /voice-numbers/:id":                     {},
	"DELETE /voice-numbers/:id":                  {},
	"POST /voice-numbers/:id/continue":           {},
	"PUT /voice-numbers/:id/agents":              {body: `{"inbound_agent_id":"agent_1"}`},
	"GET /webhook-endpoints":                     {list: true},
	"POST /webhook-endpoints":                    {body: `{"url":"https://example.com/hooks","event_types":["contact.created"]}`},
	"GET /webhook-endpoints/:id":                 {},
	"PATCH /webhook-endpoints/:id":               {body: `{"description":"Walk"}`},
	"DELETE /webhook-endpoints/:id":              {},
	"POST /webhook-endpoints/:id/rotate":         {body: `{"overlap_hours":1}`},
	"POST /webhook-endpoints/:id/test":           {},
	"GET /webhook-endpoints/:id/deliveries":      {list: true},
	"POST /webhook-endpoints/:id/deliveries/:delivery_id/replay": {},
	"POST /webhook-endpoints/:id/replay":                         {body: `{"from":"2020-01-01T00:00:00Z","to":"2099-01-01T00:00:00Z"}`},
	"GET /analytics/dashboard":                                   {},
	"GET /analytics/kpis":                                        {},
	"GET /analytics/series":                                      {},
	"GET /analytics/tables/:name":                                {},
	"GET /analytics/funnels/:name":                               {},
	"GET /analytics/drill":                                       {},
	"GET /analytics/definitions":                                 {},
}

// apiWalkNames are the values of the path parameters that name something every org has
// (an analytics table or funnel), rather than an id.
var apiWalkNames = map[string]string{"/analytics/tables/:name": "agents", "/analytics/funnels/:name": "campaign"}

// apiWalkParam names the fixture an id of a route's path stands for: :id by the first
// segment of the path, the others by their own name.
func apiWalkParam(path, param string) string {
	if param != "id" {
		return map[string]string{"tag_id": "tag", "doc": "doc", "delivery_id": "delivery", "enrolment": "enrolment"}[param]
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return map[string]string{"channels": "channel", "conversations": "conversation", "contacts": "contact", "tags": "tag",
		"segments": "segment", "pipelines": "pipeline", "leads": "lead", "suggestions": "suggestion", "ai-moves": "move",
		"campaigns": "campaign", "cadences": "cadence", "enrolments": "enrolment", "knowledge-bases": "kb", "personas": "persona",
		"calls": "call", "voice-numbers": "number", "webhook-endpoints": "hook"}[first]
}

// walkOrg is an org with one of everything the API's paths name.
type walkOrg struct {
	id  int64
	key string
	ids map[string]int64
}

var (
	walkPathParam = regexp.MustCompile(`:(\w+)`)
	walkBodyParam = regexp.MustCompile(`\{(\w+)\}`)
)

// path puts the org's ids in a route's path.
func (o walkOrg) path(t *testing.T, route string) string {
	t.Helper()
	return walkPathParam.ReplaceAllStringFunc(route, func(m string) string {
		if m == ":name" {
			return apiWalkNames[route]
		}
		return o.idOf(t, route, apiWalkParam(route, m[1:]))
	})
}

// body puts the org's ids in a route's body.
func (o walkOrg) body(t *testing.T, route, body string) []byte {
	t.Helper()
	return []byte(walkBodyParam.ReplaceAllStringFunc(body, func(m string) string {
		return o.idOf(t, route, strings.Trim(m, "{}"))
	}))
}

func (o walkOrg) idOf(t *testing.T, route, name string) string {
	t.Helper()
	id, ok := o.ids[name]
	if !ok {
		t.Fatalf("%s: no fixture for %s", route, name)
	}
	return fmt.Sprint(id)
}

func newWalkOrg(t *testing.T, inst *webtest.Instance, name, receiver string) walkOrg {
	t.Helper()
	ctx := context.Background()
	c := webtest.NewClient(t, inst.URL)
	c.Signup(name, "Iara", uniqueEmail("iara"), strongPassword)
	o := walkOrg{ids: map[string]int64{}}
	db := inst.App.Store.DB()
	if err := db.Get(&o.id, `SELECT id FROM orgs WHERE name = $1`, name); err != nil {
		t.Fatal(err)
	}
	var err error
	if o.key, err = inst.App.Account.CreateAPIKeyForOrgName(ctx, name, "walk"); err != nil {
		t.Fatal(err)
	}
	a := model.Actor{OrgID: o.id, Role: model.RoleOwner}
	if err := db.Get(&a.UserID, `SELECT user_id FROM memberships WHERE org_id = $1`, o.id); err != nil {
		t.Fatal(err)
	}
	api := func(method, path, body, field string) int64 {
		t.Helper()
		res := apiCall(t, c, o.key, method, "/api/v1"+path, body)
		if res.StatusCode >= 300 {
			t.Fatalf("fixture %s %s: %d %s", method, path, res.StatusCode, res.Body)
		}
		var out map[string]struct {
			ID int64 `json:"id"`
		}
		_ = json.Unmarshal([]byte(res.Body), &out)
		return out[field].ID
	}

	ch, err := inst.App.Inbox.CreateChannel(ctx, a, model.KindSandbox, "Walk", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.ids["channel"] = ch.ID
	got, err := inst.App.Inbox.Receive(ctx, ch, inbox.Inbound{From: fmt.Sprintf("+55119876%05d", o.id), Name: "Rui", Body: "Olá", ProviderID: fmt.Sprintf("walk.%d", o.id)})
	if err != nil {
		t.Fatal(err)
	}
	o.ids["conversation"], o.ids["contact"] = got.ConversationID, got.ContactID
	other, err := inst.App.CRM.Create(ctx, a, crm.ContactInput{Name: "Outra"})
	if err != nil {
		t.Fatal(err)
	}
	o.ids["contact2"] = other.ID
	tag, err := inst.App.CRM.CreateTag(ctx, a, "VIP", "green")
	if err != nil {
		t.Fatal(err)
	}
	o.ids["tag"] = tag.ID
	if o.ids["segment"], err = inst.App.CRM.SaveSegment(ctx, a, 0, "VIPs", model.ContactFilter{TagIDs: []int64{tag.ID}}); err != nil {
		t.Fatal(err)
	}
	fx := newProgressionFixture(t, inst, o.id)
	o.ids["pipeline"], o.ids["lead"], o.ids["suggestion"], o.ids["move"] = fx.pipeline, fx.suggLead, fx.sugg, fx.move
	stages, err := inst.App.Board.Stages(ctx, o.id, fx.pipeline)
	if err != nil {
		t.Fatal(err)
	}
	o.ids["stage"] = stages[1].ID
	var cadence int64
	if err := db.Get(&cadence, `INSERT INTO cadences (org_id, name, status) VALUES ($1, 'Walk', 'active') RETURNING id`, o.id); err != nil {
		t.Fatal(err)
	}
	o.ids["cadence"] = cadence
	if _, err := db.Exec(`INSERT INTO cadence_versions (org_id, cadence_id, version, steps)
		VALUES ($1, $2, 1, '[{"id":"s1","kind":"wait","wait_minutes":600}]')`, o.id, o.ids["cadence"]); err != nil {
		t.Fatal(err)
	}
	res := apiCall(t, c, o.key, "POST", fmt.Sprintf("/api/v1/cadences/%d/enrolments", o.ids["cadence"]), fmt.Sprintf(`{"contact_ids":[%d]}`, o.ids["contact2"]))
	var enrolled struct {
		IDs []int64 `json:"enrolment_ids"`
	}
	if _ = json.Unmarshal([]byte(res.Body), &enrolled); len(enrolled.IDs) != 1 {
		t.Fatalf("enrol: %d %s", res.StatusCode, res.Body)
	}
	o.ids["enrolment"] = enrolled.IDs[0]
	o.ids["campaign"] = api("POST", "/campaigns", `{"name":"Rascunho"}`, "campaign")
	o.ids["kb"] = api("POST", "/knowledge-bases", `{"name":"Cardápio"}`, "knowledge_base")
	o.ids["doc"] = api("POST", fmt.Sprintf("/knowledge-bases/%d/documents", o.ids["kb"]), `{"title":"Bolos","text":"Bolo de fubá às 15 horas."}`, "document")
	o.ids["persona"] = api("POST", "/personas", `{"name":"Ana"}`, "persona")
	vn, err := inst.App.Store.CreateVoiceNumber(ctx, o.id, model.VoiceNumber{PhoneNumber: fmt.Sprintf("+1415556%04d", o.id%10000), Source: "twilio",
		Country: "US", Step: model.NumberBought, Status: "failed"})
	if err != nil {
		t.Fatal(err)
	}
	o.ids["number"] = vn.ID
	o.ids["call"] = callFixture(t, inst, o.id)
	// It wants an event the walk never causes, so no delivery runs while rows are compared.
	o.ids["hook"] = api("POST", "/webhook-endpoints", fmt.Sprintf(`{"url":%q,"event_types":["invite.revoked"]}`, receiver), "webhook_endpoint")
	o.ids["delivery"] = api("POST", fmt.Sprintf("/webhook-endpoints/%d/test", o.ids["hook"]), "", "delivery")
	// What runs in the background is done before anything is compared.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		d, err := inst.App.Knowledge.Document(ctx, o.id, o.ids["doc"])
		if err == nil && (d.Status == model.DocReady || d.Status == model.DocFailed) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the document was not indexed in 30 s")
		}
	}
	return o
}

// orgPrint is a digest of every row an org has in each tenant table (but the API's own
// bookkeeping — keys' last use, idempotency records — and rollups), to tell that a request
// changed nothing.
func orgPrint(t *testing.T, inst *webtest.Instance, orgID int64) map[string]string {
	t.Helper()
	db := inst.App.Store.DB()
	var tables []string
	if err := db.Select(&tables, `SELECT table_name FROM information_schema.columns
		WHERE table_schema = 'public' AND column_name = 'org_id' ORDER BY table_name`); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tb := range tables {
		// Rollups a background job keeps (call_stats_daily, analytics_*) change on their own time.
		if tb == "api_keys" || strings.HasPrefix(tb, "api_idempotency") || strings.HasPrefix(tb, "analytics") || tb == "call_stats_daily" {
			continue
		}
		var sum string
		q := fmt.Sprintf(`SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM %s t WHERE org_id = $1`, pq.QuoteIdentifier(tb))
		if err := db.Get(&sum, q, orgID); err != nil {
			t.Fatalf("%s: %v", tb, err)
		}
		out[tb] = sum
	}
	return out
}

func printDiff(before, after map[string]string) []string {
	var changed []string
	for tb, sum := range after {
		if before[tb] != sum {
			changed = append(changed, tb)
		}
	}
	slices.Sort(changed)
	return changed
}

// TestAPIBadInputOnEveryRoute walks every route of the API with what an integrator may get
// wrong: no key, a revoked key, a key whose scope leaves the route out, another org's ids,
// a body that is not JSON or is JSON of the wrong type, NUL bytes and invalid UTF-8, a body
// over the limit, a wrong Content-Type, a query parameter a list does not take, a forged
// cursor and a limit out of range. Each answer is the documented error with its stable
// code (validated against openapi.yaml with kin-openapi), and changes nothing.
func TestAPIBadInputOnEveryRoute(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rsim := retellsim.New()
	if _, err := rsim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rsim.Close)
	inst := webtest.StartOn(t, storetest.URL(t), func(c *config.Config) {
		c.RetellAPIURL = rsim.URL()
		c.WebhooksAllowPrivate = true
		c.APIRateLimit = 100_000
	})
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(receiver.Close)
	own := newWalkOrg(t, inst, "Loja Caminho", receiver.URL)
	foreign := newWalkOrg(t, inst, "Loja Vizinha", receiver.URL)
	cl := webtest.NewClient(t, inst.URL)

	admin := model.Actor{OrgID: own.id, Role: model.RoleAdmin}
	revokedKey, revoked, err := inst.App.Account.CreateScopedAPIKey(ctx, admin, "revogada", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.App.Account.RevokeAPIKey(ctx, admin, revokedKey.ID); err != nil {
		t.Fatal(err)
	}
	scoped := map[string]string{}
	for _, scope := range []string{"read", "contacts:read", "webhooks:read"} {
		_, k, err := inst.App.Account.CreateScopedAPIKey(ctx, admin, "escopo "+scope, scope)
		if err != nil {
			t.Fatal(err)
		}
		scoped[scope] = k
	}

	raw := cl.Get("/api/v1/openapi.yaml")
	doc, err := openapi3.NewLoader().LoadFromData([]byte(raw.Body))
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = openapi3.Servers{{URL: inst.URL + "/api/v1"}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}

	type answer struct {
		status    int
		code, msg string
	}
	// send makes one request and checks its answer fits the document.
	send := func(name, method, path, ctype, key string, body []byte) answer {
		t.Helper()
		req, _ := http.NewRequest(method, inst.URL+"/api/v1"+path, bytes.NewReader(body))
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		res := cl.Do(req)
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal([]byte(res.Body), &e)
		if e.Error.Code == "" || e.Error.Message == "" {
			t.Errorf("%s %s (%s): %d without the error shape: %.200s", method, path, name, res.StatusCode, res.Body)
		}
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Errorf("%s %s is not in the document: %v", method, path, err)
			return answer{res.StatusCode, e.Error.Code, e.Error.Message}
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
			Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		out.SetBodyBytes([]byte(res.Body))
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			t.Errorf("%s %s (%s) → %d does not match the document: %v", method, path, name, res.StatusCode, firstLine(err))
		}
		return answer{res.StatusCode, e.Error.Code, e.Error.Message}
	}
	want := func(name, method, path string, got answer, status int, codes ...string) {
		t.Helper()
		if got.status != status || len(codes) > 0 && !slices.Contains(codes, got.code) {
			t.Errorf("%s %s (%s): %d %s, want %d %v", method, path, name, got.status, got.code, status, codes)
		}
	}

	// badText is the refusal of a NUL byte or invalid UTF-8, told from other 400s by its words.
	badText := func(name, method, path string, got answer) {
		t.Helper()
		want(name, method, path, got, 400, "bad_request")
		if !strings.Contains(got.msg, "can't store") {
			t.Errorf("%s %s (%s): refused for another reason: %s", method, path, name, got.msg)
		}
	}
	big := func(size int) []byte {
		return []byte(`{"name":"` + strings.Repeat("a", size) + `"}`)
	}
	seen := 0
	for _, ep := range inst.App.Web.Endpoints() {
		rp, ok := strings.CutPrefix(ep.Path, "/api/v1")
		if !ok || rp == "/openapi.yaml" || rp == "/*" || ep.Method == "echo_route_not_found" {
			continue
		}
		seen++
		id := ep.Method + " " + rp
		r, ok := apiWalkRoutes[id]
		if !ok {
			t.Errorf("%s has no case in apiWalkRoutes: say what it takes, so its bad input is tried", id)
			continue
		}
		m := ep.Method
		write := m != http.MethodGet
		path := own.path(t, rp)
		body := own.body(t, rp, r.body)
		ctype := ""
		if r.body != "" {
			ctype = "application/json"
		}

		// Who may call it.
		want("no key", m, path, send("no key", m, path, ctype, "", body), 401, "unauthorized")
		want("revoked key", m, path, send("revoked key", m, path, ctype, revoked, body), 401, "unauthorized")
		if rp != "/me" {
			scope := "read"
			if !write {
				scope = "webhooks:read"
				if area, _ := web.APIArea(ep.Path); area == "webhooks" {
					scope = "contacts:read"
				}
			}
			want("out of scope", m, path, send("out of scope", m, path, ctype, scoped[scope], body), 403, "insufficient_scope")
		}

		// Another org's ids: not found, and the other org is as it was (a name of a
		// table or funnel is no id: every org has them).
		if strings.Contains(strings.ReplaceAll(rp, ":name", ""), ":") {
			before := orgPrint(t, inst, foreign.id)
			fpath := foreign.path(t, rp)
			fbody := foreign.body(t, rp, r.body)
			want("another org's id", m, fpath, send("another org's id", m, fpath, ctype, own.key, fbody), 404, "not_found")
			if changed := printDiff(before, orgPrint(t, inst, foreign.id)); len(changed) > 0 {
				t.Errorf("%s with another org's id changed its %v", id, changed)
			}
		}

		// Bad text and bad bodies: refused, nothing stored.
		before := orgPrint(t, inst, own.id)
		badText("NUL in the query", m, path+"?q=a%00b", send("NUL in the query", m, path+"?q=a%00b", ctype, own.key, body))
		badText("invalid UTF-8 in the query", m, path+"?q=a%FFb", send("invalid UTF-8 in the query", m, path+"?q=a%FFb", ctype, own.key, body))
		if write {
			nul := []byte(`{"name":"a\u0000b"}`)
			if r.body != "" {
				nul = []byte(strings.Replace(strings.Replace(string(body), `{`, `{"x\u0000":"a\u0000b",`, 1), ",}", "}", 1))
			}
			badText("NUL in the body", m, path, send("NUL in the body", m, path, "application/json", own.key, nul))
			badText("invalid UTF-8 in the body", m, path, send("invalid UTF-8 in the body", m, path, "application/json", own.key, []byte("{\"name\":\"a\xffb\"}")))
			size := 2<<20 + 10
			if strings.HasSuffix(rp, "/documents") {
				size = 11 << 20 // the document upload reads its own, larger limit
			}
			want("a body over the limit", m, path, send("a body over the limit", m, path, "application/json", own.key, big(size)), 413, "too_large")
			want("a wrong Content-Type", m, path, send("a wrong Content-Type", m, path, "text/plain", own.key, body), 415, "unsupported_media_type")
		}
		if r.body != "" {
			want("malformed JSON", m, path, send("malformed JSON", m, path, "application/json", own.key, []byte(`{"name":`)), 400, "bad_json", "bad_request")
			want("JSON of the wrong type", m, path, send("JSON of the wrong type", m, path, "application/json", own.key, []byte(`[1,2]`)), 400, "bad_json", "bad_request")
		}
		if r.list {
			want("an unknown query parameter", m, path, send("an unknown query parameter", m, path+"?colour=red", "", own.key, nil), 400, "bad_request")
			want("a forged cursor", m, path, send("a forged cursor", m, path+"?after=forged", "", own.key, nil), 400, "bad_cursor")
			want("a cursor of no row", m, path, send("a cursor of no row", m, path+"?after=aWQ6MA", "", own.key, nil), 400, "bad_cursor") // "id:0"
			badText("NUL in the cursor", m, path, send("NUL in the cursor", m, path+"?after=aWQ6MQ%00", "", own.key, nil))
			badText("invalid UTF-8 in the limit", m, path, send("invalid UTF-8 in the limit", m, path+"?limit=1%FF", "", own.key, nil))
			for _, l := range []string{"0", "100000", "ten"} {
				want("limit "+l, m, path, send("limit "+l, m, path+"?limit="+l, "", own.key, nil), 400, "bad_request")
			}
		}
		if changed := printDiff(before, orgPrint(t, inst, own.id)); len(changed) > 0 {
			t.Errorf("%s: bad input changed %v", id, changed)
		}
	}
	if seen < len(apiWalkRoutes) {
		t.Errorf("the router has %d API routes, the walk names %d: remove the routes that are gone", seen, len(apiWalkRoutes))
	}
}

// firstLine keeps a validation error short.
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// TestOpenAPIDocumentsEveryAnswer: every route of the router is an operation of
// openapi.yaml (a valid document, read by kin-openapi) that documents the errors every
// route can give — 400 bad text, 401, 403 out of scope, 429, 404 where the path names
// something, 413 and 415 where a body may come, and on a POST the Idempotency-Key's 409
// and 422 — and every paged list documents its after, limit and next.
func TestOpenAPIDocumentsEveryAnswer(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	raw := webtest.NewClient(t, inst.URL).Get("/api/v1/openapi.yaml")
	doc, err := openapi3.NewLoader().LoadFromData([]byte(raw.Body))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	n := 0
	for _, ep := range inst.App.Web.Endpoints() {
		rp, ok := strings.CutPrefix(ep.Path, "/api/v1")
		if !ok || rp == "/openapi.yaml" || rp == "/*" || ep.Method == "echo_route_not_found" {
			continue
		}
		n++
		docPath := walkPathParam.ReplaceAllString(rp, "{$1}")
		item := doc.Paths.Find(docPath)
		var op *openapi3.Operation
		if item != nil {
			op = item.GetOperation(ep.Method)
		}
		if op == nil {
			t.Errorf("%s %s is not in openapi.yaml", ep.Method, docPath)
			continue
		}
		need := []string{"400", "401", "429"}
		if rp != "/me" {
			need = append(need, "403")
		}
		if strings.Contains(rp, ":") {
			need = append(need, "404")
		}
		if ep.Method != http.MethodGet {
			need = append(need, "413", "415")
		}
		if ep.Method == http.MethodPost {
			need = append(need, "409", "422")
		}
		for _, code := range need {
			if op.Responses.Value(code) == nil {
				t.Errorf("%s %s does not document its %s answer", ep.Method, docPath, code)
			}
		}
		if !apiWalkRoutes[ep.Method+" "+rp].list {
			continue
		}
		for _, p := range []string{"after", "limit"} {
			params := append(slices.Clone(item.Parameters), op.Parameters...)
			if params.GetByInAndName("query", p) == nil {
				t.Errorf("%s %s is a paged list without ?%s", ep.Method, docPath, p)
			}
		}
		ok200 := op.Responses.Value("200")
		if ok200 == nil || ok200.Value.Content.Get("application/json") == nil ||
			ok200.Value.Content.Get("application/json").Schema.Value.Properties["next"] == nil {
			t.Errorf("%s %s is a paged list whose answer has no next", ep.Method, docPath)
		}
	}
	if n < len(apiWalkRoutes) {
		t.Fatalf("only %d API routes seen", n)
	}
}
