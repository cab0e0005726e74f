package retellsim

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"masteria/app/voice/retell"
)

// Kinds of call a script plays.
const (
	KindConnected = "connected" // answered by a person: started, ended, analyzed
	KindVoicemail = "voicemail" // answered by voicemail: started, ended (voicemail_reached), analyzed
	KindNoAnswer  = "no_answer" // never connected: no call_started; ended (dial_no_answer), analyzed
	KindBusy      = "busy"      // never connected: dial_busy
)

// CallScript is a call for PlayCall to play. Zero fields get sensible values.
type CallScript struct {
	// CallID of a call created through create-phone-call, whose numbers, agent, metadata and
	// variables are kept; blank plays a new call (inbound unless Direction says otherwise).
	CallID     string
	Kind       string // KindConnected (default), KindVoicemail, KindNoAnswer, KindBusy
	Direction  string
	FromNumber string
	ToNumber   string
	AgentID    string
	Metadata   json.RawMessage
	Variables  map[string]string

	Transcript     []retell.Utterance // default: a short sales call
	Duration       time.Duration      // default 42 s for a connected call, 18 s for voicemail
	Reason         string             // disconnection_reason; default by Kind
	Summary        string
	Sentiment      string // default Positive for a connected call
	Successful     *bool
	CustomAnalysis json.RawMessage // default {"interested": true}
	CostCents      float64         // default 12.5 per connected minute

	// Events an agent's webhook_events can add to a connected call.
	TranscriptUpdates bool   // a transcript_updated after each turn, the transcript so far
	TransferTo        string // the agent transfers the call there: transfer_started, then
	// transfer_bridged and transfer_ended (the call ends with call_transfer), or
	// transfer_cancelled when TransferCancelled (the call goes on and ends as it would).
	TransferCancelled bool

	// Delivery faults.
	Order        []string      // the events in the order sent, e.g. ended before started
	Twice        bool          // every event delivered twice
	BadSignature bool          // signed with another key
	SignedAt     time.Duration // added to now for the signature's timestamp (e.g. -6 min)
	WebhookURL   string        // instead of SetWebhook's
	Gap          time.Duration // wait between events
}

// ErrUndelivered is a PlayCall whose events did not all get a 2xx answer.
var ErrUndelivered = errors.New("retellsim: webhook not delivered")

func boolp(b bool) *bool { return &b }

var defaultTranscript = []retell.Utterance{
	{Role: "agent", Content: "Hi, this is Ana from Master IA. Is this a good time to talk?"},
	{Role: "user", Content: "Yes, go ahead."},
	{Role: "agent", Content: "You asked about our plans last week. Would you like a demo on Thursday?"},
	{Role: "user", Content: "Thursday at ten works for me."},
	{Role: "agent", Content: "Great, I booked it. Thank you!"},
}

// words times each word of the transcript across the call (seconds).
func words(ts []retell.Utterance, dur time.Duration) []retell.Utterance {
	n := 0
	for _, u := range ts {
		n += len(strings.Fields(u.Content))
	}
	if n == 0 {
		return ts
	}
	step := dur.Seconds() / float64(n)
	out := make([]retell.Utterance, len(ts))
	t := 0.0
	for i, u := range ts {
		out[i] = retell.Utterance{Role: u.Role, Content: u.Content}
		for _, w := range strings.Fields(u.Content) {
			out[i].Words = append(out[i].Words, retell.Word{Word: w, Start: math.Round(t*1000) / 1000, End: math.Round((t+step*0.9)*1000) / 1000})
			t += step
		}
	}
	return out
}

func transcriptText(ts []retell.Utterance) string {
	var b strings.Builder
	for _, u := range ts {
		role := "Agent"
		if u.Role == "user" {
			role = "User"
		}
		fmt.Fprintf(&b, "%s: %s\n", role, u.Content)
	}
	return b.String()
}

