package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

// apiCall sends a JSON request with an API key.
func apiCall(t *testing.T, c *webtest.Client, key, method, path, body string) *webtest.Response {
	t.Helper()
	req, _ := http.NewRequest(method, c.Base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.Do(req)
}

func apiCode(t *testing.T, res *webtest.Response) string {
	t.Helper()
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal([]byte(res.Body), &e)
	return e.Error.Code
}

func TestAPIHeadless(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	ctx := context.Background()
	c := webtest.NewClient(t, inst.URL)
	c.Signup("Loja API", "Yara", uniqueEmail("yara"), strongPassword)
	key, err := inst.App.Account.CreateAPIKeyForOrgName(ctx, "Loja API", "ERP")
	if err != nil {
		t.Fatal(err)
	}
	var orgID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	a := model.Actor{OrgID: orgID, Role: model.RoleOwner}
	sbx, err := inst.App.Inbox.CreateChannel(ctx, a, model.KindSandbox, "Demo", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	wa, _ := inst.App.Inbox.CreateChannel(ctx, a, model.KindWhatsAppCloud, "WhatsApp", map[string]string{"phone_number_id": "1"}, map[string]string{"app_secret": "x"})

	res := apiCall(t, c, key, "GET", "/api/v1/channels", "")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `"kind":"sandbox"`) || !strings.Contains(res.Body, fmt.Sprintf("/webhooks/whatsapp/%d", wa.ID)) {
		t.Fatalf("channels: %d %s", res.StatusCode, res.Body)
	}
	send := apiCall(t, c, key, "POST", "/api/v1/messages", fmt.Sprintf(`{"channel_id":%d,"to":"(11) 98765-4321","text":"Seu pedido saiu para entrega"}`, sbx.ID))
	if send.StatusCode != http.StatusAccepted {
		t.Fatalf("send: %d %s", send.StatusCode, send.Body)
	}
	var sent struct {
		Message model.Message `json:"message"`
	}
	_ = json.Unmarshal([]byte(send.Body), &sent)
	deadline := time.Now().Add(20 * time.Second)
	for {
		m, _ := inst.App.Store.Message(ctx, orgID, sent.Message.ID)
		if m.Status == model.StatusRead {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %q after 20 s", m.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for name, tc := range map[string]struct {
		body   string
		status int
		code   string
	}{
		"not json":        {`{"channel_id":`, 400, "bad_json"},
		"unknown field":   {fmt.Sprintf(`{"channel_id":%d,"to":"11987654321","text":"x","x":1}`, sbx.ID), 400, "bad_json"},
		"invalid phone":   {fmt.Sprintf(`{"channel_id":%d,"to":"123","text":"x"}`, sbx.ID), 422, "invalid_phone"},
		"empty text":      {fmt.Sprintf(`{"channel_id":%d,"to":"11987654321","text":"  "}`, sbx.ID), 422, "invalid"},
		"unknown channel": {`{"channel_id":999999,"to":"11987654321","text":"x"}`, 404, "not_found"},
		"window closed":   {fmt.Sprintf(`{"channel_id":%d,"to":"11987654321","text":"x"}`, wa.ID), 422, "window_closed"},
	} {
		res := apiCall(t, c, key, "POST", "/api/v1/messages", tc.body)
		if res.StatusCode != tc.status || apiCode(t, res) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", name, res.StatusCode, res.Body, tc.status, tc.code)
		}
	}
	convs := apiCall(t, c, key, "GET", "/api/v1/conversations", "")
	var list struct {
		Conversations []model.Conversation `json:"conversations"`
	}
	_ = json.Unmarshal([]byte(convs.Body), &list)
	if convs.StatusCode != http.StatusOK || len(list.Conversations) == 0 {
		t.Fatalf("conversations: %d %s", convs.StatusCode, convs.Body)
	}
	msgs := apiCall(t, c, key, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages", list.Conversations[0].ID), "")
	if msgs.StatusCode != http.StatusOK || !strings.Contains(msgs.Body, "Seu pedido saiu para entrega") {
		t.Fatalf("messages: %d %s", msgs.StatusCode, msgs.Body)
	}
	for _, p := range []string{"/api/v1/conversations/999999/messages", "/api/v1/conversations/abc/messages", "/api/v1/channels/999999"} {
		if res := apiCall(t, c, key, "GET", p, ""); res.StatusCode != http.StatusNotFound || apiCode(t, res) != "not_found" {
			t.Errorf("%s: %d %s", p, res.StatusCode, res.Body)
		}
	}
	if res := apiCall(t, c, key, "GET", "/api/v1/conversations?after=forged", ""); res.StatusCode != http.StatusBadRequest || apiCode(t, res) != "bad_cursor" {
		t.Errorf("forged cursor: %d %s", res.StatusCode, res.Body)
	}
	if res := apiCall(t, c, "mia_wrongwrongwrongwrongwrong", "GET", "/api/v1/channels", ""); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("bad key: %d", res.StatusCode)
	}
}

// TestOpenAPIDescribesEveryRoute keeps the OpenAPI file in step with the router: every
// /api/v1 route is in it.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	doc := webtest.NewClient(t, inst.URL).Get("/api/v1/openapi.yaml")
	if doc.StatusCode != http.StatusOK || !strings.HasPrefix(doc.Body, "openapi: 3.1.0") {
		t.Fatalf("openapi: %d", doc.StatusCode)
	}
	param := regexp.MustCompile(`:(\w+)`)
	for _, r := range inst.App.Web.Routes() {
		p, ok := strings.CutPrefix(r, "/api/v1")
		if !ok || p == "" || p == "/*" || p == "/openapi.yaml" {
			continue
		}
		p = param.ReplaceAllString(p, "{$1}")
		if !strings.Contains(doc.Body, "\n  "+p+":\n") {
			t.Errorf("route %s is not in openapi.yaml", p)
		}
	}
}

