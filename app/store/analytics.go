package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// analyticsQueries are the queries of the metric engine's rollup job (queries/analytics.sql);
// each family of metrics has its own file beside it.
type analyticsQueries struct {
	AnalyticsTakeMarks *sqlx.Stmt `query:"analytics-take-marks"`
	AnalyticsLock      *sqlx.Stmt `query:"analytics-lock"`
	AnalyticsMark      *sqlx.Stmt `query:"analytics-mark"`
}

// AnalyticsMark is a change a rollup must work out again: a key of the rollup (0 for none)
// and the moment whose bucket changed (zero for none).
type AnalyticsMark struct {
	OrgID int64        `db:"org_id"`
	Kind  string       `db:"kind"`
	Key   int64        `db:"key"`
	At    sql.NullTime `db:"at"`
}

// TakeAnalyticsMarks deletes and returns up to limit of the oldest marks; inside a
// transaction, a rollback puts them back.
func (s *Store) TakeAnalyticsMarks(ctx context.Context, limit int) ([]AnalyticsMark, error) {
	var out []AnalyticsMark
	if err := s.stmt(ctx, s.q.AnalyticsTakeMarks).SelectContext(ctx, &out, limit); err != nil {
		return nil, fmt.Errorf("store: take analytics marks: %w", err)
	}
	return out, nil
}

// LockAnalytics holds the org's rollup of kind until the transaction ends.
func (s *Store) LockAnalytics(ctx context.Context, orgID int64, kind string) error {
	if _, err := s.stmt(ctx, s.q.AnalyticsLock).ExecContext(ctx, orgID, kind); err != nil {
		return fmt.Errorf("store: lock analytics %s: %w", kind, err)
	}
	return nil
}

// MarkAnalytics leaves a mark for a rollup (at zero: no bucket).
func (s *Store) MarkAnalytics(ctx context.Context, orgID int64, kind string, key int64, at time.Time) error {
	var when sql.NullTime
	if !at.IsZero() {
		when = sql.NullTime{Time: at, Valid: true}
	}
	if _, err := s.stmt(ctx, s.q.AnalyticsMark).ExecContext(ctx, orgID, kind, key, when); err != nil {
		return fmt.Errorf("store: mark analytics %s: %w", kind, err)
	}
	return nil
}
