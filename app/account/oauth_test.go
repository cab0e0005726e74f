package account_test

import (
	"errors"
	"testing"

	"masteria/app/account"
	"masteria/app/model"
)

// counts is how many users, orgs, memberships and linked identities exist.
type counts struct{ users, orgs, members, identities int }

func (f *fixture) counts() counts {
	f.t.Helper()
	return counts{
		users:      f.count(`SELECT count(*) FROM users`),
		orgs:       f.count(`SELECT count(*) FROM orgs`),
		members:    f.count(`SELECT count(*) FROM memberships`),
		identities: f.count(`SELECT count(*) FROM user_identities`),
	}
}

func TestLoginWithIdentityCreatesThenFindsTheUser(t *testing.T) {
	f := newFixture(t)
	id := account.Identity{Provider: "google", Subject: "g-1001", Email: " Bia@Gmail.com ", Name: "Bia Lima", EmailVerified: true}

	u, created, err := f.svc.LoginWithIdentity(f.ctx, id, "203.0.113.7", "ua")
	if err != nil {
		t.Fatal(err)
	}
	if !created || u.ID == 0 || u.Email != "bia@gmail.com" || u.Name != "Bia Lima" || u.PasswordHash != nil {
		t.Fatalf("first login: created=%v user %+v", created, u)
	}
	ms, err := f.svc.Orgs(f.ctx, u.ID)
	if err != nil || len(ms) != 1 || ms[0].Role != model.RoleOwner || ms[0].OrgName != "Bia Lima" {
		t.Fatalf("a new user gets an org of their own as owner: %+v (%v)", ms, err)
	}
	after := f.counts()
	if after != (counts{users: 1, orgs: 1, members: 1, identities: 1}) {
		t.Fatalf("counts after the first login: %+v", after)
	}

	// The same Google account again, even after the person changed their email there.
	id.Email = "bia.lima@gmail.com"
	again, created, err := f.svc.LoginWithIdentity(f.ctx, id, "203.0.113.7", "ua")
	if err != nil {
		t.Fatal(err)
	}
	if created || again.ID != u.ID {
		t.Fatalf("second login: created=%v user %d, want the same user %d", created, again.ID, u.ID)
	}
	if got := f.counts(); got != after {
		t.Fatalf("a second login created rows: %+v → %+v", after, got)
	}
	log := f.audit(ms[0].OrgID)
	if len(log) != 2 || log[0].Action != "login.succeeded" || log[0].Target != "google" || log[1].Action != "login.succeeded" {
		t.Fatalf("audit: %+v", log)
	}
}

func TestLoginWithIdentityLinksVerifiedEmailOfExistingUser(t *testing.T) {
	f := newFixture(t)
	ana := f.user("ana@loja.com", "Ana", true)
	o := f.org("Loja")
	f.join(o, ana, model.RoleOwner)
	before := f.counts()

	u, created, err := f.svc.LoginWithIdentity(f.ctx, account.Identity{Provider: "facebook", Subject: "fb-77", Email: "ANA@loja.com", Name: "Ana no Facebook", EmailVerified: true}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if created || u.ID != ana.ID {
		t.Fatalf("created=%v user %d, want the existing user %d", created, u.ID, ana.ID)
	}
	if u.PasswordHash == nil || u.Name != "Ana" {
		t.Fatalf("linking changed the user: %+v", u)
	}
	want := before
	want.identities++
	if got := f.counts(); got != want {
		t.Fatalf("counts: %+v, want %+v", got, want)
	}
	if uid, err := f.st.UserIDByIdentity(f.ctx, "facebook", "fb-77"); err != nil || uid != ana.ID {
		t.Fatalf("identity linked to %d (%v), want %d", uid, err, ana.ID)
	}
}

func TestLoginWithIdentityRefusesUnverifiedEmail(t *testing.T) {
	f := newFixture(t)
	f.user("ana@loja.com", "Ana", true)
	before := f.counts()
	tests := []struct {
		name string
		id   account.Identity
	}{
		{"unverified email of an existing user", account.Identity{Provider: "google", Subject: "g-1", Email: "ana@loja.com", Name: "Ana", EmailVerified: false}},
		{"unverified new email", account.Identity{Provider: "google", Subject: "g-2", Email: "nova@gmail.com", Name: "Nova", EmailVerified: false}},
		{"no email", account.Identity{Provider: "facebook", Subject: "fb-3", Name: "Sem Email", EmailVerified: true}},
		{"malformed email", account.Identity{Provider: "facebook", Subject: "fb-4", Email: "nova@gmail", Name: "Nova", EmailVerified: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, created, err := f.svc.LoginWithIdentity(f.ctx, tt.id, "", "")
			if !errors.Is(err, account.ErrUnverifiedEmail) {
				t.Fatalf("want ErrUnverifiedEmail, got %v", err)
			}
			if created || u.ID != 0 {
				t.Fatalf("created=%v user %d", created, u.ID)
			}
		})
	}
	if got := f.counts(); got != before {
		t.Fatalf("refused logins created rows: %+v → %+v", before, got)
	}
}
