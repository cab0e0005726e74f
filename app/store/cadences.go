package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"masteria/app/model"
)

// cadenceQueries are the cadences' definitions (queries/cadences.sql).
type cadenceQueries struct {
	Cadence             *sqlx.Stmt `query:"cadence"`
	CadenceVersionSteps *sqlx.Stmt `query:"cadence-version-steps"`

	Cadences              *sqlx.Stmt `query:"cadences"`
	CadenceCreate         *sqlx.Stmt `query:"cadence-create"`
	CadenceVersionCreate  *sqlx.Stmt `query:"cadence-version-create"`
	CadenceLock           *sqlx.Stmt `query:"cadence-lock"`
	CadenceVersionWalked  *sqlx.Stmt `query:"cadence-version-walked"`
	CadenceVersionRewrite *sqlx.Stmt `query:"cadence-version-rewrite"`
	CadenceUpdate         *sqlx.Stmt `query:"cadence-update"`
	CadenceSetStatus      *sqlx.Stmt `query:"cadence-set-status"`
	CadenceRefsMissing    *sqlx.Stmt `query:"cadence-refs-missing"`
}

// Cadence returns one cadence of the org, without its steps.
func (s *Store) Cadence(ctx context.Context, orgID, id int64) (model.Cadence, error) {
	var c model.Cadence
	if err := s.get(ctx, s.q.Cadence, &c, orgID, id); err != nil {
		return c, fmt.Errorf("store: cadence %d: %w", id, err)
	}
	return c, nil
}

// CadenceSteps returns the steps of one version of the org's cadence.
func (s *Store) CadenceSteps(ctx context.Context, orgID, cadenceID int64, version int) ([]model.CadenceStep, error) {
	var raw []byte
	if err := s.get(ctx, s.q.CadenceVersionSteps, &raw, orgID, cadenceID, version); err != nil {
		return nil, fmt.Errorf("store: cadence %d version %d: %w", cadenceID, version, err)
	}
	var steps []model.CadenceStep
	if err := json.Unmarshal(raw, &steps); err != nil {
		return nil, fmt.Errorf("store: cadence %d version %d: %w", cadenceID, version, err)
	}
	return steps, nil
}

// Cadences lists the org's cadences, newest first (ids below before when it is not 0),
// with how many people are in each, finished and left early.
func (s *Store) Cadences(ctx context.Context, orgID, before int64, limit int) ([]model.CadenceListItem, error) {
	var out []model.CadenceListItem
	if err := s.sel(ctx, s.q.Cadences, &out, orgID, before, limit); err != nil {
		return nil, fmt.Errorf("store: cadences: %w", err)
	}
	return out, nil
}

// CreateCadence stores a new draft cadence and its first version's steps; it returns the id.
func (s *Store) CreateCadence(ctx context.Context, c model.Cadence) (int64, error) {
	raw, err := json.Marshal(c.Steps)
	if err != nil {
		return 0, fmt.Errorf("store: cadence steps: %w", err)
	}
	var id int64
	err = s.Tx(ctx, func(tx *Store) error {
		if err := tx.get(ctx, tx.q.CadenceCreate, &id, c.OrgID, c.Name, c.EnrolSegmentID, c.EnrolStageID, c.ExitOnReply,
			c.ExitOnStageChange, c.GoalStageID, c.CreatedBy); err != nil {
			return err
		}
		_, err := tx.exec(ctx, tx.q.CadenceVersionCreate, c.OrgID, id, 1, raw, c.CreatedBy)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: create cadence: %w", err)
	}
	return id, nil
}

// CadenceEdit is what an edit of a cadence changed, as the store wrote it.
type CadenceEdit struct {
	Version    int  // the version the steps are now in
	NewVersion bool // the edit made a new version (people walk the old one)
}

// UpdateCadence saves a cadence's name, enrol and exit settings and its steps. When anybody
// was enrolled on the current version the steps go into a new version (those enrolled stay
// on theirs); otherwise the current version is rewritten. An archived cadence is
// model.ErrConflict. It runs in one transaction that holds the cadence's row.
func (s *Store) UpdateCadence(ctx context.Context, c model.Cadence, by *int64) (CadenceEdit, error) {
	var out CadenceEdit
	raw, err := json.Marshal(c.Steps)
	if err != nil {
		return out, fmt.Errorf("store: cadence steps: %w", err)
	}
	err = s.Tx(ctx, func(tx *Store) error {
		var cur model.Cadence
		if err := tx.get(ctx, tx.q.CadenceLock, &cur, c.OrgID, c.ID); err != nil {
			return err
		}
		if cur.Status == model.CadenceArchived {
			return model.ErrConflict
		}
		var walked bool
		if err := tx.get(ctx, tx.q.CadenceVersionWalked, &walked, c.OrgID, c.ID, cur.CurrentVersion); err != nil {
			return err
		}
		out.Version = cur.CurrentVersion
		if walked {
			out.Version, out.NewVersion = cur.CurrentVersion+1, true
			if _, err := tx.exec(ctx, tx.q.CadenceVersionCreate, c.OrgID, c.ID, out.Version, raw, by); err != nil {
				return err
			}
		} else if _, err := tx.exec(ctx, tx.q.CadenceVersionRewrite, c.OrgID, c.ID, out.Version, raw, by); err != nil {
			return err
		}
		_, err := tx.exec(ctx, tx.q.CadenceUpdate, c.OrgID, c.ID, c.Name, out.Version, c.EnrolSegmentID, c.EnrolStageID,
			c.ExitOnReply, c.ExitOnStageChange, c.GoalStageID)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("store: update cadence %d: %w", c.ID, err)
	}
	return out, nil
}

// SetCadenceStatus moves a cadence to status when it is in one of from; false when it was
// in none of them (or is not the org's).
func (s *Store) SetCadenceStatus(ctx context.Context, orgID, id int64, status string, from []string) (bool, error) {
	var got int64
	err := s.get(ctx, s.q.CadenceSetStatus, &got, orgID, id, status, pq.Array(from))
	if errors.Is(err, model.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: cadence %d status: %w", id, err)
	}
	return true, nil
}

// CadenceRefs are the ids of other things a cadence names.
type CadenceRefs struct {
	Stages, Tags, Users, Numbers, Segments []int64
}

// CadenceRefsMissing returns the ids of refs that are not the org's, as "kind:id"
// (stage, tag, user, number, segment); none when all are.
func (s *Store) CadenceRefsMissing(ctx context.Context, orgID int64, r CadenceRefs) ([]string, error) {
	arr := func(ids []int64) any {
		if ids == nil {
			ids = []int64{}
		}
		return pq.Array(ids)
	}
	var out []string
	if err := s.sel(ctx, s.q.CadenceRefsMissing, &out, orgID, arr(r.Stages), arr(r.Tags), arr(r.Users), arr(r.Numbers),
		arr(r.Segments)); err != nil {
		return nil, fmt.Errorf("store: cadence references: %w", err)
	}
	return out, nil
}
