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
	"masteria/app/web/webtest"
)

const (
	testAccountSID = "AC0123456789abcdef0123456789abcdef"
	testServiceSID = "MG0123456789abcdef0123456789abcdef"
)

// channelRow is what the channels table holds for the one channel named name.
type channelRow struct {
	ID      int64  `db:"id"`
	Kind    string `db:"kind"`
	Config  string `db:"config"`
	Secrets string `db:"secrets"`
}

func channelByName(t *testing.T, inst *webtest.Instance, name string) channelRow {
	t.Helper()
	var r channelRow
	if err := inst.App.Store.DB().Get(&r, `SELECT id, kind, config::text AS config, coalesce(secrets, '') AS secrets FROM channels WHERE name = $1`, name); err != nil {
		t.Fatalf("channel %q: %v", name, err)
	}
	return r
}

func formWith(base url.Values, key, value string) url.Values {
	f := url.Values{}
	for k, v := range base {
		f[k] = append([]string(nil), v...)
	}
	if value == "" {
		f.Del(key)
	} else {
		f.Set(key, value)
	}
	return f
}

func TestConnectWhatsAppCloudAndTwilio(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja Canais", "Caio", uniqueEmail("caio"), strongPassword)
	count := func() int {
		var n int
		_ = inst.App.Store.DB().Get(&n, `SELECT count(*) FROM channels`)
		return n
	}

	// The form offers the kinds' fields: htmx swaps them when the kind changes.
	res := c.Get(home+"/settings/channels?kind="+model.KindWhatsAppCloud, "HX-Request", "true")
	for _, want := range []string{`data-testid="channel-phone_number_id"`, `data-testid="channel-access_token"`, `type="password"`, `data-kind="whatsapp_cloud"`} {
		if !strings.Contains(res.Body, want) {
			t.Fatalf("whatsapp fields: no %s in %s", want, webtest.Text(res.Body))
		}
	}
	if res := c.Get(home + "/settings/channels?kind=" + model.KindTwilioSMS); !strings.Contains(res.Body, `data-testid="channel-account_sid"`) {
		t.Fatalf("twilio fields: %s", webtest.Text(res.Body))
	}
	if res := c.Get(home + "/settings/channels?kind=" + model.KindWhatsAppQR); !strings.Contains(res.Body, `data-kind="whatsapp_qr"`) {
		t.Fatal("whatsapp_qr is not offered")
	}

	wa := url.Values{
		"kind": {model.KindWhatsAppCloud}, "name": {"WhatsApp Vendas"},
		"phone_number_id": {"106540352242922"}, "waba_id": {"102290129340398"},
		"access_token": {"EAAG-secret-access-token"}, "app_secret": {"app-secret-value"}, "verify_token": {"my-verify-phrase"},
	}
	for name, tc := range map[string]struct {
		form  url.Values
		field string
	}{
		"no name":            {formWith(wa, "name", ""), "name"},
		"no phone number id": {formWith(wa, "phone_number_id", ""), "phone_number_id"},
		"phone id not digit": {formWith(wa, "phone_number_id", "12ab"), "phone_number_id"},
		"no waba id":         {formWith(wa, "waba_id", ""), "waba_id"},
		"no access token":    {formWith(wa, "access_token", ""), "access_token"},
		"token with spaces":  {formWith(wa, "access_token", "EAA bad"), "access_token"},
		"no app secret":      {formWith(wa, "app_secret", ""), "app_secret"},
		"no verify token":    {formWith(wa, "verify_token", ""), "verify_token"},
		"unknown kind":       {formWith(wa, "kind", "telegram"), "kind"},
	} {
		res := c.Post(home+"/settings/channels", tc.form)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", name, res.StatusCode)
			continue
		}
		if !strings.Contains(res.Body, `id="channel-`+tc.field+`-error"`) {
			t.Errorf("%s: no error on %s: %s", name, tc.field, webtest.Text(res.Body))
		}
		if strings.Contains(res.Body, "EAAG-secret-access-token") || strings.Contains(res.Body, "app-secret-value") {
			t.Errorf("%s: a secret was echoed back", name)
		}
		if tc.field != "phone_number_id" && tc.field != "kind" && !strings.Contains(res.Body, `value="106540352242922"`) {
			t.Errorf("%s: the typed phone number id was lost", name)
		}
	}
	if n := count(); n != 0 {
		t.Fatalf("refused forms stored %d channels", n)
	}

	res = c.Post(home+"/settings/channels", wa)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create whatsapp: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	row := channelByName(t, inst, "WhatsApp Vendas")
	if loc := res.Header.Get("Location"); loc != fmt.Sprintf("%s/settings/channels?created=%d", home, row.ID) {
		t.Fatalf("redirect to %q", loc)
	}
	if row.Kind != model.KindWhatsAppCloud || !strings.Contains(row.Config, `"phone_number_id": "106540352242922"`) && !strings.Contains(row.Config, `"phone_number_id":"106540352242922"`) {
		t.Fatalf("row %+v", row)
	}
	for _, secret := range []string{"EAAG-secret-access-token", "app-secret-value", "my-verify-phrase"} {
		if row.Secrets == "" || strings.Contains(row.Secrets, secret) || strings.Contains(row.Config, secret) {
			t.Fatalf("secret %q stored in the clear: %+v", secret, row)
		}
	}
	hook := fmt.Sprintf("%s/webhooks/whatsapp/%d", inst.App.Config.BaseURL, row.ID)
	res = c.Get(res.Header.Get("Location"))
	if !strings.Contains(res.Body, `data-testid="channel-created"`) || !strings.Contains(res.Body, hook) {
		t.Fatalf("no webhook URL after connecting: %s", webtest.Text(res.Body))
	}
	if strings.Contains(res.Body, "EAAG-secret-access-token") || strings.Contains(res.Body, "my-verify-phrase") {
		t.Fatal("the page shows a secret")
	}
	// The verify handshake works with what was typed.
	if res := c.Get(fmt.Sprintf("/webhooks/whatsapp/%d?hub.mode=subscribe&hub.verify_token=my-verify-phrase&hub.challenge=42", row.ID)); res.StatusCode != http.StatusOK || res.Body != "42" {
		t.Fatalf("verify: %d %q", res.StatusCode, res.Body)
	}

	sms := url.Values{"kind": {model.KindTwilioSMS}, "name": {"SMS Loja"}, "account_sid": {testAccountSID}, "auth_token": {"twilio-auth-token-1"}, "from": {"+5511900000000"}}
	for name, tc := range map[string]struct {
		form  url.Values
		field string
	}{
		"no account sid":  {formWith(sms, "account_sid", ""), "account_sid"},
		"bad account sid": {formWith(sms, "account_sid", "AC123"), "account_sid"},
		"no auth token":   {formWith(sms, "auth_token", ""), "auth_token"},
		"no sender":       {formWith(sms, "from", ""), "from"},
		"local number":    {formWith(sms, "from", "11 90000-0000"), "from"},
		"bad service sid": {formWith(formWith(sms, "from", ""), "messaging_service_sid", "MG1"), "messaging_service_sid"},
	} {
		res := c.Post(home+"/settings/channels", tc.form)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", name, res.StatusCode)
			continue
		}
		if !strings.Contains(res.Body, `id="channel-`+tc.field+`-error"`) {
			t.Errorf("%s: no error on %s", name, tc.field)
		}
		if strings.Contains(res.Body, "twilio-auth-token-1") {
			t.Errorf("%s: the auth token was echoed back", name)
		}
	}
	if n := count(); n != 1 {
		t.Fatalf("refused twilio forms stored channels: %d", n)
	}
	if res := c.Post(home+"/settings/channels", sms); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create twilio: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	svc := formWith(formWith(formWith(sms, "from", ""), "messaging_service_sid", testServiceSID), "name", "SMS Serviço")
	if res := c.Post(home+"/settings/channels", svc); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create twilio with a messaging service: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	tw := channelByName(t, inst, "SMS Loja")
	if tw.Kind != model.KindTwilioSMS || strings.Contains(tw.Secrets, "twilio-auth-token-1") || strings.Contains(tw.Config, "twilio-auth-token-1") || tw.Secrets == "" {
		t.Fatalf("twilio row %+v", tw)
	}
	// The list shows every channel's webhook URL.
	res = c.Get(home + "/settings/channels")
	for _, want := range []string{hook, fmt.Sprintf("%s/webhooks/twilio/%d", inst.App.Config.BaseURL, tw.ID)} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("list lacks %s", want)
		}
	}
}

