package account_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"masteria/app/account"
	"masteria/app/model"
)

func TestRenameOrgWritesAuditAndEventInOneTransaction(t *testing.T) {
	f := newFixture(t)
	ana := f.user("ana@loja.com", "Ana", false)
	o := f.org("Loja")
	f.join(o, ana, model.RoleOwner)

	got, err := f.svc.RenameOrg(f.ctx, f.actor(o, ana), "  Loja   Nova ")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Loja Nova" || got.ID != o.ID {
		t.Fatalf("renamed org: got %+v", got)
	}
	if stored, _ := f.svc.Org(f.ctx, o.ID); stored.Name != "Loja Nova" {
		t.Fatalf("stored name %q", stored.Name)
	}

	log := f.audit(o.ID)
	if len(log) != 1 || log[0].Action != "org.renamed" || log[0].Target != "Loja Nova" {
		t.Fatalf("audit: got %+v", log)
	}
	evs := f.events(o.ID)
	if len(evs) != 1 || evs[0].Type != "org.renamed" {
		t.Fatalf("events: got %+v", evs)
	}
	var payload struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(evs[0].Payload, &payload); err != nil {
		t.Fatal(err)
	}
	if payload.ID != o.ID || payload.Name != "Loja Nova" {
		t.Fatalf("event payload: got %s", evs[0].Payload)
	}
	// now() is the transaction's start time in PostgreSQL: the same instant on the org, its
	// audit entry and its event shows the three were written in one transaction.
	if !got.UpdatedAt.Equal(evs[0].CreatedAt) || !got.UpdatedAt.Equal(log[0].CreatedAt) {
		t.Fatalf("not one transaction: org updated %v, event %v, audit %v", got.UpdatedAt, evs[0].CreatedAt, log[0].CreatedAt)
	}

	for _, name := range []string{"", "   ", strings.Repeat("x", model.MaxNameLen+1)} {
		_, err := f.svc.RenameOrg(f.ctx, f.actor(o, ana), name)
		wantFieldError(t, err, "name", "signup.error.required")
	}
	if n := len(f.events(o.ID)); n != 1 {
		t.Fatalf("a refused rename emitted events: %d in all", n)
	}
	if n := len(f.audit(o.ID)); n != 1 {
		t.Fatalf("a refused rename wrote audit entries: %d in all", n)
	}
	if stored, _ := f.svc.Org(f.ctx, o.ID); stored.Name != "Loja Nova" {
		t.Fatalf("a refused rename changed the name to %q", stored.Name)
	}
}

func TestCanGrant(t *testing.T) {
	t.Parallel()
	const (
		owner   = model.RoleOwner
		admin   = model.RoleAdmin
		manager = model.RoleManager
		agent   = model.RoleAgent
	)
	tests := []struct {
		granter, target model.Role
		want            bool
	}{
		{owner, owner, true}, {owner, admin, true}, {owner, manager, true}, {owner, agent, true},
		{admin, owner, false}, {admin, admin, true}, {admin, manager, true}, {admin, agent, true},
		{manager, owner, false}, {manager, admin, false}, {manager, manager, false}, {manager, agent, false},
		{agent, owner, false}, {agent, admin, false}, {agent, manager, false}, {agent, agent, false},
		{owner, "root", false}, {owner, "", false}, {"root", agent, false}, {"", agent, false},
		{"Owner", agent, false},
	}
	for _, tt := range tests {
		if got := tt.granter.CanGrant(tt.target); got != tt.want {
			t.Errorf("%q.CanGrant(%q) = %v, want %v", tt.granter, tt.target, got, tt.want)
		}
	}
}

// team is an org with one member of each role, and a second owner when asked.
type team struct {
	org                                  model.Org
	owner, owner2, admin, manager, agent model.User
}

func (f *fixture) team(name string, twoOwners bool) team {
	f.t.Helper()
	tm := team{org: f.org(name)}
	mk := func(local string, role model.Role) model.User {
		u := f.user(local+"@"+name+".com", local, false)
		f.join(tm.org, u, role)
		return u
	}
	tm.owner = mk("owner", model.RoleOwner)
	if twoOwners {
		tm.owner2 = mk("owner2", model.RoleOwner)
	}
	tm.admin = mk("admin", model.RoleAdmin)
	tm.manager = mk("manager", model.RoleManager)
	tm.agent = mk("agent", model.RoleAgent)
	return tm
}

