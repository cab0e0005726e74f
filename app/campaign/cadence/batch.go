package cadence

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"masteria/app/events"
	"masteria/app/jobs"
	"masteria/app/model"
	"masteria/app/store"
)

// BatchSize is the most enrolments one step job carries.
//
// Steps are batched: enrolling, and a batch finishing a step, queue one job per up to
// BatchSize enrolments due at the same step at the same time (StepArgs.EnrolmentIDs), not
// one per enrolment. A batch's job (RunBatch) locks those of its enrolments still at the
// step and does their non-send steps in one transaction, with set-based statements where
// the step allows (the ledger's lines claimed in one INSERT, a tag in one UPDATE, the
// enrolments moved on in one UPDATE, the next steps' jobs and the events written
// together). The ledger is the same as a single step's: a line per enrolment and step,
// claimed before acting, so a batch run twice (a retry, a crash, a wake-up) does nothing
// twice. Send steps (WhatsApp, SMS, calls) keep their own transaction each, with the
// contact policy's record, run one after the other from the batch's job.
const BatchSize = 500

// batch gathers what a batch's transaction writes at its end.
type batch struct {
	orgID int64
	moves map[string][]int64 // next step ("" completed) → enrolments moved there
	jobs  map[jobKey][]int64 // a step due at a time → enrolments whose job it is
	steps []events.CadenceStepRef
	exits []events.CadenceExit
}

type jobKey struct {
	org  int64
	step string
	at   time.Time
}

type batchKey struct{}

// batchOf is the batch whose transaction ctx runs in, if any.
func batchOf(ctx context.Context) *batch {
	b, _ := ctx.Value(batchKey{}).(*batch)
	return b
}

func newBatch(orgID int64) *batch {
	return &batch{orgID: orgID, moves: map[string][]int64{}, jobs: map[jobKey][]int64{}}
}

// later queues an enrolment's step at a time (zero: now) with the batch's other jobs.
func (b *batch) later(orgID int64, step string, at time.Time, enrolmentID int64) {
	k := jobKey{orgID, step, ceilSecond(at)}
	b.jobs[k] = append(b.jobs[k], enrolmentID)
}

// ceilSecond rounds a due time up to its second, so steps due a moment apart (held until
// the same quiet hours' end, say) share a job and none runs before its time.
func ceilSecond(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	if c := t.Truncate(time.Second); c.Before(t) {
		return c.Add(time.Second)
	}
	return t
}

// flush writes what the batch gathered: the moves, the jobs, the events.
func (b *batch) flush(ctx context.Context, e *Engine, tx *store.Store) error {
	for next, ids := range b.moves {
		if err := tx.MoveEnrolments(ctx, b.orgID, ids, next); err != nil {
			return err
		}
	}
	if err := e.insertBatches(ctx, tx, b.jobs); err != nil {
		return err
	}
	if err := events.CadenceStep.PublishMany(ctx, tx, b.orgID, b.steps); err != nil {
		return err
	}
	return events.CadenceExited.PublishMany(ctx, tx, b.orgID, b.exits)
}

// insertBatches inserts the jobs of steps due at times, BatchSize enrolments a job.
func (e *Engine) insertBatches(ctx context.Context, tx *store.Store, due map[jobKey][]int64) error {
	var params []river.InsertManyParams
	for k, ids := range due {
		opts := &river.InsertOpts{Queue: jobs.QueueCadence, MaxAttempts: 25}
		if !k.at.IsZero() {
			opts.ScheduledAt = k.at
		}
		for c := range slices.Chunk(ids, BatchSize) {
			params = append(params, river.InsertManyParams{Args: StepArgs{OrgID: k.org, StepID: k.step, EnrolmentIDs: c}, InsertOpts: opts})
		}
	}
	if len(params) == 0 {
		return nil
	}
	if e.opts.Jobs == nil {
		return errors.New("cadence: no job queue")
	}
	_, err := e.opts.Jobs.InsertManyFastTx(ctx, tx.SQLTx(), params)
	return err
}

// follow gathers the enrolments a batch's sends moved to their next step, whose job is
// then one batch queued once the sends are done (a job kept in reserve for it, due a lease
// later, covers a crash in between).
type follow struct {
	orgID int64
	next  map[string][]int64 // next step → enrolments moved there
}

