package wameow_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/types"

	"masteria/app/channel/wameow"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/store/storetest"
	"masteria/app/vault"
)

type env struct {
	st  *store.Store
	url string
	svc *inbox.Service
	a   model.Actor
}

func newEnv(t *testing.T) env {
	t.Helper()
	st, url := storetest.New(t)
	key, _ := vault.GenerateKey()
	ring, _ := vault.ParseKeyRing(key)
	ctx := context.Background()
	o, err := st.CreateOrg(ctx, "Loja QR")
	if err != nil {
		t.Fatal(err)
	}
	return env{st: st, url: url, svc: inbox.New(st, ring), a: model.Actor{OrgID: o.ID, Role: model.RoleAdmin}}
}

func (e env) qrChannel(t *testing.T) model.Channel {
	t.Helper()
	ch, err := e.svc.CreateChannel(context.Background(), e.a, model.KindWhatsAppQR, "WhatsApp Loja", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Status != "pending" {
		t.Fatalf("a new QR channel is %q, want pending", ch.Status)
	}
	return ch
}

// The session store lives in the app's database: whatsmeow's tables are created by the
// upgrade (twice is harmless), and a device saved there comes back, as after a restart.
func TestSessionStoreKeepsDevices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	m := wameow.New(e.st, e.svc, wameow.Options{})
	if err := m.Upgrade(ctx); err != nil {
		t.Fatal(err)
	}
	// Another instance starting later finds the tables up to date.
	st2, err := store.Connect(ctx, e.url)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	m2 := wameow.New(st2, e.svc, wameow.Options{})
	if err := m2.Upgrade(ctx); err != nil {
		t.Fatalf("second upgrade: %v", err)
	}

	dev := m.Container().NewDevice()
	jid := types.JID{User: "5511987654321", Device: 7, Server: types.DefaultUserServer}
	dev.ID = &jid
	dev.PushName = "Loja"
	dev.Account = &waAdv.ADVSignedDeviceIdentity{Details: []byte{1}, AccountSignature: make([]byte, 64), AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64)}
	if err := dev.Save(ctx); err != nil {
		t.Fatal(err)
	}

	back, err := m2.Container().GetDevice(ctx, jid)
	if err != nil || back == nil {
		t.Fatalf("device after restart: %v %v", back, err)
	}
	if back.PushName != "Loja" || back.RegistrationID != dev.RegistrationID || *back.IdentityKey.Priv != *dev.IdentityKey.Priv {
		t.Fatalf("device came back different: %+v", back)
	}
	if err := back.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if gone, err := m.Container().GetDevice(ctx, jid); err != nil || gone != nil {
		t.Fatalf("deleted device: %v %v", gone, err)
	}
}

// runs records which manager runs which session.
type runs struct {
	mu      sync.Mutex
	running map[string]int64 // manager name → channel id
	started chan string
}

func (r *runs) fake(name string) func(ctx context.Context, ch model.Channel) error {
	return func(ctx context.Context, ch model.Channel) error {
		r.mu.Lock()
		r.running[name] = ch.ID
		r.mu.Unlock()
		r.started <- name
		<-ctx.Done()
		r.mu.Lock()
		delete(r.running, name)
		r.mu.Unlock()
		return ctx.Err()
	}
}

func (r *runs) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.running)
}

// Two instances on one database: only one runs a session; when it stops (as when it dies:
// its connection and lock go), the other takes the session over.
func TestOneInstanceHoldsASessionAndAnotherTakesOver(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	r := &runs{running: map[string]int64{}, started: make(chan string, 4)}

	st2, err := store.Connect(ctx, e.url) // the second instance has its own pool
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	a := wameow.New(e.st, e.svc, wameow.Options{Every: 50 * time.Millisecond, Run: r.fake("a")})
	b := wameow.New(st2, e.svc, wameow.Options{Every: 50 * time.Millisecond, Run: r.fake("b")})
	a.Start(ctx)
	defer a.Stop()

	ch := e.qrChannel(t)
	a.Wake()
	first := wait(t, r.started)
	if first != "a" || !a.Holds(ch.ID) {
		t.Fatalf("first holder %q", first)
	}
	b.Start(ctx)
	defer b.Stop()
	// b looks several times and never starts the session a holds.
	time.Sleep(300 * time.Millisecond)
	if b.Holds(ch.ID) || r.count() != 1 {
		t.Fatalf("both run the session: b holds %v, %d running", b.Holds(ch.ID), r.count())
	}

	a.Stop()
	if next := wait(t, r.started); next != "b" || !b.Holds(ch.ID) || a.Holds(ch.ID) {
		t.Fatalf("after a stopped: %q took over (a holds %v, b holds %v)", next, a.Holds(ch.ID), b.Holds(ch.ID))
	}
	if r.count() != 1 {
		t.Fatalf("%d sessions running", r.count())
	}

	// Disconnecting the channel stops its session; nobody takes it again.
	if _, err := b.Disconnect(ctx, e.a, ch.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.Holds(ch.ID) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if b.Holds(ch.ID) || r.count() != 0 {
		t.Fatalf("a disconnected channel still runs (b holds %v, %d running)", b.Holds(ch.ID), r.count())
	}
	// Asking for a new code brings it back.
	if _, err := b.Pair(ctx, e.a, ch.ID); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, r.started); got != "b" {
		t.Fatalf("after pair: %q", got)
	}
}

