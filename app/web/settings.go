package web

import (
	"cmp"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"masteria/app/account"
	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/views/settings"
	"masteria/views/ui"
)

func paramID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.ErrNotFound
	}
	return id, nil
}

func orgPath(c echo.Context, path string) string {
	return ui.OrgURL(c.Request().Context(), path)
}

// --- General ---

func (s *Server) generalPage(c echo.Context) error {
	org := reqOf(c).Org
	zone, err := s.st.OrgTimeZone(c.Request().Context(), org.ID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, settings.General(settings.GeneralData{Name: org.Name, Country: org.DefaultCountry, TimeZone: zone}), nil)
}

// generalSave changes what the form changed. The time zone is checked first, so a zone
// off the list changes nothing; a form without one (older pages) keeps the zone.
func (s *Server) generalSave(c echo.Context) error {
	ctx := c.Request().Context()
	d := settings.GeneralData{Name: c.FormValue("name"), Country: c.FormValue("country"), TimeZone: c.FormValue("time_zone")}
	zone, err := s.st.OrgTimeZone(ctx, reqOf(c).Org.ID)
	if err != nil {
		return err
	}
	if d.TimeZone == "" {
		d.TimeZone = zone
	} else if d.TimeZone != zone {
		err := s.acct.SetOrgTimeZone(ctx, actorOf(c), d.TimeZone)
		var v *model.ValidationError
		if errors.As(err, &v) {
			d.TimeZone, d.TimeZoneError = zone, v.Fields["time_zone"]
			return refuseForm(c, settings.General(d), nil)
		}
		if err != nil {
			return err
		}
	}
	if d.Country != "" && d.Country != reqOf(c).Org.DefaultCountry {
		err := s.acct.SetOrgCountry(ctx, actorOf(c), d.Country)
		var v *model.ValidationError
		if errors.As(err, &v) {
			d.CountryError = v.Fields["country"]
			return refuseForm(c, settings.General(d), nil)
		}
		if err != nil {
			return err
		}
	}
	o := *reqOf(c).Org
	if d.Name != o.Name {
		o, err = s.acct.RenameOrg(ctx, actorOf(c), d.Name)
	}
	var v *model.ValidationError
	if errors.As(err, &v) {
		d.Error = v.Fields["name"]
		return refuseForm(c, settings.General(d), nil)
	}
	if err != nil {
		return err
	}
	reqOf(c).Org = &o
	syncCtx(c)
	toast(c, "success", "settings.general.saved")
	return redirect(c, orgPath(c, "/settings"))
}

// --- Members and invites ---

func (s *Server) membersData(c echo.Context) (settings.MembersData, error) {
	r := reqOf(c)
	ctx := c.Request().Context()
	ms, err := s.acct.Members(ctx, r.Org.ID)
	if err != nil {
		return settings.MembersData{}, err
	}
	d := settings.MembersData{Members: settings.NewMemberRows(ms, r.User.ID, r.Role), InviteDays: int(s.acct.InviteTTL / (24 * time.Hour))}
	if r.Role.AtLeast(model.RoleAdmin) {
		if d.Invites, err = s.acct.PendingInvites(ctx, r.Org.ID); err != nil {
			return d, err
		}
		d.Grantable = settings.GrantableRoles(r.Role)
	}
	d.Invite.Role = model.RoleAgent
	return d, nil
}

func (s *Server) membersPage(c echo.Context) error {
	d, err := s.membersData(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, settings.Members(d), nil)
}

func (s *Server) memberInvite(c echo.Context) error {
	role := model.Role(c.FormValue("role"))
	email := c.FormValue("email")
	inv, token, err := s.acct.Invite(c.Request().Context(), actorOf(c), email, role)
	d, derr := s.membersData(c)
	if derr != nil {
		return derr
	}
	var v *model.ValidationError
	if errors.As(err, &v) {
		d.Invite = settings.InviteForm{Email: email, Role: role, Errors: v.Fields}
		return refuseForm(c, settings.Members(d), nil)
	}
	if err != nil {
		return err
	}
	// The link exists only now: render it in this response instead of redirecting.
	d.NewInviteURL = s.cfg.BaseURL + "/invite/" + token
	d.Invites = append([]model.Invite{inv}, withoutInvite(d.Invites, inv.ID)...)
	toast(c, "success", "members.invited_link")
	return render(c, http.StatusOK, settings.Members(d), nil)
}

