// Package ui holds the shared pieces of every page: the request context pages read
// (locale, CSRF token, CSP nonce, user, org), the app shell and small components.
package ui

import (
	"context"
	"fmt"

	"masteria/app/i18n"
	"masteria/app/model"
)

// Request is what every page needs to know about the request it renders for.
// The web layer fills it and puts it in the context; components read it with From.
type Request struct {
	Locale i18n.Locale
	CSRF   string // token for the hidden _csrf field and the X-CSRF-Token header
	Nonce  string // CSP nonce (for the rare <script> that needs one; our scripts are files)
	Path   string // the URL path, to highlight the current nav item
	Theme  string // light, dark or system: the user's saved choice

	User *model.User        // nil on public pages
	Org  *model.Org         // the org in the URL, nil outside /o/{org}/...
	Role model.Role         // the user's role in Org
	Orgs []model.Membership // every org of the user, for the switcher

	OAuthProviders []string // "google", "facebook": the login buttons to show
	Toasts         []Toast  // shown once on page load (after a redirect)
}

// Toast is a short message shown in the corner.
type Toast struct {
	Kind    string // success, error, info
	Message string
}

type ctxKey struct{}

// With returns ctx carrying r.
func With(ctx context.Context, r *Request) context.Context {
	return i18n.WithLocale(context.WithValue(ctx, ctxKey{}, r), r.Locale)
}

// From returns the request of ctx; an empty one when there is none, so components never nil-check.
func From(ctx context.Context) *Request {
	if r, ok := ctx.Value(ctxKey{}).(*Request); ok && r != nil {
		return r
	}
	return &Request{Locale: i18n.FromContext(ctx)}
}

// T translates key into the request's language.
func T(ctx context.Context, key string, args ...string) string {
	return i18n.T(From(ctx).Locale, key, args...)
}

// OrgURL is a path inside the current org: OrgURL(ctx, "/settings") = "/o/12/settings".
func OrgURL(ctx context.Context, path string) string {
	r := From(ctx)
	if r.Org == nil {
		return path
	}
	return fmt.Sprintf("/o/%d%s", r.Org.ID, path)
}

// May tells whether the current member's role has permission p (model's role policy).
func May(ctx context.Context, p model.Permission) bool { return From(ctx).Role.May(p) }

// Can tells whether the current member's role reaches min.
func Can(ctx context.Context, min model.Role) bool { return From(ctx).Role.AtLeast(min) }
