package cadence_test

import (
	"testing"
	"time"

	"masteria/app/campaign/cadence"
	"masteria/app/model"
	"masteria/app/sim/retellsim"
)

// A call step through the Retell simulator, and an await on what came of it: answered,
// voicemail and no answer each take their branch once the call's events arrive.
func TestCallOutcomes(t *testing.T) {
	e := newEnv(t)
	e.voice(t)
	answered, voicemail := e.tag(t, "atendeu"), e.tag(t, "caixa postal")
	cid := e.cadence(t, "Ligação", []model.CadenceStep{
		{ID: "s1", Kind: model.StepCall, Next: "s2"},
		{ID: "s2", Kind: model.StepAwait, Await: "s1", WithinMinutes: 100, Branches: []model.AwaitBranch{
			{Outcomes: []string{model.OutcomeAnswered}, Next: "s3"},
			{Outcomes: []string{model.OutcomeVoicemail}, Next: "s4"},
			{Outcomes: []string{model.OutcomeNoAnswer}, Next: "s5"},
		}},
		{ID: "s3", Kind: model.StepTag, TagID: answered},
		{ID: "s4", Kind: model.StepTag, TagID: voicemail},
		e.smsStep("s5", "", "Tentamos ligar para você."),
	})
	for i, c := range []struct{ kind, outcome, last string }{
		{retellsim.KindConnected, model.OutcomeAnswered, "s3"},
		{retellsim.KindVoicemail, model.OutcomeVoicemail, "s4"},
		{retellsim.KindNoAnswer, model.OutcomeNoAnswer, "s5"},
	} {
		e.rs.SetAutoPlay(&retellsim.CallScript{Kind: c.kind, Duration: time.Second})
		contact := e.contact(t, 20+i)
		id := e.enrol(t, cid, contact)
		en := e.waitEnded(t, id, 20*time.Second)
		if en.Status != model.EnrolmentCompleted || line(en, "s1").CallID == nil || line(en, "s1").Outcome != c.outcome ||
			line(en, "s2").Outcome != c.outcome || line(en, c.last).Status != model.StepDone {
			t.Fatalf("%s: %s", c.kind, timeline(en))
		}
	}
	if n := len(e.rs.Calls()); n != 3 {
		t.Fatalf("Retell got %d calls", n)
	}
	wait(t, 5*time.Second, "the SMS after no answer", func() bool { return e.smsTo(phoneOf(22)) == 1 })
}

// Outside calling hours the call step waits (the claim is given back), and calls when the
// hours open; a step run again meanwhile places nothing.
func TestCallWaitsForCallingHours(t *testing.T) {
	e := newEnv(t)
	e.voice(t)
	// Hours closed now in the contact's zone (São Paulo): the step must wait.
	start := 4
	if h := time.Now().In(time.FixedZone("BRT", -3*3600)).Hour(); h >= 2 && h < 8 {
		start = 14
	}
	if _, err := e.st.DB().Exec(`UPDATE voice_accounts SET call_hours_start = $2, call_hours_end = $3 WHERE org_id = $1`,
		e.a.OrgID, start, start+2); err != nil {
		t.Fatal(err)
	}
	cid := e.cadence(t, "Ligação", []model.CadenceStep{{ID: "s1", Kind: model.StepCall}})
	id := e.enrol(t, cid, e.contact(t, 30))
	time.Sleep(time.Second)
	en := e.enrolment(t, id)
	if !en.Running() || en.StepID != "s1" || line(en, "s1").Status != "" || len(e.rs.Calls()) != 0 {
		t.Fatalf("outside hours: %s, %d calls", timeline(en), len(e.rs.Calls()))
	}
	// The hours open (the step's own job sleeps until they would have): run the step now.
	if _, err := e.st.DB().Exec(`UPDATE voice_accounts SET call_hours_start = 0, call_hours_end = 24 WHERE org_id = $1`, e.a.OrgID); err != nil {
		t.Fatal(err)
	}
	e.rs.SetAutoPlay(&retellsim.CallScript{Kind: retellsim.KindConnected, Duration: time.Second})
	if _, err := e.eng.RunStep(e.ctx, cadence.StepArgs{OrgID: e.a.OrgID, EnrolmentID: id, StepID: "s1"}); err != nil {
		t.Fatal(err)
	}
	en = e.waitEnded(t, id, 30*time.Second)
	if en.Status != model.EnrolmentCompleted || line(en, "s1").CallID == nil || len(e.rs.Calls()) != 1 {
		t.Fatalf("after the hours opened: %s, %d calls", timeline(en), len(e.rs.Calls()))
	}
}
