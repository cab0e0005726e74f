package calls_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"masteria/app/events"
	"masteria/app/jobs"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/voice/calls"
)

// TestIngestHooksRunInTheEventsTransaction: a hook sees the call's row as the event left it,
// inside the transaction that applied it (the row and the event's claim are visible to the
// hook's transaction, not yet to others); a failing hook undoes the whole event, contact
// included, and Retell's retry applies it; the recording's job is queued once however
// often events carrying the recording come.
func TestIngestHooksRunInTheEventsTransaction(t *testing.T) {
	t.Parallel()
	e := setup(t)
	reg := jobs.NewRegistry()
	calls.Register(reg, e.svc, nil, nil)
	q, err := jobs.New(e.ctx, e.st.DB().DB, e.url, reg, jobs.Options{}) // insert only: the jobs stay queued
	if err != nil {
		t.Fatal(err)
	}
	e.svc.SetJobs(q)
	type seen struct {
		event         string
		call          model.Call
		inTx, outside int
	}
	var got []seen
	fail := errors.New("the hook refuses")
	failNext := true
	e.svc.AddHook(func(ctx context.Context, tx *store.Store, event string, c model.Call) error {
		s := seen{event: event, call: c}
		if err := tx.SQLTx().QueryRowContext(ctx, `SELECT count(*) FROM call_events WHERE org_id = $1 AND call_id = $2`,
			c.OrgID, c.CallID).Scan(&s.inTx); err != nil {
			return err
		}
		s.outside = e.count(`SELECT count(*) FROM call_events WHERE org_id = $1 AND call_id = $2`, c.OrgID, c.CallID)
		got = append(got, s)
		if failNext {
			failNext = false
			return fail
		}
		return nil
	})
	var analysed []string // a hook on call_analyzed only
	e.svc.AddHook(func(ctx context.Context, tx *store.Store, event string, c model.Call) error {
		analysed = append(analysed, event)
		return nil
	}, "call_analyzed")
	started := body(t, "call_started", inboundCall("call_hook", "+5511977776666", "call_started"))
	if _, err := e.send(e.a, started); !errors.Is(err, fail) {
		t.Fatalf("a failing hook: %v", err)
	}
	for _, q := range []string{`SELECT count(*) FROM calls WHERE org_id = $1`, `SELECT count(*) FROM call_events WHERE org_id = $1`,
		`SELECT count(*) FROM contacts WHERE org_id = $1`, `SELECT count(*) FROM events WHERE org_id = $1`} {
		if n := e.count(q, e.a.id); n != 0 {
			t.Errorf("the failed event left %d rows: %s", n, q)
		}
	}
	r := e.mustSend(e.a, started) // Retell's retry
	if r.Duplicate || r.Call.ContactID == nil {
		t.Fatalf("the retry: %+v", r)
	}
	ended := inboundCall("call_hook", "+5511977776666", "call_ended")
	ended["recording_url"] = "https://retell.example/recordings/call_hook.wav"
	analyzed := inboundCall("call_hook", "+5511977776666", "call_analyzed")
	analyzed["recording_url"] = ended["recording_url"]
	for _, b := range [][]byte{body(t, "call_ended", ended), body(t, "call_ended", ended), body(t, "call_analyzed", analyzed)} {
		e.mustSend(e.a, b)
	}
	if len(got) != 4 {
		t.Fatalf("the hook ran %d times, want 4 (failed start, start, end, analysis; not the duplicate)", len(got))
	}
	for i, want := range []struct {
		event string
		rank  int
	}{{"call_started", 1}, {"call_started", 1}, {"call_ended", 2}, {"call_analyzed", 3}} {
		s := got[i]
		if s.event != want.event || s.call.EventRank != want.rank || s.call.ID == 0 || s.call.ContactID == nil {
			t.Errorf("hook %d: %s rank %d id %d contact %v", i, s.event, s.call.EventRank, s.call.ID, s.call.ContactID)
		}
		if s.inTx != max(i, 1) || s.outside != max(i-1, 0) {
			t.Errorf("hook %d: its transaction sees %d claims, another %d", i, s.inTx, s.outside)
		}
	}
	if fmt.Sprint(analysed) != "[call_analyzed]" {
		t.Errorf("the hook on call_analyzed ran on %v", analysed)
	}
	if got[3].call.Summary == "" || got[3].call.RecordingURL == "" {
		t.Errorf("the analysed row the hook saw: %+v", got[3].call)
	}
	if n := e.count(`SELECT count(*) FROM river_job WHERE kind = 'voice_call_recording' AND (args->>'id')::bigint = $1`, r.Call.ID); n != 1 {
		t.Errorf("%d recording jobs queued", n)
	}
}

