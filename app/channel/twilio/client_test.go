package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"masteria/app/channel"
	"masteria/app/model"
	"masteria/app/sim/twiliosim"
)

const (
	testToken = "tok_0123456789abcdef"
	shop      = "+5511999990000"
	customer  = "+5511988887777"
)

// app stands in for Master IA's webhook endpoint: it checks every request's signature the
// way the real handler does, over the URL the request was sent to.
type app struct {
	mu       sync.Mutex
	verified []bool
	srv      *httptest.Server
}

func newApp(t *testing.T) *app {
	a := &app{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ok := VerifySignature(testToken, "http://"+r.Host+r.URL.RequestURI(), r.PostForm, r.Header.Get("X-Twilio-Signature"))
		a.mu.Lock()
		a.verified = append(a.verified, ok)
		a.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte("<Response/>"))
	}))
	t.Cleanup(a.srv.Close)
	return a
}

type fixture struct {
	sim       *twiliosim.Server
	app       *app
	sid       string // account
	numberSid string
	service   string
	callback  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{sim: twiliosim.New(), app: newApp(t), sid: twiliosim.NewSID("AC")}
	t.Cleanup(f.sim.Close)
	f.callback = f.app.srv.URL + "/webhooks/twilio/7"
	f.sim.AddAccount(f.sid, testToken)
	var err error
	if f.numberSid, err = f.sim.AddNumber(f.sid, shop, f.callback); err != nil {
		t.Fatal(err)
	}
	if f.service, err = f.sim.AddMessagingService(f.sid, f.numberSid); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sim.Start(); err != nil {
		t.Fatal(err)
	}
	return f
}

