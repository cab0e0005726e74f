package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/retellsim"
	"masteria/app/store/storetest"
	"masteria/app/voice/retell"
	"masteria/app/web/webtest"
)

const retellKey = "key_web_voice_0123456789secret"

// voiceRow is the org's Retell account, read straight from the table.
func voiceRow(t *testing.T, inst *webtest.Instance, orgID int64) (n int, id int64, status, lastError, sealed string, max int) {
	t.Helper()
	_ = inst.App.Store.DB().Get(&n, `SELECT count(*) FROM voice_accounts`)
	_ = inst.App.Store.DB().QueryRow(`SELECT id, status, last_error, api_key_sealed, max_concurrent FROM voice_accounts WHERE org_id = $1`, orgID).
		Scan(&id, &status, &lastError, &sealed, &max)
	return
}

func toastOf(res *webtest.Response) (kind, msg string) {
	var trig struct {
		Toast struct{ Kind, Message string } `json:"toast"`
	}
	_ = json.Unmarshal([]byte(res.Header.Get("HX-Trigger")), &trig)
	return trig.Toast.Kind, trig.Toast.Message
}

func TestVoiceRetellSettings(t *testing.T) {
	t.Parallel()
	sim := retellsim.New(retellsim.WithAPIKeys(retellKey))
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.AddAgent(retell.Agent{AgentName: "Vendas <b>SP</b>"})
	sim.AddAgent(retell.Agent{AgentName: "Suporte"})
	inst := webtest.StartOn(t, storetest.URL(t), func(c *config.Config) { c.RetellAPIURL = sim.URL() })
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Clínica Sorriso", "Sofia", uniqueEmail("sofia"), strongPassword)
	var orgID int64
	_, _ = fmt.Sscanf(home, "/o/%d", &orgID)
	form := url.Values{"key": {retellKey}, "max_concurrent": {"3"}}

	page := c.Get(home + "/settings/voice")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `data-testid="voice-form"`) ||
		!strings.Contains(page.Body, `data-testid="settings-tab-voice"`) || !strings.Contains(page.Body, `data-testid="voice-tab-retell"`) ||
		strings.Contains(page.Body, `data-testid="voice-webhook-url"`) {
		t.Fatalf("page: %d %s", page.StatusCode, webtest.Text(page.Body))
	}

	// Bad input changes nothing.
	for name, f := range map[string]url.Values{
		"no key":   formWith(form, "key", ""),
		"spaces":   formWith(form, "key", "key with spaces"),
		"long key": formWith(form, "key", strings.Repeat("k", 201)),
		"max 0":    formWith(form, "max_concurrent", "0"),
		"max 1001": formWith(form, "max_concurrent", "1001"),
		"max word": formWith(form, "max_concurrent", "lots"),
	} {
		if res := c.Post(home+"/settings/voice", f); res.StatusCode != http.StatusUnprocessableEntity || strings.Contains(res.Body, "key with spaces") {
			t.Errorf("%s: %d %s", name, res.StatusCode, webtest.Text(res.Body))
		}
	}
	for name, f := range map[string]url.Values{"nul": formWith(form, "key", "key\x00x"), "utf8": formWith(form, "key", "ol\xe1\xff")} {
		if res := c.Post(home+"/settings/voice", f); res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
	}
	if res := c.PostRaw(home+"/settings/voice", form); res.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF: %d", res.StatusCode)
	}
	if res := c.Post(home+"/settings/voice", formWith(form, "key", strings.Repeat("k", 3<<20))); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized: %d", res.StatusCode)
	}
	if res := c.Post(home+"/settings/voice/test", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("test with no account: %d", res.StatusCode)
	}
	if n, _, _, _, _, _ := voiceRow(t, inst, orgID); n != 0 {
		t.Fatalf("bad input saved %d rows", n)
	}

	// An agent may neither see nor change it.
	agentEmail := uniqueEmail("agent")
	if _, err := inst.App.Account.CreateUserInOrg(context.Background(), "Clínica Sorriso", "Ana", agentEmail, strongPassword, model.RoleAgent); err != nil {
		t.Fatal(err)
	}
	agent := webtest.NewClient(t, inst.URL)
	agent.Login(agentEmail, strongPassword)
	for _, p := range []string{"/settings/voice", "/settings/voice/test"} {
		res := agent.Get(home + p)
		if p == "/settings/voice/test" {
			res = agent.Post(home+p, nil)
		}
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("agent %s: %d", p, res.StatusCode)
		}
	}
	if res := agent.Post(home+"/settings/voice", form); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent save: %d", res.StatusCode)
	}
	if strings.Contains(agent.Get(home+"/settings/profile").Body, `data-testid="settings-tab-voice"`) {
		t.Error("the agent sees the voice tab")
	}

	// A key the simulator refuses: saved, tested at once, Retell's words shown.
	res := c.PostRaw(home+"/settings/voice", url.Values{"key": {"key_refused_by_retell"}, "max_concurrent": {"3"}, "_csrf": {c.CSRF()}}, "HX-Request", "true")
	if kind, msg := toastOf(res); kind != "error" ||
		!strings.Contains(msg, "Retell refused the API key (401): Invalid API Key") {
		t.Fatalf("refused key: %d %s %s", res.StatusCode, kind, msg)
	}
	n, accID, status, lastErr, sealed, max := voiceRow(t, inst, orgID)
	if n != 1 || status != "error" || !strings.Contains(lastErr, "401") || sealed == "" || max != 3 {
		t.Fatalf("refused key recorded: %d %s %q %d", n, status, lastErr, max)
	}
	page = c.Get(home + "/settings/voice")
	if !strings.Contains(page.Body, `data-testid="voice-error"`) || !strings.Contains(webtest.Text(page.Body), "Invalid API Key") {
		t.Fatalf("page with a refused key: %s", webtest.Text(page.Body))
	}

	// The right key: connected, agents listed (escaped), the webhook URL to paste.
	res = c.PostRaw(home+"/settings/voice", url.Values{"key": {retellKey}, "max_concurrent": {"7"}, "_csrf": {c.CSRF()}}, "HX-Request", "true")
	if kind, msg := toastOf(res); kind != "success" {
		t.Fatalf("good key: %d %s %s", res.StatusCode, kind, msg)
	}
	_, id2, status, _, sealed, max := voiceRow(t, inst, orgID)
	if id2 != accID || status != "ok" || max != 7 || strings.Contains(sealed, retellKey) {
		t.Fatalf("connected: %d %s %d", id2, status, max)
	}
	page = c.Get(home + "/settings/voice")
	want := fmt.Sprintf("%s/webhooks/retell/%d", inst.App.Config.BaseURL, accID)
	if !strings.Contains(page.Body, want) || strings.Count(page.Body, `data-testid="voice-agent"`) != 2 ||
		!strings.Contains(page.Body, "Vendas &lt;b&gt;SP&lt;/b&gt;") || !strings.Contains(page.Body, "Working") {
		t.Fatalf("connected page (want %s): %s", want, webtest.Text(page.Body))
	}

	if res := c.Get(home + "/settings/audit"); strings.Count(res.Body, "Connected Retell (voice) with a new API key") != 2 {
		t.Errorf("audit: %s", webtest.Text(res.Body))
	}

	// Test: works, then the key is revoked at Retell.
	res = c.PostRaw(home+"/settings/voice/test", url.Values{"_csrf": {c.CSRF()}}, "HX-Request", "true")
	if kind, msg := toastOf(res); kind != "success" || !strings.Contains(msg, "2 agents") || !strings.Contains(res.Body, `id="settings-voice"`) {
		t.Fatalf("test: %s %s", kind, msg)
	}
	sim.SetAPIKeys("key_rotated")
	res = c.PostRaw(home+"/settings/voice/test", url.Values{"_csrf": {c.CSRF()}}, "HX-Request", "true")
	if kind, msg := toastOf(res); kind != "error" || !strings.Contains(msg, "Invalid API Key") || !strings.Contains(webtest.Text(res.Body), "Could not list the agents") {
		t.Fatalf("test with a revoked key: %s %s %s", kind, msg, webtest.Text(res.Body))
	}
	if _, _, status, _, _, _ := voiceRow(t, inst, orgID); status != "error" {
		t.Fatalf("revoked recorded as %s", status)
	}
	sim.SetAPIKeys(retellKey)

	// A blank key keeps the saved one and changes the calls at once.
	if res := c.Post(home+"/settings/voice", url.Values{"key": {""}, "max_concurrent": {"12"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("keep key: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if _, _, _, _, kept, max := voiceRow(t, inst, orgID); kept != sealed || max != 12 {
		t.Fatalf("kept %v, max %d", kept == sealed, max)
	}

	// The webhook's key opens by the account id, and only for its own row.
	acc, key, err := inst.App.Voice.WebhookKey(context.Background(), accID)
	if err != nil || key != retellKey || acc.OrgID != orgID {
		t.Fatalf("webhook key: %v %d", err, acc.OrgID)
	}
	if _, _, err := inst.App.Voice.WebhookKey(context.Background(), accID+1000); err == nil {
		t.Fatal("an unknown account has a key")
	}

	// Another org: cannot read or test ours, and our sealed key copied to its row does not open.
	other := webtest.NewClient(t, inst.URL)
	otherHome := other.Signup("Outra Clínica", "Olga", uniqueEmail("olga"), strongPassword)
	if res := other.Get(home + "/settings/voice"); res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden {
		t.Errorf("other org reads ours: %d", res.StatusCode)
	}
	if res := other.Post(home+"/settings/voice/test", nil); res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden {
		t.Errorf("other org tests ours: %d", res.StatusCode)
	}
	if res := other.Get(otherHome + "/settings/voice"); res.StatusCode != http.StatusOK || strings.Contains(res.Body, "Suporte") || strings.Contains(res.Body, "/webhooks/retell/") {
		t.Errorf("other org sees our account: %d", res.StatusCode)
	}
	var otherID int64
	_, _ = fmt.Sscanf(otherHome, "/o/%d", &otherID)
	if _, err := inst.App.Store.DB().Exec(`INSERT INTO voice_accounts (org_id, api_key_sealed) VALUES ($1, $2)`, otherID, sealed); err != nil {
		t.Fatal(err)
	}
	if _, _, err := inst.App.Voice.Client(context.Background(), otherID); err == nil {
		t.Fatal("our sealed key opened for another org's account")
	}

	// The key appears in no page.
	for _, p := range []string{"/settings/voice", "/settings", "/settings/ai", ""} {
		if res := c.Get(home + p); strings.Contains(res.Body, retellKey) || strings.Contains(res.Body, sealed) {
			t.Errorf("%s shows the key", p)
		}
	}
}

// Where a server answers only the older list endpoint, the agents still show.
func TestVoiceAgentsOldList(t *testing.T) {
	t.Parallel()
	sim := retellsim.New(retellsim.WithAPIKeys(retellKey), retellsim.WithOldListsOnly())
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.AddAgent(retell.Agent{AgentName: "Cobrança"})
	inst := webtest.StartOn(t, storetest.URL(t), func(c *config.Config) { c.RetellAPIURL = sim.URL() })
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja Velha", "Vera", uniqueEmail("vera"), strongPassword)
	if res := c.Post(home+"/settings/voice", url.Values{"key": {retellKey}, "max_concurrent": {"5"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if page := c.Get(home + "/settings/voice"); !strings.Contains(page.Body, "Cobrança") || !strings.Contains(page.Body, "Working") {
		t.Fatalf("old list: %s", webtest.Text(page.Body))
	}
}
