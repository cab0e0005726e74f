package twiliosim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"masteria/app/sim/twiliosim"
)

const (
	accountSid = "AC0123456789abcdef0123456789abcdef"
	authToken  = "0123456789abcdef0123456789abcdef"
	otherSid   = "ACfedcba9876543210fedcba9876543210"
	otherToken = "fedcba9876543210fedcba9876543210"

	ourNumber   = "+5511999990001"
	otherNumber = "+5511999990002"
	handset     = "+5511988887777"
)

// appRequest is one webhook request as the app received it.
type appRequest struct {
	URL    string // as the app reconstructs it: scheme, host, path and query
	Header http.Header
	Body   string
	Form   url.Values
}

// app is the app side over real HTTP: it records webhooks and answers them like the app will,
// 401 when X-Twilio-Signature does not verify with the account's token, else empty TwiML.
type app struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []appRequest
}

func newApp(t *testing.T) *app {
	t.Helper()
	a := &app{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		full := "http://" + r.Host + r.URL.RequestURI()
		a.mu.Lock()
		a.reqs = append(a.reqs, appRequest{URL: full, Header: r.Header.Clone(), Body: string(body), Form: form})
		a.mu.Unlock()
		if !twiliosim.ValidSignature(authToken, full, form, r.Header.Get("X-Twilio-Signature")) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, "<Response/>")
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *app) requests() []appRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]appRequest(nil), a.reqs...)
}

// fixture is a started sim with one account owning one number whose SMS URL points at the app.
type fixture struct {
	sim       *twiliosim.Server
	base      string
	app       *app
	numberSid string
	smsURL    string
}

func newFixture(t *testing.T, opts ...twiliosim.Option) *fixture {
	t.Helper()
	f := &fixture{app: newApp(t)}
	f.sim = twiliosim.New(opts...)
	base, err := f.sim.Start()
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(f.sim.Close)
	f.base = base
	f.sim.AddAccount(accountSid, authToken)
	f.sim.AddAccount(otherSid, otherToken)
	f.smsURL = f.app.URL + "/webhooks/twilio/42"
	if f.numberSid, err = f.sim.AddNumber(accountSid, ourNumber, f.smsURL); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sim.AddNumber(otherSid, otherNumber, ""); err != nil {
		t.Fatal(err)
	}
	return f
}

// send posts to the Messages resource as the production client will.
func (f *fixture) send(t *testing.T, user, pass string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.base+"/2010-04-01/Accounts/"+accountSid+"/Messages.json",
		strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(user, pass)
	return do(t, req)
}

func (f *fixture) fetch(t *testing.T, sid string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.base+"/2010-04-01/Accounts/"+accountSid+"/Messages/"+sid+".json", nil)
	req.SetBasicAuth(accountSid, authToken)
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s %s: decode: %v", req.Method, req.URL.Path, err)
	}
	return resp.StatusCode, body
}

func sms(to, body string) url.Values {
	return url.Values{"To": {to}, "From": {ourNumber}, "Body": {body}}
}

func timeout(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func code(body map[string]any) int {
	c, _ := body["code"].(float64)
	return int(c)
}

func TestStartAndClose(t *testing.T) {
	s := twiliosim.New()
	base, err := s.Start()
	if err != nil || !strings.HasPrefix(base, "http://127.0.0.1:") || s.URL() != base {
		t.Fatalf("start: %q %v", base, err)
	}
	if _, err := s.Start(); err == nil {
		t.Error("second Start succeeded")
	}
	s.Close()
	s.Close()
	if _, err := http.Get(base + "/"); err == nil {
		t.Error("server still answers after Close")
	}
}

func TestSetupErrors(t *testing.T) {
	s := twiliosim.New()
	defer s.Close()
	s.AddAccount(accountSid, authToken)
	if _, err := s.AddNumber(accountSid, "5511999990001", ""); err == nil {
		t.Error("non-E.164 number accepted")
	}
	if _, err := s.AddNumber(otherSid, ourNumber, ""); err == nil {
		t.Error("number of an unknown account accepted")
	}
	pn, err := s.AddNumber(accountSid, ourNumber, "")
	if err != nil || !strings.HasPrefix(pn, "PN") || len(pn) != 34 {
		t.Fatalf("AddNumber: %q %v", pn, err)
	}
	if _, err := s.AddNumber(accountSid, ourNumber, ""); err == nil {
		t.Error("same number added twice")
	}
	if _, err := s.Inbound(context.Background(), pn, handset, "hi"); err == nil {
		t.Error("inbound to a number without SMS URL")
	}
	if _, err := s.AddMessagingService(accountSid, "PN-unknown"); err == nil {
		t.Error("service with an unknown number")
	}
	if sid := twiliosim.NewSID("SM"); len(sid) != 34 || !strings.HasPrefix(sid, "SM") {
		t.Errorf("NewSID: %q", sid)
	}
}