func TestAPIConnectChannel(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	c.Signup("Loja Integra", "Ada", uniqueEmail("ada"), strongPassword)
	key, err := inst.App.Account.CreateAPIKeyForOrgName(context.Background(), "Loja Integra", "n8n")
	if err != nil {
		t.Fatal(err)
	}
	good := `{"kind":"twilio_sms","name":"SMS Loja","config":{"account_sid":"AC0123456789abcdef0123456789abcdef","auth_token":"tok","from":"+5511900000000"}}`
	res := apiCall(t, c, key, "POST", "/api/v1/channels", good)
	if res.StatusCode != http.StatusCreated || !strings.Contains(res.Body, "/webhooks/twilio/") || strings.Contains(res.Body, "tok") {
		t.Fatalf("create: %d %s", res.StatusCode, res.Body)
	}
	for name, tc := range map[string]struct {
		body   string
		status int
	}{
		"not json":      {`{"kind":`, 400},
		"unknown field": {`{"kind":"sandbox","name":"x","extra":1}`, 400},
		"unknown kind":  {`{"kind":"telegram","name":"x"}`, 422},
		"no name":       {`{"kind":"sandbox","name":" "}`, 422},
		"bad sid":       {`{"kind":"twilio_sms","name":"x","config":{"account_sid":"AC1","auth_token":"t","from":"+5511900000000"}}`, 422},
		"no token":      {`{"kind":"whatsapp_cloud","name":"x","config":{"phone_number_id":"123456","waba_id":"123456","app_secret":"s","verify_token":"v"}}`, 422},
	} {
		if res := apiCall(t, c, key, "POST", "/api/v1/channels", tc.body); res.StatusCode != tc.status {
			t.Errorf("%s: %d %s, want %d", name, res.StatusCode, res.Body, tc.status)
		}
	}
	var n int
	_ = inst.App.Store.DB().Get(&n, `SELECT count(*) FROM channels`)
	if n != 1 {
		t.Fatalf("%d channels after one good and six bad requests", n)
	}
}
