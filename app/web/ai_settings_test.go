package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"masteria/app/model"
	"masteria/app/sim/openaisim"
	"masteria/app/web/webtest"
)

const aiKey = "sk-web-ai-0123456789secret"

// aiProviderRow is the org's saved provider, read straight from the table.
func aiProviderRow(t *testing.T, inst *webtest.Instance) (n int, status, lastError, sealed string) {
	t.Helper()
	_ = inst.App.Store.DB().Get(&n, `SELECT count(*) FROM ai_providers`)
	_ = inst.App.Store.DB().QueryRow(`SELECT status, last_error, api_key_sealed FROM ai_providers LIMIT 1`).Scan(&status, &lastError, &sealed)
	return n, status, lastError, sealed
}

func TestAIProviderSettings(t *testing.T) {
	t.Parallel()
	sim := openaisim.New(openaisim.WithAPIKey(aiKey))
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	o := newInboxOrg(t)
	c, home, inst := o.owner, o.home, o.inst
	form := url.Values{"base_url": {sim.URL()}, "key": {aiKey}, "chat_model": {"gpt-4o-mini"},
		"embedding_model": {"text-embedding-3-small"}, "embedding_dimensions": {"1536"}, "monthly_budget": {"5"}}

	page := c.Get(home + "/settings/ai")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `data-testid="ai-form"`) || !strings.Contains(page.Body, `data-testid="settings-tab-ai"`) {
		t.Fatalf("page: %d %s", page.StatusCode, webtest.Text(page.Body))
	}

	// Bad input changes nothing: a URL that is not http(s), NUL bytes, invalid UTF-8, no CSRF.
	for name, f := range map[string]url.Values{
		"ftp":       formWith(form, "base_url", "ftp://example.com/v1"),
		"no scheme": formWith(form, "base_url", "localhost:8080/v1"),
		"no key":    formWith(form, "key", ""),
		"budget":    formWith(form, "monthly_budget", "lots"),
	} {
		if res := c.Post(home+"/settings/ai", f); res.StatusCode != http.StatusUnprocessableEntity || strings.Contains(res.Body, aiKey) {
			t.Errorf("%s: %d %s", name, res.StatusCode, webtest.Text(res.Body))
		}
	}
	for name, f := range map[string]url.Values{"nul": formWith(form, "chat_model", "gpt\x00"), "utf8": formWith(form, "base_url", "http://ol\xe1\xff")} {
		if res := c.Post(home+"/settings/ai", f); res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
	}
	if res := c.PostRaw(home+"/settings/ai", form); res.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF: %d", res.StatusCode)
	}
	if n, _, _, _ := aiProviderRow(t, inst); n != 0 {
		t.Fatalf("bad input saved %d rows", n)
	}

	// An agent may neither see nor change it.
	agent, _ := o.member(model.RoleAgent)
	if res := agent.Get(home + "/settings/ai"); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent page: %d", res.StatusCode)
	}
	if res := agent.Post(home+"/settings/ai", formWith(form, "_csrf", "")); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent save: %d", res.StatusCode)
	}

	// Save, load the models, test.
	if res := c.Post(home+"/settings/ai", formWith(form, "_csrf", "")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	n, status, _, sealed := aiProviderRow(t, inst)
	if n != 1 || status != model.AIUntested || sealed == "" || strings.Contains(sealed, aiKey) {
		t.Fatalf("saved %d %s %q", n, status, sealed)
	}
	models := c.PostRaw(home+"/settings/ai/models", url.Values{"base_url": {sim.URL() + "/v1"}, "_csrf": {c.CSRF()}}, "HX-Request", "true")
	if models.StatusCode != http.StatusOK || !strings.Contains(models.Body, `data-testid="ai-models-count"`) || !strings.Contains(models.Body, "text-embedding-3-large") {
		t.Fatalf("models: %d %s", models.StatusCode, webtest.Text(models.Body))
	}
	test := c.PostRaw(home+"/settings/ai/test", url.Values{"_csrf": {c.CSRF()}}, "HX-Request", "true")
	if test.StatusCode != http.StatusOK || !strings.Contains(test.Header.Get("HX-Trigger"), "success") {
		t.Fatalf("test: %d %s %s", test.StatusCode, test.Header.Get("HX-Trigger"), webtest.Text(test.Body))
	}
	if _, status, _, _ = aiProviderRow(t, inst); status != model.AIOK {
		t.Fatalf("after test: %s", status)
	}
	page = c.Get(home + "/settings/ai")
	if !strings.Contains(page.Body, `data-testid="ai-spend"`) || !strings.Contains(page.Body, "US$ 5.00") || !strings.Contains(page.Body, "Working") {
		t.Fatalf("page after test: %s", webtest.Text(page.Body))
	}

	// A wrong key: 401 recorded with words, shown as a toast.
	sim.SetAPIKeys("sk-another")
	test = c.PostRaw(home+"/settings/ai/test", url.Values{"_csrf": {c.CSRF()}}, "HX-Request", "true")
	var trig struct {
		Toast struct{ Kind, Message string } `json:"toast"`
	}
	_ = json.Unmarshal([]byte(test.Header.Get("HX-Trigger")), &trig)
	if trig.Toast.Kind != "error" || !strings.Contains(trig.Toast.Message, "the key was refused (401)") {
		t.Fatalf("401 toast: %+v", trig)
	}
	if _, status, lastErr, _ := aiProviderRow(t, inst); status != model.AIError || !strings.Contains(lastErr, "key was refused") {
		t.Fatalf("401 recorded: %s %q", status, lastErr)
	}
	models = c.PostRaw(home+"/settings/ai/models", url.Values{"base_url": {sim.URL()}, "_csrf": {c.CSRF()}}, "HX-Request", "true")
	if !strings.Contains(webtest.Text(models.Body), "key was refused") {
		t.Fatalf("models with a refused key: %s", webtest.Text(models.Body))
	}
	sim.SetAPIKeys(aiKey)

	// A blank key keeps the saved one.
	if res := c.Post(home+"/settings/ai", formWith(form, "key", "")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save keeping the key: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if _, _, _, kept := aiProviderRow(t, inst); kept != sealed {
		t.Fatal("a blank key replaced the saved one")
	}
	page = c.Get(home + "/settings/ai")
	if !strings.Contains(page.Body, "Leave this empty to keep it") {
		t.Fatalf("no kept hint: %s", webtest.Text(page.Body))
	}

	// Another org cannot read the settings.
	other := webtest.NewClient(t, inst.URL)
	otherHome := other.Signup("Outra Loja", "Olga", uniqueEmail("olga"), strongPassword)
	if res := other.Get(home + "/settings/ai"); res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden {
		t.Errorf("other org reads ours: %d", res.StatusCode)
	}
	if res := other.Get(otherHome + "/settings/ai"); res.StatusCode != http.StatusOK || strings.Contains(res.Body, sim.URL()) {
		t.Errorf("other org sees our provider: %d", res.StatusCode)
	}
	if res := other.Post(otherHome+"/settings/ai/test", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("other org tests ours: %d", res.StatusCode)
	}

	// The key appears in no page or answer.
	for _, p := range []string{"/settings/ai", "/settings", "/settings/apikeys", "/settings/audit", "", "/inbox"} {
		if res := c.Get(home + p); strings.Contains(res.Body, aiKey) || strings.Contains(res.Body, sealed) {
			t.Errorf("%s shows the key", p)
		}
	}
}
