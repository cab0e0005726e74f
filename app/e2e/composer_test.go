package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/metasim"
	"masteria/app/web/webtest"
)

// TestComposerQuickRepliesAndTemplates types "/" in the composer and picks a quick reply
// (the contact's first name filled in) and, once the 24-hour window has closed, sends an
// approved template with its parameters from the picker; the Meta simulator receives both.
func TestComposerQuickRepliesAndTemplates(t *testing.T) {
	ctx := testContext(t, 2*testTimeout)
	ms := metasim.New()
	graph, err := ms.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ms.Close)
	const phoneID, wabaID, token, secret = "106540352242922", "102290129340398", "EAAG-composer-token", "composer-app-secret"
	ms.AddTemplate(wabaID, metasim.Template{Name: "pedido_confirmado", Language: "pt_BR", Category: metasim.CategoryUtility,
		Components: []map[string]any{{"type": "BODY", "text": "Olá {{1}}, seu pedido {{2}} foi confirmado."}}})
	inst := webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) { c.MetaGraphURL = graph })
	s := &inboxSetup{inst: inst, email: fmt.Sprintf("bia.%d@doceria.example", time.Now().UnixNano()), password: "brigadeiro-Gourmet-2026"}
	c := webtest.NewClient(t, inst.URL)
	s.home = c.Signup("Doceria Bia", "Bia Souza", s.email, s.password)
	_, _ = fmt.Sscanf(s.home, "/o/%d", &s.orgID)
	if res := c.Post(s.home+"/settings/channels", url.Values{"kind": {model.KindWhatsAppCloud}, "name": {"WhatsApp"},
		"phone_number_id": {phoneID}, "waba_id": {wabaID}, "access_token": {token}, "app_secret": {secret}, "verify_token": {"vt"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("channel: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if res := c.Post(s.home+"/settings/quick-replies", url.Values{"shortcut": {"horario"}, "title": {"Horário"},
		"body": {"Oi {{nome}}! Abrimos das 8h às 19h."}}); res.StatusCode >= 400 {
		t.Fatalf("quick reply: %d", res.StatusCode)
	}
	ch := s.channel(t)
	ms.AddNumber(metasim.Number{PhoneNumberID: phoneID, WABAID: wabaID, AccessToken: token, AppSecret: secret,
		WebhookURL: fmt.Sprintf("%s/webhooks/whatsapp/%d", inst.URL, ch.ID)})
	if _, status, err := ms.InboundText(ctx, phoneID, metasim.Sender{WaID: "5511987654321", Name: "Marta Reis"}, "Que horas vocês abrem?"); err != nil || status != http.StatusOK {
		t.Fatalf("inbound: %d %v", status, err)
	}
	db := inst.App.Store.DB()
	waitFor(t, ctx, "the templates synced", func() bool {
		var n int
		_ = db.Get(&n, `SELECT count(*) FROM message_templates WHERE channel_id = $1`, ch.ID)
		return n == 1
	})
	var convID int64
	if err := db.Get(&convID, `SELECT id FROM conversations WHERE channel_id = $1`, ch.ID); err != nil {
		t.Fatal(err)
	}
	conv := fmt.Sprintf("%s/inbox/%d", s.home, convID)

	b := newBrowser(t, ctx, "composer", inst.URL)
	s.login(b)
	b.open(conv, tid("composer-body"))
	b.do("type / and the start of a shortcut", chromedp.Click(tid("composer-body")), chromedp.SendKeys(tid("composer-body"), "/hor"))
	b.waitJS("the quick replies show", `!!document.querySelector('[data-testid="quick-popup"] [role=option]')`, waitTimeout)
	// The keydown alone, as a keyboard sends it: chromedp's Enter also types a separate "\r"
	// character event that no page can cancel, which a real key press does not.
	b.do("pick it with Enter", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="composer-body"]').dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", bubbles: true, cancelable: true}))`))
	b.waitJS("the reply is in the box, with the first name", `document.querySelector('[data-testid="composer-body"]').value === "Oi Marta! Abrimos das 8h às 19h."`, waitTimeout)
	if eval[bool](b, `!!document.querySelector('[data-testid="quick-popup"]')`) {
		t.Error("the popup stayed open")
	}
	b.do("send it", chromedp.KeyEvent(kb.Enter))
	sent, err := ms.WaitSent(ctx, 1)
	if err != nil || sent[0].Text != "Oi Marta! Abrimos das 8h às 19h." {
		t.Fatalf("sent %+v %v", sent, err)
	}

	// A day later the window is closed: only a template may go, and the picker says how.
	if _, err := db.Exec(`UPDATE conversations SET last_inbound_at = now() - interval '25 hours' WHERE id = $1`, convID); err != nil {
		t.Fatal(err)
	}
	b.open(conv, tid("composer-template"))
	b.do("open the template picker", chromedp.Click(tid("composer-template")))
	b.waitJS("the approved template is offered", `!!document.querySelector('[data-testid="template-option"][data-template="pedido_confirmado"]')`, waitTimeout)
	b.do("choose it", chromedp.Click(`[data-testid="template-option"][data-template="pedido_confirmado"]`))
	b.waitJS("its parameters are asked", `document.querySelectorAll('[data-testid="template-param"]').length === 2`, waitTimeout)
	if n := eval[int](b, `document.querySelectorAll('[data-testid="template-picker"]').length`); n != 1 || eval[bool](b, `!!document.querySelector('[data-testid="template-option"]')`) {
		t.Errorf("the chosen template should replace the list: %d pickers", n)
	}
	b.do("fill them in",
		chromedp.SendKeys(`[data-testid="template-param"][data-index="0"]`, "Marta"),
		chromedp.SendKeys(`[data-testid="template-param"][data-index="1"]`, "#1042"),
	)
	b.waitJS("the preview follows", `document.querySelector('[data-testid="template-preview"]').textContent.trim() === "Olá Marta, seu pedido #1042 foi confirmado."`, waitTimeout)
	if dir := os.Getenv("MASTERIA_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "template-picker.png"), png, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	b.do("send the template", chromedp.Click(tid("template-send")))
	sent, err = ms.WaitSent(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := sent[1]; got.Type != "template" || got.Template != "pedido_confirmado" || got.Language != "pt_BR" ||
		!strings.Contains(string(got.Raw), `"Marta"`) || !strings.Contains(string(got.Raw), `"#1042"`) {
		t.Fatalf("template sent %+v %s", got, got.Raw)
	}
	b.waitJS("the template shows in the thread", `[...document.querySelectorAll('[data-direction="out"] [data-testid="msg-body"]')].some(e => e.textContent.includes("pedido #1042"))`, waitTimeout)
	if dir := os.Getenv("MASTERIA_SCREENSHOTS"); dir != "" {
		b.open(fmt.Sprintf("%s/settings/channels/%d/templates", s.home, ch.ID), tid("templates-table"))
		png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "templates.png"), png, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	b.noConsoleErrors()
}
