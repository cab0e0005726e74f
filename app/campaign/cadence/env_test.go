package cadence_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"masteria/app/campaign/cadence"
	"masteria/app/campaign/policy"
	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/metasim"
	"masteria/app/sim/retellsim"
	"masteria/app/sim/twiliosim"
	"masteria/app/store"
	"masteria/app/voice/retell"
	"masteria/app/web/webtest"
)

// env is a running Master IA (web server, job workers, the cadence engine) whose WhatsApp
// Cloud API channel talks to the Meta simulator and whose SMS channel talks to the Twilio
// simulator, both ways over real HTTP: sends go to the sims, their signed status webhooks
// and inbound messages come back to the app. A step's "minute" lasts Minute.
type env struct {
	ctx  context.Context
	inst *webtest.Instance
	st   *store.Store
	eng  *cadence.Engine
	ms   *metasim.Server
	ts   *twiliosim.Server
	rs   *retellsim.Server
	a    model.Actor
	wa   model.Channel
	sms  model.Channel
	sid  string // the SMS number's sid at the Twilio sim
	tmpl model.Template
}

const (
	phoneNumberID = "556"
	wabaID        = "998"
	smsAccount    = "AC0123456789abcdef0123456789abcdee"
	smsToken      = "tw-token"
	smsFrom       = "+5511900000002"
	retellKey     = "key_cadence_0123456789"
	// minute is a step's minute in these tests.
	minute = 400 * time.Millisecond
)

func newEnv(t testing.TB, simOpts ...metasim.Option) env {
	t.Helper()
	ms := metasim.New(append([]metasim.Option{metasim.WithStatusDelays(0, 10*time.Millisecond, 10*time.Millisecond)}, simOpts...)...)
	graph, err := ms.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ms.Close)
	ts := twiliosim.New(twiliosim.WithStatusDelays(10*time.Millisecond, 10*time.Millisecond))
	api, err := ts.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Close)
	rs := retellsim.New(retellsim.WithAPIKeys(retellKey), retellsim.WithRetryDelay(10*time.Millisecond))
	if _, err := rs.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.Close)
	inst := webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) {
		c.MetaGraphURL = graph
		c.TwilioAPIURL = api
		c.RetellAPIURL = rs.URL()
	})
	e := env{ctx: context.Background(), inst: inst, st: inst.App.Store, eng: inst.App.CadenceEngine, ms: ms, ts: ts, rs: rs}
	e.eng.SetTiming(minute, 300*time.Millisecond)
	org, err := e.st.CreateOrg(e.ctx, "Loja Cadências")
	if err != nil {
		t.Fatal(err)
	}
	e.a = model.Actor{OrgID: org.ID, Role: model.RoleOwner}
	e.openPolicy(t)
	e.wa, err = inst.App.Inbox.CreateChannel(e.ctx, e.a, model.KindWhatsAppCloud, "WhatsApp",
		map[string]string{"phone_number_id": phoneNumberID, "waba_id": wabaID},
		map[string]string{"app_secret": "meta-secret", "verify_token": "vt", "access_token": "EAAtoken"})
	if err != nil {
		t.Fatal(err)
	}
	ms.AddNumber(metasim.Number{PhoneNumberID: phoneNumberID, WABAID: wabaID, DisplayNumber: "5511900000000", AccessToken: "EAAtoken",
		AppSecret: "meta-secret", WebhookURL: fmt.Sprintf("%s/webhooks/whatsapp/%d", inst.App.Config.BaseURL, e.wa.ID)})
	e.sms, err = inst.App.Inbox.CreateChannel(e.ctx, e.a, model.KindTwilioSMS, "SMS",
		map[string]string{"account_sid": smsAccount, "from": smsFrom}, map[string]string{"auth_token": smsToken})
	if err != nil {
		t.Fatal(err)
	}
	ts.AddAccount(smsAccount, smsToken)
	if e.sid, err = ts.AddNumber(smsAccount, smsFrom, fmt.Sprintf("%s/webhooks/twilio/%d", inst.App.Config.BaseURL, e.sms.ID)); err != nil {
		t.Fatal(err)
	}
	comps := []map[string]any{{"type": "BODY", "text": "Olá {{1}}, tudo bem?"}}
	ms.AddTemplate(wabaID, metasim.Template{Name: "boas_vindas", Language: "pt_BR", Status: "APPROVED", Category: "MARKETING", Components: comps})
	raw, _ := json.Marshal(comps)
	if err := e.st.ReplaceTemplates(e.ctx, e.a.OrgID, e.wa.ID, []model.Template{{ProviderID: "boas_vindas", Name: "boas_vindas",
		Language: "pt_BR", Category: "MARKETING", Status: "APPROVED", Components: raw}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if e.tmpl, err = e.st.TemplateByName(e.ctx, e.a.OrgID, e.wa.ID, "boas_vindas", "pt_BR"); err != nil {
		t.Fatal(err)
	}
	return e
}

// contact creates a contact with a phone +55119870000<i>.
func (e env) contact(t testing.TB, i int) int64 {
	t.Helper()
	p := phoneOf(i)
	id, err := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: fmt.Sprintf("Cliente%d Souza", i), Phone: &p})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func phoneOf(i int) string { return fmt.Sprintf("+5511987%06d", i) }

