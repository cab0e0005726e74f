package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/retellsim"
	"masteria/app/store/storetest"
	"masteria/app/voice/retell"
	"masteria/app/web/webtest"
)

// callOrg is an inbox org whose Retell account is the simulator, with a ready number.
type callOrg struct {
	*inboxOrg
	sim    *retellsim.Server
	number int64
}

const callKey = "key_dial_web_0123456789"

func newCallOrg(t *testing.T) *callOrg {
	t.Helper()
	sim := retellsim.New(retellsim.WithAPIKeys(callKey), retellsim.WithRetryDelay(10*time.Millisecond))
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	inst := webtest.StartOn(t, storetest.URL(t), func(c *config.Config) { c.RetellAPIURL = sim.URL() })
	o := &inboxOrg{t: t, inst: inst, owner: webtest.NewClient(t, inst.URL), name: "Doceria Três Marias"}
	o.home = o.owner.Signup(o.name, "Marta", uniqueEmail("marta"), strongPassword)
	if res := o.owner.Post(o.home+"/settings/channels", url.Values{"kind": {model.KindSandbox}, "name": {"Atendimento"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create channel: %d", res.StatusCode)
	}
	chs, err := inst.App.Inbox.Channels(context.Background(), o.orgID())
	if err != nil || len(chs) != 1 {
		t.Fatalf("channels: %v", err)
	}
	o.ch = chs[0]
	acct := retellAccount(t, inst, o.orgID(), callKey)
	sim.SetWebhook(fmt.Sprintf("%s/webhooks/retell/%d", inst.URL, acct))
	sim.AddAgent(retell.Agent{AgentID: "agent_vendas", AgentName: "Vendas"})
	sim.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: "+551130001000", OutboundAgents: []retell.AgentWeight{{AgentID: "agent_vendas", Weight: 1}}})
	co := &callOrg{inboxOrg: o, sim: sim}
	db := inst.App.Store.DB()
	if err := db.Get(&co.number, `INSERT INTO voice_numbers (org_id, phone_number, source, step, status, outbound_agent_id, nickname)
		VALUES ($1, '+551130001000', 'linked', 'ready', 'ready', 'agent_vendas', 'Vendas') RETURNING id`, o.orgID()); err != nil {
		t.Fatal(err)
	}
	// Every day, all day: these tests are not about calling hours (one is, and sets them).
	if _, err := db.Exec(`UPDATE voice_accounts SET call_hours_start = 0, call_hours_end = 24, call_days = 127 WHERE org_id = $1`, o.orgID()); err != nil {
		t.Fatal(err)
	}
	return co
}

// hxHeader is the header of a request htmx sends.
var hxHeader = []string{"HX-Request", "true"}

func (o *callOrg) post(c *webtest.Client, path string, form url.Values) *webtest.Response {
	o.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", c.CSRF())
	return c.PostRaw(path, form, hxHeader...)
}

// toastText is the toast of an htmx answer, as "kind: message".
func toastText(res *webtest.Response) string {
	kind, msg := toastOf(res)
	return kind + ": " + msg
}

