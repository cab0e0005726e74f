package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"masteria/app/web/webtest"
)

var orgPathRE = regexp.MustCompile(`^/o/(\d+)$`)

// TestBrowserJourney is a new customer's first minutes: sign up, log out and in again,
// switch to Portuguese, and see a rename made in another browser arrive live.
func TestBrowserJourney(t *testing.T) {
	t.Parallel()
	needChromium(t)
	ctx := testContext(t, testTimeout)
	inst := webtest.Start(t)

	const (
		orgName  = "Padaria Pão Quente"
		newName  = "Padaria Pão Quente — Centro"
		userName = "Ana Souza"
		password = "trigo-Fermento-42-forno"
	)
	email := fmt.Sprintf("ana.%d@padaria.example", time.Now().UnixNano())

	a := newBrowser(t, ctx, "A", inst.URL)

	// Sign up: the new org's home, with the getting-started checklist.
	a.open("/signup", tid("signup-org"))
	a.do("fill the sign-up form",
		chromedp.SendKeys(tid("signup-org"), orgName),
		chromedp.SendKeys(tid("signup-name"), userName),
		chromedp.SendKeys(tid("signup-email"), email),
		chromedp.SendKeys(tid("signup-password"), password),
		chromedp.Click(tid("signup-submit")),
	)
	home := a.waitPath("land on the org home after sign-up", orgPathRE.String())
	orgID, _ := strconv.ParseInt(orgPathRE.FindStringSubmatch(home)[1], 10, 64)
	a.do("see the checklist", chromedp.WaitVisible(tid("checklist")))
	if got := a.text(tid("org-name")); got != orgName {
		t.Errorf("sidebar org name = %q, want %q", got, orgName)
	}

	// Log out through the user menu.
	a.do("log out through the user menu",
		chromedp.Click(in("user-menu", "summary")),
		chromedp.WaitVisible(tid("logout")),
		chromedp.Click(tid("logout")),
	)
	a.waitPath("land on /login after logging out", `^/login$`)
	a.do("see the login form", chromedp.WaitVisible(tid("login-email")))

	// Log in again: back on the same org.
	a.do("log in",
		chromedp.SendKeys(tid("login-email"), email),
		chromedp.SendKeys(tid("login-password"), password),
		chromedp.Click(tid("login-submit")),
	)
	if got := a.waitPath("land on the org home after login", orgPathRE.String()); got != home {
		t.Errorf("after login the browser is at %s, want %s", got, home)
	}
	a.do("see the checklist after login", chromedp.WaitVisible(tid("checklist")))

	// Switch to Portuguese in the user menu: the page comes back in pt-BR.
	a.do("pick Português (Brasil) in the user menu",
		chromedp.Click(in("user-menu", "summary")),
		chromedp.WaitVisible(in("user-menu", `[data-testid="locale-select"]`)),
		chromedp.SetValue(in("user-menu", `[data-testid="locale-select"]`), "pt-BR"),
		chromedp.Click(in("user-menu", `[data-testid="locale-submit"]`)),
	)
	a.waitJS("the page is in Portuguese", `document.documentElement.lang === "pt-BR"`, waitTimeout)
	a.do("see the home again", chromedp.WaitVisible(tid("checklist")))
	if got := a.text(`.sidebar-nav .nav-item[aria-current="page"]`); got != "Início" {
		t.Errorf("active nav label = %q, want %q", got, "Início")
	}
	if got, want := a.text(`main h1`), "Olá, Ana!"; got != want {
		t.Errorf("page heading = %q, want %q", got, want)
	}
	if got := a.text(`.topbar-title`); got != "Início" {
		t.Errorf("top bar title = %q, want %q", got, "Início")
	}

	// A keeps this page open; its live connection must be up before B renames the org,
	// and a marker on window tells whether the page reloads.
	a.waitJS("the SSE connection of the page is open", sseOpen, waitTimeout)
	a.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__e2eNoReload = true`))

	// Browser B: the same user, another device, renames the org.
	b := newBrowser(t, ctx, "B", inst.URL)
	b.open("/login", tid("login-email"))
	b.do("log in on B",
		chromedp.SendKeys(tid("login-email"), email),
		chromedp.SendKeys(tid("login-password"), password),
		chromedp.Click(tid("login-submit")),
	)
	b.waitPath("B lands on the org home", orgPathRE.String())
	settings := fmt.Sprintf("/o/%d/settings", orgID)
	b.open(settings, tid("org-name-input"))
	b.do("rename the org on B",
		chromedp.Clear(tid("org-name-input")),
		chromedp.SendKeys(tid("org-name-input"), newName),
		chromedp.Click(tid("settings-general-save")),
	)
	b.waitJS("B sees the saved name", textIs(tid("org-name"), newName)+
		` && document.querySelector('[data-testid="org-name-input"]').value === `+jsString(newName), waitTimeout)

	// A, untouched, shows the new name in its sidebar.
	a.waitJS("A's sidebar shows the new org name", textIs(tid("org-name"), newName), waitTimeout)
	if !eval[bool](a, `window.__e2eNoReload === true`) {
		t.Errorf("browser A reloaded the page; the name must arrive over SSE without a reload")
	}
	if got := a.waitPath("A stays on the home", `.`); got != home {
		t.Errorf("browser A moved to %s, want it to stay on %s", got, home)
	}

	a.noConsoleErrors()
	b.noConsoleErrors()
}
