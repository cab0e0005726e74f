package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"masteria/app/channel/meta"
	"masteria/app/config"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/sim/metasim"
	"masteria/app/web/webtest"
)

// simWhatsApp is an org with a WhatsApp Cloud channel wired to a Meta simulator.
type simWhatsApp struct {
	inst    *webtest.Instance
	c       *webtest.Client
	home    string
	ms      *metasim.Server
	phoneID string
	chID    int64
}

func startSimWhatsApp(t *testing.T, ctx context.Context) simWhatsApp {
	t.Helper()
	ms := metasim.New()
	ms.SetAutoStatuses()
	graph, err := ms.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ms.Close)
	inst := webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) { c.MetaGraphURL = graph })
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja Ids", "Iara", uniqueEmail("iara"), strongPassword)
	const phoneID, wabaID, token, secret = "106540352200001", "102290129300001", "EAAG-ids", "ids-secret"
	if res := c.Post(home+"/settings/channels", url.Values{
		"kind": {model.KindWhatsAppCloud}, "name": {"WhatsApp"}, "phone_number_id": {phoneID}, "waba_id": {wabaID},
		"access_token": {token}, "app_secret": {secret}, "verify_token": {"vt"},
	}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create channel: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	row := channelByName(t, inst, "WhatsApp")
	ms.AddNumber(metasim.Number{PhoneNumberID: phoneID, WABAID: wabaID, DisplayNumber: "+1 555-078-3881",
		AccessToken: token, AppSecret: secret, WebhookURL: fmt.Sprintf("%s/webhooks/whatsapp/%d", inst.URL, row.ID)})
	return simWhatsApp{inst: inst, c: c, home: home, ms: ms, phoneID: phoneID, chID: row.ID}
}

