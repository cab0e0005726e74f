package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"masteria/app/model"
	"masteria/app/sim/retellsim"
	"masteria/app/voice/retell"
)

// TestRetellSimInboundCalls: calls the simulator receives on one of the org's numbers reach
// the record over the real webhook: a known caller is found by number and a new one becomes
// a contact, the call tied to the org's number; the optional events of a call
// (transcript_updated, transfer_*), even after the call ended, are answered 200 and change
// nothing; and when the account's concurrency is lowered, the call cut short ends with
// concurrency_limit_reached while the other goes on.
func TestRetellSimInboundCalls(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	const key = "key_sim_inbound_0123456789"
	sim := retellsim.New(retellsim.WithAPIKeys(key), retellsim.WithRetryDelay(10*time.Millisecond))
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	acct := retellAccount(t, o.inst, o.orgID(), key)
	sim.SetWebhook(fmt.Sprintf("%s/webhooks/retell/%d", o.inst.URL, acct))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := o.inst.App.Store.DB()
	const ours = "+551130001000"
	var numberID int64
	if err := db.Get(&numberID, `INSERT INTO voice_numbers (org_id, phone_number, source, step, status) VALUES ($1, $2, 'linked', 'ready', 'ready') RETURNING id`,
		o.orgID(), ours); err != nil {
		t.Fatal(err)
	}
	ag := sim.AddAgent(retell.Agent{AgentName: "Recepção"})
	sim.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: ours, InboundAgents: []retell.AgentWeight{{AgentID: ag.AgentID, Weight: 1}}})
	known, err := o.inst.App.Store.CreateContact(ctx, model.Contact{OrgID: o.orgID(), Name: "Dona Lúcia", Phone: ptrTo("+5511987006700")})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Status    string `db:"status"`
		Direction string `db:"direction"`
		Reason    string `db:"disconnection_reason"`
		Contact   *int64 `db:"contact_id"`
		Number    *int64 `db:"number_id"`
		Turns     int    `db:"turns"`
		Events    int    `db:"events"`
		Published int    `db:"published"`
	}
	state := func(id string) row {
		t.Helper()
		var r row
		_ = db.Get(&r, `SELECT c.status, c.direction, c.disconnection_reason, c.contact_id, c.number_id,
			jsonb_array_length(c.transcript_object) AS turns,
			(SELECT count(*) FROM call_events e WHERE e.org_id = c.org_id AND e.call_id = c.call_id) AS events,
			(SELECT count(*) FROM events v WHERE v.org_id = c.org_id AND v.type IN ('call.started', 'call.ended', 'call.analyzed')
				AND (v.payload->>'id')::bigint = c.id) AS published
			FROM calls c WHERE c.org_id = $1 AND c.call_id = $2`, o.orgID(), id)
		return r
	}

	first, err := sim.ReceiveCall(ctx, retellsim.CallScript{FromNumber: "+5511987006700", ToNumber: ours})
	if err != nil {
		t.Fatal(err)
	}
	if r := state(first); r.Direction != "inbound" || r.Contact == nil || *r.Contact != known || r.Number == nil || *r.Number != numberID || r.Events != 3 {
		t.Errorf("known caller: %+v", r)
	}
	// A new caller, whose call is transferred; its transcript updates and transfer events
	// come after the call ended.
	second, err := sim.ReceiveCall(ctx, retellsim.CallScript{FromNumber: "+5511987006701", ToNumber: ours, TranscriptUpdates: true,
		TransferTo: "+5511912340000", Order: []string{retell.EventCallStarted, retell.EventCallEnded, retell.EventCallAnalyzed,
			retell.EventTranscriptUpdated, retell.EventTransferStarted, retell.EventTransferBridged, retell.EventTransferEnded}})
	if err != nil {
		t.Fatal(err)
	}
	r := state(second)
	if r.Contact == nil || *r.Contact != contactOf(t, o, "+5511987006701") || r.Number == nil || *r.Number != numberID {
		t.Errorf("new caller: %+v", r)
	}
	if r.Status != "ended" || r.Reason != retell.ReasonCallTransfer || r.Turns != 5 || r.Events != 3 || r.Published != 3 {
		t.Errorf("transferred call after its late optional events: %+v", r)
	}
	optional := 0
	for _, d := range sim.Deliveries() {
		if d.CallID == second && d.Event != retell.EventCallStarted && d.Event != retell.EventCallEnded && d.Event != retell.EventCallAnalyzed {
			optional++
			if d.Status != 200 {
				t.Errorf("%s answered %d", d.Event, d.Status)
			}
		}
	}
	if optional != 8 { // 5 transcript updates, 3 transfer events
		t.Errorf("%d optional events delivered", optional)
	}

	// Two calls running; the concurrency drops to one: the newer is cut short.
	var running []string
	for i, from := range []string{"+5511987006702", "+5511987006703"} {
		go func() {
			_, _ = sim.ReceiveCall(ctx, retellsim.CallScript{FromNumber: from, ToNumber: ours, Gap: time.Minute})
		}()
		deadline := time.Now().Add(10 * time.Second)
		for len(running) == i {
			var id string
			_ = db.Get(&id, `SELECT call_id FROM calls WHERE org_id = $1 AND from_number = $2 AND status = 'ongoing'`, o.orgID(), from)
			if id != "" {
				running = append(running, id)
			} else if time.Now().After(deadline) {
				t.Fatalf("call from %s not ongoing", from)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	sim.SetConcurrencyLimit(1)
	deadline := time.Now().Add(10 * time.Second)
	for state(running[1]).Events < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if r := state(running[1]); r.Status != "ended" || r.Reason != retell.ReasonConcurrencyLimit || r.Events != 3 {
		t.Errorf("the call cut short: %+v", r)
	}
	if r := state(running[0]); r.Status != "ongoing" || r.Events != 1 {
		t.Errorf("the call that goes on: %+v", r)
	}
}

func ptrTo[T any](v T) *T { return &v }
