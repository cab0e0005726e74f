package cadence

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/voice/dial"
)

// callLease is how long a claimed call step is left to the job placing it before another
// run takes it for lost (its process died before it recorded the call).
const callLease = 2 * time.Minute

// claimCall claims a call step for placing after the commit (claimed), or finishes it with
// the call placed before a crash, or waits for another run placing it.
func (r *run) claimCall(ctx context.Context) (claimed bool, wait time.Duration, err error) {
	if r.e.opts.Dialer == nil {
		ok, err := r.claim(ctx, model.StepRunning, "")
		if err != nil || !ok {
			return false, 0, err
		}
		return false, 0, r.skip(ctx, "no_voice")
	}
	line, err := r.tx.EnrolmentStep(ctx, r.en.OrgID, r.en.ID, r.step.ID)
	switch {
	case errors.Is(err, model.ErrNotFound):
		send := Send{OrgID: r.en.OrgID, ContactID: r.contact.ID, Channel: "voice", Source: "cadence",
			SourceID: r.en.CadenceID, SourceName: r.en.CadenceName}
		if r.contact.Phone != nil {
			send.Phone = *r.contact.Phone
		}
		if ok, err := r.claim(ctx, model.StepRunning, ""); err != nil || !ok {
			return false, 0, err
		}
		if ok, err := r.policy(ctx, send, false); !ok || err != nil {
			return false, 0, err
		}
		return true, 0, nil
	case err != nil:
		return false, 0, err
	case line.Status != model.StepRunning:
		return false, 0, nil
	}
	// Claimed before: the call may have been placed by a run that died before recording it.
	id, err := r.tx.CallSince(ctx, r.en.OrgID, r.contact.ID, line.StartedAt.Add(-time.Second))
	if err == nil {
		return false, 0, r.callPlaced(ctx, id)
	}
	if !errors.Is(err, model.ErrNotFound) {
		return false, 0, err
	}
	if age := r.now.Sub(line.StartedAt); age < callLease {
		return false, callLease - age, nil
	}
	return true, 0, nil
}

// callPlaced finishes a call step with its call; what came of it (if it ended already) is
// read from the call.
func (r *run) callPlaced(ctx context.Context, callID int64) error {
	c, err := r.tx.Call(ctx, r.en.OrgID, callID)
	if err != nil {
		return err
	}
	outcome := c.Outcome()
	if outcome == "" {
		outcome = model.OutcomeSent
	}
	return r.finish(ctx, model.StepDone, outcome, "", nil, &callID, r.step.Next)
}

// placeCall places a claimed call step's call, then records it and moves on; a busy org or
// calling hours give the claim back and wait.
func (e *Engine) placeCall(ctx context.Context, r *run) (time.Duration, error) {
	req := dial.Request{OrgID: r.en.OrgID, ContactID: r.contact.ID, NumberID: r.step.NumberID, AgentID: r.step.AgentID}
	if r.en.LeadID != nil {
		req.LeadID = *r.en.LeadID
	}
	call, derr := e.opts.Dialer.Start(ctx, req)
	var oh *dial.OutsideHours
	var ve *model.ValidationError
	var wait time.Duration
	switch {
	case errors.Is(derr, dial.ErrBusy):
		wait = e.opts.Retry
	case errors.As(derr, &oh) && oh.Next.After(e.now()):
		wait = max(time.Second, oh.Next.Sub(e.now()))
	case errors.As(derr, &oh): // no calling hours at all: look again later
		wait = e.opts.Retry
	}
	if wait > 0 {
		return wait, e.st.Tx(ctx, func(tx *store.Store) error {
			return tx.DropStep(ctx, r.en.OrgID, r.en.ID, r.step.ID)
		})
	}
	return 0, e.st.Tx(ctx, func(tx *store.Store) error {
		en, err := tx.LockEnrolment(ctx, r.en.OrgID, r.en.ID)
		if err != nil {
			return err
		}
		r2 := &run{e: e, tx: tx, en: en, step: r.step, contact: r.contact, now: e.now()}
		if en.StepID != r.step.ID || !en.Running() {
			// It left the cadence (or was moved) while the call was placed: the call is
			// still recorded on its line.
			if derr == nil && call.ID != 0 {
				id := call.ID
				return tx.SetStep(ctx, en.OrgID, en.ID, r.step.ID, model.StepDone, model.OutcomeSent, "", nil, &id)
			}
			return nil
		}
		switch {
		case errors.As(derr, &ve):
			return r2.skip(ctx, reasonOf(ve))
		case errors.Is(derr, model.ErrNotFound):
			return r2.skip(ctx, "not_reachable")
		case derr != nil:
			return r2.finish(ctx, model.StepFailed, model.OutcomeSendFailed, derr.Error(), nil, nil, r.step.Next)
		}
		send := Send{OrgID: en.OrgID, ContactID: r.contact.ID, Channel: "voice", Source: "cadence", SourceID: en.CadenceID,
			SourceName: en.CadenceName}
		if r.contact.Phone != nil {
			send.Phone = *r.contact.Phone
		}
		if _, err := e.opts.Policy.Record(ctx, tx, send, r2.now); err != nil {
			return err
		}
		return r2.callPlaced(ctx, call.ID)
	})
}

