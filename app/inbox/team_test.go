package inbox_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"masteria/app/inbox"
	"masteria/app/model"
)

// agents adds n agents to the env's org (besides the env's own) and returns every agent's id.
func (e env) agents(t *testing.T, n int) []int64 {
	t.Helper()
	ids := []int64{e.a.UserID}
	for i := range n {
		u, err := e.st.CreateUser(e.ctx, fmt.Sprintf("agente%d@loja.com", i), fmt.Sprintf("Agente %d", i), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.AddMember(e.ctx, e.a.OrgID, u.ID, model.RoleAgent); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	return ids
}

func (e env) owner(t *testing.T) model.Actor {
	t.Helper()
	u, err := e.st.CreateUser(e.ctx, "dona@loja.com", "Dona", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.AddMember(e.ctx, e.a.OrgID, u.ID, model.RoleOwner); err != nil {
		t.Fatal(err)
	}
	return model.Actor{OrgID: e.a.OrgID, UserID: u.ID, Role: model.RoleOwner}
}

// assignees counts the conversations of each assignee (0: nobody).
func (e env) assignees(t *testing.T, ids []int64) map[int64]int {
	t.Helper()
	out := map[int64]int{}
	for _, id := range ids {
		c, err := e.svc.Conversation(e.ctx, e.a.OrgID, id)
		if err != nil {
			t.Fatal(err)
		}
		var who int64
		if c.AssigneeID != nil {
			who = *c.AssigneeID
		}
		out[who]++
	}
	return out
}

func TestRoundRobinIsFair(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.channel(t, model.KindSandbox)
	agents := e.agents(t, 2)
	owner := e.owner(t)

	// Off by default: nobody is assigned.
	r, err := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511900000100", ProviderID: "off", Body: "oi"})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.assignees(t, []int64{r.ConversationID}); got[0] != 1 {
		t.Fatalf("round-robin off assigned: %v", got)
	}

	if err := e.svc.SaveSettings(e.ctx, owner, model.InboxSettings{RestrictAgents: true, RoundRobin: true}, agents); err != nil {
		t.Fatal(err)
	}
	var convs []int64
	for i := range 6 {
		r, err := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: fmt.Sprintf("+55119000002%02d", i), ProviderID: fmt.Sprintf("rr.%d", i), Body: "oi"})
		if err != nil {
			t.Fatal(err)
		}
		convs = append(convs, r.ConversationID)
	}
	got := e.assignees(t, convs)
	for _, a := range agents {
		if got[a] != 2 {
			t.Fatalf("6 conversations over 3 agents: %v", got)
		}
	}
	// A second message of an assigned conversation keeps its agent.
	first, _ := e.svc.Conversation(e.ctx, e.a.OrgID, convs[0])
	if _, err := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511900000200", ProviderID: "rr.again", Body: "e aí?"}); err != nil {
		t.Fatal(err)
	}
	if again, _ := e.svc.Conversation(e.ctx, e.a.OrgID, convs[0]); *again.AssigneeID != *first.AssigneeID {
		t.Fatalf("the assignee changed from %d to %d", *first.AssigneeID, *again.AssigneeID)
	}
	// Closed and unassigned, then reopened by the customer: round-robin picks it up again.
	if err := e.svc.Assign(e.ctx, owner, convs[1], 0); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetStatus(e.ctx, owner, convs[1], "closed"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511900000201", ProviderID: "rr.back", Body: "voltei"}); err != nil {
		t.Fatal(err)
	}
	if c, _ := e.svc.Conversation(e.ctx, e.a.OrgID, convs[1]); c.AssigneeID == nil || c.Status != "open" {
		t.Fatalf("reopened conversation: %+v", c)
	}
	// Only the members in the rotation: an agent ticked out gets nothing.
	if err := e.svc.SaveSettings(e.ctx, owner, model.InboxSettings{RestrictAgents: true, RoundRobin: true}, agents[:1]); err != nil {
		t.Fatal(err)
	}
	r, _ = e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511900000300", ProviderID: "rr.one", Body: "oi"})
	if c, _ := e.svc.Conversation(e.ctx, e.a.OrgID, r.ConversationID); c.AssigneeID == nil || *c.AssigneeID != agents[0] {
		t.Fatalf("rotation of one: %+v", c.AssigneeID)
	}
}

