package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"masteria/app/model"
)

// cadenceEnrolmentQueries are the running cadences' (queries/cadence_enrolments.sql).
type cadenceEnrolmentQueries struct {
	CadenceEnrol               *sqlx.Stmt `query:"cadence-enrol"`
	CadenceContactsCount       *sqlx.Stmt `query:"cadence-contacts-count"`
	CadenceEnrolmentLock       *sqlx.Stmt `query:"cadence-enrolment-lock"`
	CadenceEnrolment           *sqlx.Stmt `query:"cadence-enrolment"`
	CadenceEnrolmentSteps      *sqlx.Stmt `query:"cadence-enrolment-steps"`
	CadenceEnrolments          *sqlx.Stmt `query:"cadence-enrolments"`
	CadenceEnrolmentsOfContact *sqlx.Stmt `query:"cadence-enrolments-of-contact"`
	CadenceRunningOfContact    *sqlx.Stmt `query:"cadence-running-of-contact"`
	CadenceStepClaim           *sqlx.Stmt `query:"cadence-step-claim"`
	CadenceStep                *sqlx.Stmt `query:"cadence-step"`
	CadenceStepSet             *sqlx.Stmt `query:"cadence-step-set"`
	CadenceStepDrop            *sqlx.Stmt `query:"cadence-step-drop"`
	CadenceEnrolmentMove       *sqlx.Stmt `query:"cadence-enrolment-move"`
	CadenceEnrolmentDue        *sqlx.Stmt `query:"cadence-enrolment-due"`
	CadenceEnrolmentExit       *sqlx.Stmt `query:"cadence-enrolment-exit"`
	CadenceEnrolmentsExitAll   *sqlx.Stmt `query:"cadence-enrolments-exit-all"`
	CadenceEnrolmentSetStatus  *sqlx.Stmt `query:"cadence-enrolment-set-status"`
	CadenceStepsMessageOutcome *sqlx.Stmt `query:"cadence-steps-message-outcome"`
	CadenceStepsReplied        *sqlx.Stmt `query:"cadence-steps-replied"`
	CadenceStepsCallOutcome    *sqlx.Stmt `query:"cadence-steps-call-outcome"`
	CadenceAwaitsWaiting       *sqlx.Stmt `query:"cadence-awaits-waiting"`
	CadenceCallSince           *sqlx.Stmt `query:"cadence-call-since"`
	CadencesEnrolStage         *sqlx.Stmt `query:"cadences-enrol-stage"`
	CadencesEnrolSegment       *sqlx.Stmt `query:"cadences-enrol-segment"`
	CadenceFunnelHere          *sqlx.Stmt `query:"cadence-funnel-here"`
	CadenceFunnelSteps         *sqlx.Stmt `query:"cadence-funnel-steps"`
	CadencesActive             *sqlx.Stmt `query:"cadences-active"`
	CadenceStalled             *sqlx.Stmt `query:"cadence-stalled"`
	CadenceEnrolmentsLock      *sqlx.Stmt `query:"cadence-enrolments-lock"`
	CadenceEnrolmentsOfMsgs    *sqlx.Stmt `query:"cadence-enrolments-of-messages"`
	CadenceEnrolmentsOfCall    *sqlx.Stmt `query:"cadence-enrolments-of-call"`
	CadenceEnrolmentsLockAt    *sqlx.Stmt `query:"cadence-enrolments-lock-at"`
	CadenceStepsClaimMany      *sqlx.Stmt `query:"cadence-steps-claim-many"`
	CadenceEnrolmentsMoveMany  *sqlx.Stmt `query:"cadence-enrolments-move-many"`
	CadenceEnrolmentsDueMany   *sqlx.Stmt `query:"cadence-enrolments-due-many"`
	CadenceStepsFinishWaiting  *sqlx.Stmt `query:"cadence-steps-finish-waiting"`
}

