package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

var seq atomic.Int64

// uniqueEmail gives each test its own address (tests share no database, but clarity helps).
func uniqueEmail(name string) string {
	return fmt.Sprintf("%s.%d@loja.com.br", name, seq.Add(1))
}

const strongPassword = "cafe-com-leite-42"

func TestSignupBadInput(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	taken := uniqueEmail("ana")
	c.Signup("Loja da Ana", "Ana", taken, strongPassword)

	cases := []struct {
		name            string
		email, password string
		want            string // text the page shows
	}{
		{"duplicate email", taken, strongPassword, "This email already has an account"},
		{"duplicate email, other case", "  " + strings.ToUpper(taken) + " ", strongPassword, "This email already has an account"},
		{"weak password", uniqueEmail("bia"), "123456", "Too short"},
		{"common password", uniqueEmail("bia"), "1234567890", "too easy to guess"},
		{"malformed email", "ana-at-loja", strongPassword, "Enter a valid email"},
		{"email without domain dot", "ana@loja", strongPassword, "Enter a valid email"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			other := webtest.NewClient(t, inst.URL)
			res := other.Post("/signup", url.Values{"org": {"Outra Loja"}, "name": {"Bia"}, "email": {tc.email}, "password": {tc.password}})
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", res.StatusCode)
			}
			if text := webtest.Text(res.Body); !strings.Contains(text, tc.want) {
				t.Fatalf("page does not say %q: %s", tc.want, text)
			}
			if strings.Contains(res.Body, tc.password) && tc.password != "" {
				t.Fatal("the page sends the password back")
			}
		})
	}
	var orgs int
	if err := inst.App.Store.DB().Get(&orgs, `SELECT count(*) FROM orgs`); err != nil || orgs != 1 {
		t.Fatalf("rejected sign-ups created orgs: %d orgs, %v", orgs, err)
	}
}

func TestLoginDoesNotTellWhichPartIsWrong(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	email := uniqueEmail("caio")
	webtest.NewClient(t, inst.URL).Signup("Mercado do Caio", "Caio", email, strongPassword)

	c := webtest.NewClient(t, inst.URL)
	if page := c.Get("/login"); strings.Contains(page.Body, `href="/auth/`) {
		t.Fatal("social login buttons shown while no provider is configured")
	}
	wrongPass := c.Post("/login", url.Values{"email": {email}, "password": {"not-the-password"}})
	noUser := c.Post("/login", url.Values{"email": {uniqueEmail("nobody")}, "password": {"not-the-password"}})
	for _, res := range []*webtest.Response{wrongPass, noUser} {
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d, want 422", res.StatusCode)
		}
		if !strings.Contains(webtest.Text(res.Body), "Wrong email or password") {
			t.Fatalf("missing generic error: %s", webtest.Text(res.Body))
		}
	}
	if !strings.Contains(c.Login(email, strongPassword), "/o/") {
		t.Fatal("right password does not lead to the org")
	}
}

func TestLoginLockedAfterRepeatedFailures(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	email := uniqueEmail("davi")
	webtest.NewClient(t, inst.URL).Signup("Davi Autopeças", "Davi", email, strongPassword)
	c := webtest.NewClient(t, inst.URL)
	for i := 0; i < int(inst.App.Account.MaxFailures); i++ {
		c.Post("/login", url.Values{"email": {email}, "password": {"wrong-password-x"}})
	}
	res := c.Post("/login", url.Values{"email": {email}, "password": {strongPassword}})
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d (Retry-After %q), want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
}

func TestMissingCSRFChangesNothing(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja Antiga", "Eva", uniqueEmail("eva"), strongPassword)

	for _, tc := range []struct {
		name   string
		form   url.Values
		header []string
	}{
		{"no token", url.Values{"name": {"Loja Nova"}}, nil},
		{"wrong token", url.Values{"name": {"Loja Nova"}, "_csrf": {strings.Repeat("x", 43)}}, nil},
		{"htmx without header", url.Values{"name": {"Loja Nova"}}, []string{"HX-Request", "true"}},
	} {
		res := c.PostRaw(home+"/settings", tc.form, tc.header...)
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("%s: status %d, want 403", tc.name, res.StatusCode)
		}
	}
	// The same change with the header htmx sends goes through.
	res := c.PostRaw(home+"/settings", url.Values{"name": {"Loja Nova"}}, "HX-Request", "true", "X-CSRF-Token", c.CSRF())
	if res.StatusCode >= 400 {
		t.Fatalf("with the header: status %d", res.StatusCode)
	}
	var name string
	_ = inst.App.Store.DB().Get(&name, `SELECT name FROM orgs`)
	if name != "Loja Nova" {
		t.Fatalf("org name %q after the valid request", name)
	}
	// Logout without the token is refused too: a third-party page cannot log you out.
	if res := c.PostRaw("/logout", nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("logout without token: %d", res.StatusCode)
	}
}

