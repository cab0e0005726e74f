package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/store/storetest"
	"masteria/app/web/webtest"
)

// TestWebhookPages: an admin adds an endpoint, sees its secret once, sends a test ping that
// a receiver verifies with the Standard Webhooks library, sees it in the log and replays
// it; bad input, wrong roles, missing CSRF and another org's ids change nothing.
func TestWebhookPages(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	var lastBody atomic.Value
	var lastHeader atomic.Value
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b := make([]byte, 4096)
		n, _ := r.Body.Read(b)
		lastBody.Store(b[:n])
		lastHeader.Store(r.Header.Clone())
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok <b>thanks</b>"))
	}))
	t.Cleanup(rc.Close)
	inst := webtest.StartOn(t, storetest.URL(t), func(c *config.Config) { c.WebhooksAllowPrivate = true })
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja Ganchos Web", "Gil", uniqueEmail("gil"), strongPassword)

	page := c.Get(home + "/settings/webhooks")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `data-testid="webhooks-empty"`) ||
		!strings.Contains(page.Body, `data-testid="settings-tab-webhooks"`) || !strings.Contains(page.Body, `data-testid="webhook-event-contact.created"`) {
		t.Fatalf("empty page: %d %s", page.StatusCode, webtest.Text(page.Body))
	}
	form := url.Values{"url": {rc.URL + "/in"}, "description": {"ERP <script>"}, "event_types": {"contact.created", "lead.moved"}}

	// Bad input changes nothing.
	for name, f := range map[string]url.Values{
		"no url":      formWith(form, "url", ""),
		"ftp":         formWith(form, "url", "ftp://example.com/"),
		"credentials": formWith(form, "url", "https://u:p@example.com/"),
		"long url":    formWith(form, "url", "https://example.com/"+strings.Repeat("a", 2001)),
		"no events":   {"url": {rc.URL}},
		"bad event":   formWith(form, "event_types", "contact.exploded"),
		"long desc":   formWith(form, "description", strings.Repeat("d", 501)),
	} {
		if res := c.Post(home+"/settings/webhooks", f); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", name, res.StatusCode, webtest.Text(res.Body))
		}
	}
	for name, f := range map[string]url.Values{"nul": formWith(form, "description", "a\x00b"), "utf8": formWith(form, "description", "ol\xe1\xff")} {
		if res := c.Post(home+"/settings/webhooks", f); res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
	}
	if res := c.PostRaw(home+"/settings/webhooks", form); res.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF: %d", res.StatusCode)
	}
	if res := c.Post(home+"/settings/webhooks", formWith(form, "description", strings.Repeat("k", 3<<20))); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized: %d", res.StatusCode)
	}
	var n int
	_ = inst.App.Store.DB().Get(&n, `SELECT count(*) FROM webhook_endpoints`)
	if n != 0 {
		t.Fatalf("bad input made %d endpoints", n)
	}

	// Created: the secret is shown once, escaped description.
	res := c.Post(home+"/settings/webhooks", form)
	secret := regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`).FindString(res.Body)
	if res.StatusCode != http.StatusOK || secret == "" || !strings.Contains(res.Body, `data-testid="webhook-created"`) || strings.Contains(res.Body, "<script>") {
		t.Fatalf("create: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	var id int64
	_ = inst.App.Store.DB().Get(&id, `SELECT id FROM webhook_endpoints`)
	ep := fmt.Sprintf("%s/settings/webhooks/%d", home, id)
	list := c.Get(home + "/settings/webhooks")
	if strings.Contains(list.Body, secret) || !strings.Contains(list.Body, `data-testid="webhook-row"`) {
		t.Fatal("the list shows the secret again, or no row")
	}
	var sealed string
	_ = inst.App.Store.DB().Get(&sealed, `SELECT sealed FROM webhook_secrets`)
	if strings.Contains(sealed, strings.TrimPrefix(secret, "whsec_")) {
		t.Fatal("the secret is stored in clear")
	}

	// Test ping: delivered, verified by the independent library, in the log.
	res = c.Post(ep+"/test", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="webhook-test-result"`) || hits.Load() != 1 {
		t.Fatalf("test: %d hits %d %s", res.StatusCode, hits.Load(), webtest.Text(res.Body))
	}
	wh, _ := standardwebhooks.NewWebhook(secret)
	if err := wh.Verify(lastBody.Load().([]byte), lastHeader.Load().(http.Header)); err != nil {
		t.Fatalf("the ping does not verify: %v", err)
	}
	if strings.Contains(res.Body, "<b>thanks</b>") || !strings.Contains(res.Body, "&lt;b&gt;thanks") {
		t.Fatal("the receiver's answer is not escaped in the log")
	}
	var did int64
	_ = inst.App.Store.DB().Get(&did, `SELECT id FROM webhook_deliveries`)
	if res := c.Post(fmt.Sprintf("%s/deliveries/%d/replay", ep, did), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("replay: %d", res.StatusCode)
	}
	// Filters read, never fail.
	for _, q := range []string{"?status=delivered", "?status=bogus", "?event_type=webhook.test", "?before=abc"} {
		if res := c.Get(ep + q); res.StatusCode != http.StatusOK {
			t.Errorf("log %s: %d", q, res.StatusCode)
		}
	}

	// Another org's admin: 404 on every id of this one.
	other := webtest.NewClient(t, inst.URL)
	oh := other.Signup("Outra Loja", "Ot", uniqueEmail("ot"), strongPassword)
	for _, p := range []string{"", "/test", "/rotate", "/disable", "/enable", "/delete", fmt.Sprintf("/deliveries/%d/replay", did), "/replay"} {
		path := fmt.Sprintf("%s/settings/webhooks/%d%s", oh, id, p)
		var r *webtest.Response
		if p == "" {
			r = other.Get(path)
		} else {
			r = other.Post(path, url.Values{"from": {"2020-01-01T00:00"}, "to": {"2099-01-01T00:00"}})
		}
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("foreign %s: %d", p, r.StatusCode)
		}
	}
	// The other org's own endpoint is out of reach through this org's URL too.
	if r := other.Post(fmt.Sprintf("%s/settings/webhooks/%d/test", home, id), nil); r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusForbidden {
		t.Errorf("other org through this org's path: %d", r.StatusCode)
	}

	// A manager or agent: 403.
	for _, role := range []model.Role{model.RoleManager, model.RoleAgent} {
		email := uniqueEmail(string(role))
		if _, err := inst.App.Account.CreateUserInOrg(context.Background(), "Loja Ganchos Web", "Pessoa", email, strongPassword, role); err != nil {
			t.Fatal(err)
		}
		m := webtest.NewClient(t, inst.URL)
		m.Login(email, strongPassword)
		if r := m.Get(home + "/settings/webhooks"); r.StatusCode != http.StatusForbidden {
			t.Errorf("%s page: %d", role, r.StatusCode)
		}
		if r := m.Post(ep+"/test", nil); r.StatusCode != http.StatusForbidden {
			t.Errorf("%s test: %d", role, r.StatusCode)
		}
	}

	// Rotate shows a new secret once; disable, enable, range replay, delete.
	res = c.Post(ep+"/rotate", nil)
	if s2 := regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`).FindString(res.Body); s2 == "" || s2 == secret {
		t.Fatalf("rotate: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if r := c.Post(ep+"/replay", url.Values{"from": {"2099-01-01T00:00"}, "to": {"2020-01-01T00:00"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("backwards range: %d", r.StatusCode)
	}
	if r := c.Post(ep+"/replay", url.Values{"from": {"2020-01-01T00:00"}, "to": {"2099-01-01T00:00"}}); r.StatusCode != http.StatusSeeOther {
		t.Errorf("range replay: %d", r.StatusCode)
	}
	if r := c.Post(ep+"/disable", nil); r.StatusCode != http.StatusSeeOther {
		t.Errorf("disable: %d", r.StatusCode)
	}
	if r := c.Get(home + "/settings/webhooks"); !strings.Contains(r.Body, ">Disabled<") {
		t.Errorf("disabled endpoint's status not shown: %s", webtest.Text(r.Body))
	}
	if r := c.Post(ep+"/enable", nil); r.StatusCode != http.StatusSeeOther {
		t.Errorf("enable: %d", r.StatusCode)
	}
	if r := c.Post(ep+"/delete", nil); r.StatusCode != http.StatusSeeOther {
		t.Errorf("delete: %d", r.StatusCode)
	}
	if r := c.Get(ep); r.StatusCode != http.StatusNotFound {
		t.Errorf("deleted endpoint: %d", r.StatusCode)
	}
}
