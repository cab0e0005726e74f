package account

import (
	"context"
	"errors"
	"strings"

	"masteria/app/auth"
	"masteria/app/model"
	"masteria/app/store"
)

// UserInOrg is what the command line created.
type UserInOrg struct {
	User model.User
	Org  model.Org
	Role model.Role
}

// CreateUserInOrg is `masteria user create`: it adds a user (or finds one with that email and
// password) to the org of that name, creating the org when there is none.
func (s *Service) CreateUserInOrg(ctx context.Context, orgName, name, email, password string, role model.Role) (UserInOrg, error) {
	var res UserInOrg
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	in := SignupInput{Org: orgName, Name: name, Email: email, Password: password}
	if err := in.validate(true); err != nil {
		return res, err
	}
	if !role.Valid() {
		return res, model.FieldError("role", "members.error.role")
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return res, err
	}
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		if res.Org, err = tx.OrgByName(ctx, in.Org); errors.Is(err, model.ErrNotFound) {
			res.Org, err = tx.CreateOrg(ctx, in.Org)
		}
		if err != nil {
			return err
		}
		// Look the user up before creating: a failed INSERT would abort the transaction.
		res.User, err = tx.UserByEmail(ctx, in.Email)
		switch {
		case errors.Is(err, model.ErrNotFound):
			if res.User, err = tx.CreateUser(ctx, in.Email, in.Name, &hash, nil); err != nil {
				return err
			}
		case err != nil:
			return err
		case res.User.PasswordHash == nil || auth.CheckPassword(*res.User.PasswordHash, in.Password) != nil:
			return model.FieldError("email", "signup.error.email_taken")
		}
		if _, err := tx.AddMember(ctx, res.Org.ID, res.User.ID, role); err != nil {
			return err
		}
		m, err := tx.Member(ctx, res.Org.ID, res.User.ID)
		res.Role = m.Role
		return err
	})
	return res, err
}

// CreateAPIKeyForOrgName makes a key that may do everything in the org named.
func (s *Service) CreateAPIKeyForOrgName(ctx context.Context, orgName, name string) (string, error) {
	return s.CreateScopedAPIKeyForOrgName(ctx, orgName, name, "")
}

// CreateScopedAPIKeyForOrgName is `masteria apikey create`: a key of the org named, limited
// to scope (model.ParseScope; empty is everything).
func (s *Service) CreateScopedAPIKeyForOrgName(ctx context.Context, orgName, name, scope string) (string, error) {
	o, err := s.st.OrgByName(ctx, orgName)
	if err != nil {
		return "", err
	}
	_, key, err := s.CreateScopedAPIKey(ctx, Actor{OrgID: o.ID, Role: model.RoleOwner, IP: "cli", UserAgent: "masteria apikey create"}, name, scope)
	return key, err
}
