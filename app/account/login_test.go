package account_test

import (
	"errors"
	"slices"
	"testing"

	"masteria/app/account"
	"masteria/app/model"
)

func TestLogin(t *testing.T) {
	f := newFixture(t)
	ana := f.user("ana@loja.com", "Ana", true)
	lojaA, lojaB := f.org("Loja A"), f.org("Loja B")
	f.join(lojaA, ana, model.RoleOwner)
	f.join(lojaB, ana, model.RoleAgent)
	f.user("oauth@loja.com", "Só Google", false) // made through Google: no password hash

	tests := []struct {
		name, email, password string
		wantErr               error
	}{
		{"right password", "ana@loja.com", goodPassword, nil},
		{"email in other case and with spaces", "  ANA@Loja.com ", goodPassword, nil},
		{"wrong password", "ana@loja.com", goodPassword + "x", account.ErrBadCredentials},
		{"password in other case", "ana@loja.com", "Correct-Horse-Battery", account.ErrBadCredentials},
		{"empty password", "ana@loja.com", "", account.ErrBadCredentials},
		{"unknown email", "bia@loja.com", goodPassword, account.ErrBadCredentials},
		{"oauth-only user with a password", "oauth@loja.com", goodPassword, account.ErrBadCredentials},
		{"oauth-only user with an empty password", "oauth@loja.com", "", account.ErrBadCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := f.svc.Login(f.ctx, tt.email, tt.password, "203.0.113.7", "login-test")
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				if u.ID != ana.ID {
					t.Fatalf("logged in user %d, want %d", u.ID, ana.ID)
				}
				return
			}
			// The very same error value for an unknown email and a wrong password, so a caller
			// cannot tell which accounts exist.
			if err != tt.wantErr {
				t.Fatalf("want the error value %v, got %v", tt.wantErr, err)
			}
			// Nor does the result: a failed login gives no user, known or not.
			if u != (model.User{}) {
				t.Fatalf("a failed login returned user %+v", u)
			}
		})
	}
}

func TestLoginWritesAuditInEveryOrgOfTheUser(t *testing.T) {
	f := newFixture(t)
	ana := f.user("ana@loja.com", "Ana", true)
	lojaA, lojaB, other := f.org("Loja A"), f.org("Loja B"), f.org("Loja de outra pessoa")
	f.join(lojaA, ana, model.RoleOwner)
	f.join(lojaB, ana, model.RoleManager)

	if _, err := f.svc.Login(f.ctx, "ana@loja.com", goodPassword, "203.0.113.7", "ua"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Login(f.ctx, "ana@loja.com", "wrong password!", "203.0.113.8", "ua"); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("want ErrBadCredentials, got %v", err)
	}
	if _, err := f.svc.Login(f.ctx, "nobody@loja.com", "wrong password!", "203.0.113.9", "ua"); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("want ErrBadCredentials, got %v", err)
	}
	for _, o := range []model.Org{lojaA, lojaB} {
		log := f.audit(o.ID)
		var got []string
		for _, e := range log {
			got = append(got, e.Action)
			if e.UserID == nil || *e.UserID != ana.ID {
				t.Errorf("org %s: entry %s has user %v, want %d", o.Name, e.Action, e.UserID, ana.ID)
			}
		}
		if want := []string{"login.succeeded", "login.failed"}; !slices.Equal(got, want) {
			t.Errorf("org %s: audit %v, want %v", o.Name, got, want)
		}
		if len(log) == 2 && (log[0].IP != "203.0.113.7" || log[1].IP != "203.0.113.8") {
			t.Errorf("org %s: audit IPs %q, %q", o.Name, log[0].IP, log[1].IP)
		}
	}
	if got := f.auditActions(other.ID); len(got) != 0 {
		t.Errorf("an org the user is not in got audit entries %v", got)
	}
}

func TestLoginLockout(t *testing.T) {
	f := newFixture(t)
	f.user("ana@loja.com", "Ana", true)
	f.svc.MaxFailures = 3

	login := func(email, password string) error {
		_, err := f.svc.Login(f.ctx, email, password, "203.0.113.7", "ua")
		return err
	}
	for i := range 3 {
		if err := login("ana@loja.com", "wrong password!"); !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("failure %d: want ErrBadCredentials, got %v", i+1, err)
		}
	}
	// Locked, even with the right password and whatever the case of the email.
	for _, email := range []string{"ana@loja.com", " Ana@Loja.com"} {
		if err := login(email, goodPassword); !errors.Is(err, account.ErrTooManyAttempts) {
			t.Fatalf("after 3 failures, %q with the right password: want ErrTooManyAttempts, got %v", email, err)
		}
	}
	// Other emails are not affected by this one's failures; an unknown email is locked the
	// same way, so the lock tells nothing about which accounts exist.
	for i := range 3 {
		if err := login("nobody@loja.com", "wrong password!"); err != account.ErrBadCredentials {
			t.Fatalf("unknown email, failure %d: want ErrBadCredentials, got %v", i+1, err)
		}
	}
	if err := login("nobody@loja.com", goodPassword); err != account.ErrTooManyAttempts {
		t.Fatalf("unknown email after 3 failures: want ErrTooManyAttempts, got %v", err)
	}
	// The window passes: older failures no longer count.
	f.exec(`UPDATE login_attempts SET created_at = created_at - interval '16 minutes' WHERE email = 'ana@loja.com'`)
	if err := login("ana@loja.com", goodPassword); err != nil {
		t.Fatalf("after the window: want success, got %v", err)
	}
}

func TestLoginSuccessResetsFailures(t *testing.T) {
	f := newFixture(t)
	f.user("ana@loja.com", "Ana", true)
	f.svc.MaxFailures = 3
	steps := []struct {
		password string
		want     error
	}{
		{"wrong password!", account.ErrBadCredentials},
		{"wrong password!", account.ErrBadCredentials},
		{goodPassword, nil}, // 2 failures < 3: allowed, and the count starts again
		{"wrong password!", account.ErrBadCredentials},
		{"wrong password!", account.ErrBadCredentials},
		{goodPassword, nil}, // 4 failures in the window, but only 2 since the last success
	}
	for i, s := range steps {
		if _, err := f.svc.Login(f.ctx, "ana@loja.com", s.password, "", ""); !errors.Is(err, s.want) {
			t.Fatalf("step %d: want %v, got %v", i+1, s.want, err)
		}
	}
}
