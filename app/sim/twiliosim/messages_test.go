package twiliosim_test

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"masteria/app/sim/twiliosim"
)

func TestCreateMessage(t *testing.T) {
	f := newFixture(t)
	status, msg := f.send(t, accountSid, authToken, sms(handset, "Olá! Sua proposta está pronta 😀"))
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, msg)
	}
	sid, _ := msg["sid"].(string)
	if !strings.HasPrefix(sid, "SM") || len(sid) != 34 {
		t.Errorf("sid %q", sid)
	}
	want := map[string]any{
		"account_sid": accountSid, "to": handset, "from": ourNumber, "status": "queued",
		"body": "Olá! Sua proposta está pronta 😀", "num_segments": "1", "num_media": "0",
		"direction": "outbound-api", "api_version": "2010-04-01", "price_unit": "USD",
		"uri": "/2010-04-01/Accounts/" + accountSid + "/Messages/" + sid + ".json",
	}
	for k, v := range want {
		if msg[k] != v {
			t.Errorf("%s = %#v, want %#v", k, msg[k], v)
		}
	}
	for _, k := range []string{"price", "error_code", "error_message", "date_sent", "messaging_service_sid"} {
		if v, ok := msg[k]; !ok || v != nil {
			t.Errorf("%s = %#v, want null", k, v)
		}
	}
	created, err := time.Parse(time.RFC1123Z, msg["date_created"].(string))
	if err != nil || time.Since(created) > time.Minute || !strings.HasSuffix(msg["date_created"].(string), "+0000") {
		t.Errorf("date_created %v: %v", msg["date_created"], err)
	}

	sent := f.sim.Sent()
	if len(sent) != 1 || sent[0].Sid != sid || sent[0].Encoding != twiliosim.EncodingUCS2 || sent[0].Body != want["body"] {
		t.Errorf("Sent() = %+v", sent)
	}
	status, got := f.fetch(t, sid)
	if status != http.StatusOK || got["sid"] != sid || got["to"] != handset {
		t.Errorf("fetch: %d %v", status, got)
	}
	status, got = f.fetch(t, twiliosim.NewSID("SM"))
	if status != http.StatusNotFound || code(got) != 20404 {
		t.Errorf("fetch unknown: %d %v", status, got)
	}
}

func TestCreateCountsSegmentsAndMedia(t *testing.T) {
	f := newFixture(t)
	_, msg := f.send(t, accountSid, authToken, sms(handset, strings.Repeat("a", 161)))
	if msg["num_segments"] != "2" {
		t.Errorf("161 GSM-7 characters: num_segments %v", msg["num_segments"])
	}
	_, msg = f.send(t, accountSid, authToken, sms(handset, strings.Repeat("€", 80)))
	if msg["num_segments"] != "1" {
		t.Errorf("80 euro signs: num_segments %v", msg["num_segments"])
	}
	form := url.Values{"To": {handset}, "From": {ourNumber}, "MediaUrl": {"https://cdn.test/a.jpg", "https://cdn.test/b.jpg"}}
	status, msg := f.send(t, accountSid, authToken, form)
	if status != http.StatusCreated || msg["num_media"] != "2" || msg["num_segments"] != "1" {
		t.Errorf("media only: %d %v", status, msg)
	}
	if sent := f.sim.Sent(); len(sent) != 3 || len(sent[2].MediaURLs) != 2 {
		t.Errorf("Sent() = %+v", sent)
	}
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t)
	wantBody := map[string]any{
		"code": 20003.0, "message": "Authenticate",
		"more_info": "https://www.twilio.com/docs/errors/20003", "status": 401.0,
	}
	status, body := f.send(t, accountSid, "wrong", sms(handset, "hi"))
	if status != http.StatusUnauthorized || !reflect.DeepEqual(body, wantBody) {
		t.Errorf("wrong token: %d %v", status, body)
	}
	status, body = f.send(t, otherSid, otherToken, sms(handset, "hi"))
	if status != http.StatusUnauthorized || code(body) != 20003 {
		t.Errorf("another account's credentials: %d %v", status, body)
	}

	req, _ := http.NewRequest(http.MethodPost, f.base+"/2010-04-01/Accounts/"+accountSid+"/Messages.json",
		strings.NewReader(sms(handset, "hi").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("no credentials: %d %v", resp.StatusCode, resp.Header)
	}

	keySid := twiliosim.NewSID("SK")
	f.sim.AddAPIKey(accountSid, keySid, "key-secret")
	if status, body := f.send(t, keySid, "key-secret", sms(handset, "hi")); status != http.StatusCreated {
		t.Errorf("API key: %d %v", status, body)
	}
	if status, _ := f.send(t, keySid, "wrong", sms(handset, "hi")); status != http.StatusUnauthorized {
		t.Errorf("API key with a wrong secret: %d", status)
	}
	if n := len(f.sim.Sent()); n != 1 {
		t.Errorf("%d messages recorded, want only the API key's", n)
	}
}