// wait waits its minutes, then (or instead) until its window opens in the contact's zone.
func (r *run) wait(ctx context.Context) (time.Duration, error) {
	claimed, err := r.claim(ctx, model.StepWaiting, "")
	if err != nil {
		return 0, err
	}
	if claimed {
		due := r.now.Add(time.Duration(r.step.WaitMinutes) * r.e.opts.Minute)
		if w := r.step.Window; w != nil {
			due = nextInWindow(due, r.zone(ctx), *w)
		}
		if !due.After(r.now) {
			return 0, r.finish(ctx, model.StepDone, "", "", nil, nil, r.step.Next)
		}
		if err := r.tx.SetEnrolmentDue(ctx, r.en.OrgID, r.en.ID, due); err != nil {
			return 0, err
		}
		if err := r.e.publishStep(ctx, r.tx, r.en.Enrolment, r.step, model.StepWaiting, ""); err != nil {
			return 0, err
		}
		return 0, r.e.schedule(ctx, r.tx, r.en.OrgID, r.en.ID, r.step.ID, due, 0)
	}
	line, err := r.tx.EnrolmentStep(ctx, r.en.OrgID, r.en.ID, r.step.ID)
	if err != nil || line.Status != model.StepWaiting {
		return 0, err
	}
	if r.en.DueAt != nil && r.now.Before(*r.en.DueAt) {
		return r.en.DueAt.Sub(r.now), nil
	}
	return 0, r.finish(ctx, model.StepDone, "", "", nil, nil, r.step.Next)
}

// nextInWindow is the first time at or after t inside the window, in zone.
func nextInWindow(t time.Time, zone *time.Location, w model.StepWindow) time.Time {
	lt := t.In(zone)
	for i := range 8 {
		day := time.Date(lt.Year(), lt.Month(), lt.Day()+i, 0, 0, 0, 0, zone)
		if w.Days&(1<<int(day.Weekday())) == 0 {
			continue
		}
		start := time.Date(day.Year(), day.Month(), day.Day(), w.Start, 0, 0, 0, zone)
		end := time.Date(day.Year(), day.Month(), day.Day(), w.End, 0, 0, 0, zone)
		switch {
		case i > 0 || lt.Before(start):
			return start
		case lt.Before(end):
			return t
		}
	}
	return t
}

// outcomeRank orders a message's outcomes: a later one implies the earlier ones.
func outcomeRank(o string) int {
	switch o {
	case model.OutcomeDelivered:
		return 1
	case model.OutcomeRead:
		return 2
	case model.OutcomeReplied:
		return 3
	}
	return 0
}

// matches tells whether what came of a send (seen) satisfies a branch's outcome: a read or a
// reply satisfies "delivered", a reply "read".
func matches(branch, seen string) bool {
	if branch == seen {
		return true
	}
	return outcomeRank(branch) > 0 && outcomeRank(seen) >= outcomeRank(branch)
}

// final tells whether an outcome will not change any more (only a message's progress does).
func final(o string) bool {
	switch o {
	case "", model.OutcomeSent, model.OutcomeDelivered, model.OutcomeRead:
		return false
	}
	return true
}

