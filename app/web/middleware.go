package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"masteria/app/account"
	"masteria/app/auth"
	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/views/ui"
)

// Context keys set by the middleware.
const (
	ctxReq     = "ui.request"
	ctxSession = "session"
	ctxActor   = "actor"
	ctxAPIKey  = "apikey"
	ctxAPIOrg  = "apiorg"
)

// reqOf returns the page context the middleware built for this request.
func reqOf(c echo.Context) *ui.Request {
	if r, ok := c.Get(ctxReq).(*ui.Request); ok {
		return r
	}
	r := &ui.Request{Locale: i18n.Default}
	c.Set(ctxReq, r)
	return r
}

// syncCtx makes the page context visible to templ components through the request context.
func syncCtx(c echo.Context) {
	r := reqOf(c)
	c.SetRequest(c.Request().WithContext(ui.With(c.Request().Context(), r)))
}

// securityHeaders sets a strict CSP with a per-request nonce and the usual hardening headers.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		nonce := base64.RawStdEncoding.EncodeToString(b)
		reqOf(c).Nonce = nonce
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'nonce-"+nonce+"'; style-src 'self'; "+
			"img-src 'self' data: https:; font-src 'self'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; "+
			"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(self), geolocation=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if c.Request().TLS != nil || c.Scheme() == "https" {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		return next(c)
	}
}

const csrfCookie = "masteria_csrf"

// csrf checks a double-submit token on every state-changing request: the value of an
// HttpOnly cookie must come back in the `_csrf` form field or the X-CSRF-Token header.
// Another site can make the browser send the cookie but cannot read it to copy it.
// API and webhook routes authenticate otherwise and are skipped.
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		token := ""
		if ck, err := c.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 {
			token = ck.Value
		} else {
			t, err := auth.NewToken(32)
			if err != nil {
				return err
			}
			token = t
			c.SetCookie(&http.Cookie{Name: csrfCookie, Value: token, Path: "/", HttpOnly: true, Secure: s.cfg.SecureCookies(), SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
		}
		reqOf(c).CSRF = token
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if isAPI(r.URL.Path) || strings.HasPrefix(r.URL.Path, "/webhooks/") {
			return next(c)
		}
		sent := r.Header.Get("X-CSRF-Token")
		if sent == "" {
			// A body over its route's limit never shows its token: say it is too large,
			// not that the form expired.
			var tooBig *http.MaxBytesError
			if err := parseForm(r); errors.As(err, &tooBig) {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the request is too large")
			}
			sent = c.FormValue("_csrf")
		}
		if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
			return echo.NewHTTPError(http.StatusForbidden, "missing or wrong CSRF token")
		}
		return next(c)
	}
}

// locale picks the language: the user's saved choice, then a cookie set by the switcher
// on public pages, then the browser's Accept-Language.
func (s *Server) locale(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := reqOf(c)
		r.Locale = i18n.Negotiate(c.Request().Header.Get("Accept-Language"))
		if ck, err := c.Cookie(localeCookie); err == nil {
			if l, ok := i18n.Parse(ck.Value); ok {
				r.Locale = l
			}
		}
		r.Path = c.Request().URL.Path
		r.OAuthProviders = s.oauthNames()
		takeToasts(c, r)
		syncCtx(c)
		return next(c)
	}
}

const localeCookie = "masteria_locale"

// loadSession reads the session, if any, and the logged-in user into the page context.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := s.sessions.Get(c.Request(), auth.SessionName)
		if err != nil && !errors.Is(err, auth.ErrSessionGone) {
			slog.Warn("session load", "err", err)
		}
		c.Set(ctxSession, sess)
		if errors.Is(err, auth.ErrSessionGone) {
			c.Set("session_gone", true)
		}
		if uid, ok := sess.Values[auth.KeyUserID].(int64); ok {
			u, err := s.acct.User(c.Request().Context(), uid)
			if errors.Is(err, model.ErrNotFound) {
				sess.Options.MaxAge = -1
				_ = sess.Save(c.Request(), c.Response())
				return next(c)
			}
			if err != nil {
				return err
			}
			r := reqOf(c)
			r.User = &u
			r.Theme = u.Theme
			if u.Locale != nil {
				if l, ok := i18n.Parse(*u.Locale); ok {
					r.Locale = l
				}
			}
			syncCtx(c)
			if s.sessions.NeedsRefresh(sess) {
				if err := sess.Save(c.Request(), c.Response()); err != nil {
					slog.Warn("session refresh", "err", err)
				}
			}
		}
		return next(c)
	}
}

