package account_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"masteria/app/account"
	"masteria/app/auth"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/store/storetest"
)

// goodPassword passes every password rule; knownHash is its hash, computed once for the whole
// package, because argon2 is slow on purpose and most tests only need a user that has one.
const goodPassword = "correct-horse-battery"

var knownHash = sync.OnceValues(func() (string, error) { return auth.HashPassword(goodPassword) })

// fixture is one test's database, store and service.
type fixture struct {
	t   *testing.T
	ctx context.Context
	st  *store.Store
	svc *account.Service
}

// newFixture gives the test a fresh migrated database. Tests calling it run in parallel.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	t.Parallel()
	st, _ := storetest.New(t)
	return &fixture{t: t, ctx: context.Background(), st: st, svc: account.New(st)}
}

// user creates a user straight in the store; withPassword gives it goodPassword.
func (f *fixture) user(email, name string, withPassword bool) model.User {
	f.t.Helper()
	var hash *string
	if withPassword {
		h, err := knownHash()
		if err != nil {
			f.t.Fatal(err)
		}
		hash = &h
	}
	u, err := f.st.CreateUser(f.ctx, email, name, hash, nil)
	if err != nil {
		f.t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

// org creates an org straight in the store.
func (f *fixture) org(name string) model.Org {
	f.t.Helper()
	o, err := f.st.CreateOrg(f.ctx, name)
	if err != nil {
		f.t.Fatalf("create org %s: %v", name, err)
	}
	return o
}

// join makes u a member of o with role.
func (f *fixture) join(o model.Org, u model.User, role model.Role) {
	f.t.Helper()
	if _, err := f.st.AddMember(f.ctx, o.ID, u.ID, role); err != nil {
		f.t.Fatalf("add member: %v", err)
	}
}

// ownedOrg is an org with its owner, who sends invites and makes API keys.
type ownedOrg struct {
	org   model.Org
	owner model.User
	as    account.Actor
}

func (f *fixture) ownedOrg() ownedOrg {
	f.t.Helper()
	o := f.org("Loja")
	owner := f.user("dona@loja.com", "Dona", false)
	f.join(o, owner, model.RoleOwner)
	return ownedOrg{org: o, owner: owner, as: f.actor(o, owner)}
}

// session stores a live (or, with a past expiry, expired) session of u and returns its token.
func (f *fixture) session(u model.User, expires time.Time) (int64, string) {
	f.t.Helper()
	tok, err := auth.NewToken(32)
	if err != nil {
		f.t.Fatal(err)
	}
	id, err := f.st.CreateSession(f.ctx, auth.HashToken(tok), u.ID, []byte("data"), "203.0.113.7", "ua", expires)
	if err != nil {
		f.t.Fatal(err)
	}
	return id, tok
}

// actor is u acting in o with the role u has there.
func (f *fixture) actor(o model.Org, u model.User) account.Actor {
	f.t.Helper()
	m, err := f.st.Member(f.ctx, o.ID, u.ID)
	if err != nil {
		f.t.Fatalf("actor: %v", err)
	}
	return account.Actor{UserID: u.ID, OrgID: o.ID, Role: m.Role, IP: "203.0.113.7", UserAgent: "account-test"}
}

// role returns u's role in o, or "" when u is not a member.
func (f *fixture) role(o model.Org, u model.User) model.Role {
	f.t.Helper()
	m, err := f.st.Member(f.ctx, o.ID, u.ID)
	if errors.Is(err, model.ErrNotFound) {
		return ""
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return m.Role
}

// count runs a `SELECT count(*) …` query.
func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.st.DB().GetContext(f.ctx, &n, query, args...); err != nil {
		f.t.Fatalf("count %q: %v", query, err)
	}
	return n
}

// exec runs a statement that sets up or tampers with rows.
func (f *fixture) exec(query string, args ...any) {
	f.t.Helper()
	if _, err := f.st.DB().ExecContext(f.ctx, query, args...); err != nil {
		f.t.Fatalf("exec %q: %v", query, err)
	}
}

// audit returns an org's audit log, oldest first.
func (f *fixture) audit(orgID int64) []model.AuditEntry {
	f.t.Helper()
	es, err := f.st.AuditLog(f.ctx, orgID, 0, 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	slices.Reverse(es)
	return es
}

// auditActions returns the actions of an org's audit log, oldest first.
func (f *fixture) auditActions(orgID int64) []string {
	f.t.Helper()
	var out []string
	for _, e := range f.audit(orgID) {
		out = append(out, e.Action)
	}
	return out
}

// events returns an org's events, oldest first.
func (f *fixture) events(orgID int64) []model.Event {
	f.t.Helper()
	es, err := f.st.EventsSince(f.ctx, orgID, 0, 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	return es
}

// eventTypes returns the types of an org's events, oldest first.
func (f *fixture) eventTypes(orgID int64) []string {
	f.t.Helper()
	var out []string
	for _, e := range f.events(orgID) {
		out = append(out, e.Type)
	}
	return out
}

// wantFieldError checks that err is a validation error with exactly one field, set to key.
func wantFieldError(t *testing.T, err error, field, key string) {
	t.Helper()
	if !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("want a validation error on %s (%s), got %v", field, key, err)
	}
	var v *model.ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("want *model.ValidationError, got %T: %v", err, err)
	}
	if got := v.Fields[field]; got != key {
		t.Fatalf("field %s: want %q, got %q (all: %v)", field, key, got, v.Fields)
	}
	if len(v.Fields) != 1 {
		t.Fatalf("want only field %s in error, got %v", field, v.Fields)
	}
}