// await waits for what came of the awaited send to match a branch, or its time limit.
func (r *run) await(ctx context.Context) error {
	claimed, err := r.claim(ctx, model.StepWaiting, "")
	if err != nil {
		return err
	}
	due := r.now.Add(time.Duration(r.step.WithinMinutes) * r.e.opts.Minute)
	if claimed {
		if err := r.tx.SetEnrolmentDue(ctx, r.en.OrgID, r.en.ID, due); err != nil {
			return err
		}
		// The time limit's own job decides the timeout; the hooks wake it sooner.
		if err := r.e.schedule(ctx, r.tx, r.en.OrgID, r.en.ID, r.step.ID, due, 0); err != nil {
			return err
		}
		if err := r.e.publishStep(ctx, r.tx, r.en.Enrolment, r.step, model.StepWaiting, ""); err != nil {
			return err
		}
	} else {
		line, err := r.tx.EnrolmentStep(ctx, r.en.OrgID, r.en.ID, r.step.ID)
		if err != nil || line.Status != model.StepWaiting {
			return err
		}
		if r.en.DueAt != nil {
			due = *r.en.DueAt
		}
	}
	seen := ""
	awaited, err := r.tx.EnrolmentStep(ctx, r.en.OrgID, r.en.ID, r.step.Await)
	switch {
	case err == nil:
		seen = awaited.Outcome
		if awaited.CallID != nil && !final(seen) {
			// The call's own row: its end may have come while its step was recording it.
			c, err := r.tx.Call(ctx, r.en.OrgID, *awaited.CallID)
			if err != nil {
				return err
			}
			if o := c.Outcome(); o != "" {
				seen = o
				if _, err := r.tx.StepsCallOutcome(ctx, r.en.OrgID, c.ID, o); err != nil {
					return err
				}
			}
		}
		if awaited.Status == model.StepSkipped {
			seen = model.OutcomeSkipped
		} else if awaited.Status == model.StepFailed && !final(seen) {
			seen = model.OutcomeSendFailed
		}
	case !errors.Is(err, model.ErrNotFound):
		return err
	}
	for _, b := range r.step.Branches {
		if slices.ContainsFunc(b.Outcomes, func(o string) bool { return matches(o, seen) }) {
			return r.finish(ctx, model.StepDone, seen, "", nil, nil, b.Next)
		}
	}
	if final(seen) { // nothing more will come of it: no branch takes it
		return r.finish(ctx, model.StepDone, seen, "", nil, nil, r.step.Otherwise)
	}
	if r.now.Before(due) {
		return nil
	}
	for _, b := range r.step.Branches {
		if slices.Contains(b.Outcomes, model.OutcomeTimeout) {
			return r.finish(ctx, model.StepDone, model.OutcomeTimeout, "", nil, nil, b.Next)
		}
	}
	return r.finish(ctx, model.StepDone, model.OutcomeTimeout, "", nil, nil, r.step.Otherwise)
}

// byCadence marks a context whose board moves a cadence's step makes, so the move does not
// end that cadence's enrolment as a stage change.
type byCadence struct{}

