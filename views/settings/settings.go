// Package settings renders the org settings: general, members and invites, API keys,
// sessions, audit log and the user's profile.
package settings

import (
	"context"
	"strconv"
	"strings"

	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/views/ui"
)

// GeneralData is GET/POST /o/{org}/settings.
type GeneralData struct {
	Name  string // the org name, or what was typed when it failed
	Error string // i18n key under the field
	// Country reads phone numbers typed without a country code (model.Countries).
	Country      string
	CountryError string
	// TimeZone is the zone campaigns are scheduled in (model.TimeZones); TimeZoneError is
	// an i18n key under its field.
	TimeZone      string
	TimeZoneError string
}

// MembersData is GET /o/{org}/settings/members and the answers of its forms.
type MembersData struct {
	Members []MemberRow // build them with NewMemberRows
	Invites []model.Invite
	// Grantable are the roles the current member may give (model.Role.CanGrant);
	// empty hides the invite form and the role selects.
	Grantable []model.Role
	Invite    InviteForm
	// NewInviteURL is the full link of the invite just created: the token exists only
	// now, so the page shows it once with a copy button.
	NewInviteURL string
	InviteDays   int // how long the new link lasts, for "This link expires in {days} days"
}

// MemberRow is one member as the current member sees them.
type MemberRow struct {
	model.Membership
	You       bool // the current user
	CanEdit   bool // the current member may change this member's role and remove them
	LastOwner bool // the only owner: cannot be removed or demoted
}

// InviteForm is the invite form's values and errors.
type InviteForm struct {
	Email  string
	Role   model.Role
	Errors map[string]string // email, role → i18n key
}

// NewMemberRows works out what the member meID with role me may do to each member:
// admins and owners manage roles they may grant, and the last owner always stays.
func NewMemberRows(ms []model.Membership, meID int64, me model.Role) []MemberRow {
	owners := 0
	for _, m := range ms {
		if m.Role == model.RoleOwner {
			owners++
		}
	}
	rows := make([]MemberRow, len(ms))
	for i, m := range ms {
		last := m.Role == model.RoleOwner && owners == 1
		rows[i] = MemberRow{
			Membership: m,
			You:        m.UserID == meID,
			CanEdit:    me.CanGrant(m.Role) && !last,
			LastOwner:  last,
		}
	}
	return rows
}

// GrantableRoles lists the roles a member with role me may give, highest first.
func GrantableRoles(me model.Role) []model.Role {
	var out []model.Role
	for _, r := range model.Roles {
		if me.CanGrant(r) {
			out = append(out, r)
		}
	}
	return out
}

// APIKeysData is GET /o/{org}/settings/apikeys and the answers of its forms.
type APIKeysData struct {
	Keys []model.APIKey
	Name string // the create form's name field
	// Error is an i18n key under the name field.
	Error string
	// NewKey is the whole key just created: only its hash is kept, so it is shown once.
	NewKey     string
	NewKeyName string
	// Access (all, read, areas) and Areas (area → read or write) are the form's scope as
	// sent; ScopeError is an i18n key under it.
	Access     string
	Areas      map[string]string
	ScopeError string
}

// SessionsData is GET /o/{org}/settings/sessions.
type SessionsData struct {
	Sessions  []model.Session
	CurrentID int64 // the session of this browser
}

// AuditData is GET /o/{org}/settings/audit[?before={id}].
type AuditData struct {
	Entries []model.AuditEntry // newest first
	Before  int64              // the ?before= of this page, 0 on the newest page
	OlderID int64              // when > 0, older entries exist: the link asks ?before=OlderID
}

// ProfileData is GET/POST /o/{org}/settings/profile.
type ProfileData struct {
	Name   string
	Email  string
	Locale i18n.Locale
	Theme  string            // light, dark or system
	Errors map[string]string // name, locale, theme → i18n key
}

// others counts the sessions other than this browser's.
func (d SessionsData) others() int {
	n := 0
	for _, s := range d.Sessions {
		if s.ID != d.CurrentID {
			n++
		}
	}
	return n
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

// actionLabel names an audit action in the reader's language, or says it is unknown.
func actionLabel(ctx context.Context, action string) string {
	key := "audit.action." + action
	if s := ui.T(ctx, key); s != key {
		return s
	}
	return ui.T(ctx, "audit.unknown_action", "action", action)
}

// Browser names the browser and system of a User-Agent, e.g. "Chrome on Android".
// Good enough to recognise one's own devices; not a full parser.
func Browser(ctx context.Context, ua string) string {
	b, os := browserName(ua), osName(ua)
	switch {
	case b == "":
		return ui.T(ctx, "sessions.unknown_browser")
	case os == "":
		return b
	}
	return ui.T(ctx, "sessions.browser_on_os", "browser", b, "os", os)
}

func browserName(ua string) string {
	for _, c := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"EdgiOS", "Edge"}, {"OPR/", "Opera"}, {"SamsungBrowser", "Samsung Internet"},
		{"Firefox/", "Firefox"}, {"FxiOS", "Firefox"}, {"CriOS", "Chrome"}, {"Chrome/", "Chrome"},
		{"Safari/", "Safari"}, {"curl/", "curl"},
	} {
		if strings.Contains(ua, c.token) {
			return c.name
		}
	}
	return ""
}

func osName(ua string) string {
	for _, c := range []struct{ token, name string }{
		{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Android", "Android"}, {"Windows", "Windows"},
		{"CrOS", "ChromeOS"}, {"Mac OS X", "macOS"}, {"Macintosh", "macOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, c.token) {
			return c.name
		}
	}
	return ""
}

// deviceIcon is a phone for mobile browsers and a screen for the rest.
func deviceIcon(ua string) string {
	if strings.Contains(ua, "Mobile") || strings.Contains(ua, "Android") || strings.Contains(ua, "iPhone") {
		return "smartphone"
	}
	return "monitor"
}

func inviteExpired(inv model.Invite) bool { return !inv.ExpiresAt.After(ui.Now()) }

// auditWho is the member's name, or "System" for what the app did by itself.
func auditWho(ctx context.Context, e model.AuditEntry) string {
	if e.UserName != nil && *e.UserName != "" {
		return *e.UserName
	}
	return ui.T(ctx, "audit.system")
}

// AIData is GET/POST /o/{org}/settings/ai and the answers of its buttons. It never holds
// the key: HasKey only says one is saved.
type AIData struct {
	Saved          bool // the org has a provider
	BaseURL        string
	HasKey         bool
	ChatModel      string
	EmbeddingModel string
	Dimensions     int
	Budget         float64 // USD a month; 0 none
	Spent          float64 // USD this month
	Status         string  // untested, ok or error
	LastError      string  // the provider's words
	Unpriced       []string
	Models         []string // the endpoint's models, or the known ones before they are loaded
	ModelsLoaded   bool
	ModelsError    string
	Errors         map[string]string // i18n keys by field
}

// modelOptions is the models to choose from: the list, with the current choice first when
// the list does not have it.
func modelOptions(list []string, current string) []string {
	if current == "" {
		return append([]string{""}, list...)
	}
	for _, m := range list {
		if m == current {
			return list
		}
	}
	return append([]string{current}, list...)
}

func keyHint(ctx context.Context, has bool) string {
	if has {
		return ui.T(ctx, "ai.provider.key_kept")
	}
	return ui.T(ctx, "ai.provider.key_hint")
}

// usd shows an amount of US dollars; below a cent it says so rather than $0.00.
func usd(v float64) string {
	if v > 0 && v < 0.01 {
		return "< US$ 0.01"
	}
	return "US$ " + strconv.FormatFloat(v, 'f', 2, 64)
}
