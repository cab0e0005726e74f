package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/store/storetest"
	"masteria/app/web/webtest"
)

// TestWebhookAPIRefusals: another org's key gets 404 for every id, a key without the
// webhooks scope gets 403, bodies that are too large, not JSON, or carry NUL bytes change nothing.
func TestWebhookAPIRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(rc.Close)
	inst := webtest.StartOn(t, storetest.URL(t), func(c *config.Config) { c.WebhooksAllowPrivate = true })
	c := webtest.NewClient(t, inst.URL)
	c.Signup("Loja API Ganchos", "Ivo", uniqueEmail("ivo"), strongPassword)
	c2 := webtest.NewClient(t, inst.URL)
	c2.Signup("Outra API Ganchos", "Ula", uniqueEmail("ula"), strongPassword)
	key, err := inst.App.Account.CreateAPIKeyForOrgName(ctx, "Loja API Ganchos", "ERP")
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := inst.App.Account.CreateAPIKeyForOrgName(ctx, "Outra API Ganchos", "ERP")
	if err != nil {
		t.Fatal(err)
	}
	var orgID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs WHERE name = 'Loja API Ganchos'`)
	// A key scoped to other areas (read everything, change contacts only) may not manage webhooks.
	_, agentKey, err := inst.App.Account.CreateScopedAPIKey(ctx, model.Actor{OrgID: orgID, Role: model.RoleAdmin}, "contatos", "contacts:write")
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, body, k string, want int) string {
		t.Helper()
		req, _ := http.NewRequest(method, inst.URL+"/api/v1"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+k)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res := c.Do(req)
		if res.StatusCode != want {
			t.Errorf("%s %s: %d %s, want %d", method, path, res.StatusCode, res.Body, want)
		}
		return res.Body
	}
	body := do("POST", "/webhook-endpoints", fmt.Sprintf(`{"url":%q,"all_events":true}`, rc.URL), key, 201)
	var id int64
	_ = inst.App.Store.DB().Get(&id, `SELECT id FROM webhook_endpoints`)
	if !strings.Contains(body, `"secret":"whsec_`) {
		t.Fatalf("create: %s", body)
	}
	p := fmt.Sprintf("/webhook-endpoints/%d", id)
	d := do("POST", p+"/test", "", key, 200)
	var did int64
	_ = inst.App.Store.DB().Get(&did, `SELECT id FROM webhook_deliveries`)
	if !strings.Contains(d, `"state":"delivered"`) {
		t.Fatalf("test: %s", d)
	}
	for _, k := range []struct {
		key  string
		want int
	}{{foreign, 404}, {agentKey, 403}} {
		do("GET", p, "", k.key, k.want)
		do("PATCH", p, `{"enabled":false}`, k.key, k.want)
		do("POST", p+"/rotate", "", k.key, k.want)
		do("POST", p+"/test", "", k.key, k.want)
		do("GET", p+"/deliveries", "", k.key, k.want)
		do("POST", fmt.Sprintf("%s/deliveries/%d/replay", p, did), "", k.key, k.want)
		do("POST", p+"/replay", `{"from":"2020-01-01T00:00:00Z","to":"2099-01-01T00:00:00Z"}`, k.key, k.want)
		do("DELETE", p, "", k.key, k.want)
	}
	do("GET", "/webhook-endpoints", "", agentKey, 403)
	do("POST", "/webhook-endpoints", fmt.Sprintf(`{"url":%q,"all_events":true}`, rc.URL), agentKey, 403)
	if b := do("GET", "/webhook-endpoints", "", foreign, 200); strings.Contains(b, rc.URL) {
		t.Fatal("another org's key lists this org's endpoint")
	}
	do("PATCH", p, `{"description":"a\u0000b"}`, key, 400)
	do("PATCH", p, "{\"description\":\"ol\xe1\xff\"}", key, 400)
	do("PATCH", p, `{"description":"`+strings.Repeat("x", 20<<10)+`"}`, key, 413)
	do("PATCH", p, `{"url":"https://10.0.0.1/"}`, key, 200) // private addresses are allowed on this server
	do("GET", p+"/deliveries/x", "", key, 404)
	do("POST", p+"/deliveries/abc/replay", "", key, 404)
	var enabled bool
	_ = inst.App.Store.DB().Get(&enabled, `SELECT enabled FROM webhook_endpoints WHERE id = $1`, id)
	if !enabled {
		t.Fatal("a refused request disabled the endpoint")
	}
}
