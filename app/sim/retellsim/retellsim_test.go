package retellsim_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"masteria/app/sim/retellsim"
	"masteria/app/voice/retell"
)

const key = "key_test_0123456789"

func start(t *testing.T, opts ...retellsim.Option) (*retellsim.Server, *retell.Client) {
	t.Helper()
	sim := retellsim.New(append([]retellsim.Option{retellsim.WithAPIKeys(key)}, opts...)...)
	base, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim, retell.New(base, key, nil)
}

func TestAuth(t *testing.T) {
	t.Parallel()
	sim, _ := start(t)
	_, err := retell.New(sim.URL(), "wrong", nil).ListAgents(context.Background())
	var re *retell.Error
	if !errors.As(err, &re) || re.Status != http.StatusUnauthorized || re.Message != "Invalid API Key" {
		t.Fatalf("wrong key: %#v", err)
	}
	if !strings.Contains(err.Error(), "refused the API key (401): Invalid API Key") {
		t.Errorf("words: %v", err)
	}
	// A raw request without Bearer gets Retell's error body.
	res, err := http.Post(sim.URL()+"/v2/list-agents", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 401 || !strings.Contains(string(b), `"status":"error"`) {
		t.Fatalf("no auth: %d %s", res.StatusCode, b)
	}
}

func TestListAgentsNewAndOld(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, old := range []bool{false, true} {
		var opts []retellsim.Option
		if old {
			opts = append(opts, retellsim.WithOldListsOnly())
		}
		sim, c := start(t, opts...)
		// More than a page (1000), so both pagings are walked.
		for i := range 1003 {
			sim.AddAgent(retell.Agent{AgentName: fmt.Sprintf("Agent %d", i)})
		}
		agents, err := c.ListAgents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(agents) != 1003 || agents[1002].AgentName != "Agent 1002" || !strings.HasPrefix(agents[0].AgentID, "agent_") || len(agents[0].AgentID) != 38 {
			t.Fatalf("old=%v: %d agents, last %+v", old, len(agents), agents[len(agents)-1])
		}
		if old && agents[0].Version != 1 {
			t.Errorf("old list: version %d", agents[0].Version)
		}
	}
	// The new list reads paging from the query only.
	sim, _ := start(t)
	req, _ := http.NewRequest(http.MethodPost, sim.URL()+"/v2/list-agents", strings.NewReader(`{"limit":10}`))
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("limit in body: %d", res.StatusCode)
	}
}

