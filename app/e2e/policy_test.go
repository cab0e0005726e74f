package e2e

import (
	"context"
	"os"
	"testing"

	"github.com/chromedp/chromedp"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

// TestPolicySettingsInTheBrowser: Settings → Contact policy in the light and dark themes
// and on a 390 px phone (nothing wider than the screen, no message key showing), then
// changed through its form: the cap typed, the quiet hours chosen, saved, and kept.
// With MASTERIA_SCREENSHOTS set it writes policy-<look>.png there.
func TestPolicySettingsInTheBrowser(t *testing.T) {
	needChromium(t)
	ctx := testContext(t, 2*testTimeout)
	inst := webtest.Start(t)
	b := newBrowser(t, ctx, "policy", inst.URL)
	b.keys = i18nKeys(t)

	b.open("/signup", tid("signup-org"))
	b.do("sign up",
		chromedp.SendKeys(tid("signup-org"), "Padaria Pão Quente"),
		chromedp.SendKeys(tid("signup-name"), "Ana Souza"),
		chromedp.SendKeys(tid("signup-email"), "ana@padaria.example"),
		chromedp.SendKeys(tid("signup-password"), "trigo-Fermento-42-forno"),
		chromedp.Click(tid("signup-submit")),
	)
	org := b.waitPath("land on the org home", orgPathRE.String())
	path := org + "/settings/policy"

	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	for _, l := range looks {
		b.setLook(l)
		b.open(path, tid("policy-form"))
		if dir != "" {
			b.save(dir, "policy-"+l.name, l)
			continue
		}
		b.waitJS("the page shows the "+l.theme+" theme", `document.documentElement.dataset.theme === `+jsString(l.theme), waitTimeout)
		if w := eval[int64](b, `document.documentElement.scrollWidth`); w > l.width {
			t.Errorf("%s: the page is %d px wide on a %d px screen", l.name, w, l.width)
		}
		if k := b.keys.FindString(eval[string](b, `document.body.innerText`)); k != "" {
			t.Errorf("%s: the message key %q shows", l.name, k)
		}
		if !eval[bool](b, `(() => { const r = document.querySelector('[data-testid="policy-save"]').getBoundingClientRect(); return r.left >= 0 && r.right <= innerWidth; })()`) {
			t.Errorf("%s: the save button does not fit the screen", l.name)
		}
	}

	b.setLook(looks[0])
	b.open(path, tid("policy-form"))
	b.do("change the policy",
		chromedp.SetValue(tid("policy-daily-cap"), "3"),
		chromedp.SetValue(tid("policy-quiet_start"), "22"),
		chromedp.SetValue(tid("policy-quiet_end"), "7"),
		chromedp.SetValue(tid("policy-dedup-hours"), "48"),
		chromedp.Click(tid("policy-save")),
	)
	b.waitJS("the toast says it is saved", `[...document.querySelectorAll(".toast")].some(t => t.textContent.includes("Contact policy saved."))`, waitTimeout)
	var orgID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	got, err := inst.App.Store.PolicySettings(context.Background(), orgID)
	if want := (model.PolicySettings{DailyCap: 3, QuietStart: 22, QuietEnd: 7, SMSDedupHours: 48}); err != nil || got != want {
		t.Fatalf("saved %+v (%v), want %+v", got, err, want)
	}
	b.open(path, tid("policy-form"))
	if v := eval[string](b, `document.querySelector('[data-testid="policy-quiet_start"]').value`); v != "22" {
		t.Fatalf("the form shows quiet hours from %q", v)
	}
}
