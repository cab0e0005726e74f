package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
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

// SessionLock is the advisory lock of whatsmeow's schema upgrade (key 0: one instance at a
// time), held on a connection of its own.
type SessionLock struct {
	conn *sql.Conn
}

// LockQRSchema waits for the lock that lets one instance at a time upgrade whatsmeow's
// tables (key 0: channel ids start at 1).
func (s *Store) LockQRSchema(ctx context.Context) (*SessionLock, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: qr schema lock: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, 0)`, qrLockSpace); err != nil {
		discard(conn)
		return nil, fmt.Errorf("store: qr schema lock: %w", err)
	}
	return &SessionLock{conn: conn}, nil
}

// Release gives the lock up. Its connection goes back to the pool only when the unlock
// surely worked; otherwise it is closed, which ends the lock too.
func (l *SessionLock) Release(ctx context.Context) {
	var ok bool
	if err := l.conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1, 0)`, qrLockSpace).Scan(&ok); err != nil || !ok {
		discard(l.conn)
		return
	}
	l.conn.Close()
}

// QRLocks holds the locks of the WhatsApp QR sessions an instance runs, all on one
// connection taken from the pool for as long as it holds any: a connection per session
// would use the pool up as sessions grow. The locks live as long as that connection does;
// when it dies (the instance with it, or the server ends it), every one of them is free for
// another instance, and Alive tells the holder to stop the sessions they covered.
type QRLocks struct {
	st   *Store
	mu   sync.Mutex
	conn *sql.Conn
	gen  int64 // which connection: locks taken on an earlier one are gone
	held map[int32]bool
}

// ErrLocksLost is a QRLocks whose connection died: the locks of that generation are gone.
var ErrLocksLost = errors.New("store: the QR session locks' connection is gone")

// NewQRLocks returns an instance's session lock holder.
func (s *Store) NewQRLocks() *QRLocks { return &QRLocks{st: s, held: map[int32]bool{}} }

// qrKey is a channel's lock key; ids past 2³² share a key with a lower one: a session then
// waits, never runs twice.
func qrKey(id int64) int32 { return int32(uint32(id)) }

// TryLock takes channel id's lock if no other instance holds it, and says on which
// generation of the connection (see Alive).
func (l *QRLocks) TryLock(ctx context.Context, id int64) (gen int64, ok bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		if l.conn, err = l.st.db.Conn(ctx); err != nil {
			l.conn = nil
			return 0, false, fmt.Errorf("store: qr lock: %w", err)
		}
		l.gen++
		l.held = map[int32]bool{}
	}
	key := qrKey(id)
	if l.held[key] { // session locks nest on one connection: never take one twice
		return l.gen, false, nil
	}
	if err := l.conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, $2)`, qrLockSpace, key).Scan(&ok); err != nil {
		l.drop()
		return 0, false, fmt.Errorf("store: qr lock: %w", err)
	}
	if ok {
		l.held[key] = true
	}
	return l.gen, ok, nil
}

// Unlock gives channel id's lock up, if it was taken on generation gen (an earlier
// connection took its locks with it). The connection goes back to the pool once it holds
// no lock; a failed unlock closes it, which frees every lock (Alive then says so).
func (l *QRLocks) Unlock(ctx context.Context, id, gen int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := qrKey(id)
	if l.conn == nil || gen != l.gen || !l.held[key] {
		return
	}
	var ok bool
	if err := l.conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1, $2)`, qrLockSpace, key).Scan(&ok); err != nil || !ok {
		l.drop()
		return
	}
	delete(l.held, key)
	if len(l.held) == 0 {
		l.conn.Close()
		l.conn = nil
	}
}

// Alive checks the connection: the generation whose locks are still held, or
// ErrLocksLost when it is gone (every lock taken so far with it).
func (l *QRLocks) Alive(ctx context.Context) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return 0, ErrLocksLost
	}
	if err := l.conn.PingContext(ctx); err != nil {
		l.drop()
		return 0, ErrLocksLost
	}
	return l.gen, nil
}

// drop closes the connection for good (its locks end with it); the next TryLock opens
// another, of the next generation.
func (l *QRLocks) drop() {
	if l.conn != nil {
		discard(l.conn)
		l.conn = nil
	}
	l.held = map[int32]bool{}
}

// discard closes conn's underlying connection instead of returning it to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}