// finalCall fills the call a script ends with, from base (the registered call, if any).
// The caller holds s.mu.
func (s *Server) finalCall(sc CallScript, base retell.Call, now time.Time) retell.Call {
	c := base
	if c.CallID == "" {
		c.CallID = NewID("call_")
	}
	c.CallType, c.AgentVersion = "phone_call", max(c.AgentVersion, 1)
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&c.Direction, sc.Direction)
	if c.Direction == "" {
		c.Direction = "inbound"
	}
	set(&c.FromNumber, sc.FromNumber)
	set(&c.ToNumber, sc.ToNumber)
	set(&c.AgentID, sc.AgentID)
	if c.AgentID == "" && len(s.agents) > 0 {
		c.AgentID = s.agents[0].AgentID
	}
	c.AgentName = s.agentName(c.AgentID)
	if len(sc.Metadata) > 0 {
		c.Metadata = sc.Metadata
	}
	if sc.Variables != nil {
		c.DynamicVariables = sc.Variables
	}
	kind := sc.Kind
	if kind == "" {
		kind = KindConnected
	}
	connected := kind == KindConnected || kind == KindVoicemail
	dur := sc.Duration
	if dur == 0 {
		dur = map[string]time.Duration{KindConnected: 42 * time.Second, KindVoicemail: 18 * time.Second}[kind]
	}
	reason := sc.Reason
	if reason == "" {
		reason = map[string]string{KindConnected: retell.ReasonUserHangup, KindVoicemail: retell.ReasonVoicemail,
			KindNoAnswer: retell.ReasonDialNoAnswer, KindBusy: retell.ReasonDialBusy}[kind]
	}
	if sc.TransferTo != "" && kind == KindConnected && !sc.TransferCancelled {
		if sc.Reason == "" {
			reason = retell.ReasonCallTransfer
		}
		c.TransferDestination = sc.TransferTo
		c.TransferEndTimestamp = now.Add(3 * time.Minute).UnixMilli()
	}
	c.DisconnectionReason = reason
	c.StartTimestamp = now.Add(-dur).UnixMilli()
	c.EndTimestamp = now.UnixMilli()
	c.DurationMS = dur.Milliseconds()
	c.TelephonyIdentifier = &retell.TelephonyIdentifier{TwilioCallSID: "CA" + strings.ToLower(NewID(""))}
	an := &retell.CallAnalysis{InVoicemail: boolp(kind == KindVoicemail), CallSuccessful: Successful(sc), CustomAnalysisData: sc.CustomAnalysis}
	if connected {
		c.CallStatus = retell.StatusEnded
		ts := sc.Transcript
		if ts == nil && kind == KindConnected {
			ts = defaultTranscript
		}
		if kind == KindVoicemail && ts == nil {
			ts = []retell.Utterance{{Role: "user", Content: "You have reached the voicemail of this number. Please leave a message after the tone."},
				{Role: "agent", Content: "Hi, this is Ana from Master IA. I will call you back later. Thank you!"}}
		}
		c.TranscriptObject = words(ts, dur)
		c.Transcript = transcriptText(ts)
		c.RecordingURL = s.baseURL + "/recordings/" + c.CallID + ".wav"
		c.PublicLogURL = s.baseURL + "/logs/" + c.CallID + ".txt"
		an.CallSummary = sc.Summary
		if an.CallSummary == "" {
			an.CallSummary = map[string]string{KindConnected: "The customer agreed to a demo on Thursday at ten.",
				KindVoicemail: "The call reached voicemail; the agent left a message."}[kind]
		}
		an.UserSentiment = sc.Sentiment
		if an.UserSentiment == "" {
			an.UserSentiment = map[string]string{KindConnected: "Positive", KindVoicemail: "Unknown"}[kind]
		}
	} else {
		c.CallStatus = retell.StatusNotConnected
		c.StartTimestamp, c.DurationMS = 0, 0
		an.CallSummary, an.UserSentiment = "The call was not answered.", "Unknown"
	}
	if an.CustomAnalysisData == nil {
		an.CustomAnalysisData = json.RawMessage(fmt.Sprintf(`{"interested":%v}`, kind == KindConnected))
	}
	c.CallAnalysis = an
	cost := sc.CostCents
	if cost == 0 && connected {
		cost = math.Round(dur.Minutes()*12.5*100) / 100
	}
	c.CallCost = &retell.CallCost{CombinedCost: cost, TotalDurationSeconds: dur.Seconds(),
		ProductCosts: []retell.ProductCost{{Product: "retell_platform", Cost: cost}}}
	return c
}

// Successful is the script's success, or by default true for a connected call.
func Successful(sc CallScript) *bool {
	if sc.Successful != nil {
		return sc.Successful
	}
	return boolp(sc.Kind == "" || sc.Kind == KindConnected)
}