// TestCallFromContactLeadAndConversation: a member calls a contact from its page, its lead's
// card menu and its conversation; each call reaches Retell with the contact's details and
// ties back; the pages offer the Call button only where a number can call.
func TestCallFromContactLeadAndConversation(t *testing.T) {
	t.Parallel()
	o := newCallOrg(t)
	ctx := context.Background()
	r := o.receive("+5511955557001", "Joana Prado", "Quero encomendar um bolo")
	contactPath := fmt.Sprintf("%s/contacts/%d", o.home, r.ContactID)
	if page := o.owner.Get(contactPath); !strings.Contains(page.Body, `data-testid="contact-call"`) {
		t.Fatal("the contact page has no Call button")
	}
	res := o.post(o.owner, contactPath+"/call", nil)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(toastText(res), "success: Calling Joana Prado") {
		t.Fatalf("call from the contact: %d %q", res.StatusCode, toastText(res))
	}
	calls := o.sim.Calls()
	if len(calls) != 1 || calls[0].ToNumber != "+5511955557001" || calls[0].DynamicVariables["first_name"] != "Joana" {
		t.Fatalf("Retell got %+v", calls)
	}
	var meta map[string]int64
	_ = json.Unmarshal(calls[0].Metadata, &meta)
	if meta["contact_id"] != r.ContactID || meta["conversation_id"] != r.ConversationID {
		t.Fatalf("metadata %v", meta)
	}

	// A lead of the contact, called from its card's menu by an agent (Portuguese).
	agent, _ := o.member(model.RoleAgent)
	agent.Lang = "pt-BR"
	lead, err := o.inst.App.Store.CreateLead(ctx, model.Lead{OrgID: o.orgID(), PipelineID: o.pipeline(), StageID: o.stage(), ContactID: r.ContactID,
		Title: "Bolo de casamento", Rank: "a"})
	if err != nil {
		t.Fatal(err)
	}
	leadPath := fmt.Sprintf("%s/board/leads/%d", o.home, lead)
	if menu := agent.Get(leadPath+"/menu", hxHeader...); !strings.Contains(menu.Body, `data-testid="lead-call"`) {
		t.Fatalf("the card's menu has no Call item: %s", menu.Body)
	}
	res = o.post(agent, leadPath+"/call", url.Values{"number_id": {fmt.Sprint(o.number)}})
	if res.StatusCode != http.StatusOK || !strings.Contains(toastText(res), "Ligando para Joana Prado") {
		t.Fatalf("call from the lead: %d %q", res.StatusCode, toastText(res))
	}
	calls = o.sim.Calls()
	if len(calls) != 2 || calls[1].DynamicVariables["lead_title"] != "Bolo de casamento" {
		t.Fatalf("lead call: %+v", calls)
	}

	// From the conversation, without htmx: back to the conversation.
	convPath := fmt.Sprintf("%s/inbox/%d", o.home, r.ConversationID)
	if page := o.owner.Get(convPath); !strings.Contains(page.Body, `data-testid="inbox-call"`) {
		t.Fatal("the conversation has no Call item")
	}
	if res := o.owner.Post(convPath+"/call", nil); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != convPath {
		t.Fatalf("call from the conversation: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	var rows, registered int
	_ = o.inst.App.Store.DB().Get(&rows, `SELECT count(*) FROM calls WHERE org_id = $1 AND contact_id = $2 AND started_by IS NOT NULL`, o.orgID(), r.ContactID)
	_ = o.inst.App.Store.DB().Get(&registered, `SELECT count(*) FROM events WHERE org_id = $1 AND type = 'call.registered'`, o.orgID())
	if rows != 3 || registered != 3 {
		t.Fatalf("%d calls recorded, %d call.registered events", rows, registered)
	}

	// With no ready number, no page offers a call.
	if _, err := o.inst.App.Store.DB().Exec(`UPDATE voice_numbers SET status = 'failed' WHERE org_id = $1`, o.orgID()); err != nil {
		t.Fatal(err)
	}
	if page := o.owner.Get(contactPath); strings.Contains(page.Body, `data-testid="contact-call"`) {
		t.Error("Call button without a number")
	}
	res = o.post(o.owner, contactPath+"/call", nil)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(toastText(res), "No number is ready") {
		t.Errorf("no number: %d %q", res.StatusCode, toastText(res))
	}
}

// TestCallRefusals: every way a call is refused says why and leaves nothing behind.
func TestCallRefusals(t *testing.T) {
	t.Parallel()
	o := newCallOrg(t)
	theirs := o.foreign()
	r := o.receive("+5511955557002", "Rita Lopes", "Bom dia")
	contactPath := fmt.Sprintf("%s/contacts/%d", o.home, r.ContactID)
	bia, _ := o.member(model.RoleAgent)
	cases := []struct {
		name   string
		client *webtest.Client
		path   string
		form   url.Values
		csrf   bool
		want   int
	}{
		{"no CSRF", o.owner, contactPath + "/call", url.Values{}, false, http.StatusForbidden},
		{"another org's contact", o.owner, fmt.Sprintf("%s/contacts/%d/call", o.home, theirs.ContactID), nil, true, http.StatusNotFound},
		{"another org's conversation", o.owner, fmt.Sprintf("%s/inbox/%d/call", o.home, theirs.ConversationID), nil, true, http.StatusNotFound},
		{"another org's lead", o.owner, fmt.Sprintf("%s/board/leads/%d/call", o.home, theirs.lead), nil, true, http.StatusNotFound},
		{"a number that is not a number", o.owner, contactPath + "/call", url.Values{"number_id": {"abc"}}, true, http.StatusNotFound},
		{"a NUL in the number", o.owner, contactPath + "/call", url.Values{"number_id": {"1\x00"}}, true, http.StatusBadRequest},
		{"invalid UTF-8", o.owner, contactPath + "/call", url.Values{"number_id": {"\xff"}}, true, http.StatusBadRequest},
		{"another org's number", o.owner, contactPath + "/call", url.Values{"number_id": {fmt.Sprint(theirs.number)}}, true, http.StatusNotFound},
		{"an agent, another's conversation", bia, fmt.Sprintf("%s/inbox/%d/call", o.home, r.ConversationID), nil, true, http.StatusNotFound},
		{"a bad id", o.owner, o.home + "/contacts/x/call", nil, true, http.StatusNotFound},
	}
	// Someone else owns the conversation, and agents see only theirs.
	owner, ownerID := o.member(model.RoleAgent)
	if res := owner.Post(fmt.Sprintf("%s/inbox/%d/assign", o.home, r.ConversationID), url.Values{"user_id": {fmt.Sprint(ownerID)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("assign: %d", res.StatusCode)
	}
	for _, c := range cases {
		form := c.form
		if form == nil {
			form = url.Values{}
		}
		if c.csrf {
			form.Set("_csrf", c.client.CSRF())
		}
		if res := c.client.PostRaw(c.path, form, hxHeader...); res.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.name, res.StatusCode, c.want)
		}
	}
	big := url.Values{"number_id": {strings.Repeat("9", 2<<20)}}
	big.Set("_csrf", o.owner.CSRF())
	if res := o.owner.PostRaw(contactPath+"/call", big, hxHeader...); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", res.StatusCode)
	}
	if n := len(o.sim.Calls()); n != 0 {
		t.Fatalf("refused calls reached Retell: %d", n)
	}

	// The limit of calls at once: the second call waits for the first to end.
	db := o.inst.App.Store.DB()
	if _, err := db.Exec(`UPDATE voice_accounts SET max_concurrent = 1 WHERE org_id = $1`, o.orgID()); err != nil {
		t.Fatal(err)
	}
	if res := o.post(o.owner, contactPath+"/call", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("first call: %d %q", res.StatusCode, toastText(res))
	}
	res := o.post(o.owner, contactPath+"/call", nil)
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(toastText(res), "Too many calls at once") {
		t.Errorf("second call: %d %q", res.StatusCode, toastText(res))
	}
	// Outside calling hours in the contact's zone (São Paulo, from the number): the toast
	// says when calls open again.
	if _, err := db.Exec(`UPDATE voice_accounts SET max_concurrent = 5, call_days = $2 WHERE org_id = $1`, o.orgID(),
		127&^(1<<int(time.Now().In(mustZone(t, "America/Sao_Paulo")).Weekday()))); err != nil {
		t.Fatal(err)
	}
	res = o.post(o.owner, contactPath+"/call", nil)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(toastText(res), "Outside calling hours for this contact (America/Sao_Paulo)") {
		t.Errorf("outside hours: %d %q", res.StatusCode, toastText(res))
	}
	// Retell refuses: its words reach the member.
	if _, err := db.Exec(`UPDATE voice_accounts SET call_days = 127 WHERE org_id = $1`, o.orgID()); err != nil {
		t.Fatal(err)
	}
	o.sim.FailNext("/v2/create-phone-call", http.StatusBadRequest, "to_number is not reachable", 1)
	res = o.post(o.owner, contactPath+"/call", nil)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(toastText(res), "to_number is not reachable") {
		t.Errorf("Retell refuses: %d %q", res.StatusCode, toastText(res))
	}
	var rows int
	_ = db.Get(&rows, `SELECT count(*) FROM calls WHERE org_id = $1`, o.orgID())
	if rows != 1 {
		t.Errorf("%d call rows, want the one placed", rows)
	}
}

// TestAPICallStart: POST /api/v1/calls.
func TestAPICallStart(t *testing.T) {
	t.Parallel()
	o := newCallOrg(t)
	ctx := context.Background()
	key, err := o.inst.App.Account.CreateAPIKeyForOrgName(ctx, o.name, "Discador")
	if err != nil {
		t.Fatal(err)
	}
	theirs := o.foreign()
	r := o.receive("+5511955557003", "Lia Matos", "Oi")
	res := apiCall(t, o.owner, key, "POST", "/api/v1/calls",
		fmt.Sprintf(`{"contact_id":%d,"variables":{"pedido":"1234"}}`, r.ContactID))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("start: %d %s", res.StatusCode, res.Body)
	}
	var out struct {
		Call struct {
			ID        int64  `json:"id"`
			CallID    string `json:"call_id"`
			Status    string `json:"status"`
			ContactID int64  `json:"contact_id"`
		} `json:"call"`
	}
	if err := json.Unmarshal([]byte(res.Body), &out); err != nil || out.Call.Status != "registered" || out.Call.ContactID != r.ContactID || out.Call.CallID == "" {
		t.Fatalf("answer %s", res.Body)
	}
	if got, _ := o.sim.Call(out.Call.CallID); got.DynamicVariables["pedido"] != "1234" {
		t.Fatalf("variables %v", got.DynamicVariables)
	}
	if one := apiCall(t, o.owner, key, "GET", fmt.Sprintf("/api/v1/calls/%d", out.Call.ID), ""); one.StatusCode != http.StatusOK {
		t.Fatalf("read it: %d", one.StatusCode)
	}
	cases := []struct {
		name, body string
		want       int
		code       string
	}{
		{"bad JSON", `{"contact_id":`, 400, "bad_json"},
		{"unknown field", fmt.Sprintf(`{"contact_id":%d,"to":"+5511"}`, r.ContactID), 400, "bad_json"},
		{"nothing to call", `{}`, 422, "invalid"},
		{"negative id", `{"contact_id":-4}`, 422, "invalid"},
		{"another org's contact", fmt.Sprintf(`{"contact_id":%d}`, theirs.ContactID), 404, "not_found"},
		{"another org's conversation", fmt.Sprintf(`{"conversation_id":%d}`, theirs.ConversationID), 404, "not_found"},
		{"another org's lead", fmt.Sprintf(`{"lead_id":%d}`, theirs.lead), 404, "not_found"},
		{"another org's number", fmt.Sprintf(`{"contact_id":%d,"number_id":%d}`, r.ContactID, theirs.number), 404, "not_found"},
		{"a NUL in a variable", fmt.Sprintf(`{"contact_id":%d,"variables":{"a":"b\u0000"}}`, r.ContactID), 400, "bad_request"},
		{"invalid UTF-8", fmt.Sprintf("{\"contact_id\":%d,\"variables\":{\"a\":\"\xff\"}}", r.ContactID), 400, "bad_request"},
		{"a bad agent id", fmt.Sprintf(`{"contact_id":%d,"agent_id":"../x"}`, r.ContactID), 422, "invalid"},
		{"oversized", fmt.Sprintf(`{"contact_id":%d,"variables":{"a":"%s"}}`, r.ContactID, strings.Repeat("x", 2<<20)), 413, ""},
	}
	for _, c := range cases {
		res := apiCall(t, o.owner, key, "POST", "/api/v1/calls", c.body)
		if res.StatusCode != c.want || (c.code != "" && apiCode(t, res) != c.code) {
			t.Errorf("%s: %d %s", c.name, res.StatusCode, res.Body)
		}
	}
	if res := apiCall(t, o.owner, "mk_wrong", "POST", "/api/v1/calls", fmt.Sprintf(`{"contact_id":%d}`, r.ContactID)); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("bad key: %d", res.StatusCode)
	}
	db := o.inst.App.Store.DB()
	if _, err := db.Exec(`UPDATE voice_accounts SET max_concurrent = 1 WHERE org_id = $1`, o.orgID()); err != nil {
		t.Fatal(err)
	}
	res = apiCall(t, o.owner, key, "POST", "/api/v1/calls", fmt.Sprintf(`{"conversation_id":%d}`, r.ConversationID))
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || apiCode(t, res) != "busy" {
		t.Errorf("busy: %d %s", res.StatusCode, res.Body)
	}
	if _, err := db.Exec(`UPDATE voice_accounts SET max_concurrent = 5, call_hours_start = 0, call_hours_end = 1, call_days = 1 WHERE org_id = $1`, o.orgID()); err != nil {
		t.Fatal(err)
	}
	res = apiCall(t, o.owner, key, "POST", "/api/v1/calls", fmt.Sprintf(`{"contact_id":%d}`, r.ContactID))
	if res.StatusCode != http.StatusUnprocessableEntity || apiCode(t, res) != "outside_hours" || !strings.Contains(res.Body, `"next_at"`) {
		t.Errorf("outside hours: %d %s", res.StatusCode, res.Body)
	}
}

