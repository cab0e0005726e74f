package metasim_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"masteria/app/sim/metasim"
)

const (
	phoneID   = "106540352242922"
	wabaID    = "102290129340398"
	display   = "+1 555-078-3881"
	token     = "EAAG-test-token-1"
	appSecret = "app-secret-1"

	otherPhoneID = "209999999999999"
	otherToken   = "EAAG-test-token-2"

	customer = "5511999990000"
)

// fakeApp plays the app's webhook endpoint: it checks X-Hub-Signature-256 the way the app must
// (HMAC-SHA256 of the raw body with the app secret), answers the verification handshake and
// keeps every accepted body.
type fakeApp struct {
	secret      string
	verifyToken string
	srv         *httptest.Server

	mu       sync.Mutex
	bodies   [][]byte
	headers  []http.Header
	rejected int
	changed  chan struct{}
}

func newApp(t *testing.T, secret string) *fakeApp {
	t.Helper()
	a := &fakeApp{secret: secret, verifyToken: "verify-me", changed: make(chan struct{})}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *fakeApp) url() string { return a.srv.URL + "/webhooks/whatsapp/ch-1" }

func (a *fakeApp) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		if q.Get("hub.mode") == "subscribe" && q.Get("hub.verify_token") == a.verifyToken {
			io.WriteString(w, q.Get("hub.challenge"))
			return
		}
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	body, _ := io.ReadAll(r.Body)
	sig, ok := strings.CutPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256=")
	mac := hmac.New(sha256.New, []byte(a.secret))
	mac.Write(body)
	got, err := hex.DecodeString(sig)
	a.mu.Lock()
	defer a.mu.Unlock()
	if !ok || err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		a.rejected++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	a.bodies = append(a.bodies, body)
	a.headers = append(a.headers, r.Header.Clone())
	close(a.changed)
	a.changed = make(chan struct{})
}

// wait returns the first n accepted bodies, failing the test if they do not come.
func (a *fakeApp) wait(t *testing.T, n int) [][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		a.mu.Lock()
		got, ch := append([][]byte(nil), a.bodies...), a.changed
		a.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("got %d webhooks, want %d", len(got), n)
		}
	}
}

func (a *fakeApp) count() (accepted, rejected int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.bodies), a.rejected
}

// clock is a settable clock for WithClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newSim starts a sim over real HTTP with one number whose webhooks go to a fake app, and a
// second number of another WABA without webhooks.
func newSim(t *testing.T, opts ...metasim.Option) (*metasim.Server, string, *fakeApp) {
	t.Helper()
	app := newApp(t, appSecret)
	s := metasim.New(opts...)
	base, err := s.Start()
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(s.Close)
	s.AddNumber(metasim.Number{
		PhoneNumberID: phoneID, WABAID: wabaID, DisplayNumber: display, VerifiedName: "Master IA Demo",
		AccessToken: token, AppSecret: appSecret, WebhookURL: app.url(),
	})
	s.AddNumber(metasim.Number{
		PhoneNumberID: otherPhoneID, WABAID: "300000000000000", DisplayNumber: "+55 11 3000-0000",
		AccessToken: otherToken, AppSecret: "other-secret",
	})
	return s, base, app
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

// call makes a Graph request with a Bearer token (none when tok is empty) and a JSON body.
func call(t *testing.T, method, url, tok string, body any) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: decode: %v", method, url, err)
	}
	return answer{resp.StatusCode, resp.Header, out}
}

// graphErr returns the error object of a Graph error answer, failing the test on another shape.
func graphErr(t *testing.T, a answer) map[string]any {
	t.Helper()
	e, ok := a.body["error"].(map[string]any)
	if !ok {
		t.Fatalf("status %d, body %v: not a Graph error", a.status, a.body)
	}
	for _, k := range []string{"message", "type", "code", "fbtrace_id"} {
		if _, ok := e[k]; !ok {
			t.Errorf("error lacks %q: %v", k, e)
		}
	}
	return e
}

func wantError(t *testing.T, a answer, status, code int) map[string]any {
	t.Helper()
	e := graphErr(t, a)
	if a.status != status || int(e["code"].(float64)) != code {
		t.Fatalf("got HTTP %d code %v (%v), want HTTP %d code %d", a.status, e["code"], e["message"], status, code)
	}
	return e
}

func textBody(to, text string) map[string]any {
	return map[string]any{
		"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
		"type": "text", "text": map[string]any{"preview_url": false, "body": text},
	}
}

// openWindow makes the customer write first, so free-form messages are allowed.
func openWindow(t *testing.T, s *metasim.Server) string {
	t.Helper()
	wamid, status, err := s.InboundText(context.Background(), phoneID, metasim.Sender{WaID: customer, Name: "Ana"}, "oi")
	if err != nil || status != http.StatusOK {
		t.Fatalf("inbound: %d %v", status, err)
	}
	return wamid
}

