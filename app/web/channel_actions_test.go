package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/metasim"
	"masteria/app/sim/twiliosim"
	"masteria/app/web/webtest"
)

// The settings page tests a channel against its provider (through the simulators, over
// HTTP) and disconnects it; wrong settings leave the channel in error with the provider's
// words; a disconnected channel refuses its webhooks and sends nothing more.
func TestChannelTestAndDisconnect(t *testing.T) {
	t.Parallel()
	ms := metasim.New()
	graph, err := ms.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ms.Close)
	ts := twiliosim.New()
	twAPI, err := ts.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Close)
	inst := webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) { c.MetaGraphURL, c.TwilioAPIURL = graph, twAPI })
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja Testes", "Téo", uniqueEmail("teo"), strongPassword)

	const phoneID, wabaID, token, secret = "106540352242922", "102290129340398", "EAAG-good-token", "app-secret"
	ms.AddNumber(metasim.Number{PhoneNumberID: phoneID, WABAID: wabaID, DisplayNumber: "+1 555-078-3881", VerifiedName: "Loja Testes",
		AccessToken: token, AppSecret: secret})
	ts.AddAccount(testAccountSID, "twilio-auth-token")
	if _, err := ts.AddNumber(testAccountSID, "+15005550006", ""); err != nil {
		t.Fatal(err)
	}
	create := func(form url.Values) int64 {
		t.Helper()
		if res := c.Post(home+"/settings/channels", form); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("create %s: %d %s", form.Get("name"), res.StatusCode, webtest.Text(res.Body))
		}
		return channelByName(t, inst, form.Get("name")).ID
	}
	wa := url.Values{"kind": {model.KindWhatsAppCloud}, "phone_number_id": {phoneID}, "waba_id": {wabaID},
		"access_token": {token}, "app_secret": {secret}, "verify_token": {"vt"}}
	good := create(formWith(wa, "name", "WhatsApp bom"))
	badToken := create(formWith(formWith(wa, "name", "WhatsApp token errado"), "access_token", "EAAG-revoked"))
	sms := url.Values{"kind": {model.KindTwilioSMS}, "account_sid": {testAccountSID}, "auth_token": {"twilio-auth-token"}}
	smsGood := create(formWith(formWith(sms, "name", "SMS bom"), "from", "+15005550006"))
	smsForeign := create(formWith(formWith(sms, "name", "SMS de outro"), "from", "+15005550007"))
	sandbox := create(url.Values{"kind": {model.KindSandbox}, "name": {"Demo"}})

	status := func(id int64) (string, string) {
		var st, last string
		_ = inst.App.Store.DB().QueryRow(`SELECT status, last_error FROM channels WHERE id = $1`, id).Scan(&st, &last)
		return st, last
	}
	test := func(id int64) (int, string) {
		t.Helper()
		res := c.PostRaw(fmt.Sprintf("%s/settings/channels/%d/test", home, id), url.Values{"_csrf": {c.CSRF()}}, "HX-Request", "true")
		return res.StatusCode, res.Header.Get("HX-Trigger")
	}
	for _, tc := range []struct {
		name      string
		id        int64
		status    string
		toast     string // in the toast
		lastError string // in last_error
	}{
		{"whatsapp, right token", good, model.ChannelConnected, "+1 555-078-3881", ""},
		{"whatsapp, revoked token", badToken, model.ChannelError, "OAuth", "OAuth"},
		{"sms, the account's number", smsGood, model.ChannelConnected, "+15005550006", ""},
		{"sms, a number of no account", smsForeign, model.ChannelError, "not a number of this Twilio account", "+15005550007"},
		{"sandbox", sandbox, model.ChannelConnected, "nothing to test", ""},
	} {
		code, trigger := test(tc.id)
		st, last := status(tc.id)
		if code != http.StatusNoContent || !strings.Contains(trigger, tc.toast) || st != tc.status || !strings.Contains(last, tc.lastError) {
			t.Errorf("%s: %d %s; status %q last error %q", tc.name, code, trigger, st, last)
		}
	}

	// Bad input: another org's channel, a bad id, no CSRF token, an agent.
	other := webtest.NewClient(t, inst.URL)
	otherHome := other.Signup("Outra Loja", "Olga", uniqueEmail("olga"), strongPassword)
	for _, path := range []string{
		fmt.Sprintf("%s/settings/channels/%d/test", otherHome, good),
		fmt.Sprintf("%s/settings/channels/%d/disconnect", otherHome, good),
		otherHome + "/settings/channels/abc/test",
	} {
		if res := other.Post(path, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, res.StatusCode)
		}
	}
	if res := c.PostRaw(fmt.Sprintf("%s/settings/channels/%d/disconnect", home, good), url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Errorf("disconnect without CSRF: %d", res.StatusCode)
	}
	o := &inboxOrg{t: t, inst: inst, name: "Loja Testes"}
	agent, _ := o.member(model.RoleAgent)
	if res := agent.Post(fmt.Sprintf("%s/settings/channels/%d/disconnect", home, good), nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent disconnects: %d", res.StatusCode)
	}
	if st, _ := status(good); st != model.ChannelConnected {
		t.Fatalf("refused requests changed the channel: %s", st)
	}

	// Disconnect: the secrets go, the webhook is refused, a queued reply fails.
	hook := fmt.Sprintf("%s/webhooks/whatsapp/%d", inst.URL, good)
	ms.SetWebhookURL(phoneID, hook)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, code, err := ms.InboundText(ctx, phoneID, metasim.Sender{WaID: "5511987654321", Name: "Ana"}, "Oi"); err != nil || code != http.StatusOK {
		t.Fatalf("inbound before: %d %v", code, err)
	}
	if res := c.Post(fmt.Sprintf("%s/settings/channels/%d/disconnect", home, good), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("disconnect: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if st, _ := status(good); st != model.ChannelDisconnected || channelByName(t, inst, "WhatsApp bom").Secrets != "" {
		t.Fatalf("after disconnect: %s, secrets kept", st)
	}
	if _, code, _ := ms.InboundText(ctx, phoneID, metasim.Sender{WaID: "5511987654321", Name: "Ana"}, "Oi de novo"); code != http.StatusNotFound {
		t.Errorf("webhook of a disconnected channel: %d, want 404", code)
	}
	var convID int64
	if err := inst.App.Store.DB().Get(&convID, `SELECT id FROM conversations WHERE channel_id = $1`, good); err != nil {
		t.Fatal(err)
	}
	if res := c.Post(fmt.Sprintf("%s/inbox/%d/messages", home, convID), url.Values{"body": {"Olá!"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d", res.StatusCode)
	}
	for {
		var st, code string
		_ = inst.App.Store.DB().QueryRow(`SELECT status, error_code FROM messages WHERE conversation_id = $1 AND direction = 'out'`, convID).Scan(&st, &code)
		if st == model.StatusFailed && code == "channel_disconnected" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the reply through a disconnected channel: %q %q", st, code)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if len(ms.Sent()) != 0 {
		t.Errorf("Meta received %d sends from a disconnected channel", len(ms.Sent()))
	}
	if code, trigger := test(good); code != http.StatusNoContent || !strings.Contains(trigger, "disconnected") {
		t.Errorf("test a disconnected channel: %d %s", code, trigger)
	}
	if res := c.Post(fmt.Sprintf("%s/settings/channels/%d/disconnect", home, good), nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("disconnect twice: %d", res.StatusCode)
	}
	page := c.Get(home + "/settings/channels")
	if strings.Count(page.Body, `data-testid="channel-disconnect"`) != 4 || strings.Count(page.Body, `data-testid="channel-test"`) != 3 {
		t.Errorf("actions: %d disconnect, %d test buttons; want 4 and 3 (none on the disconnected channel, no test on the sandbox)",
			strings.Count(page.Body, `data-testid="channel-disconnect"`), strings.Count(page.Body, `data-testid="channel-test"`))
	}
}