func TestRoundRobinUnderConcurrentInbound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.channel(t, model.KindSandbox)
	agents := e.agents(t, 2)
	owner := e.owner(t)
	// Nobody in the rotation: nobody is assigned.
	if err := e.svc.SaveSettings(e.ctx, owner, model.InboxSettings{RestrictAgents: true, RoundRobin: true}, nil); err != nil {
		t.Fatal(err)
	}
	r, _ := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511900000399", ProviderID: "none", Body: "oi"})
	if got := e.assignees(t, []int64{r.ConversationID}); got[0] != 1 {
		t.Fatalf("an empty rotation assigned: %v", got)
	}
	if err := e.svc.SaveSettings(e.ctx, owner, model.InboxSettings{RestrictAgents: true, RoundRobin: true}, agents); err != nil {
		t.Fatal(err)
	}
	const n = 12
	ids := make([]int64, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			r, err := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: fmt.Sprintf("+55119000004%02d", i), ProviderID: fmt.Sprintf("c.%d", i), Body: "oi"})
			ids[i] = r.ConversationID
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := e.assignees(t, ids)
	for _, a := range agents {
		if got[a] != n/len(agents) {
			t.Fatalf("%d concurrent conversations over %d agents: %v", n, len(agents), got)
		}
	}
}

func TestRestrictSetting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.channel(t, model.KindSandbox)
	other := model.Actor{OrgID: e.a.OrgID, UserID: e.agents(t, 1)[1], Role: model.RoleAgent}
	owner := e.owner(t)
	r, _ := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511900000500", ProviderID: "x", Body: "oi"})
	if err := e.svc.Assign(e.ctx, other, r.ConversationID, other.UserID); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.svc.Settings(e.ctx, e.a.OrgID); s != model.DefaultInboxSettings || !s.RestrictAgents {
		t.Fatalf("defaults: %+v", s)
	}
	if _, err := e.svc.Open(e.ctx, e.a, r.ConversationID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("restricted: %v", err)
	}
	if err := e.svc.SaveSettings(e.ctx, e.a, model.InboxSettings{}, nil); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("an agent saved the settings: %v", err)
	}
	if err := e.svc.SaveSettings(e.ctx, owner, model.InboxSettings{}, []int64{999999}); err == nil {
		t.Fatal("a rotation with a stranger was saved")
	}
	if err := e.svc.SaveSettings(e.ctx, owner, model.InboxSettings{RestrictAgents: false}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Open(e.ctx, e.a, r.ConversationID); err != nil {
		t.Fatalf("unrestricted: %v", err)
	}
	if list, _, _ := e.svc.List(e.ctx, e.a, inbox.ListInput{View: "all"}); len(list) != 1 {
		t.Fatalf("unrestricted list: %d", len(list))
	}
	if n, _ := e.svc.Unread(e.ctx, e.a); n != 1 {
		t.Fatalf("unrestricted unread: %d", n)
	}
	// Seeing is not handing out: an agent still may not give it to someone else.
	if err := e.svc.Assign(e.ctx, e.a, r.ConversationID, other.UserID); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("agent assigning to another: %v", err)
	}
	if err := e.svc.Assign(e.ctx, e.a, r.ConversationID, e.a.UserID); err != nil {
		t.Fatalf("agent taking over: %v", err)
	}
}