// Events returns the events a script's call sends, in order: call_started (connected calls
// only, the call ongoing), call_ended (no call_analysis), call_analyzed (everything).
func Events(final retell.Call) []retell.Event {
	var out []retell.Event
	if final.CallStatus != retell.StatusNotConnected && final.CallStatus != retell.StatusError {
		st := retell.Call{CallID: final.CallID, CallType: final.CallType, AgentID: final.AgentID, AgentVersion: final.AgentVersion,
			AgentName: final.AgentName, CallStatus: retell.StatusOngoing, Direction: final.Direction, FromNumber: final.FromNumber,
			ToNumber: final.ToNumber, StartTimestamp: final.StartTimestamp, Metadata: final.Metadata, DynamicVariables: final.DynamicVariables,
			TelephonyIdentifier: final.TelephonyIdentifier}
		out = append(out, retell.Event{Event: retell.EventCallStarted, Call: st})
	}
	ended := final
	ended.CallAnalysis = nil
	out = append(out, retell.Event{Event: retell.EventCallEnded, Call: ended}, retell.Event{Event: retell.EventCallAnalyzed, Call: final})
	return out
}

// eventsOf is Events(final) with the events sc adds while the call is on: a
// transcript_updated per turn, and a transfer's events.
func eventsOf(final retell.Call, sc CallScript) []retell.Event {
	evs := Events(final)
	if len(evs) < 3 || evs[0].Event != retell.EventCallStarted {
		return evs // not connected: nothing happened during the call
	}
	var during []retell.Event
	if sc.TranscriptUpdates {
		for i := range final.TranscriptObject {
			c := evs[0].Call
			c.TranscriptObject = final.TranscriptObject[:i+1]
			c.Transcript = transcriptText(final.TranscriptObject[:i+1])
			c.TranscriptWithToolCalls, _ = json.Marshal(final.TranscriptObject[:i+1])
			during = append(during, retell.Event{Event: retell.EventTranscriptUpdated, Call: c})
		}
	}
	if sc.TransferTo != "" {
		c := evs[0].Call
		c.TransferDestination = sc.TransferTo
		c.TransferOption = json.RawMessage(`{"type":"cold_transfer","show_transferee_as_caller":false}`)
		during = append(during, retell.Event{Event: retell.EventTransferStarted, Call: c})
		if sc.TransferCancelled {
			during = append(during, retell.Event{Event: retell.EventTransferCancelled, Call: c})
		} else {
			during = append(during, retell.Event{Event: retell.EventTransferBridged, Call: c})
			end := c
			end.TransferEndTimestamp = final.TransferEndTimestamp
			during = append(during, retell.Event{Event: retell.EventTransferEnded, Call: end})
		}
	}
	return append(append([]retell.Event{evs[0]}, during...), evs[1:]...)
}

// cutShort is what is left to send of a call its player was told to end now (the account's
// concurrency went under the calls running): call_ended and call_analyzed, the call ended
// (not_connected when it had not started) with concurrency_limit_reached.
func cutShort(final retell.Call, started bool, now time.Time) []retell.Event {
	c := final
	c.DisconnectionReason = retell.ReasonConcurrencyLimit
	c.EndTimestamp = now.UnixMilli()
	c.TransferDestination, c.TransferEndTimestamp = "", 0
	if started && c.StartTimestamp > 0 {
		c.CallStatus = retell.StatusEnded
		if c.StartTimestamp > c.EndTimestamp {
			c.StartTimestamp = c.EndTimestamp
		}
		c.DurationMS = c.EndTimestamp - c.StartTimestamp
	} else {
		c.CallStatus = retell.StatusNotConnected
		c.StartTimestamp, c.DurationMS = 0, 0
		c.Transcript, c.TranscriptObject, c.RecordingURL = "", nil, ""
	}
	if c.CallAnalysis != nil {
		an := *c.CallAnalysis
		an.CallSummary, an.CallSuccessful = "The call was ended: the account's concurrency limit was reached.", boolp(false)
		c.CallAnalysis = &an
	}
	ended := c
	ended.CallAnalysis = nil
	return []retell.Event{{Event: retell.EventCallEnded, Call: ended}, {Event: retell.EventCallAnalyzed, Call: c}}
}

