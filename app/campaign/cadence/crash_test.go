package cadence_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"masteria/app/boot"
	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/twiliosim"
	"masteria/app/store/storetest"
	"masteria/app/vault"
	"masteria/app/web/webtest"
)

// TestCrashBetweenSteps is the kill -9 test: an instance running a cadence (SMS, wait, SMS)
// for many contacts is killed with SIGKILL in the middle, another starts on the same
// database and address, and every enrolment completes: none lost, no step queued twice
// (two messages a contact), and no recorded send sent again.
func TestCrashBetweenSteps(t *testing.T) {
	if os.Getenv("MASTERIA_CADENCE_CHILD") != "" {
		t.Skip("the child's own run")
	}
	dbURL := storetest.URL(t)
	base := webtest.FreeBase(t)
	webtest.ReleaseBase(base) // the children listen there, one after the other
	ts := twiliosim.New(twiliosim.WithStatusDelays(10*time.Millisecond, 10*time.Millisecond))
	api, err := ts.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Close)

	// This process only prepares and enrols (an insert-only queue client): the children run the steps.
	ctx := context.Background()
	cfg := webtest.Config(t, dbURL)
	cfg.TwilioAPIURL, cfg.BaseURL = api, base
	key, _ := vault.GenerateKey()
	ring, _ := vault.ParseKeyRing(key)
	app, err := boot.Open(ctx, cfg, ring, boot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	e := env{ctx: ctx, st: app.Store, eng: app.CadenceEngine, ts: ts, inst: &webtest.Instance{App: app, URL: base}}
	org, _ := e.st.CreateOrg(ctx, "Loja Queda")
	e.a = model.Actor{OrgID: org.ID, Role: model.RoleOwner}
	e.openPolicy(t)
	if e.sms, err = app.Inbox.CreateChannel(ctx, e.a, model.KindTwilioSMS, "SMS",
		map[string]string{"account_sid": smsAccount, "from": smsFrom}, map[string]string{"auth_token": smsToken}); err != nil {
		t.Fatal(err)
	}
	ts.AddAccount(smsAccount, smsToken)
	if _, err := ts.AddNumber(smsAccount, smsFrom, fmt.Sprintf("%s/webhooks/twilio/%d", base, e.sms.ID)); err != nil {
		t.Fatal(err)
	}
	const n = 300
	cid := e.cadence(t, "Queda", []model.CadenceStep{
		e.smsStep("s1", "s2", "Primeira mensagem"),
		{ID: "s2", Kind: model.StepWait, WaitMinutes: 1, Next: "s3"},
		e.smsStep("s3", "", "Segunda mensagem"),
	})
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = e.contact(t, 100+i)
	}
	if res, err := e.eng.Enrol(ctx, e.a, cid, ids, model.EnrolManual); err != nil || res.Enrolled != n {
		t.Fatalf("enrol: %+v %v", res, err)
	}

	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
		cmd.Env = append(os.Environ(), "MASTERIA_CADENCE_CHILD=1", "MASTERIA_CRASH_DB="+dbURL,
			"MASTERIA_CRASH_BASE="+base, "MASTERIA_CRASH_TWILIO="+api, "MASTERIA_CRASH_KEY="+key)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	sent := func() int { return len(ts.Sent()) }
	first := child()
	// Killed half way through the first step's batch: some enrolments have sent and moved
	// on (their next step queued only in the batch's reserve job), others not yet.
	wait(t, 90*time.Second, "some steps done", func() bool {
		var done int
		_ = e.st.DB().Get(&done, `SELECT count(*) FROM cadence_steps WHERE org_id = $1 AND status = 'done'`, e.a.OrgID)
		return done >= n/2
	})
	if err := first.Process.Kill(); err != nil { // SIGKILL: jobs left running, steps half way
		t.Fatal(err)
	}
	_ = first.Wait()
	var waiting int
	_ = e.st.DB().Get(&waiting, `SELECT count(*) FROM cadence_enrolments WHERE cadence_id = $1 AND status = 'active'`, cid)
	t.Logf("killed after %d SMS, %d enrolments not done", sent(), waiting)

	second := child()
	defer func() { _ = second.Process.Kill(); _ = second.Wait() }()
	wait(t, 90*time.Second, "every enrolment to complete", func() bool {
		var left int
		_ = e.st.DB().Get(&left, `SELECT count(*) FROM cadence_enrolments WHERE cadence_id = $1 AND status <> 'completed'`, cid)
		return left == 0
	})
	var msgs, lines int
	_ = e.st.DB().Get(&msgs, `SELECT count(*) FROM messages WHERE org_id = $1 AND direction = 'out'`, e.a.OrgID)
	_ = e.st.DB().Get(&lines, `SELECT count(*) FROM cadence_steps WHERE org_id = $1 AND status = 'done'`, e.a.OrgID)
	if msgs != 2*n || lines != 3*n {
		t.Fatalf("%d messages queued (want %d), %d step lines done (want %d)", msgs, 2*n, lines, 3*n)
	}
	// What the inbox queued goes out through its own send jobs; those the kill left running
	// wait for River's rescue. What went out must not repeat a recorded send.
	distinct := func() int {
		seen := map[string]bool{}
		for _, m := range ts.Sent() {
			seen[m.To+"|"+m.Body] = true
		}
		return len(seen)
	}
	wait(t, 60*time.Second, "the queued SMS out", func() bool { return distinct() >= n })
	time.Sleep(time.Second)
	recorded := map[string]bool{}
	var sids []string
	_ = e.st.DB().Select(&sids, `SELECT provider_id FROM messages WHERE provider_id IS NOT NULL`)
	for _, id := range sids {
		recorded[id] = true
	}
	byBody := map[string][]string{}
	for _, m := range ts.Sent() {
		byBody[m.To+"|"+m.Body] = append(byBody[m.To+"|"+m.Body], m.Sid)
	}
	var dupRecorded, dupUnrecorded int
	for _, sids := range byBody {
		if len(sids) < 2 {
			continue
		}
		if recorded[sids[0]] {
			dupRecorded++
		} else {
			dupUnrecorded++
		}
	}
	if len(byBody) < n || dupRecorded != 0 {
		t.Fatalf("%d distinct SMS at the sim, %d recorded sends sent again", len(byBody), dupRecorded)
	}
	t.Logf("0 enrolments lost, no step queued twice; %d of %d SMS out, %d sends whose answer was lost went again",
		len(byBody), 2*n, dupUnrecorded)
}

// TestCrashChild is the instance TestCrashBetweenSteps runs and kills.
func TestCrashChild(t *testing.T) {
	if os.Getenv("MASTERIA_CADENCE_CHILD") == "" {
		t.Skip("run by TestCrashBetweenSteps")
	}
	ring, err := vault.ParseKeyRing(os.Getenv("MASTERIA_CRASH_KEY"))
	if err != nil {
		t.Fatal(err)
	}
	inst := webtest.StartOnAt(t, os.Getenv("MASTERIA_CRASH_DB"), os.Getenv("MASTERIA_CRASH_BASE"), func(c *config.Config) {
		c.TwilioAPIURL = os.Getenv("MASTERIA_CRASH_TWILIO")
		c.Workers = 4
		c.CampaignTick = time.Second
	}, ring)
	inst.App.CadenceEngine.SetTiming(minute, 300*time.Millisecond)
	inst.App.CadenceEngine.SetLease(4 * time.Second)
	fmt.Fprintln(os.Stderr, "cadence crash child: up at", inst.URL)
	select {} // until killed
}