// FinishWaitingSteps ends the waiting lines of a step of enrolments (their waits are over)
// and returns the enrolments whose line it ended.
func (s *Store) FinishWaitingSteps(ctx context.Context, orgID int64, enrolmentIDs []int64, stepID string) ([]int64, error) {
	var out []int64
	if err := s.sel(ctx, s.q.CadenceStepsFinishWaiting, &out, orgID, pq.Array(enrolmentIDs), stepID); err != nil {
		return nil, fmt.Errorf("store: finish waiting step %s: %w", stepID, err)
	}
	return out, nil
}

// LockEnrolmentsAt locks the org's enrolments ids, in id order, and returns those still
// active at a step (a batch of that step), each with its cadence's status.
func (s *Store) LockEnrolmentsAt(ctx context.Context, orgID int64, ids []int64, stepID string) ([]LockedEnrolment, error) {
	var all []LockedEnrolment
	if err := s.sel(ctx, s.q.CadenceEnrolmentsLockAt, &all, orgID, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("store: lock enrolments at %s: %w", stepID, err)
	}
	out := all[:0]
	for _, e := range all {
		if e.Status == model.EnrolmentActive && e.StepID == stepID {
			out = append(out, e)
		}
	}
	return out, nil
}

// ClaimSteps claims a step of many enrolments in the ledger with a status and detail, in
// one statement, and returns the enrolments claimed (not those claimed before).
func (s *Store) ClaimSteps(ctx context.Context, orgID int64, enrolmentIDs []int64, stepID, kind, status, detail string) ([]int64, error) {
	var out []int64
	if err := s.sel(ctx, s.q.CadenceStepsClaimMany, &out, orgID, pq.Array(enrolmentIDs), stepID, kind, status, detail); err != nil {
		return nil, fmt.Errorf("store: claim step %s of %d enrolments: %w", stepID, len(enrolmentIDs), err)
	}
	return out, nil
}

// MoveEnrolments moves running enrolments to a step due now ("" completes them).
func (s *Store) MoveEnrolments(ctx context.Context, orgID int64, ids []int64, stepID string) error {
	if _, err := s.exec(ctx, s.q.CadenceEnrolmentsMoveMany, orgID, pq.Array(ids), stepID); err != nil {
		return fmt.Errorf("store: move %d enrolments: %w", len(ids), err)
	}
	return nil
}

// SetEnrolmentsDue records when the step of enrolments is due.
func (s *Store) SetEnrolmentsDue(ctx context.Context, orgID int64, ids []int64, due time.Time) error {
	if _, err := s.exec(ctx, s.q.CadenceEnrolmentsDueMany, orgID, pq.Array(ids), due); err != nil {
		return fmt.Errorf("store: %d enrolments due: %w", len(ids), err)
	}
	return nil
}

// EnrolmentsOfMessages are the enrolments whose steps sent these messages.
func (s *Store) EnrolmentsOfMessages(ctx context.Context, orgID int64, messageIDs []int64) ([]int64, error) {
	var out []int64
	if err := s.sel(ctx, s.q.CadenceEnrolmentsOfMsgs, &out, orgID, pq.Array(messageIDs)); err != nil {
		return nil, fmt.Errorf("store: enrolments of messages: %w", err)
	}
	return out, nil
}

// EnrolmentsOfCall are the enrolments whose steps placed this call.
func (s *Store) EnrolmentsOfCall(ctx context.Context, orgID, callID int64) ([]int64, error) {
	var out []int64
	if err := s.sel(ctx, s.q.CadenceEnrolmentsOfCall, &out, orgID, callID); err != nil {
		return nil, fmt.Errorf("store: enrolments of call: %w", err)
	}
	return out, nil
}

// LockEnrolments locks enrolments of the org, in id order, until the transaction ends.
func (s *Store) LockEnrolments(ctx context.Context, orgID int64, ids []int64) error {
	var got []int64
	if err := s.sel(ctx, s.q.CadenceEnrolmentsLock, &got, orgID, pq.Array(ids)); err != nil {
		return fmt.Errorf("store: lock enrolments: %w", err)
	}
	return nil
}

