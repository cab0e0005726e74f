package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/web"
	"masteria/app/web/webtest"
)

// apiOrg is an org with a full-access key, for the API's guards.
func apiOrg(t *testing.T, inst *webtest.Instance, name string) (*webtest.Client, int64, string) {
	t.Helper()
	c := webtest.NewClient(t, inst.URL)
	c.Signup(name, "Ivo", uniqueEmail("ivo"), strongPassword)
	var orgID int64
	if err := inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs WHERE name = $1`, name); err != nil {
		t.Fatal(err)
	}
	key, err := inst.App.Account.CreateAPIKeyForOrgName(context.Background(), name, "ERP")
	if err != nil {
		t.Fatal(err)
	}
	return c, orgID, key
}

// Every route of the API names its scope area, so a scoped key is never let through, or
// kept out, by a route nobody mapped.
func TestEveryAPIRouteHasAnArea(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	n := 0
	for _, r := range inst.App.Web.Endpoints() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Path == "/api/v1/openapi.yaml" || r.Path == "/api/v1/*" {
			continue
		}
		n++
		if _, known := web.APIArea(r.Path); !known {
			t.Errorf("%s %s has no scope area", r.Method, r.Path)
		}
	}
	if n < 40 {
		t.Fatalf("only %d API routes seen", n)
	}
}

// Scopes: a read-only key reads everything and changes nothing; an area's write key
// changes that area only; a bad scope is refused when the key is made.
func TestAPIKeyScopes(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c, orgID, _ := apiOrg(t, inst, "Loja Escopos")
	ctx := context.Background()
	admin := model.Actor{OrgID: orgID, Role: model.RoleAdmin}
	keyOf := func(scope string) string {
		t.Helper()
		k, key, err := inst.App.Account.CreateScopedAPIKey(ctx, admin, "chave "+scope, scope)
		if err != nil {
			t.Fatal(err)
		}
		if k.Scope != strings.Join(strings.Fields(scope), " ") && scope != "ai:write ai:write read" {
			t.Fatalf("scope stored as %q", k.Scope)
		}
		return key
	}
	readOnly, aiWrite, contacts := keyOf("read"), keyOf("ai:write ai:write read"), keyOf("contacts:read")
	persona := `{"name":"Ana","instructions":"Seja breve."}`
	cases := []struct {
		key, method, path, body string
		want                    int
	}{
		{readOnly, "GET", "/api/v1/personas", "", 200},
		{readOnly, "GET", "/api/v1/campaigns", "", 200},
		{readOnly, "POST", "/api/v1/personas", persona, 403},
		{aiWrite, "POST", "/api/v1/personas", persona, 201},
		{aiWrite, "GET", "/api/v1/campaigns", "", 200}, // its "read" reads everything
		{aiWrite, "POST", "/api/v1/campaigns", `{}`, 403},
		{contacts, "GET", "/api/v1/personas", "", 403},
		{contacts, "GET", "/api/v1/me", "", 200}, // every key may ask who it is
	}
	for _, tc := range cases {
		res := apiCall(t, c, tc.key, tc.method, tc.path, tc.body)
		if res.StatusCode != tc.want {
			t.Errorf("%s %s with a key: %d %s, want %d", tc.method, tc.path, res.StatusCode, res.Body, tc.want)
		}
		if tc.want == 403 && !strings.Contains(res.Body, `"code":"insufficient_scope"`) {
			t.Errorf("%s %s: refused without the code: %s", tc.method, tc.path, res.Body)
		}
	}
	for _, bad := range []string{"write", "contacts", "contacts:admin", "nothing:read", "contacts:read\x00"} {
		if _, _, err := inst.App.Account.CreateScopedAPIKey(ctx, admin, "ruim", bad); !errors.Is(err, model.ErrInvalid) {
			t.Errorf("scope %q: %v", bad, err)
		}
	}
}

// The same Idempotency-Key sent by ten clients at once creates one persona, and every one
// of them gets its answer; the same key with another body is a 422; no key, no memory.
func TestIdempotencyKeyUnderConcurrency(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c, orgID, key := apiOrg(t, inst, "Loja Idempotente")
	body := `{"name":"Bia","instructions":"Responda em português."}`
	post := func(idem, body string) *webtest.Response {
		req, _ := http.NewRequest("POST", inst.URL+"/api/v1/personas", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		if idem != "" {
			req.Header.Set("Idempotency-Key", idem)
		}
		return c.Do(req)
	}
	const n = 10
	answers := make([]*webtest.Response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = post("pedido-42", body)
		}()
	}
	wg.Wait()
	replayed := 0
	for i, a := range answers {
		if a.StatusCode != http.StatusCreated || a.Body != answers[0].Body {
			t.Fatalf("answer %d: %d %s (first: %s)", i, a.StatusCode, a.Body, answers[0].Body)
		}
		if a.Header.Get("Idempotent-Replayed") == "true" {
			replayed++
		}
	}
	if replayed != n-1 {
		t.Fatalf("%d answers replayed, want %d", replayed, n-1)
	}
	var personas int
	_ = inst.App.Store.DB().Get(&personas, `SELECT count(*) FROM personas WHERE org_id = $1 AND name = 'Bia'`, orgID)
	if personas != 1 {
		t.Fatalf("%d personas made", personas)
	}
	// The same key with another request is a mistake, said plainly; nothing is made.
	if res := post("pedido-42", `{"name":"Outra","instructions":"x"}`); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.Body, `"code":"idempotency_key_reused"`) {
		t.Fatalf("reused key: %d %s", res.StatusCode, res.Body)
	}
	// An error is kept too: a repeat of a refused request is refused the same way.
	bad := `{"name":"","instructions":"x"}`
	first, again := post("pedido-43", bad), post("pedido-43", bad)
	if first.StatusCode != http.StatusBadRequest && first.StatusCode != http.StatusUnprocessableEntity || again.StatusCode != first.StatusCode ||
		again.Body != first.Body || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("refused twice: %d %s / %d %s", first.StatusCode, first.Body, again.StatusCode, again.Body)
	}
	// Without a key two posts make two; a bad key is refused before anything is done.
	post("", `{"name":"Caio","instructions":"x"}`)
	post("", `{"name":"Caio","instructions":"x"}`)
	_ = inst.App.Store.DB().Get(&personas, `SELECT count(*) FROM personas WHERE org_id = $1 AND name = 'Caio'`, orgID)
	if personas != 2 {
		t.Fatalf("%d personas without a key", personas)
	}
	for _, k := range []string{strings.Repeat("k", 256), "com espaço", "chave-é"} {
		if res := post(k, `{"name":"Duda","instructions":"x"}`); res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Body, "bad_idempotency_key") {
			t.Fatalf("key %q: %d %s", k, res.StatusCode, res.Body)
		}
	}
	// Another org's same key is its own.
	c2, _, key2 := apiOrg(t, inst, "Loja Vizinha Idempotente")
	res := apiCall(t, c2, key2, "GET", "/api/v1/personas", "")
	if strings.Contains(res.Body, "Bia") {
		t.Fatalf("another org sees the persona: %s", res.Body)
	}
}

// A key that spends its minute's share gets 429 with Retry-After; every answer says
// where the key stands; another key is not held back.
func TestAPIRateLimit(t *testing.T) {
	t.Parallel()
	inst := webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) { c.APIRateLimit = 5 })
	c, _, key := apiOrg(t, inst, "Loja Apressada")
	_, _, other := apiOrg(t, inst, "Loja Calma")
	var last *webtest.Response
	for i := range 5 {
		last = apiCall(t, c, key, "GET", "/api/v1/me", "")
		if last.StatusCode != http.StatusOK || last.Header.Get("RateLimit-Limit") != "5" {
			t.Fatalf("request %d: %d limit %q", i+1, last.StatusCode, last.Header.Get("RateLimit-Limit"))
		}
	}
	if r, _ := strconv.Atoi(last.Header.Get("RateLimit-Remaining")); r != 0 {
		t.Fatalf("remaining after 5: %q", last.Header.Get("RateLimit-Remaining"))
	}
	res := apiCall(t, c, key, "GET", "/api/v1/me", "")
	wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
	if res.StatusCode != http.StatusTooManyRequests || wait < 1 || !strings.Contains(res.Body, `"code":"rate_limited"`) {
		t.Fatalf("6th request: %d Retry-After %q %s", res.StatusCode, res.Header.Get("Retry-After"), res.Body)
	}
	var e struct {
		Error struct{ Message string } `json:"error"`
	}
	_ = json.Unmarshal([]byte(res.Body), &e)
	if !strings.Contains(e.Error.Message, "5 requests a minute") {
		t.Fatalf("message: %q", e.Error.Message)
	}
	if res := apiCall(t, c, other, "GET", "/api/v1/me", ""); res.StatusCode != http.StatusOK {
		t.Fatalf("another key: %d", res.StatusCode)
	}
}
