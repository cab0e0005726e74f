package ui

import (
	"context"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/a-h/templ"

	"masteria/app/i18n"
	"masteria/app/model"
)

// NavItem is one entry of the sidebar. Later areas (inbox, contacts, …) add theirs to Nav.
type NavItem struct {
	Key  string     // i18n key of the label
	Icon string     // name for Icon
	Path string     // inside the org: "" is the org home, "/inbox" is /o/{org}/inbox
	Min  model.Role // lowest role that sees the item
	// May, when set, is the permission that shows the item (the role policy decides).
	May model.Permission
	// PathFor, when set, picks the link by role (settings opens the first tab the role may see).
	PathFor func(model.Role) string
}

// Nav is the sidebar menu, in order. Keep it the only list of areas so new ones are one line.
var Nav = []NavItem{
	{Key: "nav.home", Icon: "home", Path: "", Min: model.RoleAgent},
	{Key: "nav.analytics", Icon: "chart", Path: "/analytics", Min: model.RoleAgent, May: model.ViewAnalytics},
	{Key: "nav.inbox", Icon: "message", Path: "/inbox", Min: model.RoleAgent},
	{Key: "nav.contacts", Icon: "contact", Path: "/contacts", Min: model.RoleAgent},
	{Key: "nav.board", Icon: "kanban", Path: "/board", Min: model.RoleAgent},
	{Key: "nav.campaigns", Icon: "megaphone", Path: "/campaigns", Min: model.RoleAgent, May: model.RunCampaigns},
	{Key: "nav.cadences", Icon: "refresh", Path: "/cadences", Min: model.RoleAgent},
	{Key: "nav.knowledge", Icon: "compass", Path: "/knowledge", Min: model.RoleAgent, May: model.ManageKnowledge},
	{Key: "nav.personas", Icon: "sparkles", Path: "/personas", Min: model.RoleAgent},
	{Key: "nav.settings", Icon: "settings", Path: "/settings", Min: model.RoleAgent, PathFor: SettingsPath},
}

// SettingsPath is the settings tab a role lands on: General is admin-only.
func SettingsPath(r model.Role) string {
	switch {
	case r.May(model.ManageOrg):
		return "/settings"
	case r.May(model.SeeMembers):
		return "/settings/members"
	}
	return "/settings/profile"
}

// Shown says whether the current member sees the item.
func (n NavItem) Shown(ctx context.Context) bool {
	if n.May != "" {
		return May(ctx, n.May)
	}
	return Can(ctx, n.Min)
}

// Href is the item's link for the current request.
func (n NavItem) Href(ctx context.Context) string {
	p := n.Path
	if n.PathFor != nil {
		p = n.PathFor(From(ctx).Role)
	}
	return OrgURL(ctx, p)
}

// Active tells whether the current page belongs to the item: the home item matches only
// the org root, the others their whole subtree.
func (n NavItem) Active(ctx context.Context) bool {
	cur := strings.TrimSuffix(From(ctx).Path, "/")
	base := OrgURL(ctx, n.Path)
	if n.Path == "" {
		return cur == base
	}
	return cur == base || strings.HasPrefix(cur, base+"/")
}

// OrgHref links to another org of the user.
func OrgHref(id int64) string { return "/o/" + strconv.FormatInt(id, 10) }

// Initials gives up to two letters for an avatar: "Ana Souza" → "AS", "bruno@x.com" → "B".
func Initials(name string) string {
	name, _, _ = strings.Cut(name, "@")
	var out []rune
	words := strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for i, w := range words {
		if i != 0 && i != len(words)-1 {
			continue
		}
		r := []rune(w)
		out = append(out, unicode.ToUpper(r[0]))
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

// AvatarColor picks one of the six avatar tints from the name, so a person keeps their colour.
func AvatarColor(name string) string {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(name)))
	return "avatar-c" + strconv.Itoa(int(h.Sum32()%6)+1)
}

// RoleName is the role's label in the reader's language.
func RoleName(ctx context.Context, r model.Role) string {
	if !r.Valid() {
		return T(ctx, "common.unknown")
	}
	key := "roles." + string(r) + ".name" // keys built at run time: the render test covers them
	return T(ctx, key)
}

// Now is the clock of relative times; tests may replace it.
var Now = time.Now

// Ago says how long ago t was: "5 minutes ago".
func Ago(ctx context.Context, t time.Time) string {
	return i18n.RelTime(From(ctx).Locale, t, Now())
}

// DateTime writes t with date and time in the reader's format.
func DateTime(ctx context.Context, t time.Time) string {
	return i18n.FormatTime(From(ctx).Locale, t)
}

// Date writes the date of t in the reader's format.
func Date(ctx context.Context, t time.Time) string {
	return i18n.FormatDate(From(ctx).Locale, t)
}

// ErrText translates a field error key, filling the limits any of them may mention.
func ErrText(ctx context.Context, key string) string {
	return T(ctx, key,
		"min", strconv.Itoa(model.MinPasswordLen),
		"max", strconv.Itoa(model.MaxNameLen))
}

// Theme is the theme set on <html> before theme.js applies the saved choice.
func Theme(ctx context.Context) string {
	switch t := From(ctx).Theme; t {
	case "light", "dark":
		return t
	}
	return "system"
}

// Themes lists the theme choices with their i18n key and icon, for menus and forms.
var Themes = []struct{ Value, Key, Icon string }{
	{"light", "profile.theme.light", "sun"},
	{"dark", "profile.theme.dark", "moon"},
	{"system", "profile.theme.system", "monitor"},
}

// N is the plural text of key for n in the reader's language: "3 members".
func N(ctx context.Context, key string, n int, args ...string) string {
	return i18n.N(From(ctx).Locale, key, n, args...)
}

// ProviderName is how a login provider is written: "google" → "Google".
func ProviderName(p string) string {
	switch p {
	case "google":
		return "Google"
	case "facebook":
		return "Facebook"
	}
	return p
}

// classOr is the "class" of attrs, or def when it has none.
func classOr(attrs templ.Attributes, def string) string {
	if c, ok := attrs["class"].(string); ok && c != "" {
		return c
	}
	return def
}

// withoutClass copies attrs without "class", which the component sets itself.
func withoutClass(attrs templ.Attributes) templ.Attributes {
	out := make(templ.Attributes, len(attrs))
	for k, v := range attrs {
		if k != "class" {
			out[k] = v
		}
	}
	return out
}

// ContactName is how a page names a contact: its name, else phone (written for people
// when given, else as stored), else email, else "no name".
func ContactName(ctx context.Context, c model.Contact, phone string) string {
	switch {
	case strings.TrimSpace(c.Name) != "":
		return c.Name
	case phone != "":
		return phone
	case c.Phone != nil && *c.Phone != "":
		return *c.Phone
	case c.Email != nil && *c.Email != "":
		return *c.Email
	}
	return T(ctx, "contacts.no_name")
}

// ConversationName names a conversation by its contact: the name, else the phone.
func ConversationName(c model.Conversation) string {
	if strings.TrimSpace(c.ContactName) != "" {
		return c.ContactName
	}
	if c.ContactPhone != nil {
		return *c.ContactPhone
	}
	return "—"
}

// SendFailText is why a campaign send failed, in plain words: ours when the code is one
// the app explains, else the provider's own.
func SendFailText(ctx context.Context, code, title string) string {
	if code == "131049" {
		return T(ctx, "campaigns.run.fail.131049")
	}
	for _, c := range model.SendFailures {
		if c == code {
			return T(ctx, model.SendFailureKey(code))
		}
	}
	return title
}