// StalledStep is a running enrolment whose step job died.
type StalledStep struct {
	OrgID       int64  `db:"org_id"`
	EnrolmentID int64  `db:"id"`
	StepID      string `db:"step_id"`
}

// StalledSteps are up to limit running enrolments (every org's) whose step was due before
// dueBefore and that have no live step job (a running one started after runningSince).
func (s *Store) StalledSteps(ctx context.Context, dueBefore, runningSince time.Time, limit int) ([]StalledStep, error) {
	var out []StalledStep
	if err := s.sel(ctx, s.q.CadenceStalled, &out, dueBefore, runningSince, limit); err != nil {
		return nil, fmt.Errorf("store: stalled cadence steps: %w", err)
	}
	return out, nil
}

// ActiveCadences are the org's active cadences, by name (the enrol menus).
func (s *Store) ActiveCadences(ctx context.Context, orgID int64) ([]model.Cadence, error) {
	out := []model.Cadence{}
	if err := s.sel(ctx, s.q.CadencesActive, &out, orgID); err != nil {
		return nil, fmt.Errorf("store: active cadences: %w", err)
	}
	return out, nil
}

// Enrol enrols the org's contacts among ids in a cadence's version at its first step; those
// in the cadence already stay as they are. It returns the new enrolments' ids and how many
// of ids are contacts of the org. With newOnly, contacts enrolled in the cadence before
// (whatever came of it) do not join again.
func (s *Store) Enrol(ctx context.Context, orgID, cadenceID int64, version int, first, source string, by *int64, ids []int64, newOnly bool) (enrolled []int64, found int64, err error) {
	if err := s.get(ctx, s.q.CadenceContactsCount, &found, orgID, pq.Array(ids)); err != nil {
		return nil, 0, fmt.Errorf("store: enrol: %w", err)
	}
	if found == 0 {
		return nil, 0, nil
	}
	if err := s.sel(ctx, s.q.CadenceEnrol, &enrolled, orgID, cadenceID, version, first, source, by, pq.Array(ids), newOnly); err != nil {
		return nil, 0, fmt.Errorf("store: enrol: %w", err)
	}
	return enrolled, found, nil
}

// LockedEnrolment is an enrolment locked for its step, with its cadence's status.
type LockedEnrolment struct {
	model.Enrolment
	CadenceStatus string `db:"cadence_status"`
	OptedOut      *bool  `db:"opted_out"` // the contact opted out on some channel
}

// LockEnrolment reads an enrolment of the org and locks it until the transaction ends.
func (s *Store) LockEnrolment(ctx context.Context, orgID, id int64) (LockedEnrolment, error) {
	var e LockedEnrolment
	if err := s.get(ctx, s.q.CadenceEnrolmentLock, &e, orgID, id); err != nil {
		return e, fmt.Errorf("store: enrolment %d: %w", id, err)
	}
	return e, nil
}

// Enrolment returns one enrolment of the org with its contact's and cadence's names.
func (s *Store) Enrolment(ctx context.Context, orgID, id int64) (model.Enrolment, error) {
	var e model.Enrolment
	if err := s.get(ctx, s.q.CadenceEnrolment, &e, orgID, id); err != nil {
		return e, fmt.Errorf("store: enrolment %d: %w", id, err)
	}
	return e, nil
}

// EnrolmentSteps is an enrolment's timeline, in the order its steps were reached.
func (s *Store) EnrolmentSteps(ctx context.Context, orgID, id int64) ([]model.EnrolmentStep, error) {
	out := []model.EnrolmentStep{}
	if err := s.sel(ctx, s.q.CadenceEnrolmentSteps, &out, orgID, id); err != nil {
		return nil, fmt.Errorf("store: enrolment %d steps: %w", id, err)
	}
	return out, nil
}

// Enrolments lists a cadence's enrolments, newest first, of a status ("" for all), before an id.
func (s *Store) Enrolments(ctx context.Context, orgID, cadenceID int64, status string, before int64, limit int) ([]model.Enrolment, error) {
	out := []model.Enrolment{}
	if err := s.sel(ctx, s.q.CadenceEnrolments, &out, orgID, cadenceID, status, before, limit); err != nil {
		return nil, fmt.Errorf("store: enrolments of cadence %d: %w", cadenceID, err)
	}
	return out, nil
}

