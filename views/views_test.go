package views_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/a-h/templ"
	"golang.org/x/net/html"

	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/static"
	"masteria/views/auth"
	"masteria/views/errors"
	"masteria/views/home"
	"masteria/views/settings"
	"masteria/views/ui"
)

var now = time.Date(2026, 5, 10, 14, 30, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// request is a logged-in owner on a settings page of org 7.
func request(l i18n.Locale) *ui.Request {
	return &ui.Request{
		Locale: l,
		CSRF:   "csrf-token-123",
		Path:   "/o/7/settings/members",
		Theme:  "system",
		User:   &model.User{ID: 1, Email: "ana@loja.com.br", Name: "Ana Souza"},
		Org:    &model.Org{ID: 7, Name: "Loja da Ana"},
		Role:   model.RoleOwner,
		Orgs: []model.Membership{
			{OrgID: 7, OrgName: "Loja da Ana", Role: model.RoleOwner},
			{OrgID: 9, OrgName: "Padaria Pão Quente", Role: model.RoleAgent},
		},
		OAuthProviders: []string{"google", "facebook"},
		Toasts:         []ui.Toast{{Kind: "success", Message: "Saved."}},
	}
}

// public is a visitor who is not logged in.
func public(l i18n.Locale) *ui.Request {
	return &ui.Request{Locale: l, CSRF: "csrf-token-123", Path: "/login", OAuthProviders: []string{"google", "facebook"}}
}

func withRole(r *ui.Request, role model.Role) *ui.Request { r.Role = role; return r }

func members() []model.Membership {
	return []model.Membership{
		{OrgID: 7, UserID: 1, UserName: "Ana Souza", UserEmail: "ana@loja.com.br", Role: model.RoleOwner, CreatedAt: now.Add(-90 * 24 * time.Hour)},
		{OrgID: 7, UserID: 2, UserName: "Bruno Lima", UserEmail: "bruno@loja.com.br", Role: model.RoleAdmin, CreatedAt: now.Add(-30 * 24 * time.Hour)},
		{OrgID: 7, UserID: 3, UserName: "<script>alert(1)</script>", UserEmail: "carla@loja.com.br", Role: model.RoleAgent, CreatedAt: now.Add(-2 * time.Hour)},
	}
}

func membersData(me model.Role, newLink bool) settings.MembersData {
	d := settings.MembersData{
		Members:   settings.NewMemberRows(members(), 1, me),
		Grantable: settings.GrantableRoles(me),
		Invites: []model.Invite{
			{ID: 4, Email: ptr("dani@loja.com.br"), Role: model.RoleManager, ExpiresAt: now.Add(6 * 24 * time.Hour)},
			{ID: 5, Role: model.RoleAgent, ExpiresAt: now.Add(-time.Hour)},
		},
		Invite: settings.InviteForm{Email: "x@", Errors: map[string]string{"email": "form.error.invalid_email"}},
	}
	if newLink {
		d.NewInviteURL = "https://app.masteria.com.br/invite/abc123"
		d.InviteDays = 7
		d.Invite = settings.InviteForm{}
	}
	return d
}

type page struct {
	name    string
	req     *ui.Request
	c       templ.Component
	testids []string
}

func pages(l i18n.Locale) []page {
	inv := auth.InvitePage{Token: "tok en/1", OrgName: "Loja da Ana", Role: model.RoleAgent, InviterName: "Ana Souza", Valid: true}
	invLoggedOut := inv
	invLoggedOut.Form = auth.SignupForm{Name: "Dani", Errors: map[string]string{"password": "signup.error.password_short"}}
	invWrong := inv
	invWrong.Email, invWrong.WrongEmail, invWrong.InviterName = "dani@loja.com.br", true, ""
	agent := withRole(request(l), model.RoleAgent)
	agent.Path = "/o/7/settings/profile"

	return []page{
		{"login", public(l), auth.Login(auth.LoginForm{Email: "ana@loja.com.br", Next: "/o/7", Error: "login.error.invalid"}),
			[]string{"login-form", "login-email", "login-password", "login-submit", "locale-select", "oauth-google", "oauth-facebook"}},
		{"login-throttled", public(l), auth.Login(auth.LoginForm{RetryAfter: 3}), []string{"login-form"}},
		{"login-oauth-error", public(l), auth.Login(auth.LoginForm{Error: "login.error.oauth_failed", Provider: "google"}), []string{"login-form"}},
		{"signup", public(l), auth.Signup(auth.SignupForm{Org: "Loja", Name: "Ana", Email: "ana@", Errors: map[string]string{
			"email": "signup.error.invalid_email", "password": "signup.error.password_common"}}),
			[]string{"signup-form", "signup-org", "signup-name", "signup-email", "signup-password", "signup-submit", "locale-select"}},
		{"invite-visitor", public(l), auth.InviteAccept(invLoggedOut), []string{"invite-signup-form", "invite-join", "invite-login"}},
		{"invite-member", request(l), auth.InviteAccept(inv), []string{"invite-accept-form", "invite-join"}},
		{"invite-wrong-email", request(l), auth.InviteAccept(invWrong), nil},
		{"invite-invalid", public(l), auth.InviteAccept(auth.InvitePage{Token: "x"}), []string{"invite-invalid"}},
		{"org-new", request(l), auth.OrgNew(auth.OrgForm{Name: "", Error: "form.error.required"}), []string{"org-new-form", "org-new-name"}},
		{"not-found", request(l), errors.NotFound(), []string{"error-404"}},
		{"forbidden", request(l), errors.Forbidden(), []string{"error-403"}},
		{"server-error", public(l), errors.ServerError(), []string{"error-500"}},
		{"offline", &ui.Request{Locale: l}, errors.Offline(), []string{"offline"}},
		{"home", request(l), home.Home(home.HomeData{UserName: "Ana Souza", Org: model.Org{ID: 7, Name: "Loja da Ana"},
			Items: home.Checklist("/o/7", true, false, true, false)}),
			[]string{"checklist", "user-menu", "logout", "org-name", "org-switcher", "locale-select", "theme-toggle", "checklist-invite_teammate-action"}},
		{"settings-general", request(l), settings.General(settings.GeneralData{Name: "Loja da Ana"}),
			[]string{"settings-general-form", "org-name-input", "settings-tab-general", "settings-tab-audit"}},
		{"settings-general-error", request(l), settings.General(settings.GeneralData{Name: "", Error: "form.error.required"}), nil},
		{"settings-members", request(l), settings.Members(membersData(model.RoleOwner, false)),
			[]string{"members-table", "invite-form", "member-role-select", "member-remove", "invite-revoke", "invites-table"}},
		{"settings-members-link", request(l), settings.Members(membersData(model.RoleOwner, true)), []string{"invite-link", "invite-form"}},
		{"settings-members-manager", withRole(request(l), model.RoleManager), settings.Members(membersData(model.RoleManager, false)), []string{"members-table"}},
		{"settings-apikeys", request(l), settings.APIKeys(settings.APIKeysData{
			NewKey: "mia_3f9a2b7c_Jx8kQ2mN5pR7sT9vW1yZ", NewKeyName: "Site",
			Keys: []model.APIKey{
				{ID: 1, Name: "Site", Prefix: "mia_3f9a2b7c", CreatedAt: now.Add(-time.Minute)},
				{ID: 2, Name: "ERP", Prefix: "mia_0c1d2e3f", CreatedAt: now.Add(-40 * 24 * time.Hour), LastUsedAt: ptr(now.Add(-3 * time.Hour))},
				{ID: 3, Name: "Old", Prefix: "mia_99aa88bb", CreatedAt: now.Add(-80 * 24 * time.Hour), RevokedAt: ptr(now.Add(-24 * time.Hour))},
			}}), []string{"apikeys-table", "apikey-form", "apikey-secret", "apikey-revoke"}},
		{"settings-apikeys-empty", request(l), settings.APIKeys(settings.APIKeysData{Error: "form.error.required"}), []string{"apikeys-table", "apikey-form"}},
		{"settings-sessions", request(l), settings.Sessions(settings.SessionsData{CurrentID: 10, Sessions: []model.Session{
			{ID: 10, IP: "177.10.20.30", UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36", CreatedAt: now.Add(-48 * time.Hour), LastSeenAt: now},
			{ID: 11, IP: "189.5.6.7", UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", CreatedAt: now.Add(-9 * 24 * time.Hour), LastSeenAt: now.Add(-5 * time.Hour)},
			{ID: 12, IP: "2804:14c::1", UserAgent: "", CreatedAt: now.Add(-3 * 24 * time.Hour), LastSeenAt: now.Add(-2 * 24 * time.Hour)},
		}}), []string{"sessions-table", "logout-everywhere", "this-device", "session-revoke"}},
		{"settings-audit", request(l), settings.Audit(settings.AuditData{OlderID: 40, Entries: []model.AuditEntry{
			{ID: 45, UserName: ptr("Ana Souza"), Action: "member.invited", Target: "dani@loja.com.br", IP: "177.10.20.30", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0", CreatedAt: now.Add(-2 * time.Minute)},
			{ID: 44, UserName: ptr("Bruno Lima"), Action: "apikey.created", Target: "Site", IP: "189.5.6.7", CreatedAt: now.Add(-26 * time.Hour)},
			{ID: 41, Action: "sessions.revoked_all", IP: "10.0.0.1", CreatedAt: now.Add(-10 * 24 * time.Hour)},
			{ID: 40, UserName: ptr("Ana Souza"), Action: "something.new", IP: "10.0.0.2", CreatedAt: now.Add(-11 * 24 * time.Hour)},
		}}), []string{"audit-table", "audit-older"}},
		{"settings-audit-empty", request(l), settings.Audit(settings.AuditData{Before: 3}), []string{"audit-table"}},
		{"settings-profile", agent, settings.Profile(settings.ProfileData{Name: "Ana Souza", Email: "ana@loja.com.br", Locale: l, Theme: "dark"}),
			[]string{"profile-form", "profile-locale", "profile-theme-dark", "settings-tab-profile", "settings-tab-sessions"}},
		{"org-name-partial", request(l), ui.OrgName(), []string{"org-name"}},
	}
}

// The data-testids the browser tests rely on; each must be on some page.
var required = []string{
	"login-form", "signup-form", "login-email", "login-password", "login-submit",
	"signup-org", "signup-name", "signup-email", "signup-password", "signup-submit",
	"user-menu", "logout", "org-name", "org-switcher", "locale-select", "settings-general-form",
	"org-name-input", "members-table", "invite-form", "invite-link", "apikeys-table", "apikey-form",
	"apikey-secret", "sessions-table", "logout-everywhere", "audit-table", "checklist", "theme-toggle",
}

// missingKeys records the i18n package's warnings about keys it could not find.
type missingKeys struct {
	mu   sync.Mutex
	keys []string
}

func (m *missingKeys) Enabled(context.Context, slog.Level) bool { return true }
func (m *missingKeys) WithAttrs([]slog.Attr) slog.Handler       { return m }
func (m *missingKeys) WithGroup(string) slog.Handler            { return m }
func (m *missingKeys) Handle(_ context.Context, r slog.Record) error {
	if !strings.Contains(r.Message, "missing key") {
		return nil
	}
	var key, loc string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "key":
			key = a.Value.String()
		case "locale":
			loc = a.Value.String()
		}
		return true
	})
	// An unknown audit action is looked up on purpose, then shown as "Other action".
	if key == "audit.action.something.new" {
		return nil
	}
	m.mu.Lock()
	m.keys = append(m.keys, loc+": "+key)
	m.mu.Unlock()
	return nil
}

func render(t *testing.T, r *ui.Request, c templ.Component) string {
	t.Helper()
	ui.Now = func() time.Time { return now }
	var b bytes.Buffer
	if err := c.Render(ui.With(context.Background(), r), &b); err != nil {
		t.Fatalf("render: %v", err)
	}
	return b.String()
}

// A key left untranslated renders as itself: lower-case words joined by dots.
var keyLike = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)