func decodeEnvelope(t *testing.T, body []byte) metasim.Envelope {
	t.Helper()
	var e metasim.Envelope
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("envelope: %v", err)
	}
	return e
}

// statusesOf collects the statuses of the webhooks in order.
func statusesOf(t *testing.T, bodies [][]byte) []metasim.Status {
	t.Helper()
	var out []metasim.Status
	for _, b := range bodies {
		e := decodeEnvelope(t, b)
		out = append(out, e.Entry[0].Changes[0].Value.Statuses...)
	}
	return out
}

func TestSendTextAnswerRecordAndStatuses(t *testing.T) {
	s, base, app := newSim(t)
	openWindow(t, s)

	a := call(t, "POST", base+"/v21.0/"+phoneID+"/messages", token, textBody("+55 11 99999-0000", "Olá!"))
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %v", a.status, a.body)
	}
	if a.body["messaging_product"] != "whatsapp" {
		t.Errorf("messaging_product %v", a.body["messaging_product"])
	}
	contacts := a.body["contacts"].([]any)[0].(map[string]any)
	if contacts["input"] != "+55 11 99999-0000" || contacts["wa_id"] != customer {
		t.Errorf("contacts %v", contacts)
	}
	wamid := a.body["messages"].([]any)[0].(map[string]any)["id"].(string)
	if !strings.HasPrefix(wamid, "wamid.") {
		t.Errorf("id %q is not a wamid", wamid)
	}

	sent, err := s.WaitSent(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	m := sent[0]
	if m.ID != wamid || m.Type != "text" || m.Text != "Olá!" || m.WaID != customer || m.PhoneNumberID != phoneID {
		t.Errorf("recorded %+v", m)
	}
	if !json.Valid(m.Raw) {
		t.Errorf("raw body not kept")
	}

	// The inbound text is webhook 1; sent, delivered and read follow.
	bodies := app.wait(t, 4)
	st := statusesOf(t, bodies[1:4])
	for i, want := range []string{"sent", "delivered", "read"} {
		if st[i].Status != want || st[i].ID != wamid || st[i].RecipientID != customer || st[i].Timestamp == "" {
			t.Errorf("status %d = %+v, want %s", i, st[i], want)
		}
	}
	if st[0].Conversation == nil || st[0].Conversation.Origin.Type != "service" || st[0].Conversation.ExpirationTimestamp == "" {
		t.Errorf("sent conversation %+v", st[0].Conversation)
	}
	if p := st[1].Pricing; p == nil || p.PricingModel != "PMP" || p.Category != "service" || p.Billable {
		t.Errorf("delivered pricing %+v", p)
	}
	if st[2].Conversation != nil || st[2].Pricing != nil {
		t.Errorf("read status carries conversation or pricing: %+v", st[2])
	}
}

func TestAnyGraphVersionAndNone(t *testing.T) {
	s, base, _ := newSim(t)
	openWindow(t, s)
	for _, prefix := range []string{"/v21.0", "/v19.0", "/v23.5", ""} {
		a := call(t, "POST", base+prefix+"/"+phoneID+"/messages", token, textBody(customer, "hi"))
		if a.status != http.StatusOK {
			t.Errorf("%q: status %d %v", prefix, a.status, a.body)
		}
	}
}

func TestAuthFailures(t *testing.T) {
	_, base, _ := newSim(t)
	url := base + "/v21.0/" + phoneID + "/messages"
	for name, tok := range map[string]string{
		"missing":          "",
		"wrong":            "EAAG-wrong",
		"another number's": otherToken,
	} {
		t.Run(name, func(t *testing.T) {
			a := call(t, "POST", url, tok, textBody(customer, "hi"))
			e := wantError(t, a, http.StatusUnauthorized, 190)
			if e["type"] != "OAuthException" {
				t.Errorf("type %v", e["type"])
			}
			if a.header.Get("WWW-Authenticate") == "" {
				t.Errorf("no WWW-Authenticate header")
			}
		})
	}

	// access_token= in the query works like the header.
	a := call(t, "GET", base+"/v21.0/"+phoneID+"?access_token="+token, "", nil)
	if a.status != http.StatusOK {
		t.Errorf("access_token query: %d %v", a.status, a.body)
	}
}

func TestUnknownObject(t *testing.T) {
	_, base, _ := newSim(t)
	a := call(t, "POST", base+"/v21.0/999/messages", token, textBody(customer, "hi"))
	e := wantError(t, a, http.StatusBadRequest, 100)
	if e["error_subcode"].(float64) != 33 {
		t.Errorf("subcode %v", e["error_subcode"])
	}
	a = call(t, "GET", base+"/v21.0/999", token, nil)
	wantError(t, a, http.StatusBadRequest, 100)
}

