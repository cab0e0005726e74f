package store

import (
	"context"
	"fmt"
	"time"

	"masteria/app/model"
)

// SessionRow is a stored session as the session store needs it.
type SessionRow struct {
	ID        int64     `db:"id"`
	UserID    int64     `db:"user_id"`
	Data      []byte    `db:"data"`
	ExpiresAt time.Time `db:"expires_at"`
}

// CreateSession stores a new login.
func (s *Store) CreateSession(ctx context.Context, tokenHash []byte, userID int64, data []byte, ip, userAgent string, expires time.Time) (int64, error) {
	var id int64
	if err := s.get(ctx, s.q.SessionCreate, &id, tokenHash, userID, data, ip, userAgent, expires); err != nil {
		return 0, fmt.Errorf("store: create session: %w", err)
	}
	return id, nil
}

// SessionByToken returns a live session; an expired or unknown one is model.ErrNotFound.
func (s *Store) SessionByToken(ctx context.Context, tokenHash []byte) (SessionRow, error) {
	var r SessionRow
	if err := s.get(ctx, s.q.SessionByToken, &r, tokenHash); err != nil {
		return r, fmt.Errorf("store: session: %w", err)
	}
	return r, nil
}

// UpdateSession saves a session's data and pushes its expiry back.
func (s *Store) UpdateSession(ctx context.Context, tokenHash, data []byte, expires time.Time, ip, userAgent string) error {
	n, err := s.exec(ctx, s.q.SessionUpdate, tokenHash, data, expires, ip, userAgent)
	if err != nil {
		return fmt.Errorf("store: update session: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: update session: %w", model.ErrNotFound)
	}
	return nil
}

// DeleteSession ends one session by its token.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if _, err := s.exec(ctx, s.q.SessionDelete, tokenHash); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// Sessions lists a user's live sessions, most recently used first.
func (s *Store) Sessions(ctx context.Context, userID int64) ([]model.Session, error) {
	var ss []model.Session
	if err := s.sel(ctx, s.q.SessionsOfUser, &ss, userID); err != nil {
		return nil, fmt.Errorf("store: sessions: %w", err)
	}
	return ss, nil
}

// DeleteUserSession ends one of a user's sessions by id.
func (s *Store) DeleteUserSession(ctx context.Context, userID, sessionID int64) error {
	n, err := s.exec(ctx, s.q.SessionDeleteOfUser, userID, sessionID)
	if err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: delete session: %w", model.ErrNotFound)
	}
	return nil
}

// DeleteUserSessions ends every session of a user except the one whose token hash is keep (nil: all).
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64, keep []byte) (int64, error) {
	n, err := s.exec(ctx, s.q.SessionsDeleteOfUser, userID, keep)
	if err != nil {
		return 0, fmt.Errorf("store: delete sessions: %w", err)
	}
	return n, nil
}

// DeleteExpiredSessions removes sessions past their expiry and returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	n, err := s.exec(ctx, s.q.SessionsDeleteExpired)
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return n, nil
}