// Attributes people read (or hear); the others hold URLs, ids and event names.
var readAttrs = map[string]bool{"title": true, "aria-label": true, "placeholder": true, "alt": true,
	"hx-confirm": true, "data-confirm": true, "data-label": true, "data-copied-text": true, "data-close-label": true}

func TestPages(t *testing.T) {
	mk := &missingKeys{}
	old := slog.Default()
	slog.SetDefault(slog.New(mk))
	t.Cleanup(func() { slog.SetDefault(old) })

	seen := map[string]bool{}
	for _, l := range i18n.Supported() {
		for _, p := range pages(l) {
			t.Run(string(l)+"/"+p.name, func(t *testing.T) {
				out := render(t, p.req, p.c)
				writeForLooking(t, string(l)+"-"+p.name, out)
				doc, err := html.Parse(strings.NewReader(out))
				if err != nil {
					t.Fatal(err)
				}
				ids := map[string]bool{}
				walk(doc, func(n *html.Node) {
					switch n.Type {
					case html.TextNode:
						if s := strings.TrimSpace(n.Data); keyLike.MatchString(s) && n.Parent.Data != "script" {
							t.Errorf("untranslated text %q", s)
						}
					case html.ElementNode:
						for _, a := range n.Attr {
							if readAttrs[a.Key] && keyLike.MatchString(strings.TrimSpace(a.Val)) {
								t.Errorf("untranslated %s=%q on <%s>", a.Key, a.Val, n.Data)
							}
							if a.Key == "data-testid" {
								ids[a.Val] = true
								seen[a.Val] = true
							}
							if a.Key == "id" && ids["#"+a.Val] {
								t.Errorf("id %q used twice", a.Val)
							}
							if a.Key == "id" {
								ids["#"+a.Val] = true
							}
						}
						if n.Data == "form" {
							checkForm(t, n)
						}
					}
				})
				for _, id := range p.testids {
					if !ids[id] {
						t.Errorf("no data-testid=%q", id)
					}
				}
				if strings.Contains(out, "<script>alert(1)</script>") {
					t.Error("user text rendered unescaped")
				}
			})
		}
	}
	for _, id := range required {
		if !seen[id] {
			t.Errorf("no page has data-testid=%q", id)
		}
	}
	if len(mk.keys) > 0 {
		t.Errorf("missing i18n keys: %v", mk.keys)
	}
}