// ContactEnrolments lists a contact's enrolments, running ones first.
func (s *Store) ContactEnrolments(ctx context.Context, orgID, contactID int64) ([]model.Enrolment, error) {
	out := []model.Enrolment{}
	if err := s.sel(ctx, s.q.CadenceEnrolmentsOfContact, &out, orgID, contactID); err != nil {
		return nil, fmt.Errorf("store: enrolments of contact %d: %w", contactID, err)
	}
	return out, nil
}

// RunningEnrolment is a contact's running enrolment with what its cadence exits on.
type RunningEnrolment struct {
	ID                int64  `db:"id"`
	CadenceID         int64  `db:"cadence_id"`
	Status            string `db:"status"`
	StepID            string `db:"step_id"`
	LeadID            *int64 `db:"lead_id"`
	ExitOnReply       bool   `db:"exit_on_reply"`
	ExitOnStageChange bool   `db:"exit_on_stage_change"`
	GoalStageID       *int64 `db:"goal_stage_id"`
}

// RunningEnrolments are a contact's running (or paused) enrolments.
func (s *Store) RunningEnrolments(ctx context.Context, orgID, contactID int64) ([]RunningEnrolment, error) {
	var out []RunningEnrolment
	if err := s.sel(ctx, s.q.CadenceRunningOfContact, &out, orgID, contactID); err != nil {
		return nil, fmt.Errorf("store: running enrolments of contact %d: %w", contactID, err)
	}
	return out, nil
}

// ClaimStep claims an enrolment's step in the ledger with a status and detail; false when
// it was claimed before (a retry, a second instance).
func (s *Store) ClaimStep(ctx context.Context, orgID, enrolmentID int64, stepID, kind, status, detail string) (bool, error) {
	var id int64
	err := s.get(ctx, s.q.CadenceStepClaim, &id, orgID, enrolmentID, stepID, kind, status, detail)
	switch {
	case err == nil:
		return true, nil
	case err == model.ErrNotFound:
		return false, nil
	}
	return false, fmt.Errorf("store: claim step %s of enrolment %d: %w", stepID, enrolmentID, err)
}

// EnrolmentStep is an enrolment's line for one step.
func (s *Store) EnrolmentStep(ctx context.Context, orgID, enrolmentID int64, stepID string) (model.EnrolmentStep, error) {
	var st model.EnrolmentStep
	if err := s.get(ctx, s.q.CadenceStep, &st, orgID, enrolmentID, stepID); err != nil {
		return st, fmt.Errorf("store: step %s of enrolment %d: %w", stepID, enrolmentID, err)
	}
	return st, nil
}

// SetStep moves a step's line; a nil message or call keeps what it had.
func (s *Store) SetStep(ctx context.Context, orgID, enrolmentID int64, stepID, status, outcome, detail string, messageID, callID *int64) error {
	if _, err := s.exec(ctx, s.q.CadenceStepSet, orgID, enrolmentID, stepID, status, outcome, detail, messageID, callID); err != nil {
		return fmt.Errorf("store: set step %s of enrolment %d: %w", stepID, enrolmentID, err)
	}
	return nil
}

// DropStep gives back a claimed step that could not be done yet.
func (s *Store) DropStep(ctx context.Context, orgID, enrolmentID int64, stepID string) error {
	if _, err := s.exec(ctx, s.q.CadenceStepDrop, orgID, enrolmentID, stepID); err != nil {
		return fmt.Errorf("store: drop step %s of enrolment %d: %w", stepID, enrolmentID, err)
	}
	return nil
}

// MoveEnrolment moves a running enrolment to a step due at a time ("" completes it).
func (s *Store) MoveEnrolment(ctx context.Context, orgID, id int64, stepID string, due *time.Time) error {
	if _, err := s.exec(ctx, s.q.CadenceEnrolmentMove, orgID, id, stepID, due); err != nil {
		return fmt.Errorf("store: move enrolment %d: %w", id, err)
	}
	return nil
}

