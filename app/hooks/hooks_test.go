package hooks_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"masteria/app/events"
	"masteria/app/hooks"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/vault"
)

// TestSignVector: the Standard Webhooks test vector (reference §3.2), byte for byte, and
// the same signature from the independent library.
func TestSignVector(t *testing.T) {
	key, err := hooks.SecretKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := hooks.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`), key)
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature %q, want %q", got, want)
	}
	wh, err := standardwebhooks.NewWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	lib, _ := wh.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if lib != got {
		t.Fatalf("library signs %q, we sign %q", lib, got)
	}
	// Unprefixed secrets behave the same; a short or empty one is refused.
	if k2, err := hooks.SecretKey("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); err != nil || string(k2) != string(key) {
		t.Fatalf("unprefixed secret: %v", err)
	}
	for _, bad := range []string{"", "whsec_", "whsec_c2hvcnQ=", "whsec_!!!"} {
		if _, err := hooks.SecretKey(bad); err == nil {
			t.Errorf("secret %q accepted", bad)
		}
	}
	s := hooks.NewSecret()
	if k, err := hooks.SecretKey(s); err != nil || len(k) != 32 || !strings.HasPrefix(s, "whsec_") {
		t.Fatalf("new secret %q: %v", s, err)
	}
}

// TestDeliveriesVerify: events become deliveries to the endpoints that want them, in the
// Standard Webhooks format, verified by the independent library; during a rotation both
// the old and the new secret verify.
func TestDeliveriesVerify(t *testing.T) {
	e := newEnv(t, hooks.Options{AllowPrivate: true, Schedule: fast})
	all := newReceiver(t, nil)
	some := newReceiver(t, nil)
	ca := e.endpoint(t, all.URL)
	cs := e.endpoint(t, some.URL, "contact.created")
	other, _ := e.st.CreateOrg(e.ctx, "Outra")
	e.publish(t, 3)
	e.publishTo(t, other.ID, 2) // another org's events reach none of these endpoints
	waitFor(t, 10*time.Second, "3 deliveries", func() bool { return len(all.captures()) >= 3 })
	time.Sleep(300 * time.Millisecond)
	if n := len(all.captures()); n != 3 {
		t.Fatalf("all-events endpoint got %d deliveries, want 3", n)
	}
	if n := len(some.captures()); n != 0 {
		t.Fatalf("contact.created endpoint got %d org.renamed deliveries", n)
	}
	wh, err := standardwebhooks.NewWebhook(ca.Secret)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i, c := range all.captures() {
		if err := wh.Verify(c.Body, c.Header); err != nil {
			t.Fatalf("delivery %d does not verify: %v\n%s", i, err, c.Body)
		}
		var body struct {
			Type      string          `json:"type"`
			Timestamp time.Time       `json:"timestamp"`
			Data      events.IDName   `json:"data"`
			Extra     json.RawMessage `json:"-"`
		}
		if err := json.Unmarshal(c.Body, &body); err != nil || body.Type != "org.renamed" || body.Timestamp.IsZero() ||
			body.Data.ID != e.a.OrgID || !strings.HasPrefix(body.Data.Name, "name-") {
			t.Fatalf("body %s: %v", c.Body, err)
		}
		id := c.Header.Get("webhook-id")
		if !strings.HasPrefix(id, "msg_") || ids[id] {
			t.Fatalf("webhook-id %q (seen: %v)", id, ids[id])
		}
		ids[id] = true
		ts, _ := strconv.ParseInt(c.Header.Get("webhook-timestamp"), 10, 64)
		if d := time.Since(time.Unix(ts, 0)); d < -2*time.Second || d > time.Minute {
			t.Fatalf("webhook-timestamp %d is not now in seconds", ts)
		}
	}
	// Rotation: both secrets sign until the old one expires.
	rot, err := e.svc.Rotate(e.ctx, e.a, ca.Endpoint.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rot.Secret == ca.Secret || time.Until(rot.OldExpires) < 23*time.Hour {
		t.Fatalf("rotation: %+v", rot)
	}
	e.publish(t, 1)
	waitFor(t, 10*time.Second, "the delivery after rotation", func() bool { return len(all.captures()) >= 4 })
	c := all.captures()[3]
	if sig := c.Header.Get("webhook-signature"); len(strings.Fields(sig)) != 2 {
		t.Fatalf("signature during the overlap %q: want two v1 entries", sig)
	}
	whNew, _ := standardwebhooks.NewWebhook(rot.Secret)
	if err := wh.Verify(c.Body, c.Header); err != nil {
		t.Fatalf("old secret during the overlap: %v", err)
	}
	if err := whNew.Verify(c.Body, c.Header); err != nil {
		t.Fatalf("new secret: %v", err)
	}
	// Expired at once: only the new secret signs.
	if _, err := e.svc.Rotate(e.ctx, e.a, cs.Endpoint.ID, -time.Second); err == nil {
		t.Fatal("a negative overlap was accepted")
	}
}

// TestRetriesKeepTheID: a failing receiver gets the same webhook-id on every attempt, a
// fresh timestamp and signature each time, and each attempt is logged.
func TestRetriesKeepTheID(t *testing.T) {
	e := newEnv(t, hooks.Options{AllowPrivate: true, Schedule: fast})
	rc := newReceiver(t, func(n int, _ *http.Request) int {
		if n < 3 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	c := e.endpoint(t, rc.URL)
	e.publish(t, 1)
	waitFor(t, 20*time.Second, "three attempts", func() bool { return len(rc.captures()) >= 3 })
	got := rc.captures()
	wh, _ := standardwebhooks.NewWebhook(c.Secret)
	for i, cp := range got {
		if cp.Header.Get("webhook-id") != got[0].Header.Get("webhook-id") {
			t.Fatalf("attempt %d has id %q, the first %q", i, cp.Header.Get("webhook-id"), got[0].Header.Get("webhook-id"))
		}
		if err := wh.Verify(cp.Body, cp.Header); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	var ds []model.WebhookDelivery
	waitFor(t, 5*time.Second, "the delivery logged as delivered", func() bool {
		ds, _ = e.svc.Deliveries(e.ctx, e.a, c.Endpoint.ID, store.WebhookDeliveryFilter{Limit: 10})
		return len(ds) == 1 && ds[0].State == "delivered"
	})
	if len(ds[0].Log) != 3 || ds[0].Log[0].Status != 200 || ds[0].Log[2].Status != 500 || ds[0].MsgID != got[0].Header.Get("webhook-id") {
		t.Fatalf("log: %+v", ds[0])
	}
	// Filters.
	if f, _ := e.svc.Deliveries(e.ctx, e.a, c.Endpoint.ID, store.WebhookDeliveryFilter{State: "failed", Limit: 10}); len(f) != 0 {
		t.Fatalf("failed filter: %d", len(f))
	}
	if f, _ := e.svc.Deliveries(e.ctx, e.a, c.Endpoint.ID, store.WebhookDeliveryFilter{EventType: "contact.created", Limit: 10}); len(f) != 0 {
		t.Fatalf("type filter: %d", len(f))
	}
}

// TestGoneDisables: a 410 disables the endpoint after one attempt and tells the admins.
func TestGoneDisables(t *testing.T) {
	e := newEnv(t, hooks.Options{AllowPrivate: true, Schedule: fast})
	rc := newReceiver(t, func(int, *http.Request) int { return http.StatusGone })
	c := e.endpoint(t, rc.URL)
	e.publish(t, 5)
	waitFor(t, 10*time.Second, "the endpoint disabled", func() bool {
		ep, _ := e.svc.Endpoint(e.ctx, e.a, c.Endpoint.ID)
		return !ep.Enabled && ep.DisabledReason == "gone"
	})
	// The requests already under way when the 410 came (at most Concurrency) end; nothing
	// more is sent, even for new events.
	time.Sleep(300 * time.Millisecond)
	n := len(rc.captures())
	if n < 1 || n > 16 {
		t.Fatalf("%d attempts around a 410", n)
	}
	e.publish(t, 3)
	time.Sleep(1500 * time.Millisecond)
	if m := len(rc.captures()); m != n {
		t.Fatalf("%d more attempts after the endpoint was disabled", m-n)
	}
	evs, err := e.st.EventsSince(e.ctx, e.a.OrgID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range evs {
		found = found || ev.Type == events.WebhookEndpointDisabled.Name()
	}
	if !found {
		t.Fatal("no webhook.endpoint_disabled event")
	}
	// New events go nowhere; a replay to a disabled endpoint is refused.
	ds, _ := e.svc.Deliveries(e.ctx, e.a, c.Endpoint.ID, store.WebhookDeliveryFilter{Limit: 10})
	if _, err := e.svc.Replay(e.ctx, e.a, c.Endpoint.ID, ds[0].ID); !errors.Is(err, hooks.ErrDisabled) {
		t.Fatalf("replay to a disabled endpoint: %v", err)
	}
}

// TestCircuitBreaker: a receiver that never answers opens its endpoint's circuit after a
// few timeouts, and a healthy endpoint of the same org gets every delivery meanwhile,
// without waiting for the dead one.
func TestCircuitBreaker(t *testing.T) {
	e := newEnv(t, hooks.Options{AllowPrivate: true, Schedule: fast, Timeout: time.Second, Concurrency: 4,
		BreakerTimeouts: 3, BreakerCooldown: time.Minute})
	release := make(chan struct{})
	var deadHits atomic.Int64
	dead := newReceiver(t, func(int, *http.Request) int {
		deadHits.Add(1)
		<-release
		return 200
	})
	t.Cleanup(func() { close(release) })
	healthy := newReceiver(t, nil)
	cd := e.endpoint(t, dead.URL)
	e.endpoint(t, healthy.URL)
	start := time.Now()
	e.publish(t, 40)
	waitFor(t, 10*time.Second, "the healthy endpoint's 40 deliveries", func() bool { return len(healthy.captures()) >= 40 })
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the healthy endpoint waited %v", took)
	}
	waitFor(t, 10*time.Second, "the dead endpoint's circuit open", func() bool {
		ep, _ := e.svc.Endpoint(e.ctx, e.a, cd.Endpoint.ID)
		return ep.OpenUntil != nil && ep.OpenUntil.After(time.Now())
	})
	// Before the circuit opened, at most Concurrency requests were under way when the
	// threshold was reached, plus those started as slots freed; after, none.
	n := deadHits.Load()
	if n > 4+3 {
		t.Fatalf("%d requests reached the dead receiver, want at most 7", n)
	}
	time.Sleep(1500 * time.Millisecond)
	if m := deadHits.Load(); m != n {
		t.Fatalf("%d requests reached the dead receiver while its circuit was open", m-n)
	}
	ds, _ := e.svc.Deliveries(e.ctx, e.a, cd.Endpoint.ID, store.WebhookDeliveryFilter{State: "pending", Limit: 100})
	if len(ds) != 40 {
		t.Fatalf("%d deliveries wait for the dead endpoint, want 40", len(ds))
	}
}

// TestReplay sends one delivery again, then a time range, with the same webhook-id.
func TestReplay(t *testing.T) {
	e := newEnv(t, hooks.Options{AllowPrivate: true, Schedule: fast})
	rc := newReceiver(t, nil)
	c := e.endpoint(t, rc.URL)
	e.publish(t, 2)
	waitFor(t, 10*time.Second, "2 deliveries", func() bool { return len(rc.captures()) >= 2 })
	var ds []model.WebhookDelivery
	waitFor(t, 5*time.Second, "both delivered", func() bool {
		ds, _ = e.svc.Deliveries(e.ctx, e.a, c.Endpoint.ID, store.WebhookDeliveryFilter{State: "delivered", Limit: 10})
		return len(ds) == 2
	})
	if _, err := e.svc.Replay(e.ctx, e.a, c.Endpoint.ID, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the replay", func() bool { return len(rc.captures()) >= 3 })
	if got := rc.captures()[2].Header.Get("webhook-id"); got != ds[0].MsgID {
		t.Fatalf("replay sent id %q, want %q", got, ds[0].MsgID)
	}
	// The receiver has the replay before the deliverer records it; until then it is being
	// sent, and a range replay leaves a delivery being sent alone.
	waitFor(t, 10*time.Second, "the replay recorded", func() bool {
		ds, _ := e.svc.Deliveries(e.ctx, e.a, c.Endpoint.ID, store.WebhookDeliveryFilter{State: "delivered", Limit: 10})
		return len(ds) == 2
	})
	n, err := e.svc.ReplayRange(e.ctx, e.a, c.Endpoint.ID, time.Now().Add(-time.Hour), time.Now().Add(time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("replay range: %d, %v", n, err)
	}
	waitFor(t, 10*time.Second, "the range replayed", func() bool { return len(rc.captures()) >= 5 })
	// Another org's actor sees nothing of it; an agent may not.
	other, _ := e.st.CreateOrg(e.ctx, "Outra")
	if _, err := e.svc.Replay(e.ctx, model.Actor{OrgID: other.ID, Role: model.RoleOwner}, c.Endpoint.ID, ds[0].ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("foreign replay: %v", err)
	}
	if _, err := e.svc.Replay(e.ctx, model.Actor{OrgID: e.a.OrgID, Role: model.RoleManager}, c.Endpoint.ID, ds[0].ID); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("manager replay: %v", err)
	}
}

// TestTestPing delivers webhook.test at once and logs its result.
func TestTestPing(t *testing.T) {
	e := newEnv(t, hooks.Options{AllowPrivate: true})
	rc := newReceiver(t, nil)
	c := e.endpoint(t, rc.URL, "contact.created")
	d, err := e.svc.Test(e.ctx, e.a, c.Endpoint.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != "delivered" || len(d.Log) != 1 || d.Log[0].Status != 204 || d.EventType != "webhook.test" {
		t.Fatalf("test delivery: %+v", d)
	}
	wh, _ := standardwebhooks.NewWebhook(c.Secret)
	cp := rc.captures()[0]
	if err := wh.Verify(cp.Body, cp.Header); err != nil || !strings.Contains(string(cp.Body), `"type":"webhook.test"`) {
		t.Fatalf("ping %s: %v", cp.Body, err)
	}
}

// TestPrivateAddressesRefused: without the setting, plain http and non-public hosts are
// refused when an endpoint is saved, and a name or redirect that leads to one is refused
// at delivery time, on the address dialled.
func TestPrivateAddressesRefused(t *testing.T) {
	e := newEnv(t, hooks.Options{Schedule: fast})
	for _, u := range []string{"http://example.com/h", "https://127.0.0.1/h", "https://10.1.2.3/h", "https://[::1]/h",
		"https://169.254.169.254/latest", "https://100.64.0.1/", "https://0.0.0.0/", "https://localhost/h", "https://224.0.0.1/"} {
		if _, err := e.svc.Create(e.ctx, e.a, hooks.Input{URL: u, AllEvents: true}); !errors.Is(err, model.ErrInvalid) {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"ftp://example.com/", "https://user:pw@example.com/", "/relative", "https://exa mple.com/", "https://example.com/\x00"} {
		if _, err := e.svc.Create(e.ctx, e.a, hooks.Input{URL: u, AllEvents: true}); !errors.Is(err, model.ErrInvalid) {
			t.Errorf("%s: %v", u, err)
		}
	}
	// A receiver on loopback, saved while the setting allowed it: refused on the address
	// dialled, and never reached.
	rc := newReceiver(t, nil)
	lax := hooks.New(e.st, e.ring, hooks.Options{AllowPrivate: true})
	c, err := lax.Create(e.ctx, e.a, hooks.Input{URL: rc.URL, AllEvents: true})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.svc.Test(e.ctx, e.a, c.Endpoint.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != "failed" || d.Log[0].Status != 0 || !strings.Contains(d.Log[0].Error, "refused") {
		t.Fatalf("test to a loopback receiver: %+v", d.Log)
	}
	e.publish(t, 1)
	waitFor(t, 10*time.Second, "the delivery refused", func() bool {
		ds, _ := e.svc.Deliveries(e.ctx, e.a, c.Endpoint.ID, store.WebhookDeliveryFilter{EventType: "org.renamed", Limit: 10})
		return len(ds) == 1 && len(ds[0].Log) > 0 && strings.Contains(ds[0].Log[0].Error, "refused")
	})
	// A redirect, here to that private receiver, is never followed, even where private
	// addresses are allowed: it is a failed attempt.
	redirect := newReceiver(t, func(_ int, r *http.Request) int { return http.StatusFound })
	redirect.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, rc.URL+"/inside", http.StatusFound)
	})
	cr, err := lax.Create(e.ctx, e.a, hooks.Input{URL: redirect.URL, AllEvents: true})
	if err != nil {
		t.Fatal(err)
	}
	dr, err := lax.Test(e.ctx, e.a, cr.Endpoint.ID)
	if err != nil {
		t.Fatal(err)
	}
	if dr.State != "failed" || dr.Log[0].Status != http.StatusFound || !strings.Contains(dr.Log[0].Error, "redirect") {
		t.Fatalf("redirect: %+v", dr.Log)
	}
	if n := len(rc.captures()); n != 0 {
		t.Fatalf("the private receiver was reached %d times", n)
	}
}

// TestDispatchFollowsCommitOrder: an event written by a transaction that commits after a
// later one is not skipped by the dispatcher's cursor.
func TestDispatchFollowsCommitOrder(t *testing.T) {
	e := newEnv(t, hooks.Options{AllowPrivate: true, Schedule: fast})
	rc := newReceiver(t, nil)
	e.endpoint(t, rc.URL)
	hold, held := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- e.st.Tx(e.ctx, func(tx *store.Store) error {
			if _, err := events.OrgRenamed.Publish(e.ctx, tx, e.a.OrgID, events.IDName{ID: e.a.OrgID, Name: "early"}); err != nil {
				return err
			}
			close(held)
			<-hold
			return nil
		})
	}()
	<-held
	e.publish(t, 1) // a later id, committed first
	time.Sleep(1500 * time.Millisecond)
	if n := len(rc.captures()); n != 0 {
		// Held behind the open transaction: nothing may pass it (it could commit behind the cursor).
		t.Logf("%d delivered before the early transaction committed", n)
	}
	close(hold)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "both events", func() bool { return len(rc.captures()) >= 2 })
	names := map[string]bool{}
	for _, c := range rc.captures() {
		var b struct {
			Data events.IDName `json:"data"`
		}
		_ = json.Unmarshal(c.Body, &b)
		names[b.Data.Name] = true
	}
	if !names["early"] || !names["name-0"] {
		t.Fatalf("delivered: %v", names)
	}
}

// TestFailingForDaysDisables: an endpoint whose every attempt fails for DisableAfter (days
// in production, here half a second) is disabled and the admins told; a success meanwhile
// would have reset the clock.
func TestFailingForDaysDisables(t *testing.T) {
	e := newEnv(t, hooks.Options{AllowPrivate: true, DisableAfter: 500 * time.Millisecond, BreakerThreshold: 1000,
		Schedule: []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond, 500 * time.Millisecond, 600 * time.Millisecond}})
	rc := newReceiver(t, func(int, *http.Request) int { return http.StatusServiceUnavailable })
	c := e.endpoint(t, rc.URL)
	e.publish(t, 1)
	waitFor(t, 30*time.Second, "the endpoint disabled for failing", func() bool {
		ep, _ := e.svc.Endpoint(e.ctx, e.a, c.Endpoint.ID)
		return !ep.Enabled && ep.DisabledReason == "failing"
	})
	ds, _ := e.svc.Deliveries(e.ctx, e.a, c.Endpoint.ID, store.WebhookDeliveryFilter{Limit: 10})
	if len(ds) != 1 || ds[0].State != "failed" || len(ds[0].Log) < 2 {
		t.Fatalf("delivery after the endpoint was disabled: %+v", ds)
	}
	evs, _ := e.st.EventsSince(e.ctx, e.a.OrgID, 0, 100)
	last := evs[len(evs)-1]
	ref, err := events.WebhookEndpointDisabled.Decode(last.Payload)
	if last.Type != events.WebhookEndpointDisabled.Name() || err != nil || ref.Reason != "failing" || ref.EndpointID != c.Endpoint.ID {
		t.Fatalf("last event: %+v", evs[len(evs)-1])
	}
}

// TestRetryAfter: a 429 (or 502, 504) with Retry-After is tried again no sooner than it asks.
func TestRetryAfter(t *testing.T) {
	e := newEnv(t, hooks.Options{AllowPrivate: true, Schedule: fast})
	rc := newReceiver(t, nil)
	rc.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		rc.got = append(rc.got, capture{Header: r.Header.Clone(), At: time.Now()})
		n := len(rc.got)
		rc.mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	e.endpoint(t, rc.URL)
	e.publish(t, 1)
	waitFor(t, 20*time.Second, "the second attempt", func() bool { return len(rc.captures()) >= 2 })
	got := rc.captures()
	if gap := got[1].At.Sub(got[0].At); gap < 2*time.Second {
		t.Fatalf("tried again after %v, Retry-After said 2 s", gap)
	}
	if got[0].Header.Get("webhook-id") != got[1].Header.Get("webhook-id") {
		t.Fatal("the retry has another webhook-id")
	}
}

// TestResealOnKeyRotation: `masteria keys rotate` re-seals webhook secrets with the new
// key; afterwards the old key can go and deliveries still sign with the same secret.
func TestResealOnKeyRotation(t *testing.T) {
	e := newEnv(t, hooks.Options{AllowPrivate: true})
	rc := newReceiver(t, nil)
	c := e.endpoint(t, rc.URL)
	fresh, err := vault.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	both, err := vault.ParseKeyRing(fresh + "," + e.key)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := hooks.Reseal(e.ctx, e.st, both); err != nil || n != 1 {
		t.Fatalf("reseal: %d, %v", n, err)
	}
	if n, err := hooks.Reseal(e.ctx, e.st, both); err != nil || n != 0 {
		t.Fatalf("reseal again: %d, %v", n, err)
	}
	only, _ := vault.ParseKeyRing(fresh)
	svc := hooks.New(e.st, only, hooks.Options{AllowPrivate: true})
	d, err := svc.Test(e.ctx, e.a, c.Endpoint.ID)
	if err != nil || d.State != "delivered" {
		t.Fatalf("test with the new key alone: %+v %v", d, err)
	}
	wh, _ := standardwebhooks.NewWebhook(c.Secret)
	cp := rc.captures()[0]
	if err := wh.Verify(cp.Body, cp.Header); err != nil {
		t.Fatalf("after the key rotation the secret changed: %v", err)
	}
}

// TestLogRetention: finished deliveries older than the retention go, pending ones stay.
func TestLogRetention(t *testing.T) {
	e := newEnv(t, hooks.Options{AllowPrivate: true})
	rc := newReceiver(t, nil)
	c := e.endpoint(t, rc.URL)
	if _, err := e.svc.Test(e.ctx, e.a, c.Endpoint.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DB().Exec(`INSERT INTO webhook_deliveries (org_id, endpoint_id, msg_id, event_type, payload, event_at, next_at, updated_at)
		VALUES ($1, $2, 'msg_old_pending', 'org.renamed', '{}', now(), now() + interval '1 day', now() - interval '40 days')`, e.a.OrgID, c.Endpoint.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DB().Exec(`UPDATE webhook_deliveries SET updated_at = now() - interval '31 days' WHERE msg_id <> 'msg_old_pending'`); err != nil {
		t.Fatal(err)
	}
	n, err := e.st.DeleteOldWebhookDeliveries(e.ctx, hooks.LogRetention)
	if err != nil || n != 1 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	var left int
	_ = e.st.DB().Get(&left, `SELECT count(*) FROM webhook_deliveries`)
	if left != 1 {
		t.Fatalf("%d deliveries left, want the pending one", left)
	}
}