func withoutInvite(is []model.Invite, id int64) []model.Invite {
	out := is[:0:0]
	for _, i := range is {
		if i.ID != id {
			out = append(out, i)
		}
	}
	return out
}

func (s *Server) memberRole(c echo.Context) error {
	uid, err := paramID(c, "user")
	if err != nil {
		return err
	}
	err = s.acct.SetRole(c.Request().Context(), actorOf(c), uid, model.Role(c.FormValue("role")))
	if err := memberError(c, err); err != nil {
		return err
	}
	return redirect(c, orgPath(c, "/settings/members"))
}

func (s *Server) memberRemove(c echo.Context) error {
	uid, err := paramID(c, "user")
	if err != nil {
		return err
	}
	err = s.acct.RemoveMember(c.Request().Context(), actorOf(c), uid)
	if err := memberError(c, err); err != nil {
		return err
	}
	if uid == reqOf(c).User.ID { // left the org
		return redirect(c, "/")
	}
	return redirect(c, orgPath(c, "/settings/members"))
}

// memberError turns the expected refusals of a member change into a toast on the members
// page; other errors go to the error handler.
func memberError(c echo.Context, err error) error {
	var v *model.ValidationError
	switch {
	case err == nil:
		toast(c, "success", "toast.saved")
	case errors.Is(err, account.ErrLastOwner):
		toast(c, "error", "members.error.last_owner")
		c.Response().Header().Set("X-Refused", "last-owner")
	case errors.As(err, &v):
		toast(c, "error", "members.error.role")
	default:
		return err
	}
	return nil
}

func (s *Server) inviteRevoke(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := s.acct.RevokeInvite(c.Request().Context(), actorOf(c), id); err != nil {
		return err
	}
	toast(c, "success", "invites.revoked")
	return redirect(c, orgPath(c, "/settings/members"))
}

// --- API keys ---

func (s *Server) apiKeysData(c echo.Context) (settings.APIKeysData, error) {
	keys, err := s.acct.APIKeys(c.Request().Context(), reqOf(c).Org.ID)
	return settings.APIKeysData{Keys: keys}, err
}

func (s *Server) apiKeysPage(c echo.Context) error {
	d, err := s.apiKeysData(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, settings.APIKeys(d), nil)
}

func (s *Server) apiKeyCreate(c echo.Context) error {
	name := c.FormValue("name")
	access, areas := c.FormValue("access"), map[string]string{}
	for _, a := range model.APIAreas {
		areas[a] = c.FormValue("area_" + a)
	}
	scope, scopeErr := scopeOf(access, areas)
	var k model.APIKey
	var key string
	var err error
	if scopeErr == "" {
		k, key, err = s.acct.CreateScopedAPIKey(c.Request().Context(), actorOf(c), name, scope)
	}
	var v *model.ValidationError
	if err != nil && !errors.As(err, &v) {
		return err
	}
	d, derr := s.apiKeysData(c)
	if derr != nil {
		return derr
	}
	if v != nil || scopeErr != "" {
		d.Name, d.Access, d.Areas, d.ScopeError = name, access, areas, scopeErr
		if v != nil {
			d.Error, d.ScopeError = v.Fields["name"], cmp.Or(d.ScopeError, v.Fields["scope"])
		}
		return refuseForm(c, settings.APIKeys(d), nil)
	}
	// Shown once, in this response: only the hash is kept.
	d.NewKey, d.NewKeyName = key, k.Name
	toast(c, "success", "apikeys.created")
	return render(c, http.StatusOK, settings.APIKeys(d), nil)
}