func TestSendValidation(t *testing.T) {
	s, base, _ := newSim(t)
	openWindow(t, s)
	s.AddNumber(metasim.Number{
		PhoneNumberID: "400000000000000", WABAID: "400", DisplayNumber: "+1 555-000-1111",
		AccessToken: "tok-test-number", AllowedRecipients: []string{"+1 555 000 2222"},
	})
	media := func(typ string, obj map[string]any) map[string]any {
		return map[string]any{"messaging_product": "whatsapp", "to": customer, "type": typ, typ: obj}
	}
	cases := []struct {
		name   string
		phone  string
		body   map[string]any
		status int
		code   int
	}{
		{"no messaging_product", phoneID, map[string]any{"to": customer, "type": "text", "text": map[string]any{"body": "x"}}, 400, 100},
		{"wrong messaging_product", phoneID, map[string]any{"messaging_product": "sms", "to": customer, "text": map[string]any{"body": "x"}}, 400, 100},
		{"missing to", phoneID, map[string]any{"messaging_product": "whatsapp", "type": "text", "text": map[string]any{"body": "x"}}, 400, 100},
		{"to not a number", phoneID, textBody("not-a-phone", "x"), 400, 100},
		{"recipient is sender", phoneID, textBody("15550783881", "x"), 400, 131021},
		{"recipient not allowed", "400000000000000", textBody(customer, "x"), 400, 131030},
		{"unknown type", phoneID, map[string]any{"messaging_product": "whatsapp", "to": customer, "type": "hologram"}, 400, 100},
		{"text without body", phoneID, map[string]any{"messaging_product": "whatsapp", "to": customer, "type": "text", "text": map[string]any{}}, 400, 100},
		{"image without id or link", phoneID, media("image", map[string]any{"caption": "x"}), 400, 100},
		{"image with unknown id", phoneID, media("image", map[string]any{"id": "123"}), 400, 100},
		{"document with bad link", phoneID, media("document", map[string]any{"link": "ftp://x"}), 400, 100},
		{"reaction without message_id", phoneID, media("reaction", map[string]any{"emoji": "👍"}), 400, 100},
		{"interactive without action", phoneID, media("interactive", map[string]any{"type": "button"}), 400, 100},
		{"interactive of unknown type", phoneID, media("interactive", map[string]any{"type": "carousel3d", "action": map[string]any{}}), 400, 100},
		{"template without language", phoneID, media("template", map[string]any{"name": "hello"}), 400, 100},
		{"bad recipient_type", phoneID, map[string]any{"messaging_product": "whatsapp", "recipient_type": "crowd", "to": customer, "text": map[string]any{"body": "x"}}, 400, 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok := token
			if c.phone != phoneID {
				tok = "tok-test-number"
			}
			a := call(t, "POST", base+"/v21.0/"+c.phone+"/messages", tok, c.body)
			e := wantError(t, a, c.status, c.code)
			if c.code != 100 {
				d, _ := e["error_data"].(map[string]any)
				if details, _ := d["details"].(string); details == "" || d["messaging_product"] != "whatsapp" {
					t.Errorf("error_data %v", e["error_data"])
				}
			}
		})
	}
	if n := len(s.Sent()); n != 0 {
		t.Errorf("%d refused sends were recorded", n)
	}

	// Every type the Messages reference lists goes through when well formed; type defaults to text.
	mediaID := s.AddMedia(phoneID, []byte("%PDF-1.4"), "application/pdf")
	good := []map[string]any{
		{"messaging_product": "whatsapp", "to": customer, "text": map[string]any{"body": "default type"}},
		media("image", map[string]any{"link": "https://example.com/a.jpg", "caption": "c"}),
		media("document", map[string]any{"id": mediaID, "filename": "a.pdf"}),
		media("audio", map[string]any{"id": mediaID}),
		media("video", map[string]any{"link": "https://example.com/a.mp4"}),
		media("sticker", map[string]any{"id": mediaID}),
		media("reaction", map[string]any{"message_id": "wamid.X", "emoji": "👍"}),
		media("interactive", map[string]any{"type": "button", "body": map[string]any{"text": "?"}, "action": map[string]any{"buttons": []any{}}}),
		media("location", map[string]any{"latitude": -23.5, "longitude": -46.6}),
		{"messaging_product": "whatsapp", "to": customer, "type": "contacts", "contacts": []any{map[string]any{"name": map[string]any{"formatted_name": "Bia"}}}},
	}
	for _, b := range good {
		if a := call(t, "POST", base+"/v21.0/"+phoneID+"/messages", token, b); a.status != http.StatusOK {
			t.Errorf("%v: %d %v", b["type"], a.status, a.body)
		}
	}
	sent := s.Sent()
	if len(sent) != len(good) || sent[0].Type != "text" || sent[2].MediaID != mediaID || sent[1].Caption != "c" {
		t.Errorf("recorded %+v", sent)
	}
}