// PlayCall plays a call's events to the webhook, each signed and retried, and returns the
// call id. The sim's own call moves along with the events. The error is ErrUndelivered when
// some event never got a 2xx (the others were still sent), or ctx's.
func (s *Server) PlayCall(ctx context.Context, sc CallScript) (string, error) {
	s.mu.Lock()
	var base retell.Call
	if sc.CallID != "" {
		c, ok := s.calls[sc.CallID]
		if !ok {
			s.mu.Unlock()
			return "", fmt.Errorf("retellsim: no call %s", sc.CallID)
		}
		base = *c
	}
	final := s.finalCall(sc, base, s.now())
	if _, ok := s.calls[final.CallID]; !ok {
		s.callOrder = append(s.callOrder, final.CallID)
	}
	url := sc.WebhookURL
	if url == "" {
		url = s.webhook
	}
	key := ""
	if len(s.keys) > 0 {
		key = s.keys[0]
	}
	s.mu.Unlock()
	if url == "" {
		return final.CallID, errors.New("retellsim: no webhook URL")
	}
	if sc.BadSignature {
		key = "not-" + key
	}
	events := eventsOf(final, sc)
	if len(sc.Order) > 0 {
		var ordered []retell.Event
		for _, name := range sc.Order {
			for _, e := range events {
				if e.Event == name {
					ordered = append(ordered, e)
				}
			}
		}
		events = ordered
	}
	// SetConcurrencyLimit closes cut to end this call now.
	cut := make(chan struct{})
	s.mu.Lock()
	s.playing[final.CallID] = cut
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.playing[final.CallID] == cut {
			delete(s.playing, final.CallID)
		}
		s.mu.Unlock()
	}()
	var failed []string
	started := false
	for i := 0; i < len(events); i++ {
		ev := events[i]
		if i > 0 && sc.Gap > 0 && cut != nil {
			select {
			case <-time.After(sc.Gap):
			case <-cut:
				events, i = cutShort(final, started, s.now()), -1
				cut = nil // cut once, and what is left goes at once
				continue
			case <-ctx.Done():
				return final.CallID, ctx.Err()
			}
		}
		started = started || ev.Event == retell.EventCallStarted
		if ranked(ev.Event) {
			s.apply(ev)
		}
		times := 1
		if sc.Twice {
			times = 2
		}
		for range times {
			ok, err := s.deliver(ctx, url, key, sc.SignedAt, ev)
			if err != nil {
				return final.CallID, err
			}
			if !ok {
				failed = append(failed, ev.Event)
			}
		}
	}
	if len(failed) > 0 {
		return final.CallID, fmt.Errorf("%w: %s", ErrUndelivered, strings.Join(failed, ", "))
	}
	return final.CallID, nil
}

// ranked says whether an event moves the call along (the others happen during it).
func ranked(event string) bool {
	return event == retell.EventCallStarted || event == retell.EventCallEnded || event == retell.EventCallAnalyzed
}

// apply moves the sim's own call to what an event says.
func (s *Server) apply(ev retell.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := ev.Call
	if old, ok := s.calls[c.CallID]; ok && ev.Event == retell.EventCallStarted && old.CallStatus != retell.StatusRegistered {
		return
	}
	s.calls[c.CallID] = &c
	s.changes.Notify()
}

// deliver posts one event, retrying up to 3 times; ok is whether some attempt got a 2xx.
func (s *Server) deliver(ctx context.Context, url, key string, skew time.Duration, ev retell.Event) (bool, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return false, fmt.Errorf("retellsim: encode event: %w", err)
	}
	for attempt := 1; attempt <= 4; attempt++ {
		if attempt > 1 {
			select {
			case <-time.After(s.retryDelay):
			case <-ctx.Done():
				return false, ctx.Err()
			}
		}
		sig := retell.Sign(body, key, s.now().Add(skew))
		d := Delivery{URL: url, Event: ev.Event, CallID: ev.Call.CallID, Body: body, Signature: sig, Attempt: attempt}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return false, fmt.Errorf("retellsim: webhook request: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "Retell-Webhook/1.0")
		req.Header.Set(retell.SignatureHeader, sig)
		resp, err := s.client.Do(req)
		if err != nil {
			d.Err = err
		} else {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			d.Status = resp.StatusCode
		}
		s.mu.Lock()
		s.deliveries = append(s.deliveries, d)
		s.changes.Notify()
		s.mu.Unlock()
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if d.Status >= 200 && d.Status < 300 {
			return true, nil
		}
	}
	return false, nil
}

// handleRecording serves a short mono 8 kHz WAV (a 440 Hz tone) for a played call.
func (s *Server) handleRecording(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("file"), ".wav")
	s.mu.Lock()
	c, found := s.calls[id]
	ok = ok && found && c.RecordingURL != ""
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	_, _ = w.Write(Tone(time.Second))
}

// Tone returns a WAV file of d of a 440 Hz tone, 8 kHz, 16-bit mono.
func Tone(d time.Duration) []byte {
	const rate = 8000
	n := int(d.Seconds() * rate)
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	_ = binary.Write(&b, le, uint32(36+n*2))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(rate * 2), uint16(2), uint16(16)} {
		_ = binary.Write(&b, le, v)
	}
	b.WriteString("data")
	_ = binary.Write(&b, le, uint32(n*2))
	for i := range n {
		_ = binary.Write(&b, le, int16(8000*math.Sin(2*math.Pi*440*float64(i)/rate)))
	}
	return b.Bytes()
}
