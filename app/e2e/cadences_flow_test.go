package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"masteria/app/campaign/policy"
	"masteria/app/config"
	"masteria/app/crm/board"
	"masteria/app/model"
	"masteria/app/sim/retellsim"
	"masteria/app/sim/twiliosim"
	"masteria/app/voice/retell"
	"masteria/app/web/webtest"
)

// flowMinute is how long a cadence step's minute lasts in TestCadenceFromBoardToTimeline.
// TIME SHORTCUT: the test server's cadence engine counts a minute as this (through
// Engine.SetTiming), so the cadence's "10 minutes" for the WhatsApp delivery take 20 s of
// the test. Long enough for a person's clicks from the board to the timeline to come
// before the limit passes; nothing else in the flow is sped up.
const flowMinute = 2 * time.Second

// cadenceFlow is the org of the whole cadence flow: the linked CRM's WhatsApp Cloud API
// number (Meta simulator, an approved template), a Twilio SMS number (Twilio simulator),
// Retell connected with a number ready (Retell simulator), a tag, two contacts with a
// lead each on the board, and two managers: one who reads English, one Portuguese.
type cadenceFlow struct {
	*crmSetup
	ts       *twiliosim.Server
	rs       *retellsim.Server
	sms      model.Channel
	tag      int64
	contact2 int64
	leads    [2]int64
	managers [2]string // emails; the password is the setup's
}

const (
	flowAccount   = "AC00000000000000000000000000cade"
	flowToken     = "tw-flow-token"
	flowSMSFrom   = "+5511900000777"
	flowRetellKey = "key_e2e_cadence_0123456789"
)