// TestIngestPublishesCallRefs: the events the statement records are the catalogue's: each
// call event's payload is the Ref of the call's row as that event left it (its outcome
// included), the contact's is a ContactNew.
func TestIngestPublishesCallRefs(t *testing.T) {
	t.Parallel()
	e := setup(t)
	want := map[string]events.CallRef{}
	var contact int64
	for _, ev := range []string{"call_started", "call_ended", "call_analyzed"} {
		c := inboundCall("call_ref", "+5511966665555", ev)
		c["disconnection_reason"] = "voicemail_reached"
		r := e.mustSend(e.a, body(t, ev, c))
		want[callEventTypes[ev]] = calls.Ref(r.Call)
		contact = *r.Call.ContactID
	}
	if want["call.started"].Outcome != "" || want["call.ended"].Outcome != model.OutcomeVoicemail {
		t.Fatalf("outcomes: %+v", want)
	}
	rows, err := e.st.DB().Query(`SELECT type, payload FROM events WHERE org_id = $1 ORDER BY id`, e.a.id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var types []string
	for rows.Next() {
		var typ string
		var payload []byte
		if err := rows.Scan(&typ, &payload); err != nil {
			t.Fatal(err)
		}
		types = append(types, typ)
		if typ == events.ContactCreated.Name() {
			if p, err := events.ContactCreated.Decode(payload); err != nil || p.ID != contact {
				t.Errorf("contact.created payload %s: %v", payload, err)
			}
			continue
		}
		p, err := events.CallStarted.Decode(payload)
		if err != nil || p != want[typ] {
			t.Errorf("%s payload %s, want %+v", typ, payload, want[typ])
		}
		var raw map[string]any
		_ = json.Unmarshal(payload, &raw)
		for _, k := range []string{"lead_id", "campaign_id"} {
			if _, ok := raw[k]; ok {
				t.Errorf("%s payload names a record the call has not (%s): %s", typ, k, payload)
			}
		}
	}
	if got := fmt.Sprint(types); got != "[contact.created call.started call.ended call.analyzed]" {
		t.Fatalf("events %s", got)
	}
}

var callEventTypes = map[string]string{"call_started": "call.started", "call_ended": "call.ended", "call_analyzed": "call.analyzed"}

// TestCallOutcomeInSQL: call_outcome (the ingest statement's payloads) answers as
// model.Call.Outcome for every status, every disconnection reason Retell documents, and
// with and without a voicemail flag.
func TestCallOutcomeInSQL(t *testing.T) {
	t.Parallel()
	e := setup(t)
	reasons := []string{"", "user_hangup", "agent_hangup", "call_transfer", "voicemail_reached", "ivr_reached", "inactivity",
		"max_duration_reached", "concurrency_limit_reached", "no_concurrency_fallback", "no_valid_payment", "scam_detected",
		"dial_busy", "dial_failed", "dial_no_answer", "invalid_destination", "telephony_provider_permission_denied",
		"telephony_provider_unavailable", "sip_routing_error", "marked_as_spam", "user_declined", "error_llm_websocket_open",
		"error_llm_websocket_lost_connection", "error_llm_websocket_runtime", "error_llm_websocket_corrupt_payload",
		"error_no_audio_received", "error_asr", "error_retell", "error_unknown", "error_user_not_joined",
		"registered_call_timeout", "transfer_bridged", "transfer_cancelled", "manual_stopped", "call_take_over", "error_", "error"}
	n := 0
	for _, status := range []string{model.CallRegistered, model.CallOngoing, model.CallEnded, model.CallNotConnected, model.CallError} {
		for _, reason := range reasons {
			for _, vm := range []*bool{nil, ptr(true), ptr(false)} {
				c := model.Call{Status: status, DisconnectionReason: reason, InVoicemail: vm}
				var got string
				if err := e.st.DB().Get(&got, `SELECT call_outcome($1, $2, $3)`, status, reason, vm); err != nil {
					t.Fatal(err)
				}
				if want := c.Outcome(); got != want {
					t.Errorf("%s %q voicemail %v: SQL %q, Go %q", status, reason, vm, got, want)
				}
				n++
			}
		}
	}
	t.Logf("%d cases", n)
}

// TestIngestManyAtOnce: events of many calls of two orgs, each delivered twice, all at once,
// share statements (fewer statements than deliveries) and end as if sent one by one: each
// call analysed, each event kept and published once, one contact per caller. Then, with a
// hook that refuses one call's events, only those fail, though they shared statements
// with others (a failed statement is tried again event by event).
func TestIngestManyAtOnce(t *testing.T) {
	t.Parallel()
	e := setup(t)
	type send struct {
		o org
		b []byte
	}
	sends := func(prefix string, calls int) []send {
		var out []send
		for _, o := range []org{e.a, e.b} {
			for call := range calls {
				id := fmt.Sprintf("%s_%02d", prefix, call)
				from := fmt.Sprintf("+55119555%05d", call%7) // 7 callers per org
				for _, ev := range []string{"call_started", "call_ended", "call_analyzed"} {
					b := body(t, ev, inboundCall(id, from, ev))
					out = append(out, send{o, b}, send{o, b})
				}
			}
		}
		return out
	}
	all := func(ss []send) (failed []string) {
		gate := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, s := range ss {
			wg.Go(func() {
				<-gate
				if _, err := e.send(s.o, s.b); err != nil {
					mu.Lock()
					failed = append(failed, err.Error())
					mu.Unlock()
				}
			})
		}
		close(gate)
		wg.Wait()
		return failed
	}
	check := func(prefix string, want map[int64]int) {
		t.Helper()
		for _, o := range []org{e.a, e.b} {
			w := want[o.id]
			like := prefix + "%"
			for q, n := range map[string]int{
				`SELECT count(*) FROM calls WHERE org_id = $1 AND call_id LIKE $2 AND event_rank = 3 AND status = 'ended' AND summary <> ''
				   AND contact_id IS NOT NULL`: w,
				`SELECT count(*) FROM call_events WHERE org_id = $1 AND call_id LIKE $2`: w * 3,
				`SELECT count(*) FROM events v JOIN calls c ON c.org_id = v.org_id AND c.id = (v.payload->>'id')::bigint
				 WHERE v.org_id = $1 AND v.type LIKE 'call.%' AND c.call_id LIKE $2`: w * 3,
			} {
				if got := e.count(q, o.id, like); got != n {
					t.Errorf("org %d, %s: %d, want %d: %s", o.id, prefix, got, n, q)
				}
			}
			if n := e.count(`SELECT count(*) FROM contacts WHERE org_id = $1`, o.id); n != 7 {
				t.Errorf("org %d: %d contacts, want 7", o.id, n)
			}
			if n := e.count(`SELECT count(*) FROM events WHERE org_id = $1 AND type = 'contact.created'`, o.id); n != 7 {
				t.Errorf("org %d: %d contacts published, want 7", o.id, n)
			}
		}
	}
	first := sends("call_many", 20)
	for _, o := range []org{e.a, e.b} { // the accounts' keys, read once and kept
		e.mustSend(o, body(t, "call_started", inboundCall("call_warm", "+5511955500000", "call_started")))
	}
	before := e.st.Statements()
	if failed := all(first); len(failed) > 0 {
		t.Fatalf("%d deliveries failed: %v", len(failed), failed[0])
	}
	if n := e.st.Statements() - before; n >= int64(len(first)) {
		t.Errorf("%d statements for %d deliveries: none shared", n, len(first))
	}
	check("call_many", map[int64]int{e.a.id: 20, e.b.id: 20})

	e.svc.AddHook(func(ctx context.Context, tx *store.Store, event string, c model.Call) error {
		if c.CallID == "call_more_03" && c.OrgID == e.a.id {
			return errors.New("refused")
		}
		return nil
	})
	if failed := all(sends("call_more", 10)); len(failed) != 6 { // the refused call's three events, twice
		t.Errorf("%d deliveries failed, want 6: %v", len(failed), failed)
	}
	check("call_more", map[int64]int{e.a.id: 9, e.b.id: 10})
	if n := e.count(`SELECT count(*) FROM calls WHERE org_id = $1 AND call_id = 'call_more_03'`, e.a.id); n != 0 {
		t.Errorf("the refused call was kept")
	}
}

// TestIngestHookPanic: a hook that panics fails its event (rolled back: nothing kept) and
// leaves the service working; the retry, the hook mended, is applied.
func TestIngestHookPanic(t *testing.T) {
	t.Parallel()
	e := setup(t)
	broken := true
	e.svc.AddHook(func(ctx context.Context, tx *store.Store, event string, c model.Call) error {
		if broken {
			panic("broken hook")
		}
		return nil
	})
	b := body(t, "call_started", inboundCall("call_panic", "+5511944440000", "call_started"))
	if _, err := e.send(e.a, b); err == nil || !strings.Contains(err.Error(), "broken hook") {
		t.Fatalf("a panicking hook: %v", err)
	}
	if n := e.count(`SELECT count(*) FROM call_events WHERE org_id = $1`, e.a.id); n != 0 {
		t.Errorf("%d call events kept", n)
	}
	broken = false
	if r := e.mustSend(e.a, b); r.Duplicate || r.Call.ID == 0 {
		t.Errorf("the retry: %+v", r)
	}
	if n := e.st.DB().Stats().InUse; n != 0 {
		t.Errorf("%d connections still in use", n)
	}
}

// TestIngestFoldsACallsEventsThatArriveTogether: the events of a call that wait together
// (held back behind a statement) go into one statement, folded into one change of the row:
// the row ends as the three events applied in their order would leave it; each event is
// claimed and published once, in its order, and each hook sees each event once, with the
// row as it stands; a copy of an event that came in the same wait is a duplicate; one
// contact is made for the caller; a batch hook sees each call once per event.
func TestIngestFoldsACallsEventsThatArriveTogether(t *testing.T) {
	t.Parallel()
	e := setup(t)
	release := make(chan struct{})
	var (
		mu      sync.Mutex
		seen    = map[string]int{}      // call and event → times a hook saw it
		batched = map[string][]string{} // event → the calls a batch hook saw
		ranks   = map[string]int{}      // call and event → the row's rank the hook saw
	)
	e.svc.AddHook(func(ctx context.Context, tx *store.Store, event string, c model.Call) error {
		if c.CallID == "call_gate" {
			<-release // holds the statement while the others queue
		}
		mu.Lock()
		defer mu.Unlock()
		seen[c.CallID+" "+event]++
		ranks[c.CallID+" "+event] = c.EventRank
		return nil
	})
	e.svc.AddBatchHook(func(ctx context.Context, tx *store.Store, event string, cs []model.Call) error {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range cs {
			batched[event] = append(batched[event], c.CallID)
		}
		return nil
	})
	gate := make(chan error, 1)
	go func() {
		_, err := e.send(e.a, body(t, "call_started", inboundCall("call_gate", "+5511900000009", "call_started")))
		gate <- err
	}()
	// Wait until the gate's statement runs (its hook holds it).
	for st, _ := e.svc.Stats(); st == 0; st, _ = e.svc.Stats() {
		time.Sleep(time.Millisecond)
	}
	st0, _ := e.svc.Stats()
	const n = 4
	type sent struct {
		call, event string
		res         calls.Result
		err         error
	}
	out := make(chan sent, n*4)
	var wg sync.WaitGroup
	for k := range n {
		id, from := fmt.Sprintf("call_fold_%d", k), fmt.Sprintf("+551190000000%d", k)
		// Analysed first and ended twice: the order they come in is not theirs.
		for _, ev := range []string{"call_analyzed", "call_started", "call_ended", "call_ended"} {
			wg.Go(func() {
				r, err := e.send(e.a, body(t, ev, inboundCall(id, from, ev)))
				out <- sent{id, ev, r, err}
			})
		}
	}
	time.Sleep(300 * time.Millisecond) // they all queue behind the gate
	close(release)
	wg.Wait()
	close(out)
	if err := <-gate; err != nil {
		t.Fatal(err)
	}
	dups := map[string]int{}
	for s := range out {
		if s.err != nil {
			t.Fatalf("%s %s: %v", s.call, s.event, s.err)
		}
		if s.res.Duplicate {
			dups[s.call+" "+s.event]++
			continue
		}
		if s.res.Call.EventRank != 3 || s.res.Call.Summary == "" || s.res.Call.ContactID == nil {
			t.Errorf("%s %s answered the row %+v", s.call, s.event, s.res.Call)
		}
	}
	if st, _ := e.svc.Stats(); st-st0 >= n*3 {
		t.Errorf("%d statements for %d calls' events: none folded", st-st0, n)
	}
	for k := range n {
		id := fmt.Sprintf("call_fold_%d", k)
		if dups[id+" call_ended"] != 1 || len(dups) != n {
			t.Errorf("duplicates %v", dups)
		}
		for _, ev := range []string{"call_started", "call_ended", "call_analyzed"} {
			if seen[id+" "+ev] != 1 || ranks[id+" "+ev] != 3 {
				t.Errorf("%s %s: the hook saw it %d times, at rank %d", id, ev, seen[id+" "+ev], ranks[id+" "+ev])
			}
			if c := strings.Count(" "+strings.Join(batched[ev], " ")+" ", " "+id+" "); c != 1 {
				t.Errorf("%s %s: the batch hook saw it %d times", id, ev, c)
			}
		}
		var row struct {
			Status, Summary, Transcript, Sentiment string
			Rank                                   int   `db:"event_rank"`
			Duration                               int64 `db:"duration_ms"`
			Contact                                *int64
		}
		if err := e.st.DB().Get(&row, `SELECT status, summary, transcript, sentiment, event_rank, duration_ms, contact_id AS contact
			FROM calls WHERE org_id = $1 AND call_id = $2`, e.a.id, id); err != nil {
			t.Fatal(err)
		}
		if row.Status != "ended" || row.Rank != 3 || row.Summary != "Paciente quer marcar limpeza." || row.Sentiment != "Positive" ||
			row.Duration != 95000 || !strings.Contains(row.Transcript, "limpeza") || row.Contact == nil {
			t.Errorf("%s: %+v", id, row)
		}
		var types []string
		if err := e.st.DB().Select(&types, `SELECT type FROM events WHERE org_id = $1 AND payload->>'call_id' = $2 ORDER BY id`,
			e.a.id, id); err != nil {
			t.Fatal(err)
		}
		if strings.Join(types, " ") != "call.started call.ended call.analyzed" {
			t.Errorf("%s published %v", id, types)
		}
	}
	if c := e.count(`SELECT count(*) FROM call_events WHERE org_id = $1`, e.a.id); c != 3*n+1 {
		t.Errorf("%d call events", c)
	}
	if c := e.count(`SELECT count(*) FROM contacts WHERE org_id = $1`, e.a.id); c != n+1 {
		t.Errorf("%d contacts", c)
	}
	if c := e.count(`SELECT count(*) FROM events WHERE org_id = $1 AND type = 'contact.created'`, e.a.id); c != n+1 {
		t.Errorf("%d contact.created", c)
	}
}
