package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"masteria/app/model"
)

// wameowQueries are the queries of WhatsApp QR sessions (app/channel/wameow).
type wameowQueries struct {
	WameowSessions *sqlx.Stmt `query:"wameow-sessions"`
	WameowSetState *sqlx.Stmt `query:"wameow-set-state"`
	WameowQRPut    *sqlx.Stmt `query:"wameow-qr-put"`
	WameowQRDelete *sqlx.Stmt `query:"wameow-qr-delete"`
	WameowQR       *sqlx.Stmt `query:"wameow-qr"`
}

// QRSessions lists the WhatsApp QR channels, of every org, that should have a live session:
// those waiting to be paired and those connected.
func (s *Store) QRSessions(ctx context.Context) ([]model.Channel, error) {
	var cs []model.Channel
	if err := s.sel(ctx, s.q.WameowSessions, &cs); err != nil {
		return nil, fmt.Errorf("store: qr sessions: %w", err)
	}
	return cs, nil
}

// SetQRState sets a QR channel's status and last error, removes the config keys drop and
// merges set into its config. A channel of another kind or org is ErrNotFound.
func (s *Store) SetQRState(ctx context.Context, orgID, id int64, status, lastError string, set map[string]string, drop ...string) (model.Channel, error) {
	if set == nil {
		set = map[string]string{}
	}
	b, _ := json.Marshal(set)
	if drop == nil {
		drop = []string{}
	}
	var c model.Channel
	if err := s.get(ctx, s.q.WameowSetState, &c, orgID, id, status, lastError, string(b), pq.Array(drop)); err != nil {
		return c, fmt.Errorf("store: qr channel %d state: %w", id, err)
	}
	return c, nil
}

// QRCode is the pairing code a QR channel shows now.
type QRCode struct {
	Code      string    `db:"code"`
	ExpiresAt time.Time `db:"expires_at"`
}

// PutQRCode stores the code a channel shows until expires.
func (s *Store) PutQRCode(ctx context.Context, orgID, channelID int64, code string, expires time.Time) error {
	if _, err := s.exec(ctx, s.q.WameowQRPut, orgID, channelID, code, expires); err != nil {
		return fmt.Errorf("store: put qr code: %w", err)
	}
	return nil
}

// DeleteQRCode forgets a channel's code (paired, or pairing ended).
func (s *Store) DeleteQRCode(ctx context.Context, orgID, channelID int64) error {
	if _, err := s.exec(ctx, s.q.WameowQRDelete, orgID, channelID); err != nil {
		return fmt.Errorf("store: delete qr code: %w", err)
	}
	return nil
}

// QRCode returns the code a channel shows; ErrNotFound when it shows none.
func (s *Store) QRCode(ctx context.Context, orgID, channelID int64) (QRCode, error) {
	var q QRCode
	if err := s.get(ctx, s.q.WameowQR, &q, orgID, channelID); err != nil {
		return q, fmt.Errorf("store: qr code: %w", err)
	}
	return q, nil
}

// qrLockSpace is the first key of the two-key advisory locks that say which instance runs a
// QR channel's session. Two-key locks never meet the one-key locks of migrations and tests.
const qrLockSpace = 0x77616d31 // "wam1"

// SessionLock is a session-level advisory lock held on a connection of its own: it lasts
// while that connection does, so when an instance dies its locks go with it.
type SessionLock struct {
	conn *sql.Conn
	key  int32
}

// TryLockQRSession takes the lock of channel id's session if nobody holds it; nil when
// another connection does.
func (s *Store) TryLockQRSession(ctx context.Context, id int64) (*SessionLock, error) {
	// Ids past 2³² share a key with a lower one: a session waits, never runs twice.
	return s.qrLock(ctx, int32(uint32(id)), `SELECT pg_try_advisory_lock($1, $2)`)
}

// LockQRSchema waits for the lock that lets one instance at a time upgrade whatsmeow's
// tables (key 0: channel ids start at 1).
func (s *Store) LockQRSchema(ctx context.Context) (*SessionLock, error) {
	return s.qrLock(ctx, 0, `SELECT true FROM pg_advisory_lock($1, $2)`)
}

func (s *Store) qrLock(ctx context.Context, key int32, query string) (*SessionLock, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: qr lock: %w", err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, query, qrLockSpace, key).Scan(&ok); err != nil {
		discard(conn)
		return nil, fmt.Errorf("store: qr lock: %w", err)
	}
	if !ok {
		conn.Close()
		return nil, nil
	}
	return &SessionLock{conn: conn, key: key}, nil
}

// Alive checks that the lock's connection, and so the lock, is still there.
func (l *SessionLock) Alive(ctx context.Context) error {
	return l.conn.PingContext(ctx)
}

// Release gives the lock up. Its connection goes back to the pool only when the unlock
// surely worked; otherwise it is closed, which ends the lock too.
func (l *SessionLock) Release(ctx context.Context) {
	var ok bool
	if err := l.conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1, $2)`, qrLockSpace, l.key).Scan(&ok); err != nil || !ok {
		discard(l.conn)
		return
	}
	l.conn.Close()
}

// discard closes conn's underlying connection instead of returning it to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}
