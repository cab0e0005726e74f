package retellsim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"masteria/app/sim/retellsim"
	"masteria/app/voice/retell"
)

// TestTranscriptAndTransferEvents: an agent's optional events come during the call, in
// Retell's shape: a transcript_updated per turn (the transcript so far, with
// transcript_with_tool_calls), and a transfer's transfer_started, transfer_bridged and
// transfer_ended (the call ends with call_transfer) or transfer_cancelled (it goes on).
func TestTranscriptAndTransferEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, _ := start(t)
	sim.AddAgent(retell.Agent{AgentName: "Reception"})
	rcv := webhook(t, sim)
	if _, err := sim.PlayCall(ctx, retellsim.CallScript{FromNumber: "+14155550001", ToNumber: "+14157774444",
		TranscriptUpdates: true, TransferTo: "+14155559999"}); err != nil {
		t.Fatal(err)
	}
	want := "call_started,transcript_updated,transcript_updated,transcript_updated,transcript_updated,transcript_updated," +
		"transfer_started,transfer_bridged,transfer_ended,call_ended,call_analyzed"
	if got := strings.Join(rcv.names(), ","); got != want {
		t.Fatalf("events: %s", got)
	}
	up := rcv.events[2].Call
	if len(up.TranscriptObject) != 2 || !strings.HasPrefix(up.Transcript, "Agent: Hi") || len(up.TranscriptWithToolCalls) == 0 || up.CallStatus != "ongoing" {
		t.Errorf("second transcript_updated: %+v", up)
	}
	tr := rcv.events[6].Call
	if tr.TransferDestination != "+14155559999" || !strings.Contains(string(tr.TransferOption), "cold_transfer") {
		t.Errorf("transfer_started: %+v", tr)
	}
	end := rcv.events[9].Call
	if end.DisconnectionReason != retell.ReasonCallTransfer || end.TransferDestination != "+14155559999" || end.TransferEndTimestamp == 0 {
		t.Errorf("call_ended after a transfer: %+v", end)
	}
	rcv.mu.Lock()
	rcv.events = nil
	rcv.mu.Unlock()
	if _, err := sim.PlayCall(ctx, retellsim.CallScript{FromNumber: "+14155550001", ToNumber: "+14157774444",
		TransferTo: "+14155559999", TransferCancelled: true}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rcv.names(), ","); got != "call_started,transfer_started,transfer_cancelled,call_ended,call_analyzed" {
		t.Fatalf("cancelled transfer: %s", got)
	}
	if end := rcv.events[3].Call; end.DisconnectionReason != retell.ReasonUserHangup || end.TransferDestination != "" {
		t.Errorf("call_ended after a cancelled transfer: %+v", end)
	}
}

// TestReceiveCall: a call to one of the account's numbers is answered by its inbound agent,
// or by the agent its inbound webhook names (with variables and metadata); a number not in
// the account, or over the concurrency limit, is not answered.
func TestReceiveCall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, _ := start(t)
	front := sim.AddAgent(retell.Agent{AgentName: "Front desk"})
	night := sim.AddAgent(retell.Agent{AgentName: "Night"})
	sim.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: "+14157774444", InboundAgents: []retell.AgentWeight{{AgentID: front.AgentID, Weight: 1}}})
	rcv := webhook(t, sim)
	id, err := sim.ReceiveCall(ctx, retellsim.CallScript{FromNumber: "+14155550001", ToNumber: "+14157774444"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rcv.names(), ","); got != "call_started,call_ended,call_analyzed" {
		t.Fatalf("events: %s", got)
	}
	c := rcv.events[2].Call
	if c.CallID != id || c.Direction != "inbound" || c.FromNumber != "+14155550001" || c.ToNumber != "+14157774444" || c.AgentID != front.AgentID {
		t.Errorf("inbound call: %+v", c)
	}
	if _, err := sim.ReceiveCall(ctx, retellsim.CallScript{FromNumber: "+14155550001", ToNumber: "+14150000000"}); err == nil {
		t.Error("a call to a number not in the account was played")
	}
	// The number's inbound webhook picks the agent; its request is signed.
	var asked []byte
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked, _ = io.ReadAll(r.Body)
		if retell.Verify(asked, r.Header.Get(retell.SignatureHeader), key, time.Now()) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"call_inbound": map[string]any{"override_agent_id": night.AgentID,
			"dynamic_variables": map[string]string{"shift": "night"}, "metadata": map[string]any{"contact_id": 7}}})
	}))
	defer hook.Close()
	sim.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: "+14157775555", InboundWebhookURL: hook.URL,
		InboundAgents: []retell.AgentWeight{{AgentID: front.AgentID, Weight: 1}}})
	if _, err := sim.ReceiveCall(ctx, retellsim.CallScript{FromNumber: "+14155550002", ToNumber: "+14157775555"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(asked), `"event":"call_inbound"`) || !strings.Contains(string(asked), `"from_number":"+14155550002"`) {
		t.Errorf("inbound webhook asked %s", asked)
	}
	c = rcv.events[len(rcv.events)-1].Call
	if c.AgentID != night.AgentID || c.DynamicVariables["shift"] != "night" || string(c.Metadata) != `{"contact_id":7}` {
		t.Errorf("the inbound webhook's answer was not taken: %+v", c)
	}
	// Over the concurrency limit: not connected.
	sim.SetConcurrencyLimit(1)
	sim.AddCall(retell.Call{CallStatus: retell.StatusOngoing, Direction: "outbound"})
	if _, err := sim.ReceiveCall(ctx, retellsim.CallScript{FromNumber: "+14155550003", ToNumber: "+14157774444"}); err != nil {
		t.Fatal(err)
	}
	c = rcv.events[len(rcv.events)-1].Call
	if c.CallStatus != retell.StatusNotConnected || c.DisconnectionReason != retell.ReasonConcurrencyLimit {
		t.Errorf("over the limit: %+v", c)
	}
}

