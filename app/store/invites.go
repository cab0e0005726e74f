package store

import (
	"context"
	"fmt"
	"time"

	"masteria/app/model"
)

// CreateInvite stores an invite; only the hash of its link token is kept.
func (s *Store) CreateInvite(ctx context.Context, orgID int64, email *string, role model.Role, tokenHash []byte, invitedBy int64, expires time.Time) (model.Invite, error) {
	var i model.Invite
	if err := s.get(ctx, s.q.InviteCreate, &i, orgID, email, role, tokenHash, invitedBy, expires); err != nil {
		return i, fmt.Errorf("store: create invite: %w", err)
	}
	return i, nil
}

// PendingInvites lists an org's invites that can still be accepted.
func (s *Store) PendingInvites(ctx context.Context, orgID int64) ([]model.Invite, error) {
	var is []model.Invite
	if err := s.sel(ctx, s.q.InvitesPending, &is, orgID); err != nil {
		return nil, fmt.Errorf("store: pending invites: %w", err)
	}
	return is, nil
}

// InviteByToken finds an invite from the hash of its link token.
func (s *Store) InviteByToken(ctx context.Context, tokenHash []byte) (model.Invite, error) {
	var i model.Invite
	if err := s.get(ctx, s.q.InviteByToken, &i, tokenHash); err != nil {
		return i, fmt.Errorf("store: invite by token: %w", err)
	}
	return i, nil
}

// AcceptInvite marks an invite used; one already used, revoked or expired is model.ErrNotFound.
func (s *Store) AcceptInvite(ctx context.Context, orgID, inviteID, userID int64) error {
	n, err := s.exec(ctx, s.q.InviteAccept, orgID, inviteID, userID)
	if err != nil {
		return fmt.Errorf("store: accept invite: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: accept invite: %w", model.ErrNotFound)
	}
	return nil
}

// RevokeInvite stops an invite link from working.
func (s *Store) RevokeInvite(ctx context.Context, orgID, inviteID int64) error {
	n, err := s.exec(ctx, s.q.InviteRevoke, orgID, inviteID)
	if err != nil {
		return fmt.Errorf("store: revoke invite: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: revoke invite: %w", model.ErrNotFound)
	}
	return nil
}
