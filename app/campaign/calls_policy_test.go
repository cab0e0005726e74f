package campaign_test

import (
	"testing"
	"time"

	"masteria/app/campaign/policy"
	"masteria/app/model"
	"masteria/app/store"
)

// TestCallCampaignPassesThePolicy: a call campaign's first calls pass the contact policy:
// a contact who opted out of WhatsApp is not called (skipped, opted out), one whose daily
// cap a cadence already filled waits until the cap allows, and the call placed counts
// toward its contact's cap.
func TestCallCampaignPassesThePolicy(t *testing.T) {
	e := newCallEnv(t, 5)
	if err := e.st.SavePolicySettings(e.ctx, e.a.OrgID, model.PolicySettings{DailyCap: 1, SMSDedupHours: 24}); err != nil {
		t.Fatal(err)
	}
	ids := e.contacts(t, 3)
	if _, err := e.st.SetOptOut(e.ctx, e.a.OrgID, ids[0], model.ChannelWhatsApp, true); err != nil {
		t.Fatal(err)
	}
	earlier := time.Now().Add(-time.Hour)
	err := e.st.Tx(e.ctx, func(tx *store.Store) error {
		v, err := policy.New(e.st).Record(e.ctx, tx, policy.Send{OrgID: e.a.OrgID, ContactID: ids[1], Channel: policy.ChannelWhatsApp,
			Source: policy.SourceCadence, SourceID: 1, SourceName: "Boas-vindas"}, earlier)
		if err == nil && !v.OK {
			t.Errorf("the cadence's send: %+v", v)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c := e.launch(t, ids, callSettings(3, 30, 2))
	wait(t, 10*time.Second, "the one call", func() bool { return len(e.sim.Calls()) == 1 })
	if to := e.sim.Calls()[0].ToNumber; to != "+5511976000002" {
		t.Fatalf("called %s", to)
	}
	type row struct {
		Status string    `db:"status"`
		Skip   string    `db:"skip_reason"`
		Due    time.Time `db:"not_before"`
	}
	rec := func(contact int64) row {
		t.Helper()
		var r row
		if err := e.st.DB().Get(&r, `SELECT status, skip_reason, not_before FROM campaign_recipients
			WHERE org_id = $1 AND campaign_id = $2 AND contact_id = $3`, e.a.OrgID, c.ID, contact); err != nil {
			t.Fatal(err)
		}
		return r
	}
	wait(t, 10*time.Second, "the opted-out contact skipped", func() bool { return rec(ids[0]).Status == model.RecipientSkipped })
	if r := rec(ids[0]); r.Skip != model.SkipOptedOut {
		t.Fatalf("opted out of WhatsApp: %+v", r)
	}
	wait(t, 10*time.Second, "the capped contact held", func() bool { return rec(ids[1]).Status == model.RecipientPending })
	if r := rec(ids[1]); r.Due.Sub(earlier.Add(24*time.Hour)).Abs() > time.Second {
		t.Fatalf("capped: %+v, want due at %v", r, earlier.Add(24*time.Hour))
	}
	var counted int
	_ = e.st.DB().Get(&counted, `SELECT count(*) FROM automated_sends WHERE org_id = $1 AND contact_id = $2 AND channel = 'voice'`, e.a.OrgID, ids[2])
	if counted != 1 {
		t.Fatalf("the call counted %d times", counted)
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(e.sim.Calls()); n != 1 {
		t.Fatalf("%d calls", n)
	}
}
