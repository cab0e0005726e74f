package account

import (
	"context"
	"errors"
	"strings"

	"masteria/app/model"
	"masteria/app/store"
)

// Identity is who Google or Facebook says the person is.
type Identity struct {
	Provider, Subject, Email, Name string
	EmailVerified                  bool
}

// ErrUnverifiedEmail is a provider login whose email the provider has not verified: linking
// it to an existing account would let anyone claim that account.
var ErrUnverifiedEmail = errors.New("account: the provider did not verify this email")

// LoginWithIdentity finds or creates the user behind a provider login. A known identity logs
// in; a verified email of an existing user links to it; otherwise a new user is created with
// its own org, named after them, as a sign-up would. created tells the caller which.
func (s *Service) LoginWithIdentity(ctx context.Context, id Identity, ip, ua string) (u model.User, created bool, err error) {
	if uid, err := s.st.UserIDByIdentity(ctx, id.Provider, id.Subject); err == nil {
		u, err = s.st.User(ctx, uid)
		if err != nil {
			return u, false, err
		}
		return u, false, s.auditEveryOrg(ctx, u.ID, "login.succeeded", ip, ua, id.Provider)
	} else if !errors.Is(err, model.ErrNotFound) {
		return u, false, err
	}
	email := model.NormalizeEmail(id.Email)
	if !id.EmailVerified || !model.ValidEmail(email) {
		return u, false, ErrUnverifiedEmail
	}
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		existing, err := tx.UserByEmail(ctx, email)
		switch {
		case err == nil:
			u = existing
		case errors.Is(err, model.ErrNotFound):
			name, ok := model.CleanName(id.Name)
			if !ok {
				name, _, _ = strings.Cut(email, "@")
			}
			if u, err = tx.CreateUser(ctx, email, name, nil, nil); err != nil {
				return err
			}
			o, err := tx.CreateOrg(ctx, name)
			if err != nil {
				return err
			}
			if _, err := tx.AddMember(ctx, o.ID, u.ID, model.RoleOwner); err != nil {
				return err
			}
			created = true
		default:
			return err
		}
		return tx.LinkIdentity(ctx, id.Provider, id.Subject, u.ID, email)
	})
	if err != nil {
		return u, false, err
	}
	return u, created, s.auditEveryOrg(ctx, u.ID, "login.succeeded", ip, ua, id.Provider)
}
