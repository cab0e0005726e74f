package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/retellsim"
	"masteria/app/store/storetest"
	"masteria/app/voice/retell"
	"masteria/app/web/webtest"
)

// TestStartCallFromContact: a member opens a contact's page and presses Call; the Retell
// simulator places the call and plays its events to the webhook; the call shows by itself
// on the open page (calling, then how it ended with its summary, transcript and, once the
// recording is kept, the player), and in the contact's conversation. With
// MASTERIA_SCREENSHOTS set it saves the contact page and the conversation at 1366 px light
// in English and 390 px dark in Portuguese.
func TestStartCallFromContact(t *testing.T) {
	needChromium(t)
	const key = "key_e2e_dial_0123456789"
	sim := retellsim.New(retellsim.WithAPIKeys(key))
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	inst := webtest.StartOn(t, storetest.URL(t), func(c *config.Config) { c.RetellAPIURL = sim.URL() })
	email, password := fmt.Sprintf("caio.%d@doceria.example", os.Getpid()), "brigadeiro-Quente-42-forno"
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Doceria Três Marias", "Caio Lima", email, password)
	bg := context.Background()
	var orgID, userID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	_ = inst.App.Store.DB().Get(&userID, `SELECT id FROM users`)
	owner := model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner}

	// A customer who wrote on WhatsApp (the sandbox channel), and the org's voice set-up:
	// Retell connected, a number ready with its outbound agent, calls at any hour.
	s := &inboxSetup{inst: inst, home: home, email: email, password: password, orgID: orgID}
	if _, err := inst.App.Inbox.CreateChannel(bg, owner, model.KindSandbox, "WhatsApp", nil, nil); err != nil {
		t.Fatal(err)
	}
	r := s.receive(t, s.channel(t), "+5511987123455", "Beatriz Nunes", "Vocês fazem bolo sem glúten?")
	acc, err := inst.App.Voice.Connect(bg, owner, key)
	if err != nil {
		t.Fatal(err)
	}
	sim.SetWebhook(fmt.Sprintf("%s/webhooks/retell/%d", inst.URL, acc.ID))
	sim.AddAgent(retell.Agent{AgentID: "agent_doceria", AgentName: "Atendente Doceria"})
	sim.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: "+551130004000", OutboundAgents: []retell.AgentWeight{{AgentID: "agent_doceria", Weight: 1}}})
	db := inst.App.Store.DB()
	if _, err := db.Exec(`INSERT INTO voice_numbers (org_id, phone_number, source, step, status, outbound_agent_id, nickname)
		VALUES ($1, '+551130004000', 'linked', 'ready', 'ready', 'agent_doceria', 'Doceria')`, orgID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE voice_accounts SET call_hours_start = 0, call_hours_end = 24, call_days = 127 WHERE org_id = $1`, orgID); err != nil {
		t.Fatal(err)
	}
	// Retell plays each call it is asked to place, a beat apart, so the page sees it ring first.
	sim.SetAutoPlay(&retellsim.CallScript{Gap: 700 * time.Millisecond, Summary: "Customer wants a gluten-free cake for Saturday.",
		Transcript: []retell.Utterance{{Role: "agent", Content: "Hi Beatriz, this is Doceria Três Marias about your cake."},
			{Role: "user", Content: "Yes! A gluten-free chocolate cake for Saturday, please."}}})

	ctx := testContext(t, testTimeout)
	b := newBrowser(t, ctx, "dial", inst.URL)
	s.login(b)
	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	if dir != "" {
		b.keys = i18nKeys(t)
	}
	wide := look{name: "desktop-light", width: 1366, height: 900, theme: "light"}
	b.setLook(wide)
	contactPath := fmt.Sprintf("%s/contacts/%d", home, r.ContactID)
	b.open(contactPath, tid("contact-call"))
	b.waitJS("the SSE connection is open", sseOpen, waitTimeout)
	b.do("call", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`), chromedp.Click(tid("contact-call")))
	b.waitJS("the toast says it is calling", `[...document.querySelectorAll('.toast')].some(t => t.textContent.includes('Calling Beatriz Nunes'))`, waitTimeout)
	b.waitJS("the call shows by itself", `!!document.querySelector('[data-testid="call-item"]')`, waitTimeout)
	b.waitJS("its analysis follows", `!!document.querySelector('[data-testid="call-summary"]')`, waitTimeout)
	b.waitJS("then the kept recording's player", `!!document.querySelector('[data-testid="call-player"]')`, waitTimeout)
	item := b.text(tid("call-item"))
	for _, want := range []string{"Outbound call", "Customer wants a gluten-free cake for Saturday.", "A gluten-free chocolate cake for Saturday"} {
		if !strings.Contains(item, want) {
			t.Errorf("the call on the contact lacks %q: %s", want, item)
		}
	}
	calls := sim.Calls()
	if len(calls) != 1 || calls[0].DynamicVariables["first_name"] != "Beatriz" || calls[0].ToNumber != "+5511987123455" {
		t.Fatalf("Retell got %+v", calls)
	}
	if dir != "" {
		b.save(dir, "call-contact-en-light", wide)
	}

	// The same call in the conversation's thread.
	convPath := fmt.Sprintf("%s/inbox/%d", home, r.ConversationID)
	b.open(convPath, tid("call-item"))
	thread := b.text(tid("call-item"))
	if !strings.Contains(thread, "A gluten-free chocolate cake for Saturday") || !eval[bool](b, `!!document.querySelector('[data-testid="call-player"]')`) {
		t.Errorf("the conversation's call item: %s", thread)
	}
	if dir != "" {
		b.save(dir, "call-conversation-en-light", wide)
	}

	// On a phone, dark, in Portuguese: the Call item of the conversation's actions.
	phone := look{name: "phone-dark", width: 390, height: 844, theme: "dark", phone: true}
	c.Post("/locale", url.Values{"locale": {"pt-BR"}})
	b.setLook(phone)
	b.open(convPath, tid("inbox-actions"))
	b.waitJS("the SSE connection is open", sseOpen, waitTimeout)
	b.do("open the actions", chromedp.Click(tid("inbox-actions")), chromedp.WaitVisible(tid("inbox-call")))
	if dir != "" {
		b.save(dir, "call-actions-pt-dark", phone)
	}
	b.do("call again", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`), chromedp.Click(tid("inbox-call")))
	b.waitJS("a second call shows", `document.querySelectorAll('[data-testid="call-item"]').length >= 2`, waitTimeout)
	if w := eval[int64](b, `document.documentElement.scrollWidth`); w > phone.width {
		t.Errorf("the conversation is %d px wide", w)
	}
	b.open(contactPath, tid("contact-call"))
	if dir != "" {
		b.save(dir, "call-contact-pt-dark", phone)
	}
	b.noConsoleErrors()
}