// TestWhatsAppCloudReplyEndToEnd connects a WhatsApp Cloud channel through the form,
// receives a customer's text from the Graph API simulator, replies from the inbox and
// follows the reply to "read" through the simulator's status webhooks.
func TestWhatsAppCloudReplyEndToEnd(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ms := metasim.New()
	// Statuses are posted below once the app has recorded the wamid: the sim would post
	// them the moment it accepts the send, before the send job has stored the answer.
	ms.SetAutoStatuses()
	graph, err := ms.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ms.Close)
	inst := webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) { c.MetaGraphURL = graph })
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja Zap", "Zeca", uniqueEmail("zeca"), strongPassword)
	const phoneID, wabaID, token, secret = "106540352242922", "102290129340398", "EAAG-e2e-token", "e2e-app-secret"
	res := c.Post(home+"/settings/channels", url.Values{
		"kind": {model.KindWhatsAppCloud}, "name": {"WhatsApp"}, "phone_number_id": {phoneID}, "waba_id": {wabaID},
		"access_token": {token}, "app_secret": {secret}, "verify_token": {"vt"},
	})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	row := channelByName(t, inst, "WhatsApp")
	hook := fmt.Sprintf("%s/webhooks/whatsapp/%d", inst.URL, row.ID)
	ms.AddNumber(metasim.Number{PhoneNumberID: phoneID, WABAID: wabaID, DisplayNumber: "+1 555-078-3881",
		AccessToken: token, AppSecret: secret, WebhookURL: hook})
	if ch, status, err := ms.Verify(ctx, hook, "vt"); err != nil || status != http.StatusOK || ch == "" {
		t.Fatalf("verify: %q %d %v", ch, status, err)
	}

	_, status, err := ms.InboundText(ctx, phoneID, metasim.Sender{WaID: "5511987654321", Name: "Ana"}, "Oi, tem pão de queijo?")
	if err != nil || status != http.StatusOK {
		t.Fatalf("inbound: %d %v", status, err)
	}
	var convID int64
	if err := inst.App.Store.DB().Get(&convID, `SELECT id FROM conversations WHERE channel_id = $1`, row.ID); err != nil {
		t.Fatal(err)
	}
	if res := c.Post(fmt.Sprintf("%s/inbox/%d/messages", home, convID), url.Values{"body": {"Temos sim, quentinho!"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	sent, err := ms.WaitSent(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if sent[0].Type != "text" || sent[0].Text != "Temos sim, quentinho!" || sent[0].WaID != "5511987654321" {
		t.Fatalf("sent %+v", sent[0])
	}
	waitStatus := func(want string) {
		t.Helper()
		for {
			var st string
			var pid *string
			_ = inst.App.Store.DB().QueryRow(`SELECT status, provider_id FROM messages WHERE direction = 'out' AND conversation_id = $1`, convID).Scan(&st, &pid)
			if st == want {
				if pid == nil || *pid != sent[0].ID {
					t.Fatalf("provider id %v, want %s", pid, sent[0].ID)
				}
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("the reply never reached %s: %q", want, st)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	waitStatus(model.StatusSent)
	for _, st := range []string{metasim.StatusSent, metasim.StatusDelivered, metasim.StatusRead} {
		if code, err := ms.SendStatus(ctx, phoneID, sent[0].ID, st); err != nil || code != http.StatusOK {
			t.Fatalf("status %s: %d %v", st, code, err)
		}
	}
	waitStatus(model.StatusRead)
}