func TestTemplates(t *testing.T) {
	s, base, app := newSim(t)
	s.SetAutoStatuses(metasim.StatusSent)
	s.AddTemplate(wabaID, metasim.Template{
		Name: "order_update", Language: "pt_BR", Status: metasim.TemplateApproved, Category: metasim.CategoryUtility,
		Components: []map[string]any{{"type": "BODY", "text": "Olá {{1}}, seu pedido {{2}} saiu. {{1}}"}},
	})
	s.AddTemplate(wabaID, metasim.Template{Name: "promo", Language: "pt_BR", Status: metasim.TemplatePending, Category: metasim.CategoryMarketing})
	tmpl := func(name, lang string, params ...string) map[string]any {
		var ps []any
		for _, p := range params {
			ps = append(ps, map[string]any{"type": "text", "text": p})
		}
		return map[string]any{
			"messaging_product": "whatsapp", "to": customer, "type": "template",
			"template": map[string]any{
				"name": name, "language": map[string]any{"code": lang},
				"components": []any{map[string]any{"type": "body", "parameters": ps}},
			},
		}
	}
	url := base + "/v21.0/" + phoneID + "/messages"

	e := wantError(t, call(t, "POST", url, token, tmpl("nope", "pt_BR")), http.StatusNotFound, 132001)
	if !strings.Contains(e["error_data"].(map[string]any)["details"].(string), "nope") {
		t.Errorf("details %v", e["error_data"])
	}
	wantError(t, call(t, "POST", url, token, tmpl("order_update", "en_US", "a", "b")), http.StatusNotFound, 132001)
	wantError(t, call(t, "POST", url, token, tmpl("promo", "pt_BR")), http.StatusNotFound, 132001)
	wantError(t, call(t, "POST", url, token, tmpl("order_update", "pt_BR", "a")), http.StatusBadRequest, 132000)

	// Templates need no open window; the answer carries message_status.
	a := call(t, "POST", url, token, tmpl("order_update", "pt_BR", "Ana", "42"))
	if a.status != http.StatusOK {
		t.Fatalf("approved template: %d %v", a.status, a.body)
	}
	msg := a.body["messages"].([]any)[0].(map[string]any)
	if msg["message_status"] != "accepted" {
		t.Errorf("message_status %v", msg["message_status"])
	}
	sent, _ := s.WaitSent(context.Background(), 1)
	if sent[0].Template != "order_update" || sent[0].Language != "pt_BR" {
		t.Errorf("recorded %+v", sent[0])
	}
	st := statusesOf(t, app.wait(t, 1))
	if p := st[0].Pricing; p == nil || p.Category != "utility" || !p.Billable {
		t.Errorf("pricing %+v", p)
	}
}

func TestReengagementWindow(t *testing.T) {
	clk := newClock()
	s, base, _ := newSim(t, metasim.WithClock(clk.Now))
	s.SetAutoStatuses()
	url := base + "/v21.0/" + phoneID + "/messages"

	e := wantError(t, call(t, "POST", url, token, textBody(customer, "hi")), http.StatusBadRequest, 131047)
	if e["message"] != "(#131047) Re-engagement message" {
		t.Errorf("message %v", e["message"])
	}

	openWindow(t, s)
	if a := call(t, "POST", url, token, textBody(customer, "hi")); a.status != http.StatusOK {
		t.Fatalf("inside window: %d %v", a.status, a.body)
	}
	clk.Add(23*time.Hour + 59*time.Minute)
	if a := call(t, "POST", url, token, textBody(customer, "still")); a.status != http.StatusOK {
		t.Fatalf("23h59 later: %d %v", a.status, a.body)
	}
	clk.Add(time.Minute)
	wantError(t, call(t, "POST", url, token, textBody(customer, "late")), http.StatusBadRequest, 131047)

	// The window is per (number, user): another user has none, and SetLastInbound opens one.
	other := "5521988887777"
	wantError(t, call(t, "POST", url, token, textBody(other, "hi")), http.StatusBadRequest, 131047)
	s.SetLastInbound(phoneID, other, clk.Now().Add(-time.Hour))
	if a := call(t, "POST", url, token, textBody(other, "hi")); a.status != http.StatusOK {
		t.Fatalf("after SetLastInbound: %d %v", a.status, a.body)
	}
	s.SetLastInbound(phoneID, other, time.Time{})
	wantError(t, call(t, "POST", url, token, textBody(other, "hi")), http.StatusBadRequest, 131047)
}

