// Package store is the only package that talks SQL. Queries live in queries/*.sql, are
// bound by name to the fields of one struct and prepared at start, so a broken query stops
// start-up with its name instead of failing on the first request that needs it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the "postgres" driver

	"masteria/app/model"
	"masteria/queries"
)

// Store reads and writes the database. Outside a transaction it uses the pool; inside
// Tx it is bound to one transaction, and every method runs in it.
type Store struct {
	db    *sqlx.DB
	tx    *sqlx.Tx
	q     *statements
	frags map[string]string // fragments by name, completed by the store's list builders
	// ran counts the statements sent, for tests that keep a page's queries from growing
	// with its data; shared by the transactions of the store.
	ran *atomic.Int64
}

// statements binds every named query to a prepared statement through its `query` tag.
// Each area keeps its own group of fields, in its own file, embedded here.
type statements struct {
	accountQueries
	contactQueries
	boardQueries
	inboxQueries
	channelQueries
	inboxTeamQueries
	crmLinkQueries
	mediaQueries
	wameowQueries
	identityQueries
	searchQueries
	mergeQueries
	campaignQueries
	campaignUIQueries
	knowledgeQueries
	aiProviderQueries
	botQueries
	progressionQueries
	voiceCallQueries
	voiceNumberQueries
	voiceQueries
	callCampaignQueries
	voiceDialQueries
	cadenceQueries
	cadenceEnrolmentQueries
	analyticsQueries
	analyticsMessageQueries
	analyticsConversationQueries
	analyticsCRMQueries
	policyQueries
	hookQueries
	resealQueries
	myDayQueries
}