// TestLoweringConcurrencyEndsRunningCalls: when the account's concurrency drops under the
// calls running, the newest are ended at once with concurrency_limit_reached (a call being
// played, mid-call; a registered one, not connected), the oldest goes on.
func TestLoweringConcurrencyEndsRunningCalls(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sim, c := start(t)
	ag := sim.AddAgent(retell.Agent{AgentName: "Sales"})
	sim.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: "+14157774444", OutboundAgents: []retell.AgentWeight{{AgentID: ag.AgentID, Weight: 1}}})
	rcv := webhook(t, sim)
	var ids []string
	done := make(chan error, 2)
	for i, to := range []string{"+14155550001", "+14155550002"} {
		call, err := c.CreatePhoneCall(ctx, retell.CreatePhoneCall{FromNumber: "+14157774444", ToNumber: to})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, call.CallID)
		go func() {
			_, err := sim.PlayCall(ctx, retellsim.CallScript{CallID: call.CallID, Gap: time.Minute})
			done <- err
		}()
		// Each call is ongoing (its call_started delivered) before the next.
		for deadline := time.Now().Add(5 * time.Second); len(rcv.names()) < i+1; {
			if time.Now().After(deadline) {
				t.Fatal("the call did not start")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	registered, err := c.CreatePhoneCall(ctx, retell.CreatePhoneCall{FromNumber: "+14157774444", ToNumber: "+14155550003"})
	if err != nil {
		t.Fatal(err)
	}
	sim.SetConcurrencyLimit(1)
	if err := <-done; err != nil { // the second call, cut short
		t.Fatal(err)
	}
	if err := sim.WaitDeliveries(ctx, 2+4); err != nil {
		t.Fatal(err)
	}
	ended := map[string]retell.Call{}
	rcv.mu.Lock()
	for _, e := range rcv.events {
		if e.Event == retell.EventCallAnalyzed {
			ended[e.Call.CallID] = e.Call
		}
	}
	rcv.mu.Unlock()
	if _, ok := ended[ids[0]]; ok || len(ended) != 2 {
		t.Fatalf("ended %v; the oldest call must go on", ended)
	}
	if e := ended[ids[1]]; e.CallStatus != retell.StatusEnded || e.DisconnectionReason != retell.ReasonConcurrencyLimit || e.DurationMS < 0 {
		t.Errorf("the call cut mid-call: %+v", e)
	}
	if e := ended[registered.CallID]; e.CallStatus != retell.StatusNotConnected || e.DisconnectionReason != retell.ReasonConcurrencyLimit {
		t.Errorf("the registered call: %+v", e)
	}
	if got, _ := c.GetCall(ctx, ids[0]); got.CallStatus != retell.StatusOngoing {
		t.Errorf("the oldest call: %s", got.CallStatus)
	}
}
