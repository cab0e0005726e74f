package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

// look is one way to view a page: a viewport and a theme.
type look struct {
	name          string
	width, height int64
	theme         string // light or dark, saved as the theme buttons do
	phone         bool
}

var looks = []look{
	{name: "light", width: 1280, height: 900, theme: "light"},
	{name: "dark", width: 1280, height: 900, theme: "dark"},
	{name: "phone", width: 390, height: 844, theme: "light", phone: true},
}

// TestScreenshots writes PNGs of the main pages, each in the light and the dark theme on
// a desktop and in the light theme on a phone, into the folder MASTERIA_SCREENSHOTS names.
// The pictures are for people to look at; the test fails only when a page cannot be
// shown. What it can tell without looking (a page wider than the phone, a message key or
// an internal name on the page) it logs with the word PROBLEM.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	if dir == "" {
		t.Skip("set MASTERIA_SCREENSHOTS to a folder to write screenshots of the main pages")
	}
	needChromium(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// About 40 pictures: more time than a test that only checks.
	ctx := testContext(t, 4*testTimeout)
	inst := webtest.Start(t)
	b := newBrowser(t, ctx, "shots", inst.URL)
	b.keys = i18nKeys(t)

	// shoot opens path in each look, waits for ready, runs prepare (may be nil) and saves
	// name-<look>.png.
	shoot := func(name, path string, ready chromedp.CSS, prepare func(l look)) {
		t.Helper()
		for _, l := range looks {
			b.setLook(l)
			b.open(path, ready)
			if prepare != nil {
				prepare(l)
			}
			b.save(dir, name+"-"+l.name, l)
		}
	}

	b.open("/login", tid("login-form")) // an origin for localStorage
	shoot("login", "/login", tid("login-form"), nil)
	shoot("signup", "/signup", tid("signup-form"), nil)

	// An account to see the org pages with.
	const password = "trigo-Fermento-42-forno"
	b.setLook(looks[0])
	b.open("/signup", tid("signup-org"))
	b.do("sign up",
		chromedp.SendKeys(tid("signup-org"), "Padaria Pão Quente"),
		chromedp.SendKeys(tid("signup-name"), "Ana Souza"),
		// A long address, as real ones are: the pages must keep it inside its box.
		chromedp.SendKeys(tid("signup-email"), "ana.souza.financeiro@padariapaoquente.com.br"),
		chromedp.SendKeys(tid("signup-password"), password),
		chromedp.Click(tid("signup-submit")),
	)
	org := b.waitPath("land on the org home", orgPathRE.String())
	b.do("see the checklist", chromedp.WaitVisible(tid("checklist")))

	// A pending invite, so the members page shows both tables.
	b.open(org+"/settings/members", tid("invite-form"))
	b.do("invite a teammate",
		chromedp.SendKeys(tid("invite-email"), "bruno@padaria.example"),
		chromedp.Click(tid("invite-submit")),
		chromedp.WaitVisible(tid("invite-created")),
	)

	shoot("home", org, tid("checklist"), nil)
	shoot("settings-general", org+"/settings", tid("settings-general-form"), nil)
	shoot("members", org+"/settings/members", tid("members-table"), nil)
	shoot("apikeys", org+"/settings/apikeys", tid("apikey-form"), func(l look) {
		b.do("create an API key",
			chromedp.SendKeys(tid("apikey-name"), "Zapier "+l.name),
			chromedp.Click(tid("apikey-submit")),
			chromedp.WaitVisible(tid("apikey-created")),
		)
	})
	// The contact book, with the demo contacts `masteria dev` seeds.
	var orgID, userID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	_ = inst.App.Store.DB().Get(&userID, `SELECT id FROM users`)
	if err := inst.App.CRM.SeedDemo(ctx, model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner}); err != nil {
		t.Fatal(err)
	}
	var contactID int64
	_ = inst.App.Store.DB().Get(&contactID, `SELECT id FROM contacts WHERE name = 'Ana Paula Ferreira'`)
	shoot("contacts", org+"/contacts", tid("contacts-table"), nil)
	shoot("contact", fmt.Sprintf("%s/contacts/%d", org, contactID), tid("contact-timeline"), nil)
	shoot("contact-form", fmt.Sprintf("%s/contacts/%d/edit", org, contactID), tid("contact-form"), nil)
	shoot("contacts-import", org+"/contacts/import", tid("import-form"), nil)
	shoot("contacts-manage", org+"/contacts/manage", tid("tags-table"), nil)
	shoot("sessions", org+"/settings/sessions", tid("sessions-table"), nil)
	shoot("audit", org+"/settings/audit", tid("audit-table"), nil)
	shoot("profile", org+"/settings/profile", tid("profile-form"), nil)

	// The menus, open.
	for _, l := range looks[:2] {
		b.setLook(l)
		b.open(org, tid("checklist"))
		b.do("open the user menu", chromedp.Click(in("user-menu", "summary")), chromedp.WaitVisible(tid("logout")))
		b.save(dir, "usermenu-"+l.name, l)
		b.open(org, tid("checklist"))
		b.do("open the org switcher", chromedp.Click(in("org-switcher", "summary")), chromedp.WaitVisible(tid("org-create")))
		b.save(dir, "orgswitcher-"+l.name, l)
	}
	phone := looks[2]
	b.setLook(phone)
	b.open(org, tid("checklist"))
	b.do("open the menu drawer", chromedp.Click(`.topbar-menu`), chromedp.WaitVisible(tid("user-menu")))
	b.save(dir, "drawer-phone", phone)

	// Portuguese is longer than English: the pages that have the most text.
	b.open(org+"/settings/profile", tid("profile-form"))
	b.do("switch to Portuguese",
		chromedp.SetValue(tid("profile-locale"), "pt-BR"),
		chromedp.Click(tid("profile-save")),
	)
	b.waitJS("the page is in Portuguese", `document.documentElement.lang === "pt-BR"`, waitTimeout)
	shoot("home-ptbr", org, tid("checklist"), nil)
	shoot("members-ptbr", org+"/settings/members", tid("members-table"), nil)
	b.setLook(looks[0])
	b.open(org, tid("checklist"))
	b.do("open the user menu", chromedp.Click(in("user-menu", "summary")), chromedp.WaitVisible(tid("logout")))
	b.save(dir, "usermenu-ptbr-light", looks[0])

	b.noConsoleErrors()
}

