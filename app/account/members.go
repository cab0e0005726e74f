package account

import (
	"context"
	"errors"
	"fmt"

	"masteria/app/auth"
	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// Members lists an org's members.
func (s *Service) Members(ctx context.Context, orgID int64) ([]model.Membership, error) {
	return s.st.Members(ctx, orgID)
}

// PendingInvites lists an org's open invites.
func (s *Service) PendingInvites(ctx context.Context, orgID int64) ([]model.Invite, error) {
	return s.st.PendingInvites(ctx, orgID)
}

// Invite creates an invite link for a role. The email is optional: without it, anyone with
// the link may join, which is how most small teams share access over WhatsApp.
func (s *Service) Invite(ctx context.Context, a Actor, email string, role model.Role) (model.Invite, string, error) {
	var inv model.Invite
	v := model.NewValidationError()
	email = model.NormalizeEmail(email)
	if email != "" && !model.ValidEmail(email) {
		v.Add("email", "signup.error.invalid_email")
	}
	if !role.Valid() {
		v.Add("role", "members.error.role")
	} else if !a.Role.CanGrant(role) {
		return inv, "", model.ErrForbidden
	}
	if err := v.Err(); err != nil {
		return inv, "", err
	}
	token, err := auth.NewToken(24)
	if err != nil {
		return inv, "", err
	}
	var emailPtr *string
	if email != "" {
		emailPtr = &email
	}
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		inv, err = tx.CreateInvite(ctx, a.OrgID, emailPtr, role, auth.HashToken(token), a.UserID, s.now().Add(s.InviteTTL))
		if err != nil {
			return err
		}
		target := string(role)
		if email != "" {
			target = email + " (" + string(role) + ")"
		}
		return s.record(ctx, tx, a, "member.invited", target, events.MemberInvited.With(events.MemberInvite{InviteID: inv.ID, Role: role, Email: email}))
	})
	return inv, token, err
}

// RevokeInvite stops an invite link from working.
func (s *Service) RevokeInvite(ctx context.Context, a Actor, inviteID int64) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.RevokeInvite(ctx, a.OrgID, inviteID); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "invite.revoked", fmtID(inviteID), events.InviteRevoked.With(events.InviteRef{InviteID: inviteID}))
	})
}

// InviteByToken finds the invite of a link; an unknown token is model.ErrNotFound.
func (s *Service) InviteByToken(ctx context.Context, token string) (model.Invite, error) {
	return s.st.InviteByToken(ctx, auth.HashToken(token))
}

// ErrInviteUnusable is an invite link that expired, was used or was revoked.
var ErrInviteUnusable = errors.New("account: invite no longer valid")

// AcceptInvite makes the user a member of the invite's org. A user already in the org keeps
// their role and the invite stays usable for someone else.
func (s *Service) AcceptInvite(ctx context.Context, token string, userID int64, ip, ua string) (model.Invite, error) {
	inv, err := s.InviteByToken(ctx, token)
	if err != nil {
		return inv, err
	}
	if !inv.Usable(s.now()) {
		return inv, ErrInviteUnusable
	}
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		return s.join(ctx, tx, inv, userID, ip, ua)
	})
	return inv, err
}

func (s *Service) join(ctx context.Context, tx *store.Store, inv model.Invite, userID int64, ip, ua string) error {
	u, err := tx.User(ctx, userID)
	if err != nil {
		return err
	}
	if inv.Email != nil && *inv.Email != u.Email {
		return model.FieldError("email", "invites.error.other_email")
	}
	added, err := tx.AddMember(ctx, inv.OrgID, userID, inv.Role)
	if err != nil || !added {
		return err
	}
	if err := tx.AcceptInvite(ctx, inv.OrgID, inv.ID, userID); err != nil {
		if errors.Is(err, model.ErrNotFound) {
			return ErrInviteUnusable
		}
		return err
	}
	a := Actor{UserID: userID, OrgID: inv.OrgID, IP: ip, UserAgent: ua}
	return s.record(ctx, tx, a, "member.joined", u.Email+" ("+string(inv.Role)+")", events.MemberJoined.With(events.Member{UserID: userID, Role: inv.Role}))
}

// SignupWithInvite creates an account from an invite link and joins the org in one go.
func (s *Service) SignupWithInvite(ctx context.Context, token string, in SignupInput, ip, ua string) (model.User, model.Invite, error) {
	var u model.User
	inv, err := s.InviteByToken(ctx, token)
	if err != nil {
		return u, inv, err
	}
	if !inv.Usable(s.now()) {
		return u, inv, ErrInviteUnusable
	}
	if err := in.validate(false); err != nil {
		return u, inv, err
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return u, inv, err
	}
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		if u, err = createUser(ctx, tx, in, hash); err != nil {
			return err
		}
		return s.join(ctx, tx, inv, u.ID, ip, ua)
	})
	return u, inv, err
}

// SetRole changes a member's role. Nobody grants above their own role, only owners touch
// owners, and the last owner keeps their role.
func (s *Service) SetRole(ctx context.Context, a Actor, userID int64, role model.Role) error {
	if !role.Valid() {
		return model.FieldError("role", "members.error.role")
	}
	if !a.Role.CanGrant(role) {
		return model.ErrForbidden
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.LockOrg(ctx, a.OrgID); err != nil {
			return err
		}
		m, err := tx.Member(ctx, a.OrgID, userID)
		if err != nil {
			return err
		}
		if m.Role == role {
			return nil
		}
		if !a.Role.CanGrant(m.Role) {
			return model.ErrForbidden
		}
		if err := keepAnOwner(ctx, tx, m); err != nil {
			return err
		}
		if err := tx.SetMemberRole(ctx, a.OrgID, userID, role); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "member.role_changed", fmt.Sprintf("%s: %s → %s", m.UserEmail, m.Role, role), events.MemberRoleChanged.With(events.Member{UserID: userID, Role: role}))
	})
}

// keepAnOwner refuses to change m when m is the org's only owner. The caller holds the
// org's lock (LockOrg), so two owners cannot demote each other at the same moment.
func keepAnOwner(ctx context.Context, tx *store.Store, m model.Membership) error {
	if m.Role != model.RoleOwner {
		return nil
	}
	n, err := tx.CountOwners(ctx, m.OrgID)
	if err != nil {
		return err
	}
	if n <= 1 {
		return ErrLastOwner
	}
	return nil
}

// RemoveMember takes someone out of the org (or lets a member leave: userID == a.UserID).
func (s *Service) RemoveMember(ctx context.Context, a Actor, userID int64) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.LockOrg(ctx, a.OrgID); err != nil {
			return err
		}
		m, err := tx.Member(ctx, a.OrgID, userID)
		if err != nil {
			return err
		}
		if userID != a.UserID && !a.Role.CanGrant(m.Role) {
			return model.ErrForbidden
		}
		if err := keepAnOwner(ctx, tx, m); err != nil {
			return err
		}
		if err := tx.RemoveMember(ctx, a.OrgID, userID); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "member.removed", m.UserEmail, events.MemberRemoved.With(events.MemberRef{UserID: userID}))
	})
}
