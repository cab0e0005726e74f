package campaign_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"masteria/app/campaign"
	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/retellsim"
	"masteria/app/store"
	"masteria/app/store/storetest"
	"masteria/app/voice/dial"
	"masteria/app/voice/retell"
	"masteria/app/web/webtest"
)

// callEnv is a running Master IA whose Retell account talks to the Retell simulator over
// real HTTP both ways: calls are started by app/voice/dial at the sim, the sim's signed call
// events come back to the app's webhook and settle the campaign's ledger.
type callEnv struct {
	ctx    context.Context
	inst   *webtest.Instance
	st     *store.Store
	svc    *campaign.Service
	sim    *retellsim.Server
	a      model.Actor
	number model.VoiceNumber
}

const simKey = "key_sim_callcampaign_0123456789"

// The call campaign tests run one after the other, before the package's parallel tests:
// each runs an instance with its job workers, and alongside the others they slowed the
// engine tests that wait for a few seconds.

func newCallEnv(t *testing.T, maxConcurrent int) callEnv {
	t.Helper()
	sim := retellsim.New(retellsim.WithAPIKeys(simKey), retellsim.WithRetryDelay(10*time.Millisecond))
	simURL, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	inst := webtest.StartOn(t, storetest.URL(t), func(c *config.Config) {
		c.RetellAPIURL = simURL
		c.CampaignTick = time.Second
	})
	e := callEnv{ctx: context.Background(), inst: inst, st: inst.App.Store, svc: inst.App.Campaigns, sim: sim}
	e.svc.Slice = 3 * time.Second
	org, err := e.st.CreateOrg(e.ctx, "Loja Ligações")
	if err != nil {
		t.Fatal(err)
	}
	e.a = model.Actor{OrgID: org.ID, Role: model.RoleOwner}
	acc, err := inst.App.Voice.Connect(e.ctx, e.a, simKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.App.Voice.SetMaxConcurrent(e.ctx, e.a, maxConcurrent); err != nil {
		t.Fatal(err)
	}
	sim.SetWebhook(fmt.Sprintf("%s/webhooks/retell/%d", inst.URL, acc.ID))
	agent := sim.AddAgent(retell.Agent{AgentName: "Vendas"})
	sim.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: "+551130009000", OutboundAgents: []retell.AgentWeight{{AgentID: agent.AgentID, Weight: 1}}})
	e.number, err = e.st.CreateVoiceNumber(e.ctx, org.ID, model.VoiceNumber{PhoneNumber: "+551130009000", Source: "linked",
		Step: model.NumberReady, Status: "ready", OutboundAgentID: agent.AgentID})
	if err != nil {
		t.Fatal(err)
	}
	// Calls at any hour: the tests run whenever they run.
	if err := inst.App.Voice.SetCallHours(e.ctx, e.a, 0, 24, 127); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e callEnv) contacts(t *testing.T, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range n {
		p := fmt.Sprintf("+5511976%06d", i)
		id, err := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: fmt.Sprintf("Pessoa %d", i), Phone: &p})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	return ids
}

func (e callEnv) launch(t *testing.T, ids []int64, st model.CampaignSettings) model.Campaign {
	t.Helper()
	num := e.number.ID
	c, err := e.svc.Create(e.ctx, e.a, model.Campaign{Name: "Ligações de junho", VoiceNumberID: &num,
		Audience: model.Audience{ContactIDs: ids}, Settings: st})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	return c
}

func callSettings(conc, retry, attempts int) model.CampaignSettings {
	st := model.DefaultCampaignSettings()
	st.Concurrency, st.RetryMinutes, st.CallAttempts = conc, retry, attempts
	return st
}

