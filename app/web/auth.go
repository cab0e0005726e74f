package web

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"masteria/app/account"
	"masteria/app/auth"
	"masteria/app/auth/oauth"
	"masteria/app/i18n"
	"masteria/app/model"
	authviews "masteria/views/auth"
	errorpages "masteria/views/errors"
)

// safeNext keeps a post-login redirect on this site: a local path, never "//host" or a URL.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return ""
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return ""
	}
	return next
}

// root sends a logged-in user to the org they last opened, everyone else to login.
func (s *Server) root(c echo.Context) error {
	r := reqOf(c)
	if r.User == nil {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return c.Redirect(http.StatusSeeOther, s.landing(c, r.User.ID))
}

// landing is where a user goes after logging in: the last org opened if they are still in
// it, else their first org, else the page to create one.
func (s *Server) landing(c echo.Context, userID int64) string {
	orgs, err := s.acct.Orgs(c.Request().Context(), userID)
	if err != nil || len(orgs) == 0 {
		return "/orgs/new"
	}
	if sess := sessionOf(c); sess != nil {
		if last, ok := sess.Values[auth.KeyOrgID].(int64); ok {
			for _, m := range orgs {
				if m.OrgID == last {
					return fmt.Sprintf("/o/%d", last)
				}
			}
		}
	}
	return fmt.Sprintf("/o/%d", orgs[0].OrgID)
}

// startSession logs the user in on this browser with a fresh session token.
func (s *Server) startSession(c echo.Context, userID int64) error {
	return s.sessions.Login(c.Request(), c.Response(), sessionOf(c), userID)
}

func (s *Server) loginPage(c echo.Context) error {
	if reqOf(c).User != nil {
		return c.Redirect(http.StatusSeeOther, s.landing(c, reqOf(c).User.ID))
	}
	return render(c, http.StatusOK, authviews.Login(authviews.LoginForm{Next: safeNext(c.QueryParam("next"))}), nil)
}

func (s *Server) login(c echo.Context) error {
	f := authviews.LoginForm{Email: strings.TrimSpace(c.FormValue("email")), Next: safeNext(c.FormValue("next"))}
	u, err := s.acct.Login(c.Request().Context(), f.Email, c.FormValue("password"), c.RealIP(), c.Request().UserAgent())
	switch {
	case errors.Is(err, account.ErrTooManyAttempts):
		f.Error = "login.error.too_many"
		f.RetryAfter = int(math.Ceil(s.acct.FailureWindow.Minutes()))
		c.Response().Header().Set("Retry-After", fmt.Sprint(int(s.acct.FailureWindow.Seconds())))
		return render(c, http.StatusTooManyRequests, authviews.Login(f), nil)
	case errors.Is(err, account.ErrBadCredentials):
		f.Error = "login.error.invalid"
		return refuseForm(c, authviews.Login(f), nil)
	case err != nil:
		return err
	}
	if err := s.startSession(c, u.ID); err != nil {
		return err
	}
	if f.Next != "" {
		return redirect(c, f.Next)
	}
	return redirect(c, s.landing(c, u.ID))
}

func (s *Server) signupPage(c echo.Context) error {
	if reqOf(c).User != nil {
		return c.Redirect(http.StatusSeeOther, s.landing(c, reqOf(c).User.ID))
	}
	return render(c, http.StatusOK, authviews.Signup(authviews.SignupForm{Next: safeNext(c.QueryParam("next"))}), nil)
}

func (s *Server) signup(c echo.Context) error {
	f := authviews.SignupForm{
		Org: c.FormValue("org"), Name: c.FormValue("name"), Email: c.FormValue("email"),
		Next: safeNext(c.FormValue("next")),
	}
	in := account.SignupInput{Org: f.Org, Name: f.Name, Email: f.Email, Password: c.FormValue("password"), Locale: string(reqOf(c).Locale)}
	u, o, err := s.acct.Signup(c.Request().Context(), in, c.RealIP(), c.Request().UserAgent())
	var v *model.ValidationError
	if errors.As(err, &v) {
		f.Errors = v.Fields
		return refuseForm(c, authviews.Signup(f), nil)
	}
	if err != nil {
		return err
	}
	s.startBoard(c, o.ID, u.ID)
	if err := s.startSession(c, u.ID); err != nil {
		return err
	}
	toast(c, "success", "home.welcome", "name", u.Name)
	if f.Next != "" {
		return redirect(c, f.Next)
	}
	return redirect(c, fmt.Sprintf("/o/%d", o.ID))
}

func (s *Server) logout(c echo.Context) error {
	sess := sessionOf(c)
	if u := reqOf(c).User; u != nil {
		if err := s.acct.Logout(c.Request().Context(), u.ID, c.RealIP(), c.Request().UserAgent()); err != nil {
			slog.Warn("logout audit", "err", err)
		}
	}
	if sess != nil {
		sess.Options.MaxAge = -1
		if err := sess.Save(c.Request(), c.Response()); err != nil {
			return err
		}
	}
	toast(c, "info", "logout.done")
	if c.Request().Header.Get("HX-Request") == "true" {
		c.Response().Header().Set("HX-Redirect", "/login")
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}

// setLocale saves the language picked in the switcher: on the user when logged in, and in a
// cookie so public pages follow it too.
func (s *Server) setLocale(c echo.Context) error {
	l, ok := i18n.Parse(c.FormValue("locale"))
	if !ok {
		return echo.NewHTTPError(http.StatusBadRequest, "unknown language")
	}
	c.SetCookie(&http.Cookie{Name: localeCookie, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies()})
	if u := reqOf(c).User; u != nil {
		a := account.Actor{UserID: u.ID, IP: c.RealIP(), UserAgent: c.Request().UserAgent()}
		if sess := sessionOf(c); sess != nil {
			a.OrgID, _ = sess.Values[auth.KeyOrgID].(int64)
		}
		if err := s.acct.SetLocale(c.Request().Context(), a, string(l)); err != nil {
			return err
		}
	}
	next := safeNext(c.FormValue("next"))
	if next == "" {
		next = "/"
	}
	return redirect(c, next)
}

// setTheme saves the theme picked in the user menu. htmx posts it in the background (the
// page already shows the new theme); without JavaScript the form comes back to the page.
func (s *Server) setTheme(c echo.Context) error {
	if err := s.acct.SetTheme(c.Request().Context(), reqOf(c).User.ID, c.FormValue("theme")); err != nil {
		return err
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		return c.NoContent(http.StatusNoContent)
	}
	next := safeNext(c.FormValue("next"))
	if next == "" {
		next = "/"
	}
	return c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) offline(c echo.Context) error {
	return render(c, http.StatusOK, errorpages.Offline(), nil)
}

const oauthCookie = "masteria_oauth"

// oauthStart sends the browser to Google or Facebook, keeping the login's state in a
// short-lived cookie bound to this browser.
func (s *Server) oauthStart(c echo.Context) error {
	if s.oauth == nil {
		return echo.ErrNotFound
	}
	authURL, pending, err := s.oauth.Begin(c.Param("provider"))
	if errors.Is(err, oauth.ErrUnknownProvider) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: oauthCookie, Value: pending + "|" + url.QueryEscape(safeNext(c.QueryParam("next"))), Path: "/auth/",
		MaxAge: int(oauth.PendingTTL.Seconds()), HttpOnly: true, Secure: s.cfg.SecureCookies(), SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusSeeOther, authURL)
}

// oauthCallback finishes a provider login and starts the app's own session.
func (s *Server) oauthCallback(c echo.Context) error {
	provider := c.Param("provider")
	if s.oauth == nil {
		return echo.ErrNotFound
	}
	ck, _ := c.Cookie(oauthCookie)
	c.SetCookie(&http.Cookie{Name: oauthCookie, Path: "/auth/", MaxAge: -1, HttpOnly: true, Secure: s.cfg.SecureCookies(), SameSite: http.SameSiteLaxMode})
	fail := func(key string, err error) error {
		slog.Info("social login failed", "provider", provider, "err", err)
		f := authviews.LoginForm{Error: key, Provider: strings.ToUpper(provider[:1]) + provider[1:]}
		return render(c, http.StatusUnauthorized, authviews.Login(f), nil)
	}
	if ck == nil {
		return fail("login.error.oauth_failed", oauth.ErrStateMismatch)
	}
	pending, nextEsc, _ := strings.Cut(ck.Value, "|")
	id, err := s.oauth.Complete(c.Request().Context(), provider, pending, c.QueryParams())
	switch {
	case errors.Is(err, oauth.ErrUnknownProvider):
		return echo.ErrNotFound
	case errors.Is(err, oauth.ErrNoEmail):
		return fail("login.error.oauth_no_email", err)
	case err != nil:
		return fail("login.error.oauth_failed", err)
	}
	u, created, err := s.acct.LoginWithIdentity(c.Request().Context(), account.Identity{
		Provider: id.Provider, Subject: id.Subject, Email: id.Email, Name: id.Name, EmailVerified: id.EmailVerified,
	}, c.RealIP(), c.Request().UserAgent())
	if errors.Is(err, account.ErrUnverifiedEmail) {
		return fail("login.error.oauth_no_email", err)
	}
	if err != nil {
		return err
	}
	if created { // a first login made the person's org: its board is ready, as after sign-up
		if orgs, err := s.acct.Orgs(c.Request().Context(), u.ID); err == nil && len(orgs) == 1 {
			s.startBoard(c, orgs[0].OrgID, u.ID)
		}
	}
	if err := s.startSession(c, u.ID); err != nil {
		return err
	}
	next, _ := url.QueryUnescape(nextEsc)
	if next = safeNext(next); next != "" {
		return c.Redirect(http.StatusSeeOther, next)
	}
	return c.Redirect(http.StatusSeeOther, s.landing(c, u.ID))
}

// invitePage shows an invite link: join at once when logged in, else a short sign-up.
func (s *Server) invitePage(c echo.Context) error {
	p, err := s.invitePageData(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, authviews.InviteAccept(p), nil)
}

func (s *Server) invitePageData(c echo.Context) (authviews.InvitePage, error) {
	token := c.Param("token")
	p := authviews.InvitePage{Token: token}
	inv, err := s.acct.InviteByToken(c.Request().Context(), token)
	if errors.Is(err, model.ErrNotFound) {
		return p, nil // shown as "this link no longer works", like an expired one
	}
	if err != nil {
		return p, err
	}
	p.OrgName, p.Role, p.Valid = inv.OrgName, inv.Role, inv.Usable(time.Now())
	if inv.Email != nil {
		p.Email = *inv.Email
	}
	if inv.InvitedBy != nil {
		if u, err := s.acct.User(c.Request().Context(), *inv.InvitedBy); err == nil {
			p.InviterName = u.Name
		}
	}
	if u := reqOf(c).User; u != nil && p.Email != "" && u.Email != p.Email {
		p.WrongEmail = true
	}
	return p, nil
}

// inviteAccept joins the org: as the logged-in user, or by creating an account first.
func (s *Server) inviteAccept(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.Param("token")
	p, err := s.invitePageData(c)
	if err != nil {
		return err
	}
	if !p.Valid {
		return render(c, http.StatusGone, authviews.InviteAccept(p), nil)
	}
	ip, ua := c.RealIP(), c.Request().UserAgent()
	var inv model.Invite
	if u := reqOf(c).User; u != nil {
		inv, err = s.acct.AcceptInvite(ctx, token, u.ID, ip, ua)
	} else {
		p.Form = authviews.SignupForm{Name: c.FormValue("name"), Email: c.FormValue("email")}
		in := account.SignupInput{Name: p.Form.Name, Email: p.Form.Email, Password: c.FormValue("password"), Locale: string(reqOf(c).Locale)}
		var nu model.User
		nu, inv, err = s.acct.SignupWithInvite(ctx, token, in, ip, ua)
		if err == nil {
			err = s.startSession(c, nu.ID)
		}
	}
	var v *model.ValidationError
	switch {
	case errors.As(err, &v):
		p.Form.Errors = v.Fields
		if v.Fields["email"] == "invites.error.other_email" {
			p.WrongEmail = true
		}
		return refuseForm(c, authviews.InviteAccept(p), nil)
	case errors.Is(err, account.ErrInviteUnusable):
		p.Valid = false
		return render(c, http.StatusGone, authviews.InviteAccept(p), nil)
	case err != nil:
		return err
	}
	toast(c, "success", "invites.joined", "org", inv.OrgName)
	return redirect(c, fmt.Sprintf("/o/%d", inv.OrgID))
}

func (s *Server) orgNewPage(c echo.Context) error {
	return render(c, http.StatusOK, authviews.OrgNew(authviews.OrgForm{}), nil)
}

func (s *Server) orgCreate(c echo.Context) error {
	u := reqOf(c).User
	o, err := s.acct.CreateOrg(c.Request().Context(), u.ID, c.FormValue("name"), c.RealIP(), c.Request().UserAgent())
	var v *model.ValidationError
	if errors.As(err, &v) {
		return refuseForm(c, authviews.OrgNew(authviews.OrgForm{Name: c.FormValue("name"), Error: v.Fields["name"]}), nil)
	}
	if err != nil {
		return err
	}
	s.startBoard(c, o.ID, u.ID)
	return redirect(c, fmt.Sprintf("/o/%d", o.ID))
}
