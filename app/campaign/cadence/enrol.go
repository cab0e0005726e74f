package cadence

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"masteria/app/events"
	"masteria/app/jobs"
	"masteria/app/model"
	"masteria/app/store"
)

// MaxEnrol is the most contacts one request enrols (the API, a bulk action); a segment
// enrols all its matches.
const MaxEnrol = 10000

// canRun tells whether the actor may enrol, remove, pause and resume people: managers and
// above.
func canRun(a model.Actor) error {
	if !a.Role.AtLeast(model.RoleManager) {
		return model.ErrForbidden
	}
	return nil
}

// Enrol enrols contacts of the actor's org in an active cadence, at the first step of its
// current version; a contact in the cadence already is left as it is and counted in
// Already, an id that is not a contact of the org in NotFound. A cadence of another org is
// model.ErrNotFound; one that is not active a field error.
func (e *Engine) Enrol(ctx context.Context, a model.Actor, cadenceID int64, contactIDs []int64, source string) (model.EnrolResult, error) {
	if err := canRun(a); err != nil {
		return model.EnrolResult{}, err
	}
	if source == "" {
		source = model.EnrolManual
	}
	if !slices.Contains([]string{model.EnrolManual, model.EnrolAPI}, source) {
		return model.EnrolResult{}, model.FieldError("source", "cadence.error.source")
	}
	ids := uniq(contactIDs)
	if len(ids) == 0 {
		return model.EnrolResult{}, model.FieldError("contact_ids", "cadence.error.no_contacts")
	}
	if len(ids) > MaxEnrol {
		return model.EnrolResult{}, model.FieldError("contact_ids", "cadence.error.too_many_contacts")
	}
	var res model.EnrolResult
	err := e.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		res, err = e.enrolTx(ctx, tx, a.OrgID, cadenceID, ids, source, a.UserRef(), false)
		return err
	})
	return res, err
}

func uniq(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	out = slices.Compact(out)
	return slices.DeleteFunc(out, func(id int64) bool { return id <= 0 })
}

// enrolTx enrols contacts in tx and inserts their first steps' jobs.
func (e *Engine) enrolTx(ctx context.Context, tx *store.Store, orgID, cadenceID int64, ids []int64, source string, by *int64, newOnly bool) (model.EnrolResult, error) {
	c, err := tx.Cadence(ctx, orgID, cadenceID)
	if err != nil {
		return model.EnrolResult{}, err
	}
	if c.Status != model.CadenceActive {
		return model.EnrolResult{}, model.FieldError("cadence", "cadence.error.not_active")
	}
	steps, err := e.steps(ctx, tx, orgID, c.ID, c.CurrentVersion)
	if err != nil {
		return model.EnrolResult{}, err
	}
	if len(steps) == 0 {
		return model.EnrolResult{}, model.FieldError("cadence", "cadence.error.not_active")
	}
	enrolled, found, err := tx.Enrol(ctx, orgID, c.ID, c.CurrentVersion, steps[0].ID, source, by, ids, newOnly)
	if err != nil {
		return model.EnrolResult{}, err
	}
	res := model.EnrolResult{Enrolled: len(enrolled), Already: int(found) - len(enrolled), NotFound: len(ids) - int(found), IDs: enrolled}
	if len(enrolled) == 0 {
		return res, nil
	}
	if e.opts.Jobs == nil {
		return res, errors.New("cadence: no job queue")
	}
	// The first step's jobs: one per batch of enrolments.
	if err := e.insertBatches(ctx, tx, map[jobKey][]int64{{orgID, steps[0].ID, time.Time{}}: enrolled}); err != nil {
		return res, err
	}
	ev := events.CadenceEnrolment{CadenceID: c.ID, Count: len(enrolled), Source: source, EnrolmentIDs: enrolled[:min(100, len(enrolled))]}
	if len(ids) == 1 {
		ev.ContactID = ids[0]
	}
	_, err = events.CadenceEnrolled.Publish(ctx, tx, orgID, ev)
	return res, err
}

// Exit removes an enrolment from its cadence (by hand: "manual", or another reason);
// one that had ended already is left as it was. Another org's is model.ErrNotFound.
func (e *Engine) Exit(ctx context.Context, a model.Actor, enrolmentID int64, reason string) error {
	if err := canRun(a); err != nil {
		return err
	}
	if reason == "" {
		reason = model.ExitManual
	}
	return e.st.Tx(ctx, func(tx *store.Store) error {
		en, err := tx.LockEnrolment(ctx, a.OrgID, enrolmentID)
		if err != nil {
			return err
		}
		return e.exit(ctx, tx, en.Enrolment, reason)
	})
}