// The session locks of an instance live on one connection: fifty sessions take one
// connection, not fifty; when it dies every lock is free for another instance, and Alive
// says the locks of that generation are gone.
func TestSessionLocksLiveOnOneConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	st2, err := store.Connect(ctx, e.url)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	mine, theirs := e.st.NewQRLocks(), st2.NewQRLocks()

	const base = 9_000_000
	var gen int64
	for i := range int64(50) {
		g, ok, err := mine.TryLock(ctx, base+i)
		if err != nil || !ok {
			t.Fatalf("lock %d: %v %v", i, ok, err)
		}
		gen = g
	}
	if _, ok, err := mine.TryLock(ctx, base); err != nil || ok {
		t.Fatalf("a lock already held was taken again: %v %v", ok, err)
	}
	var backends int
	if err := e.st.DB().Get(&backends, `SELECT count(DISTINCT pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid >= $2`, int64(0x77616d31), base); err != nil {
		t.Fatal(err)
	}
	if backends != 1 {
		t.Fatalf("50 session locks on %d connections, want 1", backends)
	}
	if _, ok, err := theirs.TryLock(ctx, base+7); err != nil || ok {
		t.Fatalf("a second instance got a held lock: %v %v", ok, err)
	}
	// Unlocking one frees it for the other instance; the rest stay held.
	mine.Unlock(ctx, base+7, gen)
	if g2, ok, err := theirs.TryLock(ctx, base+7); err != nil || !ok {
		t.Fatalf("an unlocked session: %v %v", ok, err)
	} else {
		theirs.Unlock(ctx, base+7, g2)
	}

	// The first instance "dies": the server ends its backend.
	if _, err := st2.DB().ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND pid <> pg_backend_pid()`, base); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		g2, ok, err := theirs.TryLock(ctx, base+3)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			theirs.Unlock(ctx, base+3, g2)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the locks outlived their connection")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := mine.Alive(ctx); !errors.Is(err, store.ErrLocksLost) {
		t.Fatalf("Alive on a dead connection: %v", err)
	}
	mine.Unlock(ctx, base+1, gen) // harmless: that generation is gone
	// A new lock comes on a new connection, of a new generation.
	if g3, ok, err := mine.TryLock(ctx, base+60); err != nil || !ok || g3 == gen {
		t.Fatalf("after the loss: gen %d (was %d) %v %v", g3, gen, ok, err)
	}
}

// The pairing code is kept in the database for whichever instance serves the page, and
// forgotten once the channel leaves pairing.
func TestQRCodeIsStoredForEveryInstance(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	ch := e.qrChannel(t)
	m := wameow.New(e.st, e.svc, wameow.Options{Run: func(ctx context.Context, _ model.Channel) error { <-ctx.Done(); return nil }})
	if _, err := m.QR(ctx, e.a.OrgID, ch.ID); err == nil {
		t.Fatal("a code before any was stored")
	}
	if err := e.st.PutQRCode(ctx, e.a.OrgID, ch.ID, "2@abc", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if q, err := m.QR(ctx, e.a.OrgID, ch.ID); err != nil || q.Code != "2@abc" {
		t.Fatalf("code: %+v %v", q, err)
	}
	if _, err := m.QR(ctx, e.a.OrgID+1, ch.ID); err == nil {
		t.Fatal("another org read the code")
	}
	if err := e.st.PutQRCode(ctx, e.a.OrgID, ch.ID, "2@old", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := m.QR(ctx, e.a.OrgID, ch.ID); err == nil {
		t.Fatal("an expired code is shown")
	}
	if _, err := m.Disconnect(ctx, e.a, ch.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.QRCode(ctx, e.a.OrgID, ch.ID); err == nil {
		t.Fatal("the code outlived the pairing")
	}
	// Only QR channels of the actor's org.
	other := model.Actor{OrgID: e.a.OrgID + 1, Role: model.RoleAdmin}
	if _, err := m.Disconnect(ctx, other, ch.ID); err == nil {
		t.Fatal("another org disconnected the channel")
	}
	sbx, _ := e.svc.CreateChannel(ctx, e.a, model.KindSandbox, "Teste", nil, nil)
	if _, err := m.Pair(ctx, e.a, sbx.ID); err == nil {
		t.Fatal("a sandbox channel was paired")
	}
}

func wait(t *testing.T, c chan string) string {
	t.Helper()
	select {
	case s := <-c:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no session started")
		return ""
	}
}
