// Package cadence runs cadences: follow-ups that walk each enrolled contact through a
// graph of steps (app/model/cadence.go).
//
// The Engine (engine.go, batch.go, enrol.go, outcomes.go) runs enrolments. Steps are River
// jobs (StepArgs, queue jobs.QueueCadence) at their due time, one job for a batch of up to
// BatchSize enrolments due at the same step at the same time (a single enrolment's job for
// a wake-up or a resume), and each enrolment's line for the step in cadence_steps (UNIQUE
// enrolment, step) is the ledger: a job claims the line before it acts. A batch does its
// non-send steps in one transaction (set-based where the step allows: tags, waits); a
// message step queues its message, records the contact policy's count and moves the
// enrolment to the next step in a transaction of its own, and its next step's job (with
// the batch's others) is kept in reserve from the batch's start, so a retry, a crash or two
// instances send nothing twice and a crash between steps loses no enrolment. A call is placed outside the transaction (Retell
// answers over HTTP): its claimed line is found again after a crash and matched with the
// call placed since, before anything is dialled again.
//
// What came of a send is known only from the providers' reports: status webhooks (inbox
// hooks: MessagesMoved), a reply on any channel (Replied), a call's end (calls hook). They
// update the ledger and wake an await waiting on it.
package cadence

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"masteria/app/campaign/compose"
	"masteria/app/events"
	"masteria/app/inbox"
	"masteria/app/jobs"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/voice/dial"
)

// Inserter puts jobs in the queue inside a transaction, and deletes one that is not needed
// any more (the River client).
type Inserter interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertManyFastTx(ctx context.Context, tx *sql.Tx, params []river.InsertManyParams) (int, error)
	JobDeleteTx(ctx context.Context, tx *sql.Tx, id int64) (*rivertype.JobRow, error)
}

// Sender starts a conversation with a contact and queues its first message (inbox.Service).
type Sender interface {
	Start(ctx context.Context, a model.Actor, in inbox.StartInput) (inbox.Started, error)
}

// Dialer places a call (dial.Service).
type Dialer interface {
	Start(ctx context.Context, r dial.Request) (model.Call, error)
}

// Mover moves a lead on the board inside a transaction (board.Service).
type Mover interface {
	MoveTx(ctx context.Context, tx *store.Store, a model.Actor, leadID, stageID int64) error
}

// Classifier queues the AI's classification of leads (progression.Service).
type Classifier interface {
	EnqueueTx(ctx context.Context, tx *store.Store, orgID int64, leadIDs []int64) error
}

// Send is one automated send as the contact policy sees it (the policy's seam).
type Send struct {
	OrgID, ContactID int64
	Channel          string // whatsapp, sms, voice
	Phone            string // E.164, "" if none
	Text             string // the SMS text after its variables
	Source           string // campaign, cadence
	SourceID         int64
	SourceName       string
}

// Verdict is the contact policy's answer.
type Verdict struct {
	OK     bool
	Reason string    // opted_out, capped, quiet_hours, no_phone, duplicate_sms
	Detail string    // plain words
	Until  time.Time // when it may go (quiet hours, cap); zero if never
}

// Policy is the contact policy every automated send passes: Check before, Record in the
// transaction that commits to sending.
type Policy interface {
	Check(ctx context.Context, tx *store.Store, s Send, now time.Time) (Verdict, error)
	Record(ctx context.Context, tx *store.Store, s Send, now time.Time) (Verdict, error)
}

// allow is the policy until one is set: everything may go.
type allow struct{}

func (allow) Check(context.Context, *store.Store, Send, time.Time) (Verdict, error) {
	return Verdict{OK: true}, nil
}
func (allow) Record(context.Context, *store.Store, Send, time.Time) (Verdict, error) {
	return Verdict{OK: true}, nil
}