func (e callEnv) status(t *testing.T, id int64) string {
	t.Helper()
	c, err := e.st.Campaign(e.ctx, e.a.OrgID, id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

func (e callEnv) figures(t *testing.T, id int64) model.CallFigures {
	t.Helper()
	f, err := e.st.CallFigures(e.ctx, e.a.OrgID, id)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// liveAtSim counts the calls the simulator holds registered or ongoing.
func liveAtSim(sim *retellsim.Server) int {
	n := 0
	for _, c := range sim.Calls() {
		if c.CallStatus == retell.StatusRegistered || c.CallStatus == retell.StatusOngoing {
			n++
		}
	}
	return n
}

// TestCallCampaignRespectsConcurrency: eight people called two at a time; the simulator
// never holds more than two live calls (it would answer 429 past two), everyone is called
// once, answered, and the campaign completes.
func TestCallCampaignRespectsConcurrency(t *testing.T) {
	e := newCallEnv(t, 5)
	e.sim.SetAutoPlay(&retellsim.CallScript{Gap: 120 * time.Millisecond})
	ids := e.contacts(t, 8)
	c := e.launch(t, ids, callSettings(2, 30, 3))
	peak := 0
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				peak = max(peak, liveAtSim(e.sim))
			}
		}
	})
	wait(t, 30*time.Second, "the call campaign to complete", func() bool { return e.status(t, c.ID) == model.CampaignCompleted })
	close(stop)
	wg.Wait()
	t.Logf("at most %d live calls at the simulator at once (concurrency 2), %d calls for 8 people", peak, len(e.sim.Calls()))
	if peak > 2 || peak == 0 {
		t.Errorf("the simulator saw %d live calls at once; want 1..2", peak)
	}
	f := e.figures(t, c.ID)
	if f.Called != 8 || f.Answered != 8 || f.Calls != 8 || f.Successful != 8 || f.Failed != 0 || f.ToRetry != 0 {
		t.Errorf("figures %+v", f)
	}
	perPhone := map[string]int{}
	for _, call := range e.sim.Calls() {
		perPhone[call.ToNumber]++
	}
	for p, n := range perPhone {
		if n != 1 {
			t.Errorf("%s called %d times", p, n)
		}
	}
	for _, r := range e.sim.Requests() {
		if r.Status == http.StatusTooManyRequests {
			t.Errorf("the simulator refused a call: %+v", r)
		}
	}
	var ids2 []string
	if err := e.st.DB().Select(&ids2, `SELECT provider_id FROM campaign_recipients WHERE org_id = $1 AND campaign_id = $2 AND status = 'answered'`, e.a.OrgID, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids2 {
		if _, ok := e.sim.Call(id); !ok {
			t.Errorf("recipient's provider id %q is no call of the simulator", id)
		}
	}
}

