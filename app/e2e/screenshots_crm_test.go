package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"masteria/app/crm/board"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/sim/metasim"
)

// crmLooks are the linked CRM's screens: a common laptop and a phone, light and dark.
var crmLooks = []look{
	{name: "1366", width: 1366, height: 768, theme: "light"},
	{name: "390", width: 390, height: 844, theme: "light", phone: true},
	{name: "1366-dark", width: 1366, height: 768, theme: "dark"},
	{name: "390-dark", width: 390, height: 844, theme: "dark", phone: true},
}

// TestScreenshotsCRM writes PNGs of the linked CRM (the contact page, the new-conversation
// form, the inbox's contact pane, the merge page and the home page) at 1366 and 390 px wide, light and dark, in English and
// in Portuguese, into the folder MASTERIA_SCREENSHOTS names. Like TestScreenshots it fails
// only when a page cannot be shown, and logs what it can tell is wrong with PROBLEM.
func TestScreenshotsCRM(t *testing.T) {
	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	if dir == "" {
		t.Skip("set MASTERIA_SCREENSHOTS to a folder to write screenshots of the linked CRM")
	}
	needChromium(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t, 4*testTimeout)
	s := newCRMSetup(t, ctx)
	app := s.inst.App
	var userID int64
	_ = app.Store.DB().Get(&userID, `SELECT id FROM users`)
	a := model.Actor{OrgID: s.orgID, UserID: userID, Role: model.RoleOwner}

	// A conversation started with a template, the customer's answer, a note and a lead.
	tpl := inbox.TemplateSend{Name: "orcamento_pronto", Language: "pt_BR", Params: []string{"João"}}
	st, err := app.Inbox.Start(ctx, a, inbox.StartInput{ChannelID: s.ch.ID, ContactID: s.contactID, Template: &tpl})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ms.WaitSent(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, status, err := s.ms.InboundText(ctx, crmPhoneID, metasim.Sender{WaID: "5511987650101", Name: "João Araújo"}, "Oba! Quanto fica o bolo de 2 kg com cobertura de brigadeiro?"); err != nil || status != http.StatusOK {
		t.Fatalf("inbound: %d %v", status, err)
	}
	waitFor(t, ctx, "the reply stored", func() bool {
		var n int
		_ = app.Store.DB().Get(&n, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND direction = 'in'`, st.ConversationID)
		return n == 1
	})
	if _, err := app.Inbox.Note(ctx, a, st.ConversationID, "Cliente de Campinas, prefere retirar na loja."); err != nil {
		t.Fatal(err)
	}
	var stageID int64
	_ = app.Store.DB().Get(&stageID, `SELECT id FROM stages WHERE org_id = $1 ORDER BY position LIMIT 1`, s.orgID)
	if _, err := app.Board.CreateLead(ctx, a, board.LeadInput{StageID: stageID, Title: "Bolo de 2 kg com cobertura de brigadeiro para o aniversário",
		Value: "180,00", ContactID: strconv.FormatInt(s.contactID, 10)}); err != nil {
		t.Fatal(err)
	}
	// Two campaign sends to the contact, as the engine records them: one read, one that
	// WhatsApp held back (131049).
	for _, c := range []struct{ name, status, code, title string }{
		{"Promoção de Páscoa: ovos de colher com 20% de desconto", "read", "", ""},
		{"Aviso de entrega", "capped", "131049", "This message was not delivered to maintain healthy ecosystem engagement."},
	} {
		if _, err := app.Store.DB().Exec(`WITH cp AS (INSERT INTO campaigns (org_id, name, channel_id, status) VALUES ($1, $2, $3, 'completed') RETURNING id)
			INSERT INTO campaign_recipients (org_id, campaign_id, channel_id, contact_id, status, error_code, error_title, sent_at, delivered_at, read_at, failed_at)
			SELECT $1, cp.id, $3, $4, $5, $6, $7, now(), now(), CASE WHEN $5 = 'read' THEN now() END,
			       CASE WHEN $5 = 'capped' THEN now() END FROM cp`,
			s.orgID, c.name, s.ch.ID, s.contactID, c.status, c.code, c.title); err != nil {
			t.Fatal(err)
		}
	}
	// More on the home page: a conversation nobody has yet.
	if _, status, err := s.ms.InboundText(context.Background(), crmPhoneID, metasim.Sender{WaID: "5511976541234", Name: "Maria Aparecida dos Santos"}, "Vocês fazem entrega no sábado?"); err != nil || status != http.StatusOK {
		t.Fatalf("inbound: %d %v", status, err)
	}

	b := newBrowser(t, ctx, "crm-shots", s.inst.URL)
	b.keys = i18nKeys(t)
	s.login(b)
	contact := fmt.Sprintf("%s/contacts/%d", s.home, s.contactID)
	conv := fmt.Sprintf("%s/inbox/%d", s.home, st.ConversationID)
	var other int64
	_ = app.Store.DB().Get(&other, `SELECT id FROM contacts WHERE org_id = $1 AND name = 'Maria Aparecida dos Santos'`, s.orgID)

	for _, lang := range []string{"en", "ptbr"} {
		if lang == "ptbr" {
			b.open(s.home+"/settings/profile", tid("profile-form"))
			b.do("switch to Portuguese", chromedp.SetValue(tid("profile-locale"), "pt-BR"), chromedp.Click(tid("profile-save")))
			b.waitJS("the page is in Portuguese", `document.documentElement.lang === "pt-BR"`, waitTimeout)
		}
		for _, l := range crmLooks {
			name := func(page string) string { return "crm-" + page + "-" + lang + "-" + l.name }
			b.setLook(l)
			b.open(contact, tid("contact-timeline"))
			b.save(dir, name("contact"), l)
			b.open(fmt.Sprintf("%s/inbox/new?contact=%d", s.home, other), tid("start-form"))
			tplID := eval[string](b, `[...document.querySelectorAll('[data-testid="start-template"] option')].find(o => o.textContent.includes("orcamento_pronto")).value`)
			b.do("choose the template", choose(tid("start-template"), tplID))
			b.waitJS("its parameter is asked", `document.querySelectorAll('[data-testid="start-param"]').length === 1`, waitTimeout)
			b.save(dir, name("new-conversation"), l)
			b.open(s.home+"/inbox/new", tid("start-form"))
			b.do("search a contact", chromedp.SendKeys(tid("start-search"), "mar"))
			b.waitJS("the contacts found show", `!!document.querySelector('[data-testid="start-contact-option"]')`, waitTimeout)
			b.save(dir, name("new-conversation-search"), l)
			b.open(conv, tid("composer-template"))
			if l.phone {
				b.do("open the contact pane", chromedp.Click(tid("inbox-details")))
			}
			b.do("open the new lead form", chromedp.Click(tid("inbox-lead-open")), chromedp.WaitVisible(tid("inbox-lead-title")))
			b.save(dir, name("inbox-pane"), l)
			b.open(fmt.Sprintf("%s/contacts/%d/merge?q=mar", s.home, s.contactID), tid("merge-candidates"))
			b.save(dir, name("merge-search"), l)
			b.open(fmt.Sprintf("%s/contacts/%d/merge?other=%d", s.home, s.contactID, other), tid("merge-preview"))
			b.save(dir, name("merge-preview"), l)
			b.open(s.home, tid("checklist"))
			b.save(dir, name("home"), l)
		}
	}
	b.noConsoleErrors()
}