type followKey struct{}

func followOf(ctx context.Context) *follow {
	f, _ := ctx.Value(followKey{}).(*follow)
	return f
}

// take gathers an enrolment moved to a step its batch follows; false for another step.
func (f *follow) take(orgID int64, step string, enrolmentID int64) bool {
	if _, ok := f.next[step]; !ok || orgID != f.orgID {
		return false
	}
	f.next[step] = append(f.next[step], enrolmentID)
	return true
}

// RunBatch runs a step of a batch of enrolments (those still at it): non-send steps in
// one transaction, send steps one by one after it. If the transaction fails, every
// enrolment of the batch runs alone (RunStep), so one bad enrolment never holds up the
// others; one whose step fails alone gets a job of its own, retried by River.
func (e *Engine) RunBatch(ctx context.Context, args StepArgs) error {
	start := time.Now()
	var (
		sends   []int64              // the send steps, run one by one after the transaction
		reserve = map[string]int64{} // next step of the sends → its reserve job
	)
	err := e.st.Tx(ctx, func(tx *store.Store) error {
		sends = nil
		clear(reserve)
		b := newBatch(args.OrgID)
		bctx := context.WithValue(ctx, batchKey{}, b)
		ens, err := tx.LockEnrolmentsAt(ctx, args.OrgID, args.EnrolmentIDs, args.StepID)
		if err != nil {
			return err
		}
		type group struct {
			step model.CadenceStep
			ens  []store.LockedEnrolment
		}
		var groups []*group // set-based steps, by cadence version
		byVersion := map[versionKey]*group{}
		now := e.now()
		for _, en := range ens {
			step, ok, wait, err := e.ready(bctx, tx, en)
			if err != nil {
				return err
			}
			if !ok {
				if wait > 0 { // its step again then
					b.later(en.OrgID, en.StepID, now.Add(wait), en.ID)
				}
				continue
			}
			switch step.Kind {
			case model.StepWhatsApp, model.StepSMS, model.StepCall:
				sends = append(sends, en.ID)
				if step.Next != "" {
					reserve[step.Next] = 0
				}
			case model.StepTag, model.StepUntag, model.StepAssign, model.StepClassify, model.StepWait:
				if step.Kind == model.StepWait && (step.Window != nil || step.WaitMinutes <= 0) {
					// A window is in each contact's zone: one by one, as below.
					if err := e.runOne(bctx, b, tx, en, step, now); err != nil {
						return err
					}
					continue
				}
				k := versionKey{en.CadenceID, en.Version}
				g := byVersion[k]
				if g == nil {
					g = &group{step: step}
					byVersion[k] = g
					groups = append(groups, g)
				}
				g.ens = append(g.ens, en)
			default:
				if err := e.runOne(bctx, b, tx, en, step, now); err != nil {
					return err
				}
			}
		}
		for _, g := range groups {
			var err error
			if g.step.Kind == model.StepWait {
				err = e.waitMany(bctx, b, tx, g.step, g.ens, now)
			} else {
				err = e.actMany(bctx, tx, g.step, g.ens)
			}
			if err != nil {
				return err
			}
		}
		// A job in reserve for the sends' next step, in case this one dies half way.
		for next := range reserve {
			res, err := e.opts.Jobs.InsertTx(ctx, tx.SQLTx(), StepArgs{OrgID: args.OrgID, StepID: next, EnrolmentIDs: sends},
				&river.InsertOpts{Queue: jobs.QueueCadence, MaxAttempts: 25, ScheduledAt: now.Add(e.opts.Lease)})
			if err != nil {
				return err
			}
			reserve[next] = res.Job.ID
		}
		return b.flush(ctx, e, tx)
	})
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		slog.Warn("cadence: batch failed, its enrolments go one by one", "step", args.StepID, "n", len(args.EnrolmentIDs), "err", err)
		return e.oneByOne(ctx, args, args.EnrolmentIDs, nil, nil, start)
	}
	if len(sends) == 0 {
		return nil
	}
	f := &follow{orgID: args.OrgID, next: map[string][]int64{}}
	for next := range reserve {
		f.next[next] = nil
	}
	return e.oneByOne(context.WithValue(ctx, followKey{}, f), args, sends, f, reserve, start)
}

