package numbers_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"masteria/app/model"
	"masteria/app/sim/twiliosim"
	"masteria/app/voice/numbers"
	"masteria/app/voice/retell"
)

// checkReleased asserts nothing of a released number is left: not in Twilio's account, no
// trunk, no credential list, not in Retell, no row.
func (e *env) checkReleased(t *testing.T, n model.VoiceNumber, id int64) {
	t.Helper()
	if n.Status != numbers.Released {
		t.Fatalf("release answered %+v", n)
	}
	if e.tw.Owns(accountSid, n.PhoneNumber) || len(e.tw.Trunks()) != 0 || len(e.tw.CredentialLists()) != 0 {
		t.Fatalf("left in Twilio: owns %v, trunks %+v, lists %+v", e.tw.Owns(accountSid, n.PhoneNumber), e.tw.Trunks(), e.tw.CredentialLists())
	}
	if r := e.tw.Released(); len(r) != 1 || r[0].PhoneNumber != n.PhoneNumber {
		t.Fatalf("released in Twilio: %+v", r)
	}
	for _, p := range e.rt.sim.PhoneNumbers() {
		if p.PhoneNumber == n.PhoneNumber {
			t.Fatalf("still in Retell: %+v", p)
		}
	}
	if _, err := e.st.VoiceNumber(e.ctx, e.admin.OrgID, id); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("row: %v", err)
	}
}

func (e *env) buyReady(t *testing.T) model.VoiceNumber {
	t.Helper()
	n, err := e.svc.Buy(e.ctx, e.admin, e.buyInput(e.search(t)))
	if err != nil {
		t.Fatal(err)
	}
	e.checkWired(t, n)
	return n
}

func TestReleaseUndoesEverything(t *testing.T) {
	e := setup(t)
	n := e.buyReady(t)
	// Agents and other orgs may not release it.
	if _, err := e.svc.Release(e.ctx, e.agent, n.ID, true); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("agent: %v", err)
	}
	if _, err := e.svc.Release(e.ctx, e.other, n.ID, true); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("other org: %v", err)
	}
	got, err := e.svc.Release(e.ctx, e.admin, n.ID, false) // a bought number leaves Retell whatever is asked
	if err != nil {
		t.Fatal(err)
	}
	e.checkReleased(t, got, n.ID)
	if _, err := e.svc.Release(e.ctx, e.admin, n.ID, true); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("twice: %v", err)
	}
	// The number can be bought again.
	if _, err := e.svc.Buy(e.ctx, e.admin, e.buyInput(n.PhoneNumber)); err != nil {
		t.Fatalf("buy again: %v", err)
	}
}

// TestReleaseFailureAtEachStepContinues makes each release step fail once: the release
// stops at that step with the provider's reason, Continue goes on from there, and no step
// done before is asked again.
func TestReleaseFailureAtEachStepContinues(t *testing.T) {
	cases := []struct {
		step string
		fail func(e *env)
		ops  []twiliosim.Op // deletes that must not run again on Continue
	}{
		{model.ReleaseRetell, func(e *env) { e.rt.sim.FailNext("", http.StatusForbidden, "Forbidden", 1) }, nil},
		{model.ReleaseDetach, func(e *env) {
			e.tw.FailNext(twiliosim.OpDetachPhoneNumber, http.StatusForbidden, 20403, "Permission denied")
		}, nil},
		{model.ReleaseCredentials, func(e *env) {
			e.tw.FailNext(twiliosim.OpDeleteCredList, http.StatusBadRequest, 20001, "Credential list in use")
		}, []twiliosim.Op{twiliosim.OpDetachPhoneNumber}},
		{model.ReleaseOrigination, func(e *env) {
			e.tw.FailNext(twiliosim.OpDeleteOrigination, http.StatusForbidden, 20403, "Permission denied")
		}, []twiliosim.Op{twiliosim.OpDetachPhoneNumber, twiliosim.OpDeleteCredList}},
		{model.ReleaseTrunk, func(e *env) {
			e.tw.FailNext(twiliosim.OpDeleteTrunk, http.StatusForbidden, 20403, "Permission denied")
		}, []twiliosim.Op{twiliosim.OpDeleteOrigination}},
		{model.ReleaseNumber, func(e *env) {
			e.tw.FailNext(twiliosim.OpReleaseNumber, http.StatusBadRequest, 21606, "The number cannot be released yet")
		}, []twiliosim.Op{twiliosim.OpDeleteTrunk}},
	}
	for _, c := range cases {
		t.Run(c.step, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			n := e.buyReady(t)
			c.fail(e)
			got, err := e.svc.Release(e.ctx, e.admin, n.ID, true)
			var se *numbers.StepError
			if !errors.As(err, &se) || se.Step != "release_"+c.step || got.Status != "release_failed" {
				t.Fatalf("release: %+v %v, want a failure at %s", got, err, c.step)
			}
			stored, _ := e.st.VoiceNumber(e.ctx, e.admin.OrgID, n.ID)
			if stored.Status != "release_failed" || stored.ReleaseStep != c.step || !strings.Contains(stored.LastError, "refused") {
				t.Fatalf("stored: %s %s %q", stored.Status, stored.ReleaseStep, stored.LastError)
			}
			if !numbers.Releasing(stored) {
				t.Fatal("not releasing")
			}
			// A failed release is not ready: its agents cannot change, and it is not set up again.
			if _, err := e.svc.SetAgents(e.ctx, e.admin, n.ID, "", ""); !errors.Is(err, model.ErrConflict) {
				t.Fatalf("agents while releasing: %v", err)
			}
			// Steps done already would fail if asked again.
			for _, op := range c.ops {
				e.tw.FailNext(op, http.StatusForbidden, 20403, "asked twice")
			}
			retellDeletes := len(deletes(e))
			got, err = e.svc.Continue(e.ctx, e.admin, n.ID)
			if err != nil {
				t.Fatalf("continue: %v", err)
			}
			e.checkReleased(t, got, n.ID)
			if c.step != model.ReleaseRetell && len(deletes(e)) != retellDeletes {
				t.Fatal("Continue removed the number from Retell again")
			}
		})
	}
}

