package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/lib/pq"

	"masteria/app/model"
)

// isUnique tells whether err is a unique-constraint violation.
func isUnique(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "23505"
}

// CreateOrg creates an organization.
func (s *Store) CreateOrg(ctx context.Context, name string) (model.Org, error) {
	var o model.Org
	if err := s.get(ctx, s.q.OrgCreate, &o, name); err != nil {
		return o, fmt.Errorf("store: create org: %w", err)
	}
	return o, nil
}

// Org returns the org with id orgID.
func (s *Store) Org(ctx context.Context, orgID int64) (model.Org, error) {
	var o model.Org
	if err := s.get(ctx, s.q.OrgByID, &o, orgID); err != nil {
		return o, fmt.Errorf("store: org %d: %w", orgID, err)
	}
	return o, nil
}

// OrgByName returns the oldest org with this exact name.
func (s *Store) OrgByName(ctx context.Context, name string) (model.Org, error) {
	var o model.Org
	if err := s.get(ctx, s.q.OrgByName, &o, name); err != nil {
		return o, fmt.Errorf("store: org %q: %w", name, err)
	}
	return o, nil
}

// RenameOrg changes an org's name and returns the org as it is now.
func (s *Store) RenameOrg(ctx context.Context, orgID int64, name string) (model.Org, error) {
	var o model.Org
	if err := s.get(ctx, s.q.OrgRename, &o, orgID, name); err != nil {
		return o, fmt.Errorf("store: rename org %d: %w", orgID, err)
	}
	return o, nil
}

// SetOrgCountry changes the country phone numbers without a country code are read in.
func (s *Store) SetOrgCountry(ctx context.Context, orgID int64, country string) error {
	if _, err := s.exec(ctx, s.q.OrgCountry, orgID, country); err != nil {
		return fmt.Errorf("store: set country %d: %w", orgID, err)
	}
	return nil
}

// SetOrgTimeZone changes the zone the org's campaigns are scheduled in.
func (s *Store) SetOrgTimeZone(ctx context.Context, orgID int64, zone string) error {
	if _, err := s.exec(ctx, s.q.OrgTimeZoneSet, orgID, zone); err != nil {
		return fmt.Errorf("store: set time zone %d: %w", orgID, err)
	}
	return nil
}

// Checklist is what the home page's getting-started list is computed from.
type Checklist struct {
	Members int64 `db:"members"`
	Invites int64 `db:"invites"`
	APIKeys int64 `db:"api_keys"`
	Renamed bool  `db:"renamed"`
}

// OrgChecklist counts what an org has set up so far.
func (s *Store) OrgChecklist(ctx context.Context, orgID int64) (Checklist, error) {
	var c Checklist
	if err := s.get(ctx, s.q.OrgChecklist, &c, orgID); err != nil {
		return c, fmt.Errorf("store: checklist %d: %w", orgID, err)
	}
	return c, nil
}
