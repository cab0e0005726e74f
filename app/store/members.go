package store

import (
	"context"
	"fmt"

	"masteria/app/model"
)

// AddMember gives a user a role in an org; a user already in it keeps their role.
func (s *Store) AddMember(ctx context.Context, orgID, userID int64, role model.Role) (bool, error) {
	n, err := s.exec(ctx, s.q.MemberCreate, orgID, userID, role)
	if err != nil {
		return false, fmt.Errorf("store: add member: %w", err)
	}
	return n == 1, nil
}

// Member returns a user's membership of an org; not a member is model.ErrNotFound.
func (s *Store) Member(ctx context.Context, orgID, userID int64) (model.Membership, error) {
	var m model.Membership
	if err := s.get(ctx, s.q.Member, &m, orgID, userID); err != nil {
		return m, fmt.Errorf("store: member %d of org %d: %w", userID, orgID, err)
	}
	return m, nil
}

// Members lists an org's members, owners first.
func (s *Store) Members(ctx context.Context, orgID int64) ([]model.Membership, error) {
	var ms []model.Membership
	if err := s.sel(ctx, s.q.Members, &ms, orgID); err != nil {
		return nil, fmt.Errorf("store: members of org %d: %w", orgID, err)
	}
	return ms, nil
}

// MembershipsOfUser lists the orgs a user belongs to, by name.
func (s *Store) MembershipsOfUser(ctx context.Context, userID int64) ([]model.Membership, error) {
	var ms []model.Membership
	if err := s.sel(ctx, s.q.MembershipsOfUser, &ms, userID); err != nil {
		return nil, fmt.Errorf("store: memberships of user %d: %w", userID, err)
	}
	return ms, nil
}

// LockOrg takes a row lock on the org until the transaction ends, so two admins changing
// roles at once cannot both remove the last owner.
func (s *Store) LockOrg(ctx context.Context, orgID int64) error {
	var id int64
	if err := s.get(ctx, s.q.MemberLockOrg, &id, orgID); err != nil {
		return fmt.Errorf("store: lock org %d: %w", orgID, err)
	}
	return nil
}

// CountOwners counts an org's owners.
func (s *Store) CountOwners(ctx context.Context, orgID int64) (int64, error) {
	var n int64
	if err := s.get(ctx, s.q.MemberCountOwners, &n, orgID); err != nil {
		return 0, fmt.Errorf("store: count owners: %w", err)
	}
	return n, nil
}

// SetMemberRole changes a member's role.
func (s *Store) SetMemberRole(ctx context.Context, orgID, userID int64, role model.Role) error {
	n, err := s.exec(ctx, s.q.MemberSetRole, orgID, userID, role)
	if err != nil {
		return fmt.Errorf("store: set role: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: set role: %w", model.ErrNotFound)
	}
	return nil
}

// RemoveMember takes a user out of an org.
func (s *Store) RemoveMember(ctx context.Context, orgID, userID int64) error {
	n, err := s.exec(ctx, s.q.MemberDelete, orgID, userID)
	if err != nil {
		return fmt.Errorf("store: remove member: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: remove member: %w", model.ErrNotFound)
	}
	return nil
}