// checkForm wants a filled _csrf field in every form and a method and action on each.
func checkForm(t *testing.T, form *html.Node) {
	t.Helper()
	if attr(form, "method") != "post" || attr(form, "action") == "" {
		t.Errorf("form %q: want method=post and an action", attr(form, "data-testid")+attr(form, "action"))
	}
	ok := false
	walk(form, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "name") == "_csrf" && attr(n, "type") == "hidden" && attr(n, "value") != "" {
			ok = true
		}
	})
	if !ok {
		t.Errorf("form %q has no _csrf field", attr(form, "action"))
	}
}

func TestShell(t *testing.T) {
	out := render(t, request(i18n.PTBR), home.Home(home.HomeData{UserName: "Ana Souza", Items: home.Checklist("/o/7", false, false, false, false)}))
	for _, want := range []string{
		`<html lang="pt-BR" data-theme="system" data-theme-saved>`, `action="/theme"`,
		`hx-ext="sse" sse-connect="/events?org=7"`,
		`hx-get="/o/7/partials/org-name" hx-trigger="sse:org.renamed" hx-swap="outerHTML"`,
		`<meta name="csrf-token" content="csrf-token-123">`,
		`href="/o/9"`, `href="/orgs/new"`, `action="/logout"`, `action="/locale"`,
		`data-theme-set="dark"`, `data-install-app`, `data-toast`, `0 de 4`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("home page lacks %s", want)
		}
	}
	// Public pages do not open the event stream.
	if out := render(t, public(i18n.EN), auth.Login(auth.LoginForm{})); strings.Contains(out, "sse-connect") || strings.Contains(out, `hx-ext="sse"`) {
		t.Error("login page connects to /events")
	}
	// Without OAuth providers there are no provider buttons.
	r := public(i18n.EN)
	r.OAuthProviders = nil
	if out := render(t, r, auth.Login(auth.LoginForm{})); strings.Contains(out, "/auth/google") {
		t.Error("Google button without the provider")
	}
}