// SetEnrolmentDue records when an enrolment's step is due.
func (s *Store) SetEnrolmentDue(ctx context.Context, orgID, id int64, due time.Time) error {
	if _, err := s.exec(ctx, s.q.CadenceEnrolmentDue, orgID, id, due); err != nil {
		return fmt.Errorf("store: enrolment %d due: %w", id, err)
	}
	return nil
}

// ExitedEnrolment is an enrolment that just ended early.
type ExitedEnrolment struct {
	CadenceID int64  `db:"cadence_id"`
	ContactID int64  `db:"contact_id"`
	StepID    string `db:"step_id"`
}

// ExitEnrolment ends a running enrolment with a reason; ok is false when it had ended.
func (s *Store) ExitEnrolment(ctx context.Context, orgID, id int64, reason string) (ExitedEnrolment, bool, error) {
	var x ExitedEnrolment
	err := s.get(ctx, s.q.CadenceEnrolmentExit, &x, orgID, id, reason)
	if err == model.ErrNotFound {
		return x, false, nil
	}
	if err != nil {
		return x, false, fmt.Errorf("store: exit enrolment %d: %w", id, err)
	}
	return x, true, nil
}

// EndedEnrolment is an enrolment ended with its cadence.
type EndedEnrolment struct {
	ID        int64 `db:"id"`
	ContactID int64 `db:"contact_id"`
}

// ExitCadenceEnrolments ends every running enrolment of a cadence with a reason.
func (s *Store) ExitCadenceEnrolments(ctx context.Context, orgID, cadenceID int64, reason string) ([]EndedEnrolment, error) {
	var out []EndedEnrolment
	if err := s.sel(ctx, s.q.CadenceEnrolmentsExitAll, &out, orgID, cadenceID, reason); err != nil {
		return nil, fmt.Errorf("store: end enrolments of cadence %d: %w", cadenceID, err)
	}
	return out, nil
}

// SetEnrolmentStatus moves an enrolment from one status to another (pause, resume) and
// returns its step; ok is false when it was not in from.
func (s *Store) SetEnrolmentStatus(ctx context.Context, orgID, id int64, to, from string) (string, bool, error) {
	var step string
	err := s.get(ctx, s.q.CadenceEnrolmentSetStatus, &step, orgID, id, to, from)
	if err == model.ErrNotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: enrolment %d to %s: %w", id, to, err)
	}
	return step, true, nil
}

// StepsMessageOutcome records what a status report said of cadence messages and returns
// the enrolments whose steps moved.
func (s *Store) StepsMessageOutcome(ctx context.Context, orgID int64, messageIDs []int64, outcome string) ([]int64, error) {
	var out []int64
	if err := s.sel(ctx, s.q.CadenceStepsMessageOutcome, &out, orgID, pq.Array(messageIDs), outcome); err != nil {
		return nil, fmt.Errorf("store: cadence message outcome: %w", err)
	}
	return out, nil
}

// StepsReplied marks a contact's cadence sends made by at as replied and returns their enrolments.
func (s *Store) StepsReplied(ctx context.Context, orgID, contactID int64, at time.Time) ([]int64, error) {
	var out []int64
	if err := s.sel(ctx, s.q.CadenceStepsReplied, &out, orgID, contactID, at); err != nil {
		return nil, fmt.Errorf("store: cadence replied: %w", err)
	}
	return out, nil
}

// StepsCallOutcome records what came of a cadence's call and returns its enrolments.
func (s *Store) StepsCallOutcome(ctx context.Context, orgID, callID int64, outcome string) ([]int64, error) {
	var out []int64
	if err := s.sel(ctx, s.q.CadenceStepsCallOutcome, &out, orgID, callID, outcome); err != nil {
		return nil, fmt.Errorf("store: cadence call outcome: %w", err)
	}
	return out, nil
}

