package account_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"masteria/app/account"
	"masteria/app/auth"
	"masteria/app/model"
)

func (f *fixture) invite(in ownedOrg, email string, role model.Role) (model.Invite, string) {
	f.t.Helper()
	inv, tok, err := f.svc.Invite(f.ctx, in.as, email, role)
	if err != nil {
		f.t.Fatalf("invite: %v", err)
	}
	return inv, tok
}

func TestInviteAndAccept(t *testing.T) {
	f := newFixture(t)
	in := f.ownedOrg()
	inv, tok := f.invite(in, "", model.RoleManager)
	if tok == "" || inv.Role != model.RoleManager || inv.OrgID != in.org.ID || inv.Email != nil {
		t.Fatalf("invite: %+v, token %q", inv, tok)
	}

	// Only the token's hash is stored.
	var stored []byte
	if err := f.st.DB().GetContext(f.ctx, &stored, `SELECT token_hash FROM invites WHERE id = $1`, inv.ID); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored, auth.HashToken(tok)) {
		t.Fatalf("stored token hash %x is not the token's SHA-256", stored)
	}
	if n := f.count(`SELECT count(*) FROM invites i WHERE strpos(i::text, $1) > 0`, tok); n != 0 {
		t.Fatalf("the invite token is stored in clear")
	}

	found, err := f.svc.InviteByToken(f.ctx, tok)
	if err != nil || found.ID != inv.ID || found.OrgName != "Loja" || found.Role != model.RoleManager {
		t.Fatalf("InviteByToken: %+v, %v", found, err)
	}
	if _, err := f.svc.InviteByToken(f.ctx, tok+"x"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("unknown token: want ErrNotFound, got %v", err)
	}
	if pending, _ := f.svc.PendingInvites(f.ctx, in.org.ID); len(pending) != 1 {
		t.Fatalf("pending invites: %d, want 1", len(pending))
	}

	// Someone already in the org keeps their role, and the link stays usable for another.
	if _, err := f.svc.AcceptInvite(f.ctx, tok, in.owner.ID, "", ""); err != nil {
		t.Fatal(err)
	}
	if r := f.role(in.org, in.owner); r != model.RoleOwner {
		t.Fatalf("an owner opening a manager invite became %s", r)
	}
	if pending, _ := f.svc.PendingInvites(f.ctx, in.org.ID); len(pending) != 1 {
		t.Fatalf("the invite was used up by someone already in the org")
	}

	bia := f.user("bia@gmail.com", "Bia", false)
	if _, err := f.svc.AcceptInvite(f.ctx, tok, bia.ID, "203.0.113.7", "ua"); err != nil {
		t.Fatal(err)
	}
	if r := f.role(in.org, bia); r != model.RoleManager {
		t.Fatalf("role after accepting: %q, want manager", r)
	}
	if got := f.eventTypes(in.org.ID); !slices.Equal(got, []string{"member.invited", "member.joined"}) {
		t.Fatalf("events: %v", got)
	}
	evs := f.events(in.org.ID)
	var joined struct {
		UserID int64      `json:"user_id"`
		Role   model.Role `json:"role"`
	}
	if err := json.Unmarshal(evs[1].Payload, &joined); err != nil || joined.UserID != bia.ID || joined.Role != model.RoleManager {
		t.Fatalf("member.joined payload %s (%v)", evs[1].Payload, err)
	}
	if got := f.auditActions(in.org.ID); !slices.Equal(got, []string{"member.invited", "member.joined"}) {
		t.Fatalf("audit: %v", got)
	}
	if pending, _ := f.svc.PendingInvites(f.ctx, in.org.ID); len(pending) != 0 {
		t.Fatalf("an accepted invite is still pending")
	}

	// A second person with the same link is refused.
	caio := f.user("caio@gmail.com", "Caio", false)
	if _, err := f.svc.AcceptInvite(f.ctx, tok, caio.ID, "", ""); !errors.Is(err, account.ErrInviteUnusable) {
		t.Fatalf("second accept: want ErrInviteUnusable, got %v", err)
	}
	if r := f.role(in.org, caio); r != "" {
		t.Fatalf("second accept made a %s", r)
	}
}

func TestInviteForAnEmail(t *testing.T) {
	f := newFixture(t)
	in := f.ownedOrg()
	inv, tok := f.invite(in, "  Bia@Gmail.com ", model.RoleAgent)
	if inv.Email == nil || *inv.Email != "bia@gmail.com" {
		t.Fatalf("invite email: %v, want bia@gmail.com", inv.Email)
	}

	caio := f.user("caio@gmail.com", "Caio", false)
	_, err := f.svc.AcceptInvite(f.ctx, tok, caio.ID, "", "")
	wantFieldError(t, err, "email", "invites.error.other_email")
	if r := f.role(in.org, caio); r != "" {
		t.Fatalf("someone else joined as %s with an invite for bia", r)
	}

	bia := f.user("bia@gmail.com", "Bia", false)
	if _, err := f.svc.AcceptInvite(f.ctx, tok, bia.ID, "", ""); err != nil {
		t.Fatalf("the invited email: %v", err)
	}
	if r := f.role(in.org, bia); r != model.RoleAgent {
		t.Fatalf("role %q, want agent", r)
	}
}

