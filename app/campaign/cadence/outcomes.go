package cadence

import (
	"context"
	"time"

	"masteria/app/channel"
	"masteria/app/model"
	"masteria/app/store"
)

// noWhatsAppCode is Meta's "the number has no WhatsApp" (131026).
const noWhatsAppCode = "131026"

// Hooks follow the inbox for cadences (inbox.Hooks): their messages' statuses and the
// contacts' replies on any channel.
type Hooks struct{ e *Engine }

// Hooks returns the engine's inbox hooks.
func (e *Engine) Hooks() Hooks { return Hooks{e} }

// MessagesMoved records what a status webhook said of cadence messages and wakes the
// awaits waiting on them. "Sent" (the provider took it) decides nothing.
func (h Hooks) MessagesMoved(ctx context.Context, tx *store.Store, orgID int64, ids []int64, status, code, title string) error {
	var outcome string
	switch {
	case status == model.StatusDelivered:
		outcome = model.OutcomeDelivered
	case status == model.StatusRead:
		outcome = model.OutcomeRead
	case status == model.StatusFailed && code == noWhatsAppCode:
		outcome = model.OutcomeNoWhatsApp
	case status == model.StatusFailed:
		outcome = model.OutcomeSendFailed
	default:
		return nil
	}
	// The enrolments first, then their lines: the order a step takes them in.
	ens, err := tx.EnrolmentsOfMessages(ctx, orgID, ids)
	if err != nil || len(ens) == 0 {
		return err
	}
	if err := tx.LockEnrolments(ctx, orgID, ens); err != nil {
		return err
	}
	moved, err := tx.StepsMessageOutcome(ctx, orgID, ids, outcome)
	if err != nil || len(moved) == 0 {
		return err
	}
	return h.e.wake(ctx, tx, orgID, moved)
}

// Replied: a contact wrote on any channel. Its cadence sends count as replied; the
// enrolments of cadences that exit on a reply end, the others' awaits wake.
func (h Hooks) Replied(ctx context.Context, tx *store.Store, orgID, channelID, contactID int64, at time.Time) error {
	running, err := tx.RunningEnrolments(ctx, orgID, contactID)
	if err != nil || len(running) == 0 {
		return err
	}
	ids := make([]int64, len(running))
	for i, r := range running {
		ids[i] = r.ID
	}
	if err := tx.LockEnrolments(ctx, orgID, ids); err != nil { // before their lines, as a step does
		return err
	}
	moved, err := tx.StepsReplied(ctx, orgID, contactID, at)
	if err != nil {
		return err
	}
	for _, r := range running {
		if r.ExitOnReply {
			if err := h.e.exit(ctx, tx, model.Enrolment{ID: r.ID, OrgID: orgID, CadenceID: r.CadenceID, ContactID: contactID}, model.ExitReplied); err != nil {
				return err
			}
		}
	}
	if len(moved) == 0 {
		return nil
	}
	return h.e.wake(ctx, tx, orgID, moved)
}

// Notice is not the cadences' business.
func (h Hooks) Notice(context.Context, model.Channel, channel.Notice) error { return nil }

// wake queues the step now of those of the enrolments waiting at an await.
//
// The enrolments are locked first: a step running on one (an await deciding on the old
// outcome) commits before they are read, so its wait is seen and woken, never lost.
func (e *Engine) wake(ctx context.Context, tx *store.Store, orgID int64, enrolmentIDs []int64) error {
	if err := tx.LockEnrolments(ctx, orgID, enrolmentIDs); err != nil {
		return err
	}
	waiting, err := tx.AwaitsWaiting(ctx, orgID, enrolmentIDs)
	if err != nil {
		return err
	}
	// One job now per await step woken (a batch), not one per enrolment.
	due := map[jobKey][]int64{}
	for _, w := range waiting {
		k := jobKey{orgID, w.StepID, time.Time{}}
		due[k] = append(due[k], w.EnrolmentID)
	}
	return e.insertBatches(ctx, tx, due)
}

// CallHook follows calls (calls.Service.AddHook): a cadence call that ended records what
// came of it and wakes the awaits waiting on it.
func (e *Engine) CallHook(ctx context.Context, tx *store.Store, event string, c model.Call) error {
	outcome := c.Outcome()
	if outcome == "" {
		return nil
	}
	ens, err := tx.EnrolmentsOfCall(ctx, c.OrgID, c.ID)
	if err != nil || len(ens) == 0 {
		return err
	}
	if err := tx.LockEnrolments(ctx, c.OrgID, ens); err != nil {
		return err
	}
	moved, err := tx.StepsCallOutcome(ctx, c.OrgID, c.ID, outcome)
	if err != nil || len(moved) == 0 {
		return err
	}
	return e.wake(ctx, tx, c.OrgID, moved)
}

// LeadMoved follows the board: a lead that changed stage ends the enrolments of its contact
// in cadences that exit on a stage change (not the cadence that moved it) or whose goal it
// reached, and enrols the contact in the active cadences that enrol that stage. A lead just
// created (fromStage 0) only enrols: a second deal of the contact is no change of stage.
func (e *Engine) LeadMoved(ctx context.Context, tx *store.Store, orgID, leadID, contactID, fromStage, toStage int64) error {
	if fromStage == toStage {
		return nil
	}
	mover, _ := ctx.Value(byCadence{}).(int64)
	var running []store.RunningEnrolment
	var err error
	if fromStage != 0 {
		if running, err = tx.RunningEnrolments(ctx, orgID, contactID); err != nil {
			return err
		}
	}
	for _, r := range running {
		en := model.Enrolment{ID: r.ID, OrgID: orgID, CadenceID: r.CadenceID, ContactID: contactID}
		switch {
		case r.GoalStageID != nil && *r.GoalStageID == toStage:
			err = e.exit(ctx, tx, en, model.ExitGoal)
		case r.ExitOnStageChange && r.CadenceID != mover:
			err = e.exit(ctx, tx, en, model.ExitStage)
		}
		if err != nil {
			return err
		}
	}
	ids, err := tx.CadencesEnrollingStage(ctx, orgID, toStage)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if id == mover {
			continue
		}
		if _, err := e.enrolTx(ctx, tx, orgID, id, []int64{contactID}, model.EnrolStage, nil, false); err != nil {
			return err
		}
	}
	return nil
}