func TestValidationErrors(t *testing.T) {
	f := newFixture(t)
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	cases := []struct {
		name string
		form url.Values
		code int
	}{
		{"missing To", with("From", ourNumber, "Body", "hi"), 21604},
		{"invalid To", with("To", "11988887777", "From", ourNumber, "Body", "hi"), 21211},
		{"letters in To", with("To", "+55abc", "From", ourNumber, "Body", "hi"), 21211},
		{"no sender", with("To", handset, "Body", "hi"), 21603},
		{"invalid From", with("To", handset, "From", "not a number", "Body", "hi"), 21212},
		{"From not a Twilio number", with("To", handset, "From", "+5511900000000", "Body", "hi"), 21659},
		{"From of another account", with("To", handset, "From", otherNumber, "Body", "hi"), 21606},
		{"malformed service", with("To", handset, "MessagingServiceSid", "MG123", "Body", "hi"), 21705},
		{"unknown service", with("To", handset, "MessagingServiceSid", twiliosim.NewSID("MG"), "Body", "hi"), 21701},
		{"no body or media", with("To", handset, "From", ourNumber), 21602},
		{"body of 1601", with("To", handset, "From", ourNumber, "Body", strings.Repeat("a", 1601)), 21617},
		{"801 emoji count twice", with("To", handset, "From", ourNumber, "Body", strings.Repeat("😀", 801)), 21617},
	}
	for _, c := range cases {
		status, body := f.send(t, accountSid, authToken, c.form)
		if status != http.StatusBadRequest || code(body) != c.code || body["status"] != 400.0 ||
			body["more_info"] != "https://www.twilio.com/docs/errors/"+strconv.Itoa(c.code) || body["message"] == "" {
			t.Errorf("%s: %d %v, want 400 with code %d", c.name, status, body, c.code)
		}
	}
	if n := len(f.sim.Sent()); n != 0 {
		t.Errorf("refused sends recorded: %d", n)
	}
	if status, body := f.send(t, accountSid, authToken, sms(handset, strings.Repeat("a", 1600))); status != http.StatusCreated {
		t.Errorf("body of exactly 1600: %d %v", status, body)
	}
}

// statuses returns the MessageStatus of each callback for sid, in order.
func statuses(cbs []twiliosim.Callback, sid string) []string {
	var out []string
	for _, cb := range cbs {
		if cb.Params.Get("MessageSid") == sid {
			out = append(out, cb.Params.Get("MessageStatus"))
		}
	}
	return out
}