// PauseEnrolment holds an enrolment where it is; its step's job finds it paused and stops.
func (e *Engine) PauseEnrolment(ctx context.Context, a model.Actor, enrolmentID int64) error {
	if err := canRun(a); err != nil {
		return err
	}
	return e.st.Tx(ctx, func(tx *store.Store) error {
		en, err := tx.LockEnrolment(ctx, a.OrgID, enrolmentID)
		if err != nil {
			return err
		}
		step, ok, err := tx.SetEnrolmentStatus(ctx, a.OrgID, en.ID, model.EnrolmentPaused, model.EnrolmentActive)
		if err != nil || !ok {
			return err
		}
		return e.publishStep(ctx, tx, en.Enrolment, model.CadenceStep{ID: step}, model.EnrolmentPaused, "")
	})
}

// ResumeEnrolment lets a paused enrolment go on: its step runs again now (a wait or an
// await not over keeps waiting until its time).
func (e *Engine) ResumeEnrolment(ctx context.Context, a model.Actor, enrolmentID int64) error {
	if err := canRun(a); err != nil {
		return err
	}
	return e.st.Tx(ctx, func(tx *store.Store) error {
		en, err := tx.LockEnrolment(ctx, a.OrgID, enrolmentID)
		if err != nil {
			return err
		}
		step, ok, err := tx.SetEnrolmentStatus(ctx, a.OrgID, en.ID, model.EnrolmentActive, model.EnrolmentPaused)
		if err != nil || !ok {
			return err
		}
		if err := e.schedule(ctx, tx, a.OrgID, en.ID, step, time.Time{}, time.Now().UnixNano()); err != nil {
			return err
		}
		return e.publishStep(ctx, tx, en.Enrolment, model.CadenceStep{ID: step}, model.EnrolmentActive, "")
	})
}

// Enrolment is one enrolment of the org with its timeline.
func (e *Engine) Enrolment(ctx context.Context, orgID, id int64) (model.Enrolment, error) {
	en, err := e.st.Enrolment(ctx, orgID, id)
	if err != nil {
		return en, err
	}
	en.Steps, err = e.st.EnrolmentSteps(ctx, orgID, id)
	return en, err
}

// EnrolmentSteps are the steps of an enrolment's cadence version (for naming its timeline).
func (e *Engine) EnrolmentSteps(ctx context.Context, en model.Enrolment) ([]model.CadenceStep, error) {
	return e.steps(ctx, e.st, en.OrgID, en.CadenceID, en.Version)
}

// Enrolments lists a cadence's enrolments (another org's cadence: model.ErrNotFound).
func (e *Engine) Enrolments(ctx context.Context, orgID, cadenceID int64, status string, before int64, limit int) ([]model.Enrolment, error) {
	if _, err := e.st.Cadence(ctx, orgID, cadenceID); err != nil {
		return nil, err
	}
	return e.st.Enrolments(ctx, orgID, cadenceID, status, before, limit)
}

// ContactEnrolments lists a contact's cadences.
func (e *Engine) ContactEnrolments(ctx context.Context, orgID, contactID int64) ([]model.Enrolment, error) {
	return e.st.ContactEnrolments(ctx, orgID, contactID)
}

// Funnel is a cadence's funnel over its current version's steps.
func (e *Engine) Funnel(ctx context.Context, orgID, cadenceID int64) (model.Cadence, model.Funnel, error) {
	c, err := e.st.Cadence(ctx, orgID, cadenceID)
	if err != nil {
		return c, model.Funnel{}, err
	}
	steps, err := e.steps(ctx, e.st, orgID, c.ID, c.CurrentVersion)
	if err != nil {
		return c, model.Funnel{}, err
	}
	c.Steps = steps
	f, err := e.st.CadenceFunnel(ctx, orgID, cadenceID, steps)
	return c, f, err
}

