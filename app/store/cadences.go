package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"

	"masteria/app/model"
)

// cadenceQueries are the cadences' definitions (queries/cadences.sql).
type cadenceQueries struct {
	Cadence             *sqlx.Stmt `query:"cadence"`
	CadenceVersionSteps *sqlx.Stmt `query:"cadence-version-steps"`
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