func TestLabels(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.channel(t, model.KindSandbox)
	r, _ := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511900000600", ProviderID: "l", Body: "oi"})
	if err := e.svc.AddLabel(e.ctx, e.a, r.ConversationID, "  VIP   cliente "); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AddLabel(e.ctx, e.a, r.ConversationID, "VIP cliente"); err != nil {
		t.Fatalf("the same label again: %v", err)
	}
	for _, bad := range []string{"   ", strings.Repeat("é", 33)} {
		var v *model.ValidationError
		if err := e.svc.AddLabel(e.ctx, e.a, r.ConversationID, bad); !errors.As(err, &v) {
			t.Fatalf("label %q: %v", bad, err)
		}
	}
	if err := e.svc.AddLabel(e.ctx, e.a, r.ConversationID, strings.Repeat("é", 32)); err != nil {
		t.Fatalf("a label of 32 characters: %v", err)
	}
	if err := e.svc.RemoveLabel(e.ctx, e.a, r.ConversationID, strings.Repeat("é", 32)); err != nil {
		t.Fatal(err)
	}
	for i := range 9 {
		if err := e.svc.AddLabel(e.ctx, e.a, r.ConversationID, fmt.Sprintf("l%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	var v *model.ValidationError
	if err := e.svc.AddLabel(e.ctx, e.a, r.ConversationID, "onze"); !errors.As(err, &v) || v.Fields["label"] != "inbox.labels.error.too_many" {
		t.Fatalf("an 11th label: %v", err)
	}
	list, _, _ := e.svc.List(e.ctx, e.a, inbox.ListInput{View: "all", Label: "VIP cliente"})
	if len(list) != 1 || len(list[0].Labels) != 10 || list[0].Labels[0] != "VIP cliente" {
		t.Fatalf("filtered by label: %+v", list)
	}
	if err := e.svc.RemoveLabel(e.ctx, e.a, r.ConversationID, "VIP cliente"); err != nil {
		t.Fatal(err)
	}
	if list, _, _ := e.svc.List(e.ctx, e.a, inbox.ListInput{View: "all", Label: "VIP cliente"}); len(list) != 0 {
		t.Fatalf("label removed, still listed: %d", len(list))
	}
	if in, _ := e.svc.Labels(e.ctx, e.a.OrgID); len(in) != 9 || in[0] != "l0" {
		t.Fatalf("labels in use: %v", in)
	}
	// A label two conversations have stays listed until the last one loses it.
	other, _ := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511955556666", ProviderID: "wamid.label2", Body: "Oi"})
	if err := e.svc.AddLabel(e.ctx, e.a, other.ConversationID, "l0"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RemoveLabel(e.ctx, e.a, r.ConversationID, "l0"); err != nil {
		t.Fatal(err)
	}
	if in, _ := e.svc.Labels(e.ctx, e.a.OrgID); len(in) != 9 || in[0] != "l0" {
		t.Fatalf("a label still in use left the list: %v", in)
	}
	if err := e.svc.RemoveLabel(e.ctx, e.a, other.ConversationID, "l0"); err != nil {
		t.Fatal(err)
	}
	if in, _ := e.svc.Labels(e.ctx, e.a.OrgID); len(in) != 8 || in[0] != "l1" {
		t.Fatalf("a label no conversation has is still listed: %v", in)
	}
}

func TestFillReply(t *testing.T) {
	for _, c := range []struct{ body, name, want string }{
		{"Olá {{nome}}, tudo bem?", "Ana Maria Souza", "Olá Ana, tudo bem?"},
		{"Hi {{ name }}!", "Bob", "Hi Bob!"},
		{"Olá {{nome}}, tudo bem?", "", "Olá, tudo bem?"},
		{"{{NOME}}", "Zé", "Zé"},
		{"sem nome", "Ana", "sem nome"},
	} {
		if got := inbox.FillReply(c.body, c.name); got != c.want {
			t.Errorf("FillReply(%q, %q) = %q, want %q", c.body, c.name, got, c.want)
		}
	}
}