// TestCallCampaignPauseAndResume: a pause stops new calls while the running one finishes
// and still settles its recipient; resume calls the rest.
func TestCallCampaignPauseAndResume(t *testing.T) {
	e := newCallEnv(t, 5)
	e.sim.SetAutoPlay(&retellsim.CallScript{Gap: 400 * time.Millisecond})
	ids := e.contacts(t, 4)
	c := e.launch(t, ids, callSettings(1, 30, 3))
	wait(t, 10*time.Second, "the first call", func() bool { return len(e.sim.Calls()) >= 1 })
	if err := e.svc.Pause(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	wait(t, 10*time.Second, "the running call to settle", func() bool {
		f := e.figures(t, c.ID)
		return f.Live == 0 && f.Answered >= 1
	})
	made := len(e.sim.Calls())
	time.Sleep(1500 * time.Millisecond)
	if n := len(e.sim.Calls()); n != made || made > 2 {
		t.Fatalf("paused: %d calls made, then %d", made, n)
	}
	if f := e.figures(t, c.ID); f.Answered != int64(made) {
		t.Errorf("paused: %d calls but %d answered", made, f.Answered)
	}
	if err := e.svc.Resume(e.ctx, e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	wait(t, 30*time.Second, "the call campaign to complete", func() bool { return e.status(t, c.ID) == model.CampaignCompleted })
	if f := e.figures(t, c.ID); f.Answered != 4 || f.Calls != 4 {
		t.Errorf("after resume: %+v", f)
	}
}

// TestCallCampaignRetriesUnanswered: calls nobody answered, or voicemail, go again after
// the delay (the test moves the clock by moving the recipient's time), never while a call
// of the same person runs, and at most the attempts allowed; a duplicate event, and a late
// event of an earlier call, settle nothing twice.
func TestCallCampaignRetriesUnanswered(t *testing.T) {
	e := newCallEnv(t, 5)
	ids := e.contacts(t, 2)
	c := e.launch(t, ids, callSettings(2, 30, 2))
	wait(t, 10*time.Second, "two calls", func() bool { return len(e.sim.Calls()) == 2 })
	first := e.sim.Calls()
	byPhone := map[string]string{}
	for _, call := range first {
		byPhone[call.ToNumber] = call.CallID
	}
	a, b := byPhone["+5511976000000"], byPhone["+5511976000001"]
	if a == "" || b == "" {
		t.Fatalf("calls %+v", first)
	}
	// A: nobody answers (only call_ended now; its analysis comes late). B: voicemail, twice.
	if _, err := e.sim.PlayCall(e.ctx, retellsim.CallScript{CallID: a, Kind: retellsim.KindNoAnswer, Order: []string{"call_ended"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.PlayCall(e.ctx, retellsim.CallScript{CallID: b, Kind: retellsim.KindVoicemail, Twice: true}); err != nil {
		t.Fatal(err)
	}
	type row struct {
		Status   string    `db:"status"`
		Attempts int       `db:"attempts"`
		Result   string    `db:"call_result"`
		Title    string    `db:"error_title"`
		Due      time.Time `db:"not_before"`
		Done     int       `db:"done"`
	}
	rec := func(contact int64) row {
		t.Helper()
		var r row
		if err := e.st.DB().Get(&r, `SELECT status, attempts, call_result, error_title, not_before, cardinality(calls_done) AS done
			FROM campaign_recipients WHERE org_id = $1 AND campaign_id = $2 AND contact_id = $3`, e.a.OrgID, c.ID, contact); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for i, want := range []string{model.CallResultNoAnswer, model.CallResultVoicemail} {
		r := rec(ids[i])
		if r.Status != model.RecipientPending || r.Attempts != 1 || r.Result != want || r.Done != 1 ||
			r.Due.Before(time.Now().Add(29*time.Minute)) {
			t.Errorf("recipient %d after its first call: %+v", i, r)
		}
	}
	if f := e.figures(t, c.ID); f.ToRetry != 2 || f.Voicemail != 1 || f.NoAnswer != 1 || f.Called != 2 {
		t.Errorf("figures after the first calls: %+v", f)
	}
	time.Sleep(time.Second)
	if n := len(e.sim.Calls()); n != 2 {
		t.Fatalf("%d calls before the delay was over", n)
	}
	// The delay is over: the recipients are due, and the runners that sleep until then wake.
	if _, err := e.st.DB().Exec(`UPDATE campaign_recipients SET not_before = now() WHERE org_id = $1 AND campaign_id = $2`, e.a.OrgID, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DB().Exec(`UPDATE river_job SET scheduled_at = now() WHERE kind = 'campaign.run' AND state = 'scheduled'`); err != nil {
		t.Fatal(err)
	}
	wait(t, 10*time.Second, "the second calls", func() bool { return len(e.sim.Calls()) == 4 })
	var a2, b2 string
	for _, call := range e.sim.Calls() {
		if call.CallID != a && call.CallID != b {
			if call.ToNumber == "+5511976000000" {
				a2 = call.CallID
			} else {
				b2 = call.CallID
			}
		}
	}
	// A's first call's analysis arrives late, while A's second call runs: nothing moves.
	if _, err := e.sim.PlayCall(e.ctx, retellsim.CallScript{CallID: a, Kind: retellsim.KindNoAnswer, Order: []string{"call_analyzed"}}); err != nil {
		t.Fatal(err)
	}
	if r := rec(ids[0]); r.Status != model.RecipientSent || r.Attempts != 2 || r.Done != 1 {
		t.Errorf("a late event of the first call moved the recipient: %+v", r)
	}
	// A: busy again, the last attempt → failed in words. B: answered, each event twice.
	if _, err := e.sim.PlayCall(e.ctx, retellsim.CallScript{CallID: a2, Kind: retellsim.KindBusy, Twice: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.PlayCall(e.ctx, retellsim.CallScript{CallID: b2, Twice: true}); err != nil {
		t.Fatal(err)
	}
	if r := rec(ids[0]); r.Status != model.RecipientFailed || r.Attempts != 2 || r.Result != model.CallResultBusy ||
		r.Title != "The line was busy." || r.Done != 2 {
		t.Errorf("A after its last attempt: %+v", r)
	}
	if r := rec(ids[1]); r.Status != model.RecipientAnswered || r.Attempts != 2 || r.Done != 2 {
		t.Errorf("B after its second call: %+v", r)
	}
	wait(t, 10*time.Second, "the call campaign to complete", func() bool { return e.status(t, c.ID) == model.CampaignCompleted })
	time.Sleep(500 * time.Millisecond)
	if n := len(e.sim.Calls()); n != 4 {
		t.Errorf("%d calls; want 4 (2 people × 2 attempts)", n)
	}
	f := e.figures(t, c.ID)
	if f.Answered != 1 || f.Failed != 1 || f.Successful != 1 || f.NoAnswer != 1 || f.ToRetry != 0 || f.Calls != 4 {
		t.Errorf("final figures %+v", f)
	}
}

// TestCallCampaignWaitsForTheOrgAndItsHours: a call campaign never fails a recipient for
// the org's limit of calls at once (another call holds it: the recipient waits and is
// called once the limit frees, one attempt), and outside calling hours in the contact's
// zone the recipient waits until they open, without an attempt and without a call.
func TestCallCampaignWaitsForTheOrgAndItsHours(t *testing.T) {
	e := newCallEnv(t, 1)
	ids := e.contacts(t, 3)
	// A call of the org outside the campaign holds its only slot.
	held, err := e.inst.App.Dial.Start(e.ctx, dial.Request{OrgID: e.a.OrgID, ContactID: ids[2]})
	if err != nil {
		t.Fatal(err)
	}
	e.sim.SetAutoPlay(&retellsim.CallScript{Gap: 50 * time.Millisecond})
	c := e.launch(t, ids[:2], callSettings(1, 30, 2))
	time.Sleep(1500 * time.Millisecond)
	if n := len(e.sim.Calls()); n != 1 {
		t.Fatalf("%d calls while the org was at its limit", n)
	}
	if f := e.figures(t, c.ID); f.Failed != 0 || f.Called != 0 || f.Pending != 2 {
		t.Fatalf("at the org's limit: %+v", f)
	}
	if _, err := e.sim.PlayCall(e.ctx, retellsim.CallScript{CallID: held.CallID}); err != nil {
		t.Fatal(err)
	}
	wait(t, 20*time.Second, "the call campaign to complete", func() bool { return e.status(t, c.ID) == model.CampaignCompleted })
	var attempts []int
	if err := e.st.DB().Select(&attempts, `SELECT attempts FROM campaign_recipients WHERE org_id = $1 AND campaign_id = $2 AND status = 'answered'`, e.a.OrgID, c.ID); err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 2 || attempts[0] != 1 || attempts[1] != 1 {
		t.Errorf("answered recipients' attempts %v; want [1 1]", attempts)
	}

	// Calling hours only tomorrow (in São Paulo, the contacts' zone): the next campaign waits.
	zone, _ := time.LoadLocation("America/Sao_Paulo")
	tomorrow := time.Now().In(zone).AddDate(0, 0, 1).Weekday()
	if err := e.inst.App.Voice.SetCallHours(e.ctx, e.a, 0, 24, 1<<tomorrow); err != nil {
		t.Fatal(err)
	}
	more := e.contacts2(t, 1)
	late := e.launch(t, more, callSettings(1, 30, 2))
	wait(t, 10*time.Second, "the recipient to wait for calling hours", func() bool {
		var code string
		_ = e.st.DB().Get(&code, `SELECT error_code FROM campaign_recipients WHERE org_id = $1 AND campaign_id = $2`, e.a.OrgID, late.ID)
		return code == "calling_hours"
	})
	var due time.Time
	var tries int
	if err := e.st.DB().QueryRow(`SELECT not_before, attempts FROM campaign_recipients WHERE org_id = $1 AND campaign_id = $2`, e.a.OrgID, late.ID).Scan(&due, &tries); err != nil {
		t.Fatal(err)
	}
	if tries != 0 || !due.After(time.Now()) || due.After(time.Now().Add(49*time.Hour)) {
		t.Errorf("outside calling hours: due %v, %d attempts", due, tries)
	}
	if n := len(e.sim.Calls()); n != 3 {
		t.Errorf("%d calls; the one outside calling hours was placed", n)
	}
}

// contacts2 creates n more contacts, with other numbers than contacts'.
func (e callEnv) contacts2(t *testing.T, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range n {
		p := fmt.Sprintf("+5511975%06d", i)
		id, err := e.st.CreateContact(e.ctx, model.Contact{OrgID: e.a.OrgID, Name: fmt.Sprintf("Outra %d", i), Phone: &p})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	return ids
}

// TestCallCampaignPausesWhenRetellRefusesItsNumber: a number Retell does not know fails
// every call alike; the campaign pauses and says why, and nobody's attempts are spent.
func TestCallCampaignPausesWhenRetellRefusesItsNumber(t *testing.T) {
	e := newCallEnv(t, 5)
	unknown, err := e.st.CreateVoiceNumber(e.ctx, e.a.OrgID, model.VoiceNumber{PhoneNumber: "+551130009999", Source: "linked",
		Step: model.NumberReady, Status: model.NumberReady, OutboundAgentID: e.number.OutboundAgentID})
	if err != nil {
		t.Fatal(err)
	}
	e.number = unknown
	c := e.launch(t, e.contacts(t, 3), callSettings(2, 30, 2))
	wait(t, 10*time.Second, "the pause", func() bool { return e.status(t, c.ID) == model.CampaignPaused })
	// The other runner may have claimed a recipient before the pause and be giving it back
	// (Retell refuses its call too): the ledger is read once no claim is in flight.
	wait(t, 10*time.Second, "the claims given back", func() bool {
		var claimed int
		_ = e.st.DB().Get(&claimed, `SELECT count(*) FROM campaign_recipients WHERE org_id = $1 AND campaign_id = $2 AND status = 'claimed'`, e.a.OrgID, c.ID)
		return claimed == 0
	})
	got, _ := e.st.Campaign(e.ctx, e.a.OrgID, c.ID)
	if got.PauseReason != model.PauseChannelGone || !strings.Contains(got.PauseDetail, "from_number") {
		t.Errorf("paused for %q (%q)", got.PauseReason, got.PauseDetail)
	}
	var spent int
	if err := e.st.DB().Get(&spent, `SELECT coalesce(sum(attempts), 0) FROM campaign_recipients WHERE org_id = $1 AND campaign_id = $2`, e.a.OrgID, c.ID); err != nil {
		t.Fatal(err)
	}
	if f := e.figures(t, c.ID); spent != 0 || f.Failed != 0 || f.Pending != 3 {
		t.Errorf("after the pause: %d attempts spent, %+v", spent, f)
	}
}

// TestCallCampaignSettlesLostCalls: a call Retell says nothing more about for two hours (its
// events were lost) neither holds the campaign open nor a slot: its recipient goes again
// after the delay, and the call's events, should they come after all, settle nothing.
func TestCallCampaignSettlesLostCalls(t *testing.T) {
	e := newCallEnv(t, 5)
	ids := e.contacts(t, 1)
	c := e.launch(t, ids, callSettings(1, 30, 2))
	wait(t, 10*time.Second, "the call", func() bool { return len(e.sim.Calls()) == 1 })
	wait(t, 10*time.Second, "the recipient in a call", func() bool { return e.figures(t, c.ID).Live == 1 })
	// The sweep dates a call from its recipient's sent_at, which the runner writes just after
	// Retell took the call and the call's row was written: the two hours pass once it is
	// written (shifted before, the runner's record would date the call now).
	wait(t, 10*time.Second, "the recipient recorded in its call", func() bool {
		var status string
		_ = e.st.DB().Get(&status, `SELECT status FROM campaign_recipients WHERE org_id = $1 AND campaign_id = $2
			AND sent_at IS NOT NULL AND provider_id = $3`, e.a.OrgID, c.ID, e.sim.Calls()[0].CallID)
		return status == model.RecipientSent
	})
	// Two hours and a bit pass without a word from Retell.
	for _, q := range []string{
		`UPDATE campaign_recipients SET sent_at = sent_at - interval '150 minutes' WHERE org_id = $1 AND campaign_id = $2`,
		`UPDATE calls SET created_at = created_at - interval '150 minutes' WHERE org_id = $1 AND campaign_id = $2`,
	} {
		if _, err := e.st.DB().Exec(q, e.a.OrgID, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	var status, code string
	var due time.Time
	wait(t, 10*time.Second, "the lost call settled", func() bool {
		_ = e.st.DB().QueryRow(`SELECT status, error_code, not_before FROM campaign_recipients WHERE org_id = $1 AND campaign_id = $2`,
			e.a.OrgID, c.ID).Scan(&status, &code, &due)
		return status == model.RecipientPending
	})
	if code != model.CallResultFailed || due.Before(time.Now().Add(29*time.Minute)) {
		t.Errorf("after the lost call: %s %s due %v", status, code, due)
	}
	// Its events come after all: nothing moves.
	if _, err := e.sim.PlayCall(e.ctx, retellsim.CallScript{CallID: e.sim.Calls()[0].CallID}); err != nil {
		t.Fatal(err)
	}
	if f := e.figures(t, c.ID); f.Answered != 0 || f.ToRetry != 1 {
		t.Errorf("a late event of the lost call moved the ledger: %+v", f)
	}
}

// TestCallOutcome: an ended call reads as the calls read it; a number that does not exist
// is its own outcome (no retry reaches it), and each has its words.
func TestCallOutcome(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		call model.Call
		want string
	}{
		{model.Call{Status: model.CallEnded, DisconnectionReason: "user_hangup"}, model.CallResultAnswered},
		{model.Call{Status: model.CallEnded, DisconnectionReason: "agent_hangup", InVoicemail: &yes}, model.CallResultVoicemail},
		{model.Call{Status: model.CallEnded, DisconnectionReason: "voicemail_reached"}, model.CallResultVoicemail},
		{model.Call{Status: model.CallNotConnected, DisconnectionReason: "dial_no_answer"}, model.CallResultNoAnswer},
		{model.Call{Status: model.CallNotConnected, DisconnectionReason: "user_declined"}, model.CallResultBusy},
		{model.Call{Status: model.CallNotConnected, DisconnectionReason: "dial_failed"}, model.CallResultFailed},
		{model.Call{Status: model.CallNotConnected, DisconnectionReason: "invalid_destination"}, model.CallResultInvalid},
		{model.Call{Status: model.CallError}, model.CallResultFailed},
	} {
		got, words := campaign.CallOutcome(tc.call)
		if got != tc.want || (got != model.CallResultAnswered && words == "") {
			t.Errorf("%s/%s: %s %q, want %s", tc.call.Status, tc.call.DisconnectionReason, got, words, tc.want)
		}
	}
}
