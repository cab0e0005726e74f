package store

import (
	"context"
	"fmt"
	"time"

	"masteria/app/model"
)

// Audit records one action in an org's audit log.
func (s *Store) Audit(ctx context.Context, e model.AuditEntry) error {
	if _, err := s.exec(ctx, s.q.AuditInsert, e.OrgID, e.UserID, e.Action, e.Target, e.IP, e.UserAgent); err != nil {
		return fmt.Errorf("store: audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditLog lists an org's audit entries newest first, older than beforeID when it is not 0.
func (s *Store) AuditLog(ctx context.Context, orgID, beforeID int64, limit int) ([]model.AuditEntry, error) {
	var es []model.AuditEntry
	if err := s.sel(ctx, s.q.AuditList, &es, orgID, beforeID, limit); err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	return es, nil
}

// RecordLoginAttempt notes a login try for the per-email limit.
func (s *Store) RecordLoginAttempt(ctx context.Context, email, ip string, ok bool) error {
	if _, err := s.exec(ctx, s.q.LoginAttemptInsert, email, ip, ok); err != nil {
		return fmt.Errorf("store: login attempt: %w", err)
	}
	return nil
}

// RecentLoginFailures counts failed logins of an email within window since its last success.
func (s *Store) RecentLoginFailures(ctx context.Context, email string, window time.Duration) (int64, error) {
	var n int64
	if err := s.get(ctx, s.q.LoginFailuresRecent, &n, email, fmt.Sprintf("%d seconds", int64(window.Seconds()))); err != nil {
		return 0, fmt.Errorf("store: login failures: %w", err)
	}
	return n, nil
}

// DeleteOldLoginAttempts forgets login attempts older than a day.
func (s *Store) DeleteOldLoginAttempts(ctx context.Context) (int64, error) {
	n, err := s.exec(ctx, s.q.LoginAttemptsDeleteOld)
	if err != nil {
		return 0, fmt.Errorf("store: delete login attempts: %w", err)
	}
	return n, nil
}
