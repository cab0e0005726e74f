package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"masteria/app/channel/meta"
	"masteria/app/channel/twilio"
	"masteria/app/config"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/sim/metasim"
	"masteria/app/sim/twiliosim"
	"masteria/app/web/webtest"
)

func whatsappBody(value string) []byte {
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"value":{"messaging_product":"whatsapp",` +
		`"metadata":{"display_phone_number":"15550000000","phone_number_id":"123"},` + value + `},"field":"messages"}]}]}`)
}

func postWebhook(t *testing.T, c *webtest.Client, path string, body []byte, sig string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.Base+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	return c.Do(req).StatusCode
}

func TestWhatsAppWebhook(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	c.Signup("Loja", "Val", uniqueEmail("val"), strongPassword)
	var orgID, userID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	_ = inst.App.Store.DB().Get(&userID, `SELECT id FROM users`)
	ch, err := inst.App.Inbox.CreateChannel(context.Background(), model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner},
		model.KindWhatsAppCloud, "WhatsApp", map[string]string{"phone_number_id": "123"},
		map[string]string{"app_secret": "s3cr3t", "verify_token": "tok", "access_token": "EAA"})
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/webhooks/whatsapp/%d", ch.ID)

	// The subscription handshake.
	if res := c.Get(path + "?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=1158201444"); res.StatusCode != http.StatusOK || res.Body != "1158201444" {
		t.Fatalf("verify: %d %q", res.StatusCode, res.Body)
	}
	if res := c.Get(path + "?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("wrong verify token: %d", res.StatusCode)
	}

	msg := whatsappBody(`"contacts":[{"profile":{"name":"Ana"},"wa_id":"5511987654321"}],"messages":[{"from":"5511987654321","id":"wamid.X1","timestamp":"1749416383","type":"text","text":{"body":"Oi!"}}]`)
	count := func() int {
		var n int
		_ = inst.App.Store.DB().Get(&n, `SELECT count(*) FROM messages`)
		return n
	}
	for name, tc := range map[string]struct {
		path string
		body []byte
		sig  string
		want int
	}{
		"tampered":       {path, msg, meta.Sign(append([]byte("x"), msg...), "s3cr3t"), http.StatusUnauthorized},
		"no signature":   {path, msg, "", http.StatusUnauthorized},
		"other secret":   {path, msg, meta.Sign(msg, "other"), http.StatusUnauthorized},
		"bad json":       {path, []byte(`{"object":`), meta.Sign([]byte(`{"object":`), "s3cr3t"), http.StatusBadRequest},
		"unknown":        {"/webhooks/whatsapp/999999", msg, meta.Sign(msg, "s3cr3t"), http.StatusNotFound},
		"not a number":   {"/webhooks/whatsapp/abc", msg, meta.Sign(msg, "s3cr3t"), http.StatusNotFound},
		"too large body": {path, bytes.Repeat([]byte(" "), 2<<20), "sha256=00", http.StatusRequestEntityTooLarge},
	} {
		if got := postWebhook(t, c, tc.path, tc.body, tc.sig); got != tc.want {
			t.Errorf("%s: %d, want %d", name, got, tc.want)
		}
	}
	if n := count(); n != 0 {
		t.Fatalf("refused webhooks stored %d messages", n)
	}
	for i := 0; i < 2; i++ { // Meta may deliver a notification twice
		if got := postWebhook(t, c, path, msg, meta.Sign(msg, "s3cr3t")); got != http.StatusOK {
			t.Fatalf("valid webhook: %d", got)
		}
	}
	if n := count(); n != 1 {
		t.Fatalf("%d messages after the same webhook twice", n)
	}
	var name, body string
	_ = inst.App.Store.DB().Get(&name, `SELECT name FROM contacts`)
	_ = inst.App.Store.DB().Get(&body, `SELECT body FROM messages`)
	if name != "Ana" || body != "Oi!" {
		t.Fatalf("contact %q, message %q", name, body)
	}
	// Statuses out of order: read, then a late delivered, leave the message read.
	var convID int64
	_ = inst.App.Store.DB().Get(&convID, `SELECT id FROM conversations`)
	if _, err := inst.App.Store.DB().Exec(`INSERT INTO messages (org_id, conversation_id, channel_id, direction, body, provider_id, status)
		VALUES ($1, $2, $3, 'out', 'Olá', 'wamid.OUT', 'sent')`, orgID, convID, ch.ID); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{"read", "delivered"} {
		b := whatsappBody(`"statuses":[{"id":"wamid.OUT","status":"` + st + `","timestamp":"1750263773","recipient_id":"5511987654321"}]`)
		if got := postWebhook(t, c, path, b, meta.Sign(b, "s3cr3t")); got != http.StatusOK {
			t.Fatalf("status %s: %d", st, got)
		}
	}
	var status string
	_ = inst.App.Store.DB().Get(&status, `SELECT status FROM messages WHERE provider_id = 'wamid.OUT'`)
	if status != "read" {
		t.Fatalf("status %q", status)
	}
	if !strings.Contains(fmt.Sprint(ch.Kind), "whatsapp") {
		t.Fatal("unexpected kind")
	}
}

func TestTwilioWebhook(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	c.Signup("Loja SMS", "Wil", uniqueEmail("wil"), strongPassword)
	var orgID, userID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	_ = inst.App.Store.DB().Get(&userID, `SELECT id FROM users`)
	ch, err := inst.App.Inbox.CreateChannel(context.Background(), model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner},
		model.KindTwilioSMS, "SMS", map[string]string{"account_sid": "AC1", "from": "+5511900000000"}, map[string]string{"auth_token": "tok3n"})
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/webhooks/twilio/%d", ch.ID)
	post := func(form url.Values, sig string) int {
		req, _ := http.NewRequest(http.MethodPost, c.Base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		return c.Do(req).StatusCode
	}
	sign := func(form url.Values) string { return twilio.Signature("tok3n", inst.App.Config.BaseURL+path, form) }
	inbound := func(sid, body string) url.Values {
		return url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "SmsStatus": {"received"}, "AccountSid": {"AC1"},
			"From": {"+5511987654321"}, "To": {"+5511900000000"}, "Body": {body}, "NumMedia": {"0"}}
	}
	oi := inbound("SM1", "Oi, tem horário amanhã?")
	if got := post(oi, "forged"); got != http.StatusUnauthorized {
		t.Fatalf("forged signature: %d", got)
	}
	if got := post(url.Values{"foo": {"bar"}}, sign(url.Values{"foo": {"bar"}})); got != http.StatusBadRequest {
		t.Fatalf("not a message: %d", got)
	}
	for i := 0; i < 2; i++ {
		if got := post(oi, sign(oi)); got != http.StatusOK {
			t.Fatalf("inbound: %d", got)
		}
	}
	var n int
	_ = inst.App.Store.DB().Get(&n, `SELECT count(*) FROM messages`)
	if n != 1 {
		t.Fatalf("%d messages after one SMS delivered twice", n)
	}
	stop := inbound("SM2", "SAIR")
	if got := post(stop, sign(stop)); got != http.StatusOK {
		t.Fatalf("stop: %d", got)
	}
	var opted string
	_ = inst.App.Store.DB().Get(&opted, `SELECT array_to_string(opted_out, ',') FROM contacts`)
	if opted != "sms" {
		t.Fatalf("after SAIR the contact's opt-outs are %q", opted)
	}
	back := inbound("SM3", "VOLTAR")
	post(back, sign(back))
	_ = inst.App.Store.DB().Get(&opted, `SELECT array_to_string(opted_out, ',') FROM contacts`)
	if opted != "" {
		t.Fatalf("after VOLTAR the contact's opt-outs are %q", opted)
	}
}

// TestWebhooksFromTheSimulators posts real-format notifications from app/sim's Meta and
// Twilio simulators, signed as the providers sign them, through the app's handler chain.
func TestWebhooksFromTheSimulators(t *testing.T) {
	t.Parallel()
	// The app's public URL is its listening address, so Twilio's signature (over the URL it
	// was given) and the app's check (over its public URL) meet.
	ms := metasim.New()
	graph, err := ms.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ms.Close)
	inst := webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) { c.MetaGraphURL = graph })
	ctx := context.Background()
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja Sim", "Xu", uniqueEmail("xu"), strongPassword)
	var orgID, userID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	_ = inst.App.Store.DB().Get(&userID, `SELECT id FROM users`)
	a := model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner}

	wa, err := inst.App.Inbox.CreateChannel(ctx, a, model.KindWhatsAppCloud, "WhatsApp", map[string]string{"phone_number_id": "555"},
		map[string]string{"app_secret": "meta-secret", "verify_token": "vt", "access_token": "EAAtoken"})
	if err != nil {
		t.Fatal(err)
	}
	ms.AddNumber(metasim.Number{PhoneNumberID: "555", WABAID: "999", DisplayNumber: "5511900000000", AccessToken: "EAAtoken",
		AppSecret: "meta-secret", WebhookURL: fmt.Sprintf("%s/webhooks/whatsapp/%d", inst.URL, wa.ID)})
	if challenge, status, err := ms.Verify(ctx, fmt.Sprintf("%s/webhooks/whatsapp/%d", inst.URL, wa.ID), "vt"); err != nil || status != http.StatusOK || challenge == "" {
		t.Fatalf("verify: %q %d %v", challenge, status, err)
	}
	wamid, status, err := ms.InboundText(ctx, "555", metasim.Sender{WaID: "5511987650000", Name: "Bia"}, "Oi, quero um orçamento")
	if err != nil || status != http.StatusOK {
		t.Fatalf("inbound text: %d %v", status, err)
	}
	// The agent opens the conversation: the customer's message is marked read at Meta.
	var convID int64
	_ = inst.App.Store.DB().Get(&convID, `SELECT id FROM conversations`)
	if page := c.Get(fmt.Sprintf("%s/inbox/%d", home, convID)); page.StatusCode != http.StatusOK {
		t.Fatalf("open conversation: %d", page.StatusCode)
	}
	if res := c.Post(fmt.Sprintf("%s/inbox/%d/read", home, convID), nil); res.StatusCode != http.StatusNoContent { // as the thread does
		t.Fatalf("mark read: %d", res.StatusCode)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !slices.Contains(ms.MarkedRead(), wamid) {
		if time.Now().After(deadline) {
			t.Fatalf("%s not marked read at Meta: %v", wamid, ms.MarkedRead())
		}
		time.Sleep(50 * time.Millisecond)
	}

	tw, err := inst.App.Inbox.CreateChannel(ctx, a, model.KindTwilioSMS, "SMS", map[string]string{"account_sid": "AC42"}, map[string]string{"auth_token": "tw-token"})
	if err != nil {
		t.Fatal(err)
	}
	ts := twiliosim.New()
	if _, err := ts.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Close)
	ts.AddAccount("AC42", "tw-token")
	numberSid, err := ts.AddNumber("AC42", "+5511900000001", fmt.Sprintf("%s/webhooks/twilio/%d", inst.App.Config.BaseURL, tw.ID))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		res, err := ts.Inbound(ctx, numberSid, "+5511987650001", "Bom dia")
		if err != nil || res.Status != http.StatusOK {
			t.Fatalf("twilio inbound: %+v %v", res, err)
		}
		if _, err := ts.Redeliver(ctx, res.MessageSid); err != nil {
			t.Fatal(err)
		}
	}
	var bodies []string
	_ = inst.App.Store.DB().Select(&bodies, `SELECT body FROM messages ORDER BY id`)
	if len(bodies) != 3 || bodies[0] != "Oi, quero um orçamento" || bodies[1] != "Bom dia" {
		t.Fatalf("messages %v", bodies)
	}
}

// TestSMSComposerCountsParts: an SMS conversation's composer carries the part counter; a
// WhatsApp one does not.
func TestSMSComposerCountsParts(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	ctx := context.Background()
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja", "Zoe", uniqueEmail("zoe"), strongPassword)
	var orgID, userID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	_ = inst.App.Store.DB().Get(&userID, `SELECT id FROM users`)
	a := model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner}
	sms, _ := inst.App.Inbox.CreateChannel(ctx, a, model.KindTwilioSMS, "SMS", map[string]string{"account_sid": "AC1"}, map[string]string{"auth_token": "t"})
	wa, _ := inst.App.Inbox.CreateChannel(ctx, a, model.KindWhatsAppCloud, "WA", nil, map[string]string{"app_secret": "s"})
	r1, err := inst.App.Inbox.Receive(ctx, sms, inbox.Inbound{From: "+5511987650010", ProviderID: "SMa", Body: "Oi"})
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := inst.App.Inbox.Receive(ctx, wa, inbox.Inbound{From: "+5511987650011", ProviderID: "wamid.a", Body: "Oi"})
	if page := c.Get(fmt.Sprintf("%s/inbox/%d", home, r1.ConversationID)); !strings.Contains(page.Body, `data-testid="sms-counter"`) || !strings.Contains(page.Body, "segments.") {
		t.Fatal("the SMS composer has no part counter")
	}
	if page := c.Get(fmt.Sprintf("%s/inbox/%d", home, r2.ConversationID)); strings.Contains(page.Body, `data-testid="sms-counter"`) {
		t.Fatal("a WhatsApp composer shows SMS parts")
	}
}