func TestSettingsTabsByRole(t *testing.T) {
	for role, want := range map[model.Role][]string{
		model.RoleOwner:   {"general", "members", "apikeys", "sessions", "audit", "profile"},
		model.RoleAdmin:   {"general", "members", "apikeys", "sessions", "audit", "profile"},
		model.RoleManager: {"members", "sessions", "profile"},
		model.RoleAgent:   {"sessions", "profile"},
	} {
		out := render(t, withRole(request(i18n.EN), role), settings.Profile(settings.ProfileData{}))
		got := regexp.MustCompile(`data-testid="settings-tab-(\w+)"`).FindAllStringSubmatch(out, -1)
		var names []string
		for _, m := range got {
			names = append(names, m[1])
		}
		if strings.Join(names, ",") != strings.Join(want, ",") {
			t.Errorf("%s sees tabs %v, want %v", role, names, want)
		}
	}
}

func TestMemberRows(t *testing.T) {
	ms := members()
	rows := settings.NewMemberRows(ms, 2, model.RoleAdmin)
	if rows[0].CanEdit || !rows[0].LastOwner {
		t.Error("an admin may not touch the only owner")
	}
	if !rows[1].You || !rows[2].CanEdit {
		t.Errorf("rows = %+v", rows)
	}
	ms = append(ms, model.Membership{UserID: 4, Role: model.RoleOwner})
	rows = settings.NewMemberRows(ms, 1, model.RoleOwner)
	if !rows[0].CanEdit || rows[0].LastOwner {
		t.Error("with two owners, an owner may be removed")
	}
	if rows := settings.NewMemberRows(ms, 1, model.RoleManager); rows[2].CanEdit {
		t.Error("a manager may not manage members")
	}
	if got := settings.GrantableRoles(model.RoleAdmin); len(got) != 3 || got[0] != model.RoleAdmin {
		t.Errorf("admin grants %v", got)
	}
}