func TestUnusableInvites(t *testing.T) {
	f := newFixture(t)
	in := f.ownedOrg()
	bia := f.user("bia@gmail.com", "Bia", false)

	tests := []struct {
		name string
		// make returns the token of an invite that can no longer be used.
		make func(t *testing.T) string
	}{
		{"expired at creation", func(t *testing.T) string {
			svc := *f.svc
			svc.InviteTTL = -time.Minute
			_, tok, err := svc.Invite(f.ctx, in.as, "", model.RoleAgent)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"expired since", func(t *testing.T) string {
			inv, tok := f.invite(in, "", model.RoleAgent)
			f.exec(`UPDATE invites SET expires_at = now() - interval '1 second' WHERE id = $1`, inv.ID)
			return tok
		}},
		{"revoked", func(t *testing.T) string {
			inv, tok := f.invite(in, "", model.RoleAgent)
			if err := f.svc.RevokeInvite(f.ctx, in.as, inv.ID); err != nil {
				t.Fatal(err)
			}
			if got := f.eventTypes(in.org.ID); got[len(got)-1] != "invite.revoked" {
				t.Fatalf("last event %v, want invite.revoked", got)
			}
			return tok
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := tt.make(t)
			if _, err := f.svc.AcceptInvite(f.ctx, tok, bia.ID, "", ""); !errors.Is(err, account.ErrInviteUnusable) {
				t.Fatalf("accept: want ErrInviteUnusable, got %v", err)
			}
			if r := f.role(in.org, bia); r != "" {
				t.Fatalf("joined as %s", r)
			}
			users := f.count(`SELECT count(*) FROM users`)
			_, _, err := f.svc.SignupWithInvite(f.ctx, tok, account.SignupInput{Name: "Caio", Email: "caio@gmail.com", Password: goodPassword}, "", "")
			if !errors.Is(err, account.ErrInviteUnusable) {
				t.Fatalf("sign-up: want ErrInviteUnusable, got %v", err)
			}
			if got := f.count(`SELECT count(*) FROM users`); got != users {
				t.Fatalf("a sign-up with an unusable invite created a user")
			}
		})
	}
	if pending, _ := f.svc.PendingInvites(f.ctx, in.org.ID); len(pending) != 0 {
		t.Fatalf("unusable invites listed as pending: %d", len(pending))
	}
	if got := f.eventTypes(in.org.ID); slices.Contains(got, "member.joined") {
		t.Fatalf("events %v: someone joined", got)
	}
}

func TestRevokeInviteOfAnotherOrgIsNotFound(t *testing.T) {
	f := newFixture(t)
	in := f.ownedOrg()
	inv, tok := f.invite(in, "", model.RoleAgent)
	other := f.org("Outra")
	boss := f.user("chefe@outra.com", "Chefe", false)
	f.join(other, boss, model.RoleOwner)
	if err := f.svc.RevokeInvite(f.ctx, f.actor(other, boss), inv.ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
	if got, err := f.svc.InviteByToken(f.ctx, tok); err != nil || !got.Usable(time.Now()) {
		t.Fatalf("another org revoked the invite: %+v %v", got, err)
	}
}

func TestSignupWithInvite(t *testing.T) {
	f := newFixture(t)
	in := f.ownedOrg()
	_, tok := f.invite(in, "", model.RoleAdmin)

	u, inv, err := f.svc.SignupWithInvite(f.ctx, tok, account.SignupInput{Name: " Bia ", Email: " Bia@Gmail.com", Password: goodPassword}, "203.0.113.7", "ua")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || u.Email != "bia@gmail.com" || u.Name != "Bia" || inv.OrgID != in.org.ID {
		t.Fatalf("user %+v, invite %+v", u, inv)
	}
	if r := f.role(in.org, u); r != model.RoleAdmin {
		t.Fatalf("role %q, want admin", r)
	}
	if ms, _ := f.svc.Orgs(f.ctx, u.ID); len(ms) != 1 {
		t.Fatalf("a sign-up from an invite is in %d orgs, want only the inviting one", len(ms))
	}
	if got := f.eventTypes(in.org.ID); got[len(got)-1] != "member.joined" {
		t.Fatalf("events: %v", got)
	}
}

func TestSignupWithInviteRefusals(t *testing.T) {
	f := newFixture(t)
	in := f.ownedOrg()
	f.user("bia@gmail.com", "Bia", false)
	_, open := f.invite(in, "", model.RoleAgent)
	_, forDavi := f.invite(in, "davi@gmail.com", model.RoleAgent)

	tests := []struct {
		name, token string
		input       account.SignupInput
		field, key  string
	}{
		{"email already taken", open, account.SignupInput{Name: "Bia", Email: "BIA@gmail.com ", Password: goodPassword}, "email", "signup.error.email_taken"},
		{"another email than the invite's", forDavi, account.SignupInput{Name: "Caio", Email: "caio@gmail.com", Password: goodPassword}, "email", "invites.error.other_email"},
		{"weak password", open, account.SignupInput{Name: "Caio", Email: "caio@gmail.com", Password: "1234567890"}, "password", "signup.error.password_common"},
		{"no name", open, account.SignupInput{Email: "caio@gmail.com", Password: goodPassword}, "name", "signup.error.required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, members := f.count(`SELECT count(*) FROM users`), f.count(`SELECT count(*) FROM memberships`)
			_, _, err := f.svc.SignupWithInvite(f.ctx, tt.token, tt.input, "", "")
			wantFieldError(t, err, tt.field, tt.key)
			if got := f.count(`SELECT count(*) FROM users`); got != users {
				t.Errorf("users: %d → %d", users, got)
			}
			if got := f.count(`SELECT count(*) FROM memberships`); got != members {
				t.Errorf("memberships: %d → %d", members, got)
			}
		})
	}
	if pending, _ := f.svc.PendingInvites(f.ctx, in.org.ID); len(pending) != 2 {
		t.Fatalf("refused sign-ups used up invites: %d pending, want 2", len(pending))
	}
}