// AwaitingStep is an enrolment waiting at an await step.
type AwaitingStep struct {
	EnrolmentID int64  `db:"id"`
	StepID      string `db:"step_id"`
}

// AwaitsWaiting are those of the enrolments waiting at an await.
func (s *Store) AwaitsWaiting(ctx context.Context, orgID int64, enrolmentIDs []int64) ([]AwaitingStep, error) {
	var out []AwaitingStep
	if err := s.sel(ctx, s.q.CadenceAwaitsWaiting, &out, orgID, pq.Array(enrolmentIDs)); err != nil {
		return nil, fmt.Errorf("store: awaits waiting: %w", err)
	}
	return out, nil
}

// CallSince is the latest call to a contact placed since a time.
func (s *Store) CallSince(ctx context.Context, orgID, contactID int64, since time.Time) (int64, error) {
	var id int64
	if err := s.get(ctx, s.q.CadenceCallSince, &id, orgID, contactID, since); err != nil {
		return 0, fmt.Errorf("store: call since: %w", err)
	}
	return id, nil
}

// CadencesEnrollingStage are the org's active cadences that enrol leads entering a stage.
func (s *Store) CadencesEnrollingStage(ctx context.Context, orgID, stageID int64) ([]int64, error) {
	var out []int64
	if err := s.sel(ctx, s.q.CadencesEnrolStage, &out, orgID, stageID); err != nil {
		return nil, fmt.Errorf("store: cadences of stage %d: %w", stageID, err)
	}
	return out, nil
}

// CadenceRef is a cadence of an org.
type CadenceRef struct {
	ID    int64 `db:"id"`
	OrgID int64 `db:"org_id"`
}

// CadencesEnrollingSegment are every org's active cadences that enrol a segment.
func (s *Store) CadencesEnrollingSegment(ctx context.Context) ([]CadenceRef, error) {
	var out []CadenceRef
	if err := s.sel(ctx, s.q.CadencesEnrolSegment, &out); err != nil {
		return nil, fmt.Errorf("store: cadences of segments: %w", err)
	}
	return out, nil
}

// CadenceFunnel counts a cadence's enrolments at each of steps and what came of each step.
func (s *Store) CadenceFunnel(ctx context.Context, orgID, cadenceID int64, steps []model.CadenceStep) (model.Funnel, error) {
	f := model.Funnel{ByStatus: map[string]int64{}}
	var here []struct {
		Status string `db:"status"`
		StepID string `db:"step_id"`
		N      int64  `db:"n"`
	}
	if err := s.sel(ctx, s.q.CadenceFunnelHere, &here, orgID, cadenceID); err != nil {
		return f, fmt.Errorf("store: funnel of cadence %d: %w", cadenceID, err)
	}
	var done []struct {
		StepID  string `db:"step_id"`
		Status  string `db:"status"`
		Outcome string `db:"outcome"`
		N       int64  `db:"n"`
	}
	if err := s.sel(ctx, s.q.CadenceFunnelSteps, &done, orgID, cadenceID); err != nil {
		return f, fmt.Errorf("store: funnel of cadence %d: %w", cadenceID, err)
	}
	idx := map[string]int{}
	for i, st := range steps {
		idx[st.ID] = i
		f.Steps = append(f.Steps, model.FunnelStep{StepID: st.ID, Kind: st.Kind, Outcomes: map[string]int64{}})
	}
	for _, h := range here {
		f.ByStatus[h.Status] += h.N
		if i, ok := idx[h.StepID]; ok && (h.Status == model.EnrolmentActive || h.Status == model.EnrolmentPaused) {
			f.Steps[i].Here += h.N
		}
	}
	for _, d := range done {
		i, ok := idx[d.StepID]
		if !ok {
			continue
		}
		f.Steps[i].Reached += d.N
		key := d.Outcome
		if d.Status == model.StepSkipped || d.Status == model.StepFailed {
			key = d.Status
		}
		if key != "" {
			f.Steps[i].Outcomes[key] += d.N
		}
	}
	return f, nil
}
