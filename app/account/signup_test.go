package account_test

import (
	"slices"
	"strings"
	"testing"

	"masteria/app/account"
	"masteria/app/auth"
	"masteria/app/model"
)

func TestSignupCreatesOrgOwnerAndAuditEntry(t *testing.T) {
	f := newFixture(t)
	u, o, err := f.svc.Signup(f.ctx, account.SignupInput{
		Org: "  Loja   da Ana ", Name: " Ana  Souza ", Email: "  Ana@Loja.com ", Password: goodPassword, Locale: "pt-BR",
	}, "203.0.113.7", "signup-test")
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "ana@loja.com" || u.Name != "Ana Souza" {
		t.Errorf("user: want ana@loja.com / Ana Souza, got %q / %q", u.Email, u.Name)
	}
	if u.Locale == nil || *u.Locale != "pt-BR" {
		t.Errorf("locale: want pt-BR, got %v", u.Locale)
	}
	if o.Name != "Loja da Ana" {
		t.Errorf("org name: want %q, got %q", "Loja da Ana", o.Name)
	}
	if r := f.role(o, u); r != model.RoleOwner {
		t.Errorf("role: want owner, got %q", r)
	}
	if u.PasswordHash == nil || strings.Contains(*u.PasswordHash, goodPassword) {
		t.Fatalf("password stored as %v, want a hash", u.PasswordHash)
	}
	if err := auth.CheckPassword(*u.PasswordHash, goodPassword); err != nil {
		t.Errorf("stored hash does not match the password: %v", err)
	}

	log := f.audit(o.ID)
	if len(log) != 1 {
		t.Fatalf("audit: want 1 entry, got %d", len(log))
	}
	e := log[0]
	if e.Action != "org.created" || e.Target != "Loja da Ana" || e.UserID == nil || *e.UserID != u.ID || e.IP != "203.0.113.7" || e.UserAgent != "signup-test" {
		t.Errorf("audit entry: got %+v", e)
	}
}

func TestSignupDuplicateEmailCreatesNothing(t *testing.T) {
	f := newFixture(t)
	if _, _, err := f.svc.Signup(f.ctx, account.SignupInput{Org: "Loja", Name: "Ana", Email: "ana@loja.com", Password: goodPassword}, "", ""); err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"ana@loja.com", "  Ana@Loja.com ", "ANA@LOJA.COM"} {
		t.Run(email, func(t *testing.T) {
			orgs, users, members := f.count(`SELECT count(*) FROM orgs`), f.count(`SELECT count(*) FROM users`), f.count(`SELECT count(*) FROM memberships`)
			_, _, err := f.svc.Signup(f.ctx, account.SignupInput{Org: "Outra Loja", Name: "Ana 2", Email: email, Password: goodPassword}, "", "")
			wantFieldError(t, err, "email", "signup.error.email_taken")
			if got := f.count(`SELECT count(*) FROM orgs`); got != orgs {
				t.Errorf("orgs: %d before, %d after", orgs, got)
			}
			if got := f.count(`SELECT count(*) FROM users`); got != users {
				t.Errorf("users: %d before, %d after", users, got)
			}
			if got := f.count(`SELECT count(*) FROM memberships`); got != members {
				t.Errorf("memberships: %d before, %d after", members, got)
			}
		})
	}
}

func TestSignupValidation(t *testing.T) {
	f := newFixture(t)
	valid := account.SignupInput{Org: "Loja", Name: "Marina", Email: "marina@loja.com", Password: goodPassword}
	tests := []struct {
		name       string
		edit       func(in *account.SignupInput)
		field, key string
	}{
		{"password too short", func(in *account.SignupInput) { in.Password = "k9#fq2" }, "password", "signup.error.password_short"},
		{"password nine characters", func(in *account.SignupInput) { in.Password = "k9#fq2xz!" }, "password", "signup.error.password_short"},
		{"password too long", func(in *account.SignupInput) { in.Password = strings.Repeat("k9#f", 33) }, "password", "signup.error.password_long"},
		{"password common", func(in *account.SignupInput) { in.Password = "1234567890" }, "password", "signup.error.password_common"},
		{"password common in other case", func(in *account.SignupInput) { in.Password = "Password123" }, "password", "signup.error.password_common"},
		{"password one repeated character", func(in *account.SignupInput) { in.Password = "aaaaaaaaaaaa" }, "password", "signup.error.password_common"},
		{"password three characters repeated", func(in *account.SignupInput) { in.Password = "abcabcabcabc" }, "password", "signup.error.password_common"},
		{"password contains the email's local part", func(in *account.SignupInput) { in.Password = "Marina-Loja-2024" }, "password", "signup.error.password_email"},
		{"password missing", func(in *account.SignupInput) { in.Password = "" }, "password", "signup.error.password_short"},
		{"email without domain", func(in *account.SignupInput) { in.Email = "ana" }, "email", "signup.error.invalid_email"},
		{"email ending in @", func(in *account.SignupInput) { in.Email = "ana@" }, "email", "signup.error.invalid_email"},
		{"email domain without dot", func(in *account.SignupInput) { in.Email = "ana@loja" }, "email", "signup.error.invalid_email"},
		{"email domain ending in dot", func(in *account.SignupInput) { in.Email = "ana@loja." }, "email", "signup.error.invalid_email"},
		{"email with a space", func(in *account.SignupInput) { in.Email = "a b@c.com" }, "email", "signup.error.invalid_email"},
		{"email with display name", func(in *account.SignupInput) { in.Email = "Ana <ana@loja.com>" }, "email", "signup.error.invalid_email"},
		{"email without local part", func(in *account.SignupInput) { in.Email = "@loja.com" }, "email", "signup.error.invalid_email"},
		{"email missing", func(in *account.SignupInput) { in.Email = "   " }, "email", "signup.error.required"},
		{"org missing", func(in *account.SignupInput) { in.Org = "" }, "org", "signup.error.required"},
		{"org only spaces", func(in *account.SignupInput) { in.Org = " \t " }, "org", "signup.error.required"},
		{"org too long", func(in *account.SignupInput) { in.Org = strings.Repeat("x", model.MaxNameLen+1) }, "org", "signup.error.required"},
		{"name missing", func(in *account.SignupInput) { in.Name = "" }, "name", "signup.error.required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid
			tt.edit(&in)
			_, _, err := f.svc.Signup(f.ctx, in, "", "")
			wantFieldError(t, err, tt.field, tt.key)
		})
	}
	t.Run("every bad field at once", func(t *testing.T) {
		_, _, err := f.svc.Signup(f.ctx, account.SignupInput{Email: "ana@", Password: "short"}, "", "")
		v, ok := err.(*model.ValidationError)
		if !ok {
			t.Fatalf("want *model.ValidationError, got %T %v", err, err)
		}
		var fields []string
		for k := range v.Fields {
			fields = append(fields, k)
		}
		slices.Sort(fields)
		if want := []string{"email", "name", "org", "password"}; !slices.Equal(fields, want) {
			t.Fatalf("fields: want %v, got %v", want, fields)
		}
	})
	if n := f.count(`SELECT count(*) FROM orgs`) + f.count(`SELECT count(*) FROM users`); n != 0 {
		t.Fatalf("invalid sign-ups created %d orgs and users", n)
	}
}
