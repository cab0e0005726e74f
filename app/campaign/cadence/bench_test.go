package cadence_test

import (
	"context"
	"encoding/json"
	"sync/atomic"

	"github.com/riverqueue/river"

	"strconv"
	"testing"
	"time"

	"masteria/app/jobs"
	"masteria/app/model"
)

// bulkContacts inserts n contacts in one statement.
func (e env) bulkContacts(b *testing.B, n int) []int64 {
	b.Helper()
	var ids []int64
	if err := e.st.DB().Select(&ids, `INSERT INTO contacts (org_id, name, phone)
		SELECT $1, 'Cliente ' || i, '+55219' || lpad(i::text, 8, '0') FROM generate_series(1, $2) i RETURNING id`,
		e.a.OrgID, n); err != nil {
		b.Fatal(err)
	}
	return ids
}

// BenchmarkCadenceSteps runs the due steps of 100,000 active enrolments: each is at a tag
// step (no send), enrolled while the cadence queue was paused, then the queue resumes and
// the engine runs them all (claim the ledger line, tag, record, complete the enrolment,
// publish). It reports steps/s from the resume to the last enrolment completed.
func BenchmarkCadenceSteps(b *testing.B) {
	const n = 100_000
	e := newEnv(b)
	ids := e.bulkContacts(b, n)
	tag := e.tag(b, "visto")
	var rate float64
	for i := range b.N {
		cid := e.cadence(b, "Marcar "+time.Now().Format("150405.000")+string(rune('a'+i)), []model.CadenceStep{{ID: "s1", Kind: model.StepTag, TagID: tag}})
		if err := e.inst.App.Jobs.QueuePause(e.ctx, jobs.QueueCadence, nil); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < n; i += 10_000 {
			if _, err := e.eng.Enrol(e.ctx, e.a, cid, ids[i:min(n, i+10_000)], model.EnrolManual); err != nil {
				b.Fatal(err)
			}
		}
		// The tables' statistics, as autovacuum keeps them (as the other bulk benchmarks do):
		// fresh from a bulk load, the planner takes 100,000 rows for a few hundred and reads
		// every contact or enrolment of the org through an index on org_id for a batch of 500.
		if _, err := e.st.DB().Exec(`ANALYZE contacts, cadence_enrolments`); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		start := time.Now()
		if err := e.inst.App.Jobs.QueueResume(e.ctx, jobs.QueueCadence, nil); err != nil {
			b.Fatal(err)
		}
		wait(b, 30*time.Minute, "every enrolment completed", func() bool {
			var left int
			_ = e.st.DB().Get(&left, `SELECT count(*) FROM cadence_enrolments WHERE cadence_id = $1 AND status = 'active'`, cid)
			return left == 0
		})
		rate = n / time.Since(start).Seconds()
		b.StopTimer()
		var done int
		_ = e.st.DB().Get(&done, `SELECT count(*) FROM cadence_steps s JOIN cadence_enrolments en ON en.id = s.enrolment_id
			WHERE en.cadence_id = $1 AND s.status = 'done'`, cid)
		if done != n {
			b.Fatalf("%d steps done, want %d", done, n)
		}
	}
	b.StopTimer()
	river := riverNoop(b, e, 5000)
	b.ReportMetric(rate, "steps/s")
	b.ReportMetric(river, "river-jobs/s")
	b.ReportMetric(rate/river, "x-river")
	b.Logf("%d due tag steps run at %.0f steps/s (goal at least 2,000); bare River no-op jobs here: %.0f jobs/s", n, rate, river)
}

// BenchmarkCadenceEnrol enrols a 100,000-contact segment in a cadence (the segment's
// query, the enrolment rows, one step job each, the event) with the cadence queue paused,
// and reports enrol-s.
func BenchmarkCadenceEnrol(b *testing.B) {
	const n = 100_000
	e := newEnv(b)
	e.bulkContacts(b, n)
	tag := e.tag(b, "clientes")
	if _, err := e.st.DB().Exec(`UPDATE contacts SET tag_ids = ARRAY[$1::bigint] WHERE org_id = $2`, tag, e.a.OrgID); err != nil {
		b.Fatal(err)
	}
	filter, _ := json.Marshal(model.ContactFilter{TagIDs: []int64{tag}})
	seg, err := e.st.CreateSegment(e.ctx, e.a.OrgID, "Clientes", filter, e.member(b))
	if err != nil {
		b.Fatal(err)
	}
	if err := e.inst.App.Jobs.QueuePause(e.ctx, jobs.QueueCadence, nil); err != nil {
		b.Fatal(err)
	}
	var secs float64
	for i := range b.N {
		cid := e.cadence(b, "Segmento "+time.Now().Format("150405.000")+string(rune('a'+i)),
			[]model.CadenceStep{{ID: "s1", Kind: model.StepTag, TagID: tag}}, "UPDATE cadences SET enrol_segment_id = "+itoa(seg))
		b.ResetTimer()
		start := time.Now()
		res, err := e.eng.EnrolSegment(e.ctx, e.a.OrgID, cid)
		if err != nil {
			b.Fatal(err)
		}
		secs = time.Since(start).Seconds()
		b.StopTimer()
		if res.Enrolled != n {
			b.Fatalf("%d enrolled, want %d", res.Enrolled, n)
		}
		// New matches only: a second pass enrols nobody.
		if again, err := e.eng.EnrolSegment(e.ctx, e.a.OrgID, cid); err != nil || again.Enrolled != 0 {
			b.Fatalf("again: %+v %v", again, err)
		}
	}
	b.ReportMetric(secs, "enrol-s")
	b.Logf("a %d-contact segment enrolled in %.2f s (goal under 10)", n, secs)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// riverNoop is the rate of bare River no-op jobs on this database with 100 workers: the
// bound a step (a job with its transaction) is measured against.
func riverNoop(b *testing.B, e env, n int) float64 {
	b.Helper()
	reg := jobs.NewRegistry()
	var done atomic.Int64
	river.AddWorker(reg.Workers, river.WorkFunc(func(ctx context.Context, j *river.Job[noopArgs]) error {
		done.Add(1)
		return nil
	}))
	client, err := jobs.New(e.ctx, e.st.DB().DB, e.inst.App.Config.DatabaseURL, reg, jobs.Options{MaxWorkers: 100, Queue: "bench_noop"})
	if err != nil {
		b.Fatal(err)
	}
	if err := client.Start(e.ctx); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = client.Stop(e.ctx) }()
	params := make([]river.InsertManyParams, n)
	for i := range params {
		params[i] = river.InsertManyParams{Args: noopArgs{I: i}, InsertOpts: &river.InsertOpts{Queue: "bench_noop"}}
	}
	start := time.Now()
	for i := 0; i < n; i += 1000 {
		if _, err := client.InsertMany(e.ctx, params[i:min(n, i+1000)]); err != nil {
			b.Fatal(err)
		}
	}
	wait(b, 5*time.Minute, "the no-op jobs", func() bool { return done.Load() >= int64(n) })
	return float64(n) / time.Since(start).Seconds()
}

type noopArgs struct {
	I int `json:"i"`
}

func (noopArgs) Kind() string { return "bench.cadence_noop" }
