// Package account is the service behind sign-up, login, organizations, members, invites,
// API keys and sessions. Every change it makes writes its audit entry and its event in the
// same transaction, so what the audit log and open pages show is what happened.
package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"masteria/app/auth"
	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// Actor is who makes a change and from where (model.Actor).
type Actor = model.Actor

// Service runs account operations on a store.
type Service struct {
	st  *store.Store
	now func() time.Time
	// Login limits: after MaxFailures failed logins within FailureWindow, an email is locked
	// until the window passes, on every instance (the count lives in the database).
	MaxFailures   int64
	FailureWindow time.Duration
	InviteTTL     time.Duration
}

// New returns the account service.
func New(st *store.Store) *Service {
	return &Service{st: st, now: time.Now, MaxFailures: 5, FailureWindow: 15 * time.Minute, InviteTTL: 7 * 24 * time.Hour}
}

// ErrTooManyAttempts is a login refused because of too many recent failures.
var ErrTooManyAttempts = errors.New("account: too many login attempts")

// ErrBadCredentials is a wrong email or password; the two are never told apart.
var ErrBadCredentials = errors.New("account: wrong email or password")

// ErrLastOwner is a change that would leave an org without an owner.
var ErrLastOwner = errors.New("account: an org needs at least one owner")

func (s *Service) audit(ctx context.Context, tx *store.Store, a Actor, action, target string) error {
	var uid *int64
	if a.UserID != 0 {
		uid = &a.UserID
	}
	return tx.Audit(ctx, model.AuditEntry{OrgID: a.OrgID, UserID: uid, Action: action, Target: target, IP: a.IP, UserAgent: a.UserAgent})
}

// SignupInput is what the sign-up form sends.
type SignupInput struct {
	Org, Name, Email, Password string
	Locale                     string
}

// validate checks the fields of a new account and normalizes them in place.
func (in *SignupInput) validate(needOrg bool) error {
	v := model.NewValidationError()
	var ok bool
	if needOrg {
		if in.Org, ok = model.CleanName(in.Org); !ok {
			v.Add("org", "signup.error.required")
		}
	}
	if in.Name, ok = model.CleanName(in.Name); !ok {
		v.Add("name", "signup.error.required")
	}
	in.Email = model.NormalizeEmail(in.Email)
	if in.Email == "" {
		v.Add("email", "signup.error.required")
	} else if !model.ValidEmail(in.Email) {
		v.Add("email", "signup.error.invalid_email")
	}
	if p := model.PasswordProblem(in.Password, in.Email); p != "" {
		v.Add("password", p)
	}
	return v.Err()
}

// createUser adds the user of a sign-up form; a taken email is a field error.
func createUser(ctx context.Context, tx *store.Store, in SignupInput, hash string) (model.User, error) {
	var loc *string
	if in.Locale != "" {
		loc = &in.Locale
	}
	u, err := tx.CreateUser(ctx, in.Email, in.Name, &hash, loc)
	if errors.Is(err, model.ErrConflict) {
		return u, model.FieldError("email", "signup.error.email_taken")
	}
	return u, err
}

// record writes a change's audit entry and its event (the zero Pending: none): both in tx,
// so they exist exactly when the change does.
func (s *Service) record(ctx context.Context, tx *store.Store, a Actor, action, target string, ev events.Pending) error {
	if err := s.audit(ctx, tx, a, action, target); err != nil {
		return err
	}
	return ev.Publish(ctx, tx, a.OrgID)
}

