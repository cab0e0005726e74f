package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"masteria/app/sim/retellsim"
)

// TestRetellSimCallsReachTheRecord: the Retell simulator plays calls to the real webhook
// over HTTP, signed with the account's key: in order, out of order, every event twice, with
// a bad signature and with a stale one; the record ends as the last event left it, each
// event is kept once, and what is badly signed is refused (401) and leaves nothing.
func TestRetellSimCallsReachTheRecord(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	const key = "key_sim_0123456789abcdef"
	sim := retellsim.New(retellsim.WithAPIKeys(key), retellsim.WithRetryDelay(10*time.Millisecond))
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	acct := retellAccount(t, o.inst, o.orgID(), key)
	sim.SetWebhook(fmt.Sprintf("%s/webhooks/retell/%d", o.inst.URL, acct))
	ctx := context.Background()
	db := o.inst.App.Store.DB()
	state := func(id string) (status string, rank, events int, summary string) {
		t.Helper()
		_ = db.QueryRow(`SELECT status, event_rank, summary FROM calls WHERE org_id = $1 AND call_id = $2`, o.orgID(), id).Scan(&status, &rank, &summary)
		_ = db.Get(&events, `SELECT count(*) FROM call_events WHERE org_id = $1 AND call_id = $2`, o.orgID(), id)
		return
	}

	inOrder, err := sim.PlayCall(ctx, retellsim.CallScript{FromNumber: "+5511987006600", ToNumber: "+551130001000", Summary: "Quer um orçamento."})
	if err != nil {
		t.Fatal(err)
	}
	outOfOrder, err := sim.PlayCall(ctx, retellsim.CallScript{FromNumber: "+5511987006601", ToNumber: "+551130001000",
		Order: []string{"call_ended", "call_analyzed", "call_started"}, Summary: "Fora de ordem."})
	if err != nil {
		t.Fatal(err)
	}
	twice, err := sim.PlayCall(ctx, retellsim.CallScript{FromNumber: "+5511987006602", ToNumber: "+551130001000", Twice: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{inOrder, outOfOrder, twice} {
		if status, rank, events, _ := state(id); status != "ended" || rank != 3 || events != 3 {
			t.Errorf("call %s: status %s rank %d, %d events kept", id, status, rank, events)
		}
	}
	if _, _, _, summary := state(outOfOrder); summary != "Fora de ordem." {
		t.Errorf("out of order: summary %q", summary)
	}
	bad, _ := sim.PlayCall(ctx, retellsim.CallScript{FromNumber: "+5511987006603", ToNumber: "+551130001000", BadSignature: true})
	stale, _ := sim.PlayCall(ctx, retellsim.CallScript{FromNumber: "+5511987006604", ToNumber: "+551130001000", SignedAt: -6 * time.Minute})
	for _, id := range []string{bad, stale} {
		if status, _, events, _ := state(id); status != "" || events != 0 {
			t.Errorf("badly signed call %s was kept: %q, %d events", id, status, events)
		}
	}
	got := map[string]map[int]int{} // call → status → deliveries
	for _, d := range sim.Deliveries() {
		if got[d.CallID] == nil {
			got[d.CallID] = map[int]int{}
		}
		got[d.CallID][d.Status]++
	}
	if got[twice][200] != 6 {
		t.Errorf("twice: %v", got[twice])
	}
	for _, id := range []string{bad, stale} {
		if got[id][401] == 0 || got[id][200] != 0 {
			t.Errorf("badly signed %s: %v", id, got[id])
		}
	}
	// The connected call's recording (served by the simulator) is copied into the media store.
	deadline := time.Now().Add(20 * time.Second)
	var file *int64
	for time.Now().Before(deadline) {
		_ = db.Get(&file, `SELECT recording_file_id FROM calls WHERE org_id = $1 AND call_id = $2`, o.orgID(), inOrder)
		if file != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if file == nil {
		t.Fatal("the recording was not copied")
	}
	res := apiCall(t, o.owner, mustKey(t, o), "GET", fmt.Sprintf("/api/v1/calls?contact=%d", contactOf(t, o, "+5511987006600")), "")
	var list struct {
		Calls []struct {
			CallID string `json:"call_id"`
		} `json:"calls"`
	}
	if err := json.Unmarshal([]byte(res.Body), &list); err != nil || len(list.Calls) != 1 || list.Calls[0].CallID != inOrder {
		t.Errorf("calls of the caller: %s", res.Body)
	}
}

func mustKey(t *testing.T, o *inboxOrg) string {
	t.Helper()
	k, err := o.inst.App.Account.CreateAPIKeyForOrgName(context.Background(), o.name, "sim")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func contactOf(t *testing.T, o *inboxOrg, phone string) int64 {
	t.Helper()
	id, err := o.inst.App.Store.ContactIDByPhone(context.Background(), o.orgID(), phone)
	if err != nil {
		t.Fatalf("contact %s: %v", phone, err)
	}
	return id
}