// act does a step on the lead or contact: stage, tag, untag, assign, notify, classify.
//
// The enrolment's row is locked for the step, so the step's line is written once done, in
// the same statement that claims it: a line there already rolls the step back.
func (r *run) act(ctx context.Context) error {
	orgID, contactID := r.en.OrgID, r.contact.ID
	ids := []int64{contactID}
	switch r.step.Kind {
	case model.StepStage:
		if r.en.LeadID == nil || r.e.opts.Mover == nil {
			return r.skipNow(ctx, "no_lead")
		}
		mctx := context.WithValue(ctx, byCadence{}, r.en.CadenceID)
		err := r.e.opts.Mover.MoveTx(mctx, r.tx, model.Actor{OrgID: orgID}, *r.en.LeadID, r.step.StageID)
		if errors.Is(err, model.ErrNotFound) {
			return r.skipNow(ctx, "stage_gone")
		}
		if err != nil {
			return err
		}
		if err := r.tx.AddContactEvent(ctx, orgID, contactID, "cadence_stage", nil, map[string]any{
			"cadence_id": r.en.CadenceID, "cadence": r.en.CadenceName, "lead_id": *r.en.LeadID, "stage_id": r.step.StageID}); err != nil {
			return err
		}
		// The move may have reached the cadence's goal: the enrolment ended with it.
		if en, err := r.tx.LockEnrolment(ctx, orgID, r.en.ID); err != nil {
			return err
		} else if !en.Running() {
			_, err := r.claim(ctx, model.StepDone, "")
			return err
		}
	case model.StepTag:
		if _, err := r.tx.TagContacts(ctx, orgID, ids, r.step.TagID); err != nil {
			return err
		}
	case model.StepUntag:
		if _, err := r.tx.UntagContacts(ctx, orgID, ids, r.step.TagID); err != nil {
			return err
		}
	case model.StepAssign:
		if _, err := r.tx.Member(ctx, orgID, r.step.UserID); err != nil {
			if errors.Is(err, model.ErrNotFound) {
				return r.skipNow(ctx, "member_gone")
			}
			return err
		}
		uid := r.step.UserID
		if _, err := r.tx.AssignContacts(ctx, orgID, ids, &uid); err != nil {
			return err
		}
	case model.StepNotify:
		to := r.step.UserID
		if to == 0 && r.contact.OwnerID != nil {
			to = *r.contact.OwnerID
		}
		if err := r.tx.AddContactEvent(ctx, orgID, contactID, "cadence_notify", nil, map[string]any{
			"cadence_id": r.en.CadenceID, "cadence": r.en.CadenceName, "user_id": to, "note": r.step.Note}); err != nil {
			return err
		}
		if err := r.note(ctx, to); err != nil {
			return err
		}
	case model.StepClassify:
		if r.en.LeadID == nil || r.e.opts.Classifier == nil {
			return r.skipNow(ctx, "no_lead")
		}
		if err := r.e.opts.Classifier.EnqueueTx(ctx, r.tx, orgID, []int64{*r.en.LeadID}); err != nil {
			return err
		}
	default:
		return r.skipNow(ctx, "unknown_step")
	}
	claimed, err := r.claim(ctx, model.StepDone, "")
	if err != nil {
		return err
	}
	if !claimed {
		return errDone
	}
	return r.moveOn(ctx, model.StepDone, "", r.step.Next)
}

// note leaves a notify step's note where the agent works: an internal note on the
// contact's latest conversation, addressed to the member ("@Ana · Boas-vindas: Ligar
// amanhã"), live in the inbox. A contact with no conversation has the timeline's line only.
func (r *run) note(ctx context.Context, to int64) error {
	orgID := r.en.OrgID
	convs, err := r.tx.ContactConversations(ctx, orgID, r.contact.ID, 0)
	if err != nil || len(convs) == 0 {
		return err
	}
	body := r.en.CadenceName + ": " + r.step.Note
	if to != 0 {
		if m, err := r.tx.Member(ctx, orgID, to); err == nil {
			body = "@" + m.UserName + " · " + body
		} else if !errors.Is(err, model.ErrNotFound) {
			return err
		}
	}
	c := convs[0]
	m := model.Message{OrgID: orgID, ConversationID: c.ID, ChannelID: c.ChannelID, Direction: "note", Kind: "text",
		Body: strings.TrimSpace(body), Status: model.StatusReceived, CreatedAt: r.now}
	id, _, err := r.tx.InsertMessage(ctx, m)
	if err != nil {
		return err
	}
	_, err = events.MessageCreated.Publish(ctx, r.tx, orgID, events.MessageNew{MessageID: id, ConversationID: c.ID, Note: true})
	return err
}

// skipNow records an action step skipped (its line written in the claim) and goes on.
func (r *run) skipNow(ctx context.Context, reason string) error {
	claimed, err := r.claim(ctx, model.StepSkipped, reason)
	if err != nil {
		return err
	}
	if !claimed {
		return errDone
	}
	if err := r.tx.SetStep(ctx, r.en.OrgID, r.en.ID, r.step.ID, model.StepSkipped, model.OutcomeSkipped, reason, nil, nil); err != nil {
		return err
	}
	return r.moveOn(ctx, model.StepSkipped, model.OutcomeSkipped, r.step.Next)
}