// accountQueries are the queries of orgs, users, members, invites, sessions, API keys,
// audit, events and secrets.
type accountQueries struct {
	OrgCreate      *sqlx.Stmt `query:"org-create"`
	OrgByID        *sqlx.Stmt `query:"org-by-id"`
	OrgByName      *sqlx.Stmt `query:"org-by-name"`
	OrgRename      *sqlx.Stmt `query:"org-rename"`
	OrgCountry     *sqlx.Stmt `query:"org-set-country"`
	OrgTimeZoneSet *sqlx.Stmt `query:"org-set-time-zone"`
	OrgChecklist   *sqlx.Stmt `query:"org-checklist"`

	UserCreate         *sqlx.Stmt `query:"user-create"`
	UserByID           *sqlx.Stmt `query:"user-by-id"`
	UserByEmail        *sqlx.Stmt `query:"user-by-email"`
	UserUpdateProfile  *sqlx.Stmt `query:"user-update-profile"`
	UserSetLocale      *sqlx.Stmt `query:"user-set-locale"`
	UserSetPassword    *sqlx.Stmt `query:"user-set-password"`
	UserSetTheme       *sqlx.Stmt `query:"user-set-theme"`
	UserIdentity       *sqlx.Stmt `query:"user-identity"`
	UserIdentityCreate *sqlx.Stmt `query:"user-identity-create"`

	MemberCreate      *sqlx.Stmt `query:"member-create"`
	Member            *sqlx.Stmt `query:"member"`
	Members           *sqlx.Stmt `query:"members"`
	MembershipsOfUser *sqlx.Stmt `query:"memberships-of-user"`
	MemberSetRole     *sqlx.Stmt `query:"member-set-role"`
	MemberDelete      *sqlx.Stmt `query:"member-delete"`
	MemberCountOwners *sqlx.Stmt `query:"member-count-owners"`
	MemberLockOrg     *sqlx.Stmt `query:"member-lock-org"`

	InviteCreate   *sqlx.Stmt `query:"invite-create"`
	InvitesPending *sqlx.Stmt `query:"invites-pending"`
	InviteByToken  *sqlx.Stmt `query:"invite-by-token"`
	InviteAccept   *sqlx.Stmt `query:"invite-accept"`
	InviteRevoke   *sqlx.Stmt `query:"invite-revoke"`

	SessionCreate         *sqlx.Stmt `query:"session-create"`
	SessionByToken        *sqlx.Stmt `query:"session-by-token"`
	SessionUpdate         *sqlx.Stmt `query:"session-update"`
	SessionDelete         *sqlx.Stmt `query:"session-delete"`
	SessionsOfUser        *sqlx.Stmt `query:"sessions-of-user"`
	SessionDeleteOfUser   *sqlx.Stmt `query:"session-delete-of-user"`
	SessionsDeleteOfUser  *sqlx.Stmt `query:"sessions-delete-of-user"`
	SessionsDeleteExpired *sqlx.Stmt `query:"sessions-delete-expired"`

	APIKeyCreate *sqlx.Stmt `query:"apikey-create"`
	APIKeys      *sqlx.Stmt `query:"apikeys"`
	APIKeyByHash *sqlx.Stmt `query:"apikey-by-hash"`
	APIKeyTouch  *sqlx.Stmt `query:"apikey-touch"`
	APIKeyRevoke *sqlx.Stmt `query:"apikey-revoke"`

	APIIdempotencyClaim     *sqlx.Stmt `query:"api-idempotency-claim"`
	APIIdempotency          *sqlx.Stmt `query:"api-idempotency"`
	APIIdempotencyDone      *sqlx.Stmt `query:"api-idempotency-done"`
	APIIdempotencyDrop      *sqlx.Stmt `query:"api-idempotency-drop"`
	APIIdempotencyDeleteOld *sqlx.Stmt `query:"api-idempotency-delete-old"`

	AuditInsert *sqlx.Stmt `query:"audit-insert"`
	AuditList   *sqlx.Stmt `query:"audit-list"`

	LoginAttemptInsert     *sqlx.Stmt `query:"login-attempt-insert"`
	LoginFailuresRecent    *sqlx.Stmt `query:"login-failures-recent"`
	LoginAttemptsDeleteOld *sqlx.Stmt `query:"login-attempts-delete-old"`

	EventInsert      *sqlx.Stmt `query:"event-insert"`
	EventsInsertMany *sqlx.Stmt `query:"events-insert-many"`
	EventNotify      *sqlx.Stmt `query:"event-notify"`
	EventByID        *sqlx.Stmt `query:"event-by-id"`
	EventsSince      *sqlx.Stmt `query:"events-since"`
	EventsDeleteOld  *sqlx.Stmt `query:"events-delete-old"`

	SecretPut    *sqlx.Stmt `query:"secret-put"`
	SecretGet    *sqlx.Stmt `query:"secret-get"`
	SecretsAll   *sqlx.Stmt `query:"secrets-all"`
	SecretReseal *sqlx.Stmt `query:"secret-reseal"`

	JobsWaiting *sqlx.Stmt `query:"jobs-waiting"`
}

// Connect opens a pool on url and prepares every query.
func Connect(ctx context.Context, url string) (*Store, error) {
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	db.SetMaxOpenConns(40)
	db.SetMaxIdleConns(20)
	s, err := New(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// New prepares every query of queries/ on db. A query that fails names itself in the error.
func New(ctx context.Context, db *sqlx.DB) (*Store, error) { return newFrom(ctx, db, queries.FS) }

func newFrom(ctx context.Context, db *sqlx.DB, fsys fs.FS) (*Store, error) {
	all, err := ParseQueries(fsys)
	if err != nil {
		return nil, err
	}
	q := &statements{}
	bound := map[string]bool{}
	if err := bind(ctx, db, reflect.ValueOf(q).Elem(), all, bound); err != nil {
		return nil, err
	}
	frags := map[string]string{}
	for name, query := range all {
		if query.Fragment {
			frags[name] = strings.TrimSuffix(query.SQL, ";")
			continue
		}
		if !bound[name] {
			return nil, fmt.Errorf("store: query %s in %s is not used by the store", name, query.File)
		}
	}
	return &Store{db: db, q: q, frags: frags, ran: new(atomic.Int64)}, nil
}

// bind prepares the query named by the `query` tag of every *sqlx.Stmt field of v, walking
// into embedded groups.
func bind(ctx context.Context, db *sqlx.DB, v reflect.Value, all map[string]Query, bound map[string]bool) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if err := bind(ctx, db, v.Field(i), all, bound); err != nil {
				return err
			}
			continue
		}
		name := f.Tag.Get("query")
		query, ok := all[name]
		if !ok {
			return fmt.Errorf("store: query %q of field %s not found in queries/", name, f.Name)
		}
		stmt, err := db.PreparexContext(ctx, query.SQL)
		if err != nil {
			return fmt.Errorf("store: prepare %s (%s): %w", name, query.File, err)
		}
		v.Field(i).Set(reflect.ValueOf(stmt))
		bound[name] = true
	}
	return nil
}