func TestReengagementAsync(t *testing.T) {
	s, base, app := newSim(t, metasim.WithAsyncReengagement())
	a := call(t, "POST", base+"/v21.0/"+phoneID+"/messages", token, textBody(customer, "hi"))
	if a.status != http.StatusOK {
		t.Fatalf("status %d %v", a.status, a.body)
	}
	st := statusesOf(t, app.wait(t, 2))
	if st[0].Status != "sent" || st[1].Status != "failed" || len(st[1].Errors) != 1 || st[1].Errors[0].Code != 131047 {
		t.Errorf("statuses %+v", st)
	}
	if err := s.WaitDeliveries(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, _ := app.count(); n != 2 {
		t.Errorf("%d webhooks, want sent and failed only", n)
	}
}

func TestRateLimit(t *testing.T) {
	for _, httpStatus := range []int{http.StatusTooManyRequests, http.StatusBadRequest} {
		clk := newClock()
		s, base, _ := newSim(t, metasim.WithClock(clk.Now), metasim.WithRateLimit(2, time.Second), metasim.WithThrottleStatus(httpStatus))
		s.SetAutoStatuses()
		openWindow(t, s)
		url := base + "/v21.0/" + phoneID + "/messages"
		for i := range 2 {
			if a := call(t, "POST", url, token, textBody(customer, "x")); a.status != http.StatusOK {
				t.Fatalf("send %d: %d %v", i, a.status, a.body)
			}
		}
		e := wantError(t, call(t, "POST", url, token, textBody(customer, "x")), httpStatus, 130429)
		if e["message"] != "(#130429) Rate limit hit" {
			t.Errorf("message %v", e["message"])
		}
		clk.Add(time.Second)
		if a := call(t, "POST", url, token, textBody(customer, "x")); a.status != http.StatusOK {
			t.Fatalf("next window: %d %v", a.status, a.body)
		}
	}
}

func TestSetFailNextIsOneOff(t *testing.T) {
	s, base, _ := newSim(t)
	s.SetAutoStatuses()
	openWindow(t, s)
	url := base + "/v21.0/" + phoneID + "/messages"
	s.SetFailNext(131056, "")
	wantError(t, call(t, "POST", url, token, textBody(customer, "x")), http.StatusTooManyRequests, 131056)
	s.SetFailNext(131000, "Something went wrong")
	wantError(t, call(t, "POST", url, token, textBody(customer, "x")), http.StatusInternalServerError, 131000)
	if a := call(t, "POST", url, token, textBody(customer, "x")); a.status != http.StatusOK {
		t.Fatalf("after one-off: %d %v", a.status, a.body)
	}
}

func TestFailedDeliveries(t *testing.T) {
	s, base, app := newSim(t)
	openWindow(t, s)
	url := base + "/v21.0/" + phoneID + "/messages"

	s.SetFailNextDelivery(131026, "")
	a := call(t, "POST", url, token, textBody(customer, "x"))
	if a.status != http.StatusOK {
		t.Fatalf("%d %v", a.status, a.body)
	}
	st := statusesOf(t, app.wait(t, 3)[1:])
	if st[0].Status != "sent" || st[1].Status != "failed" {
		t.Fatalf("statuses %+v", st)
	}
	f := st[1].Errors[0]
	if f.Code != 131026 || f.Title != "Message undeliverable" || f.Message == "" || f.ErrorData == nil || f.ErrorData.Details == "" {
		t.Errorf("failed error %+v", f)
	}

	// One-off: the next send is delivered and read.
	if err := s.WaitDeliveries(context.Background()); err != nil {
		t.Fatal(err)
	}
	call(t, "POST", url, token, textBody(customer, "y"))
	st = statusesOf(t, app.wait(t, 6)[3:])
	if st[0].Status != "sent" || st[1].Status != "delivered" || st[2].Status != "read" {
		t.Errorf("statuses after one-off %+v", st)
	}

	// SetUndeliverable lasts until cleared.
	s.SetUndeliverable(customer, 131049, "")
	s.SetAutoStatuses()
	call(t, "POST", url, token, textBody(customer, "z"))
	if err := s.WaitDeliveries(context.Background()); err != nil {
		t.Fatal(err)
	}
	bodies := app.wait(t, 7)
	st = statusesOf(t, bodies[6:])
	if st[0].Status != "failed" || st[0].Errors[0].Code != 131049 {
		t.Errorf("undeliverable %+v", st)
	}
}

func TestMarkAsRead(t *testing.T) {
	s, base, _ := newSim(t)
	wamid := openWindow(t, s)
	url := base + "/v21.0/" + phoneID + "/messages"
	read := func(id string) answer {
		return call(t, "POST", url, token, map[string]any{"messaging_product": "whatsapp", "status": "read", "message_id": id})
	}
	a := read(wamid)
	if a.status != http.StatusOK || a.body["success"] != true {
		t.Fatalf("%d %v", a.status, a.body)
	}
	wantError(t, read("wamid.unknown"), http.StatusBadRequest, 131009)
	// Another number cannot mark this number's message.
	wantError(t, call(t, "POST", base+"/v21.0/"+otherPhoneID+"/messages", otherToken,
		map[string]any{"messaging_product": "whatsapp", "status": "read", "message_id": wamid}), http.StatusBadRequest, 131009)
	if got := s.MarkedRead(); len(got) != 1 || got[0] != wamid {
		t.Errorf("MarkedRead %v", got)
	}
	if len(s.Sent()) != 0 {
		t.Errorf("mark-as-read recorded as a send")
	}
}

// upload posts a multipart media upload as the Media reference shows it.
func upload(t *testing.T, base, phone, tok, mimeType string, data []byte) answer {
	t.Helper()
	var buf bytes.Buffer
	boundary := "sim-boundary-7"
	buf.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"messaging_product\"\r\n\r\nwhatsapp\r\n")
	buf.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\n" + mimeType + "\r\n")
	buf.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\nContent-Type: " + mimeType + "\r\n\r\n")
	buf.Write(data)
	buf.WriteString("\r\n--" + boundary + "--\r\n")
	req, _ := http.NewRequest("POST", base+"/v21.0/"+phone+"/media", &buf)
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, out}
}

