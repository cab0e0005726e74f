package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"masteria/app/config"
	"masteria/app/crm"
	"masteria/app/model"
	"masteria/app/sim/retellsim"
	"masteria/app/store/storetest"
	"masteria/app/voice/retell"
	"masteria/app/web/webtest"
)

// TestCallCampaignBuildAndRun: a manager's view of a call campaign. The campaign is built in
// the builder with the org's voice number as its channel ("Call with …"), a segment as its
// audience, two calls at once and a retry after an hour; the check says how many will be
// called; it is launched, and the run page follows the calls the Retell simulator plays
// (answered, voicemail) by itself over SSE, until everyone was called and the voicemail waits
// for its second call. With
// MASTERIA_SCREENSHOTS set it saves the message step, the check and the run page at 1366
// and 390 px.
func TestCallCampaignBuildAndRun(t *testing.T) {
	needChromium(t)
	const key = "key_e2e_call_campaign_0123456789"
	sim := retellsim.New(retellsim.WithAPIKeys(key))
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	inst := webtest.StartOn(t, storetest.URL(t), func(c *config.Config) { c.RetellAPIURL = sim.URL() })
	s := &inboxSetup{inst: inst, email: fmt.Sprintf("lia.%d@imobiliaria.example", time.Now().UnixNano()), password: "casa-Na-Praia-com-varanda-7"}
	c := webtest.NewClient(t, inst.URL)
	s.home = c.Signup("Imobiliária Lia", "Lia Prado", s.email, s.password)
	_, _ = fmt.Sscanf(s.home, "/o/%d", &s.orgID)
	bg := context.Background()
	app := inst.App
	var userID int64
	_ = app.Store.DB().Get(&userID, `SELECT id FROM users`)
	owner := model.Actor{OrgID: s.orgID, UserID: userID, Role: model.RoleOwner}
	names := []string{"Ana Souza", "Bruno Lima", "Carla Dias", "Davi Rocha"}
	for i, n := range names {
		if _, err := app.CRM.Create(bg, owner, crm.ContactInput{Name: n, Phone: fmt.Sprintf("+55119876530%02d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	seg, err := app.CRM.SaveSegment(bg, owner, 0, "Interessados na praia", model.ContactFilter{})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := app.Voice.Connect(bg, owner, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Voice.SetCallHours(bg, owner, 0, 24, 127); err != nil { // the test runs at any hour
		t.Fatal(err)
	}
	sim.SetWebhook(fmt.Sprintf("%s/webhooks/retell/%d", inst.URL, acc.ID))
	agent := sim.AddAgent(retell.Agent{AgentName: "Corretora virtual"})
	sim.AddAgent(retell.Agent{AgentName: "Pós-venda"})
	sim.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: "+551130008000", OutboundAgents: []retell.AgentWeight{{AgentID: agent.AgentID, Weight: 1}}})
	num, err := app.Store.CreateVoiceNumber(bg, s.orgID, model.VoiceNumber{PhoneNumber: "+551130008000", Source: "linked",
		Step: model.NumberReady, Status: model.NumberReady, OutboundAgentID: agent.AgentID, Nickname: "Vendas"})
	if err != nil {
		t.Fatal(err)
	}

	ctx := testContext(t, 2*testTimeout)
	b := newBrowser(t, ctx, "call-campaign", inst.URL)
	b.keys = i18nKeys(t)
	s.login(b)
	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	shoot := func(name string, ready chromedp.CSS) {
		if dir == "" {
			return
		}
		path := eval[string](b, `location.pathname + location.search`)
		for _, l := range []look{crmLooks[0], crmLooks[3]} { // 1366 light, 390 dark
			b.setLook(l)
			b.open(path, ready)
			b.save(dir, "call-campaign-"+name+"-"+l.name, l)
		}
		b.setLook(crmLooks[0])
		b.open(path, ready)
	}
	b.setLook(crmLooks[0])

	b.open(s.home+"/campaigns", tid("campaigns-empty"))
	b.do("start a campaign", chromedp.Click(tid("campaigns-new")), chromedp.WaitVisible(tid("campaign-name")))
	b.do("name it", chromedp.SendKeys(tid("campaign-name"), "Lançamento na praia"), chromedp.Click(tid("campaign-next")))
	b.waitPath("the channel step", `/campaigns/\d+/edit$`)
	if got := b.text(tid("campaign-voice-number")); !strings.Contains(got, "Call with +551130008000") {
		t.Fatalf("the voice number reads %q", got)
	}
	b.do("call with the voice number", chromedp.Click(tid(fmt.Sprintf("campaign-voice-%d", num.ID))), chromedp.Click(tid("campaign-next")))
	b.waitJS("the audience step", `!!document.querySelector('[data-testid="audience-segment"]')`, waitTimeout)
	b.do("choose the segment", choose(tid("audience-segment"), fmt.Sprint(seg)))
	b.waitJS("the live count", `document.querySelector('[data-testid="audience-count"]').textContent.includes("4")`, waitTimeout)
	b.do("next", chromedp.Click(tid("campaign-next")))
	b.waitJS("the agent and calls step", `!!document.querySelector('[data-testid="campaign-agent"]')`, waitTimeout)
	if got := b.text(tid("campaign-agent")); !strings.Contains(got, "Corretora virtual") || !strings.Contains(got, "Pós-venda") {
		t.Fatalf("the agents offered: %q", got)
	}
	b.do("two calls at once, again after an hour",
		chromedp.SetValue(tid("campaign-concurrency"), "2"), choose(tid("campaign-retry_minutes"), "60"), choose(tid("campaign-call_attempts"), "2"))
	shoot("message", tid("campaign-agent"))
	b.do("two calls at once, again after an hour",
		chromedp.SetValue(tid("campaign-concurrency"), "2"), choose(tid("campaign-retry_minutes"), "60"), choose(tid("campaign-call_attempts"), "2"))
	b.do("next", chromedp.Click(tid("campaign-next")))
	b.waitJS("the schedule step", `!!document.querySelector('[data-testid="campaign-call-safety"]')`, waitTimeout)
	b.do("review", chromedp.Click(tid("campaign-next")))
	b.waitPath("the check", `/campaigns/\d+/check$`)
	if got := b.text(tid("check-sendable")); got != "4" {
		t.Fatalf("to call %q, want 4", got)
	}
	if got := b.text(tid("check-concurrency")); got != "2" {
		t.Fatalf("calls at once %q, want 2", got)
	}
	shoot("check", tid("check-report"))

	// The simulator answers the first call, the second reaches voicemail; the rest are
	// answered. It plays them once the run page listens.
	b.do("launch", chromedp.Click(tid("campaign-launch")))
	b.waitPath("the run page", `/campaigns/\d+$`)
	b.waitJS("the SSE connection of the page is open", sseOpen, waitTimeout)
	b.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__e2eNoReload = true`))
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := sim.WaitCalls(wctx, 2); err != nil {
		var st, reason, detail, settings string
		_ = app.Store.DB().QueryRow(`SELECT status, pause_reason, pause_detail, settings::text FROM campaigns`).Scan(&st, &reason, &detail, &settings)
		var recs []string
		_ = app.Store.DB().Select(&recs, `SELECT status || ' ' || error_code || ' ' || error_title || ' ' || attempts FROM campaign_recipients`)
		t.Fatalf("DEBUG %v: %s %s %s %s %v", err, st, reason, detail, settings, recs)
	}
	// The first two calls may have started before the page listened: what it shows of them
	// now is not the point; the calls' events from here on are.
	sim.SetAutoPlay(&retellsim.CallScript{Gap: 300 * time.Millisecond})
	first := sim.Calls()
	if _, err := sim.PlayCall(bg, retellsim.CallScript{CallID: first[0].CallID, Summary: "Quer visitar o decorado no sábado."}); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.PlayCall(bg, retellsim.CallScript{CallID: first[1].CallID, Kind: retellsim.KindVoicemail}); err != nil {
		t.Fatal(err)
	}
	stat := func(k string) string {
		return eval[string](b, `document.querySelector('[data-testid="campaign-funnel-`+k+`"] .stat-value').textContent.trim()`)
	}
	// The voicemail waits an hour for its second call: three answered (and successful, once
	// analysed), one to call again.
	want := map[string]string{"called": "4", "answered": "3", "voicemail": "1", "to_retry": "1", "successful": "3"}
	var conds []string
	for k, v := range want {
		conds = append(conds, `document.querySelector('[data-testid="campaign-funnel-`+k+`"] .stat-value').textContent.trim() === "`+v+`"`)
	}
	b.waitJS("the figures settle", strings.Join(conds, " && "), 60*time.Second)
	for k, v := range want {
		if got := stat(k); got != v {
			t.Errorf("%s shows %q, want %q", k, got, v)
		}
	}
	if !eval[bool](b, `window.__e2eNoReload === true`) {
		t.Fatal("the page reloaded; the calls must arrive over SSE")
	}
	if got := eval[string](b, `document.querySelector('[data-testid="campaign-live"]').dataset.status`); got != model.CampaignRunning {
		t.Errorf("the campaign is %s; it waits for a retry, running", got)
	}
	shoot("run", tid("campaign-live"))
	if dir != "" { // the run page in Portuguese too
		run := eval[string](b, `location.pathname`)
		b.open(s.home+"/settings/profile", tid("profile-form"))
		b.do("switch to Portuguese", chromedp.SetValue(tid("profile-locale"), "pt-BR"), chromedp.Click(tid("profile-save")))
		b.waitJS("the page is in Portuguese", `document.documentElement.lang === "pt-BR"`, waitTimeout)
		for _, l := range []look{crmLooks[0], crmLooks[3]} {
			b.setLook(l)
			b.open(run, tid("campaign-live"))
			b.save(dir, "call-campaign-run-ptbr-"+l.name, l)
		}
	}
	b.noConsoleErrors()
}
