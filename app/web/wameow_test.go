package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/store/storetest"
	"masteria/app/web/webtest"
)

// startNoQR runs an instance that leaves QR sessions to "other instances", so nothing here
// dials WhatsApp; the tests write the pairing code as the holding instance would.
func startNoQR(t *testing.T) *webtest.Instance {
	t.Helper()
	return webtest.StartOn(t, storetest.URL(t), func(c *config.Config) { c.WhatsAppQR = false })
}

func TestWhatsAppQRConnectPage(t *testing.T) {
	t.Parallel()
	inst := startNoQR(t)
	ctx := context.Background()
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja QR", "Lia", uniqueEmail("lia"), strongPassword)

	// Choosing the QR kind asks only for a name, and lands on the connect page.
	res := c.Post(home+"/settings/channels", url.Values{"kind": {model.KindWhatsAppQR}, "name": {"WhatsApp Loja"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	ch := channelByName(t, inst, "WhatsApp Loja")
	connect := home + "/settings/channels/" + strconv.FormatInt(ch.ID, 10) + "/connect"
	if loc := res.Header.Get("Location"); loc != connect {
		t.Fatalf("redirect to %q, want %q", loc, connect)
	}
	var status string
	_ = inst.App.Store.DB().Get(&status, `SELECT status FROM channels WHERE id = $1`, ch.ID)
	if status != "pending" {
		t.Fatalf("status %q, want pending", status)
	}

	// Before the session's instance has a code, the page waits for one, live.
	res = c.Get(connect)
	for _, want := range []string{`data-testid="qr-waiting"`, `hx-trigger="sse:channel.qr, sse:channel.status"`, "Linked devices"} {
		if !strings.Contains(res.Body, want) {
			t.Fatalf("waiting page: no %s in %s", want, webtest.Text(res.Body))
		}
	}
	// A code arrives: the fragment htmx reloads draws it.
	if err := inst.App.Store.PutQRCode(ctx, orgOf(t, inst, ch.ID), ch.ID, "2@Zm9vYmFy,cXJjb2Rl,a2V5cw==", time.Now().Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	res = c.Get(connect, "HX-Request", "true")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="qr-code"`) || !strings.Contains(res.Body, `<path d="M`) || strings.Contains(res.Body, "<html") {
		t.Fatalf("code fragment: %d %s", res.StatusCode, res.Body)
	}
	// The code itself is drawn, never printed: it is not in the page.
	if strings.Contains(res.Body, "Zm9vYmFy") {
		t.Fatal("the raw code is in the page")
	}

	// The session's instance reports the phone linked.
	if _, err := inst.App.Store.SetQRState(ctx, orgOf(t, inst, ch.ID), ch.ID, "connected", "", map[string]string{"jid": "5511987654321:7@s.whatsapp.net", "phone": "+5511987654321"}); err != nil {
		t.Fatal(err)
	}
	res = c.Get(connect)
	if !strings.Contains(res.Body, `data-testid="qr-connected"`) || !strings.Contains(res.Body, "(11) 98765-4321") {
		t.Fatalf("connected page: %s", webtest.Text(res.Body))
	}
	if res := c.Get(home + "/settings/channels"); !strings.Contains(res.Body, `data-testid="channel-qr-link"`) {
		t.Fatal("the channel list has no link to the connect page")
	}

	// Disconnect: the channel says so, its session (wherever it runs) logs out.
	if res := c.Post(home+"/settings/channels/"+strconv.FormatInt(ch.ID, 10)+"/disconnect", url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("disconnect: %d", res.StatusCode)
	}
	_ = inst.App.Store.DB().Get(&status, `SELECT status FROM channels WHERE id = $1`, ch.ID)
	if status != "disconnected" {
		t.Fatalf("after disconnect: %q", status)
	}
	if res := c.Get(connect); !strings.Contains(res.Body, `data-testid="qr-pair"`) {
		t.Fatalf("disconnected page offers no new code: %s", webtest.Text(res.Body))
	}
	if res := c.Post(home+"/settings/channels/"+strconv.FormatInt(ch.ID, 10)+"/pair", url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("pair: %d", res.StatusCode)
	}
	_ = inst.App.Store.DB().Get(&status, `SELECT status FROM channels WHERE id = $1`, ch.ID)
	if status != "pending" {
		t.Fatalf("after pair: %q", status)
	}
}

func TestWhatsAppQRConnectRefusals(t *testing.T) {
	t.Parallel()
	inst := startNoQR(t)
	owner := webtest.NewClient(t, inst.URL)
	home := owner.Signup("Loja Recusa", "Rui", uniqueEmail("rui"), strongPassword)
	owner.Post(home+"/settings/channels", url.Values{"kind": {model.KindWhatsAppQR}, "name": {"QR"}})
	owner.Post(home+"/settings/channels", url.Values{"kind": {model.KindSandbox}, "name": {"Teste"}})
	qr, sbx := channelByName(t, inst, "QR"), channelByName(t, inst, "Teste")
	path := func(id int64, what string) string {
		return home + "/settings/channels/" + strconv.FormatInt(id, 10) + "/" + what
	}

	for name, p := range map[string]string{
		"unknown channel":   path(999999, "connect"),
		"not a number":      home + "/settings/channels/abc/connect",
		"not a QR channel":  path(sbx.ID, "connect"),
		"another org's one": "/o/999999/settings/channels/" + strconv.FormatInt(qr.ID, 10) + "/connect",
	} {
		if res := owner.Get(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", name, res.StatusCode)
		}
	}
	if res := owner.Post(path(999999, "disconnect"), url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Errorf("disconnect unknown: %d", res.StatusCode)
	}
	if res := owner.Post(path(sbx.ID, "pair"), url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Errorf("pair sandbox: %d", res.StatusCode)
	}

	// An agent may not open, disconnect or pair a channel.
	email := uniqueEmail("agente")
	if _, err := inst.App.Account.CreateUserInOrg(context.Background(), "Loja Recusa", "Agente", email, strongPassword, model.RoleAgent); err != nil {
		t.Fatal(err)
	}
	agent := webtest.NewClient(t, inst.URL)
	agent.Login(email, strongPassword)
	if res := agent.Get(path(qr.ID, "connect")); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent connect page: %d, want 403", res.StatusCode)
	}
	for _, what := range []string{"disconnect", "pair"} {
		if res := agent.Post(path(qr.ID, what), url.Values{}); res.StatusCode != http.StatusForbidden {
			t.Errorf("agent %s: %d, want 403", what, res.StatusCode)
		}
	}
	var status string
	_ = inst.App.Store.DB().Get(&status, `SELECT status FROM channels WHERE id = $1`, qr.ID)
	if status != "pending" {
		t.Fatalf("refused requests changed the channel: %q", status)
	}
}

func orgOf(t *testing.T, inst *webtest.Instance, channelID int64) int64 {
	t.Helper()
	var org int64
	if err := inst.App.Store.DB().Get(&org, `SELECT org_id FROM channels WHERE id = $1`, channelID); err != nil {
		t.Fatal(err)
	}
	return org
}

func TestAPIWhatsAppQR(t *testing.T) {
	t.Parallel()
	inst := startNoQR(t)
	ctx := context.Background()
	c := webtest.NewClient(t, inst.URL)
	c.Signup("Loja API QR", "Ana", uniqueEmail("ana"), strongPassword)
	key, err := inst.App.Account.CreateAPIKeyForOrgName(ctx, "Loja API QR", "n8n")
	if err != nil {
		t.Fatal(err)
	}
	res := apiCall(t, c, key, "POST", "/api/v1/channels", `{"kind":"whatsapp_qr","name":"WhatsApp API"}`)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", res.StatusCode, res.Body)
	}
	var created struct {
		Channel struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"channel"`
	}
	_ = json.Unmarshal([]byte(res.Body), &created)
	if created.Channel.Status != "pending" {
		t.Fatalf("created: %s", res.Body)
	}
	id := strconv.FormatInt(created.Channel.ID, 10)

	type got struct {
		Channel struct {
			Status string `json:"status"`
			QR     *struct {
				Code      string     `json:"code"`
				Phone     string     `json:"phone"`
				ExpiresAt *time.Time `json:"expires_at"`
			} `json:"qr"`
		} `json:"channel"`
	}
	read := func() got {
		t.Helper()
		res := apiCall(t, c, key, "GET", "/api/v1/channels/"+id, "")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("get: %d %s", res.StatusCode, res.Body)
		}
		var g got
		if err := json.Unmarshal([]byte(res.Body), &g); err != nil {
			t.Fatal(err)
		}
		return g
	}
	if g := read(); g.Channel.Status != "pending" || g.Channel.QR == nil || g.Channel.QR.Code != "" {
		t.Fatalf("before a code: %+v", g)
	}
	org := orgOf(t, inst, created.Channel.ID)
	if err := inst.App.Store.PutQRCode(ctx, org, created.Channel.ID, "2@code,one", time.Now().Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	if g := read(); g.Channel.QR == nil || g.Channel.QR.Code != "2@code,one" || g.Channel.QR.ExpiresAt == nil {
		t.Fatalf("with a code: %+v", g.Channel.QR)
	}
	if _, err := inst.App.Store.SetQRState(ctx, org, created.Channel.ID, "connected", "", map[string]string{"phone": "+5511987654321"}); err != nil {
		t.Fatal(err)
	}
	if g := read(); g.Channel.Status != "connected" || g.Channel.QR.Phone != "+5511987654321" || g.Channel.QR.Code != "" {
		t.Fatalf("connected: %+v", g.Channel.QR)
	}
	// Other kinds have no qr field; unknown ids are 404.
	res = apiCall(t, c, key, "POST", "/api/v1/channels", `{"kind":"sandbox","name":"Teste"}`)
	var sbx struct {
		Channel struct{ ID int64 } `json:"channel"`
	}
	_ = json.Unmarshal([]byte(res.Body), &sbx)
	if res := apiCall(t, c, key, "GET", "/api/v1/channels/"+strconv.FormatInt(sbx.Channel.ID, 10), ""); strings.Contains(res.Body, `"qr"`) {
		t.Fatalf("sandbox has a qr: %s", res.Body)
	}
	if res := apiCall(t, c, key, "GET", "/api/v1/channels/999999", ""); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown: %d", res.StatusCode)
	}
}