func TestNumbersAndCalls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := start(t)
	ag := sim.AddAgent(retell.Agent{AgentName: "Sales"})

	p, err := c.ImportPhoneNumber(ctx, retell.ImportPhoneNumber{PhoneNumber: "+14157774444", TerminationURI: "masteria-1.pstn.twilio.com",
		SIPTrunkAuthUsername: "u1", SIPTrunkAuthPassword: "secret-pw", Nickname: "Main",
		OutboundAgents: []retell.AgentWeight{{AgentID: ag.AgentID, Weight: 1}}, InboundAgents: []retell.AgentWeight{{AgentID: ag.AgentID, Weight: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if p.PhoneNumberType != "custom" || p.SIPOutboundTrunk == nil || p.SIPOutboundTrunk.Transport != "TCP" || p.SIPOutboundTrunk.TerminationURI != "masteria-1.pstn.twilio.com" {
		t.Fatalf("imported: %+v", p)
	}
	if im := sim.Imports(); len(im) != 1 || im[0].SIPTrunkAuthPassword != "secret-pw" {
		t.Fatalf("imports: %+v", im)
	}
	for name, bad := range map[string]retell.ImportPhoneNumber{
		"not e164":  {PhoneNumber: "4157774444", TerminationURI: "x.pstn.twilio.com"},
		"no uri":    {PhoneNumber: "+14157774445"},
		"twice":     {PhoneNumber: "+14157774444", TerminationURI: "x.pstn.twilio.com"},
		"weights":   {PhoneNumber: "+14157774446", TerminationURI: "x", InboundAgents: []retell.AgentWeight{{AgentID: ag.AgentID, Weight: 0.5}}},
		"no agent":  {PhoneNumber: "+14157774447", TerminationURI: "x", InboundAgents: []retell.AgentWeight{{AgentID: "agent_nope", Weight: 1}}},
		"transport": {PhoneNumber: "+14157774448", TerminationURI: "x", Transport: "SCTP"},
	} {
		if _, err := c.ImportPhoneNumber(ctx, bad); retell.StatusOf(err) != http.StatusBadRequest {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, old := range []bool{false, true} {
		cl := c
		if old {
			s2, c2 := start(t, retellsim.WithOldListsOnly())
			s2.AddPhoneNumber(p)
			cl = c2
		}
		nums, err := cl.ListPhoneNumbers(ctx)
		if err != nil || len(nums) != 1 || nums[0].PhoneNumber != "+14157774444" {
			t.Fatalf("old=%v numbers: %+v %v", old, nums, err)
		}
	}

	call, err := c.CreatePhoneCall(ctx, retell.CreatePhoneCall{FromNumber: "+14157774444", ToNumber: "+5511987654321",
		Metadata: json.RawMessage(`{"contact_id":7,"org":"x"}`), DynamicVariables: map[string]string{"name": "Maria"}})
	if err != nil {
		t.Fatal(err)
	}
	if call.CallStatus != retell.StatusRegistered || call.AgentID != ag.AgentID || call.Direction != "outbound" || len(call.CallID) != 37 ||
		string(call.Metadata) != `{"contact_id":7,"org":"x"}` || call.DynamicVariables["name"] != "Maria" {
		t.Fatalf("created: %+v", call)
	}
	got, err := c.GetCall(ctx, call.CallID)
	if err != nil || got.CallID != call.CallID || got.AgentName != "Sales" {
		t.Fatalf("get: %+v %v", got, err)
	}
	if _, err := c.GetCall(ctx, "call_unknown"); retell.StatusOf(err) != http.StatusUnprocessableEntity {
		t.Errorf("unknown call: %v", err)
	}
	if _, err := c.CreatePhoneCall(ctx, retell.CreatePhoneCall{FromNumber: "+14150000000", ToNumber: "+5511987654321"}); retell.StatusOf(err) != 422 {
		t.Errorf("from a number not in the account: %v", err)
	}
	if _, err := c.CreatePhoneCall(ctx, retell.CreatePhoneCall{FromNumber: "+14157774444", ToNumber: "11 98765"}); retell.StatusOf(err) != 400 {
		t.Errorf("bad to_number: %v", err)
	}
	s404, c404 := start(t, retellsim.WithUnknownCallStatus(http.StatusNotFound))
	_ = s404
	if _, err := c404.GetCall(ctx, "call_unknown"); retell.StatusOf(err) != http.StatusNotFound {
		t.Errorf("unknown call, 404 mode: %v", err)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := start(t, retellsim.WithConcurrencyLimit(1))
	ag := sim.AddAgent(retell.Agent{AgentName: "Sales"})
	sim.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: "+14157774444", OutboundAgents: []retell.AgentWeight{{AgentID: ag.AgentID, Weight: 1}}})
	in := retell.CreatePhoneCall{FromNumber: "+14157774444", ToNumber: "+14155550000"}
	if _, err := c.CreatePhoneCall(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreatePhoneCall(ctx, in); retell.StatusOf(err) != http.StatusTooManyRequests {
		t.Fatalf("over the limit: %v", err)
	}
}

// receiver is the app's side of the webhook: it checks each signature like the app must.
type receiver struct {
	mu     sync.Mutex
	events []retell.Event
	refuse int // answer 500 to this many requests first
	key    string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if err := retell.Verify(body, req.Header.Get(retell.SignatureHeader), r.key, time.Now()); err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuse > 0 {
		r.refuse--
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	var ev retell.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.events = append(r.events, ev)
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Event)
	}
	return out
}

func webhook(t *testing.T, sim *retellsim.Server) *receiver {
	r := &receiver{key: key}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	sim.SetWebhook(srv.URL + "/webhooks/retell/1")
	return r
}

func TestPlayConnectedCall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := start(t)
	ag := sim.AddAgent(retell.Agent{AgentName: "Sales"})
	sim.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: "+14157774444", OutboundAgents: []retell.AgentWeight{{AgentID: ag.AgentID, Weight: 1}}})
	rcv := webhook(t, sim)
	call, err := c.CreatePhoneCall(ctx, retell.CreatePhoneCall{FromNumber: "+14157774444", ToNumber: "+14155550000",
		Metadata: json.RawMessage(`{"contact_id":3}`), DynamicVariables: map[string]string{"name": "Ana"}})
	if err != nil {
		t.Fatal(err)
	}
	id, err := sim.PlayCall(ctx, retellsim.CallScript{CallID: call.CallID})
	if err != nil || id != call.CallID {
		t.Fatalf("play: %s %v", id, err)
	}
	if got := strings.Join(rcv.names(), ","); got != "call_started,call_ended,call_analyzed" {
		t.Fatalf("events: %s", got)
	}
	st, end, an := rcv.events[0].Call, rcv.events[1].Call, rcv.events[2].Call
	if st.CallStatus != "ongoing" || st.Transcript != "" || string(st.Metadata) != `{"contact_id":3}` || st.DynamicVariables["name"] != "Ana" {
		t.Errorf("started: %+v", st)
	}
	if end.CallStatus != "ended" || end.CallAnalysis != nil || end.DisconnectionReason != "user_hangup" || end.DurationMS != 42000 ||
		!strings.HasPrefix(end.Transcript, "Agent: Hi") || len(end.TranscriptObject) != 5 || len(end.TranscriptObject[0].Words) == 0 {
		t.Errorf("ended: %+v", end)
	}
	a := an.CallAnalysis
	if a == nil || a.CallSummary == "" || a.UserSentiment != "Positive" || a.CallSuccessful == nil || !*a.CallSuccessful ||
		a.InVoicemail == nil || *a.InVoicemail || string(a.CustomAnalysisData) != `{"interested":true}` || an.CallCost == nil || an.CallCost.CombinedCost != 8.75 {
		t.Errorf("analyzed: %+v %+v", a, an.CallCost)
	}
	// The recording is served by the sim.
	res, err := http.Get(an.RecordingURL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "audio/wav" || string(b[:4]) != "RIFF" || len(b) != 44+16000 {
		t.Errorf("recording: %d %s %d", res.StatusCode, res.Header.Get("Content-Type"), len(b))
	}
	got, _ := c.GetCall(ctx, call.CallID)
	if got.CallStatus != "ended" || got.CallAnalysis == nil {
		t.Errorf("the sim's call after playing: %+v", got)
	}
}

func TestPlayVoicemailAndNoAnswer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, _ := start(t)
	sim.AddAgent(retell.Agent{AgentName: "Sales"})
	rcv := webhook(t, sim)
	if _, err := sim.PlayCall(ctx, retellsim.CallScript{Kind: retellsim.KindVoicemail, Direction: "outbound", FromNumber: "+14157774444", ToNumber: "+14155550000"}); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.PlayCall(ctx, retellsim.CallScript{Kind: retellsim.KindNoAnswer, Direction: "outbound", FromNumber: "+14157774444", ToNumber: "+14155550001"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rcv.names(), ","); got != "call_started,call_ended,call_analyzed,call_ended,call_analyzed" {
		t.Fatalf("events: %s", got)
	}
	vm, na := rcv.events[2].Call, rcv.events[4].Call
	if vm.DisconnectionReason != "voicemail_reached" || !*vm.CallAnalysis.InVoicemail || *vm.CallAnalysis.CallSuccessful {
		t.Errorf("voicemail: %+v %+v", vm, vm.CallAnalysis)
	}
	if na.CallStatus != "not_connected" || na.DisconnectionReason != "dial_no_answer" || na.StartTimestamp != 0 || na.RecordingURL != "" || na.Transcript != "" {
		t.Errorf("no answer: %+v", na)
	}
}

func TestDeliveryFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, _ := start(t)
	sim.AddAgent(retell.Agent{AgentName: "Sales"})
	rcv := webhook(t, sim)

	// Two failures, then success: retried.
	rcv.refuse = 2
	if _, err := sim.PlayCall(ctx, retellsim.CallScript{Kind: retellsim.KindNoAnswer}); err != nil {
		t.Fatal(err)
	}
	ds := sim.Deliveries()
	if len(ds) != 4 || ds[0].Status != 500 || ds[2].Attempt != 3 || ds[2].Status != 204 || ds[3].Event != "call_analyzed" {
		t.Fatalf("retries: %+v", ds)
	}

	// Always failing: 4 attempts each, later events still sent, ErrUndelivered.
	n := len(sim.Deliveries())
	if _, err := sim.PlayCall(ctx, retellsim.CallScript{BadSignature: true}); !errors.Is(err, retellsim.ErrUndelivered) {
		t.Fatalf("bad signature: %v", err)
	}
	if ds := sim.Deliveries()[n:]; len(ds) != 12 || ds[11].Status != 401 || ds[11].Event != "call_analyzed" {
		t.Fatalf("bad signature deliveries: %d", len(ds))
	}
	n = len(sim.Deliveries())
	if _, err := sim.PlayCall(ctx, retellsim.CallScript{SignedAt: -6 * time.Minute, Kind: retellsim.KindBusy}); !errors.Is(err, retellsim.ErrUndelivered) {
		t.Fatalf("old timestamp: %v", err)
	}
	if d := sim.Deliveries()[n]; d.Status != 401 || !strings.HasPrefix(d.Signature, "v=") {
		t.Fatalf("old timestamp delivery: %+v", d)
	}

	// Out of order and twice.
	before := len(rcv.names())
	if _, err := sim.PlayCall(ctx, retellsim.CallScript{Order: []string{"call_ended", "call_started", "call_analyzed"}, Twice: true}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rcv.names()[before:], ","); got != "call_ended,call_ended,call_started,call_started,call_analyzed,call_analyzed" {
		t.Fatalf("order: %s", got)
	}
}

func TestAutoPlay(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sim, c := start(t)
	ag := sim.AddAgent(retell.Agent{AgentName: "Sales"})
	sim.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: "+14157774444", OutboundAgents: []retell.AgentWeight{{AgentID: ag.AgentID, Weight: 1}}})
	webhook(t, sim)
	sim.SetAutoPlay(&retellsim.CallScript{Kind: retellsim.KindVoicemail})
	if _, err := c.CreatePhoneCall(ctx, retell.CreatePhoneCall{FromNumber: "+14157774444", ToNumber: "+14155550000"}); err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitDeliveries(ctx, 3); err != nil {
		t.Fatal(err)
	}
}