// TestCallingHoursSettings: owners set the calling hours with the Retell form; nonsense is
// refused and kept on the form; agents cannot.
func TestCallingHoursSettings(t *testing.T) {
	t.Parallel()
	o := newCallOrg(t)
	page := o.owner.Get(o.home + "/settings/voice")
	if !strings.Contains(page.Body, `data-testid="voice-hours"`) {
		t.Fatal("no calling hours on the Retell tab")
	}
	form := url.Values{"max_concurrent": {"4"}, "call_hours_start": {"8"}, "call_hours_end": {"18"}, "call_days": {"1", "2", "3", "4", "5"}}
	if res := o.owner.Post(o.home+"/settings/voice", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	var start, end, days, max int
	_ = o.inst.App.Store.DB().QueryRow(`SELECT call_hours_start, call_hours_end, call_days, max_concurrent FROM voice_accounts WHERE org_id = $1`, o.orgID()).Scan(&start, &end, &days, &max)
	if start != 8 || end != 18 || days != 62 || max != 4 {
		t.Fatalf("saved %d-%d days %b max %d", start, end, days, max)
	}
	bad := map[string]url.Values{
		"end before start": {"call_hours_start": {"18"}, "call_hours_end": {"8"}, "call_days": {"1"}},
		"no day":           {"call_hours_start": {"8"}, "call_hours_end": {"18"}},
		"day 9":            {"call_hours_start": {"8"}, "call_hours_end": {"18"}, "call_days": {"9"}},
		"not a number":     {"call_hours_start": {"oito"}, "call_hours_end": {"18"}, "call_days": {"1"}},
		"hour 25":          {"call_hours_start": {"8"}, "call_hours_end": {"25"}, "call_days": {"1"}},
	}
	nul := url.Values{"max_concurrent": {"4"}, "call_hours_start": {"8\x00"}, "call_hours_end": {"18"}, "call_days": {"1"}}
	if res := o.owner.Post(o.home+"/settings/voice", nul); res.StatusCode != http.StatusBadRequest {
		t.Errorf("NUL: %d", res.StatusCode)
	}
	for name, f := range bad {
		f.Set("max_concurrent", "4")
		res := o.owner.Post(o.home+"/settings/voice", f)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Pick at least one day") {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
	}
	_ = o.inst.App.Store.DB().QueryRow(`SELECT call_days FROM voice_accounts WHERE org_id = $1`, o.orgID()).Scan(&days)
	if days != 62 {
		t.Errorf("a refused form changed the days: %b", days)
	}
	agent, _ := o.member(model.RoleAgent)
	if res := agent.Post(o.home+"/settings/voice", form); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent: %d", res.StatusCode)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	z, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// foreignRecords are another org's records in the same database.
type foreignRecords struct{ ContactID, ConversationID, lead, number int64 }

// foreign makes another org beside o, with a contact, its conversation, its lead and a
// ready number, whose ids o must not reach.
func (o *callOrg) foreign() foreignRecords {
	o.t.Helper()
	ctx := context.Background()
	st := o.inst.App.Store
	org, err := st.CreateOrg(ctx, "Outra Loja")
	if err != nil {
		o.t.Fatal(err)
	}
	var f foreignRecords
	p := "+5511955557099"
	if f.ContactID, err = st.CreateContact(ctx, model.Contact{OrgID: org.ID, Name: "De Fora", Phone: &p}); err != nil {
		o.t.Fatal(err)
	}
	ch, err := st.CreateChannel(ctx, model.Channel{OrgID: org.ID, Kind: model.KindSandbox, Name: "Sandbox", Rate: 10})
	if err != nil {
		o.t.Fatal(err)
	}
	if f.ConversationID, err = st.OpenConversation(ctx, org.ID, ch.ID, f.ContactID); err != nil {
		o.t.Fatal(err)
	}
	pl, err := st.CreatePipeline(ctx, org.ID, "Vendas", "BRL")
	if err != nil {
		o.t.Fatal(err)
	}
	sg, err := st.CreateStage(ctx, model.Stage{OrgID: org.ID, PipelineID: pl.ID, Name: "Novo", Color: "gray", Outcome: "open"})
	if err != nil {
		o.t.Fatal(err)
	}
	if f.lead, err = st.CreateLead(ctx, model.Lead{OrgID: org.ID, PipelineID: pl.ID, StageID: sg.ID, ContactID: f.ContactID, Title: "De fora", Rank: "a"}); err != nil {
		o.t.Fatal(err)
	}
	if err := st.DB().Get(&f.number, `INSERT INTO voice_numbers (org_id, phone_number, source, step, status, outbound_agent_id)
		VALUES ($1, '+551130009999', 'linked', 'ready', 'ready', 'agent_vendas') RETURNING id`, org.ID); err != nil {
		o.t.Fatal(err)
	}
	return f
}

// pipeline and stage are the org's first pipeline and its first stage (made on signup).
func (o *callOrg) pipeline() int64 {
	var id int64
	if err := o.inst.App.Store.DB().Get(&id, `SELECT id FROM pipelines WHERE org_id = $1 ORDER BY id LIMIT 1`, o.orgID()); err != nil {
		o.t.Fatal(err)
	}
	return id
}

func (o *callOrg) stage() int64 {
	var id int64
	if err := o.inst.App.Store.DB().Get(&id, `SELECT id FROM stages WHERE org_id = $1 AND pipeline_id = $2 ORDER BY position, id LIMIT 1`, o.orgID(), o.pipeline()); err != nil {
		o.t.Fatal(err)
	}
	return id
}
