package calls_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/store/storetest"
	"masteria/app/vault"
	"masteria/app/voice"
	"masteria/app/voice/calls"
	"masteria/app/voice/retell"
)

// env is two orgs, each with a Retell account, and the calls service over one database.
type env struct {
	t        *testing.T
	ctx      context.Context
	st       *store.Store
	url      string // the database's
	svc      *calls.Service
	ring     *vault.Ring
	accounts *voice.Service
	a, b     org
	now      time.Time
}

type org struct {
	id, account int64
	key         string
	channel     int64
}

func setup(t *testing.T) *env {
	t.Helper()
	st, url := storetest.New(t)
	k, _ := vault.GenerateKey()
	ring, err := vault.ParseKeyRing(k)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: context.Background(), st: st, url: url, ring: ring, now: time.Now()}
	e.accounts = voice.New(st, ring, "http://127.0.0.1:1")
	e.svc = calls.New(st, calls.Options{
		WebhookKey: e.accounts.WebhookKey,
		Now:        func() time.Time { return e.now },
	})
	e.a = e.newOrg("Clínica Sorriso", "key_a_0123456789")
	e.b = e.newOrg("Oficina Vizinha", "key_b_9876543210")
	return e
}

func (e *env) newOrg(name, key string) org {
	e.t.Helper()
	o, err := e.st.CreateOrg(e.ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	out := org{id: o.ID, key: key}
	acc, err := e.accounts.Connect(e.ctx, model.Actor{OrgID: o.ID, Role: model.RoleOwner}, key)
	if err != nil {
		e.t.Fatal(err)
	}
	out.account = acc.ID
	ch, err := e.st.CreateChannel(e.ctx, model.Channel{OrgID: o.ID, Kind: model.KindSandbox, Name: "Sandbox", Rate: 10})
	if err != nil {
		e.t.Fatal(err)
	}
	out.channel = ch.ID
	return out
}

// body is a webhook body of event for a call.
func body(t *testing.T, event string, call map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"event": event, "call": call})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// send signs b with o's key at the env's clock and ingests it.
func (e *env) send(o org, b []byte) (calls.Result, error) {
	return e.svc.Ingest(e.ctx, o.account, retell.Sign(b, o.key, e.now), b)
}