func TestSetRoleAndRemoveMemberRules(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name      string
		twoOwners bool
		// do runs the change on a fresh team and returns its error.
		do      func(tm team) error
		want    error
		changed func(tm team) bool // what must hold after a successful change
	}{
		{
			name: "owner makes an agent a manager",
			do: func(tm team) error {
				return f.svc.SetRole(f.ctx, f.actor(tm.org, tm.owner), tm.agent.ID, model.RoleManager)
			},
			changed: func(tm team) bool { return f.role(tm.org, tm.agent) == model.RoleManager },
		},
		{
			name: "owner makes an admin an owner",
			do: func(tm team) error {
				return f.svc.SetRole(f.ctx, f.actor(tm.org, tm.owner), tm.admin.ID, model.RoleOwner)
			},
			changed: func(tm team) bool { return f.role(tm.org, tm.admin) == model.RoleOwner },
		},
		{
			name: "admin makes an agent an admin",
			do: func(tm team) error {
				return f.svc.SetRole(f.ctx, f.actor(tm.org, tm.admin), tm.agent.ID, model.RoleAdmin)
			},
			changed: func(tm team) bool { return f.role(tm.org, tm.agent) == model.RoleAdmin },
		},
		{
			name: "admin cannot make an owner",
			do: func(tm team) error {
				return f.svc.SetRole(f.ctx, f.actor(tm.org, tm.admin), tm.agent.ID, model.RoleOwner)
			},
			want: model.ErrForbidden,
		},
		{
			name: "admin cannot make themself an owner",
			do: func(tm team) error {
				return f.svc.SetRole(f.ctx, f.actor(tm.org, tm.admin), tm.admin.ID, model.RoleOwner)
			},
			want: model.ErrForbidden,
		},
		{
			name: "admin cannot demote an owner", twoOwners: true,
			do: func(tm team) error {
				return f.svc.SetRole(f.ctx, f.actor(tm.org, tm.admin), tm.owner.ID, model.RoleAgent)
			},
			want: model.ErrForbidden,
		},
		{
			name: "owner sets the role a member already has",
			do: func(tm team) error {
				return f.svc.SetRole(f.ctx, f.actor(tm.org, tm.owner), tm.agent.ID, model.RoleAgent)
			},
			changed: func(tm team) bool { return f.role(tm.org, tm.agent) == model.RoleAgent },
		},
		{
			name: "manager cannot set even an unchanged role",
			do: func(tm team) error {
				return f.svc.SetRole(f.ctx, f.actor(tm.org, tm.manager), tm.agent.ID, model.RoleAgent)
			},
			want: model.ErrForbidden,
		},
		{
			name: "manager cannot promote an agent",
			do: func(tm team) error {
				return f.svc.SetRole(f.ctx, f.actor(tm.org, tm.manager), tm.agent.ID, model.RoleManager)
			},
			want: model.ErrForbidden,
		},
		{
			name: "agent cannot promote themself",
			do: func(tm team) error {
				return f.svc.SetRole(f.ctx, f.actor(tm.org, tm.agent), tm.agent.ID, model.RoleAdmin)
			},
			want: model.ErrForbidden,
		},
		{
			name: "unknown role",
			do:   func(tm team) error { return f.svc.SetRole(f.ctx, f.actor(tm.org, tm.owner), tm.agent.ID, "root") },
			want: model.ErrInvalid,
		},
		{
			name: "not a member of the org",
			do: func(tm team) error {
				stranger := f.user("stranger-"+tm.org.Name+"@loja.com", "Stranger", false)
				return f.svc.SetRole(f.ctx, f.actor(tm.org, tm.owner), stranger.ID, model.RoleAgent)
			},
			want: model.ErrNotFound,
		},
		{
			name: "last owner cannot demote themself",
			do: func(tm team) error {
				return f.svc.SetRole(f.ctx, f.actor(tm.org, tm.owner), tm.owner.ID, model.RoleAdmin)
			},
			want: account.ErrLastOwner,
		},
		{
			name: "one of two owners demotes the other", twoOwners: true,
			do: func(tm team) error {
				return f.svc.SetRole(f.ctx, f.actor(tm.org, tm.owner), tm.owner2.ID, model.RoleAdmin)
			},
			changed: func(tm team) bool {
				return f.role(tm.org, tm.owner2) == model.RoleAdmin && f.role(tm.org, tm.owner) == model.RoleOwner
			},
		},
		{
			name: "one of two owners steps down", twoOwners: true,
			do: func(tm team) error {
				return f.svc.SetRole(f.ctx, f.actor(tm.org, tm.owner), tm.owner.ID, model.RoleAgent)
			},
			changed: func(tm team) bool { return f.role(tm.org, tm.owner) == model.RoleAgent },
		},
		{
			name:    "owner removes an agent",
			do:      func(tm team) error { return f.svc.RemoveMember(f.ctx, f.actor(tm.org, tm.owner), tm.agent.ID) },
			changed: func(tm team) bool { return f.role(tm.org, tm.agent) == "" },
		},
		{
			name:    "admin removes a manager",
			do:      func(tm team) error { return f.svc.RemoveMember(f.ctx, f.actor(tm.org, tm.admin), tm.manager.ID) },
			changed: func(tm team) bool { return f.role(tm.org, tm.manager) == "" },
		},
		{
			name:    "agent leaves the org",
			do:      func(tm team) error { return f.svc.RemoveMember(f.ctx, f.actor(tm.org, tm.agent), tm.agent.ID) },
			changed: func(tm team) bool { return f.role(tm.org, tm.agent) == "" },
		},
		{
			name: "admin cannot remove an owner", twoOwners: true,
			do:   func(tm team) error { return f.svc.RemoveMember(f.ctx, f.actor(tm.org, tm.admin), tm.owner.ID) },
			want: model.ErrForbidden,
		},
		{
			name: "manager cannot remove an agent",
			do:   func(tm team) error { return f.svc.RemoveMember(f.ctx, f.actor(tm.org, tm.manager), tm.agent.ID) },
			want: model.ErrForbidden,
		},
		{
			name: "last owner cannot leave",
			do:   func(tm team) error { return f.svc.RemoveMember(f.ctx, f.actor(tm.org, tm.owner), tm.owner.ID) },
			want: account.ErrLastOwner,
		},
		{
			name: "one of two owners removes the other", twoOwners: true,
			do:      func(tm team) error { return f.svc.RemoveMember(f.ctx, f.actor(tm.org, tm.owner), tm.owner2.ID) },
			changed: func(tm team) bool { return f.role(tm.org, tm.owner2) == "" },
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := f.team(fmt.Sprintf("loja%d", i), tt.twoOwners)
			before := f.members(tm.org)
			auditBefore, eventsBefore := len(f.audit(tm.org.ID)), len(f.events(tm.org.ID))
			err := tt.do(tm)
			if !errors.Is(err, tt.want) {
				t.Fatalf("want %v, got %v", tt.want, err)
			}
			if tt.want != nil {
				if after := f.members(tm.org); !slices.Equal(before, after) {
					t.Fatalf("a refused change changed the members: %v → %v", before, after)
				}
				if len(f.audit(tm.org.ID)) != auditBefore || len(f.events(tm.org.ID)) != eventsBefore {
					t.Fatalf("a refused change wrote audit entries or events")
				}
				return
			}
			if !tt.changed(tm) {
				t.Fatalf("change not made: members now %v", f.members(tm.org))
			}
			if slices.Equal(before, f.members(tm.org)) {
				return // nothing to change: no audit or event needed
			}
			evs := f.eventTypes(tm.org.ID)
			if len(evs) != eventsBefore+1 {
				t.Fatalf("want one new event, got %v", evs)
			}
			if last := evs[len(evs)-1]; last != "member.role_changed" && last != "member.removed" {
				t.Fatalf("unexpected event %s", last)
			}
			acts := f.auditActions(tm.org.ID)
			if len(acts) != auditBefore+1 || acts[len(acts)-1] != evs[len(evs)-1] {
				t.Fatalf("audit %v does not match the event %s", acts, evs[len(evs)-1])
			}
		})
	}
}

