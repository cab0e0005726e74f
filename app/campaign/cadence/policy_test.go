package cadence_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"masteria/app/campaign/cadence"
	"masteria/app/campaign/policy"
	"masteria/app/model"
	"masteria/app/store"
)

// standIn is a contact policy for these tests (the real one is the policy package's): one
// phone's SMS is a duplicate, another's is in quiet hours for a moment; everything else goes.
type standIn struct {
	mu      sync.Mutex
	dup     string
	quiet   string
	until   time.Time
	records int
}

func (p *standIn) Check(_ context.Context, _ *store.Store, s cadence.Send, now time.Time) (cadence.Verdict, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.Phone == p.quiet && now.Before(p.until) {
		return cadence.Verdict{Reason: "quiet_hours", Detail: "quiet hours in São Paulo", Until: p.until}, nil
	}
	return cadence.Verdict{OK: true}, nil
}

func (p *standIn) Record(_ context.Context, _ *store.Store, s cadence.Send, _ time.Time) (cadence.Verdict, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.Phone == p.dup && s.Channel == "sms" {
		return cadence.Verdict{Reason: "duplicate_sms", Detail: "same SMS sent at 14:02 by cadence Boas-vindas"}, nil
	}
	p.records++
	return cadence.Verdict{OK: true}, nil
}

// A send the policy holds is skipped with its reason (and an await on it sees "skipped");
// one in quiet hours waits until they end, then goes once.
func TestPolicySkipsAndWaits(t *testing.T) {
	e := newEnv(t)
	p := &standIn{dup: phoneOf(40), quiet: phoneOf(41), until: time.Now().Add(1500 * time.Millisecond)}
	e.eng.SetPolicy(p)
	skipped := e.tag(t, "pulado")
	cid := e.cadence(t, "Política", []model.CadenceStep{
		e.smsStep("s1", "s2", "Oi, tudo bem?"),
		{ID: "s2", Kind: model.StepAwait, Await: "s1", WithinMinutes: 100, Branches: []model.AwaitBranch{
			{Outcomes: []string{model.OutcomeSkipped}, Next: "s3"},
			{Outcomes: []string{model.OutcomeDelivered}, Next: ""},
		}},
		{ID: "s3", Kind: model.StepTag, TagID: skipped},
	})
	dup := e.enrol(t, cid, e.contact(t, 40))
	quiet := e.enrol(t, cid, e.contact(t, 41))
	en := e.waitEnded(t, dup, 10*time.Second)
	if s1 := line(en, "s1"); s1.Status != model.StepSkipped || s1.Detail != "duplicate_sms: same SMS sent at 14:02 by cadence Boas-vindas" ||
		line(en, "s2").Outcome != model.OutcomeSkipped || line(en, "s3").Status != model.StepDone {
		t.Fatalf("duplicate: %s", timeline(en))
	}
	time.Sleep(500 * time.Millisecond)
	if en := e.enrolment(t, quiet); line(en, "s1").Status != "" || e.smsTo(phoneOf(41)) != 0 {
		t.Fatalf("quiet hours did not hold the SMS: %s", timeline(en))
	}
	en = e.waitEnded(t, quiet, 15*time.Second)
	if line(en, "s1").Status != model.StepDone || line(en, "s2").Outcome != model.OutcomeDelivered {
		t.Fatalf("after quiet hours: %s", timeline(en))
	}
	if time.Now().Before(p.until) {
		t.Fatal("sent before the quiet hours ended")
	}
	wait(t, 5*time.Second, "the SMS", func() bool { return e.smsTo(phoneOf(41)) == 1 })
	if n := e.smsTo(phoneOf(40)); n != 0 {
		t.Fatalf("the duplicate went: %d", n)
	}
}

// The real contact policy: with a cap of one automated message a day the second SMS waits
// (nothing is recorded for it), and a contact who opted out on any channel leaves at its
// next step.
func TestRealPolicyCapAndOptOut(t *testing.T) {
	e := newEnv(t)
	if err := policy.New(e.st).Save(e.ctx, e.a, model.PolicySettings{DailyCap: 1, SMSDedupHours: 24}); err != nil {
		t.Fatal(err)
	}
	cid := e.cadence(t, "Duas", []model.CadenceStep{
		e.smsStep("s1", "s2", "Primeira"),
		{ID: "s2", Kind: model.StepWait, WaitMinutes: 1, Next: "s3"},
		e.smsStep("s3", "", "Segunda"),
	})
	capped := e.enrol(t, cid, e.contact(t, 50))
	wait(t, 10*time.Second, "the second SMS held", func() bool {
		en := e.enrolment(t, capped)
		return en.StepID == "s3" && line(en, "s2").Status == model.StepDone
	})
	time.Sleep(time.Second)
	if en := e.enrolment(t, capped); !en.Running() || line(en, "s3").Status != "" || e.smsTo(phoneOf(50)) != 1 {
		t.Fatalf("capped: %s, %d SMS", timeline(en), e.smsTo(phoneOf(50)))
	}

	out := e.contact(t, 51)
	id := e.enrol(t, cid, out)
	wait(t, 10*time.Second, "the first SMS", func() bool { return line(e.enrolment(t, id), "s1").Status == model.StepDone })
	if _, err := e.st.SetOptOut(e.ctx, e.a.OrgID, out, "whatsapp", true); err != nil {
		t.Fatal(err)
	}
	en := e.waitEnded(t, id, 10*time.Second)
	if en.Status != model.EnrolmentExited || en.ExitReason != model.ExitOptedOut || line(en, "s3").Status != "" {
		t.Fatalf("opted out: %s", timeline(en))
	}
}