func TestExpiredSession(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Loja", "Fabi", uniqueEmail("fabi"), strongPassword)
	if res := c.Get(home); res.StatusCode != http.StatusOK {
		t.Fatalf("home: %d", res.StatusCode)
	}
	if _, err := inst.App.Store.DB().Exec(`UPDATE sessions SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	res := c.Get(home+"/settings", "HX-Request", "true")
	if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("HX-Redirect"), "/login") {
		t.Fatalf("htmx request: status %d, HX-Redirect %q; want 401 and a redirect to login", res.StatusCode, res.Header.Get("HX-Redirect"))
	}
	res = c.Get(home + "/settings")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login?next=") {
		t.Fatalf("page request: status %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	if page := c.Get(res.Header.Get("Location")); !strings.Contains(webtest.Text(page.Body), "session has expired") {
		t.Fatalf("login page does not say the session expired: %s", webtest.Text(page.Body))
	}
}

func TestUnknownOrgIsNotFound(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	a := webtest.NewClient(t, inst.URL)
	a.Signup("Loja A", "Gil", uniqueEmail("gil"), strongPassword)
	b := webtest.NewClient(t, inst.URL)
	other := b.Signup("Loja B", "Hugo", uniqueEmail("hugo"), strongPassword)

	for _, path := range []string{"/o/999999", "/o/abc", "/o/0/settings", other, other + "/settings", other + "/settings/members"} {
		if res := a.Get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, res.StatusCode)
		}
	}
	res := a.Post(other+"/settings", url.Values{"name": {"Hacked"}})
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("rename another org: %d", res.StatusCode)
	}
}

// TestRolesPerRoute walks the settings routes with a member of each role.
func TestRolesPerRoute(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	owner := webtest.NewClient(t, inst.URL)
	home := owner.Signup("Loja dos Papéis", "Owner", uniqueEmail("owner"), strongPassword)
	var orgName string
	_ = inst.App.Store.DB().Get(&orgName, `SELECT name FROM orgs`)

	clients := map[model.Role]*webtest.Client{model.RoleOwner: owner}
	for _, role := range []model.Role{model.RoleAdmin, model.RoleManager, model.RoleAgent} {
		email := uniqueEmail(string(role))
		if _, err := inst.App.Account.CreateUserInOrg(context.Background(), orgName, string(role), email, strongPassword, role); err != nil {
			t.Fatal(err)
		}
		c := webtest.NewClient(t, inst.URL)
		c.Login(email, strongPassword)
		clients[role] = c
	}
	routes := []struct {
		path string
		min  model.Role
	}{
		{"", model.RoleAgent},
		{"/settings/profile", model.RoleAgent},
		{"/settings/sessions", model.RoleAgent},
		{"/settings/members", model.RoleManager},
		{"/settings", model.RoleAdmin},
		{"/settings/apikeys", model.RoleAdmin},
		{"/settings/audit", model.RoleAdmin},
	}
	for _, r := range routes {
		for role, c := range clients {
			want := http.StatusOK
			if !role.AtLeast(r.min) {
				want = http.StatusForbidden
			}
			if res := c.Get(home + r.path); res.StatusCode != want {
				t.Errorf("%s as %s: status %d, want %d", home+r.path, role, res.StatusCode, want)
			}
		}
	}
	// An agent's POST to an admin form is refused and changes nothing.
	res := clients[model.RoleAgent].Post(home+"/settings", url.Values{"name": {"Renamed by agent"}})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("agent rename: %d", res.StatusCode)
	}
	if page := clients[model.RoleAgent].Get(home + "/settings"); !strings.Contains(webtest.Text(page.Body), "Not allowed") {
		t.Fatalf("403 page does not explain: %s", webtest.Text(page.Body))
	}
}

func TestAPIMe(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	c.Signup("Loja API", "Ivo", uniqueEmail("ivo"), strongPassword)
	key, err := inst.App.Account.CreateAPIKeyForOrgName(context.Background(), "Loja API", "ERP")
	if err != nil {
		t.Fatal(err)
	}
	res := c.Get("/api/v1/me", "Authorization", "Bearer "+key)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `"name":"Loja API"`) || !strings.Contains(res.Body, `"name":"ERP"`) {
		t.Fatalf("me: %d %s", res.StatusCode, res.Body)
	}
	for _, h := range []string{"", "Bearer", "Bearer mia_wrong", "Basic " + key, "Bearer " + key + "x"} {
		res := c.Get("/api/v1/me", "Authorization", h)
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(res.Body, `"code":"unauthorized"`) || res.Header.Get("Content-Type") != "application/json" {
			t.Errorf("header %q: %d %s %s", h, res.StatusCode, res.Header.Get("Content-Type"), res.Body)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	res := webtest.NewClient(t, inst.URL).Get("/login")
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self' 'nonce-", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP lacks %q: %s", want, csp)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Error("CSP allows inline code")
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("X-Frame-Options") != "DENY" {
		t.Error("missing hardening headers")
	}
	for _, ck := range res.Cookies() {
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie %s: HttpOnly %v SameSite %v", ck.Name, ck.HttpOnly, ck.SameSite)
		}
	}
	if strings.Contains(strings.ToLower(res.Body), "<script>") || strings.Contains(res.Body, " onclick=") {
		t.Error("the page has inline script")
	}
}

// TestLoginRateLimitedPerIP: one address trying many accounts is slowed down, whatever the
// emails; the answer says when to come back.
func TestLoginRateLimitedPerIP(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	c := webtest.NewClient(t, inst.URL)
	limited := 0
	for i := 0; i < 30; i++ {
		res := c.Post("/login", url.Values{"email": {uniqueEmail("guess")}, "password": {"guess-guess-guess"}})
		if res.StatusCode == http.StatusTooManyRequests {
			limited++
			if res.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
	}
	if limited == 0 {
		t.Fatal("30 logins from one address in a row were never limited")
	}
	// Reading the page is never limited.
	if res := c.Get("/login"); res.StatusCode != http.StatusOK {
		t.Fatalf("GET /login: %d", res.StatusCode)
	}
}
