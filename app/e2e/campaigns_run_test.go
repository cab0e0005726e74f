package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"masteria/app/config"
	"masteria/app/crm"
	"masteria/app/model"
	"masteria/app/sim/metasim"
	"masteria/app/web/webtest"
)

// runSetup is an org with a WhatsApp Cloud channel on the Meta simulator, an approved
// template with one variable, contacts, and a draft campaign to all of them.
type runSetup struct {
	*inboxSetup
	ms       *metasim.Server
	ch       model.Channel
	a        model.Actor
	campaign model.Campaign
	page     string
}

const runPhoneID, runWABA = "106540352242933", "102290129340344"

// newRunSetup makes the draft; pace is the channel's messages per second, delays
// are the simulator's before each status (sent, delivered, read).
func newRunSetup(t *testing.T, ctx context.Context, names []string, pace float64, variants int, delays [3]time.Duration) *runSetup {
	t.Helper()
	ms := metasim.New(metasim.WithStatusDelays(delays[0], delays[1], delays[2]))
	graph, err := ms.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ms.Close)
	const token, secret = "EAAG-campaign-token", "campaign-app-secret"
	ms.AddTemplate(runWABA, metasim.Template{Name: "orcamento_pronto", Language: "pt_BR", Category: metasim.CategoryMarketing,
		Components: []map[string]any{{"type": "BODY", "text": "Olá {{1}}, seu orçamento de fim de ano ficou pronto. Podemos conversar?"}}})
	inst := webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) { c.MetaGraphURL = graph })
	s := &runSetup{inboxSetup: &inboxSetup{inst: inst, email: fmt.Sprintf("lia.%d@confeitaria.example", time.Now().UnixNano()),
		password: "bolo-de-Cenoura-com-calda-9"}, ms: ms}
	c := webtest.NewClient(t, inst.URL)
	s.home = c.Signup("Confeitaria Lia", "Lia Prado", s.email, s.password)
	_, _ = fmt.Sscanf(s.home, "/o/%d", &s.orgID)
	if res := c.Post(s.home+"/settings/channels", url.Values{"kind": {model.KindWhatsAppCloud}, "name": {"WhatsApp da loja"},
		"phone_number_id": {runPhoneID}, "waba_id": {runWABA}, "access_token": {token}, "app_secret": {secret}, "verify_token": {"vt"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("channel: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	s.ch = s.channel(t)
	ms.AddNumber(metasim.Number{PhoneNumberID: runPhoneID, WABAID: runWABA, AccessToken: token, AppSecret: secret,
		WebhookURL: fmt.Sprintf("%s/webhooks/whatsapp/%d", inst.URL, s.ch.ID)})
	app := s.inst.App
	db := app.Store.DB()
	waitFor(t, ctx, "the templates synced", func() bool {
		var n int
		_ = db.Get(&n, `SELECT count(*) FROM message_templates WHERE channel_id = $1 AND status = 'APPROVED'`, s.ch.ID)
		return n == 1
	})
	var userID int64
	_ = db.Get(&userID, `SELECT id FROM users`)
	s.a = model.Actor{OrgID: s.orgID, UserID: userID, Role: model.RoleOwner}
	var ids []int64
	for i, n := range names {
		c, err := app.CRM.Create(ctx, s.a, crm.ContactInput{Name: n, Phone: fmt.Sprintf("+55119876502%02d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	if err := app.Store.SetChannelSendSettings(ctx, s.orgID, s.ch.ID, []byte(`{}`), pace); err != nil {
		t.Fatal(err)
	}
	var tplID int64
	if err := db.Get(&tplID, `SELECT id FROM message_templates WHERE channel_id = $1`, s.ch.ID); err != nil {
		t.Fatal(err)
	}
	cp := model.Campaign{Name: "Orçamentos de dezembro", ChannelID: &s.ch.ID, Audience: model.Audience{ContactIDs: ids},
		Settings: model.DefaultCampaignSettings()}
	cp.Settings.QuietStart, cp.Settings.QuietEnd = 0, 0 // the test runs at any hour
	for range variants {
		cp.Message.Variants = append(cp.Message.Variants, model.Variant{TemplateID: tplID,
			Vars: []model.VarMap{{Source: "field", Field: "first_name", Fallback: "cliente"}}})
	}
	if variants > 1 {
		cp.Settings.TestPct, cp.Settings.AutoWinner = 50, false
	}
	if s.campaign, err = app.Campaigns.Create(ctx, s.a, cp); err != nil {
		t.Fatal(err)
	}
	s.page = fmt.Sprintf("%s/campaigns/%d", s.home, s.campaign.ID)
	return s
}

// launch starts the campaign now.
func (s *runSetup) launch(t *testing.T, ctx context.Context) {
	t.Helper()
	c, err := s.inst.App.Campaigns.Launch(ctx, s.a, s.campaign.ID)
	if err != nil || c.Status != model.CampaignRunning {
		t.Fatalf("launch: %v, %s", err, c.Status)
	}
}

// clickCentred scrolls the element to the middle of the screen, out from under the sticky
// top bar, and clicks it.
func clickCentred(sel chromedp.CSS) chromedp.Action[chromedp.Void] {
	scroll := chromedp.Evaluate[chromedp.Void](`document.querySelector(` + jsString(string(sel)) + `).scrollIntoView({block: "center"})`)
	click := chromedp.Click(sel)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if _, err := scroll(ctx, t); err != nil {
			return chromedp.Void{}, err
		}
		return click(ctx, t)
	}
}

// count is a status's counter on the page.
func runCount(b *browser, status string) int {
	v := eval[string](b, `(document.querySelector('[data-testid="campaign-count-`+status+`"]') || {dataset: {count: "-1"}}).dataset.count`)
	n, _ := strconv.Atoi(v)
	return n
}

// TestCampaignRunLive: a user opens a campaign as it starts, watches the counters, the bar
// and each recipient's ticks move (sent, delivered, read) without reloading, pauses it in
// the middle (the sends stop) and resumes it, filters the table and opens a recipient's
// conversation from it.
func TestCampaignRunLive(t *testing.T) {
	t.Parallel()
	needChromium(t)
	ctx := testContext(t, 3*testTimeout)
	names := []string{"Ana Souza", "Bruno Lima", "Carla Dias", "Davi Rocha", "Elisa Melo", "Fábio Reis", "Gabi Nunes", "Heitor Sá",
		"Íris Costa", "Júlio Paz", "Kátia Luz"}
	// Enough people at one a second that a busy machine still pauses it in the middle.
	for i := len(names); i < 24; i++ {
		names = append(names, fmt.Sprintf("Cliente %d", i+1))
	}
	s := newRunSetup(t, ctx, names, 1, 1, [3]time.Duration{300 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond})
	app := s.inst.App

	b := newBrowser(t, ctx, "campaign", s.inst.URL)
	s.login(b)
	s.launch(t, ctx) // one message a second: about 24 s of sending
	b.open(s.page, tid("campaign-live"))
	b.waitJS("the SSE connection of the page is open", sseOpen, waitTimeout)
	b.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__e2eNoReload = true`))
	if got := eval[string](b, `document.querySelector('[data-testid="campaign-live"]').dataset.status`); got != model.CampaignRunning {
		t.Fatalf("the page shows %s, want running", got)
	}

	// The figures move by themselves: recipients appear, then sends, deliveries and reads.
	if n := eval[int](b, `document.querySelectorAll('[data-testid="campaign-recipient"]').length`); n != len(names) {
		t.Fatalf("%d recipients in the table, want %d", n, len(names))
	}
	b.waitJS("the sent counter moves", `+document.querySelector('[data-testid="campaign-funnel-sent"] .stat-value').textContent > 0`, waitTimeout)
	b.waitJS("a first send shows with one tick", `!!document.querySelector('[data-testid="campaign-recipient"][data-status="sent"] .run-ticks')`, waitTimeout)
	b.waitJS("a delivery shows with two ticks", `!!document.querySelector('[data-testid="campaign-recipient"][data-status="delivered"]')`, waitTimeout)
	b.waitJS("a read shows with blue ticks", `!!document.querySelector('[data-testid="campaign-recipient"][data-status="read"] .run-ticks-read')`, waitTimeout)
	if n := runCount(b, model.RecipientPending); n == 0 {
		t.Logf("every recipient was sent before the pause: the pace is too fast to see a pause in the middle")
	}

	// Pause in the middle: the sends stop; Resume continues them.
	b.do("pause while sending", clickCentred(tid("campaign-pause")))
	b.waitJS("the page says paused", `document.querySelector('[data-testid="campaign-live"]').dataset.status === "paused"`, waitTimeout)
	// What a runner had already claimed goes out at its slot (at one message a second, two
	// runners hold up to two seconds of slots); after that nothing more does.
	sent := func() (n int) {
		_ = app.Store.DB().Get(&n, `SELECT count(*) FROM campaign_recipients WHERE campaign_id = $1 AND sent_at IS NOT NULL`, s.campaign.ID)
		return n
	}
	time.Sleep(3 * time.Second)
	atPause := sent()
	time.Sleep(2 * time.Second)
	if later := sent(); later != atPause || later == len(names) {
		t.Errorf("sends went on while paused: %d, then %d of %d", atPause, later, len(names))
	}
	b.do("resume", clickCentred(tid("campaign-resume")))
	b.waitJS("the campaign finishes on the page", `document.querySelector('[data-testid="campaign-live"]').dataset.status === "completed"`, 90*time.Second)
	b.waitJS("every recipient is read", fmt.Sprintf(`document.querySelectorAll('[data-testid="campaign-recipient"][data-status="read"]').length === %d`, len(names)), waitTimeout)
	// The counters are their own region, reloaded by the same events a beat apart.
	b.waitJS("the read counter follows", fmt.Sprintf(`(document.querySelector('[data-testid="campaign-count-%s"]') || {dataset: {}}).dataset.count === "%d"`,
		model.RecipientRead, len(names)), waitTimeout)
	if !eval[bool](b, `window.__e2eNoReload === true`) {
		t.Fatalf("the page reloaded; progress must arrive over SSE")
	}

	// A filter tab, then a recipient's conversation.
	b.do("show the read ones", clickCentred(tid("campaign-tab-read")))
	b.waitJS("the read tab is open", `document.querySelector('[data-testid="campaign-tab-read"]').getAttribute("aria-current") === "page"`, waitTimeout)
	conv := eval[string](b, `document.querySelector('[data-testid="recipient-conversation"]').getAttribute("href")`)
	b.do("open a recipient's conversation", clickCentred(tid("recipient-conversation")))
	b.waitPath("the conversation opens", "^"+conv+"$")
	b.do("see its thread", chromedp.WaitVisible(tid("composer-template")))
	b.noConsoleErrors()
}

// TestCampaignRunScreenshots writes PNGs of the run page (sending, paused by itself, an A/B
// test, finished) at 1366 and 390 px, light and dark, in English and Portuguese, into the
// folder MASTERIA_SCREENSHOTS names.
func TestCampaignRunScreenshots(t *testing.T) {
	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	if dir == "" {
		t.Skip("set MASTERIA_SCREENSHOTS to a folder to write screenshots of the campaign run page")
	}
	needChromium(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t, 4*testTimeout)
	names := []string{"Ana Souza", "Bruno Lima", "Carla Dias", "Davi Rocha", "=HYPERLINK(\"x\")", "Maria Aparecida dos Santos Oliveira"}
	s := newRunSetup(t, ctx, names, 50, 2, [3]time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond})
	app := s.inst.App
	s.ms.SetFailDeliveryFor("5511987650204", 131026, "Message undeliverable")
	s.launch(t, ctx)
	waitFor(t, ctx, "the test split is sent and read", func() bool {
		var read, moving int
		_ = app.Store.DB().Get(&read, `SELECT count(*) FROM campaign_recipients WHERE campaign_id = $1 AND status = 'read'`, s.campaign.ID)
		_ = app.Store.DB().Get(&moving, `SELECT count(*) FROM campaign_recipients WHERE campaign_id = $1 AND status IN ('claimed', 'sent', 'delivered')`, s.campaign.ID)
		return read >= 1 && moving == 0
	})
	// The campaign pauses by itself, as the engine does when too many sends fail.
	if _, err := app.Store.DB().Exec(`UPDATE campaigns SET status = 'paused', pause_reason = 'failure_rate', pause_detail = '12/50' WHERE id = $1`, s.campaign.ID); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, ctx, "campaign-shots", s.inst.URL)
	b.keys = i18nKeys(t)
	s.login(b)
	for _, lang := range []string{"en", "ptbr"} {
		if lang == "ptbr" {
			b.open(s.home+"/settings/profile", tid("profile-form"))
			b.do("switch to Portuguese", chromedp.SetValue(tid("profile-locale"), "pt-BR"), chromedp.Click(tid("profile-save")))
			b.waitJS("the page is in Portuguese", `document.documentElement.lang === "pt-BR"`, waitTimeout)
		}
		for _, l := range crmLooks {
			b.setLook(l)
			b.open(s.page, tid("campaign-recipients"))
			b.save(dir, "campaign-run-"+lang+"-"+l.name, l)
		}
	}
	b.noConsoleErrors()
}