func (s simWhatsApp) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.inst.App.Store.DB().Get(&n, query, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUsernameUserThenPhone: a customer known only by a user id and a username writes (no
// phone); the contact and conversation are made, and the agent's reply goes out with
// "recipient". Later the same person writes with their phone: still one contact, one
// conversation, and the contact now has the phone.
func TestUsernameUserThenPhone(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := startSimWhatsApp(t, ctx)
	ana := metasim.Sender{WaID: "5511987651234", Name: "Ana", Username: "ana.doces", HidePhone: true,
		UserID: metasim.MintUserID("102290129300001", "5511987651234")}
	if _, status, err := s.ms.InboundText(ctx, s.phoneID, ana, "Oi, vocês entregam?"); err != nil || status != http.StatusOK {
		t.Fatalf("inbound without phone: %d %v", status, err)
	}
	if n := s.count(t, `SELECT count(*) FROM contacts WHERE phone IS NULL`); n != 1 {
		t.Fatalf("%d contacts without a phone, want 1", n)
	}
	var convID int64
	_ = s.inst.App.Store.DB().Get(&convID, `SELECT id FROM conversations`)
	if res := s.c.Post(fmt.Sprintf("%s/inbox/%d/messages", s.home, convID), url.Values{"body": {"Entregamos sim!"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	sent, err := s.ms.WaitSent(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if sent[0].To != "" || sent[0].Recipient != ana.UserID || sent[0].Text != "Entregamos sim!" {
		t.Fatalf("the reply was not sent to the user id with recipient: %+v", sent[0])
	}
	// The status of a message sent by user id carries recipient_user_id and no phone.
	for {
		var st string
		_ = s.inst.App.Store.DB().Get(&st, `SELECT status FROM messages WHERE direction = 'out'`)
		if st == model.StatusSent {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("reply status %q", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, err := s.ms.SendStatus(ctx, s.phoneID, sent[0].ID, metasim.StatusDelivered); err != nil || code != http.StatusOK {
		t.Fatalf("status by user id: %d %v", code, err)
	}
	if n := s.count(t, `SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'delivered'`); n != 1 {
		t.Fatal("the status sent to a user id was not applied")
	}

	// Later the phone comes along: the same person, the same contact and conversation.
	ana.HidePhone = false
	if _, status, err := s.ms.InboundText(ctx, s.phoneID, ana, "Meu número é este"); err != nil || status != http.StatusOK {
		t.Fatalf("inbound with phone: %d %v", status, err)
	}
	if n := s.count(t, `SELECT count(*) FROM contacts`); n != 1 {
		t.Fatalf("%d contacts, want 1", n)
	}
	if n := s.count(t, `SELECT count(*) FROM conversations`); n != 1 {
		t.Fatalf("%d conversations, want 1", n)
	}
	if n := s.count(t, `SELECT count(*) FROM contacts WHERE phone = '+5511987651234'`); n != 1 {
		t.Fatal("the contact did not get the phone")
	}
	for _, kind := range []string{"phone", "wa_user_id", "wa_username"} {
		if n := s.count(t, `SELECT count(*) FROM contact_identities WHERE kind = $1`, kind); n != 1 {
			t.Errorf("%d %s identities, want 1", n, kind)
		}
	}
	// The contact page says how WhatsApp knows the person.
	var contactID int64
	_ = s.inst.App.Store.DB().Get(&contactID, `SELECT id FROM contacts`)
	page := s.c.Get(fmt.Sprintf("%s/contacts/%d", s.home, contactID))
	if !strings.Contains(page.Body, `data-testid="contact-identities"`) || !strings.Contains(page.Body, ana.UserID) || !strings.Contains(page.Body, "ana.doces") {
		t.Errorf("the contact page does not show the user id and username: %s", webtest.Text(page.Body))
	}
	// The next reply goes by phone.
	if res := s.c.Post(fmt.Sprintf("%s/inbox/%d/messages", s.home, convID), url.Values{"body": {"Anotado"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second reply: %d", res.StatusCode)
	}
	if sent, err = s.ms.WaitSent(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if sent[1].WaID != "5511987651234" || sent[1].Recipient != "" {
		t.Fatalf("the second reply did not go by phone: %+v", sent[1])
	}
}

// TestNumberChangeKeepsTheContact: a customer moves to a new number (Meta's
// user_changed_number and user_changed_user_id system messages); their next message, from
// the new number and user id, lands on the same contact and conversation.
func TestNumberChangeKeepsTheContact(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := startSimWhatsApp(t, ctx)
	bia := metasim.Sender{WaID: "5511987650001", Name: "Bia"}
	if _, status, err := s.ms.InboundText(ctx, s.phoneID, bia, "Oi"); err != nil || status != http.StatusOK {
		t.Fatalf("inbound: %d %v", status, err)
	}
	moved, err := s.ms.ChangeNumber(ctx, s.phoneID, bia, "5511987650002")
	if err != nil {
		t.Fatal(err)
	}
	if _, status, err := s.ms.InboundText(ctx, s.phoneID, moved, "Troquei de número"); err != nil || status != http.StatusOK {
		t.Fatalf("inbound from the new number: %d %v", status, err)
	}
	if n := s.count(t, `SELECT count(*) FROM contacts`); n != 1 {
		t.Fatalf("%d contacts after a number change, want 1", n)
	}
	if n := s.count(t, `SELECT count(*) FROM conversations`); n != 1 {
		t.Fatalf("%d conversations, want 1", n)
	}
	if n := s.count(t, `SELECT count(*) FROM contacts WHERE phone = '+5511987650002'`); n != 1 {
		t.Fatal("the contact does not have the new number")
	}
	if n := s.count(t, `SELECT count(*) FROM contact_identities WHERE kind = 'wa_user_id'`); n != 2 {
		t.Fatalf("%d user ids, want the old and the new", n)
	}
	// A number someone else already has stays theirs.
	if _, status, err := s.ms.InboundText(ctx, s.phoneID, metasim.Sender{WaID: "5511987650003", Name: "Caio"}, "Oi"); err != nil || status != http.StatusOK {
		t.Fatalf("inbound: %d %v", status, err)
	}
	if _, err := s.ms.ChangeNumber(ctx, s.phoneID, moved, "5511987650003"); err != nil {
		t.Fatal(err)
	}
	if n := s.count(t, `SELECT count(*) FROM contacts WHERE phone = '+5511987650003' AND name = 'Caio'`); n != 1 {
		t.Fatal("a number change took another contact's phone")
	}
	if n := s.count(t, `SELECT count(*) FROM contacts WHERE phone = '+5511987650002'`); n != 1 {
		t.Fatal("the contact lost its number to a change it could not make")
	}
}

// TestWebhookBatchKeepsTheGoodMessages: one message of a Meta batch with a NUL byte and
// invalid UTF-8 is cleaned and stored, one the database refuses (a phone that is no phone)
// is skipped, and every other message of the batch is stored; Meta gets 200.
func TestWebhookBatchKeepsTheGoodMessages(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	c.Signup("Loja", "Lia", uniqueEmail("lia"), strongPassword)
	var orgID, userID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	_ = inst.App.Store.DB().Get(&userID, `SELECT id FROM users`)
	ch, err := inst.App.Inbox.CreateChannel(context.Background(), model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner},
		model.KindWhatsAppCloud, "WhatsApp", map[string]string{"phone_number_id": "123"}, map[string]string{"app_secret": "s3cr3t"})
	if err != nil {
		t.Fatal(err)
	}
	msg := func(from, id, body string) string {
		return `{"from":"` + from + `","id":"` + id + `","timestamp":"1749416383","type":"text","text":{"body":"` + body + `"}}`
	}
	body := whatsappBody(`"contacts":[{"profile":{"name":"Ana"},"wa_id":"5511987654321"}],"messages":[` +
		msg("5511987654321", "wamid.B1", "primeira") + `,` +
		msg("5511987654321", "wamid.B2", `com \u0000 nulo e `+"\xff\xfe"+` quebrado`) + `,` +
		msg("0001", "wamid.B3", "número que não é número") + `,` +
		msg("5511987654322", "wamid.B4", "última") + `]`)
	if got := postWebhook(t, c, fmt.Sprintf("/webhooks/whatsapp/%d", ch.ID), body, meta.Sign(body, "s3cr3t")); got != http.StatusOK {
		t.Fatalf("batch: %d", got)
	}
	var bodies []string
	_ = inst.App.Store.DB().Select(&bodies, `SELECT body FROM messages ORDER BY provider_id`)
	want := []string{"primeira", "com  nulo e \uFFFD\uFFFD quebrado", "última"}
	if fmt.Sprint(bodies) != fmt.Sprint(want) {
		t.Fatalf("stored %q, want %q", bodies, want)
	}
}

// TestSMSSaysTheContactHasNoPhone: an SMS conversation whose contact has no phone (known
// by a WhatsApp user id only, or the phone was removed) says so in the composer and
// refuses a reply with that reason, in the API too.
func TestSMSSaysTheContactHasNoPhone(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	ctx := context.Background()
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja", "Rui", uniqueEmail("rui"), strongPassword)
	var orgID, userID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	_ = inst.App.Store.DB().Get(&userID, `SELECT id FROM users`)
	a := model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner}
	sms, _ := inst.App.Inbox.CreateChannel(ctx, a, model.KindTwilioSMS, "SMS", map[string]string{"account_sid": "AC1"}, map[string]string{"auth_token": "t"})
	r, err := inst.App.Inbox.Receive(ctx, sms, inbox.Inbound{From: "+5511987650020", ProviderID: "SMz", Body: "Oi"})
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("%s/inbox/%d", home, r.ConversationID)
	if page := c.Get(path); strings.Contains(page.Body, `data-testid="composer-no-phone"`) {
		t.Fatal("a contact with a phone is said to have none")
	}
	if _, err := inst.App.Store.DB().Exec(`UPDATE contacts SET phone = NULL`); err != nil {
		t.Fatal(err)
	}
	if n := 0; inst.App.Store.DB().Get(&n, `SELECT count(*) FROM contact_identities WHERE kind = 'phone'`) != nil || n != 0 {
		t.Fatalf("the phone identity outlived the phone: %d", n)
	}
	page := c.Get(path)
	if !strings.Contains(page.Body, `data-testid="composer-no-phone"`) {
		t.Fatal("the SMS composer does not say the contact has no phone")
	}
	res := c.Post(path+"/messages", url.Values{"body": {"Olá"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "no phone number") {
		t.Fatalf("reply to a contact without phone by SMS: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	var n int
	_ = inst.App.Store.DB().Get(&n, `SELECT count(*) FROM messages WHERE direction = 'out'`)
	if n != 0 {
		t.Fatalf("%d messages queued for a contact SMS cannot reach", n)
	}
}
