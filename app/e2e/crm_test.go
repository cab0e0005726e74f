package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/metasim"
	"masteria/app/web/webtest"
)

// crmSetup is an org with a WhatsApp Cloud channel on the Meta simulator, an approved
// template, and a contact the org has never talked to.
type crmSetup struct {
	*inboxSetup
	ms        *metasim.Server
	ch        model.Channel
	contactID int64
}

const crmPhoneID, crmWABA = "106540352242922", "102290129340398"

func newCRMSetup(t *testing.T, ctx context.Context, edit ...func(*config.Config)) *crmSetup {
	t.Helper()
	ms := metasim.New(metasim.WithStatusDelays(100*time.Millisecond, 200*time.Millisecond, 400*time.Millisecond))
	graph, err := ms.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ms.Close)
	const token, secret = "EAAG-crm-token", "crm-app-secret"
	ms.AddTemplate(crmWABA, metasim.Template{Name: "orcamento_pronto", Language: "pt_BR", Category: metasim.CategoryUtility,
		Components: []map[string]any{{"type": "BODY", "text": "Olá {{1}}, seu orçamento ficou pronto. Podemos conversar?"}}})
	inst := webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) {
		c.MetaGraphURL = graph
		for _, e := range edit {
			e(c)
		}
	})
	s := &crmSetup{inboxSetup: &inboxSetup{inst: inst, email: fmt.Sprintf("lia.%d@confeitaria.example", time.Now().UnixNano()), password: "bolo-de-Cenoura-com-calda-9"}, ms: ms}
	c := webtest.NewClient(t, inst.URL)
	s.home = c.Signup("Confeitaria Lia", "Lia Prado", s.email, s.password)
	_, _ = fmt.Sscanf(s.home, "/o/%d", &s.orgID)
	if res := c.Post(s.home+"/settings/channels", url.Values{"kind": {model.KindWhatsAppCloud}, "name": {"WhatsApp da loja"},
		"phone_number_id": {crmPhoneID}, "waba_id": {crmWABA}, "access_token": {token}, "app_secret": {secret}, "verify_token": {"vt"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("channel: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	s.ch = s.channel(t)
	ms.AddNumber(metasim.Number{PhoneNumberID: crmPhoneID, WABAID: crmWABA, AccessToken: token, AppSecret: secret,
		WebhookURL: fmt.Sprintf("%s/webhooks/whatsapp/%d", inst.URL, s.ch.ID)})
	db := inst.App.Store.DB()
	waitFor(t, ctx, "the templates synced", func() bool {
		var n int
		_ = db.Get(&n, `SELECT count(*) FROM message_templates WHERE channel_id = $1`, s.ch.ID)
		return n == 1
	})
	if res := c.Post(s.home+"/contacts", url.Values{"name": {"João Araújo"}, "phone": {"(11) 98765-0101"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("contact: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if err := db.Get(&s.contactID, `SELECT id FROM contacts WHERE org_id = $1`, s.orgID); err != nil {
		t.Fatal(err)
	}
	if res := c.Get(s.home + "/board"); res.StatusCode != http.StatusOK { // the first pipeline
		t.Fatalf("board: %d", res.StatusCode)
	}
	return s
}

// choose sets a select's value the way a person does, so htmx sees the change.
func choose(sel chromedp.CSS, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector(%s); s.value = %s; s.dispatchEvent(new Event("change", {bubbles: true})) })()`,
		jsString(string(sel)), jsString(value)))
}

// TestLinkedCRM walks the linked CRM: from a contact page the agent starts a WhatsApp
// conversation with a template (the 24-hour window is closed, so only templates are
// offered); the Meta simulator receives it and the customer's reply arrives live; the
// contact's timeline shows both; a lead is made from the conversation; its card on the
// board opens the conversation again.
func TestLinkedCRM(t *testing.T) {
	ctx := testContext(t, 3*testTimeout)
	s := newCRMSetup(t, ctx)
	b := newBrowser(t, ctx, "crm", s.inst.URL)
	s.login(b)
	contact := fmt.Sprintf("%s/contacts/%d", s.home, s.contactID)

	// Send message: the one channel, no conversation yet, so the form with the templates.
	b.open(contact, tid("contact-send"))
	if eval[bool](b, `!!document.querySelector('a[href*="wa.me"]')`) {
		t.Error("the contact page links to the agent's personal WhatsApp")
	}
	b.do("send a message", chromedp.Click(tid("contact-send")), chromedp.WaitVisible(tid("start-form")))
	b.waitJS("only templates are offered", `!!document.querySelector('[data-testid="start-template"]') && !document.querySelector('[data-testid="start-body"]')`, waitTimeout)
	tplID := eval[string](b, `[...document.querySelectorAll('[data-testid="start-template"] option')].find(o => o.textContent.includes("orcamento_pronto")).value`)
	b.do("choose the template", choose(tid("start-template"), tplID))
	b.waitJS("its parameter is asked", `document.querySelectorAll('[data-testid="start-param"]').length === 1`, waitTimeout)
	b.do("fill it in and send", chromedp.SendKeys(tid("start-param"), "João"), chromedp.Click(tid("start-send")))
	convPath := b.waitPath("the conversation opens in the inbox", `^/o/\d+/inbox/\d+$`)
	sent, err := s.ms.WaitSent(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := sent[0]; got.Type != "template" || got.Template != "orcamento_pronto" || got.WaID != "5511987650101" || !strings.Contains(string(got.Raw), `"João"`) {
		t.Fatalf("the simulator received %+v %s", got, got.Raw)
	}
	b.waitJS("the template shows in the thread", `[...document.querySelectorAll('[data-direction="out"] [data-testid="msg-body"]')].some(e => e.textContent.includes("orçamento ficou pronto"))`, waitTimeout)
	b.waitJS("the SSE connection is open", sseOpen, waitTimeout)

	// The customer answers through Meta: it arrives in the open conversation.
	if _, status, err := s.ms.InboundText(ctx, crmPhoneID, metasim.Sender{WaID: "5511987650101", Name: "João Araújo"}, "Oba! Quanto fica o bolo de 2 kg?"); err != nil || status != http.StatusOK {
		t.Fatalf("inbound: %d %v", status, err)
	}
	b.waitJS("the reply shows live", `[...document.querySelectorAll('[data-direction="in"] [data-testid="msg-body"]')].some(e => e.textContent.includes("bolo de 2 kg"))`, waitTimeout)

	// The timeline has the conversation with both messages.
	b.open(contact, tid("contact-timeline"))
	timeline := `[...document.querySelectorAll('[data-testid="timeline-message"]')].map(e => e.textContent).join(" | ")`
	b.waitJS("the timeline shows both messages", timeline+`.includes("orçamento ficou pronto") && `+timeline+`.includes("bolo de 2 kg")`, waitTimeout)
	if n := eval[int](b, `document.querySelectorAll('[data-testid="contact-conversation"]').length`); n != 1 {
		t.Errorf("%d open conversations on the contact page", n)
	}

	// A lead from the conversation, in the first stage.
	b.open(convPath, tid("inbox-lead-open"))
	b.do("open the new lead form", chromedp.Click(tid("inbox-lead-open")), chromedp.WaitVisible(tid("inbox-lead-title")))
	b.do("name it and create it",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="inbox-lead-title"]').value = ""`),
		chromedp.SendKeys(tid("inbox-lead-title"), "Bolo de 2 kg do João"),
		chromedp.Click(tid("inbox-lead-submit")),
	)
	b.waitJS("the pane shows the lead", `[...document.querySelectorAll('[data-testid="inbox-contact-lead"]')].some(e => e.textContent.includes("Bolo de 2 kg do João"))`, waitTimeout)

	// The board's card opens the lead, whose drawer jumps back to the conversation.
	b.open(s.home+"/board", tid("lead-card"))
	b.do("open the card", chromedp.Click(`[data-testid="lead-card"] [data-testid="lead-open"]`), chromedp.WaitVisible(tid("lead-conversation")))
	b.do("jump to its conversation", chromedp.Click(tid("lead-conversation")))
	if got := b.waitPath("back in the conversation", `^/o/\d+/inbox/\d+$`); got != convPath {
		t.Fatalf("the lead opened %s, want %s", got, convPath)
	}
	b.waitJS("the thread is there", `[...document.querySelectorAll('[data-direction="in"] [data-testid="msg-body"]')].some(e => e.textContent.includes("bolo de 2 kg"))`, waitTimeout)

	// Search as Brazilians type: "joao" finds João in the contacts, and the inbox finds the
	// words of a message ("orçamento"), not only names and numbers. Maria is there so that a
	// search that matches everything fails.
	if _, status, err := s.ms.InboundText(ctx, crmPhoneID, metasim.Sender{WaID: "5511987650202", Name: "Maria Souza"}, "Bom dia, vocês abrem sábado?"); err != nil || status != http.StatusOK {
		t.Fatalf("inbound: %d %v", status, err)
	}
	rows := func(testid string) string {
		return fmt.Sprintf(`[...document.querySelectorAll('[data-testid="%s"]')].map(e => e.textContent).join(" | ")`, testid)
	}
	b.open(s.home+"/contacts", tid("contacts-search"))
	b.waitJS("both contacts are listed", rows("contacts-row")+`.includes("Maria Souza")`, waitTimeout)
	b.do("search joao", chromedp.SendKeys(tid("contacts-search"), "joao"))
	b.waitJS("joao finds João and only him", rows("contacts-row")+`.includes("João Araújo") && !`+rows("contacts-row")+`.includes("Maria")`, waitTimeout)

	b.open(s.home+"/inbox", tid("inbox-search"))
	b.waitJS("both conversations are listed", rows("inbox-item")+`.includes("Maria Souza")`, waitTimeout)
	b.do("search orçamento", chromedp.SendKeys(tid("inbox-search"), "orçamento"))
	b.waitJS("the message text is found", rows("inbox-item")+`.includes("João Araújo") && !`+rows("inbox-item")+`.includes("Maria")`, waitTimeout)
	b.noConsoleErrors()
}

// TestMergeInBrowser: the same person wrote from another number and became a second
// contact; from the first contact's page the agent finds the other, sees what moves and
// merges them. The kept contact has both conversations and the merge on its timeline.
func TestMergeInBrowser(t *testing.T) {
	ctx := testContext(t, 2*testTimeout)
	s := newCRMSetup(t, ctx)
	if _, status, err := s.ms.InboundText(ctx, crmPhoneID, metasim.Sender{WaID: "5511987650303", Name: "João (trabalho)"}, "Oi, é o João, do número do trabalho"); err != nil || status != http.StatusOK {
		t.Fatalf("inbound: %d %v", status, err)
	}
	db := s.inst.App.Store.DB()
	var other int64
	waitFor(t, ctx, "the second contact", func() bool {
		return db.Get(&other, `SELECT id FROM contacts WHERE org_id = $1 AND phone = '+5511987650303'`, s.orgID) == nil
	})

	b := newBrowser(t, ctx, "merge", s.inst.URL)
	s.login(b)
	b.open(fmt.Sprintf("%s/contacts/%d", s.home, s.contactID), tid("contact-merge"))
	b.do("open the merge page", chromedp.Click(tid("contact-merge")), chromedp.WaitVisible(tid("merge-search")))
	b.do("search the other record", chromedp.SendKeys(tid("merge-search"), "trabalho"), chromedp.Submit(tid("merge-search")))
	b.waitJS("the other record is found", `[...document.querySelectorAll('[data-testid="merge-candidate"]')].some(a => a.textContent.includes("João (trabalho)"))`, waitTimeout)
	b.do("pick it", chromedp.Click(tid("merge-candidate")), chromedp.WaitVisible(tid("merge-preview")))
	if got := b.text(tid("merge-preview")); !strings.Contains(got, "(11) 98765-0303") {
		t.Errorf("the preview does not name the other record by its phone: %s", got)
	}
	// The agent answers the browser's "are you sure?" with yes.
	b.do("merge", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`), chromedp.Click(tid("merge-confirm")))
	b.waitPath("back on the kept contact", fmt.Sprintf(`^/o/\d+/contacts/%d$`, s.contactID))
	b.waitJS("its timeline says what was merged", `document.querySelector('[data-testid="contact-timeline"]').textContent.includes("João (trabalho)")`, waitTimeout)
	b.waitJS("the other number's conversation is here now", `document.querySelectorAll('[data-testid="contact-conversation"]').length === 1 && document.querySelector('[data-testid="contact-conversation"]').textContent.includes("trabalho")`, waitTimeout)
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM contacts WHERE org_id = $1 AND id = $2`, s.orgID, other); err != nil || n != 0 {
		t.Fatalf("the other contact is still there (%d, %v)", n, err)
	}
	b.noConsoleErrors()
}
