package views_test

import (
	"bytes"
	"context"
	"encoding/json"
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
	"masteria/views/analytics"
	"masteria/views/auth"
	"masteria/views/contacts"
	"masteria/views/errors"
	"masteria/views/home"
	"masteria/views/inbox"
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

	ps := []page{
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
			Items: home.Checklist("/o/7", home.Setup{Named: true, APIKey: true}), Dash: analytics.Dash{Action: "/o/7"}}),
			[]string{"checklist", "user-menu", "logout", "org-name", "org-switcher", "locale-select", "theme-toggle", "checklist-invite_teammate-action"}},
		{"my-day", request(l), home.MyDay(home.MyDayData{UserName: "Ana Souza"}), []string{"home-mine"}},
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
		{"settings-ai-new", request(l), settings.AI(settings.AIData{Status: model.AIUntested, ChatModel: "gpt-4o-mini",
			EmbeddingModel: "text-embedding-3-small", Models: []string{"gpt-4o-mini", "text-embedding-3-small"}, Errors: map[string]string{"key": "form.error.required"}}),
			[]string{"ai-form", "ai-base-url", "ai-key", "ai-models-button", "ai-chat-model", "ai-embedding-model", "ai-budget", "ai-save", "settings-tab-ai"}},
		{"settings-ai-saved", request(l), settings.AI(settings.AIData{Saved: true, HasKey: true, BaseURL: "https://api.openai.com/v1",
			ChatModel: "my-model", EmbeddingModel: "text-embedding-3-small", Budget: 10, Spent: 0.004, Status: model.AIError,
			LastError: "the key was refused (401)", Unpriced: []string{"my-model"}, ModelsLoaded: true, Models: []string{"text-embedding-3-small"}}),
			[]string{"ai-status", "ai-spend", "ai-test", "ai-unpriced", "ai-models-count"}},
		{"org-name-partial", request(l), ui.OrgName(), []string{"org-name"}},
		{"assist-summary", agent, inbox.AssistPanel(inbox.AssistView{Action: "summary", Bullets: []string{"Quer um bolo", "<b>nada</b> prometido"}, Messages: 7}),
			[]string{"assist-result", "assist-summary", "assist-close"}},
		{"assist-suggest", agent, inbox.AssistPanel(inbox.AssistView{Action: "suggest", Text: "A taxa é 8 reais.", Previous: "Oi",
			Sources: []inbox.AssistSource{{N: 1, Title: "Entregas", Heading: "Taxas", Text: "A taxa de entrega é de 8 reais."}}}),
			[]string{"assist-result", "assist-filled", "assist-sources", "assist-source", "assist-previous", "assist-undo"}},
		{"assist-nothing", agent, inbox.AssistPanel(inbox.AssistView{Action: "suggest", NothingFound: true}), []string{"assist-nothing-found"}},
		{"assist-rewrite", agent, inbox.AssistPanel(inbox.AssistView{Action: "rewrite", Text: "Olá!"}), []string{"assist-filled"}},
		{"assist-error", request(l), inbox.AssistPanel(inbox.AssistView{Action: "rewrite", Error: "assist.error.not_configured", Settings: true}),
			[]string{"assist-error", "assist-settings-link"}},
		{"assist-error-detail", agent, inbox.AssistPanel(inbox.AssistView{Action: "summary", Error: "assist.error.provider", Detail: "the endpoint failed (500)"}),
			[]string{"assist-error", "assist-error-detail"}},
	}
	ps = append(ps, contactsPages(l)...)
	return ps
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
	for _, id := range append(required, contactsRequired...) {
		if !seen[id] {
			t.Errorf("no page has data-testid=%q", id)
		}
	}
	if len(mk.keys) > 0 {
		t.Errorf("missing i18n keys: %v", mk.keys)
	}
}