func TestStatusCallbacks(t *testing.T) {
	f := newFixture(t)
	callback := f.app.URL + "/webhooks/twilio/42/status?kind=sms&id=7"
	form := sms(handset, "Seu pedido saiu para entrega")
	form.Set("StatusCallback", callback)
	status, msg := f.send(t, accountSid, authToken, form)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, msg)
	}
	sid := msg["sid"].(string)
	cbs, err := f.sim.WaitCallbacks(timeout(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(cbs, sid); !slices.Equal(got, []string{"sent", "delivered"}) {
		t.Fatalf("callbacks %v, want sent then delivered (no callback for the initial queued)", got)
	}
	for _, cb := range cbs {
		p := cb.Params
		if cb.URL != callback || cb.Status != http.StatusOK || cb.Err != nil {
			t.Errorf("callback to %s answered %d %v", cb.URL, cb.Status, cb.Err)
		}
		if !twiliosim.ValidSignature(authToken, callback, p, cb.Signature) {
			t.Errorf("%s callback: signature does not verify", p.Get("MessageStatus"))
		}
		if p.Get("SmsSid") != sid || p.Get("AccountSid") != accountSid || p.Get("From") != ourNumber ||
			p.Get("To") != handset || p.Get("SmsStatus") != p.Get("MessageStatus") || p.Get("ApiVersion") != "2010-04-01" {
			t.Errorf("callback params %v", p)
		}
		if p.Has("ErrorCode") || p.Has("MessagingServiceSid") {
			t.Errorf("unexpected params in %v", p)
		}
	}
	if !cbs[1].Params.Has("RawDlrDoneDate") {
		t.Error("delivered callback without RawDlrDoneDate")
	}

	reqs := f.app.requests()
	if len(reqs) != 2 {
		t.Fatalf("app got %d requests", len(reqs))
	}
	if reqs[0].URL != callback || !strings.HasPrefix(reqs[0].Body, "SmsSid=SM") ||
		reqs[0].Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
		reqs[0].Header.Get("I-Twilio-Idempotency-Token") == "" || reqs[0].Header.Get("User-Agent") != "TwilioProxy/1.1" {
		t.Errorf("first callback as received: %+v", reqs[0])
	}

	_, got := f.fetch(t, sid)
	if got["status"] != "delivered" || got["date_sent"] == nil {
		t.Errorf("fetched after delivery: %v", got)
	}
	if m, ok := f.sim.Message(sid); !ok || m.Status != "delivered" || m.DateSent.IsZero() {
		t.Errorf("Message(%s) = %+v", sid, m)
	}
}

func TestStatusCallbackOutcomes(t *testing.T) {
	f := newFixture(t, twiliosim.WithStatusDelays(time.Millisecond, time.Millisecond))
	const unreachable, filtered, silent = "+5511900000003", "+5511900000007", "+5511900000009"
	f.sim.SetOutcome(unreachable, twiliosim.StatusUndelivered, 30003)
	f.sim.SetOutcome(filtered, twiliosim.StatusFailed, 30007)
	f.sim.SetOutcome("", twiliosim.StatusSent, 0) // every other recipient: no delivery receipt
	cases := []struct {
		to    string
		flow  []string
		final string
		code  int
	}{
		{unreachable, []string{"sent", "undelivered"}, "undelivered", 30003},
		{filtered, []string{"failed"}, "failed", 30007},
		{silent, []string{"sent"}, "sent", 0},
	}
	sids := make([]string, len(cases))
	for i, c := range cases {
		form := sms(c.to, "Oferta")
		form.Set("StatusCallback", f.app.URL+"/status")
		status, msg := f.send(t, accountSid, authToken, form)
		if status != http.StatusCreated {
			t.Fatalf("create to %s: %d %v", c.to, status, msg)
		}
		sids[i] = msg["sid"].(string)
	}
	cbs, err := f.sim.WaitCallbacks(timeout(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		if got := statuses(cbs, sids[i]); !slices.Equal(got, c.flow) {
			t.Errorf("to %s: callbacks %v, want %v", c.to, got, c.flow)
		}
		for _, cb := range cbs {
			p := cb.Params
			if p.Get("MessageSid") != sids[i] {
				continue
			}
			wantCode := ""
			if p.Get("MessageStatus") == c.final && c.code != 0 {
				wantCode = strconv.Itoa(c.code)
			}
			if p.Get("ErrorCode") != wantCode {
				t.Errorf("to %s, %s callback: ErrorCode %q, want %q", c.to, p.Get("MessageStatus"), p.Get("ErrorCode"), wantCode)
			}
		}
		_, got := f.fetch(t, sids[i])
		var wantCode any
		if c.code != 0 {
			wantCode = float64(c.code)
		}
		if got["error_code"] != wantCode {
			t.Errorf("to %s: error_code %v, want %v", c.to, got["error_code"], wantCode)
		}
		if got["status"] != c.final {
			t.Errorf("to %s: status %v, want %s", c.to, got["status"], c.final)
		}
	}
}

func TestMessagingService(t *testing.T) {
	f := newFixture(t)
	second, err := f.sim.AddNumber(accountSid, "+5511999990003", f.smsURL)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := f.sim.AddMessagingService(accountSid, f.numberSid, second)
	if err != nil || !strings.HasPrefix(svc, "MG") || len(svc) != 34 {
		t.Fatalf("AddMessagingService: %q %v", svc, err)
	}
	send := func(to string) map[string]any {
		form := url.Values{"To": {to}, "MessagingServiceSid": {svc}, "Body": {"Promoção"},
			"StatusCallback": {f.app.URL + "/status"}}
		status, msg := f.send(t, accountSid, authToken, form)
		if status != http.StatusCreated {
			t.Fatalf("create: %d %v", status, msg)
		}
		return msg
	}
	msg := send(handset)
	if msg["status"] != "accepted" || msg["from"] != nil || msg["num_segments"] != "0" || msg["messaging_service_sid"] != svc {
		t.Errorf("created through a service: %v", msg)
	}
	sid := msg["sid"].(string)
	cbs, err := f.sim.WaitCallbacks(timeout(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(cbs, sid); !slices.Equal(got, []string{"queued", "sent", "delivered"}) {
		t.Errorf("callbacks %v, want queued, sent, delivered", got)
	}
	from := cbs[0].Params.Get("From")
	for _, cb := range cbs {
		if cb.Params.Get("MessagingServiceSid") != svc || cb.Params.Get("From") != from {
			t.Errorf("callback params %v", cb.Params)
		}
	}
	if from != ourNumber && from != "+5511999990003" {
		t.Errorf("sender %q is not from the pool", from)
	}
	_, got := f.fetch(t, sid)
	if got["from"] != from || got["num_segments"] != "1" {
		t.Errorf("fetched after queued: %v", got)
	}

	// Sticky Sender: the same recipient keeps its number, a new one gets the next.
	send(handset)
	send("+5511977776666")
	sent := f.sim.Sent()
	if sent[1].From != from || sent[2].From == from {
		t.Errorf("senders %s, %s, %s", sent[0].From, sent[1].From, sent[2].From)
	}
}

func TestThrottle(t *testing.T) {
	f := newFixture(t)
	f.sim.SetThrottle(2)
	want := map[string]any{
		"code": 20429.0, "message": "Too Many Requests",
		"more_info": "https://www.twilio.com/docs/errors/20429", "status": 429.0,
	}
	for i := range 2 {
		status, body := f.send(t, accountSid, authToken, sms(handset, "hi"))
		if status != http.StatusTooManyRequests || !reflect.DeepEqual(body, want) {
			t.Errorf("attempt %d: %d %v", i+1, status, body)
		}
	}
	if status, _ := f.send(t, accountSid, authToken, sms(handset, "hi")); status != http.StatusCreated {
		t.Errorf("after the throttle: %d", status)
	}
	if n := len(f.sim.Sent()); n != 1 {
		t.Errorf("throttled requests were processed: %d sent", n)
	}
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestRateLimit(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f := newFixture(t, twiliosim.WithRateLimit(2), twiliosim.WithClock(c.Now))
	var got []int
	for range 3 {
		status, _ := f.send(t, accountSid, authToken, sms(handset, "hi"))
		got = append(got, status)
	}
	c.Add(time.Second)
	status, _ := f.send(t, accountSid, authToken, sms(handset, "hi"))
	got = append(got, status)
	if want := []int{201, 201, 429, 201}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}

func TestSetFailNext(t *testing.T) {
	f := newFixture(t)
	f.sim.SetFailNext(20500, "Internal Server Error", http.StatusInternalServerError)
	f.sim.SetFailNext(30001, "Queue overflow", http.StatusServiceUnavailable)
	// Authentication comes first and does not use up a failure.
	if status, _ := f.send(t, accountSid, "wrong", sms(handset, "hi")); status != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", status)
	}
	status, body := f.send(t, accountSid, authToken, sms(handset, "hi"))
	if status != http.StatusInternalServerError || code(body) != 20500 || body["message"] != "Internal Server Error" {
		t.Errorf("first failure: %d %v", status, body)
	}
	status, body = f.send(t, accountSid, authToken, sms(handset, "hi"))
	if status != http.StatusServiceUnavailable || code(body) != 30001 || body["status"] != 503.0 {
		t.Errorf("second failure: %d %v", status, body)
	}
	if status, _ := f.send(t, accountSid, authToken, sms(handset, "hi")); status != http.StatusCreated {
		t.Errorf("after the failures: %d", status)
	}
}

func TestHangNext(t *testing.T) {
	f := newFixture(t)
	client := &http.Client{Timeout: 100 * time.Millisecond}
	post := func(body string) error {
		form := sms(handset, body)
		form.Set("StatusCallback", f.app.URL+"/webhooks/twilio/42?ref="+body)
		req, _ := http.NewRequest(http.MethodPost, f.base+"/2010-04-01/Accounts/"+accountSid+"/Messages.json",
			strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(accountSid, authToken)
		res, err := client.Do(req)
		if err == nil {
			res.Body.Close()
		}
		return err
	}

	// Not taken: the client times out and nothing is sent.
	f.sim.SetHangNext(2*time.Second, false)
	if err := post("m1"); err == nil {
		t.Fatal("no timeout")
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(f.sim.Sent()); n != 0 {
		t.Fatalf("a send the client gave up on was taken: %d sent", n)
	}
	// Taken: the client times out, yet the message went and its callbacks name it.
	f.sim.SetHangNext(2*time.Second, true)
	if err := post("m2"); err == nil {
		t.Fatal("no timeout")
	}
	cbs, err := f.sim.WaitCallbacks(timeout(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	sent := f.sim.Sent()
	if len(sent) != 1 || sent[0].Body != "m2" {
		t.Fatalf("sent %+v", sent)
	}
	if got := statuses(cbs, sent[0].Sid); !slices.Equal(got, []string{"sent", "delivered"}) || !strings.HasSuffix(cbs[0].URL, "?ref=m2") {
		t.Fatalf("callbacks %v to %s", got, cbs[0].URL)
	}
	// The hang is used once: the next send answers at once.
	if err := post("m3"); err != nil {
		t.Fatal(err)
	}
	// Cut: no answer and no timeout, the connection is dropped; the message went.
	f.sim.SetCutNext()
	start := time.Now()
	err = post("m4")
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("a cut send answered %v after %v", err, time.Since(start))
	}
	if sent := f.sim.Sent(); len(sent) != 3 || sent[2].Body != "m4" {
		t.Fatalf("sent %+v", sent)
	}
	if err := post("m5"); err != nil {
		t.Fatal(err)
	}
}
