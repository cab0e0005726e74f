package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"masteria/app/campaign/policy"
	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/metasim"
	"masteria/app/sim/twiliosim"
	"masteria/app/web/webtest"
)

// TestOptOutOnEachChannelBlocksEveryChannel: a customer's opt-out arrives in each way the
// product knows — STOP by SMS (Twilio's webhook), an opt-out word on WhatsApp (any case,
// accents or punctuation, the whole message only), a template's opt-out quick reply button,
// an agent's mark on the contact page — and each is recorded with a contact event; the
// contact policy then refuses automated sends on every channel.
func TestOptOutOnEachChannelBlocksEveryChannel(t *testing.T) {
	t.Parallel()
	ms := metasim.New()
	graph, err := ms.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ms.Close)
	inst := webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) { c.MetaGraphURL = graph })
	ctx := context.Background()
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja Sair", "Xu", uniqueEmail("xu"), strongPassword)
	db := inst.App.Store.DB()
	var orgID, userID int64
	_ = db.Get(&orgID, `SELECT id FROM orgs`)
	_ = db.Get(&userID, `SELECT id FROM users`)
	a := model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner}

	wa, err := inst.App.Inbox.CreateChannel(ctx, a, model.KindWhatsAppCloud, "WhatsApp", map[string]string{"phone_number_id": "555"},
		map[string]string{"app_secret": "meta-secret", "verify_token": "vt", "access_token": "EAAtoken"})
	if err != nil {
		t.Fatal(err)
	}
	ms.AddNumber(metasim.Number{PhoneNumberID: "555", WABAID: "999", DisplayNumber: "5511900000000", AccessToken: "EAAtoken",
		AppSecret: "meta-secret", WebhookURL: fmt.Sprintf("%s/webhooks/whatsapp/%d", inst.URL, wa.ID)})
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

	contactOf := func(phone string) int64 {
		t.Helper()
		var id int64
		if err := db.Get(&id, `SELECT id FROM contacts WHERE org_id = $1 AND phone = $2`, orgID, phone); err != nil {
			t.Fatalf("contact %s: %v", phone, err)
		}
		return id
	}
	optedOut := func(id int64) (kinds, sources string) {
		t.Helper()
		_ = db.Get(&kinds, `SELECT array_to_string(opted_out, ',') FROM contacts WHERE org_id = $1 AND id = $2`, orgID, id)
		_ = db.Get(&sources, `SELECT coalesce(string_agg(data ->> 'source', ',' ORDER BY id), '') FROM contact_events
			WHERE org_id = $1 AND contact_id = $2 AND kind = 'opted_out'`, orgID, id)
		return kinds, sources
	}
	pol := policy.New(inst.App.Store)
	blockedEverywhere := func(id int64, how string) {
		t.Helper()
		for _, ch := range []string{policy.ChannelWhatsApp, policy.ChannelSMS, policy.ChannelVoice} {
			v, err := pol.Check(ctx, nil, policy.Send{OrgID: orgID, ContactID: id, Channel: ch, Text: "Promo", Source: policy.SourceCampaign, SourceID: 1}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if v.OK || v.Reason != policy.ReasonOptedOut {
				t.Fatalf("%s: a %s send is %+v", how, ch, v)
			}
		}
	}

	// STOP by SMS: Twilio's webhook.
	if res, err := ts.Inbound(ctx, numberSid, "+5511987650001", "Stop"); err != nil || res.Status != http.StatusOK {
		t.Fatalf("sms stop: %+v %v", res, err)
	}
	sms := contactOf("+5511987650001")
	if kinds, sources := optedOut(sms); kinds != "sms" || sources != "keyword" {
		t.Fatalf("SMS STOP: opted out of %q, events %q", kinds, sources)
	}
	blockedEverywhere(sms, "SMS STOP")

	// Opt-out words on WhatsApp: the whole message, any case, accents or punctuation.
	for i, word := range []string{"PARAR", "sair", "Stop!", " Cancelár. ", "Sâir"} {
		phone := fmt.Sprintf("55119876501%02d", i)
		if _, status, err := ms.InboundText(ctx, "555", metasim.Sender{WaID: phone, Name: "Cliente"}, word); err != nil || status != http.StatusOK {
			t.Fatalf("inbound %q: %d %v", word, status, err)
		}
		id := contactOf("+" + phone)
		if kinds, sources := optedOut(id); kinds != "whatsapp" || sources != "keyword" {
			t.Fatalf("WhatsApp %q: opted out of %q, events %q", word, kinds, sources)
		}
		blockedEverywhere(id, "WhatsApp "+word)
	}
	// A sentence that contains a word is a message, not an opt-out.
	for i, text := range []string{"Não quero parar de receber", "sair às 10h?", "stop by tomorrow"} {
		phone := fmt.Sprintf("55119876502%02d", i)
		if _, status, err := ms.InboundText(ctx, "555", metasim.Sender{WaID: phone, Name: "Cliente"}, text); err != nil || status != http.StatusOK {
			t.Fatalf("inbound %q: %d %v", text, status, err)
		}
		if kinds, _ := optedOut(contactOf("+" + phone)); kinds != "" {
			t.Fatalf("%q opted out of %q", text, kinds)
		}
	}

	// A template's opt-out quick reply button (Meta's marketing opt-out), and a reply button
	// whose id says so; another button is only an answer.
	if _, status, err := ms.InboundButton(ctx, "555", metasim.Sender{WaID: "5511987650301", Name: "Dani"}, "", "Stop promotions", "STOP_PROMOTIONS"); err != nil || status != http.StatusOK {
		t.Fatalf("button: %d %v", status, err)
	}
	btn := contactOf("+5511987650301")
	if kinds, sources := optedOut(btn); kinds != "whatsapp" || sources != "button" {
		t.Fatalf("opt-out button: opted out of %q, events %q", kinds, sources)
	}
	blockedEverywhere(btn, "opt-out button")
	if _, status, err := ms.InboundButtonReply(ctx, "555", metasim.Sender{WaID: "5511987650302", Name: "Eva"}, "", metasim.Reply{ID: "opt_out", Title: "Não quero mais"}); err != nil || status != http.StatusOK {
		t.Fatalf("button reply: %d %v", status, err)
	}
	if kinds, sources := optedOut(contactOf("+5511987650302")); kinds != "whatsapp" || sources != "button" {
		t.Fatalf("opt-out reply button: opted out of %q, events %q", kinds, sources)
	}
	if _, status, err := ms.InboundButton(ctx, "555", metasim.Sender{WaID: "5511987650303", Name: "Fabi"}, "", "Quero saber mais", "MORE_INFO"); err != nil || status != http.StatusOK {
		t.Fatalf("button: %d %v", status, err)
	}
	if kinds, _ := optedOut(contactOf("+5511987650303")); kinds != "" {
		t.Fatalf("an ordinary button opted out of %q", kinds)
	}

	// An agent's mark on the contact page.
	var gabi int64
	_ = db.Get(&gabi, `INSERT INTO contacts (org_id, name, phone) VALUES ($1, 'Gabi', '+5511987650401') RETURNING id`, orgID)
	res := c.Post(fmt.Sprintf("%s/contacts/%d", home, gabi), url.Values{"name": {"Gabi"}, "phone": {"+5511987650401"}, "opted_out": {"voice"}})
	if res.StatusCode >= 400 {
		t.Fatalf("agent's mark: %d", res.StatusCode)
	}
	if kinds, sources := optedOut(gabi); kinds != "voice" || sources != "" {
		// The form's change has no source: it is the agent's, named in the event's actor.
		t.Fatalf("agent's mark: opted out of %q, events %q", kinds, sources)
	}
	var marked int
	_ = db.Get(&marked, `SELECT count(*) FROM contact_events WHERE org_id = $1 AND contact_id = $2 AND kind = 'opted_out' AND actor_id = $3`, orgID, gabi, userID)
	if marked != 1 {
		t.Fatalf("%d opted_out events by the agent", marked)
	}
	blockedEverywhere(gabi, "agent's mark")
}