func (e *env) mustSend(o org, b []byte) calls.Result {
	e.t.Helper()
	r, err := e.send(o, b)
	if err != nil {
		e.t.Fatalf("ingest: %v", err)
	}
	return r
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.st.DB().Get(&n, q, args...); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// inboundCall is the call object of an inbound call at each event.
func inboundCall(id, from string, event string) map[string]any {
	c := map[string]any{"call_id": id, "call_type": "phone_call", "agent_id": "agent_recepcao", "agent_name": "Recepção",
		"agent_version": 1, "direction": "inbound", "from_number": from, "to_number": "+551130001000",
		"start_timestamp": int64(1765000000000)}
	switch event {
	case "call_started":
		c["call_status"] = "ongoing"
	case "call_ended", "call_analyzed":
		c["call_status"] = "ended"
		c["end_timestamp"] = int64(1765000095000)
		c["duration_ms"] = 95000
		c["disconnection_reason"] = "user_hangup"
		c["transcript"] = "Agent: Clínica Sorriso, bom dia.\nUser: Quero marcar uma limpeza."
		c["transcript_object"] = []map[string]any{{"role": "agent", "content": "Clínica Sorriso, bom dia."},
			{"role": "user", "content": "Quero marcar uma limpeza.", "words": []map[string]any{{"word": "Quero", "start": 1.2, "end": 1.5}}}}
		c["call_cost"] = map[string]any{"combined_cost": 12.5}
	}
	if event == "call_analyzed" {
		c["call_analysis"] = map[string]any{"call_summary": "Paciente quer marcar limpeza.", "user_sentiment": "Positive",
			"call_successful": true, "in_voicemail": false, "custom_analysis_data": map[string]any{"procedimento": "limpeza"}}
	}
	return c
}

func TestIngestValidSignatureCreatesCallAndContact(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.mustSend(e.a, body(t, "call_started", inboundCall("call_in_1", "+5511988887777", "call_started")))
	if r.Duplicate || r.Ignored || r.Call.ID == 0 {
		t.Fatalf("result %+v", r)
	}
	c := r.Call
	if c.Status != model.CallOngoing || c.Direction != "inbound" || c.EventRank != 1 || c.StartedAt == nil {
		t.Errorf("call after call_started: %+v", c)
	}
	if c.ContactID == nil {
		t.Fatal("an inbound caller got no contact")
	}
	id, err := e.st.ContactIDByPhone(e.ctx, e.a.id, "+5511988887777")
	if err != nil || id != *c.ContactID {
		t.Errorf("contact by phone %d, %v; the call's %d", id, err, *c.ContactID)
	}
	if n := e.count(`SELECT count(*) FROM events WHERE org_id = $1 AND type = 'call.started'`, e.a.id); n != 1 {
		t.Errorf("%d call.started events", n)
	}
	if n := e.count(`SELECT count(*) FROM contact_events WHERE org_id = $1 AND kind = 'created' AND data->>'source' = 'call'`, e.a.id); n != 1 {
		t.Errorf("%d contact created lines", n)
	}
	// A second call of the same caller finds the same contact.
	r2 := e.mustSend(e.a, body(t, "call_started", inboundCall("call_in_2", "+5511988887777", "call_started")))
	if r2.Call.ContactID == nil || *r2.Call.ContactID != *c.ContactID {
		t.Errorf("second call's contact %v, want %d", r2.Call.ContactID, *c.ContactID)
	}
	if n := e.count(`SELECT count(*) FROM contacts WHERE org_id = $1`, e.a.id); n != 1 {
		t.Errorf("%d contacts", n)
	}
}

func TestIngestRefusesBadSignatures(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := body(t, "call_started", inboundCall("call_sig", "+5511977776666", "call_started"))
	tampered := append([]byte{}, b...)
	tampered[len(tampered)-3] ^= 1
	cases := []struct {
		name   string
		header string
		body   []byte
	}{
		{"tampered body", retell.Sign(b, e.a.key, e.now), tampered},
		{"five minutes and a millisecond old", retell.Sign(b, e.a.key, e.now.Add(-5*time.Minute-time.Millisecond)), b},
		{"from the future", retell.Sign(b, e.a.key, e.now.Add(5*time.Minute+time.Millisecond)), b},
		{"another org's key", retell.Sign(b, e.b.key, e.now), b},
		{"no header", "", b},
		{"malformed header", "v=1,d=zz", b},
	}
	for _, tc := range cases {
		_, err := e.svc.Ingest(e.ctx, e.a.account, tc.header, tc.body)
		if !errors.Is(err, calls.ErrSignature) {
			t.Errorf("%s: %v, want ErrSignature", tc.name, err)
		}
	}
	// Just inside the tolerance is taken.
	if _, err := e.svc.Ingest(e.ctx, e.a.account, retell.Sign(b, e.a.key, e.now.Add(-5*time.Minute)), b); err != nil {
		t.Errorf("a signature exactly five minutes old: %v", err)
	}
	if _, err := e.svc.Ingest(e.ctx, 1<<40, retell.Sign(b, e.a.key, e.now), b); !errors.Is(err, calls.ErrUnknownAccount) {
		t.Errorf("unknown account: %v", err)
	}
	notJSON := []byte(`{"event": "call_started", "call": [`)
	if _, err := e.send(e.a, notJSON); !errors.Is(err, calls.ErrBadEvent) {
		t.Errorf("not JSON: %v", err)
	}
	noID := body(t, "call_ended", map[string]any{"call_status": "ended"})
	if _, err := e.send(e.a, noID); !errors.Is(err, calls.ErrBadEvent) {
		t.Errorf("no call id: %v", err)
	}
	if n := e.count(`SELECT count(*) FROM calls`); n != 1 {
		t.Errorf("%d calls stored, want the one well signed", n)
	}
}

// TestIngestOutOfOrder: the events come analyzed, ended, started; the row ends as the
// last event left it, and the late ones only fill what was missing.
func TestIngestOutOfOrder(t *testing.T) {
	t.Parallel()
	e := setup(t)
	analyzed := inboundCall("call_ooo", "+5511966665555", "call_analyzed")
	delete(analyzed, "start_timestamp")
	e.mustSend(e.a, body(t, "call_analyzed", analyzed))
	ended := inboundCall("call_ooo", "+5511966665555", "call_ended")
	ended["disconnection_reason"] = "agent_hangup" // an older value: must not win
	ended["recording_url"] = "https://retell.example/rec.wav"
	e.mustSend(e.a, body(t, "call_ended", ended))
	r := e.mustSend(e.a, body(t, "call_started", inboundCall("call_ooo", "+5511966665555", "call_started")))
	c := r.Call
	if c.Status != model.CallEnded || c.EventRank != 3 {
		t.Errorf("status %s rank %d, want ended 3", c.Status, c.EventRank)
	}
	if c.DisconnectionReason != "user_hangup" {
		t.Errorf("reason %q: a late event went back", c.DisconnectionReason)
	}
	if c.StartedAt == nil || c.StartedAt.UnixMilli() != 1765000000000 {
		t.Errorf("started_at %v not filled by the late call_started", c.StartedAt)
	}
	if c.RecordingURL != "https://retell.example/rec.wav" {
		t.Errorf("recording %q not filled by the late call_ended", c.RecordingURL)
	}
	if c.Summary != "Paciente quer marcar limpeza." || c.Sentiment != "Positive" || c.Successful == nil || !*c.Successful {
		t.Errorf("analysis lost: %q %q %v", c.Summary, c.Sentiment, c.Successful)
	}
	if c.DurationMS != 95000 || c.CostCents != 12.5 {
		t.Errorf("duration %d cost %v", c.DurationMS, c.CostCents)
	}
	turns := calls.Turns(c)
	if len(turns) != 2 || turns[1].Role != "user" || turns[1].Content != "Quero marcar uma limpeza." {
		t.Errorf("turns %+v", turns)
	}
	var custom map[string]string
	_ = json.Unmarshal(c.CustomAnalysis, &custom)
	if custom["procedimento"] != "limpeza" {
		t.Errorf("custom analysis %s", c.CustomAnalysis)
	}
	for ev, want := range map[string]int{"call.started": 1, "call.ended": 1, "call.analyzed": 1} {
		if n := e.count(`SELECT count(*) FROM events WHERE org_id = $1 AND type = $2`, e.a.id, ev); n != want {
			t.Errorf("%d %s events", n, ev)
		}
	}
}

func TestIngestDuplicates(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := body(t, "call_ended", inboundCall("call_dup", "+5511955554444", "call_ended"))
	first := e.mustSend(e.a, b)
	if first.Duplicate {
		t.Fatal("the first delivery is a duplicate")
	}
	e.now = e.now.Add(time.Second) // Retell signs each retry anew
	again := e.mustSend(e.a, b)
	if !again.Duplicate {
		t.Error("the retry was not recognised")
	}
	if n := e.count(`SELECT count(*) FROM call_events WHERE org_id = $1 AND call_id = 'call_dup'`, e.a.id); n != 1 {
		t.Errorf("%d call_events rows", n)
	}
	if n := e.count(`SELECT count(*) FROM events WHERE org_id = $1 AND type = 'call.ended'`, e.a.id); n != 1 {
		t.Errorf("%d call.ended events", n)
	}
	// The same Retell call id in another org is another call.
	if r := e.mustSend(e.b, b); r.Duplicate || r.Call.OrgID != e.b.id {
		t.Errorf("other org's call: %+v", r)
	}
}

// TestIngestConcurrentDeliveries: every event of an unknown caller's call arrives three
// times at once; one call, one contact, one row per event.
func TestIngestConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var wg sync.WaitGroup
	errs := make(chan error, 9)
	for _, ev := range []string{"call_started", "call_ended", "call_analyzed"} {
		b := body(t, ev, inboundCall("call_race", "+5511944443333", ev))
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.send(e.a, b); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := e.count(`SELECT count(*) FROM calls WHERE org_id = $1`, e.a.id); n != 1 {
		t.Errorf("%d calls", n)
	}
	if n := e.count(`SELECT count(*) FROM contacts WHERE org_id = $1`, e.a.id); n != 1 {
		t.Errorf("%d contacts", n)
	}
	if n := e.count(`SELECT count(*) FROM call_events WHERE org_id = $1`, e.a.id); n != 3 {
		t.Errorf("%d call events", n)
	}
	if n := e.count(`SELECT count(*) FROM calls WHERE org_id = $1 AND status = 'ended' AND event_rank = 3 AND summary <> ''`, e.a.id); n != 1 {
		t.Error("the call did not end analysed")
	}
}

// TestIngestOutboundMetadata: an outbound call is tied back to the contact, conversation
// and lead of its metadata when they are the org's; another org's ids are ignored.
func TestIngestOutboundMetadata(t *testing.T) {
	t.Parallel()
	e := setup(t)
	mine, err := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.id, Phone: ptr("+5511933332222")})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := e.st.OpenConversation(e.ctx, e.a.id, e.a.channel, mine)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.b.id, Phone: ptr("+5511922221111")})
	if err != nil {
		t.Fatal(err)
	}
	theirConv, err := e.st.OpenConversation(e.ctx, e.b.id, e.b.channel, theirs)
	if err != nil {
		t.Fatal(err)
	}
	out := func(id, to string, meta map[string]any) map[string]any {
		return map[string]any{"call_id": id, "call_type": "phone_call", "agent_id": "agent_vendas", "direction": "outbound",
			"call_status": "ongoing", "from_number": "+551130001000", "to_number": to, "metadata": meta}
	}
	r := e.mustSend(e.a, body(t, "call_started", out("call_out_1", "+5511933332222",
		map[string]any{"contact_id": fmt.Sprint(mine), "conversation_id": conv})))
	if r.Call.ContactID == nil || *r.Call.ContactID != mine || r.Call.ConversationID == nil || *r.Call.ConversationID != conv {
		t.Errorf("own metadata: contact %v conversation %v", r.Call.ContactID, r.Call.ConversationID)
	}
	// Another org's ids (and a lead that is not the org's) are dropped; the number the call
	// went to is another org's contact, so the call has none.
	r = e.mustSend(e.a, body(t, "call_started", out("call_out_2", "+5511922221111",
		map[string]any{"contact_id": theirs, "conversation_id": theirConv, "lead_id": 999999})))
	if r.Call.ContactID != nil || r.Call.ConversationID != nil || r.Call.LeadID != nil {
		t.Errorf("foreign metadata kept: contact %v conversation %v lead %v", r.Call.ContactID, r.Call.ConversationID, r.Call.LeadID)
	}
	if n := e.count(`SELECT count(*) FROM contacts WHERE org_id = $1`, e.a.id); n != 1 {
		t.Errorf("an outbound call created a contact: %d", n)
	}
	// Without metadata, the number called finds the org's contact and its conversation.
	r = e.mustSend(e.a, body(t, "call_started", out("call_out_3", "+5511933332222", nil)))
	if r.Call.ContactID == nil || *r.Call.ContactID != mine || r.Call.ConversationID == nil || *r.Call.ConversationID != conv {
		t.Errorf("by number: contact %v conversation %v", r.Call.ContactID, r.Call.ConversationID)
	}
}

func ptr[T any](v T) *T { return &v }
