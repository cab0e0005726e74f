package cadence_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"masteria/app/campaign/cadence"
	"masteria/app/model"
)

// manyContacts creates n contacts with phones from +55119871<i> in one statement.
func (e env) manyContacts(t testing.TB, n int) []int64 {
	t.Helper()
	var ids []int64
	if err := e.st.DB().Select(&ids, `INSERT INTO contacts (org_id, name, phone)
		SELECT $1, 'Lote ' || i, '+5511971' || lpad(i::text, 6, '0') FROM generate_series(1, $2) i RETURNING id`,
		e.a.OrgID, n); err != nil {
		t.Fatal(err)
	}
	return ids
}

// stepJobs counts the cadence step jobs ever queued for a cadence's enrolments, and the
// enrolments they named.
func (e env) stepJobs(t testing.TB) (jobs, named int) {
	t.Helper()
	if err := e.st.DB().QueryRow(`SELECT count(*), coalesce(sum(CASE WHEN args ? 'enrolment_ids' THEN jsonb_array_length(args->'enrolment_ids') ELSE 1 END), 0)
		FROM river_job WHERE kind = 'cadence.step' AND (args->>'org_id')::bigint = $1`, e.a.OrgID).Scan(&jobs, &named); err != nil {
		t.Fatal(err)
	}
	return jobs, named
}

// A cadence of non-send steps for 1,200 contacts runs in batches: tag, wait, untag,
// assign, then an SMS for 3 of them (one by one, from the batch's job). Each enrolment
// has one ledger line per step, each step published once per enrolment, and the jobs
// number a few per step, not one per enrolment and step.
func TestBatchesRunManyEnrolments(t *testing.T) {
	e := newEnv(t)
	const n = 1200
	hot, cold := e.tag(t, "lote"), e.tag(t, "antigo")
	owner := e.member(t)
	ids := e.manyContacts(t, n)
	if _, err := e.st.TagContacts(e.ctx, e.a.OrgID, ids, cold); err != nil {
		t.Fatal(err)
	}
	cid := e.cadence(t, "Lote", []model.CadenceStep{
		{ID: "a", Kind: model.StepTag, TagID: hot, Next: "b"},
		{ID: "b", Kind: model.StepWait, WaitMinutes: 1, Next: "c"},
		{ID: "c", Kind: model.StepUntag, TagID: cold, Next: "d"},
		{ID: "d", Kind: model.StepAssign, UserID: owner},
	})
	start := time.Now()
	res, err := e.eng.Enrol(e.ctx, e.a, cid, ids, model.EnrolManual)
	if err != nil || res.Enrolled != n {
		t.Fatalf("enrol: %+v %v", res, err)
	}
	wait(t, 60*time.Second, "every enrolment completed", func() bool {
		var left int
		_ = e.st.DB().Get(&left, `SELECT count(*) FROM cadence_enrolments WHERE cadence_id = $1 AND status <> 'completed'`, cid)
		return left == 0
	})
	took := time.Since(start)
	var lines, tagged, owned, waited int
	_ = e.st.DB().Get(&lines, `SELECT count(*) FROM cadence_steps s JOIN cadence_enrolments en ON en.id = s.enrolment_id
		WHERE en.cadence_id = $1 AND s.status = 'done'`, cid)
	_ = e.st.DB().Get(&tagged, `SELECT count(*) FROM contacts WHERE org_id = $1 AND tag_ids = ARRAY[$2::bigint]`, e.a.OrgID, hot)
	_ = e.st.DB().Get(&owned, `SELECT count(*) FROM contacts WHERE org_id = $1 AND owner_id = $2`, e.a.OrgID, owner)
	_ = e.st.DB().Get(&waited, `SELECT count(*) FROM cadence_steps s JOIN cadence_enrolments en ON en.id = s.enrolment_id
		WHERE en.cadence_id = $1 AND s.step_id = 'b' AND s.finished_at - s.started_at >= $2 * interval '1 millisecond'`, cid, minute.Milliseconds())
	if lines != 4*n || tagged != n || owned != n || waited != n {
		t.Fatalf("lines done %d (want %d), tagged %d, owned %d, waited a minute %d (want %d)", lines, 4*n, tagged, owned, waited, n)
	}
	var stepEvents, exits, dupEvents int
	_ = e.st.DB().Get(&stepEvents, `SELECT count(*) FROM events WHERE org_id = $1 AND type = 'cadence.step'`, e.a.OrgID)
	_ = e.st.DB().Get(&exits, `SELECT count(*) FROM events WHERE org_id = $1 AND type = 'cadence.exited' AND payload->>'status' = 'completed'`, e.a.OrgID)
	_ = e.st.DB().Get(&dupEvents, `SELECT count(*) FROM (SELECT 1 FROM events WHERE org_id = $1 AND type = 'cadence.step'
		GROUP BY payload->>'enrolment_id', payload->>'step_id', payload->>'status' HAVING count(*) > 1) d`, e.a.OrgID)
	// a, b waiting, b, c: four step events each (d, the last, is told by cadence.exited).
	if stepEvents != 4*n || exits != n || dupEvents != 0 {
		t.Fatalf("step events %d (want %d), completed %d, repeated %d", stepEvents, 4*n, exits, dupEvents)
	}
	// Five runs of a step each: a, b (its wait starts), b (its wait ends), c, d.
	jobs, named := e.stepJobs(t)
	if jobs > 5*(n/cadence.BatchSize+1)+4 || named != 5*n {
		t.Fatalf("%d step jobs naming %d enrolments for 5 step runs of %d enrolments", jobs, named, n)
	}
	t.Logf("%d enrolments × 4 steps in %v, %d step jobs", n, took.Round(time.Millisecond), jobs)
}