// members describes an org's members as "email:role", sorted.
func (f *fixture) members(o model.Org) []string {
	f.t.Helper()
	ms, err := f.svc.Members(f.ctx, o.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.UserEmail+":"+string(m.Role))
	}
	slices.Sort(out)
	return out
}

// TestOwnersDemotingEachOtherAtOnce has two owners demote each other at the same moment,
// many times over: the org lock serializes them, so one wins and the other is told it would
// leave the org without an owner.
func TestOwnersDemotingEachOtherAtOnce(t *testing.T) {
	f := newFixture(t)
	for round := range 10 {
		o := f.org(fmt.Sprintf("Loja %d", round))
		a := f.user(fmt.Sprintf("a%d@loja.com", round), "A", false)
		b := f.user(fmt.Sprintf("b%d@loja.com", round), "B", false)
		f.join(o, a, model.RoleOwner)
		f.join(o, b, model.RoleOwner)
		actA, actB := f.actor(o, a), f.actor(o, b)

		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		for i, do := range []func() error{
			func() error { return f.svc.SetRole(f.ctx, actA, b.ID, model.RoleAdmin) },
			func() error { return f.svc.SetRole(f.ctx, actB, a.ID, model.RoleAdmin) },
		} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = do()
			}()
		}
		close(start)
		wg.Wait()

		ok, last := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, account.ErrLastOwner):
				last++
			default:
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		if ok != 1 || last != 1 {
			t.Fatalf("round %d: want one success and one ErrLastOwner, got %v", round, errs)
		}
		if n, err := f.st.CountOwners(f.ctx, o.ID); err != nil || n != 1 {
			t.Fatalf("round %d: %d owners left (%v), want 1", round, n, err)
		}
	}
}

