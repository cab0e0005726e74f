package twiliosim_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"masteria/app/sim/twiliosim"
)

// names returns the parameter names of a form body in the order they were sent.
func names(body string) []string {
	var out []string
	for _, kv := range strings.Split(body, "&") {
		name, _, _ := strings.Cut(kv, "=")
		out = append(out, name)
	}
	return out
}

func TestInboundFields(t *testing.T) {
	f := newFixture(t)
	res, err := f.sim.Inbound(timeout(t), f.numberSid, handset, "Oi, quero saber o preço & prazo")
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusOK || res.Body != "<Response/>" || !strings.HasPrefix(res.MessageSid, "SM") || len(res.MessageSid) != 34 {
		t.Fatalf("Inbound = %+v", res)
	}
	reqs := f.app.requests()
	if len(reqs) != 1 {
		t.Fatalf("app got %d requests", len(reqs))
	}
	r := reqs[0]
	if r.URL != f.smsURL || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("request to %s, %v", r.URL, r.Header)
	}
	wantOrder := []string{"ToCountry", "ToState", "SmsMessageSid", "NumMedia", "ToCity", "FromZip", "SmsSid",
		"FromState", "SmsStatus", "FromCity", "Body", "FromCountry", "To", "ToZip", "NumSegments", "MessageSid",
		"AccountSid", "From", "ApiVersion"}
	if got := names(r.Body); !slices.Equal(got, wantOrder) {
		t.Errorf("parameters %v,\nwant Twilio's %v", got, wantOrder)
	}
	want := map[string]string{
		"ToCountry": "BR", "FromCountry": "BR", "SmsMessageSid": res.MessageSid, "SmsSid": res.MessageSid,
		"MessageSid": res.MessageSid, "NumMedia": "0", "SmsStatus": "received",
		"Body": "Oi, quero saber o preço & prazo", "To": ourNumber, "From": handset, "AccountSid": accountSid,
		"NumSegments": "1", "ApiVersion": "2010-04-01", "ToState": "", "ToCity": "", "ToZip": "",
	}
	for k, v := range want {
		if got := r.Form.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if !twiliosim.ValidSignature(authToken, f.smsURL, r.Form, r.Header.Get("X-Twilio-Signature")) {
		t.Error("signature does not verify over the configured URL")
	}
	if r.Header.Get("I-Twilio-Idempotency-Token") == "" {
		t.Error("no I-Twilio-Idempotency-Token")
	}
	m, ok := f.sim.Message(res.MessageSid)
	if !ok || m.Direction != "inbound" || m.Status != "received" || m.Encoding != twiliosim.EncodingUCS2 {
		t.Errorf("Message = %+v", m)
	}
	if status, got := f.fetch(t, res.MessageSid); status != http.StatusOK || got["direction"] != "inbound" {
		t.Errorf("fetch inbound: %d %v", status, got)
	}
}

func TestInboundMedia(t *testing.T) {
	f := newFixture(t)
	media := "https://api.twilio.com/2010-04-01/Accounts/" + accountSid + "/Messages/MM1/Media/ME1"
	res, err := f.sim.Inbound(timeout(t), f.numberSid, handset, "", twiliosim.WithMedia(media, "image/jpeg"))
	if err != nil || res.Status != http.StatusOK {
		t.Fatalf("Inbound = %+v, %v", res, err)
	}
	if !strings.HasPrefix(res.MessageSid, "MM") {
		t.Errorf("MMS sid %q", res.MessageSid)
	}
	form := f.app.requests()[0].Form
	if form.Get("NumMedia") != "1" || form.Get("MediaUrl0") != media || form.Get("MediaContentType0") != "image/jpeg" ||
		form.Get("NumSegments") != "1" || !form.Has("Body") {
		t.Errorf("media form %v", form)
	}
}

func TestInboundDuplicate(t *testing.T) {
	f := newFixture(t)
	ctx := timeout(t)
	first, err := f.sim.Inbound(ctx, f.numberSid, handset, "Olá")
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.sim.Redeliver(ctx, first.MessageSid)
	if err != nil || again.MessageSid != first.MessageSid || again.Status != http.StatusOK {
		t.Fatalf("Redeliver = %+v, %v", again, err)
	}
	reqs := f.app.requests()
	if len(reqs) != 2 || reqs[0].Body != reqs[1].Body {
		t.Fatalf("redelivery differs: %+v", reqs)
	}
	for _, h := range []string{"X-Twilio-Signature", "I-Twilio-Idempotency-Token"} {
		if reqs[0].Header.Get(h) != reqs[1].Header.Get(h) {
			t.Errorf("%s differs on redelivery", h)
		}
	}
	// The same MessageSid in a fresh request: a different idempotency token, the same message.
	if _, err := f.sim.Inbound(ctx, f.numberSid, handset, "Olá", twiliosim.WithMessageSid(first.MessageSid)); err != nil {
		t.Fatal(err)
	}
	third := f.app.requests()[2]
	if third.Form.Get("MessageSid") != first.MessageSid ||
		third.Header.Get("I-Twilio-Idempotency-Token") == reqs[0].Header.Get("I-Twilio-Idempotency-Token") {
		t.Errorf("WithMessageSid request: %+v", third)
	}
	if _, err := f.sim.Redeliver(ctx, twiliosim.NewSID("SM")); err == nil {
		t.Error("Redeliver of an unknown message succeeded")
	}
}