// channel builds the channel with cfg merged over the fixture's account and sim URL.
func (f *fixture) channel(t *testing.T, cfg Config, token string) channel.Channel {
	t.Helper()
	cfg.AccountSID, cfg.APIURL = f.sid, f.sim.URL()
	raw, _ := json.Marshal(cfg)
	c, err := New(model.Channel{ID: 7, Kind: model.KindTwilioSMS, Config: raw}, map[string]string{"auth_token": token}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestSendFromNumber(t *testing.T) {
	f := newFixture(t)
	c := f.channel(t, Config{From: shop, StatusCallback: f.callback}, testToken)
	if c.Kind() != model.KindTwilioSMS || c.Capabilities() != (channel.Capabilities{Media: true}) {
		t.Fatalf("kind %s, capabilities %+v", c.Kind(), c.Capabilities())
	}
	sent, err := c.Send(ctx(t), channel.Outbound{To: customer, Kind: "image", Body: "Seu pedido saiu 📦", MediaURL: "https://example.com/p.jpg"})
	if err != nil {
		t.Fatal(err)
	}
	m, ok := f.sim.Message(sent.ProviderID)
	if !ok {
		t.Fatalf("the sim has no message %q", sent.ProviderID)
	}
	if m.From != shop || m.To != customer || m.Body != "Seu pedido saiu 📦" || m.MessagingServiceSid != "" ||
		m.StatusCallback != f.callback || len(m.MediaURLs) != 1 || m.MediaURLs[0] != "https://example.com/p.jpg" {
		t.Fatalf("recorded %+v", m)
	}
	// The sim reports sent then delivered, signed so the app's verifier accepts them.
	cbs, err := f.sim.WaitCallbacks(ctx(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, cb := range cbs {
		if cb.URL != f.callback || !VerifySignature(testToken, cb.URL, cb.Params, cb.Signature) || cb.Status != http.StatusOK {
			t.Fatalf("callback %s %v: signature %q not valid or app answered %d", cb.URL, cb.Params, cb.Signature, cb.Status)
		}
		_, st, err := Parse(cb.Params)
		if err != nil || st == nil || st.SID != sent.ProviderID {
			t.Fatalf("callback %v parsed as %+v, %v", cb.Params, st, err)
		}
	}
	if VerifySignature("another-token", cbs[0].URL, cbs[0].Params, cbs[0].Signature) {
		t.Fatal("a callback verifies with another token")
	}
	f.app.mu.Lock()
	defer f.app.mu.Unlock()
	for i, ok := range f.app.verified {
		if !ok {
			t.Fatalf("request %d to the app failed verification", i)
		}
	}
}

func TestSendThroughMessagingServiceWithoutCallback(t *testing.T) {
	f := newFixture(t)
	c := f.channel(t, Config{MessagingServiceSID: f.service}, testToken)
	sent, err := c.Send(ctx(t), channel.Outbound{To: customer, Kind: "text", Body: "Oi"})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := f.sim.Message(sent.ProviderID)
	if m.MessagingServiceSid != f.service || m.From != shop || m.StatusCallback != "" || len(m.MediaURLs) != 0 {
		t.Fatalf("recorded %+v", m)
	}
	time.Sleep(100 * time.Millisecond)
	if cbs := f.sim.Callbacks(); len(cbs) != 0 {
		t.Fatalf("callbacks without a StatusCallback: %+v", cbs)
	}
}

func TestSendErrors(t *testing.T) {
	f := newFixture(t)
	c := f.channel(t, Config{From: shop, StatusCallback: f.callback}, testToken)
	out := channel.Outbound{To: customer, Kind: "text", Body: "Oi"}

	// Wrong auth token: refused, nothing sent.
	if _, err := f.channel(t, Config{From: shop}, "wrong").Send(ctx(t), out); err == nil {
		t.Fatal("a wrong auth token sent")
	}

	// Throttled: slow down, not a failure.
	f.sim.SetThrottle(1)
	_, err := c.Send(ctx(t), out)
	var thr *channel.ThrottledError
	if !errors.As(err, &thr) || thr.Code != "20429" || thr.RetryAfter != 10*time.Second {
		t.Fatalf("throttle: %v", err)
	}

	// Twilio down: a temporary error River retries.
	f.sim.SetFailNext(20500, "Internal Server Error", http.StatusInternalServerError)
	_, err = c.Send(ctx(t), out)
	var se *channel.SendError
	if err == nil || errors.As(err, &thr) || (errors.As(err, &se) && se.Permanent) {
		t.Fatalf("500: %#v", err)
	}

	// The handset sent STOP: 21610, permanent.
	if res, err := f.sim.Inbound(ctx(t), f.numberSid, customer, "STOP"); err != nil || res.Status != http.StatusOK {
		t.Fatalf("inbound STOP: %+v %v", res, err)
	}
	_, err = c.Send(ctx(t), out)
	if !errors.As(err, &se) || !se.Permanent || se.Code != "21610" || se.Title == "" {
		t.Fatalf("opted out: %#v", err)
	}

	// An invalid number: 21211, permanent.
	_, err = c.Send(ctx(t), channel.Outbound{To: "12", Body: "Oi"})
	if !errors.As(err, &se) || !se.Permanent || se.Code != "21211" {
		t.Fatalf("invalid To: %#v", err)
	}

	if n := len(f.sim.Sent()); n != 0 {
		t.Fatalf("%d messages created by refused sends", n)
	}

	// Network down: temporary.
	f.sim.Close()
	if _, err = c.Send(ctx(t), out); err == nil || errors.As(err, &se) {
		t.Fatalf("closed sim: %#v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	for h, want := range map[string]time.Duration{"": 10 * time.Second, "3": 3 * time.Second, "x": 10 * time.Second, "0": 10 * time.Second} {
		if got := retryAfter(h); got != want {
			t.Errorf("%q: %s, want %s", h, got, want)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "42")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	raw, _ := json.Marshal(Config{AccountSID: "AC1", From: shop, APIURL: srv.URL})
	c, err := New(model.Channel{Config: raw}, map[string]string{"auth_token": "t"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(ctx(t), channel.Outbound{To: customer, Body: "x"})
	var thr *channel.ThrottledError
	if !errors.As(err, &thr) || thr.RetryAfter != 42*time.Second {
		t.Fatalf("%v", err)
	}
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	for _, cfg := range []string{`{"from":"+5511999990000"}`, `{"account_sid":"AC1"}`, `{`} {
		if _, err := New(model.Channel{Config: json.RawMessage(cfg)}, map[string]string{"auth_token": "t"}, nil); err == nil {
			t.Errorf("%s accepted", cfg)
		}
	}
	if _, err := New(model.Channel{Config: json.RawMessage(`{"account_sid":"AC1","from":"+5511999990000"}`)}, nil, nil); err == nil {
		t.Error("no auth token accepted")
	}
}

// TestRefInStatusCallback: a send's Ref rides on its StatusCallback URL, which Twilio signs
// whole (query included); the hook verifies that URL and reads the Ref back.
func TestRefInStatusCallback(t *testing.T) {
	f := newFixture(t)
	base := f.callback + "?src=campaign" // a configured callback may carry its own query
	c := f.channel(t, Config{From: shop, StatusCallback: base}, testToken)
	sent, err := c.Send(ctx(t), channel.Outbound{To: customer, Kind: "text", Body: "Oi", Ref: "m 42/ä"})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := f.sim.Message(sent.ProviderID)
	u, err := url.Parse(m.StatusCallback)
	if err != nil || u.Query().Get("ref") != "m 42/ä" || u.Query().Get("src") != "campaign" {
		t.Fatalf("StatusCallback %q", m.StatusCallback)
	}
	cbs, err := f.sim.WaitCallbacks(ctx(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"auth_token": testToken}
	for _, cb := range cbs {
		if cb.URL != m.StatusCallback || cb.Status != http.StatusOK {
			t.Fatalf("callback to %s answered %d", cb.URL, cb.Status)
		}
		cu, _ := url.Parse(cb.URL)
		h := http.Header{}
		h.Set("X-Twilio-Signature", cb.Signature)
		req := channel.WebhookRequest{Query: cu.Query(), Header: h, Body: []byte(cb.Params.Encode()), URL: cb.URL}
		if !(Hook{}).Verify(req, secrets) {
			t.Fatalf("signature over %s refused", cb.URL)
		}
		stripped := req
		stripped.URL = f.callback
		if (Hook{}).Verify(stripped, secrets) {
			t.Fatal("the signature verifies without the query")
		}
		b, err := (Hook{}).Parse(req)
		if err != nil || len(b.Statuses) != 1 || b.Statuses[0].Ref != "m 42/ä" || b.Statuses[0].ProviderID != sent.ProviderID {
			t.Fatalf("parsed %+v, %v", b.Statuses, err)
		}
	}
	f.app.mu.Lock()
	defer f.app.mu.Unlock()
	for i, ok := range f.app.verified {
		if !ok {
			t.Fatalf("request %d to the app failed verification", i)
		}
	}

	// Without a Ref the configured URL is used as it is.
	sent, err = c.Send(ctx(t), channel.Outbound{To: customer, Kind: "text", Body: "Oi"})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := f.sim.Message(sent.ProviderID); m.StatusCallback != base {
		t.Fatalf("StatusCallback %q", m.StatusCallback)
	}
}

func TestThrottledByCode(t *testing.T) {
	f := newFixture(t)
	c := f.channel(t, Config{From: shop}, testToken)
	for _, status := range []int{http.StatusTooManyRequests, http.StatusBadRequest} {
		f.sim.SetFailNext(20429, "Too Many Requests", status)
		_, err := c.Send(ctx(t), channel.Outbound{To: customer, Body: "x"})
		var thr *channel.ThrottledError
		if !errors.As(err, &thr) || thr.Code != "20429" {
			t.Fatalf("HTTP %d: %v", status, err)
		}
	}
}