// EnrolSegments enrols the new matches of every active cadence's segment: contacts never
// enrolled in the cadence before.
func (e *Engine) EnrolSegments(ctx context.Context) error {
	refs, err := e.st.CadencesEnrollingSegment(ctx)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		if _, err := e.EnrolSegment(ctx, ref.OrgID, ref.ID); err != nil {
			slog.Warn("cadence: segment enrolment", "cadence", ref.ID, "err", err)
		}
	}
	return nil
}

// EnrolSegment enrols the new matches of one cadence's segment.
func (e *Engine) EnrolSegment(ctx context.Context, orgID, cadenceID int64) (model.EnrolResult, error) {
	c, err := e.st.Cadence(ctx, orgID, cadenceID)
	if err != nil || c.EnrolSegmentID == nil || c.Status != model.CadenceActive {
		return model.EnrolResult{}, err
	}
	sg, err := e.st.Segment(ctx, orgID, *c.EnrolSegmentID)
	if err != nil {
		return model.EnrolResult{}, err
	}
	var f model.ContactFilter
	if err := json.Unmarshal(sg.Filter, &f); err != nil {
		return model.EnrolResult{}, err
	}
	ids, err := e.st.ContactIDs(ctx, orgID, 0, f, 1_000_000)
	if err != nil || len(ids) == 0 {
		return model.EnrolResult{}, err
	}
	var res model.EnrolResult
	err = e.st.Tx(ctx, func(tx *store.Store) error {
		res, err = e.enrolTx(ctx, tx, orgID, cadenceID, ids, model.EnrolSegment, nil, true)
		return err
	})
	return res, err
}

// TickArgs is the engine's housekeeping, run by the queue's leader every tick: the sweep
// wakes the steps whose job died with its process, and (every minute) segments' new
// matches join their cadences.
type TickArgs struct{}

// Kind is the job's stable name.
func (TickArgs) Kind() string { return "cadence.tick" }

// InsertOpts puts it on the cadences' queue.
func (TickArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: jobs.QueueCadence} }

// TickWorker runs TickArgs.
type TickWorker struct {
	river.WorkerDefaults[TickArgs]
	Engine *Engine
}

// Work sweeps, and enrols the segments' new matches once a minute.
func (w *TickWorker) Work(ctx context.Context, _ *river.Job[TickArgs]) error {
	if _, err := w.Engine.Sweep(ctx); err != nil {
		return err
	}
	e := w.Engine
	e.mu.Lock()
	due := time.Since(e.segmentsAt) >= time.Minute
	if due {
		e.segmentsAt = time.Now()
	}
	e.mu.Unlock()
	if !due {
		return nil
	}
	return e.EnrolSegments(ctx)
}

// Sweep wakes up to 1,000 running enrolments whose step was due a while ago (twice the
// lease) and has no live job: its job died with its process (a kill -9 leaves it "running"
// until River's rescue, an hour later). A step woken twice still runs once.
func (e *Engine) Sweep(ctx context.Context) (int, error) {
	now := e.now()
	stalled, err := e.st.StalledSteps(ctx, now.Add(-2*e.opts.Lease), now.Add(-e.opts.Lease), 1000)
	if err != nil || len(stalled) == 0 {
		return 0, err
	}
	err = e.st.Tx(ctx, func(tx *store.Store) error {
		due := map[jobKey][]int64{} // in batches by org and step
		for _, s := range stalled {
			k := jobKey{s.OrgID, s.StepID, time.Time{}}
			due[k] = append(due[k], s.EnrolmentID)
		}
		return e.insertBatches(ctx, tx, due)
	})
	if err == nil {
		slog.Info("cadence: woke stalled steps", "n", len(stalled))
	}
	return len(stalled), err
}

// Register adds the engine's workers, and its housekeeping every tick.
func Register(reg *jobs.Registry, e *Engine, tick time.Duration) {
	river.AddWorker(reg.Workers, &StepWorker{Engine: e})
	river.AddWorker(reg.Workers, &TickWorker{Engine: e})
	if tick > 0 {
		reg.Periodic = append(reg.Periodic, river.NewPeriodicJob(river.PeriodicInterval(tick),
			func() (river.JobArgs, *river.InsertOpts) { return TickArgs{}, nil },
			&river.PeriodicJobOpts{ID: "cadence.tick"}))
	}
}

// Active are the org's active cadences (the enrol menus).
func (e *Engine) Active(ctx context.Context, orgID int64) ([]model.Cadence, error) {
	return e.st.ActiveCadences(ctx, orgID)
}
