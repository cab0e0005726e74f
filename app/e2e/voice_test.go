package e2e

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"masteria/app/config"
	"masteria/app/sim/retellsim"
	"masteria/app/store/storetest"
	"masteria/app/voice/retell"
	"masteria/app/web/webtest"
)

// TestVoiceRetellPhone connects Retell on a 390 px phone in the dark theme, in Portuguese:
// the key is typed and saved, the agents Retell lists show, and the webhook URL to paste
// and the agents table stay inside the screen. With MASTERIA_SCREENSHOTS set it saves the
// page.
func TestVoiceRetellPhone(t *testing.T) {
	needChromium(t)
	const key = "key_e2e_voice_0123456789"
	sim := retellsim.New(retellsim.WithAPIKeys(key))
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.AddAgent(retell.Agent{AgentName: "Recepção da clínica — confirmações de consulta e remarcações"})
	sim.AddAgent(retell.Agent{AgentName: "Cobrança"})
	inst := webtest.StartOn(t, storetest.URL(t), func(c *config.Config) { c.RetellAPIURL = sim.URL() })
	email, password := fmt.Sprintf("vera.%d@clinica.example", os.Getpid()), "sorriso-Branco-42-dente"
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Clínica Sorriso Branco", "Vera Lúcia", email, password)
	c.Post("/locale", url.Values{"locale": {"pt-BR"}})

	ctx := testContext(t, testTimeout)
	b := newBrowser(t, ctx, "voice", inst.URL)
	s := &inboxSetup{inst: inst, home: home, email: email, password: password}
	s.login(b)
	l := look{name: "phone-dark", width: 390, height: 844, theme: "dark", phone: true}
	b.setLook(l)
	b.open(home+"/settings/voice", tid("voice-key"))
	b.do("connect Retell",
		chromedp.SendKeys(tid("voice-key"), key),
		chromedp.SetValue(tid("voice-max"), "4"),
		chromedp.Click(tid("voice-save")),
	)
	b.waitJS("the agents show", `document.querySelectorAll('[data-testid="voice-agent"]').length === 2`, waitTimeout)
	if got := b.text(tid("voice-status")); !strings.Contains(got, "Funcionando") {
		t.Errorf("status %q", got)
	}
	if got := b.text(tid("voice-webhook-url")); !strings.HasSuffix(got, "/webhooks/retell/1") {
		t.Errorf("webhook URL %q", got)
	}
	if eval[string](b, `document.documentElement.getAttribute("data-theme") || ""`) != "dark" {
		t.Errorf("not dark: %q", eval[string](b, `document.documentElement.outerHTML.slice(0, 200)`))
	}
	if w := eval[int64](b, `document.documentElement.scrollWidth`); w > l.width {
		t.Errorf("the page is %d px wide", w)
	}
	for _, id := range []string{"voice-webhook-url", "voice-agents-table", "voice-save", "voice-test"} {
		if !eval[bool](b, fmt.Sprintf(`(() => { const r = document.querySelector('[data-testid=%q]').getBoundingClientRect(); return r.left >= 0 && r.right <= innerWidth + 1; })()`, id)) {
			t.Errorf("%s does not fit the screen", id)
		}
	}
	if strings.Contains(eval[string](b, `document.body.innerHTML`), key) {
		t.Error("the key is on the page")
	}
	b.noConsoleErrors()
	if dir := os.Getenv("MASTERIA_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "voice-retell-phone-dark.png"), png, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