func download(t *testing.T, url, tok string) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

func TestMediaRoundTrip(t *testing.T) {
	s, base, _ := newSim(t)
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 100)...)

	a := upload(t, base, phoneID, token, "image/png", png)
	if a.status != http.StatusOK {
		t.Fatalf("upload: %d %v", a.status, a.body)
	}
	id := a.body["id"].(string)
	if got, mt, ok := s.MediaBytes(id); !ok || !bytes.Equal(got, png) || mt != "image/png" {
		t.Errorf("stored %v %q", ok, mt)
	}

	info := call(t, "GET", base+"/v21.0/"+id+"?phone_number_id="+phoneID, token, nil)
	if info.status != http.StatusOK {
		t.Fatalf("get: %d %v", info.status, info.body)
	}
	sum := sha256.Sum256(png)
	want := map[string]any{
		"messaging_product": "whatsapp", "mime_type": "image/png", "id": id,
		"sha256": hex.EncodeToString(sum[:]), "file_size": "108",
	}
	for k, v := range want {
		if info.body[k] != v {
			t.Errorf("%s = %v, want %v", k, info.body[k], v)
		}
	}
	mediaURL := info.body["url"].(string)
	if !strings.HasPrefix(mediaURL, base+"/") {
		t.Errorf("url %q is not on the sim", mediaURL)
	}

	status, ct, got := download(t, mediaURL, token)
	if status != http.StatusOK || ct != "image/png" || !bytes.Equal(got, png) {
		t.Errorf("download: %d %q %d bytes", status, ct, len(got))
	}
	if status, _, _ := download(t, mediaURL, ""); status != http.StatusUnauthorized {
		t.Errorf("download without token: %d", status)
	}
	if status, _, _ := download(t, mediaURL, otherToken); status != http.StatusUnauthorized {
		t.Errorf("download with another number's token: %d", status)
	}
	wantError(t, call(t, "GET", base+"/v21.0/"+id, otherToken, nil), http.StatusUnauthorized, 190)

	// The uploaded id can be sent.
	openWindow(t, s)
	a = call(t, "POST", base+"/v21.0/"+phoneID+"/messages", token, map[string]any{
		"messaging_product": "whatsapp", "to": customer, "type": "image", "image": map[string]any{"id": id},
	})
	if a.status != http.StatusOK {
		t.Errorf("send uploaded image: %d %v", a.status, a.body)
	}

	del := call(t, "DELETE", base+"/v21.0/"+id, token, nil)
	if del.status != http.StatusOK || del.body["success"] != true {
		t.Fatalf("delete: %d %v", del.status, del.body)
	}
	e := wantError(t, call(t, "GET", base+"/v21.0/"+id, token, nil), http.StatusBadRequest, 100)
	if e["error_subcode"].(float64) != 33 {
		t.Errorf("subcode %v", e["error_subcode"])
	}
	if status, _, _ := download(t, mediaURL, token); status != http.StatusNotFound {
		t.Errorf("download after delete: %d", status)
	}
}

