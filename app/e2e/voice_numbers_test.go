package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/retellsim"
	"masteria/app/sim/twiliosim"
	"masteria/app/voice/retell"
	"masteria/app/web/webtest"
)

// TestVoiceNumbersWizard searches Twilio numbers on Settings → Voice → Numbers, buys one
// and sees where its set-up stopped (the org has no Retell account yet, so at the import
// into Retell) with its reason and a Continue button, at 1366 and 390 px; the page never
// scrolls sideways. Then Retell is connected and Continue finishes both without buying
// again. With MASTERIA_SCREENSHOTS set it saves the page after the purchase.
func TestVoiceNumbersWizard(t *testing.T) {
	t.Parallel()
	needChromium(t)
	ctx := testContext(t, 2*testTimeout)
	ts := twiliosim.New()
	tw, err := ts.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Close)
	const sid, token = "AC00112233445566778899aabbccddeeff", "voice-e2e-token-0123456789abcdef"
	ts.AddAccount(sid, token)
	rs := retellsim.New(retellsim.WithAPIKeys("key_e2e_voice_numbers"))
	rt, err := rs.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.Close)
	rs.AddAgent(retell.Agent{AgentName: "Recepção"})
	inst := webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) { c.TwilioAPIURL, c.TwilioTrunkingURL, c.RetellAPIURL = tw, tw, rt })
	s := &inboxSetup{inst: inst, email: fmt.Sprintf("vera.%d@clinica.example", time.Now().UnixNano()), password: "girassol-Orquidea-42-vaso"}
	c := webtest.NewClient(t, inst.URL)
	s.home = c.Signup("Clínica Voz", "Vera Lima", s.email, s.password)
	if res := c.Post(s.home+"/settings/channels", url.Values{"kind": {model.KindTwilioSMS}, "name": {"SMS da clínica"},
		"account_sid": {sid}, "auth_token": {token}, "from": {"+15005550006"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("channel: %d", res.StatusCode)
	}
	dir := os.Getenv("MASTERIA_SCREENSHOTS")

	for i, l := range []look{
		{name: "1366", width: 1366, height: 900, theme: "light"},
		{name: "390", width: 390, height: 844, theme: "dark", phone: true},
	} {
		b := newBrowser(t, ctx, "voice-numbers-"+l.name, inst.URL)
		s.login(b)
		b.setLook(l)
		b.open(s.home+"/settings/voice/numbers", tid("voice-search-form"))
		b.do("search numbers in area code 628",
			chromedp.SetValue(tid("voice-country"), "US"),
			chromedp.SendKeys(tid("voice-area-code"), "628"),
			chromedp.Click(tid("voice-search")),
		)
		b.waitJS("the offers show", `document.querySelectorAll('[data-testid="voice-offer"]').length === 20`, waitTimeout)
		if w := eval[int64](b, `document.documentElement.scrollWidth`); w > l.width {
			t.Errorf("%s: the page is %d px wide with the offers", l.name, w)
		}
		b.do("buy the first number", chromedp.Click(tid("voice-buy")))
		b.waitJS("the set-up stopped at the Retell import, with a Continue button",
			fmt.Sprintf(`document.querySelectorAll('[data-testid="voice-number-row"][data-status="failed"][data-step="imported"]').length === %d
				&& !!document.querySelector('[data-testid="voice-number-continue"]')
				&& document.querySelector('[data-testid="voice-number-error"]').textContent.includes("Retell")`, i+1), waitTimeout)
		if w := eval[int64](b, `document.documentElement.scrollWidth`); w > l.width {
			t.Errorf("%s: the page is %d px wide with the numbers", l.name, w)
		}
		if dir != "" {
			eval[bool](b, settled)
			png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, "voice-numbers-"+l.name+".png"), png, 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		b.do("continue", chromedp.Click(tid("voice-number-continue")))
		b.waitJS("it stops there again", `document.querySelectorAll('[data-testid="voice-number-row"][data-status="failed"]').length >= 1`, waitTimeout)
		b.noConsoleErrors()
	}
	if n := len(ts.Purchases()); n != 2 {
		t.Fatalf("%d numbers bought, want one per look", n)
	}

	// Once Retell is connected, Continue finishes both, buying nothing again.
	if _, err := inst.App.Voice.Connect(context.Background(), model.Actor{OrgID: orgOf(s.home), Role: model.RoleOwner}, "key_e2e_voice_numbers"); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, ctx, "voice-numbers-retell", inst.URL)
	s.login(b)
	for i := range 2 {
		b.open(s.home+"/settings/voice/numbers", tid("voice-numbers"))
		// The set-up of a number whose job was still retrying may go on by itself once
		// Retell is connected: Continue is there only while one is stopped.
		if eval[bool](b, `document.querySelector('[data-testid="voice-number-continue"]') !== null`) {
			b.do("continue a stopped set-up", chromedp.Click(tid("voice-number-continue")))
		}
		b.waitJS("one more number is ready, with its agents",
			fmt.Sprintf(`document.querySelectorAll('[data-testid="voice-number-row"][data-status="ready"] [data-testid="voice-number-agents"]').length >= %d`, i+1), waitTimeout)
	}
	if n, imp := len(ts.Purchases()), len(rs.Imports()); n != 2 || imp != 2 {
		t.Fatalf("%d purchases, %d imports into Retell", n, imp)
	}
	b.noConsoleErrors()
}

func orgOf(home string) int64 {
	var id int64
	_, _ = fmt.Sscanf(home, "/o/%d", &id)
	return id
}