func newCadenceFlow(t *testing.T, ctx context.Context) *cadenceFlow {
	t.Helper()
	ts := twiliosim.New(twiliosim.WithStatusDelays(50*time.Millisecond, 50*time.Millisecond))
	api, err := ts.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Close)
	rs := retellsim.New(retellsim.WithAPIKeys(flowRetellKey))
	if _, err := rs.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.Close)
	s := newCRMSetup(t, ctx, func(c *config.Config) { c.TwilioAPIURL, c.RetellAPIURL = api, rs.URL() })
	f := &cadenceFlow{crmSetup: s, ts: ts, rs: rs}
	app := s.inst.App
	db := app.Store.DB()
	// The engine's shortened minute: see flowMinute.
	app.CadenceEngine.SetTiming(flowMinute, 300*time.Millisecond)

	var userID int64
	_ = db.Get(&userID, `SELECT id FROM users`)
	owner := model.Actor{OrgID: s.orgID, UserID: userID, Role: model.RoleOwner}
	// The org's contact policy: no daily cap and no quiet hours, since the test runs at any
	// hour and sends three times to one person (the SMS dedup stays on).
	if err := policy.New(app.Store).Save(ctx, owner, model.PolicySettings{SMSDedupHours: 24}); err != nil {
		t.Fatal(err)
	}
	// The SMS number, at the Twilio simulator, which posts its status callbacks back.
	if f.sms, err = app.Inbox.CreateChannel(ctx, owner, model.KindTwilioSMS, "SMS da loja",
		map[string]string{"account_sid": flowAccount, "from": flowSMSFrom}, map[string]string{"auth_token": flowToken}); err != nil {
		t.Fatal(err)
	}
	ts.AddAccount(flowAccount, flowToken)
	if _, err := ts.AddNumber(flowAccount, flowSMSFrom, fmt.Sprintf("%s/webhooks/twilio/%d", s.inst.URL, f.sms.ID)); err != nil {
		t.Fatal(err)
	}
	// Retell connected, a number ready with its outbound agent, calls at any hour; each
	// call is answered and talks a little, a beat apart, then ends.
	acc, err := app.Voice.Connect(ctx, owner, flowRetellKey)
	if err != nil {
		t.Fatal(err)
	}
	rs.SetWebhook(fmt.Sprintf("%s/webhooks/retell/%d", s.inst.URL, acc.ID))
	rs.AddAgent(retell.Agent{AgentID: "agent_confeitaria", AgentName: "Atendente Confeitaria"})
	rs.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: "+551130007000", OutboundAgents: []retell.AgentWeight{{AgentID: "agent_confeitaria", Weight: 1}}})
	if _, err := db.Exec(`INSERT INTO voice_numbers (org_id, phone_number, source, step, status, outbound_agent_id, nickname)
		VALUES ($1, '+551130007000', 'linked', 'ready', 'ready', 'agent_confeitaria', 'Confeitaria')`, s.orgID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE voice_accounts SET call_hours_start = 0, call_hours_end = 24, call_days = 127 WHERE org_id = $1`, s.orgID); err != nil {
		t.Fatal(err)
	}
	rs.SetAutoPlay(&retellsim.CallScript{Kind: retellsim.KindConnected, Gap: 300 * time.Millisecond, Duration: 40 * time.Second,
		Summary: "João wants the 2 kg cake on Saturday.",
		Transcript: []retell.Utterance{{Role: "agent", Content: "Hi João, this is Confeitaria Lia about your quote."},
			{Role: "user", Content: "Yes, I'll take the 2 kg cake for Saturday."}}})

	if err := db.Get(&f.tag, `INSERT INTO tags (org_id, name) VALUES ($1, 'WhatsApp entregue') RETURNING id`, s.orgID); err != nil {
		t.Fatal(err)
	}
	phone := "+5511987650202"
	if f.contact2, err = app.Store.CreateContact(ctx, model.Contact{OrgID: s.orgID, Name: "Marina Castro", Phone: &phone}); err != nil {
		t.Fatal(err)
	}
	var stageID int64
	_ = db.Get(&stageID, `SELECT id FROM stages WHERE org_id = $1 ORDER BY position LIMIT 1`, s.orgID)
	for i, l := range []struct {
		title   string
		contact int64
	}{{"Bolo de 2 kg para o aniversário", s.contactID}, {"Doces para o casamento", f.contact2}} {
		lead, err := app.Board.CreateLead(ctx, owner, board.LeadInput{StageID: stageID, Title: l.title, Value: "180,00", ContactID: strconv.FormatInt(l.contact, 10)})
		if err != nil {
			t.Fatal(err)
		}
		f.leads[i] = lead.ID
	}
	for i, name := range []string{"Bruno Prado", "Carla Prado"} {
		f.managers[i] = fmt.Sprintf("gerente%d.%d@confeitaria.example", i, time.Now().UnixNano())
		if _, err := app.Account.CreateUserInOrg(ctx, "Confeitaria Lia", name, f.managers[i], s.password, model.RoleManager); err != nil {
			t.Fatal(err)
		}
	}
	// The second manager reads Portuguese.
	c := webtest.NewClient(t, s.inst.URL)
	c.Login(f.managers[1], s.password)
	c.Post("/locale", url.Values{"locale": {"pt-BR"}})
	return f
}

// login logs manager i in.
func (f *cadenceFlow) login(b *browser, i int) {
	b.t.Helper()
	b.open("/login", tid("login-email"))
	b.do("log in",
		chromedp.SendKeys(tid("login-email"), f.managers[i]),
		chromedp.SendKeys(tid("login-password"), f.password),
		chromedp.Click(tid("login-submit")),
	)
	b.waitPath("land on the org", orgPathRE.String())
}

// stepIs is a JavaScript test that the timeline's line of step sid has this status (and,
// when outcome is not "", this outcome).
func stepIs(sid, status, outcome string) string {
	sel := `[data-testid="enrolment-step"][data-step="` + sid + `"][data-status="` + status + `"]`
	if outcome != "" {
		sel += `[data-outcome="` + outcome + `"]`
	}
	return `!!document.querySelector(` + jsString(sel) + `)`
}

// TestCadenceFromBoardToTimeline is the walk through cadences, all in the browser
// but the org's set-up: a manager builds, by clicking in the builder, a WhatsApp template →
// wait up to 10 minutes for its delivery (delivered: tag the contact; otherwise on) → SMS →
// AI call → wait for the call's result; activates it; enrols a lead's contact from the
// board card's menu; opens the enrolment's timeline from the cadence's People tab and
// watches it move with no reload as the simulators answer: Meta never delivers, the 10
// minutes pass (a shortened minute, see flowMinute), the SMS goes (Twilio receives exactly
// one), Retell's call is answered. A second contact, enrolled the same way while Meta
// delivers, takes the other branch (tagged, no SMS, no call); its timeline is opened from
// the contact's page. A second manager, on a phone in Portuguese and the dark theme,
// watches the same pages. With MASTERIA_SCREENSHOTS set both save the builder, the board
// menu, and the timeline mid-way and at the end.
func TestCadenceFromBoardToTimeline(t *testing.T) {
	needChromium(t)
	ctx := testContext(t, 6*testTimeout)
	f := newCadenceFlow(t, ctx)
	app := f.inst.App
	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	wide := look{name: "1366-light-en", width: 1366, height: 900, theme: "light"}
	phone := look{name: "390-dark-pt", width: 390, height: 844, theme: "dark", phone: true}
	// shot checks that the page fits its screen and, with MASTERIA_SCREENSHOTS, saves it.
	shot := func(b *browser, l look, name string) {
		t.Helper()
		if w := eval[int64](b, `document.documentElement.scrollWidth`); w > l.width {
			t.Errorf("%s at %s is %d px wide", name, l.name, w)
		}
		if dir != "" {
			b.save(dir, "cadence-flow-"+name+"-"+l.name, l)
		}
	}

	a := newBrowser(t, ctx, "manager-en", f.inst.URL)
	a.keys = i18nKeys(t)
	f.login(a, 0)
	a.setLook(wide)
	p := newBrowser(t, ctx, "manager-pt", f.inst.URL)
	p.keys = a.keys
	f.login(p, 1)
	p.setLook(phone)

	// Build: from the sidebar to an empty cadence, then one card after another.
	a.open(f.home, tid("checklist"))
	a.do("open Cadences from the sidebar", chromedp.Click(`.sidebar-nav a[href="`+f.home+`/cadences"]`), chromedp.WaitVisible(tid("cadences-empty")))
	a.do("start an empty cadence", chromedp.Click(tid("cadences-new")), chromedp.WaitVisible(tid("cadence-form")))
	a.do("name it", chromedp.SendKeys(tid("cadence-name"), "Orçamento sem resposta"))
	cards := func(n int) string {
		return fmt.Sprintf(`document.querySelectorAll('[data-testid="cadence-step"]').length === %d && !document.querySelector('.htmx-request')`, n)
	}
	add := func(at int, kind string) {
		t.Helper()
		btn := `[data-testid="cadence-steps"] > li:nth-child(` + strconv.Itoa(at) + `) [data-testid="step-add-button"]`
		// Scrolled into view it stays clear of the sticky Save bar (the page's scroll padding).
		a.do("add a step: "+kind, chromedp.SetValue(fmt.Sprintf(`#add_kind_%d`, at), kind), chromedp.Click(chromedp.CSS(btn)))
		a.waitJS(fmt.Sprintf("%d cards", at+1), cards(at+1), waitTimeout)
	}
	// 1. WhatsApp (a new cadence starts with it): the channel, then the template, whose
	// variable is the first name.
	a.waitJS("one WhatsApp card", cards(1)+` && document.querySelector('[data-testid="cadence-step"]').dataset.kind === "whatsapp"`, waitTimeout)
	a.do("choose the WhatsApp number", choose(tid("st0_channel"), strconv.FormatInt(f.ch.ID, 10)))
	a.waitJS("its templates are offered", `!!document.querySelector('[data-testid="st0_template"]')`, waitTimeout)
	tplID := eval[string](a, `[...document.querySelectorAll('[data-testid="st0_template"] option')].find(o => o.textContent.includes("orcamento_pronto")).value`)
	a.do("choose the template", choose(tid("st0_template"), tplID))
	a.waitJS("its variable is asked", `!!document.querySelector('[data-testid="st0_var0"]')`, waitTimeout)
	a.do("a fallback for a contact with no name", chromedp.SendKeys(`#st0_var0_fallback`, "cliente"))
	// 2. Wait for its delivery, 10 minutes (the builder's default for a new wait).
	add(1, model.StepAwait)
	if got := eval[string](a, `document.querySelector('[data-testid="st1_await"]').value + "/" + document.querySelector('[data-testid="st1_within"]').value + " " + document.querySelector('[data-testid="st1_within_unit"]').value`); got != "s1/10 minutes" {
		t.Errorf("the new wait for a result waits on %q, want the WhatsApp message within 10 minutes", got)
	}
	// 3. SMS, 4. AI call, 5. wait for the call's result, 6. tag.
	add(2, model.StepSMS)
	a.do("choose the SMS number and write the SMS", choose(tid("st2_channel"), strconv.FormatInt(f.sms.ID, 10)))
	a.waitJS("the SMS card is back", `!!document.querySelector('[data-testid="st2_text"]') && !document.querySelector('.htmx-request')`, waitTimeout)
	a.do("write the SMS", chromedp.SendKeys(tid("st2_text"), "Olá! Seu orçamento da Confeitaria Lia ficou pronto. Responda SIM para confirmar."))
	add(3, model.StepCall)
	add(4, model.StepAwait)
	add(5, model.StepTag)
	a.do("choose the tag", choose(tid("st5_tag"), strconv.FormatInt(f.tag, 10)))
	// The branches: delivered (or read, or replied) → the tag; otherwise on to the SMS. The
	// call's result ends the cadence.
	a.do("delivered goes to the tag", choose(tid("st1_on_delivered"), "s6"))
	a.do("after the call's result, the end", choose(tid("st4_on_answered"), "end"), choose(tid("st4_otherwise"), "end"))
	if dir != "" {
		shot(a, wide, "builder")
	}
	a.do("save", chromedp.Click(tid("cadence-save")))
	a.waitJS("saved, or told what is wrong", `/cadences\/\d+$/.test(location.pathname) || !!document.querySelector('#cadence-form [role="alert"], #cadence-form .field-error:not(:empty)')`, waitTimeout)
	if errs := eval[string](a, `[...document.querySelectorAll('#cadence-form [role="alert"], #cadence-form .field-error:not(:empty)')].map(e => e.textContent.trim()).join(" | ")`); errs != "" {
		t.Fatalf("the builder refused to save: %s", errs)
	}
	cadPath := a.waitPath("the cadence's page", `/cadences/\d+$`)
	a.waitJS("saved", `!!document.querySelector('[data-testid="cadence-page-version"]')`, waitTimeout)
	cadenceID, _ := strconv.ParseInt(cadPath[strings.LastIndex(cadPath, "/")+1:], 10, 64)
	a.do("activate it", chromedp.Click(tid("cadence-activate")))
	a.waitJS("it is active", `!document.querySelector('[data-testid="cadence-activate"]') && !!document.querySelector('[data-testid="cadence-pause"]')`, waitTimeout)
	def, err := app.Cadences.Definition(ctx, f.orgID, cadenceID)
	if err != nil {
		t.Fatal(err)
	}
	st := def.Steps
	if def.Status != model.CadenceActive || len(st) != 6 || st[0].Kind != model.StepWhatsApp || st[0].Message.TemplateID == 0 ||
		st[1].Kind != model.StepAwait || st[1].Await != "s1" || st[1].WithinMinutes != 10 || len(st[1].Branches) != 1 || st[1].Branches[0].Next != "s6" ||
		st[2].Kind != model.StepSMS || st[2].ChannelID != f.sms.ID || st[3].Kind != model.StepCall ||
		st[4].Kind != model.StepAwait || st[4].Await != "s4" || st[4].Otherwise != "" || len(st[4].Branches) != 1 || st[4].Branches[0].Next != "" || st[5].Kind != model.StepTag || st[5].TagID != f.tag {
		raw, _ := json.Marshal(st)
		t.Fatalf("saved: %s %s", def.Status, raw)
	}
	// The phone's manager sees the saved cadence in the builder.
	p.open(cadPath, tid("cadence-form"))
	shot(p, phone, "builder")

	// Run 1: Meta accepts the WhatsApp message but never delivers it.
	f.ms.SetAutoStatuses("sent")
	lead := func(i int) string { return `#lead-` + strconv.FormatInt(f.leads[i], 10) }
	enrolFromBoard := func(i int) {
		t.Helper()
		a.open(f.home+"/board", chromedp.CSS(lead(i)))
		a.do("open the card's menu", chromedp.Click(lead(i)+` .lead-move > summary`), chromedp.WaitVisible(lead(i)+` [data-testid="lead-enrol-cadence"]`))
		if got := a.text(chromedp.CSS(lead(i) + ` [data-testid="lead-enrol-cadence"] option:checked`)); got != "Orçamento sem resposta" {
			t.Errorf("the card's menu offers %q", got)
		}
		if i == 0 {
			shot(a, wide, "board-menu")
			p.open(f.home+"/board", chromedp.CSS(lead(i)))
			p.do("open the card's menu", chromedp.Click(lead(i)+` .lead-move > summary`), chromedp.WaitVisible(lead(i)+` [data-testid="lead-enrol-cadence"]`))
			shot(p, phone, "board-menu")
		}
		a.do("enrol the lead's contact", chromedp.Click(lead(i)+` [data-testid="lead-enrol-submit"]`))
		a.waitJS("the toast says so", `[...document.querySelectorAll('.toast')].some(t => t.textContent.includes("1 contact enrolled"))`, waitTimeout)
		a.waitPath("back on the board", `/board$`)
	}
	enrolFromBoard(0)

	// To the timeline as a person goes: Cadences, the cadence's count of active people (its
	// People tab, the active ones), the contact.
	a.do("open Cadences", chromedp.Click(`.sidebar-nav a[href="`+f.home+`/cadences"]`), chromedp.WaitVisible(tid("cadences-table")))
	if got := a.text(tid("cadence-active-link")); got != "1" {
		t.Errorf("the list counts %q active", got)
	}
	a.do("open its active people", chromedp.Click(tid("cadence-active-link")), chromedp.WaitVisible(tid("cadence-enrolment-link")))
	if !eval[bool](a, `!!document.querySelector('[data-testid="cadence-tab-people"][aria-current="page"]') && !!document.querySelector('[data-testid="cadence-filter-active"][aria-current="page"]')`) {
		t.Error("the People tab, filtered to the active ones, is not the current one")
	}
	a.clickLive("open João's timeline", tid("cadence-enrolment-link"))
	a.do("see João's timeline", chromedp.WaitVisible(tid("enrolment-steps")))
	timeline := a.waitPath("the timeline", `/enrolments/\d+$`)
	a.waitJS("the SSE connection is open", sseOpen, waitTimeout)
	a.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__e2eNoReload = true`))
	a.waitJS("the WhatsApp message is sent and its delivery awaited",
		stepIs("s1", model.StepDone, model.OutcomeSent)+` && `+stepIs("s2", model.StepWaiting, ""), waitTimeout)
	if eval[bool](a, stepIs("s3", model.StepDone, "")) {
		t.Fatal("the SMS went before the timeline was open: the page did not see the wait (a slow machine? see flowMinute)")
	}
	if got := a.text(`[data-step="s2"] [data-testid="enrolment-step-about"]`); got != "What came of 1 · WhatsApp message, for at most 10 minutes" {
		t.Errorf("the waiting line says %q", got)
	}
	if !strings.HasPrefix(a.text(`[data-step="s2"] [data-testid="enrolment-step-until"]`), "until ") {
		t.Error("the waiting line does not say until when it waits")
	}
	if sent := f.ms.Sent(); len(sent) != 1 || sent[0].Template != "orcamento_pronto" || sent[0].WaID != "5511987650101" {
		t.Fatalf("Meta received %+v", sent)
	}
	shot(a, wide, "timeline-waiting")
	p.open(timeline, tid("enrolment-steps"))
	p.waitJS("the SSE connection is open", sseOpen, waitTimeout)
	p.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__e2eNoReload = true`))
	shot(p, phone, "timeline-waiting")

	// The 10 minutes pass with no delivery: the SMS, then the call, answered.
	limit := time.Duration(10)*flowMinute + waitTimeout
	a.waitJS("no delivery in time: the SMS goes", stepIs("s2", model.StepDone, model.OutcomeTimeout)+` && `+stepIs("s3", model.StepDone, ""), limit)
	a.waitJS("the call is placed and answered; the cadence ends",
		stepIs("s4", model.StepDone, model.OutcomeAnswered)+` && `+stepIs("s5", model.StepDone, model.OutcomeAnswered)+
			` && document.querySelector('[data-testid="enrolment-status"]').dataset.status === "completed"`, waitTimeout)
	p.waitJS("the phone sees the end too", `document.querySelector('[data-testid="enrolment-status"]').dataset.status === "completed"`, waitTimeout)
	for _, b := range []*browser{a, p} {
		if !eval[bool](b, `window.__e2eNoReload === true`) {
			t.Errorf("browser %s reloaded the timeline; it must move over SSE", b.name)
		}
	}
	if eval[bool](a, stepIs("s6", model.StepDone, "")) {
		t.Error("the tag of the delivered branch ran too")
	}
	text := a.text(tid("enrolment-steps"))
	for _, want := range []string{"1 · WhatsApp message", "2 · Wait for a result", "Nothing in time", "3 · SMS", "4 · AI call", "Answered"} {
		if !strings.Contains(text, want) {
			t.Errorf("the timeline lacks %q: %s", want, text)
		}
	}
	if got := f.ts.Sent(); len(got) != 1 || got[0].To != "+5511987650101" || !strings.Contains(got[0].Body, "ficou pronto") {
		t.Errorf("Twilio received %+v, want exactly one SMS to João", got)
	}
	if calls := f.rs.Calls(); len(calls) != 1 || calls[0].ToNumber != "+5511987650101" {
		t.Errorf("Retell got %+v, want one call to João", calls)
	}
	shot(a, wide, "timeline-end")
	shot(p, phone, "timeline-end")

	// Run 2: Meta delivers in time; Marina's enrolment takes the other branch. Her timeline
	// opens from her page's cadences card.
	f.ms.SetAutoStatuses("sent", "delivered", "read")
	enrolFromBoard(1)
	a.open(fmt.Sprintf("%s/contacts/%d", f.home, f.contact2), tid("contact-cadences"))
	a.clickLive("open her cadence from her page", in("contact-cadence", "a"))
	a.do("see her timeline", chromedp.WaitVisible(tid("enrolment-steps")))
	a.waitJS("the SSE connection is open", sseOpen, waitTimeout)
	// The engine first (to tell a stalled enrolment from a page that missed an event): the
	// delivery decides well before the 10 minutes are up.
	var marina int64
	_, _ = fmt.Sscanf(a.waitPath("her timeline", `/enrolments/\d+$`), f.home+"/enrolments/%d", &marina)
	decided := time.Now().Add(time.Duration(5) * flowMinute)
	for {
		en, err := app.CadenceEngine.Enrolment(ctx, f.orgID, marina)
		if err != nil {
			t.Fatal(err)
		}
		if !en.Running() {
			break
		}
		if time.Now().After(decided) {
			raw, _ := json.Marshal(en)
			t.Fatalf("the delivered run did not decide within half its limit (%s): %s", time.Duration(5)*flowMinute, raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
	a.waitJS("delivered in time: tagged, and the cadence ends",
		stepIs("s2", model.StepDone, "")+` && `+stepIs("s6", model.StepDone, "")+
			` && document.querySelector('[data-testid="enrolment-status"]').dataset.status === "completed"`, waitTimeout)
	if o := eval[string](a, `document.querySelector('[data-step="s2"]').dataset.outcome`); o != model.OutcomeDelivered && o != model.OutcomeRead {
		t.Errorf("the wait saw %q, want delivered (or read)", o)
	}
	for _, sid := range []string{"s3", "s4", "s5"} {
		if eval[bool](a, `!!document.querySelector('[data-step="`+sid+`"]')`) {
			t.Errorf("the delivered branch reached %s", sid)
		}
	}
	if n, calls := len(f.ts.Sent()), len(f.rs.Calls()); n != 1 || calls != 1 {
		t.Errorf("after the delivered run: %d SMS, %d calls; want still 1 and 1", n, calls)
	}
	var tagged int
	_ = app.Store.DB().Get(&tagged, `SELECT count(*) FROM contacts WHERE org_id = $1 AND id = $2 AND $3 = ANY(tag_ids)`, f.orgID, f.contact2, f.tag)
	if tagged != 1 {
		t.Errorf("Marina is not tagged")
	}
	a.noConsoleErrors()
	p.noConsoleErrors()
}