// runOne does the step of one enrolment of a batch in the batch's transaction (a step
// with no set-based form: stage, notify, await, a wait in a window).
func (e *Engine) runOne(ctx context.Context, b *batch, tx *store.Store, en store.LockedEnrolment, step model.CadenceStep, now time.Time) error {
	wait, call, err := e.runKind(ctx, tx, en, step)
	if err != nil {
		return err
	}
	if call != nil { // not a send step: never
		return errors.New("cadence: a call in a batch's transaction")
	}
	if wait > 0 {
		b.later(en.OrgID, en.StepID, now.Add(wait), en.ID)
	}
	return nil
}

// waitMany starts a wait of a number of minutes (no window) for enrolments of one cadence
// version at it: their lines claimed as waiting and their due time set in one statement
// each, their step's job one batch at the end of the wait. Those whose wait had started
// (a job woken early, or at its end) go one by one.
func (e *Engine) waitMany(ctx context.Context, b *batch, tx *store.Store, step model.CadenceStep, ens []store.LockedEnrolment, now time.Time) error {
	orgID := ens[0].OrgID
	ids := make([]int64, len(ens))
	for i, en := range ens {
		ids[i] = en.ID
	}
	claimed, err := tx.ClaimSteps(ctx, orgID, ids, step.ID, step.Kind, model.StepWaiting, "")
	if err != nil {
		return err
	}
	isClaimed := make(map[int64]bool, len(claimed))
	for _, id := range claimed {
		isClaimed[id] = true
	}
	due := now.Add(time.Duration(step.WaitMinutes) * e.opts.Minute)
	if len(claimed) > 0 {
		if err := tx.SetEnrolmentsDue(ctx, orgID, claimed, due); err != nil {
			return err
		}
	}
	var over []int64 // started before, and due: their waits end together
	for _, en := range ens {
		if !isClaimed[en.ID] && en.DueAt != nil && !now.Before(*en.DueAt) {
			over = append(over, en.ID)
		}
	}
	ended := map[int64]bool{}
	if len(over) > 0 {
		ids, err := tx.FinishWaitingSteps(ctx, orgID, over, step.ID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			ended[id] = true
		}
	}
	for _, en := range ens {
		r := &run{e: e, tx: tx, en: en, step: step, now: now}
		r.contact.ID = en.ContactID
		switch {
		case ended[en.ID]:
			if err := r.moveOn(ctx, model.StepDone, "", step.Next); err != nil {
				return err
			}
		case !isClaimed[en.ID]:
			if err := e.runOne(ctx, b, tx, en, step, now); err != nil {
				return err
			}
		default:
			if err := e.publishStep(ctx, tx, en.Enrolment, step, model.StepWaiting, ""); err != nil {
				return err
			}
			b.later(orgID, step.ID, due, en.ID)
		}
	}
	return nil
}

// oneByOne runs a batch's enrolments alone, each in its own transaction (send steps, or
// every step when the batch's transaction failed), then queues in one transaction what
// comes next: the next step of those moved on (f), and instead of their reserve jobs, the
// steps that wait, those that failed (a job each, which River retries), and those left
// when the batch ran out of time (a batch again).
func (e *Engine) oneByOne(ctx context.Context, args StepArgs, ids []int64, f *follow, reserve map[string]int64, start time.Time) error {
	due := map[jobKey][]int64{}
	var failed []int64
	for i, id := range ids {
		if time.Since(start) > e.opts.Lease/4 {
			k := jobKey{args.OrgID, args.StepID, time.Time{}}
			due[k] = append(due[k], ids[i:]...)
			break
		}
		wait, err := e.RunStep(ctx, StepArgs{OrgID: args.OrgID, EnrolmentID: id, StepID: args.StepID})
		switch {
		case err != nil && ctx.Err() != nil:
			return err // the job runs again: those done are no-ops then
		case err != nil:
			slog.Warn("cadence: step failed", "enrolment", id, "step", args.StepID, "err", err)
			failed = append(failed, id)
		case wait > 0:
			k := jobKey{args.OrgID, args.StepID, ceilSecond(e.now().Add(wait))}
			due[k] = append(due[k], id)
		}
	}
	if f != nil {
		for next, moved := range f.next {
			k := jobKey{args.OrgID, next, time.Time{}}
			due[k] = append(due[k], moved...)
		}
	}
	if len(due) == 0 && len(failed) == 0 && len(reserve) == 0 {
		return nil
	}
	return e.st.Tx(ctx, func(tx *store.Store) error {
		if err := e.insertBatches(ctx, tx, due); err != nil {
			return err
		}
		for _, id := range failed {
			if _, err := e.opts.Jobs.InsertTx(ctx, tx.SQLTx(), StepArgs{OrgID: args.OrgID, EnrolmentID: id, StepID: args.StepID},
				&river.InsertOpts{Queue: jobs.QueueCadence, MaxAttempts: 25, ScheduledAt: e.now().Add(e.opts.Retry)}); err != nil {
				return err
			}
		}
		for _, id := range reserve {
			if _, err := e.opts.Jobs.JobDeleteTx(ctx, tx.SQLTx(), id); err != nil && !errors.Is(err, river.ErrNotFound) && !errors.Is(err, rivertype.ErrJobRunning) {
				return err
			}
		}
		return nil
	})
}

