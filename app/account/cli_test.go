package account_test

import (
	"errors"
	"testing"

	"masteria/app/model"
)

func TestCommandLine(t *testing.T) {
	f := newFixture(t)

	first, err := f.svc.CreateUserInOrg(f.ctx, "Loja CLI", "", " Ops@Loja.com ", goodPassword, model.RoleOwner)
	if err != nil {
		t.Fatal(err)
	}
	if first.Org.Name != "Loja CLI" || first.User.Email != "ops@loja.com" || first.User.Name != "Ops" || first.Role != model.RoleOwner {
		t.Fatalf("first: %+v", first)
	}

	// The org is found by name, not made twice.
	second, err := f.svc.CreateUserInOrg(f.ctx, "Loja CLI", "Agente", "agente@loja.com", goodPassword, model.RoleAgent)
	if err != nil {
		t.Fatal(err)
	}
	if second.Org.ID != first.Org.ID || second.Role != model.RoleAgent {
		t.Fatalf("second: %+v, want org %d", second, first.Org.ID)
	}
	if n := f.count(`SELECT count(*) FROM orgs`); n != 1 {
		t.Fatalf("orgs: %d, want 1", n)
	}

	// An existing user with the right password joins another org, keeping their account.
	third, err := f.svc.CreateUserInOrg(f.ctx, "Outra Loja", "", "ops@loja.com", goodPassword, model.RoleManager)
	if err != nil {
		t.Fatal(err)
	}
	if third.User.ID != first.User.ID || third.Org.ID == first.Org.ID || third.Role != model.RoleManager {
		t.Fatalf("third: %+v", third)
	}

	// An existing user's email with another password is refused, and nothing is made.
	before := f.counts()
	_, err = f.svc.CreateUserInOrg(f.ctx, "Terceira Loja", "", "ops@loja.com", "another-good-password", model.RoleOwner)
	wantFieldError(t, err, "email", "signup.error.email_taken")
	if got := f.counts(); got != before {
		t.Fatalf("a refused command changed rows: %+v → %+v", before, got)
	}

	_, err = f.svc.CreateUserInOrg(f.ctx, "Loja CLI", "", "novo@loja.com", goodPassword, "root")
	wantFieldError(t, err, "role", "members.error.role")
	_, err = f.svc.CreateUserInOrg(f.ctx, "Loja CLI", "", "novo@loja.com", "123", model.RoleAgent)
	wantFieldError(t, err, "password", "signup.error.password_short")
	if _, err := f.svc.CreateUserInOrg(f.ctx, "", "", "novo@loja.com", goodPassword, model.RoleAgent); !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("no org name: want ErrInvalid, got %v", err)
	}
	if got := f.counts(); got != before {
		t.Fatalf("refused commands changed rows: %+v → %+v", before, got)
	}

	// `masteria apikey create` makes a key of the org of that name, by nobody in particular.
	key, err := f.svc.CreateAPIKeyForOrgName(f.ctx, "Loja CLI", "deploy")
	if err != nil {
		t.Fatal(err)
	}
	k, org, err := f.svc.AuthenticateAPIKey(f.ctx, apiRequest("Bearer "+key))
	if err != nil || org.ID != first.Org.ID || k.CreatedBy != nil {
		t.Fatalf("key from the command line: %+v in org %d (%v)", k, org.ID, err)
	}
	if _, err := f.svc.CreateAPIKeyForOrgName(f.ctx, "Nenhuma", "deploy"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("unknown org: want ErrNotFound, got %v", err)
	}
}