func waID(i int) string { return phoneOf(i)[1:] }

// cadence writes an active cadence of steps (as the builder would) and returns its id.
func (e env) cadence(t testing.TB, name string, steps []model.CadenceStep, edit ...string) int64 {
	t.Helper()
	if err := model.ValidateSteps(steps); err != nil {
		t.Fatalf("steps: %v", err)
	}
	raw, _ := json.Marshal(steps)
	var id int64
	if err := e.st.DB().QueryRow(`INSERT INTO cadences (org_id, name, status) VALUES ($1, $2, 'active') RETURNING id`,
		e.a.OrgID, name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DB().Exec(`INSERT INTO cadence_versions (org_id, cadence_id, version, steps) VALUES ($1, $2, 1, $3)`,
		e.a.OrgID, id, raw); err != nil {
		t.Fatal(err)
	}
	for _, sql := range edit {
		if _, err := e.st.DB().Exec(sql+` WHERE org_id = $1 AND id = $2`, e.a.OrgID, id); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// enrol enrols one contact and returns its enrolment.
func (e env) enrol(t testing.TB, cadenceID, contactID int64) int64 {
	t.Helper()
	res, err := e.eng.Enrol(e.ctx, e.a, cadenceID, []int64{contactID}, model.EnrolManual)
	if err != nil {
		t.Fatal(err)
	}
	if res.Enrolled != 1 || len(res.IDs) != 1 {
		t.Fatalf("enrol: %+v", res)
	}
	return res.IDs[0]
}

func (e env) enrolment(t testing.TB, id int64) model.Enrolment {
	t.Helper()
	en, err := e.eng.Enrolment(e.ctx, e.a.OrgID, id)
	if err != nil {
		t.Fatal(err)
	}
	return en
}

// waitEnded waits for an enrolment to end and returns it with its timeline.
func (e env) waitEnded(t testing.TB, id int64, d time.Duration) model.Enrolment {
	t.Helper()
	deadline := time.Now().Add(d)
	for e.enrolment(t, id).Running() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for the enrolment to end: %s", timeline(e.enrolment(t, id)))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return e.enrolment(t, id)
}

// line is an enrolment's line for a step ("" status when it has none).
func line(en model.Enrolment, step string) model.EnrolmentStep {
	for _, s := range en.Steps {
		if s.StepID == step {
			return s
		}
	}
	return model.EnrolmentStep{}
}

// timeline writes an enrolment's steps for failure messages.
func timeline(en model.Enrolment) string {
	out := fmt.Sprintf("%s/%s:", en.Status, en.ExitReason)
	for _, s := range en.Steps {
		out += fmt.Sprintf(" %s(%s %s %s)", s.StepID, s.Status, s.Outcome, s.Detail)
	}
	return out
}

func wait(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// smsTo counts the SMS the Twilio sim took for a phone.
func (e env) smsTo(phone string) int {
	n := 0
	for _, m := range e.ts.Sent() {
		if m.To == phone {
			n++
		}
	}
	return n
}

// whatsApp is a template step to the env's channel.
func (e env) whatsApp(id, next string) model.CadenceStep {
	return model.CadenceStep{ID: id, Kind: model.StepWhatsApp, Next: next, ChannelID: e.wa.ID, Message: &model.Variant{
		TemplateID: e.tmpl.ID, Vars: []model.VarMap{{Source: "field", Field: "first_name", Fallback: "cliente"}}}}
}

// sms is an SMS step of text.
func (e env) smsStep(id, next, text string) model.CadenceStep {
	return model.CadenceStep{ID: id, Kind: model.StepSMS, Next: next, ChannelID: e.sms.ID, Message: &model.Variant{Text: text}}
}

// voice connects the org's Retell account (the simulator) with a ready number whose
// outbound agent calls, at any hour.
func (e env) voice(t testing.TB) {
	t.Helper()
	acc, err := e.inst.App.Voice.Connect(e.ctx, e.a, retellKey)
	if err != nil {
		t.Fatal(err)
	}
	e.rs.SetWebhook(fmt.Sprintf("%s/webhooks/retell/%d", e.inst.URL, acc.ID))
	e.rs.AddAgent(retell.Agent{AgentID: "agent_vendas", AgentName: "Vendas"})
	e.rs.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: "+551130001000", OutboundAgents: []retell.AgentWeight{{AgentID: "agent_vendas", Weight: 1}}})
	if _, err := e.st.DB().Exec(`INSERT INTO voice_numbers (org_id, phone_number, source, step, status, outbound_agent_id)
		VALUES ($1, '+551130001000', 'linked', 'ready', 'ready', 'agent_vendas')`, e.a.OrgID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DB().Exec(`UPDATE voice_accounts SET call_hours_start = 0, call_hours_end = 24, call_days = 127 WHERE org_id = $1`, e.a.OrgID); err != nil {
		t.Fatal(err)
	}
}

// openPolicy saves a contact policy with no cap and no quiet hours (these tests are not
// about them; the SMS dedup stays), since the tests run at any hour.
func (e env) openPolicy(t testing.TB) {
	t.Helper()
	if err := policy.New(e.st).Save(e.ctx, e.a, model.PolicySettings{SMSDedupHours: 24}); err != nil {
		t.Fatal(err)
	}
}