// EngineOptions are the engine's collaborators, wired at start; a nil one is what it
// cannot do (a call step without a Dialer is skipped).
type EngineOptions struct {
	Jobs       Inserter
	Sender     Sender
	Dialer     Dialer
	Mover      Mover
	Classifier Classifier
	Policy     Policy
	// Retry is how long a step waits for what holds it (a paused cadence or channel, a
	// busy org for calls); a minute by default.
	Retry time.Duration
	// Lease is how long a step job may run: one running longer died with its process,
	// and the sweep wakes its step again (2 minutes by default).
	Lease time.Duration
	// Minute is how long a step's minute lasts (waits, awaits' limits): time.Minute, but
	// tests shorten it.
	Minute time.Duration
	Now    func() time.Time
}

// Engine runs enrolments.
type Engine struct {
	st   *store.Store
	opts EngineOptions
	// versions caches the steps of cadence versions, which never change once written.
	versions sync.Map // versionKey → []model.CadenceStep

	mu         sync.Mutex
	segmentsAt time.Time // when the tick last enrolled segments' new matches
}

type versionKey struct {
	cadence int64
	version int
}

// NewEngine returns the engine over a store.
func NewEngine(st *store.Store, opts EngineOptions) *Engine {
	if opts.Policy == nil {
		opts.Policy = allow{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Retry <= 0 {
		opts.Retry = time.Minute
	}
	if opts.Minute <= 0 {
		opts.Minute = time.Minute
	}
	if opts.Lease <= 0 {
		opts.Lease = 2 * time.Minute
	}
	return &Engine{st: st, opts: opts}
}

// SetJobs gives the engine its queue (set once at start, when the River client exists).
func (e *Engine) SetJobs(j Inserter) { e.opts.Jobs = j }

// SetDialer gives the engine the way it places calls.
func (e *Engine) SetDialer(d Dialer) { e.opts.Dialer = d }

// SetTiming sets how long a step's minute lasts and how long a held step waits (tests).
func (e *Engine) SetTiming(minute, retry time.Duration) { e.opts.Minute, e.opts.Retry = minute, retry }

// SetLease sets how long a step job may run before the sweep takes it for dead (tests).
func (e *Engine) SetLease(d time.Duration) { e.opts.Lease = d }

// SetPolicy replaces the contact policy.
func (e *Engine) SetPolicy(p Policy) { e.opts.Policy = p }

func (e *Engine) now() time.Time { return e.opts.Now() }

// StepArgs is one step of one enrolment (EnrolmentID), or of a batch of enrolments
// (EnrolmentIDs, see batch.go), due at the job's time. Wake tells a wake-up (an await's
// send moved) from the step's own job; both run the same idempotent step.
type StepArgs struct {
	OrgID        int64   `json:"org_id"`
	EnrolmentID  int64   `json:"enrolment_id,omitempty"`
	EnrolmentIDs []int64 `json:"enrolment_ids,omitempty"`
	StepID       string  `json:"step_id"`
	Wake         int64   `json:"wake,omitempty"`
}

// Kind is the job's stable name.
func (StepArgs) Kind() string { return "cadence.step" }

// InsertOpts puts steps on the cadences' own queue.
func (StepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueCadence, MaxAttempts: 25}
}

// StepWorker runs StepArgs.
type StepWorker struct {
	river.WorkerDefaults[StepArgs]
	Engine *Engine
}

// Timeout is half the lease, so a job still running after the lease is dead.
func (w *StepWorker) Timeout(*river.Job[StepArgs]) time.Duration { return w.Engine.opts.Lease / 2 }

// Work runs the step (or the batch); a single step that must wait snoozes.
func (w *StepWorker) Work(ctx context.Context, job *river.Job[StepArgs]) error {
	if len(job.Args.EnrolmentIDs) > 0 {
		return w.Engine.RunBatch(ctx, job.Args)
	}
	wait, err := w.Engine.RunStep(ctx, job.Args)
	if err != nil {
		return err
	}
	if wait > 0 {
		return river.JobSnooze(wait)
	}
	return nil
}

// waitErr rolls a step's transaction back: the step cannot go before a time.
type waitErr struct{ until time.Time }

func (w waitErr) Error() string { return "cadence: step waits until " + w.until.Format(time.RFC3339) }

// steps are the steps of a cadence version (cached).
func (e *Engine) steps(ctx context.Context, tx *store.Store, orgID, cadenceID int64, version int) ([]model.CadenceStep, error) {
	k := versionKey{cadenceID, version}
	if v, ok := e.versions.Load(k); ok {
		return v.([]model.CadenceStep), nil
	}
	steps, err := tx.CadenceSteps(ctx, orgID, cadenceID, version)
	if err != nil {
		return nil, err
	}
	e.versions.Store(k, steps)
	return steps, nil
}

func find(steps []model.CadenceStep, id string) (model.CadenceStep, bool) {
	for _, s := range steps {
		if s.ID == id {
			return s, true
		}
	}
	return model.CadenceStep{}, false
}

// run is one step being run, inside its transaction.
type run struct {
	e       *Engine
	tx      *store.Store
	en      store.LockedEnrolment
	step    model.CadenceStep
	contact model.Contact
	now     time.Time
}

// RunStep runs an enrolment's step once: nothing when the enrolment is not at it any more
// (ended, paused, moved on) or the step was done; otherwise the step's work, recorded in
// the ledger with the move to the next step. It returns how long to wait before trying
// again when the step cannot go yet (a paused cadence or channel, quiet hours, a busy
// org, a wait not over).
func (e *Engine) RunStep(ctx context.Context, args StepArgs) (time.Duration, error) {
	var wait time.Duration
	var call *run // a call step claimed: placed once the claim is committed
	err := e.st.Tx(ctx, func(tx *store.Store) error {
		en, err := tx.LockEnrolment(ctx, args.OrgID, args.EnrolmentID)
		if errors.Is(err, model.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if en.Status != model.EnrolmentActive || en.StepID != args.StepID {
			return nil
		}
		step, ok, w, err := e.ready(ctx, tx, en)
		if err != nil || !ok {
			wait = w
			return err
		}
		wait, call, err = e.runKind(ctx, tx, en, step)
		return err
	})
	var we waitErr
	var se skipErr
	if errors.Is(err, errDone) {
		return 0, nil
	}
	if errors.As(err, &se) {
		return 0, e.skipAlone(ctx, args, se.reason)
	}
	if errors.As(err, &we) {
		return max(time.Second, we.until.Sub(e.now())), nil
	}
	if err != nil || call == nil {
		return wait, err
	}
	return e.placeCall(ctx, call)
}

// ready tells whether an enrolment locked at its step may go on with it (its step), or
// waits (a paused cadence) or ended (an archived cadence, a step gone, an opt-out).
func (e *Engine) ready(ctx context.Context, tx *store.Store, en store.LockedEnrolment) (model.CadenceStep, bool, time.Duration, error) {
	switch en.CadenceStatus {
	case model.CadencePaused, model.CadenceDraft:
		return model.CadenceStep{}, false, e.opts.Retry, nil
	case model.CadenceArchived:
		return model.CadenceStep{}, false, 0, e.exit(ctx, tx, en.Enrolment, model.ExitArchived)
	}
	steps, err := e.steps(ctx, tx, en.OrgID, en.CadenceID, en.Version)
	if err != nil {
		return model.CadenceStep{}, false, 0, err
	}
	step, ok := find(steps, en.StepID)
	if !ok {
		return step, false, 0, e.exit(ctx, tx, en.Enrolment, model.ExitGone)
	}
	if en.OptedOut != nil && *en.OptedOut { // an opt-out on any channel always ends it
		return step, false, 0, e.exit(ctx, tx, en.Enrolment, model.ExitOptedOut)
	}
	return step, true, 0, nil
}

// runKind does an enrolment's step (locked, ready) in tx: a call step claimed comes back
// to be placed once tx commits.
func (e *Engine) runKind(ctx context.Context, tx *store.Store, en store.LockedEnrolment, step model.CadenceStep) (wait time.Duration, call *run, err error) {
	r := &run{e: e, tx: tx, en: en, step: step, now: e.now()}
	switch step.Kind { // the steps that read the contact (its phone, zone, fields, owner)
	case model.StepWhatsApp, model.StepSMS, model.StepCall, model.StepWait, model.StepNotify:
		if r.contact, err = tx.Contact(ctx, en.OrgID, en.ContactID); err != nil {
			return 0, nil, err
		}
	default:
		r.contact.ID = en.ContactID
	}
	switch step.Kind {
	case model.StepWhatsApp, model.StepSMS:
		return 0, nil, r.message(ctx)
	case model.StepCall:
		claimed, w, err := r.claimCall(ctx)
		if claimed {
			call = r
		}
		return w, call, err
	case model.StepWait:
		w, err := r.wait(ctx)
		return w, nil, err
	case model.StepAwait:
		return 0, nil, r.await(ctx)
	default:
		return 0, nil, r.act(ctx)
	}
}

// finish records a step's end and moves the enrolment to next.
func (r *run) finish(ctx context.Context, status, outcome, detail string, messageID, callID *int64, next string) error {
	if err := r.tx.SetStep(ctx, r.en.OrgID, r.en.ID, r.step.ID, status, outcome, detail, messageID, callID); err != nil {
		return err
	}
	return r.moveOn(ctx, status, outcome, next)
}

// moveOn publishes the step's end and moves the enrolment to next; the last step's end is
// told by cadence.exited alone.
func (r *run) moveOn(ctx context.Context, status, outcome, next string) error {
	if next != "" {
		if err := r.e.publishStep(ctx, r.tx, r.en.Enrolment, r.step, status, outcome); err != nil {
			return err
		}
	}
	return r.e.advance(ctx, r.tx, r.en.Enrolment, next)
}

// skipErr rolls a send step back (what the policy recorded with it too): the step is then
// skipped with the reason in a transaction of its own.
type skipErr struct{ reason string }

func (s skipErr) Error() string { return "cadence: step skipped: " + s.reason }

// skipAlone skips an enrolment's step with a reason, if it is still at it.
func (e *Engine) skipAlone(ctx context.Context, args StepArgs, reason string) error {
	return e.st.Tx(ctx, func(tx *store.Store) error {
		en, err := tx.LockEnrolment(ctx, args.OrgID, args.EnrolmentID)
		if err != nil || en.Status != model.EnrolmentActive || en.StepID != args.StepID {
			return err
		}
		steps, err := e.steps(ctx, tx, en.OrgID, en.CadenceID, en.Version)
		if err != nil {
			return err
		}
		step, _ := find(steps, en.StepID)
		r := &run{e: e, tx: tx, en: en, step: step, now: e.now()}
		if ok, err := r.claim(ctx, model.StepRunning, ""); err != nil || !ok {
			return err
		}
		return r.skip(ctx, reason)
	})
}

// errDone rolls back a step found done by another run (the enrolment's lock makes it rare).
var errDone = errors.New("cadence: step done already")

// claim claims the step's line with a status; false when it was claimed before.
func (r *run) claim(ctx context.Context, status, detail string) (bool, error) {
	return r.tx.ClaimStep(ctx, r.en.OrgID, r.en.ID, r.step.ID, r.step.Kind, status, detail)
}

// advance moves an enrolment to the step next (its job inserted now) or, at the end,
// completes it.
//
// In a batch's transaction (batchOf) the move, the job and the event are gathered and
// written for the whole batch at its end.
func (e *Engine) advance(ctx context.Context, tx *store.Store, en model.Enrolment, next string) error {
	ex := events.CadenceExit{CadenceID: en.CadenceID, EnrolmentID: en.ID, ContactID: en.ContactID, Status: model.EnrolmentCompleted}
	if b := batchOf(ctx); b != nil && b.orgID == en.OrgID {
		b.moves[next] = append(b.moves[next], en.ID)
		if next == "" {
			b.exits = append(b.exits, ex)
			return nil
		}
		return e.schedule(ctx, tx, en.OrgID, en.ID, next, time.Time{}, 0)
	}
	if err := tx.MoveEnrolment(ctx, en.OrgID, en.ID, next, nil); err != nil {
		return err
	}
	if next == "" {
		_, err := events.CadenceExited.Publish(ctx, tx, en.OrgID, ex)
		return err
	}
	return e.schedule(ctx, tx, en.OrgID, en.ID, next, time.Time{}, 0)
}

// schedule inserts a step's job at a time (zero: now). In a batch's transaction, or for
// the next step of a batch's sends, the job is one of a batch (batch.go).
func (e *Engine) schedule(ctx context.Context, tx *store.Store, orgID, enrolmentID int64, stepID string, at time.Time, wake int64) error {
	if e.opts.Jobs == nil {
		return errors.New("cadence: no job queue")
	}
	if f := followOf(ctx); f != nil && at.IsZero() && wake == 0 && f.take(orgID, stepID, enrolmentID) {
		return nil
	}
	if b := batchOf(ctx); b != nil && wake == 0 {
		b.later(orgID, stepID, at, enrolmentID)
		return nil
	}
	var opts *river.InsertOpts
	if !at.IsZero() {
		opts = &river.InsertOpts{Queue: jobs.QueueCadence, MaxAttempts: 25, ScheduledAt: at}
	}
	_, err := e.opts.Jobs.InsertTx(ctx, tx.SQLTx(), StepArgs{OrgID: orgID, EnrolmentID: enrolmentID, StepID: stepID, Wake: wake}, opts)
	return err
}

func (e *Engine) publishStep(ctx context.Context, tx *store.Store, en model.Enrolment, step model.CadenceStep, status, outcome string) error {
	ref := events.CadenceStepRef{CadenceID: en.CadenceID, EnrolmentID: en.ID,
		ContactID: en.ContactID, StepID: step.ID, Kind: step.Kind, Status: status, Outcome: outcome}
	if b := batchOf(ctx); b != nil && b.orgID == en.OrgID {
		b.steps = append(b.steps, ref)
		return nil
	}
	_, err := events.CadenceStep.Publish(ctx, tx, en.OrgID, ref)
	return err
}

// exit ends a running enrolment early.
func (e *Engine) exit(ctx context.Context, tx *store.Store, en model.Enrolment, reason string) error {
	x, ok, err := tx.ExitEnrolment(ctx, en.OrgID, en.ID, reason)
	if err != nil || !ok {
		return err
	}
	ex := events.CadenceExit{CadenceID: x.CadenceID, EnrolmentID: en.ID, ContactID: x.ContactID, Status: model.EnrolmentExited, Reason: reason}
	if b := batchOf(ctx); b != nil && b.orgID == en.OrgID {
		b.exits = append(b.exits, ex)
		return nil
	}
	_, err = events.CadenceExited.Publish(ctx, tx, en.OrgID, ex)
	return err
}

// skip records a step the contact policy (or the contact's reach) held, and goes on.
func (r *run) skip(ctx context.Context, reason string) error {
	return r.finish(ctx, model.StepSkipped, model.OutcomeSkipped, reason, nil, nil, r.step.Next)
}

// zone is the contact's time zone: its phone's country, else the org's.
func (r *run) zone(ctx context.Context) *time.Location {
	org := time.UTC
	if name, err := r.tx.OrgTimeZone(ctx, r.en.OrgID); err == nil {
		if z, err := time.LoadLocation(name); err == nil {
			org = z
		}
	}
	if r.contact.Phone == nil {
		return org
	}
	return compose.Zone(*r.contact.Phone, org)
}

// message sends a WhatsApp or SMS step through the inbox's Start, as an automated send,
// after the contact policy, in the step's transaction.
func (r *run) message(ctx context.Context) error {
	claimed, err := r.claim(ctx, model.StepRunning, "")
	if err != nil || !claimed {
		return err
	}
	ch, err := r.tx.Channel(ctx, r.en.OrgID, r.step.ChannelID)
	if errors.Is(err, model.ErrNotFound) {
		return r.skip(ctx, "channel_gone")
	}
	if err != nil {
		return err
	}
	if ch.Status == model.ChannelDisconnected || ch.Status == "paused" {
		return waitErr{r.now.Add(r.e.opts.Retry)}
	}
	v := r.step.Message
	if v == nil {
		return r.skip(ctx, "no_message")
	}
	in := inbox.StartInput{ChannelID: ch.ID, ContactID: r.contact.ID, Tx: r.tx, Source: "cadence"}
	text := ""
	if v.TemplateID != 0 || v.Template != "" {
		params, missing := compose.Resolve(mapping(v.Vars), r.contact)
		header, hmissing := compose.Resolve(mapping(v.HeaderVars), r.contact)
		if len(missing)+len(hmissing) > 0 {
			return r.skip(ctx, "missing_variables")
		}
		in.Template = &inbox.TemplateSend{ID: v.TemplateID, Name: v.Template, Language: v.Language, Params: params,
			HeaderParams: header, MediaID: v.MediaID}
	} else {
		out, missing, err := compose.Render(v.Text, r.contact, r.en.ID)
		if err != nil || len(missing) > 0 {
			return r.skip(ctx, "missing_variables")
		}
		text = strings.TrimSpace(out)
		in.Text = text
	}
	send := Send{OrgID: r.en.OrgID, ContactID: r.contact.ID, Channel: r.step.Kind, Text: text, Source: "cadence",
		SourceID: r.en.CadenceID, SourceName: r.en.CadenceName}
	if r.contact.Phone != nil {
		send.Phone = *r.contact.Phone
	}
	if ok, err := r.policy(ctx, send, false); !ok || err != nil {
		return err
	}
	// The policy's record (the cap's count, the SMS dedup slot) and the queued message
	// commit together: a duplicate is skipped before anything is queued, and a send the
	// inbox refuses rolls the record back (skipErr) and is skipped in a transaction of its own.
	if ok, err := r.policy(ctx, send, true); !ok || err != nil {
		return err
	}
	started, err := r.e.opts.Sender.Start(ctx, model.Actor{OrgID: r.en.OrgID}, in)
	var ve *model.ValidationError
	switch {
	case errors.Is(err, inbox.ErrWindowClosed):
		return skipErr{"window_closed"}
	case errors.Is(err, inbox.ErrTemplateNotFound):
		return skipErr{"template_gone"}
	case errors.As(err, &ve):
		return skipErr{reasonOf(ve)}
	case errors.Is(err, model.ErrNotFound):
		return skipErr{"not_reachable"}
	case err != nil:
		return err
	}
	id := started.Message.ID
	return r.finish(ctx, model.StepDone, model.OutcomeSent, "", &id, nil, r.step.Next)
}

// policy asks the contact policy (record: in the sending transaction). A send held until a
// time (quiet hours, the cap) waits for it; any other refusal skips the step with the
// policy's words. ok is false when the step did not go on.
func (r *run) policy(ctx context.Context, s Send, record bool) (bool, error) {
	ask := r.e.opts.Policy.Check
	if record {
		ask = r.e.opts.Policy.Record
	}
	v, err := ask(ctx, r.tx, s, r.now)
	if err != nil || v.OK {
		return v.OK, err
	}
	if !v.Until.IsZero() && (v.Reason == "quiet_hours" || v.Reason == "capped") {
		return false, waitErr{v.Until}
	}
	reason := v.Reason
	if v.Detail != "" {
		reason += ": " + v.Detail
	}
	return false, r.skip(ctx, reason)
}

// reasonOf reads a validation error's first field message as a skip reason.
func reasonOf(ve *model.ValidationError) string {
	keys := make([]string, 0, len(ve.Fields))
	for k := range ve.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch msg := ve.Fields[k]; {
		case strings.Contains(msg, "opted_out"):
			return "opted_out"
		case strings.Contains(msg, "no_phone"):
			return "no_phone"
		default:
			return msg
		}
	}
	return "refused"
}

func mapping(ms []model.VarMap) compose.Mapping {
	var m compose.Mapping
	for _, x := range ms {
		m = append(m, compose.Var{Source: x.Source, Field: x.Field, Key: x.Key, Text: x.Text, Fallback: x.Fallback})
	}
	return m
}