// DB is the pool, for the packages that need database/sql itself (River, health checks).
func (s *Store) DB() *sqlx.DB { return s.db }

// Close closes the pool.
func (s *Store) Close() error { return s.db.Close() }

// SQLTx is the transaction a Store from Tx is bound to, so River can insert jobs in it; nil outside.
func (s *Store) SQLTx() *sql.Tx {
	if s.tx == nil {
		return nil
	}
	return s.tx.Tx
}

// Tx runs fn in a transaction: committed when fn returns nil, rolled back otherwise.
// Inside a transaction already, fn joins it.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(&Store{db: s.db, tx: tx, q: s.q, frags: s.frags, ran: s.ran}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// TxRetry is Tx run again when PostgreSQL rolled the transaction back for a conflict with
// another one (IsTxConflict: a deadlock's victim, a serialization failure), up to five
// tries in all. The whole transaction was undone, so fn runs again from the start; it must
// keep nothing of a failed try. Inside a transaction already, fn joins it (and is not
// tried again: the outer transaction is the one that failed).
func (s *Store) TxRetry(ctx context.Context, fn func(tx *Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	for try := 1; ; try++ {
		err := s.Tx(ctx, fn)
		if err == nil || try == 5 || !IsTxConflict(err) {
			return err
		}
		// A short, growing and random wait, so the two sides of a deadlock do not meet again.
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(try*10+rand.IntN(20*try)) * time.Millisecond):
		}
	}
}

// fragment returns the text of a fragment query; the names are fixed in code and checked by
// tests that run every list.
func (s *Store) fragment(name string) string { return s.frags[name] }

// Statements is how many statements the store (and its transactions) has sent so far. Tests
// compare it around a request to count the request's queries.
func (s *Store) Statements() int64 { return s.ran.Load() }

// queryer is the pool or the transaction, for queries built at run time.
func (s *Store) queryer() sqlx.ExtContext {
	s.ran.Add(1)
	if s.tx != nil {
		return s.tx
	}
	return s.db
}

// stmt returns st bound to the current transaction, if any.
func (s *Store) stmt(ctx context.Context, st *sqlx.Stmt) *sqlx.Stmt {
	s.ran.Add(1)
	if s.tx != nil {
		return s.tx.StmtxContext(ctx, st)
	}
	return st
}

func (s *Store) get(ctx context.Context, st *sqlx.Stmt, dest any, args ...any) error {
	return notFound(s.stmt(ctx, st).GetContext(ctx, dest, args...))
}

func (s *Store) sel(ctx context.Context, st *sqlx.Stmt, dest any, args ...any) error {
	return s.stmt(ctx, st).SelectContext(ctx, dest, args...)
}

func (s *Store) exec(ctx context.Context, st *sqlx.Stmt, args ...any) (int64, error) {
	res, err := s.stmt(ctx, st).ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// notFound turns sql.ErrNoRows into model.ErrNotFound: a missing row is never `nil, nil`.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return model.ErrNotFound
	}
	return err
}

// JobsWaiting counts jobs ready to run, for /health.
func (s *Store) JobsWaiting(ctx context.Context) (int64, error) {
	var n int64
	if err := s.get(ctx, s.q.JobsWaiting, &n); err != nil {
		return 0, fmt.Errorf("store: jobs waiting: %w", err)
	}
	return n, nil
}