// scopeOf turns the key form's access choice into a scope: everything, read only, or the
// areas picked (at least one); the error is an i18n key.
func scopeOf(access string, areas map[string]string) (string, string) {
	switch access {
	case "", "all":
		return "", ""
	case "read":
		return model.ScopeRead, ""
	case "areas":
		var parts []string
		for _, a := range model.APIAreas {
			switch areas[a] {
			case "":
			case "read", "write":
				parts = append(parts, a+":"+areas[a])
			default:
				return "", "apikeys.error.scope"
			}
		}
		if len(parts) == 0 {
			return "", "apikeys.error.no_area"
		}
		return strings.Join(parts, " "), ""
	}
	return "", "apikeys.error.scope"
}

func (s *Server) apiKeyRevoke(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := s.acct.RevokeAPIKey(c.Request().Context(), actorOf(c), id); err != nil {
		return err
	}
	toast(c, "success", "apikeys.revoked")
	return redirect(c, orgPath(c, "/settings/apikeys"))
}

// --- Sessions ---

func (s *Server) sessionsPage(c echo.Context) error {
	ctx := c.Request().Context()
	u := reqOf(c).User
	list, err := s.acct.Sessions(ctx, u.ID)
	if err != nil {
		return err
	}
	d := settings.SessionsData{Sessions: list}
	if sess := sessionOf(c); sess != nil && sess.ID != "" {
		d.CurrentID, _ = s.acct.SessionID(ctx, sess.ID)
	}
	return render(c, http.StatusOK, settings.Sessions(d), nil)
}

func (s *Server) sessionRevoke(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := s.acct.RevokeSession(c.Request().Context(), actorOf(c), id); err != nil {
		return err
	}
	toast(c, "success", "sessions.revoked")
	return redirect(c, orgPath(c, "/settings/sessions"))
}

func (s *Server) sessionsRevokeAll(c echo.Context) error {
	keep := ""
	if sess := sessionOf(c); sess != nil {
		keep = sess.ID
	}
	if _, err := s.acct.RevokeOtherSessions(c.Request().Context(), actorOf(c), keep); err != nil {
		return err
	}
	toast(c, "success", "sessions.revoked_others")
	return redirect(c, orgPath(c, "/settings/sessions"))
}

// --- Audit log ---

const auditPageSize = 50

func (s *Server) auditPage(c echo.Context) error {
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	if before < 0 {
		before = 0
	}
	entries, err := s.acct.AuditLog(c.Request().Context(), reqOf(c).Org.ID, before, auditPageSize+1)
	if err != nil {
		return err
	}
	d := settings.AuditData{Before: before}
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		d.OlderID = entries[len(entries)-1].ID
	}
	d.Entries = entries
	return render(c, http.StatusOK, settings.Audit(d), nil)
}

// --- Profile ---

func (s *Server) profileData(c echo.Context) settings.ProfileData {
	r := reqOf(c)
	return settings.ProfileData{Name: r.User.Name, Email: r.User.Email, Locale: r.Locale, Theme: r.User.Theme}
}

func (s *Server) profilePage(c echo.Context) error {
	return render(c, http.StatusOK, settings.Profile(s.profileData(c)), nil)
}

func (s *Server) profileSave(c echo.Context) error {
	d := s.profileData(c)
	d.Name, d.Theme = c.FormValue("name"), c.FormValue("theme")
	loc, ok := i18n.Parse(c.FormValue("locale"))
	if !ok {
		d.Errors = map[string]string{"locale": "form.error.required"}
		return refuseForm(c, settings.Profile(d), nil)
	}
	d.Locale = loc
	err := s.acct.UpdateProfile(c.Request().Context(), actorOf(c), d.Name, string(loc), d.Theme)
	var v *model.ValidationError
	if errors.As(err, &v) {
		d.Errors = v.Fields
		return refuseForm(c, settings.Profile(d), nil)
	}
	if err != nil {
		return err
	}
	reqOf(c).Locale = loc
	c.SetCookie(&http.Cookie{Name: localeCookie, Value: string(loc), Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies()})
	toast(c, "success", "toast.saved")
	return redirect(c, orgPath(c, "/settings/profile"))
}