// viewport sizes the tab like the screen of the look, height pixels tall.
func (l look) viewport(height int64) chromedp.Action[chromedp.Void] {
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if l.phone {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	return chromedp.EmulateViewport(l.width, height, opts...)
}

// setLook sizes the viewport and saves the theme for the next page load.
func (b *browser) setLook(l look) {
	b.t.Helper()
	b.do("set the look "+l.name,
		l.viewport(l.height),
		// Public pages read the theme from the device; a logged-in page from the account,
		// which the theme buttons save with a POST like this one.
		chromedp.Evaluate[chromedp.Void](`(function (t) {
			localStorage.setItem("theme", t);
			var m = document.querySelector("meta[name=csrf-token]");
			if (!document.documentElement.hasAttribute("data-theme-saved") || !m) return;
			var x = new XMLHttpRequest();
			x.open("POST", "/theme", false);
			x.setRequestHeader("Content-Type", "application/x-www-form-urlencoded");
			x.setRequestHeader("X-CSRF-Token", m.content);
			x.setRequestHeader("HX-Request", "true");
			x.send("theme=" + encodeURIComponent(t));
		})(`+jsString(l.theme)+`)`),
	)
}

// i18nKeys matches a message key of the English catalog standing alone in a text, to
// spot a message shown untranslated.
func i18nKeys(t *testing.T) *regexp.Regexp {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "i18n", "en.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cat map[string]any
	if err := json.Unmarshal(raw, &cat); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range cat {
		keys = append(keys, regexp.QuoteMeta(k))
	}
	return regexp.MustCompile(`(?:^|[^\w.@-])(?:` + strings.Join(keys, "|") + `)(?:$|[^\w.@-])`)
}

// rawID is an internal dotted name in brackets, as a fallback text shows it: "(org.created)".
var rawID = regexp.MustCompile(`\([a-z_]+(\.[a-z_]+)+\)`)

// settled is a JavaScript promise that the page's finite animations and transitions
// (a drawer sliding in, a toast) have ended. Animations of hidden elements (the menu of a
// closed <details>) do not run, so they are left out.
const settled = `Promise.all(document.getAnimations()
	.filter(a => a.playState === "running" && a.effect && a.effect.getComputedTiming().iterations !== Infinity &&
		!(a.effect.target instanceof Element && !a.effect.target.checkVisibility()))
	.map(a => a.finished.catch(() => null))).then(() => true)`

// save waits until the page has its theme, its fonts and no running animation, and
// writes a PNG of the whole page. A page taller than the screen is taken with a screen as
// tall as the page, as a full-page capture does, so parts sized to the screen (the
// sidebar) stretch with it. It logs what it can tell is wrong without looking: a page
// wider than the screen, and message keys shown instead of their text.
func (b *browser) save(dir, name string, l look) {
	b.t.Helper()
	b.waitJS("the page shows the "+l.theme+" theme", `document.documentElement.dataset.theme === `+jsString(l.theme), waitTimeout)
	eval[bool](b, `document.fonts.ready.then(() => true)`)
	eval[bool](b, settled)
	if w := eval[int64](b, `document.documentElement.scrollWidth`); w > l.width {
		b.t.Logf("PROBLEM %s: the page is %dpx wide on a %dpx screen", name, w, l.width)
	}
	// Code (a metric's key on the definitions page, an API path) is meant to show as it is.
	text := eval[string](b, `(() => {
		const code = [...document.querySelectorAll("code")].map(e => [e, e.style.display]);
		code.forEach(([e]) => { e.style.display = "none" });
		const text = document.body.innerText;
		code.forEach(([e, d]) => { e.style.display = d });
		return text;
	})()`)
	if ids := rawID.FindAllString(text, -1); len(ids) > 0 {
		b.t.Logf("PROBLEM %s: internal names show: %s", name, strings.Join(ids, " "))
	} else if k := b.keys.FindString(text); k != "" {
		b.t.Logf("PROBLEM %s: the message key %q shows instead of its text", name, strings.TrimSpace(k))
	}
	height := max(l.height, eval[int64](b, `Math.ceil(Math.max(document.documentElement.scrollHeight, document.body.scrollHeight))`))
	b.do("stretch the screen to the page", l.viewport(height))
	// Let the page lay out at the new size before the capture.
	eval[bool](b, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`)
	eval[bool](b, settled)
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	b.do("restore the screen", l.viewport(l.height))
	file := filepath.Join(dir, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("wrote %s", file)
}
