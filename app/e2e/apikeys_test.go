package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/chromedp/chromedp"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

// TestAPIKeyScopesInTheBrowser: an admin makes a key for chosen areas — the areas show
// only once "Chosen areas" is picked — sees it once, and the list says what it may do.
func TestAPIKeyScopesInTheBrowser(t *testing.T) {
	needChromium(t)
	ctx := testContext(t, 2*testTimeout)
	inst := webtest.Start(t)
	b := newBrowser(t, ctx, "apikeys", inst.URL)
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
	path := org + "/settings/apikeys"

	b.setLook(looks[0])
	b.open(path, tid("apikey-form"))
	if eval[bool](b, `document.querySelector('[data-testid="apikey-areas"]').offsetParent !== null`) {
		t.Fatal("the areas show before Chosen areas is picked")
	}
	b.do("make a key for chosen areas",
		chromedp.SendKeys(tid("apikey-name"), "ERP"),
		chromedp.Click(tid("apikey-access-areas")),
		chromedp.WaitVisible(tid("apikey-area-contacts")),
		chromedp.SetValue(tid("apikey-area-contacts"), "write"),
		chromedp.SetValue(tid("apikey-area-board"), "read"),
		chromedp.Click(tid("apikey-submit")),
		chromedp.WaitVisible(tid("apikey-created")),
	)
	b.waitJS("the list says what the key may do", `[...document.querySelectorAll('[data-testid="apikey-scope"]')].some(td =>
		td.textContent.includes("Leads board: Read") && td.textContent.includes("Contacts, tags and segments: Read and change"))`, waitTimeout)

	// Two keys made back to back elsewhere, then both revoked back to back: the second event
	// of each pair comes while the first one's refresh is in flight. The list swaps its
	// content, not itself, so the refresh queued behind the first is not lost with a
	// replaced element, and the open page shows both changes without a reload.
	b.open(path, tid("apikeys-table"))
	b.waitJS("the SSE connection of the page is open", sseOpen, waitTimeout)
	b.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__e2eNoReload = true`))
	var owner model.Actor
	if err := inst.App.Store.DB().QueryRow(`SELECT org_id, user_id FROM memberships`).Scan(&owner.OrgID, &owner.UserID); err != nil {
		t.Fatal(err)
	}
	owner.Role = model.RoleOwner
	bg := context.Background()
	var made []model.APIKey
	for _, name := range []string{"Caixa da loja", "Entregas"} {
		k, _, err := inst.App.Account.CreateScopedAPIKey(bg, owner, name, "")
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, k)
	}
	rowIs := func(k model.APIKey, status string) string {
		return fmt.Sprintf(`[...document.querySelectorAll('[data-testid="apikey-row"][data-key-id="%d"]')].some(r => r.textContent.includes(%s))`,
			k.ID, jsString(status))
	}
	b.waitJS("both new keys listed", rowIs(made[0], "Active")+" && "+rowIs(made[1], "Active"), waitTimeout)
	for _, k := range made {
		if err := inst.App.Account.RevokeAPIKey(bg, owner, k.ID); err != nil {
			t.Fatal(err)
		}
	}
	b.waitJS("both keys shown revoked", rowIs(made[0], "Revoked")+" && "+rowIs(made[1], "Revoked"), waitTimeout)
	if !eval[bool](b, `window.__e2eNoReload === true`) {
		t.Error("the page reloaded; the keys must arrive over SSE without a reload")
	}

	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	for i, l := range looks {
		b.setLook(l)
		if i == len(looks)-1 { // the phone in Portuguese
			if _, err := inst.App.Store.DB().Exec(`UPDATE users SET locale = 'pt-BR'`); err != nil {
				t.Fatal(err)
			}
		}
		b.open(path, tid("apikey-form"))
		b.do("show the areas", chromedp.Click(tid("apikey-access-areas")), chromedp.WaitVisible(tid("apikey-area-contacts")))
		if dir != "" {
			b.save(dir, "apikeys-scopes-"+l.name, l)
		}
		if w := eval[int64](b, `document.documentElement.scrollWidth`); w > l.width {
			t.Errorf("%s: the page is %d px wide on a %d px screen", l.name, w, l.width)
		}
		if k := b.keys.FindString(eval[string](b, `document.body.innerText`)); k != "" {
			t.Errorf("%s: the message key %q shows", l.name, k)
		}
	}
}