// Signup creates an org and its owner. An email already taken is a field error, which is
// fine to show here: sign-up cannot hide it, and login stays silent about accounts.
func (s *Service) Signup(ctx context.Context, in SignupInput, ip, ua string) (model.User, model.Org, error) {
	var u model.User
	var o model.Org
	if err := in.validate(true); err != nil {
		return u, o, err
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return u, o, err
	}
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		if u, err = createUser(ctx, tx, in, hash); err != nil {
			return err
		}
		if o, err = tx.CreateOrg(ctx, in.Org); err != nil {
			return err
		}
		if _, err := tx.AddMember(ctx, o.ID, u.ID, model.RoleOwner); err != nil {
			return err
		}
		return s.audit(ctx, tx, Actor{UserID: u.ID, OrgID: o.ID, IP: ip, UserAgent: ua}, "org.created", o.Name)
	})
	return u, o, err
}

// Login checks an email and password. It answers ErrBadCredentials whether the email is
// unknown or the password wrong, taking the same time for both.
func (s *Service) Login(ctx context.Context, email, password, ip, ua string) (model.User, error) {
	email = model.NormalizeEmail(email)
	var u model.User
	fails, err := s.st.RecentLoginFailures(ctx, email, s.FailureWindow)
	if err != nil {
		return u, err
	}
	if fails >= s.MaxFailures {
		return u, ErrTooManyAttempts
	}
	u, err = s.st.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, model.ErrNotFound):
		_ = auth.CheckNoUser(password)
		return model.User{}, s.failLogin(ctx, 0, email, ip, ua)
	case err != nil:
		return model.User{}, err
	case u.PasswordHash == nil:
		_ = auth.CheckNoUser(password) // an account made through Google or Facebook only
		return model.User{}, s.failLogin(ctx, u.ID, email, ip, ua)
	}
	// A failed login returns no user, known or not (nor its hash): nothing tells them apart.
	if err := auth.CheckPassword(*u.PasswordHash, password); err != nil {
		return model.User{}, s.failLogin(ctx, u.ID, email, ip, ua)
	}
	if err := s.st.RecordLoginAttempt(ctx, email, ip, true); err != nil {
		return u, err
	}
	return u, s.auditEveryOrg(ctx, u.ID, "login.succeeded", ip, ua, "")
}

func (s *Service) failLogin(ctx context.Context, userID int64, email, ip, ua string) error {
	if err := s.st.RecordLoginAttempt(ctx, email, ip, false); err != nil {
		return err
	}
	if userID != 0 {
		if err := s.auditEveryOrg(ctx, userID, "login.failed", ip, ua, ""); err != nil {
			return err
		}
	}
	return ErrBadCredentials
}

// auditEveryOrg writes a user-level action (a login, a logout) into the audit log of each
// org the user belongs to, so each org's owners see who came in.
func (s *Service) auditEveryOrg(ctx context.Context, userID int64, action, ip, ua, target string) error {
	ms, err := s.st.MembershipsOfUser(ctx, userID)
	if err != nil {
		return err
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		for _, m := range ms {
			if err := s.audit(ctx, tx, Actor{UserID: userID, OrgID: m.OrgID, IP: ip, UserAgent: ua}, action, target); err != nil {
				return err
			}
		}
		return nil
	})
}

// Logout records a logout in the user's orgs' audit logs.
func (s *Service) Logout(ctx context.Context, userID int64, ip, ua string) error {
	return s.auditEveryOrg(ctx, userID, "logout", ip, ua, "")
}

// Membership returns a user's place in an org; not a member is model.ErrNotFound, so an org
// the user cannot see looks the same as one that does not exist.
func (s *Service) Membership(ctx context.Context, orgID, userID int64) (model.Membership, error) {
	return s.st.Member(ctx, orgID, userID)
}

// RenameOrg changes the org's name.
func (s *Service) RenameOrg(ctx context.Context, a Actor, name string) (model.Org, error) {
	var o model.Org
	name, ok := model.CleanName(name)
	if !ok {
		return o, model.FieldError("name", "signup.error.required")
	}
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		if o, err = tx.RenameOrg(ctx, a.OrgID, name); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "org.renamed", name, events.OrgRenamed.With(events.IDName{ID: o.ID, Name: o.Name}))
	})
	return o, err
}