// checkForm wants a filled _csrf field in every form and a method and action on each.
// A GET form (a filter bar) has an action and no _csrf: the token must not reach URLs.
func checkForm(t *testing.T, form *html.Node) {
	t.Helper()
	if attr(form, "method") == "get" {
		if attr(form, "action") == "" {
			t.Errorf("GET form %q has no action", attr(form, "data-testid"))
		}
		walk(form, func(n *html.Node) {
			if n.Type == html.ElementNode && attr(n, "name") == "_csrf" {
				t.Errorf("GET form %q carries _csrf", attr(form, "action"))
			}
		})
		return
	}
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
	out := render(t, request(i18n.PTBR), home.Home(home.HomeData{UserName: "Ana Souza", Items: home.Checklist("/o/7", home.Setup{}), Dash: analytics.Dash{Action: "/o/7"}}))
	for _, want := range []string{
		`<html lang="pt-BR" data-theme="system" data-theme-saved>`, `action="/theme"`,
		`hx-ext="sse" sse-connect="/events?org=7"`,
		`hx-get="/o/7/partials/org-name" hx-trigger="sse:org.renamed" hx-select="#org-name > *" hx-swap="innerHTML" hx-sync="this:queue last"`,
		`<meta name="csrf-token" content="csrf-token-123">`,
		`href="/o/9"`, `href="/orgs/new"`, `action="/logout"`, `action="/locale"`,
		`data-theme-set="dark"`, `data-install-app`, `data-toast`, `0 de 7`, `data-testid="dash-filter"`,
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
		model.RoleOwner:   {"general", "members", "channels", "inbox", "quickreplies", "policy", "prices", "ai", "voice", "apikeys", "webhooks", "sessions", "audit", "profile"},
		model.RoleAdmin:   {"general", "members", "channels", "inbox", "quickreplies", "policy", "prices", "ai", "voice", "apikeys", "webhooks", "sessions", "audit", "profile"},
		model.RoleManager: {"members", "prices", "sessions", "profile"},
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
	// The same page in the dark theme, to look at both.
	dark := strings.Replace(out, `data-theme="system"`, `data-theme="dark"`, 1)
	if err := os.WriteFile(filepath.Join(dir, name+"-dark.html"), []byte(dark), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ---- contacts ----

// at is r on another page of the org.
func at(r *ui.Request, path string) *ui.Request { r.Path = path; return r }

func contactTags() []model.Tag {
	return []model.Tag{
		{ID: 1, Name: "VIP", Color: "purple", Count: 42},
		{ID: 2, Name: "Cliente", Color: "green", Count: 120},
		{ID: 3, Name: "Lead", Color: "blue", Count: 300},
		{ID: 4, Name: "Inadimplente", Color: "red", Count: 1},
		{ID: 5, Name: "Black Friday 2025", Color: "orange", Count: 0},
		{ID: 6, Name: "Indicação", Color: "teal", Count: 8},
		{ID: 7, Name: "Parceiro", Color: "yellow", Count: 3},
		{ID: 8, Name: "Evento SP", Color: "pink", Count: 15},
		{ID: 9, Name: "Antigo", Color: "gray", Count: 2},
	}
}

func contactFields() []model.ContactField {
	return []model.ContactField{
		{ID: 1, Key: "aniversario", Label: "Aniversário", Type: model.FieldDate},
		{ID: 2, Key: "plano", Label: "Plano", Type: model.FieldChoice, Choices: []string{"Básico", "Pro", "Empresa"}},
		{ID: 3, Key: "ticket_medio", Label: "Ticket médio", Type: model.FieldNumber},
		{ID: 4, Key: "cidade", Label: "Cidade", Type: model.FieldText},
	}
}

func contactRows() []contacts.Row {
	return []contacts.Row{
		{Contact: model.Contact{ID: 101, Name: "Maria Oliveira", Phone: ptr("+5511987654321"), Email: ptr("maria.oliveira@gmail.com"),
			OwnerID: ptr(int64(1)), OwnerName: ptr("Ana Souza"), TagIDs: []int64{1, 2}, CreatedAt: now.Add(-2 * time.Hour)}, PhoneDisplay: "(11) 98765-4321"},
		{Contact: model.Contact{ID: 102, Phone: ptr("+5521998887766"), OptedOut: []string{model.ChannelWhatsApp}, CreatedAt: now.Add(-3 * 24 * time.Hour)},
			PhoneDisplay: "(21) 99888-7766"},
		{Contact: model.Contact{ID: 103, Name: "João Pedro da Silva Santos Albuquerque", Phone: ptr("+5531991234567"),
			Email: ptr("joao.pedro.santos@empresa-exemplo.com.br"), OwnerID: ptr(int64(2)), OwnerName: ptr("Bruno Lima"),
			TagIDs: []int64{3, 5, 4, 99}, CreatedAt: now.Add(-20 * 24 * time.Hour)}, PhoneDisplay: "(31) 99123-4567"},
		{Contact: model.Contact{ID: 104, Name: "<script>alert(1)</script>", Email: ptr("x@exemplo.com"), OwnerID: ptr(int64(9)),
			CreatedAt: now.Add(-40 * 24 * time.Hour), OptedOut: []string{model.ChannelSMS, model.ChannelVoice}}},
		{Contact: model.Contact{ID: 105, Name: "Padaria Pão Quente", Phone: ptr("+14155550100"), TagIDs: []int64{6, 7, 8, 9},
			CreatedAt: now.Add(-90 * 24 * time.Hour)}, PhoneDisplay: "+1 415-555-0100"},
	}
}

func contactSegments() []contacts.SegmentItem {
	return []contacts.SegmentItem{
		{Segment: model.Segment{ID: 1, Name: "Clientes VIP"}, Count: 42},
		{Segment: model.Segment{ID: 2, Name: "Leads de São Paulo sem responsável"}, Count: 310},
		{Segment: model.Segment{ID: 3, Name: "Descadastrados"}, Count: 1234},
	}
}

func listData() contacts.ListData {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return contacts.ListData{
		Filter: model.ContactFilter{Query: "maria", TagIDs: []int64{1}, Owner: "me", CreatedFrom: &from},
		Sort:   model.ParseContactSort("name"), Rows: contactRows(), Total: 1234, Next: "eyJrIjoiTWFyaWEifQ", HasContacts: true,
		Tags: contactTags(), Members: members(), Segments: contactSegments(),
		SegmentName: "", SegmentError: "contacts.error.segment_name",
	}
}

func showData() contacts.ShowData {
	c := contactRows()[0].Contact
	c.Attributes = json.RawMessage(`{"aniversario":"1990-04-23","plano":"Pro","ticket_medio":1234.5,"cidade":"São Paulo"}`)
	c.OptedOut = []string{model.ChannelSMS}
	c.LastActivityAt = now.Add(-5 * time.Minute)
	ev := func(id int64, kind, data string, ago time.Duration, actor *string) model.ContactEvent {
		return model.ContactEvent{ID: id, ContactID: c.ID, Kind: kind, Data: json.RawMessage(data), ActorName: actor, CreatedAt: now.Add(-ago)}
	}
	ana, bruno := ptr("Ana Souza"), ptr("Bruno Lima")
	return contacts.ShowData{Contact: c, PhoneDisplay: "(11) 98765-4321", Tags: contactTags(), Fields: contactFields(), Older: "1767261600000000.0.40",
		Events: []model.ContactEvent{
			ev(60, "message.received", `{}`, 2*time.Minute, nil),
			ev(59, "stage_changed", `{"from_name":"Novo","to_name":"Proposta enviada"}`, 10*time.Minute, ana),
			ev(58, "stage_changed", `{"to_name":"Novo"}`, 30*time.Minute, ana),
			ev(57, "tagged", `{"tag_id":1,"tag_name":"VIP"}`, time.Hour, bruno),
			ev(56, "untagged", `{"tag_id":77,"tag_name":"Antiga"}`, 2*time.Hour, bruno),
			ev(55, "owner_changed", `{"owner_id":1,"owner_name":"Ana Souza"}`, 3*time.Hour, bruno),
			ev(54, "owner_changed", `{"owner_id":null}`, 4*time.Hour, bruno),
			ev(53, "opted_out", `{"channel":"sms"}`, 26*time.Hour, nil),
			ev(52, "opted_in", `{"channel":"whatsapp"}`, 30*time.Hour, ana),
			ev(51, "updated", `{"fields":["name","phone","attributes"]}`, 50*time.Hour, ana),
			ev(50, "updated", `{"fields":["email"]}`, 51*time.Hour, ana),
			ev(49, "updated", `{}`, 52*time.Hour, ana),
			ev(48, "import_updated", `{"import_id":3,"file_name":"Clientes Maio 2026.csv"}`, 4*24*time.Hour, ana),
			ev(47, "imported", `{"import_id":2,"file_name":"Planilha antiga.csv"}`, 6*24*time.Hour, ana),
			ev(46, "created", `{"source":"import"}`, 6*24*time.Hour, ana),
			ev(41, "created", `{}`, 30*24*time.Hour, ptr("<script>alert(1)</script>")),
		}}
}

func formData(id int64, errs map[string]string) contacts.FormData {
	d := contacts.FormData{ID: id, Members: members(), Tags: contactTags(), Fields: contactFields(), Errors: errs}
	if id > 0 {
		d.Values = contacts.FormValuesOf(showData().Contact, "(11) 98765-4321")
		d.Values.Phone, d.Values.Email = "11 9876", "maria@"
		d.Values.Attrs["plano"] = "Antigo"
	}
	return d
}

func imports() []model.ContactImport {
	return []model.ContactImport{
		{ID: 5, FileName: "Clientes Maio 2026.csv", Status: "running", Total: 12000, Processed: 4500, Imported: 4100, Updated: 300, Skipped: 20, Rejected: 80, CreatedAt: now.Add(-time.Minute)},
		{ID: 4, FileName: "Leads feira SP.csv", Status: "done", Total: 830, Processed: 830, Imported: 800, Updated: 25, Rejected: 5, CreatedAt: now.Add(-26 * time.Hour)},
		{ID: 3, FileName: "Exportação ERP (2).csv", Status: "failed", Error: "contacts.import.error.not_csv", CreatedAt: now.Add(-3 * 24 * time.Hour)},
		{ID: 2, FileName: "Lista.csv", Status: "pending", CreatedAt: now.Add(-5 * 24 * time.Hour)},
		{ID: 1, FileName: "Primeiros clientes.csv", Status: "queued", CreatedAt: now.Add(-6 * 24 * time.Hour)},
	}
}

func rejects() []model.ImportReject {
	codes := []string{"phone.too_short", "phone.not_a_number", "phone.invalid_for_country", "phone.unknown_country", "phone.empty",
		"phone.too_long", "phone.invalid", "phone.weird", "csv.bad_quote", "csv.too_many_fields", "csv.unterminated_quote", "csv.line_too_long",
		"csv.bad_opt_out", "invalid_email", "no_name_or_phone", "unknown_owner", "name_long", "bad_date:aniversario",
		"bad_number:ticket_medio", "bad_choice:plano", "bad_text:cidade", "bad_number:removido", "something_new"}
	out := make([]model.ImportReject, len(codes))
	for i, c := range codes {
		out[i] = model.ImportReject{Line: 12 + i*7, Reason: c, Raw: `"Maria";11 9876;maria@;VIP;"São Paulo, SP";ana@loja.com.br;não;1990-13-45`}
	}
	return out
}

func contactsPages(l i18n.Locale) []page {
	r := func() *ui.Request { return at(request(l), "/o/7/contacts") }
	agent := func() *ui.Request { return withRole(at(request(l), "/o/7/contacts"), model.RoleAgent) }
	list := listData()
	segment := listData()
	segment.SegmentID, segment.Filter, segment.SegmentError, segment.Next = 1, model.ContactFilter{TagIDs: []int64{1}}, "", ""
	ignored := listData()
	ignored.FilterErrors = map[string]string{"created_from": "contacts.error.date"}
	ignored.Filter = model.ContactFilter{OptedOut: model.ChannelWhatsApp}
	ignored.Sort = model.ContactSort{}
	noMatch := contacts.ListData{Filter: model.ContactFilter{Query: "zzz"}, HasContacts: true, Tags: contactTags(), Members: members()}
	minimal := contacts.ShowData{Contact: model.Contact{ID: 102, Phone: ptr("+5521998887766"), CreatedAt: now.Add(-3 * 24 * time.Hour),
		LastActivityAt: now.Add(-3 * 24 * time.Hour)}, Before: "1767261600000000.0.50"}
	running := imports()[0]
	queued := imports()[4]
	done := imports()[1]
	done.Rejected = 140
	failed := model.ContactImport{ID: 6, FileName: "Quebrado.csv", Status: "failed", Error: "store: upsert contacts: connection reset",
		Processed: 2000, Total: 5000, Imported: 1900, Updated: 12, CreatedAt: now.Add(-time.Hour)}
	failedKnown := imports()[2]
	mapping := contacts.MappingData{
		Import:    model.ContactImport{ID: 7, FileName: "Clientes Maio 2026.csv", Status: "pending", Total: 12000},
		Delimiter: ";", Encoding: "windows-1252", Fields: contactFields(), OnExisting: "skip", Error: "contacts.import.error.no_phone_or_name",
		Columns: []contacts.MappingColumn{
			{Header: "Nome completo", Target: contacts.TargetName, Samples: []string{"Maria Oliveira", "João Pedro da Silva Santos Albuquerque de Bragança", ""}},
			{Header: "Celular", Target: "", Samples: []string{"(11) 98765-4321", "21 99888-7766", "+1 415 555 0100"}},
			{Header: "E-mail", Target: contacts.TargetEmail, Samples: []string{"maria@gmail.com"}},
			{Header: "Aniversário", Target: "custom:aniversario", Samples: []string{"23/04/1990", "01/12/1985", ""}},
			{Header: "", Target: contacts.TargetIgnore},
			{Header: "Etiquetas", Target: contacts.TargetTags, Samples: []string{"VIP; Cliente", "Lead", ""}},
		},
	}
	manage := contacts.ManageData{Tags: contactTags(), Fields: contactFields(),
		Tag:   contacts.TagForm{Name: "VIP", Color: "purple", Errors: map[string]string{"name": "contacts.error.tag_taken"}},
		Field: contacts.FieldForm{Label: "Plano", Type: "choice", Errors: map[string]string{"choices": "contacts.error.field_choices"}}}
	return []page{
		{"contacts-list", r(), contacts.List(list), []string{"contacts-search", "contacts-table", "contacts-row", "contacts-load-more",
			"contacts-bulk", "contacts-new", "contacts-import", "contacts-export", "segment-save", "contacts-segments", "bulk-delete", "contacts-filters"}},
		{"contacts-list-segment", agent(), contacts.List(segment), []string{"contacts-table", "segment-link", "contacts-new"}},
		{"contacts-list-segment-manager", r(), contacts.List(segment), []string{"segment-delete"}},
		{"contacts-list-ignored", r(), contacts.List(ignored), []string{"contacts-table", "segment-save"}},
		{"contacts-list-fragment", r(), contacts.ListFragment(list), []string{"contacts-table", "contacts-count", "contacts-export"}},
		{"contacts-empty", r(), contacts.List(contacts.ListData{Members: members()}), []string{"contacts-empty", "contacts-new"}},
		{"contacts-no-match", r(), contacts.List(noMatch), []string{"contacts-no-match"}},
		{"contact-show", r(), contacts.Show(showData()), []string{"contact-page", "contact-details", "contact-timeline", "timeline-item",
			"contact-send", "contact-conversations", "contact-leads", "contact-phone-link", "contact-edit", "contact-delete", "timeline-older", "contact-field"}},
		{"contact-show-minimal", agent(), contacts.Show(minimal), []string{"contact-page", "contact-timeline", "timeline-newest"}},
		{"contact-new", r(), contacts.Form(formData(0, nil)), []string{"contact-form", "contact-name", "contact-phone", "contact-email", "contact-submit", "contact-owner"}},
		{"contact-edit-errors", r(), contacts.Form(formData(101, map[string]string{"phone": "contacts.error.phone.too_short",
			"email": "form.error.invalid_email", "attr.ticket_medio": "contacts.error.field_number", "attr.plano": "contacts.error.field_choice",
			"owner": "contacts.error.owner", "tags": "contacts.error.tag", "name": "contacts.error.name_long"})), []string{"contact-form", "contact-submit"}},
		{"contact-form-bare", agent(), contacts.Form(contacts.FormData{Errors: map[string]string{"": "contacts.error.name_or_phone"}}), []string{"contact-form"}},
		{"contacts-import", r(), contacts.ImportUpload(contacts.UploadData{Imports: imports(), Error: "contacts.import.error.not_csv"}),
			[]string{"import-form", "import-file", "import-submit", "imports-table", "import-row"}},
		{"contacts-import-first", r(), contacts.ImportUpload(contacts.UploadData{MaxMB: 50}), []string{"import-form", "imports-empty"}},
		{"contacts-import-mapping", r(), contacts.ImportMapping(mapping), []string{"import-start", "import-mapping", "import-column", "import-target", "import-mapping-error"}},
		{"contacts-import-running", r(), contacts.ImportProgress(contacts.ProgressData{Import: running}),
			[]string{"import-progress", "import-imported", "import-updated", "import-skipped", "import-rejected", "import-bar"}},
		{"contacts-import-queued", r(), contacts.ImportProgress(contacts.ProgressData{Import: queued}), []string{"import-progress", "import-bar"}},
		{"contacts-import-done", r(), contacts.ImportProgress(contacts.ProgressData{Import: done, Rejects: rejects(), Fields: contactFields()}),
			[]string{"import-report", "import-rejects", "import-reject", "import-rejects-download", "import-imported"}},
		{"contacts-import-failed", r(), contacts.ImportProgress(contacts.ProgressData{Import: failed}), []string{"import-failed"}},
		{"contacts-import-failed-known", r(), contacts.ProgressSection(contacts.ProgressData{Import: failedKnown}), []string{"import-failed"}},
		{"contacts-manage", r(), contacts.Manage(manage), []string{"tag-form", "tag-name", "tag-submit", "tags-table", "tag-row", "tag-delete",
			"field-form", "field-label", "field-type", "field-choices", "field-submit", "fields-table", "field-row", "field-delete", "tag-color-purple"}},
		{"contacts-manage-empty", r(), contacts.Manage(contacts.ManageData{}), []string{"tags-table", "fields-table"}},
	}
}

// contactsRequired are the data-testids the contacts browser tests rely on.
var contactsRequired = []string{
	"contacts-search", "contacts-table", "contacts-row", "contacts-load-more", "contacts-bulk", "contacts-new",
	"contacts-import", "contacts-export", "segment-save", "contact-form", "contact-name", "contact-phone",
	"contact-email", "contact-submit", "import-start", "import-imported", "import-updated", "import-skipped",
	"import-rejected", "import-rejects-download",
}

func TestContactsHelpers(t *testing.T) {
	for s, want := range map[string]model.ContactSort{"": {By: "created", Desc: true}, "name": {By: "name"},
		"name_desc": {By: "name", Desc: true}, "activity": {By: "activity", Desc: true}, "oldest": {By: "created"}, "bogus": {By: "created", Desc: true}} {
		if got := model.ParseContactSort(s); got != want {
			t.Errorf("ParseContactSort(%q) = %+v, want %+v", s, got, want)
		}
	}
	if got := contacts.SortValue(model.ContactSort{}); got != "newest" {
		t.Errorf("SortValue(zero) = %q", got)
	}
	fields := contactFields()
	for code, want := range map[string]string{
		"phone.too_short": "contacts.reject.phone.too_short", "phone.new_reason": "contacts.reject.phone.invalid",
		"csv.bad_quote": "contacts.reject.csv.bad_quote", "bad_date:aniversario": "contacts.reject.bad_date",
		"invalid_email": "contacts.reject.invalid_email", "what": "contacts.reject.unknown",
	} {
		if got, _ := contacts.RejectKey(code, fields); got != want {
			t.Errorf("RejectKey(%q) = %q, want %q", code, got, want)
		}
	}
	if _, args := contacts.RejectKey("bad_date:aniversario", fields); len(args) != 2 || args[1] != "Aniversário" {
		t.Errorf("bad_date args = %v", args)
	}
	// The list's links keep the whole view: filter, sort, segment and cursor.
	out := render(t, at(request(i18n.EN), "/o/7/contacts"), contacts.List(listData()))
	for _, want := range []string{
		`href="/o/7/contacts/export.csv?created_from=2026-01-01&amp;owner=me&amp;q=maria&amp;sort=name&amp;tag=1"`,
		`hx-get="/o/7/contacts?after=eyJrIjoiTWFyaWEifQ&amp;created_from=2026-01-01&amp;owner=me&amp;q=maria&amp;sort=name&amp;tag=1"`,
		`hx-trigger="sse:contact.created, sse:contact.updated, sse:contacts.deleted, sse:contacts.changed"`,
		`<input type="hidden" name="tag" value="1">`, `name="ids" value="101"`, `name="all" value="1"`, `name="action"`, `name="tag_id"`, `name="owner_id"`,
		`<input type="hidden" name="back" value="?created_from=2026-01-01&amp;owner=me&amp;q=maria&amp;sort=name&amp;tag=1">`,
		`hx-select="#contacts-rows > tr"`, `hx-select-oob="#contacts-more"`, `hx-swap="beforeend"`, `hx-push-url="true"`,
		`href="/o/7/contacts/101/conversation"`,
	} {
		if want == `href="/o/7/contacts/101/conversation"` {
			out = render(t, at(request(i18n.EN), "/o/7/contacts"), contacts.Show(showData()))
		}
		if !strings.Contains(out, want) {
			t.Errorf("contacts page lacks %s", want)
		}
	}
	// No link sends the agent to their personal WhatsApp.
	if strings.Contains(out, "wa.me") {
		t.Error("the contact page links to wa.me")
	}
	// A running import polls; a finished one does not.
	if out := render(t, request(i18n.EN), contacts.ProgressSection(contacts.ProgressData{Import: imports()[0]})); !strings.Contains(out, `hx-trigger="sse:import.progress"`) ||
		!strings.Contains(out, `hx-trigger="load delay:2s"`) {
		t.Error("running import does not reload itself")
	}
	if out := render(t, request(i18n.EN), contacts.ProgressSection(contacts.ProgressData{Import: imports()[1]})); strings.Contains(out, "hx-trigger") {
		t.Error("finished import still reloads")
	}
	// Dates and numbers of custom fields are written the reader's way.
	if out := render(t, request(i18n.PTBR), contacts.Show(showData())); !strings.Contains(out, "23/04/1990") || !strings.Contains(out, "1.234,5") {
		t.Error("custom values not in Brazilian format")
	}
}

// TestContactsKeys checks every i18n key written in views/contacts, including the ones of
// branches no sample page reaches, in both catalogs (a counted key needs .one and .other).
func TestContactsKeys(t *testing.T) {
	cats := map[string]map[string]string{}
	for _, l := range i18n.Supported() {
		b, err := os.ReadFile(filepath.Join("..", "app", "i18n", string(l)+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		cats[string(l)] = m
	}
	files, _ := filepath.Glob(filepath.Join("contacts", "*"))
	keyRE := regexp.MustCompile(`"((?:contacts|common|audit|form|empty)\.[a-z0-9_.]*[a-z0-9])"`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_templ.go") || !(strings.HasSuffix(f, ".go") || strings.HasSuffix(f, ".templ")) {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRE.FindAllStringSubmatch(string(src), -1) {
			key := m[1]
			n++
			for l, c := range cats {
				_, one := c[key+".one"]
				_, other := c[key+".other"]
				if _, ok := c[key]; !ok && !(one && other) {
					t.Errorf("%s: key %q missing in %s.json", f, key, l)
				}
			}
		}
	}
	if n < 200 {
		t.Errorf("only %d keys found: is the pattern right?", n)
	}
}