func TestUploadRefusals(t *testing.T) {
	_, base, _ := newSim(t)
	wantError(t, upload(t, base, phoneID, token, "application/x-msdownload", []byte("MZ")), http.StatusBadRequest, 100)
	wantError(t, upload(t, base, phoneID, "bad", "image/png", []byte("x")), http.StatusUnauthorized, 190)

	req, _ := http.NewRequest("POST", base+"/v21.0/"+phoneID+"/media", strings.NewReader("messaging_product=whatsapp"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("upload without file: %d", resp.StatusCode)
	}
}

func TestTemplatePaging(t *testing.T) {
	s, base, _ := newSim(t)
	names := []string{"a_welcome", "b_order", "c_otp", "d_promo", "e_bye"}
	for i, n := range names {
		st, cat := metasim.TemplateApproved, metasim.CategoryUtility
		if i == 3 {
			st, cat = metasim.TemplateRejected, metasim.CategoryMarketing
		}
		if i == 2 {
			cat = metasim.CategoryAuthentication
		}
		s.AddTemplate(wabaID, metasim.Template{
			Name: n, Language: "pt_BR", Status: st, Category: cat,
			Components: []map[string]any{{"type": "BODY", "text": "Oi"}},
		})
	}

	var got []string
	next := base + "/v21.0/" + wabaID + "/message_templates?limit=2&fields=name,status,category,language,components"
	var pages int
	var last answer
	for next != "" {
		last = call(t, "GET", next, token, nil)
		if last.status != http.StatusOK {
			t.Fatalf("page: %d %v", last.status, last.body)
		}
		pages++
		for _, d := range last.body["data"].([]any) {
			item := d.(map[string]any)
			for _, k := range []string{"id", "name", "status", "category", "language", "components"} {
				if _, ok := item[k]; !ok {
					t.Errorf("item lacks %s: %v", k, item)
				}
			}
			got = append(got, item["name"].(string))
		}
		paging := last.body["paging"].(map[string]any)
		cursors := paging["cursors"].(map[string]any)
		if cursors["before"] == "" || cursors["after"] == "" {
			t.Errorf("cursors %v", cursors)
		}
		next, _ = paging["next"].(string)
		if next != "" && !strings.Contains(next, "/v21.0/"+wabaID+"/message_templates?") {
			t.Errorf("next %q lost the version or path", next)
		}
	}
	if pages != 3 || strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%d pages: %v", pages, got)
	}

	// A client may also build the next request from cursors.after itself.
	first := call(t, "GET", base+"/v21.0/"+wabaID+"/message_templates?limit=2", token, nil)
	after := first.body["paging"].(map[string]any)["cursors"].(map[string]any)["after"].(string)
	second := call(t, "GET", base+"/v21.0/"+wabaID+"/message_templates?limit=2&after="+after, token, nil)
	if d := second.body["data"].([]any); len(d) != 2 || d[0].(map[string]any)["name"] != "c_otp" {
		t.Errorf("page after cursors.after: %v", second.body["data"])
	}
	wantError(t, call(t, "GET", base+"/v21.0/"+wabaID+"/message_templates?after=garbage!", token, nil), http.StatusBadRequest, 100)

	// previous walks back from the last page.
	prev := last.body["paging"].(map[string]any)["previous"].(string)
	back := call(t, "GET", prev, token, nil)
	if d := back.body["data"].([]any); len(d) != 2 || d[0].(map[string]any)["name"] != "c_otp" {
		t.Errorf("previous page %v", back.body["data"])
	}

	// fields narrows the items; id is always there.
	a := call(t, "GET", base+"/v21.0/"+wabaID+"/message_templates?fields=name&status=APPROVED", token, nil)
	data := a.body["data"].([]any)
	if len(data) != 4 {
		t.Errorf("APPROVED filter: %d items", len(data))
	}
	if item := data[0].(map[string]any); len(item) != 2 || item["id"] == nil || item["name"] == nil {
		t.Errorf("fields=name gave %v", item)
	}
	if _, more := a.body["paging"].(map[string]any)["next"]; more {
		t.Errorf("single page has next")
	}
	a = call(t, "GET", base+"/v21.0/"+wabaID+"/message_templates?category=AUTHENTICATION", token, nil)
	if d := a.body["data"].([]any); len(d) != 1 || d[0].(map[string]any)["name"] != "c_otp" {
		t.Errorf("category filter %v", d)
	}

	wantError(t, call(t, "GET", base+"/v21.0/"+wabaID+"/message_templates", otherToken, nil), http.StatusUnauthorized, 190)
	wantError(t, call(t, "GET", base+"/v21.0/"+wabaID+"/message_templates?fields=bogus", token, nil), http.StatusBadRequest, 100)
}

func TestPhoneNumber(t *testing.T) {
	_, base, _ := newSim(t)
	a := call(t, "GET", base+"/v21.0/"+phoneID, token, nil)
	if a.status != http.StatusOK {
		t.Fatalf("%d %v", a.status, a.body)
	}
	want := map[string]any{
		"id": phoneID, "display_phone_number": display, "verified_name": "Master IA Demo", "quality_rating": "GREEN",
	}
	for k, v := range want {
		if a.body[k] != v {
			t.Errorf("%s = %v, want %v", k, a.body[k], v)
		}
	}
	a = call(t, "GET", base+"/v21.0/"+phoneID+"?fields=display_phone_number,quality_rating", token, nil)
	if len(a.body) != 3 || a.body["quality_rating"] != "GREEN" {
		t.Errorf("fields: %v", a.body)
	}
	wantError(t, call(t, "GET", base+"/v21.0/"+phoneID, otherToken, nil), http.StatusUnauthorized, 190)
}