// SetOrgCountry changes the country phone numbers typed without a country code are read in.
func (s *Service) SetOrgCountry(ctx context.Context, a Actor, country string) error {
	if !slices.Contains(model.Countries, country) {
		return model.FieldError("country", "settings.general.country_error")
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SetOrgCountry(ctx, a.OrgID, country); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "org.country_changed", country, events.Pending{})
	})
}

// SetOrgTimeZone changes the zone the org's campaigns are scheduled in: one of
// model.TimeZones.
func (s *Service) SetOrgTimeZone(ctx context.Context, a Actor, zone string) error {
	if !model.ListedTimeZone(zone) {
		return model.FieldError("time_zone", "settings.general.time_zone_error")
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SetOrgTimeZone(ctx, a.OrgID, zone); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "org.time_zone_changed", zone, events.Pending{})
	})
}

// CreateOrg makes a new org owned by the user.
func (s *Service) CreateOrg(ctx context.Context, userID int64, name, ip, ua string) (model.Org, error) {
	var o model.Org
	name, ok := model.CleanName(name)
	if !ok {
		return o, model.FieldError("name", "signup.error.required")
	}
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		if o, err = tx.CreateOrg(ctx, name); err != nil {
			return err
		}
		if _, err := tx.AddMember(ctx, o.ID, userID, model.RoleOwner); err != nil {
			return err
		}
		return s.audit(ctx, tx, Actor{UserID: userID, OrgID: o.ID, IP: ip, UserAgent: ua}, "org.created", name)
	})
	return o, err
}

// Checklist returns what the org has set up, for the home page.
func (s *Service) Checklist(ctx context.Context, orgID int64) (store.Checklist, error) {
	return s.st.OrgChecklist(ctx, orgID)
}

// Org returns an org by id.
func (s *Service) Org(ctx context.Context, orgID int64) (model.Org, error) {
	return s.st.Org(ctx, orgID)
}

// User returns a user by id.
func (s *Service) User(ctx context.Context, userID int64) (model.User, error) {
	return s.st.User(ctx, userID)
}

// Orgs lists the orgs of a user.
func (s *Service) Orgs(ctx context.Context, userID int64) ([]model.Membership, error) {
	return s.st.MembershipsOfUser(ctx, userID)
}

// AuditLog pages through an org's audit log.
func (s *Service) AuditLog(ctx context.Context, orgID, beforeID int64, limit int) ([]model.AuditEntry, error) {
	return s.st.AuditLog(ctx, orgID, beforeID, limit)
}

// UpdateProfile saves the user's name, language and theme.
func (s *Service) UpdateProfile(ctx context.Context, a Actor, name, locale, theme string) error {
	name, ok := model.CleanName(name)
	v := model.NewValidationError()
	if !ok {
		v.Add("name", "signup.error.required")
	}
	if theme != "light" && theme != "dark" && theme != "system" {
		v.Add("theme", "signup.error.required")
	}
	if err := v.Err(); err != nil {
		return err
	}
	var loc *string
	if locale != "" {
		loc = &locale
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.UpdateProfile(ctx, a.UserID, name, loc, theme); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "profile.updated", "")
	})
}

// SetTheme saves the theme picked in the user menu, so every device of the user follows it.
func (s *Service) SetTheme(ctx context.Context, userID int64, theme string) error {
	if theme != "light" && theme != "dark" && theme != "system" {
		return model.FieldError("theme", "form.error.required")
	}
	return s.st.SetUserTheme(ctx, userID, theme)
}

// SetLocale saves the language a user picked from the switcher.
func (s *Service) SetLocale(ctx context.Context, a Actor, locale string) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SetUserLocale(ctx, a.UserID, locale); err != nil {
			return err
		}
		if a.OrgID == 0 {
			return nil
		}
		return s.audit(ctx, tx, a, "locale.changed", locale)
	})
}

func fmtID(id int64) string { return fmt.Sprintf("#%d", id) }