func TestClientTimeoutAndNonJSON(t *testing.T) {
	t.Parallel()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/get-call/x" {
			w.WriteHeader(200)
			_, _ = w.Write([]byte("<html>"))
			return
		}
		time.Sleep(300 * time.Millisecond)
	}))
	t.Cleanup(slow.Close)
	c := retell.New(slow.URL, key, &http.Client{Timeout: 50 * time.Millisecond})
	_, err := c.ListAgents(context.Background())
	var re *retell.Error
	if !errors.As(err, &re) || !re.Timeout || !strings.Contains(err.Error(), "did not answer in time") {
		t.Fatalf("timeout: %#v", err)
	}
	if _, err := c.GetCall(context.Background(), "x"); !strings.Contains(fmt.Sprint(err), "not Retell's JSON") {
		t.Fatalf("non-JSON: %v", err)
	}
	if _, err := c.GetCall(context.Background(), "../x"); retell.StatusOf(err) != 422 {
		t.Fatalf("bad id: %v", err)
	}
}

// Reads are retried after a 5xx or a 429; creations never are, so a lost answer cannot
// make a second call or import.
func TestFailNextAndRetries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := start(t)
	c = c.WithRetries(2, time.Millisecond)
	ag := sim.AddAgent(retell.Agent{AgentName: "Sales"})

	sim.FailNext("/v2/list-agents", http.StatusInternalServerError, "Internal error", 2)
	agents, err := c.ListAgents(ctx)
	if err != nil || len(agents) != 1 {
		t.Fatalf("after two 500s: %v %d", err, len(agents))
	}
	sim.FailNext("/v2/list-agents", http.StatusTooManyRequests, "Too many requests", 3)
	if _, err := c.ListAgents(ctx); retell.StatusOf(err) != http.StatusTooManyRequests || !strings.Contains(err.Error(), "limiting requests (429): Too many requests") {
		t.Fatalf("three 429s: %v", err)
	}

	sim.FailNext("/import-phone-number", http.StatusInternalServerError, "Internal error", 1)
	in := retell.ImportPhoneNumber{PhoneNumber: "+14157774444", TerminationURI: "t.pstn.twilio.com", OutboundAgents: []retell.AgentWeight{{AgentID: ag.AgentID, Weight: 1}}}
	if _, err := c.ImportPhoneNumber(ctx, in); retell.StatusOf(err) != http.StatusInternalServerError {
		t.Fatalf("import 500: %v", err)
	}
	if len(sim.PhoneNumbers()) != 0 {
		t.Fatal("a failed import imported")
	}
	if _, err := c.ImportPhoneNumber(ctx, in); err != nil {
		t.Fatalf("import again: %v", err)
	}
	sim.FailNext("/v2/create-phone-call", http.StatusInternalServerError, "Internal error", 1)
	if _, err := c.CreatePhoneCall(ctx, retell.CreatePhoneCall{FromNumber: "+14157774444", ToNumber: "+14155550000"}); retell.StatusOf(err) != 500 {
		t.Fatalf("create 500: %v", err)
	}
	var paths []string
	for _, r := range sim.Requests() {
		paths = append(paths, fmt.Sprintf("%s %s %d", r.Method, r.Path, r.Status))
	}
	want := "POST /v2/list-agents 500,POST /v2/list-agents 500,POST /v2/list-agents 200," +
		"POST /v2/list-agents 429,POST /v2/list-agents 429,POST /v2/list-agents 429," +
		"POST /import-phone-number 500,POST /import-phone-number 201,POST /v2/create-phone-call 500"
	if got := strings.Join(paths, ","); got != want {
		t.Fatalf("requests:\n%s\nwant\n%s", got, want)
	}
	if len(sim.Calls()) != 0 {
		t.Fatal("a failed create made a call")
	}
}