func TestInboundWrongSignature(t *testing.T) {
	f := newFixture(t)
	res, err := f.sim.Inbound(timeout(t), f.numberSid, handset, "STOP", twiliosim.WithWrongSignature())
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusUnauthorized {
		t.Errorf("forged request answered %d", res.Status)
	}
	if f.sim.OptedOut(ourNumber, handset) {
		t.Error("a forged STOP opted the handset out")
	}
	if _, ok := f.sim.Message(res.MessageSid); ok {
		t.Error("a forged message was stored")
	}
}

func TestOptOutKeywords(t *testing.T) {
	f := newFixture(t)
	ctx := timeout(t)
	inbound := func(body string) string {
		t.Helper()
		before := len(f.app.requests())
		if _, err := f.sim.Inbound(ctx, f.numberSid, handset, body); err != nil {
			t.Fatal(err)
		}
		return f.app.requests()[before].Form.Get("OptOutType")
	}
	sendStatus := func() (int, int) {
		t.Helper()
		status, body := f.send(t, accountSid, authToken, sms(handset, "Oferta"))
		return status, code(body)
	}
	for _, c := range []struct{ stop, start string }{{"STOP", "START"}, {" Sair ", "voltar"}, {"parar!", "Start"}} {
		if got := inbound(c.stop); got != "STOP" {
			t.Errorf("%q: OptOutType %q, want STOP", c.stop, got)
		}
		if !f.sim.OptedOut(ourNumber, handset) || !f.sim.OptedOut(f.numberSid, handset) {
			t.Errorf("%q did not opt out", c.stop)
		}
		if status, code := sendStatus(); status != http.StatusBadRequest || code != 21610 {
			t.Errorf("send after %q: %d %d, want 400 21610", c.stop, status, code)
		}
		if status, body := f.send(t, accountSid, authToken, sms("+5511977776666", "Oferta")); status != http.StatusCreated {
			t.Errorf("another recipient refused: %d %v", status, body)
		}
		if got := inbound(c.start); got != "START" {
			t.Errorf("%q: OptOutType %q, want START", c.start, got)
		}
		if status, _ := sendStatus(); status != http.StatusCreated {
			t.Errorf("send after %q: %d", c.start, status)
		}
	}
	for body, want := range map[string]string{"HELP": "HELP", "ajuda": "HELP", "stop please": "", "quero parar de receber": ""} {
		if got := inbound(body); got != want {
			t.Errorf("%q: OptOutType %q, want %q", body, got, want)
		}
	}
	if f.sim.OptedOut(ourNumber, handset) {
		t.Error("a sentence containing a keyword opted out")
	}
}

// With a Messaging Service an opt-out covers every number of its pool, as Advanced Opt-Out does.
func TestOptOutCoversService(t *testing.T) {
	f := newFixture(t)
	second, err := f.sim.AddNumber(accountSid, "+5511999990003", f.smsURL)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := f.sim.AddMessagingService(accountSid, f.numberSid, second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.sim.Inbound(timeout(t), f.numberSid, handset, "STOP"); err != nil {
		t.Fatal(err)
	}
	if got := f.app.requests()[0].Form.Get("MessagingServiceSid"); got != svc {
		t.Errorf("MessagingServiceSid %q, want %q", got, svc)
	}
	for name, form := range map[string]url.Values{
		"other pool number": {"To": {handset}, "From": {"+5511999990003"}, "Body": {"hi"}},
		"service":           {"To": {handset}, "MessagingServiceSid": {svc}, "Body": {"hi"}},
	} {
		if status, body := f.send(t, accountSid, authToken, form); status != http.StatusBadRequest || code(body) != 21610 {
			t.Errorf("%s: %d %v, want 21610", name, status, body)
		}
	}
	if !f.sim.OptedOut(svc, handset) {
		t.Error("OptedOut(service) = false")
	}
}

func TestWithKeywords(t *testing.T) {
	f := newFixture(t, twiliosim.WithKeywords([]string{"baixa"}, nil, nil))
	ctx := timeout(t)
	for _, c := range []struct {
		body string
		want bool
	}{{"STOP", false}, {"BAIXA", true}} {
		if _, err := f.sim.Inbound(ctx, f.numberSid, "+5511977776666", c.body); err != nil {
			t.Fatal(err)
		}
		if got := f.sim.OptedOut(ourNumber, "+5511977776666"); got != c.want {
			t.Errorf("after %q: OptedOut %v, want %v", c.body, got, c.want)
		}
	}
}

func TestInboundRequestRaw(t *testing.T) {
	f := newFixture(t)
	raw, err := f.sim.InboundRequest(f.numberSid, handset, "STOP")
	if err != nil {
		t.Fatal(err)
	}
	if raw.URL != f.smsURL || !strings.HasPrefix(string(raw.Body), "ToCountry=BR&ToState=&SmsMessageSid="+raw.MessageSid) {
		t.Errorf("raw request %s %s", raw.URL, raw.Body)
	}
	params := raw.Params()
	if params.Get("OptOutType") != "STOP" || !twiliosim.ValidSignature(authToken, raw.URL, params, raw.Header.Get("X-Twilio-Signature")) {
		t.Errorf("raw params %v", params)
	}
	// Building it changes nothing; it can be sent any number of times.
	if f.sim.OptedOut(ourNumber, handset) {
		t.Error("InboundRequest applied the keyword")
	}
	for range 2 {
		req, err := raw.NewRequest(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("raw request answered %d", resp.StatusCode)
		}
	}
	if _, err := f.sim.InboundRequest("PN-unknown", handset, "hi"); err == nil {
		t.Error("unknown number accepted")
	}
}