func deletes(e *env) []string {
	var out []string
	for _, r := range e.rt.sim.Requests() {
		if r.Method == http.MethodDelete {
			out = append(out, r.Path)
		}
	}
	return out
}

// TestReleaseAfterFailedSetUp: a set-up that stopped halfway (no origination URL, no
// credentials) releases what it made: the number and its trunk; nothing is asked of Retell.
func TestReleaseAfterFailedSetUp(t *testing.T) {
	e := setup(t)
	e.tw.FailNext(twiliosim.OpCreateOrigination, http.StatusInternalServerError, 20500, "Internal Server Error")
	n, err := e.svc.Buy(e.ctx, e.admin, e.buyInput(e.search(t)))
	if err == nil || len(e.tw.Trunks()) != 1 {
		t.Fatalf("buy: %v", err)
	}
	// The trunk's sid was lost (the answer never came): the release finds it by its domain.
	if _, err := e.st.DB().Exec(`UPDATE voice_numbers SET trunk_sid = '' WHERE id = $1`, n.ID); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Release(e.ctx, e.admin, n.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	e.checkReleased(t, got, n.ID)
	if d := deletes(e); len(d) != 0 {
		t.Fatalf("Retell asked: %v", d)
	}
}

// TestReleaseThrottled: Twilio's 429 on the deletes is waited out; the release finishes.
func TestReleaseThrottled(t *testing.T) {
	e := setup(t)
	n := e.buyReady(t)
	e.tw.Throttle(twiliosim.OpDeleteTrunk, 2, "0")
	e.tw.Throttle(twiliosim.OpReleaseNumber, 1, "1")
	got, err := e.svc.Release(e.ctx, e.admin, n.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	e.checkReleased(t, got, n.ID)
}

// TestReleaseLinked: a linked number is only forgotten, unless asked to leave Retell too.
func TestReleaseLinked(t *testing.T) {
	e := setup(t)
	const keep, drop = "+14155550123", "+14155550124"
	for _, p := range []string{keep, drop} {
		e.rt.sim.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: p, PhoneNumberType: "retell-twilio"})
	}
	a, err := e.svc.Link(e.ctx, e.admin, keep)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.svc.Link(e.ctx, e.admin, drop)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.svc.Release(e.ctx, e.admin, a.ID, false); err != nil || got.Status != numbers.Released {
		t.Fatalf("unlink: %+v %v", got, err)
	}
	if len(e.rt.sim.PhoneNumbers()) != 2 || len(deletes(e)) != 0 {
		t.Fatalf("unlinking touched Retell: %v", deletes(e))
	}
	// Removing it from Retell fails once, then Continue removes it (and remembers the choice).
	e.rt.sim.FailNext("/delete-phone-number/"+drop, http.StatusBadRequest, "Number busy", 1)
	got, err := e.svc.Release(e.ctx, e.admin, b.ID, true)
	var se *numbers.StepError
	if !errors.As(err, &se) || se.Step != "release_retell" || !strings.Contains(se.Reason, "Number busy") {
		t.Fatalf("release: %+v %v", got, err)
	}
	if got, err = e.svc.Continue(e.ctx, e.admin, b.ID); err != nil || got.Status != numbers.Released {
		t.Fatalf("continue: %+v %v", got, err)
	}
	if p := e.rt.sim.PhoneNumbers(); len(p) != 1 || p[0].PhoneNumber != keep {
		t.Fatalf("Retell's numbers: %+v", p)
	}
	if len(e.tw.Released()) != 0 {
		t.Fatal("Twilio asked for a linked number")
	}
	// Linkable again.
	if l, _ := e.svc.Linkable(e.ctx, e.admin); len(l) != 1 || l[0].PhoneNumber != keep {
		t.Fatalf("linkable: %+v", l)
	}
}

// TestReleaseOnceAtATime: a release running is not taken by a second one, nor is a set-up
// running now.
func TestReleaseOnceAtATime(t *testing.T) {
	e := setup(t)
	n := e.buyReady(t)
	ok, err := e.st.ClaimVoiceNumberRelease(e.ctx, e.admin.OrgID, n.ID, true)
	if err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if _, err := e.svc.Release(e.ctx, e.admin, n.ID, true); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("second release: %v", err)
	}
	if _, err := e.svc.Continue(e.ctx, e.admin, n.ID); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("continue a running release: %v", err)
	}
	if len(e.tw.Released()) != 0 {
		t.Fatal("released")
	}
	// Left running 11 minutes (its process died): Continue takes it over and finishes.
	if _, err := e.st.DB().Exec(`UPDATE voice_numbers SET updated_at = now() - interval '11 minutes' WHERE id = $1`, n.ID); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Continue(e.ctx, e.admin, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.checkReleased(t, got, n.ID)
}