func sessionOf(c echo.Context) *sessions.Session {
	sess, _ := c.Get(ctxSession).(*sessions.Session)
	return sess
}

// requireUser sends anonymous visitors to the login page. An htmx request whose session
// expired gets HX-Redirect, so the whole page goes to login rather than a fragment of it.
func requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if reqOf(c).User != nil {
			return next(c)
		}
		login := "/login"
		if c.Request().Method == http.MethodGet && !strings.HasPrefix(c.Request().URL.Path, "/events") {
			login += "?next=" + urlQueryEscape(c.Request().URL.RequestURI())
		}
		if gone, _ := c.Get("session_gone").(bool); gone {
			toast(c, "info", "error.session_expired")
		}
		if c.Request().Header.Get("HX-Request") == "true" {
			c.Response().Header().Set("HX-Redirect", login)
			return c.NoContent(http.StatusUnauthorized)
		}
		if strings.HasPrefix(c.Request().URL.Path, "/events") {
			return c.NoContent(http.StatusUnauthorized)
		}
		return c.Redirect(http.StatusSeeOther, login)
	}
}

// orgMember resolves the :org of the URL to an org the user belongs to. An org that does not
// exist and one the user is not in both answer 404: the URL tells nothing to outsiders.
func (s *Server) orgMember(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := reqOf(c)
		orgID, err := strconv.ParseInt(c.Param("org"), 10, 64)
		if err != nil || orgID <= 0 {
			return echo.ErrNotFound
		}
		ctx := c.Request().Context()
		m, err := s.acct.Membership(ctx, orgID, r.User.ID)
		if err != nil {
			return err // ErrNotFound → 404
		}
		org, err := s.acct.Org(ctx, orgID)
		if err != nil {
			return err
		}
		orgs, err := s.acct.Orgs(ctx, r.User.ID)
		if err != nil {
			return err
		}
		r.Org, r.Role, r.Orgs = &org, m.Role, orgs
		c.Set(ctxActor, account.Actor{UserID: r.User.ID, OrgID: orgID, Role: m.Role, IP: c.RealIP(), UserAgent: c.Request().UserAgent()})
		if sess := sessionOf(c); sess != nil {
			if last, _ := sess.Values[auth.KeyOrgID].(int64); last != orgID {
				sess.Values[auth.KeyOrgID] = orgID
				if err := sess.Save(c.Request(), c.Response()); err != nil {
					slog.Warn("session save", "err", err)
				}
			}
		}
		syncCtx(c)
		return next(c)
	}
}

// requireRole lets through members whose role is at least min; others get 403.
// requireMay guards routes with a permission of the role policy (model.Permission).
func requireMay(p model.Permission) echo.MiddlewareFunc { return requireRole(p.MinRole()) }

func requireRole(min model.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !reqOf(c).Role.AtLeast(min) {
				return model.ErrForbidden
			}
			return next(c)
		}
	}
}

// actorOf is the member making the request, set by orgMember.
func actorOf(c echo.Context) account.Actor {
	a, _ := c.Get(ctxActor).(account.Actor)
	return a
}

// noStore keeps pages with user data out of shared caches and the back-forward cache of
// a logged-out browser.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// timing logs slow requests (not event streams, which are long by design); the rest stays quiet.
func timing(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		streaming := c.Response().Header().Get(echo.HeaderContentType) == "text/event-stream"
		if d := time.Since(start); d > 500*time.Millisecond && !streaming {
			slog.Warn("slow request", "method", c.Request().Method, "path", c.Request().URL.Path, "took", d)
		}
		return err
	}
}

// parseForm reads a posted form, multipart (files spill to disk past 32 MB) or not.
func parseForm(r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return r.ParseMultipartForm(32 << 20)
	}
	return r.ParseForm()
}