func TestConcurrentSends(t *testing.T) {
	s, base, app := newSim(t)
	openWindow(t, s)
	const n = 40
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Sends and refused mark-as-reads interleave.
			body, _ := json.Marshal(textBody(customer, "msg"))
			if i%2 == 0 {
				body = []byte(`{"messaging_product":"whatsapp","status":"read","message_id":"wamid.none"}`)
			}
			req, _ := http.NewRequest("POST", base+"/v21.0/"+phoneID+"/messages", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	sent, err := s.WaitSent(context.Background(), n/2)
	if err != nil || len(sent) != n/2 {
		t.Fatalf("%d sent, %v", len(sent), err)
	}
	if err := s.WaitDeliveries(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, rejected := app.count(); got != 1+3*n/2 || rejected != 0 {
		t.Errorf("%d webhooks (%d rejected), want %d", got, rejected, 1+3*n/2)
	}
}

func TestCloseAbandonsPendingStatuses(t *testing.T) {
	s, base, app := newSim(t, metasim.WithStatusDelays(time.Hour, 0, 0))
	openWindow(t, s)
	call(t, "POST", base+"/v21.0/"+phoneID+"/messages", token, textBody(customer, "x"))
	s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitDeliveries(ctx); err != nil {
		t.Fatalf("pending status webhooks survive Close: %v", err)
	}
	if got, _ := app.count(); got != 1 {
		t.Errorf("%d webhooks, want only the inbound one", got)
	}
}

func TestWaitSentHonoursContext(t *testing.T) {
	s, _, _ := newSim(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.WaitSent(ctx, 1); err == nil {
		t.Fatal("WaitSent returned without sends")
	}
}

func TestTemplateHeaderMedia(t *testing.T) {
	s, base, _ := newSim(t)
	s.SetAutoStatuses()
	s.AddTemplate(wabaID, metasim.Template{
		Name: "promo_img", Language: "pt_BR", Status: metasim.TemplateApproved, Category: metasim.CategoryMarketing,
		Components: []map[string]any{{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "Oi {{1}}"}},
	})
	s.AddTemplate(wabaID, metasim.Template{
		Name: "plain", Language: "pt_BR", Status: metasim.TemplateApproved, Category: metasim.CategoryMarketing,
		Components: []map[string]any{{"type": "BODY", "text": "Oi"}},
	})
	send := func(name string, header ...any) map[string]any {
		comps := []any{}
		if len(header) > 0 {
			comps = append(comps, map[string]any{"type": "header", "parameters": header})
		}
		if name == "promo_img" {
			comps = append(comps, map[string]any{"type": "body", "parameters": []any{map[string]any{"type": "text", "text": "Ana"}}})
		}
		return map[string]any{
			"messaging_product": "whatsapp", "to": customer, "type": "template",
			"template": map[string]any{"name": name, "language": map[string]any{"code": "pt_BR"}, "components": comps},
		}
	}
	url := base + "/v21.0/" + phoneID + "/messages"
	image := map[string]any{"type": "image", "image": map[string]any{"link": "https://files.example.com/a.png"}}

	// No header parameter for an IMAGE header: a parameter count mismatch (§4.5, 132000).
	e := wantError(t, call(t, "POST", url, token, send("promo_img")), http.StatusBadRequest, 132000)
	if d := e["error_data"].(map[string]any)["details"].(string); !strings.Contains(d, "header") {
		t.Errorf("details %q", d)
	}
	// A document or a text where the template wants an image: a format mismatch (§4.5, 132012).
	wantError(t, call(t, "POST", url, token, send("promo_img", map[string]any{"type": "document", "document": map[string]any{"link": "https://files.example.com/a.pdf"}})), http.StatusBadRequest, 132012)
	wantError(t, call(t, "POST", url, token, send("promo_img", map[string]any{"type": "text", "text": "x"})), http.StatusBadRequest, 132012)
	wantError(t, call(t, "POST", url, token, send("promo_img", map[string]any{"type": "image", "image": map[string]any{}})), http.StatusBadRequest, 132012)
	wantError(t, call(t, "POST", url, token, send("promo_img", map[string]any{"type": "image", "image": map[string]any{"link": "not a url"}})), http.StatusBadRequest, 100)
	// Media in the header of a template without a media header is a mismatch too.
	wantError(t, call(t, "POST", url, token, send("plain", image)), http.StatusBadRequest, 132012)

	if a := call(t, "POST", url, token, send("promo_img", image)); a.status != http.StatusOK {
		t.Fatalf("image header: %d %v", a.status, a.body)
	}
	sent := s.Sent()
	if len(sent) != 1 || sent[0].HeaderMediaType != "image" || sent[0].HeaderMediaLink != "https://files.example.com/a.png" {
		t.Errorf("recorded %+v", sent)
	}
}
