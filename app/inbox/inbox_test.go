package inbox_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"masteria/app/channel"
	"masteria/app/channel/sandbox"
	"masteria/app/inbox"
	"masteria/app/jobs"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/store/storetest"
	"masteria/app/vault"
)

type env struct {
	st  *store.Store
	svc *inbox.Service
	a   model.Actor
	ctx context.Context
}

// newEnv runs an inbox with real job workers on a fresh database.
func newEnv(t *testing.T) env {
	t.Helper()
	st, url := storetest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	key, _ := vault.GenerateKey()
	ring, _ := vault.ParseKeyRing(key)
	svc := inbox.New(st, ring)
	svc.Registry().Register(model.KindSandbox, sandbox.New)
	reg := jobs.NewRegistry()
	inbox.Register(reg, svc)
	q, err := jobs.New(ctx, st.DB().DB, url, reg, jobs.Options{MaxWorkers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = q.Stop(context.Background())
	})
	svc.SetJobs(q)
	o, _ := st.CreateOrg(ctx, "Loja")
	u, _ := st.CreateUser(ctx, "ag@loja.com", "Agente", nil, nil)
	_, _ = st.AddMember(ctx, o.ID, u.ID, model.RoleAgent)
	return env{st: st, svc: svc, a: model.Actor{OrgID: o.ID, UserID: u.ID, Role: model.RoleAgent}, ctx: context.Background()}
}

func (e env) channel(t *testing.T, kind string) model.Channel {
	t.Helper()
	ch, err := e.svc.CreateChannel(e.ctx, e.a, kind, "Atendimento", map[string]string{"phone_number_id": "123"}, map[string]string{"token": "segredo"})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestInboundIsStoredOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.channel(t, model.KindSandbox)
	in := inbox.Inbound{From: "+5511987654321", Name: "Ana", ProviderID: "wamid.1", Body: "Oi, vocês abrem domingo?"}
	r1, err := e.svc.Receive(e.ctx, ch, in)
	if err != nil || r1.Duplicate {
		t.Fatalf("first: %+v %v", r1, err)
	}
	r2, err := e.svc.Receive(e.ctx, ch, in)
	if err != nil || !r2.Duplicate {
		t.Fatalf("the same webhook again: %+v %v", r2, err)
	}
	conv, _ := e.svc.Conversation(e.ctx, e.a.OrgID, r1.ConversationID)
	msgs, _ := e.svc.Thread(e.ctx, e.a.OrgID, r1.ConversationID, 0)
	if len(msgs) != 1 || conv.Unread != 1 || conv.ContactName != "Ana" || !conv.WindowOpen(time.Now()) {
		t.Fatalf("%d messages, conversation %+v", len(msgs), conv)
	}
	// A second message from the same phone lands in the same conversation.
	r3, _ := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511987654321", ProviderID: "wamid.2", Body: "?"})
	if r3.ConversationID != r1.ConversationID || r3.ContactID != r1.ContactID {
		t.Fatalf("second message went elsewhere: %+v", r3)
	}
}

// TestReplyGoesOutAndIsRead sends a reply through the real queue and the sandbox channel
// and waits for the sandbox to report it delivered and read.
// Webhooks arrive in parallel: the first messages of a new phone create one contact and one
// conversation, and copies of one message racing each other store it once and count it once.
func TestConcurrentInboundOfANewPhone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.channel(t, model.KindSandbox)
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() { // n different messages
			defer wg.Done()
			_, err := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511911112222", Name: "Bia", ProviderID: fmt.Sprintf("wamid.m%d", i), Body: "oi"})
			errs <- err
		}()
		go func() { // n copies of one message
			defer wg.Done()
			_, err := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511933334444", Name: "Caio", ProviderID: "wamid.same", Body: "olá"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for phone, want := range map[string]int{"+5511911112222": n, "+5511933334444": 1} {
		var contacts, convs, msgs, unread, timeline int
		db := e.st.DB()
		_ = db.Get(&contacts, `SELECT count(*) FROM contacts WHERE org_id = $1 AND phone = $2`, e.a.OrgID, phone)
		_ = db.Get(&convs, `SELECT count(*) FROM conversations v JOIN contacts c ON c.id = v.contact_id WHERE c.phone = $1`, phone)
		_ = db.Get(&msgs, `SELECT count(*) FROM messages m JOIN conversations v ON v.id = m.conversation_id JOIN contacts c ON c.id = v.contact_id WHERE c.phone = $1`, phone)
		_ = db.Get(&unread, `SELECT coalesce(sum(unread), 0) FROM conversations v JOIN contacts c ON c.id = v.contact_id WHERE c.phone = $1`, phone)
		_ = db.Get(&timeline, `SELECT count(*) FROM contact_events e JOIN contacts c ON c.id = e.contact_id WHERE c.phone = $1 AND e.kind = 'created'`, phone)
		if contacts != 1 || convs != 1 || msgs != want || unread != want || timeline != 1 {
			t.Errorf("%s: %d contacts, %d conversations, %d messages, %d unread, %d created lines; want 1, 1, %d, %d, 1",
				phone, contacts, convs, msgs, unread, timeline, want, want)
		}
	}
}

func TestReplyGoesOutAndIsRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.channel(t, model.KindSandbox)
	r, _ := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511987654321", ProviderID: "wamid.9", Body: "Oi"})
	m, err := e.svc.Send(e.ctx, e.a, r.ConversationID, "Abrimos sim, das 8h às 12h!")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, _ := e.st.Message(e.ctx, e.a.OrgID, m.ID)
		if got.Status == model.StatusRead {
			if got.ProviderID == nil {
				t.Fatal("read without a provider id")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %q after 20 s", got.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := e.svc.Send(e.ctx, e.a, r.ConversationID, "   "); err == nil {
		t.Fatal("an empty reply was accepted")
	}
}

func TestStatusesOnlyMoveForward(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.channel(t, model.KindWhatsAppCloud)
	r, _ := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511911112222", ProviderID: "wamid.in", Body: "Oi"})
	pid := "wamid.out"
	id, _, err := e.st.InsertMessage(e.ctx, model.Message{OrgID: e.a.OrgID, ConversationID: r.ConversationID, ChannelID: ch.ID,
		Direction: "out", Kind: "text", Body: "Olá", ProviderID: &pid, Status: model.StatusSent, CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{model.StatusRead, model.StatusDelivered, model.StatusSent, model.StatusFailed, model.StatusRead} {
		if err := e.svc.ApplyStatus(e.ctx, ch, pid, s, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := e.st.Message(e.ctx, e.a.OrgID, id)
	if got.Status != model.StatusRead {
		t.Fatalf("read, then late delivered/sent/failed: status %q", got.Status)
	}
	// Another org's channel cannot touch this message: its report waits as an early one
	// for an id its own channel never stored.
	o2, _ := e.st.CreateOrg(e.ctx, "Outra")
	other, err := e.svc.CreateChannel(e.ctx, model.Actor{OrgID: o2.ID, Role: model.RoleOwner}, model.KindWhatsAppCloud, "WA", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ApplyStatus(e.ctx, other, pid, model.StatusFailed, "x", "y"); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.st.Message(e.ctx, e.a.OrgID, id); got.Status != model.StatusRead {
		t.Fatal("a status of another org moved the message")
	}
}

func TestWindowClosedAllowsNoFreeText(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.channel(t, model.KindWhatsAppCloud)
	r, _ := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511933334444", ProviderID: "wamid.old", Body: "Oi", At: time.Now().Add(-25 * time.Hour)})
	if _, err := e.svc.Send(e.ctx, e.a, r.ConversationID, "Ainda tem?"); !errors.Is(err, inbox.ErrWindowClosed) {
		t.Fatalf("want ErrWindowClosed, got %v", err)
	}
	// SMS has no window, nor has a linked phone (QR): it answers like WhatsApp on a phone.
	for _, kind := range []string{model.KindSandbox, model.KindWhatsAppQR} {
		other := e.channel(t, kind)
		r2, _ := e.svc.Receive(e.ctx, other, inbox.Inbound{From: "+5511933334444", ProviderID: kind + ".old", Body: "Oi", At: time.Now().Add(-25 * time.Hour)})
		if _, err := e.svc.Send(e.ctx, e.a, r2.ConversationID, "Ainda tem?"); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
	}
}

func TestSecretsAreSealed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.channel(t, model.KindSandbox)
	var raw string
	_ = e.st.DB().Get(&raw, `SELECT secrets FROM channels WHERE id = $1`, ch.ID)
	if raw == "" || raw == `{"token":"segredo"}` || len(raw) < 20 {
		t.Fatalf("secrets stored as %q", raw)
	}
	got, err := e.svc.Secrets(ch)
	if err != nil || got["token"] != "segredo" {
		t.Fatalf("%v %v", got, err)
	}
	moved := ch
	moved.ID++ // a sealed value copied to another row does not open
	if _, err := e.svc.Secrets(moved); err == nil {
		t.Fatal("secrets opened under another channel id")
	}
}

// throttling is a channel that answers "slow down" a few times, then accepts.
type throttling struct {
	mu    sync.Mutex
	calls int
}

func (c *throttling) Kind() string                       { return "throttling" }
func (c *throttling) Capabilities() channel.Capabilities { return channel.Capabilities{} }
func (c *throttling) Send(context.Context, channel.Outbound) (channel.Sent, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.calls <= 2 {
		return channel.Sent{}, &channel.ThrottledError{RetryAfter: 10 * time.Millisecond, Code: "130429"}
	}
	return channel.Sent{ProviderID: "ok.1"}, nil
}

// TestThrottlingSlowsDownInsteadOfFailing: a provider's 429 halves the channel's pace and
// the message goes out later, not failed.
func TestThrottlingSlowsDownInsteadOfFailing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := &throttling{}
	e.svc.Registry().Register(model.KindTwilioSMS, func(model.Channel, map[string]string, channel.StatusFunc) (channel.Channel, error) { return th, nil })
	ch := e.channel(t, model.KindTwilioSMS)
	r, _ := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511955556666", ProviderID: "SM1", Body: "Oi"})
	m, err := e.svc.Send(e.ctx, e.a, r.ConversationID, "Olá!")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, _ := e.st.Message(e.ctx, e.a.OrgID, m.ID)
		if got.Status == model.StatusSent {
			break
		}
		if got.Status == model.StatusFailed || time.Now().After(deadline) {
			t.Fatalf("status %q", got.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if lim := e.svc.Registry().Limit(ch); lim >= 20 {
		t.Fatalf("pace still %v msg/s after two throttles", lim)
	}
}

// elsewhere is a channel whose connection another instance holds for its first sends.
type elsewhere struct {
	mu    sync.Mutex
	calls int
}

func (c *elsewhere) Kind() string                       { return "elsewhere" }
func (c *elsewhere) Capabilities() channel.Capabilities { return channel.Capabilities{} }
func (c *elsewhere) Send(context.Context, channel.Outbound) (channel.Sent, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.calls <= 2 {
		return channel.Sent{}, fmt.Errorf("session on another instance: %w", channel.ErrElsewhere)
	}
	return channel.Sent{ProviderID: "3EB0.1"}, nil
}

// TestSendHeldElsewhereComesBackSoon: a send through a channel another instance holds (a QR
// session) is snoozed for a moment, not retried after a growing backoff, nor failed; the
// attempts it used stay at one.
func TestSendHeldElsewhereComesBackSoon(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ew := &elsewhere{}
	e.svc.Registry().Register(model.KindWhatsAppQR, func(model.Channel, map[string]string, channel.StatusFunc) (channel.Channel, error) { return ew, nil })
	ch := e.channel(t, model.KindWhatsAppQR)
	r, _ := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511955557777", ProviderID: "3EB0.in", Body: "Oi"})
	m, err := e.svc.Send(e.ctx, e.a, r.ConversationID, "Olá!")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second) // River's backoff after two errors is over 17 s
	for {
		got, _ := e.st.Message(e.ctx, e.a.OrgID, m.ID)
		if got.Status == model.StatusSent {
			break
		}
		if got.Status == model.StatusFailed || time.Now().After(deadline) {
			t.Fatalf("status %q after %d sends", got.Status, ew.calls)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var errs int
	_ = e.st.DB().Get(&errs, `SELECT coalesce(array_length(errors, 1), 0) FROM river_job WHERE kind = 'inbox.send'`)
	if errs != 0 {
		t.Errorf("the job recorded %d errors; a send held elsewhere is not one", errs)
	}
}

// TestAgentsSeeTheirOwnAndUnassigned: an agent lists and opens only their own and
// unassigned conversations; another agent's is not found; a manager sees all.
func TestAgentsSeeTheirOwnAndUnassigned(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.channel(t, model.KindSandbox)
	other, _ := e.st.CreateUser(e.ctx, "outro@loja.com", "Outro", nil, nil)
	_, _ = e.st.AddMember(e.ctx, e.a.OrgID, other.ID, model.RoleAgent)
	boss, _ := e.st.CreateUser(e.ctx, "gerente@loja.com", "Gerente", nil, nil)
	_, _ = e.st.AddMember(e.ctx, e.a.OrgID, boss.ID, model.RoleManager)
	manager := model.Actor{OrgID: e.a.OrgID, UserID: boss.ID, Role: model.RoleManager}

	mine, _ := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511900000001", ProviderID: "a", Body: "1"})
	theirs, _ := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511900000002", ProviderID: "b", Body: "2"})
	free, _ := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511900000003", ProviderID: "c", Body: "3"})
	if err := e.svc.Assign(e.ctx, e.a, mine.ConversationID, e.a.UserID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Assign(e.ctx, manager, theirs.ConversationID, other.ID); err != nil {
		t.Fatal(err)
	}
	list, _, err := e.svc.List(e.ctx, e.a, inbox.ListInput{View: "all"})
	if err != nil || len(list) != 2 {
		t.Fatalf("agent sees %d conversations (%v)", len(list), err)
	}
	if _, err := e.svc.Open(e.ctx, e.a, theirs.ConversationID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("another agent's conversation: %v", err)
	}
	if _, err := e.svc.Send(e.ctx, e.a, theirs.ConversationID, "oi"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("reply in another agent's conversation: %v", err)
	}
	if err := e.svc.Assign(e.ctx, e.a, free.ConversationID, other.ID); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("an agent giving a conversation to someone else: %v", err)
	}
	all, _, _ := e.svc.List(e.ctx, manager, inbox.ListInput{View: "all"})
	minel, _, _ := e.svc.List(e.ctx, e.a, inbox.ListInput{View: "mine"})
	unassigned, _, _ := e.svc.List(e.ctx, manager, inbox.ListInput{View: "unassigned"})
	if len(all) != 3 || len(minel) != 1 || len(unassigned) != 1 {
		t.Fatalf("manager all %d, agent mine %d, unassigned %d", len(all), len(minel), len(unassigned))
	}
	if n, _ := e.svc.Unread(e.ctx, e.a); n != 2 {
		t.Fatalf("agent unread %d", n)
	}
	if err := e.svc.MarkRead(e.ctx, e.a, mine.ConversationID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetStatus(e.ctx, e.a, mine.ConversationID, "closed"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetStatus(e.ctx, e.a, mine.ConversationID, "archived"); err == nil {
		t.Fatal("an unknown status was accepted")
	}
	closed, _, _ := e.svc.List(e.ctx, e.a, inbox.ListInput{View: "all", Status: "closed"})
	if len(closed) != 1 {
		t.Fatalf("%d closed", len(closed))
	}
	// A new message reopens a closed conversation.
	r, _ := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511900000001", ProviderID: "a2", Body: "voltei"})
	if c, _ := e.svc.Open(e.ctx, e.a, r.ConversationID); c.Status != "open" {
		t.Fatalf("status %q after a new message", c.Status)
	}
	if _, err := e.svc.Note(e.ctx, e.a, mine.ConversationID, "Cliente pediu desconto"); err != nil {
		t.Fatal(err)
	}
	// Keyset pages cover everything once.
	if _, _, err := e.svc.List(e.ctx, manager, inbox.ListInput{After: "forged"}); err == nil {
		t.Fatal("forged cursor accepted")
	}
}

// racing is a channel whose provider reports "delivered" before the send call returns, as
// Meta sometimes does.
type racing struct {
	svc *inbox.Service
	ch  func() model.Channel
}

func (c *racing) Kind() string                       { return "racing" }
func (c *racing) Capabilities() channel.Capabilities { return channel.Capabilities{} }
func (c *racing) Send(ctx context.Context, _ channel.Outbound) (channel.Sent, error) {
	if err := c.svc.ApplyStatus(ctx, c.ch(), "race.1", model.StatusDelivered, "", ""); err != nil {
		return channel.Sent{}, err
	}
	return channel.Sent{ProviderID: "race.1"}, nil
}

// TestStatusBeforeTheSendReturns: a report for an id not stored yet waits and applies when
// the send job stores it.
func TestStatusBeforeTheSendReturns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var ch model.Channel
	e.svc.Registry().Register(model.KindTwilioSMS, func(model.Channel, map[string]string, channel.StatusFunc) (channel.Channel, error) {
		return &racing{svc: e.svc, ch: func() model.Channel { return ch }}, nil
	})
	ch = e.channel(t, model.KindTwilioSMS)
	r, _ := e.svc.Receive(e.ctx, ch, inbox.Inbound{From: "+5511977778888", ProviderID: "SMin", Body: "Oi"})
	m, err := e.svc.Send(e.ctx, e.a, r.ConversationID, "Olá!")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, _ := e.st.Message(e.ctx, e.a.OrgID, m.ID)
		if got.Status == model.StatusDelivered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %q: the early report was lost", got.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var left int
	_ = e.st.DB().Get(&left, `SELECT count(*) FROM early_statuses`)
	if left != 0 {
		t.Fatalf("%d early statuses left after applying them", left)
	}
}

func TestSeedDemoInbox(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.svc.SeedDemo(e.ctx, e.a); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SeedDemo(e.ctx, e.a); err != nil { // an org with channels is left alone
		t.Fatal(err)
	}
	manager := e.a
	manager.Role = model.RoleOwner
	list, _, err := e.svc.List(e.ctx, manager, inbox.ListInput{View: "all"})
	if err != nil || len(list) != 3 {
		t.Fatalf("%d demo conversations (%v)", len(list), err)
	}
	chs, _ := e.svc.Channels(e.ctx, e.a.OrgID)
	if len(chs) != 1 || chs[0].Kind != model.KindSandbox {
		t.Fatalf("channels %+v", chs)
	}
}
