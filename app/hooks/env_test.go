package hooks_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"masteria/app/events"
	"masteria/app/hooks"
	"masteria/app/jobs"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/store/storetest"
	"masteria/app/vault"
)

// env is the webhooks service on its own database, with River workers that run only its
// jobs and the listener that wakes the dispatcher.
type env struct {
	ctx  context.Context
	st   *store.Store
	url  string
	svc  *hooks.Service
	jobs *jobs.Client
	ring *vault.Ring
	key  string // the ring's one key
	a    model.Actor
}

func newEnv(t testing.TB, opts hooks.Options) *env {
	t.Helper()
	st, url := storetest.New(t)
	key, err := vault.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := vault.ParseKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc := hooks.New(st, ring, opts)
	reg := jobs.NewRegistry()
	hooks.Register(reg, svc)
	jc, err := jobs.New(ctx, st.DB().DB, url, reg, jobs.Options{MaxWorkers: 20})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetJobs(jc)
	if err := jc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = svc.Run(ctx, url); close(done) }()
	t.Cleanup(func() {
		cancel()
		stop, c2 := context.WithTimeout(context.Background(), 5*time.Second)
		defer c2()
		_ = jc.Stop(stop)
		<-done
	})
	org, err := st.CreateOrg(ctx, "Loja Ganchos")
	if err != nil {
		t.Fatal(err)
	}
	return &env{ctx: context.Background(), st: st, url: url, svc: svc, jobs: jc, ring: ring, key: key, a: model.Actor{OrgID: org.ID, Role: model.RoleOwner}}
}

// publish records n org.renamed events of the env's org (names "name-0"…), committed together.
func (e *env) publish(t testing.TB, n int) {
	t.Helper()
	e.publishTo(t, e.a.OrgID, n)
}

func (e *env) publishTo(t testing.TB, orgID int64, n int) {
	t.Helper()
	ps := make([]events.IDName, n)
	for i := range ps {
		ps[i] = events.IDName{ID: orgID, Name: fmt.Sprintf("name-%d", i)}
	}
	if err := e.st.Tx(e.ctx, func(tx *store.Store) error { return events.OrgRenamed.PublishMany(e.ctx, tx, orgID, ps) }); err != nil {
		t.Fatal(err)
	}
}

// endpoint registers url for the org, subscribed to types (none: all events).
func (e *env) endpoint(t testing.TB, url string, types ...string) hooks.Created {
	t.Helper()
	c, err := e.svc.Create(e.ctx, e.a, hooks.Input{URL: url, EventTypes: types, AllEvents: len(types) == 0})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// receiver records what it is sent and answers with answer (nil: 204).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []capture
	answer func(n int, r *http.Request) int
}

type capture struct {
	Header http.Header
	Body   []byte
	At     time.Time
}

func newReceiver(t testing.TB, answer func(n int, r *http.Request) int) *receiver {
	t.Helper()
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 0, 512)
		buf := make([]byte, 4096)
		for {
			n, err := r.Body.Read(buf)
			b = append(b, buf[:n]...)
			if err != nil {
				break
			}
		}
		rc.mu.Lock()
		rc.got = append(rc.got, capture{Header: r.Header.Clone(), Body: b, At: time.Now()})
		n := len(rc.got)
		rc.mu.Unlock()
		code := http.StatusNoContent
		if rc.answer != nil {
			code = rc.answer(n, r)
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) captures() []capture {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]capture(nil), rc.got...)
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(within)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("waited %v for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fast is a schedule for tests: retries within a second.
var fast = []time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond}
