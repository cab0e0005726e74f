package campaign_test

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
	"masteria/app/sim/metasim"
	"masteria/app/store/storetest"
	"masteria/app/vault"
	"masteria/app/web/webtest"
)

// TestCrashMidCampaign is the kill -9 test: an instance sending a campaign is killed with
// SIGKILL in the middle, another starts on the same database and address, and the campaign
// completes with no recipient lost and no recorded send sent twice.
func TestCrashMidCampaign(t *testing.T) {
	if os.Getenv("MASTERIA_CRASH_CHILD") != "" {
		t.Skip("the child's own run")
	}
	t.Parallel()
	dbURL := storetest.URL(t)
	base := webtest.FreeBase(t)
	webtest.ReleaseBase(base) // the children listen there, one after the other
	ms := metasim.New(metasim.WithStatusDelays(0, 20*time.Millisecond, 20*time.Millisecond))
	graph, err := ms.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ms.Close)

	// This process only prepares and launches (an insert-only queue client): the children send.
	ctx := context.Background()
	cfg := webtest.Config(t, dbURL)
	cfg.MetaGraphURL, cfg.BaseURL = graph, base
	key, _ := vault.GenerateKey()
	ring, _ := vault.ParseKeyRing(key)
	app, err := boot.Open(ctx, cfg, ring, boot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	e := env{ctx: ctx, st: app.Store, svc: app.Campaigns, ms: ms, inst: &webtest.Instance{App: app, URL: base}}
	org, _ := e.st.CreateOrg(ctx, "Loja Queda")
	e.a = model.Actor{OrgID: org.ID, Role: model.RoleOwner}
	e.ch = e.cloudChannel(t, phoneNumberID, wabaID, 150)
	e.tmpl = e.template(t, e.ch, "promo_maio", "Olá {{1}}, a promoção de {{2}} chegou!")
	const n = 900
	c := e.draft(t, e.contacts(t, n))
	if _, err := e.svc.Launch(ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}

	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
		cmd.Env = append(os.Environ(), "MASTERIA_CRASH_CHILD=1", "MASTERIA_CRASH_DB="+dbURL,
			"MASTERIA_CRASH_BASE="+base, "MASTERIA_CRASH_GRAPH="+graph, "MASTERIA_CRASH_KEY="+key)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	first := child()
	wait(t, 60*time.Second, "a third of the sends", func() bool { return ms.SentCount() >= n/3 })
	if err := first.Process.Kill(); err != nil { // SIGKILL: no cleanup, claims left in flight
		t.Fatal(err)
	}
	_ = first.Wait()
	var inFlight int
	_ = e.st.DB().Get(&inFlight, `SELECT count(*) FROM campaign_recipients WHERE status = 'claimed'`)
	t.Logf("killed after %d sends, %d claims in flight", ms.SentCount(), inFlight)

	second := child()
	defer func() { _ = second.Process.Kill(); _ = second.Wait() }()
	wait(t, 120*time.Second, "the campaign to complete", func() bool { return e.status(t, c.ID) == model.CampaignCompleted })

	var lost int
	_ = e.st.DB().Get(&lost, `SELECT count(*) FROM campaign_recipients WHERE campaign_id = $1 AND status IN ('pending', 'claimed')`, c.ID)
	if lost != 0 {
		t.Fatalf("%d recipients lost", lost)
	}
	recorded := map[string]bool{}
	var ids []string
	_ = e.st.DB().Select(&ids, `SELECT provider_id FROM messages WHERE provider_id IS NOT NULL`)
	for _, id := range ids {
		recorded[id] = true
	}
	// Group the sim's sends by person, in order: a person sent twice is a duplicate of a
	// recorded send when the first of their messages was recorded.
	byPerson := map[string][]string{}
	for _, m := range ms.Sent() {
		byPerson[m.To] = append(byPerson[m.To], m.ID)
	}
	var dupRecorded, dupUnrecorded int
	for _, wamids := range byPerson {
		if len(wamids) < 2 {
			continue
		}
		if recorded[wamids[0]] {
			dupRecorded++
		} else {
			dupUnrecorded++
		}
	}
	if len(byPerson) != n {
		t.Fatalf("%d people reached, want %d", len(byPerson), n)
	}
	if dupRecorded != 0 {
		t.Fatalf("%d recorded sends were sent again", dupRecorded)
	}
	t.Logf("0 lost, 0 recorded sends repeated; %d sends whose answer and status reports were both lost went again", dupUnrecorded)
}

// TestCrashChild is the instance TestCrashMidCampaign runs and kills.
func TestCrashChild(t *testing.T) {
	if os.Getenv("MASTERIA_CRASH_CHILD") == "" {
		t.Skip("run by TestCrashMidCampaign")
	}
	ring, err := vault.ParseKeyRing(os.Getenv("MASTERIA_CRASH_KEY"))
	if err != nil {
		t.Fatal(err)
	}
	inst := webtest.StartOnAt(t, os.Getenv("MASTERIA_CRASH_DB"), os.Getenv("MASTERIA_CRASH_BASE"), func(c *config.Config) {
		c.MetaGraphURL = os.Getenv("MASTERIA_CRASH_GRAPH")
		c.CampaignTick = time.Second
	}, ring)
	inst.App.Campaigns.Lease = 5 * time.Second
	inst.App.Campaigns.Slice = 5 * time.Second
	inst.App.Campaigns.SendTimeout = 2 * time.Second
	fmt.Fprintln(os.Stderr, "crash child: up at", inst.URL)
	select {} // until killed
}