func TestBrowser(t *testing.T) {
	ctx := ui.With(context.Background(), &ui.Request{Locale: i18n.PTBR})
	for ua, want := range map[string]string{
		"Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36":    "Chrome no Android",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15":    "Safari no macOS",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0": "Edge no Windows",
		"": "Navegador desconhecido",
	} {
		if got := settings.Browser(ctx, ua); got != want {
			t.Errorf("Browser(%q) = %q, want %q", ua, got, want)
		}
	}
}

func TestInitials(t *testing.T) {
	for in, want := range map[string]string{"Ana Souza": "AS", "joão da silva": "JS", "bruno@x.com": "B", "": "?", "Élida": "É"} {
		if got := ui.Initials(in); got != want {
			t.Errorf("Initials(%q) = %q, want %q", in, got, want)
		}
	}
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

var assetsOnce sync.Once

// writeForLooking saves the page when VIEWS_HTML_DIR is set, with the static files
// beside it under their hashed names, so a browser can show it from a plain file server:
//
//	VIEWS_HTML_DIR=/tmp/pages go test ./views/ && python3 -m http.server -d /tmp/pages
func writeForLooking(t *testing.T, name, out string) {
	dir := os.Getenv("VIEWS_HTML_DIR")
	if dir == "" {
		return
	}
	assetsOnce.Do(func() {
		h := static.Handler()
		for _, n := range static.Names() {
			u := static.Path(n)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
			if rec.Code != http.StatusOK {
				continue
			}
			body, _ := io.ReadAll(rec.Body)
			p := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(u, "/")))
			_ = os.MkdirAll(filepath.Dir(p), 0o755)
			_ = os.WriteFile(p, body, 0o644)
		}
	})
	if err := os.WriteFile(filepath.Join(dir, name+".html"), []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}