// actMany does an action step that acts on many contacts at once (tag, untag, assign,
// classify) for enrolments of one cadence version at it: their lines claimed in one
// statement, the action in one, and each moved on (gathered by the batch).
func (e *Engine) actMany(ctx context.Context, tx *store.Store, step model.CadenceStep, ens []store.LockedEnrolment) error {
	orgID := ens[0].OrgID
	now := e.now()
	skip := func(en store.LockedEnrolment, reason string) error {
		r := &run{e: e, tx: tx, en: en, step: step, now: now}
		r.contact.ID = en.ContactID
		if err := r.skipNow(ctx, reason); err != nil && !errors.Is(err, errDone) {
			return err
		}
		return nil
	}
	var todo []store.LockedEnrolment
	switch step.Kind {
	case model.StepAssign:
		if _, err := tx.Member(ctx, orgID, step.UserID); err != nil {
			if !errors.Is(err, model.ErrNotFound) {
				return err
			}
			for _, en := range ens {
				if err := skip(en, "member_gone"); err != nil {
					return err
				}
			}
			return nil
		}
		todo = ens
	case model.StepClassify:
		for _, en := range ens {
			if en.LeadID == nil || e.opts.Classifier == nil {
				if err := skip(en, "no_lead"); err != nil {
					return err
				}
				continue
			}
			todo = append(todo, en)
		}
	default:
		todo = ens
	}
	if len(todo) == 0 {
		return nil
	}
	ids := make([]int64, len(todo))
	for i, en := range todo {
		ids[i] = en.ID
	}
	claimed, err := tx.ClaimSteps(ctx, orgID, ids, step.ID, step.Kind, model.StepDone, "")
	if err != nil || len(claimed) == 0 {
		return err
	}
	isClaimed := make(map[int64]bool, len(claimed))
	for _, id := range claimed {
		isClaimed[id] = true
	}
	var contacts, leads []int64
	var done []store.LockedEnrolment
	for _, en := range todo {
		if !isClaimed[en.ID] {
			continue // its line was there: done before
		}
		done = append(done, en)
		contacts = append(contacts, en.ContactID)
		if en.LeadID != nil {
			leads = append(leads, *en.LeadID)
		}
	}
	switch step.Kind {
	case model.StepTag:
		_, err = tx.TagContacts(ctx, orgID, contacts, step.TagID)
	case model.StepUntag:
		_, err = tx.UntagContacts(ctx, orgID, contacts, step.TagID)
	case model.StepAssign:
		uid := step.UserID
		_, err = tx.AssignContacts(ctx, orgID, contacts, &uid)
	case model.StepClassify:
		err = e.opts.Classifier.EnqueueTx(ctx, tx, orgID, leads)
	}
	if err != nil {
		return err
	}
	for _, en := range done {
		r := &run{e: e, tx: tx, en: en, step: step, now: now}
		r.contact.ID = en.ContactID
		if err := r.moveOn(ctx, model.StepDone, "", step.Next); err != nil {
			return err
		}
	}
	return nil
}