func TestInviteRefusals(t *testing.T) {
	f := newFixture(t)
	tm := f.team("loja", false)
	tests := []struct {
		who   model.User
		email string
		role  model.Role
		want  error
		field string // the field of a validation error
	}{
		{tm.owner, "", model.RoleOwner, nil, ""},
		{tm.owner, "bia@gmail.com", model.RoleAgent, nil, ""},
		{tm.admin, "", model.RoleAdmin, nil, ""},
		{tm.admin, "", model.RoleOwner, model.ErrForbidden, ""},
		{tm.manager, "", model.RoleAgent, model.ErrForbidden, ""},
		{tm.manager, "", model.RoleManager, model.ErrForbidden, ""},
		{tm.agent, "", model.RoleAgent, model.ErrForbidden, ""},
		{tm.owner, "", "root", model.ErrInvalid, "role"},
		{tm.owner, "bia", model.RoleAgent, model.ErrInvalid, "email"},
		{tm.owner, "bia@", model.RoleAgent, model.ErrInvalid, "email"},
		{tm.owner, "bia@gmail", model.RoleAgent, model.ErrInvalid, "email"},
		{tm.owner, "b ia@gmail.com", model.RoleAgent, model.ErrInvalid, "email"},
		{tm.owner, "Bia <bia@gmail.com>", model.RoleAgent, model.ErrInvalid, "email"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s invites %q as %s", tt.who.Name, tt.email, tt.role), func(t *testing.T) {
			before := f.count(`SELECT count(*) FROM invites`)
			_, tok, err := f.svc.Invite(f.ctx, f.actor(tm.org, tt.who), tt.email, tt.role)
			if !errors.Is(err, tt.want) {
				t.Fatalf("want %v, got %v", tt.want, err)
			}
			switch tt.field {
			case "role":
				wantFieldError(t, err, "role", "members.error.role")
			case "email":
				wantFieldError(t, err, "email", "signup.error.invalid_email")
			}
			after := f.count(`SELECT count(*) FROM invites`)
			if tt.want != nil && (after != before || tok != "") {
				t.Fatalf("a refused invite was created (token %q, invites %d → %d)", tok, before, after)
			}
			if tt.want == nil && after != before+1 {
				t.Fatalf("invites %d → %d", before, after)
			}
		})
	}
}