// A batch run twice at once (a retry beside a wake-up, two instances) does each step
// once: one line, one tag, one event per enrolment.
func TestBatchRunTwiceActsOnce(t *testing.T) {
	e := newEnv(t)
	const n = 300
	tag := e.tag(t, "duas")
	ids := e.manyContacts(t, n)
	cid := e.cadence(t, "Duas vezes", []model.CadenceStep{{ID: "a", Kind: model.StepTag, TagID: tag, Next: "b"},
		{ID: "b", Kind: model.StepWait, WaitMinutes: 1000}})
	if err := e.inst.App.Jobs.QueuePause(e.ctx, "cadence", nil); err != nil {
		t.Fatal(err)
	}
	res, err := e.eng.Enrol(e.ctx, e.a, cid, ids, model.EnrolManual)
	if err != nil || res.Enrolled != n {
		t.Fatalf("enrol: %+v %v", res, err)
	}
	for _, step := range []string{"a", "b"} {
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- e.eng.RunBatch(e.ctx, cadence.StepArgs{OrgID: e.a.OrgID, StepID: step, EnrolmentIDs: res.IDs})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	var lines, waiting, events, waitEvents int
	_ = e.st.DB().Get(&lines, `SELECT count(*) FROM cadence_steps WHERE org_id = $1 AND step_id = 'a' AND status = 'done'`, e.a.OrgID)
	_ = e.st.DB().Get(&waiting, `SELECT count(*) FROM cadence_steps WHERE org_id = $1 AND step_id = 'b' AND status = 'waiting'`, e.a.OrgID)
	_ = e.st.DB().Get(&events, `SELECT count(*) FROM events WHERE org_id = $1 AND type = 'cadence.step' AND payload->>'step_id' = 'a'`, e.a.OrgID)
	_ = e.st.DB().Get(&waitEvents, `SELECT count(*) FROM events WHERE org_id = $1 AND type = 'cadence.step' AND payload->>'step_id' = 'b'`, e.a.OrgID)
	if lines != n || waiting != n || events != n || waitEvents != n {
		t.Fatalf("lines %d, waiting %d, events %d and %d (want %d)", lines, waiting, events, waitEvents, n)
	}
	var tagged int
	_ = e.st.DB().Get(&tagged, `SELECT count(*) FROM contacts WHERE org_id = $1 AND tag_ids = ARRAY[$2::bigint]`, e.a.OrgID, tag)
	if tagged != n {
		t.Fatalf("tagged %d", tagged)
	}
}

// One enrolment whose step fails (the database refuses its ledger line) does not hold up
// the others of its batch: they go on one by one, and it gets a job of its own that River
// retries until it goes through.
func TestBatchOneBadEnrolment(t *testing.T) {
	e := newEnv(t)
	const n = 50
	tag := e.tag(t, "ruim")
	ids := e.manyContacts(t, n)
	cid := e.cadence(t, "Uma ruim", []model.CadenceStep{{ID: "a", Kind: model.StepTag, TagID: tag}})
	if err := e.inst.App.Jobs.QueuePause(e.ctx, "cadence", nil); err != nil {
		t.Fatal(err)
	}
	res, err := e.eng.Enrol(e.ctx, e.a, cid, ids, model.EnrolManual)
	if err != nil || res.Enrolled != n {
		t.Fatalf("enrol: %+v %v", res, err)
	}
	bad := res.IDs[n/2]
	fn := fmt.Sprintf("refuse_%d", bad)
	if _, err := e.st.DB().Exec(fmt.Sprintf(`CREATE FUNCTION %[1]s() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.enrolment_id = %[2]d THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER %[1]s BEFORE INSERT ON cadence_steps FOR EACH ROW EXECUTE FUNCTION %[1]s();`, fn, bad)); err != nil {
		t.Fatal(err)
	}
	if err := e.inst.App.Jobs.QueueResume(e.ctx, "cadence", nil); err != nil {
		t.Fatal(err)
	}
	wait(t, 30*time.Second, "the others completed", func() bool {
		var done int
		_ = e.st.DB().Get(&done, `SELECT count(*) FROM cadence_enrolments WHERE cadence_id = $1 AND status = 'completed'`, cid)
		return done == n-1
	})
	if en := e.enrolment(t, bad); en.Status != model.EnrolmentActive || en.StepID != "a" {
		t.Fatalf("the bad one: %s", timeline(en))
	}
	var own int64
	wait(t, 10*time.Second, "its own job tried", func() bool {
		_ = e.st.DB().Get(&own, `SELECT id FROM river_job WHERE kind = 'cadence.step' AND args @> jsonb_build_object('enrolment_id', $1::bigint)
			AND attempt > 0 ORDER BY id LIMIT 1`, bad)
		return own != 0
	})
	if _, err := e.st.DB().Exec(fmt.Sprintf(`DROP TRIGGER %[1]s ON cadence_steps; DROP FUNCTION %[1]s()`, fn)); err != nil {
		t.Fatal(err)
	}
	// Its next retry, now rather than after River's backoff.
	if _, err := e.inst.App.Jobs.JobRetry(e.ctx, own); err != nil {
		t.Fatal(err)
	}
	en := e.waitEnded(t, bad, 30*time.Second)
	if en.Status != model.EnrolmentCompleted || line(en, "a").Status != model.StepDone {
		t.Fatalf("the bad one after the fix: %s", timeline(en))
	}
	var tagged int
	_ = e.st.DB().Get(&tagged, `SELECT count(*) FROM contacts WHERE org_id = $1 AND id = ANY($2) AND tag_ids = ARRAY[$3::bigint]`,
		e.a.OrgID, pq.Array(ids), tag)
	if tagged != n {
		t.Fatalf("tagged %d", tagged)
	}
}

// Send steps of a batch go one by one from the batch's job, each with its own transaction
// and the contact policy (a contact who opted out leaves the cadence); the enrolments
// moved on go to their next step as one batch, and the job kept in reserve for a crash is
// gone once they did. A paused cadence holds its batch until it is resumed.
func TestBatchOfSends(t *testing.T) {
	e := newEnv(t)
	const n = 40
	tag := e.tag(t, "avisado")
	ids := e.manyContacts(t, n)
	if _, err := e.st.DB().Exec(`UPDATE contacts SET opted_out = '{sms}' WHERE org_id = $1 AND id = $2`, e.a.OrgID, ids[0]); err != nil {
		t.Fatal(err)
	}
	cid := e.cadence(t, "Avisos", []model.CadenceStep{e.smsStep("s1", "s2", "Sua loja tem novidades"), {ID: "s2", Kind: model.StepTag, TagID: tag}})
	if _, err := e.inst.App.Cadences.Pause(e.ctx, e.a, cid); err != nil {
		t.Fatal(err)
	}
	res, err := e.eng.Enrol(e.ctx, e.a, cid, ids, model.EnrolManual)
	if err == nil {
		t.Fatalf("enrolled in a paused cadence: %+v", res)
	}
	if _, err := e.inst.App.Cadences.Activate(e.ctx, e.a, cid); err != nil {
		t.Fatal(err)
	}
	if err := e.inst.App.Jobs.QueuePause(e.ctx, "cadence", nil); err != nil {
		t.Fatal(err)
	}
	if res, err = e.eng.Enrol(e.ctx, e.a, cid, ids, model.EnrolManual); err != nil || res.Enrolled != n {
		t.Fatalf("enrol: %+v %v", res, err)
	}
	// Paused while its batch is due: the batch runs, finds it paused and holds every enrolment.
	if _, err := e.inst.App.Cadences.Pause(e.ctx, e.a, cid); err != nil {
		t.Fatal(err)
	}
	if err := e.eng.RunBatch(e.ctx, cadence.StepArgs{OrgID: e.a.OrgID, StepID: "s1", EnrolmentIDs: res.IDs}); err != nil {
		t.Fatal(err)
	}
	var lines, held int
	_ = e.st.DB().Get(&lines, `SELECT count(*) FROM cadence_steps WHERE org_id = $1`, e.a.OrgID)
	_ = e.st.DB().Get(&held, `SELECT count(*) FROM river_job WHERE kind = 'cadence.step' AND state = 'scheduled' AND (args->>'org_id')::bigint = $1
		AND args->>'step_id' = 's1' AND jsonb_array_length(args->'enrolment_ids') = $2`, e.a.OrgID, n)
	if lines != 0 || held != 1 {
		t.Fatalf("while paused: %d lines, %d batches held for later", lines, held)
	}
	if _, err := e.inst.App.Cadences.Activate(e.ctx, e.a, cid); err != nil {
		t.Fatal(err)
	}
	if err := e.inst.App.Jobs.QueueResume(e.ctx, "cadence", nil); err != nil {
		t.Fatal(err)
	}
	wait(t, 30*time.Second, "every enrolment completed", func() bool {
		var left int
		_ = e.st.DB().Get(&left, `SELECT count(*) FROM cadence_enrolments WHERE cadence_id = $1 AND status NOT IN ('completed', 'exited')`, cid)
		return left == 0
	})
	if en := e.enrolment(t, res.IDs[0]); en.Status != model.EnrolmentExited || en.ExitReason != model.ExitOptedOut || len(en.Steps) != 0 {
		t.Fatalf("the contact who opted out: %s", timeline(en))
	}
	var sent, tagged int
	_ = e.st.DB().Get(&sent, `SELECT count(*) FROM cadence_steps WHERE org_id = $1 AND step_id = 's1' AND status = 'done' AND message_id IS NOT NULL`, e.a.OrgID)
	_ = e.st.DB().Get(&tagged, `SELECT count(*) FROM contacts WHERE org_id = $1 AND tag_ids = ARRAY[$2::bigint]`, e.a.OrgID, tag)
	if sent != n-1 || tagged != n-1 {
		t.Fatalf("sent %d, tagged %d (want %d)", sent, tagged, n-1)
	}
	wait(t, 10*time.Second, "the SMS at the sim", func() bool { return len(e.ts.Sent()) == n-1 })
	// The batch held while paused runs too (a no-op by then); then no step job is left.
	var live, s2 int
	wait(t, 10*time.Second, "no step job left waiting (the reserve deleted)", func() bool {
		_ = e.st.DB().Get(&live, `SELECT count(*) FROM river_job WHERE kind = 'cadence.step' AND state IN ('scheduled', 'available', 'retryable', 'running')
			AND (args->>'org_id')::bigint = $1`, e.a.OrgID)
		return live == 0
	})
	_ = e.st.DB().Get(&s2, `SELECT count(*) FROM river_job WHERE kind = 'cadence.step' AND (args->>'org_id')::bigint = $1 AND args->>'step_id' = 's2'`, e.a.OrgID)
	if s2 != 1 {
		t.Fatalf("%d jobs for the next step (want one batch)", s2)
	}
}

// The sweep finds the enrolments of a batch whose job died with its process (left running
// since long ago) and wakes them in batches; a live batch job covers its enrolments.
func TestSweepWakesDeadBatch(t *testing.T) {
	e := newEnv(t)
	const n = 700
	tag := e.tag(t, "varrido")
	ids := e.manyContacts(t, n)
	cid := e.cadence(t, "Varredura", []model.CadenceStep{{ID: "a", Kind: model.StepTag, TagID: tag}})
	if err := e.inst.App.Jobs.QueuePause(e.ctx, "cadence", nil); err != nil {
		t.Fatal(err)
	}
	res, err := e.eng.Enrol(e.ctx, e.a, cid, ids, model.EnrolManual)
	if err != nil || res.Enrolled != n {
		t.Fatalf("enrol: %+v %v", res, err)
	}
	if _, err := e.st.DB().Exec(`UPDATE cadence_enrolments SET step_at = now() - interval '1 hour', due_at = NULL WHERE cadence_id = $1`, cid); err != nil {
		t.Fatal(err)
	}
	// Its jobs are queued: nothing to wake.
	if woke, err := e.eng.Sweep(e.ctx); err != nil || woke != 0 {
		t.Fatalf("sweep with live jobs: %d %v", woke, err)
	}
	// The batch jobs died running (a kill -9): the sweep wakes every enrolment.
	if _, err := e.st.DB().Exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() - interval '1 hour'
		WHERE kind = 'cadence.step' AND (args->>'org_id')::bigint = $1`, e.a.OrgID); err != nil {
		t.Fatal(err)
	}
	if woke, err := e.eng.Sweep(e.ctx); err != nil || woke != n {
		t.Fatalf("sweep: %d woken, want %d: %v", woke, n, err)
	}
	var batches int
	_ = e.st.DB().Get(&batches, `SELECT count(*) FROM river_job WHERE kind = 'cadence.step' AND state = 'available' AND (args->>'org_id')::bigint = $1`, e.a.OrgID)
	if batches != (n+cadence.BatchSize-1)/cadence.BatchSize {
		t.Fatalf("%d jobs woke %d enrolments", batches, n)
	}
	if woke, err := e.eng.Sweep(e.ctx); err != nil || woke != 0 {
		t.Fatalf("second sweep: %d %v", woke, err)
	}
	if err := e.inst.App.Jobs.QueueResume(e.ctx, "cadence", nil); err != nil {
		t.Fatal(err)
	}
	wait(t, 30*time.Second, "every enrolment completed", func() bool {
		var left int
		_ = e.st.DB().Get(&left, `SELECT count(*) FROM cadence_enrolments WHERE cadence_id = $1 AND status <> 'completed'`, cid)
		return left == 0
	})
}
