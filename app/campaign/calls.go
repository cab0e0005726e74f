package campaign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// Call campaigns: a campaign whose channel is a voice number calls its audience through
// Retell. The ledger is the same (campaign_recipients): a runner claims recipients while
// the campaign has fewer calls running than its concurrency, starts each call through the
// Dialer, and records Retell's call id; the call's end (a hook on the calls' events)
// settles the recipient: answered, tried again after the delay, or failed.

// CallRequest is a call to start for a campaign (app/voice/dial's Request, as campaigns use it).
type CallRequest struct {
	OrgID      int64
	ContactID  int64
	CampaignID int64
	NumberID   int64
	AgentID    string // "": the number's outbound agent
}

// Dialer starts calls (app/voice/dial, wired in boot). Its errors are ErrCallBusy (the org
// is at its limit of calls at once, or Retell said 429: try later), *OutsideHours (not
// within calling hours in the contact's zone), *model.ValidationError (no phone, no ready
// number, Retell not connected…), model.ErrNotFound (the contact is gone), or others
// (Retell's, the network's): the call did not connect.
type Dialer interface {
	StartCall(ctx context.Context, r CallRequest) (model.Call, error)
}

// ErrCallBusy is the org at its limit of calls at once: the recipient waits, it is no attempt.
var ErrCallBusy = errors.New("campaign: the org is at its limit of calls at once")

// ErrCannotCall is Retell refusing every call of the campaign (the key, the payment, the
// number or the agent): the campaign pauses, and the recipient waits for the resume.
var ErrCannotCall = errors.New("campaign: Retell refuses the campaign's calls")

// OutsideHours is a contact outside calling hours: calling is allowed again at Next.
type OutsideHours struct {
	Next time.Time
	Zone string
}

func (e *OutsideHours) Error() string {
	return fmt.Sprintf("campaign: outside calling hours in %s until %s", e.Zone, e.Next.Format(time.RFC3339))
}

// SetDialer gives the service the way it starts calls.
func (s *Service) SetDialer(d Dialer) { s.dialer = d }

// PauseNoCalls: the voice number or Retell cannot call (the number is not ready, has no
// agent, Retell is not connected).
const PauseNoCalls = model.PauseChannelGone

var agentIDShape = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// validateCall checks a call campaign's number (the org's), agent id and settings.
func (s *Service) validateCall(ctx context.Context, c *model.Campaign, v *model.ValidationError) error {
	if c.ChannelID != nil {
		v.Add("channel", "campaigns.error.channel")
	}
	if _, err := s.st.VoiceNumber(ctx, c.OrgID, *c.VoiceNumberID); err != nil {
		return fmt.Errorf("campaign: voice number: %w", err)
	}
	if c.Message.AgentID != "" && !agentIDShape.MatchString(c.Message.AgentID) {
		v.Add("agent_id", "campaigns.call.error.agent")
	}
	if len(c.Message.Variants) > 0 {
		v.Add("message", "campaigns.call.error.no_text")
	}
	st := &c.Settings
	st.DefaultCallSettings()
	if st.Concurrency < 1 || st.Concurrency > s.maxConcurrent(ctx, c.OrgID) {
		v.Add("concurrency", "campaigns.call.error.concurrency")
	}
	if st.RetryMinutes < model.MinRetryMinutes || st.RetryMinutes > model.MaxRetryMinutes {
		v.Add("retry_minutes", "campaigns.call.error.retry")
	}
	if st.CallAttempts < 1 || st.CallAttempts > model.MaxCallAttempts {
		v.Add("call_attempts", "campaigns.call.error.attempts")
	}
	return nil
}

// maxConcurrent is the org's limit of calls at once (5 before Retell is connected).
func (s *Service) maxConcurrent(ctx context.Context, orgID int64) int {
	acc, err := s.st.VoiceAccount(ctx, orgID)
	if err != nil || acc.MaxConcurrent < 1 {
		return 5
	}
	return acc.MaxConcurrent
}

// MaxConcurrent is the most calls at once a call campaign of the org may make.
func (s *Service) MaxConcurrent(ctx context.Context, a model.Actor) (int, error) {
	if err := mayRun(a); err != nil {
		return 0, err
	}
	return s.maxConcurrent(ctx, a.OrgID), nil
}

// CallFigures counts a call campaign's progress in plain words.
func (s *Service) CallFigures(ctx context.Context, a model.Actor, id int64) (model.CallFigures, error) {
	if _, err := s.Campaign(ctx, a, id); err != nil {
		return model.CallFigures{}, err
	}
	return s.st.CallFigures(ctx, a.OrgID, id)
}

// readyCall says what a call campaign lacks before launch: an audience, a ready number
// with an agent to call with.
func (s *Service) readyCall(ctx context.Context, c model.Campaign) (model.VoiceNumber, error) {
	v := model.NewValidationError()
	n, err := s.st.VoiceNumber(ctx, c.OrgID, *c.VoiceNumberID)
	if err != nil {
		return n, err
	}
	if n.Status != "ready" {
		v.Add("channel", "campaigns.call.error.number_not_ready")
	} else if c.Message.AgentID == "" && n.OutboundAgentID == "" {
		v.Add("agent_id", "campaigns.call.error.no_agent")
	}
	if c.Audience.Empty() {
		v.Add("audience", "campaigns.error.audience")
	}
	if err := v.Err(); err != nil {
		return n, fmt.Errorf("%w: %w", ErrNotReady, err)
	}
	return n, nil
}

// callSnapshot turns a call campaign's audience into recipients: by phone only, no
// message values, channel 0 (no messaging channel: replies never touch these rows).
func (s *Service) callSnapshot(ctx context.Context, c model.Campaign) (store.Snapshot, error) {
	sp := store.Snapshot{CampaignID: c.ID, Audience: c.Audience, RecipientKinds: []string{},
		SkipRecentHours: c.Settings.SkipRecentHours}
	if c.Audience.SegmentID != 0 {
		seg, err := s.segmentFilter(ctx, c.OrgID, c.Audience.SegmentID)
		if err != nil {
			return sp, err
		}
		sp.Segment = &seg
	}
	return sp, nil
}

// runCalls is a runner of a call campaign: for one slice of time it calls due recipients
// while the campaign has fewer calls running than its concurrency.
func (s *Service) runCalls(ctx context.Context, c model.Campaign) error {
	c.Settings.DefaultCallSettings()
	if s.dialer == nil {
		return errors.Join(errStop, s.pause(ctx, c.OrgID, c.ID, PauseNoCalls, "calls are not available on this server"))
	}
	n, err := s.readyCall(ctx, c)
	var ve *model.ValidationError
	if errors.As(err, &ve) || errors.Is(err, model.ErrNotFound) {
		return s.pause(ctx, c.OrgID, c.ID, PauseNoCalls, "")
	}
	if err != nil {
		return err
	}
	return s.slice(ctx, c.OrgID, c.ID, 2*time.Second, func() (int, time.Duration, error) { return s.callBatch(ctx, c, n) })
}

// callPoll is how often a campaign at its concurrency looks for a free slot.
const callPoll = 500 * time.Millisecond

// callBatch claims what the campaign's concurrency leaves and starts those calls; it
// returns how many it handled, or how long to wait (0: the campaign is done).
func (s *Service) callBatch(ctx context.Context, c model.Campaign, n model.VoiceNumber) (int, time.Duration, error) {
	var claimed []store.Claimed
	full := false
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.LockCallCampaign(ctx, c.OrgID, c.ID); err != nil {
			return err
		}
		live, err := tx.CallCampaignLive(ctx, c.OrgID, c.ID)
		if err != nil {
			return err
		}
		free := int64(c.Settings.Concurrency) - live
		if free <= 0 {
			full = true
			return nil
		}
		claimed, err = tx.ClaimRecipients(ctx, c.OrgID, c.ID, int(free))
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	if full {
		return 0, callPoll, nil
	}
	if len(claimed) == 0 {
		return 0, s.callIdle(ctx, c), nil
	}
	return len(claimed), 0, s.dialAll(ctx, c, n, claimed)
}

// callIdle is how long until the campaign has something to do; when nobody is pending and
// no call of it is running, the campaign is completed (0).
func (s *Service) callIdle(ctx context.Context, c model.Campaign) time.Duration {
	due, ok, err := s.st.NextDue(ctx, c.OrgID, c.ID)
	if err != nil {
		return 5 * time.Second
	}
	if ok {
		return max(50*time.Millisecond, due.Sub(s.now()))
	}
	calling, err := s.st.CallCampaignCalling(ctx, c.OrgID, c.ID)
	if err == nil && calling > 0 {
		// A call whose events were lost would hold the campaign open for ever.
		err = s.st.Tx(ctx, func(tx *store.Store) error {
			lost, err := tx.SettleLostCalls(ctx, c.OrgID, c.ID, c.Settings.RetryMinutes, c.Settings.CallAttempts)
			if err != nil || len(lost) == 0 {
				return err
			}
			return publishChanges(ctx, tx, c.OrgID, lost, model.CallResultFailed)
		})
	}
	if err != nil || calling > 0 {
		return callPoll // a call running settles its recipient, maybe for a retry
	}
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		ok, err := tx.MoveCampaign(ctx, c.OrgID, c.ID, model.CampaignCompleted, []string{model.CampaignRunning}, "", "")
		if err != nil || !ok {
			return err
		}
		_, err = events.CampaignCompleted.Publish(ctx, tx, c.OrgID, events.CampaignRef{CampaignID: c.ID, Name: c.Name})
		return err
	})
	if err != nil {
		slog.Warn("campaign: complete", "campaign", c.ID, "err", err)
		return 5 * time.Second
	}
	return 0
}

// dialAll starts the calls of claimed recipients, one after the other, and records each
// outcome at once (a call's events may come back before the next is started).
func (s *Service) dialAll(ctx context.Context, c model.Campaign, n model.VoiceNumber, claimed []store.Claimed) error {
	var waits []store.Deferral // not an attempt: the org's limit, calling hours
	for i, rec := range claimed {
		if rec.ContactID == nil {
			if err := s.callFailed(ctx, c, rec, model.SkipDeleted, "The contact was deleted."); err != nil {
				return err
			}
			continue
		}
		if ok, err := s.policyCall(ctx, c, rec, &waits); err != nil || !ok { // the contact policy
			if err != nil {
				return err
			}
			continue
		}
		call, err := s.dialer.StartCall(ctx, CallRequest{OrgID: c.OrgID, ContactID: *rec.ContactID, CampaignID: c.ID,
			NumberID: n.ID, AgentID: c.Message.AgentID})
		var oh *OutsideHours
		var ve *model.ValidationError
		switch {
		case err == nil:
			// Retell placed the call: its id exists only here, so a deadlock's victim is
			// written again rather than left for the lease to call the person twice.
			if err := s.st.TxRetry(ctx, func(tx *store.Store) error {
				ok, err := tx.RecipientCalled(ctx, c.OrgID, rec.ID, call.CallID)
				if err != nil || !ok {
					return err
				}
				if err := s.recordCall(ctx, tx, c, rec); err != nil {
					return err
				}
				return publishOne(ctx, tx, c, rec, model.RecipientSent, "")
			}); err != nil {
				return err
			}
		case errors.Is(err, ErrCallBusy):
			// The org's other calls hold its limit: this one and the rest of the batch wait.
			for _, r := range claimed[i:] {
				waits = append(waits, store.Deferral{ID: r.ID, At: s.now().Add(2 * time.Second), Code: "busy", Title: "The org is at its limit of calls at once."})
			}
			return s.st.DeferRecipients(ctx, c.OrgID, waits, false)
		case errors.As(err, &oh):
			waits = append(waits, store.Deferral{ID: rec.ID, At: oh.Next, Code: "calling_hours", Title: "Outside calling hours in " + oh.Zone + "."})
		case errors.Is(err, model.ErrNotFound):
			if err := s.callFailed(ctx, c, rec, model.SkipDeleted, "The contact was deleted."); err != nil {
				return err
			}
		case errors.As(err, &ve) && ve.Fields["contact"] != "":
			// This person cannot be called: no phone, or they refused calls.
			code, title := model.SkipNoAddress, "The contact has no phone number to call."
			if strings.HasSuffix(ve.Fields["contact"], "opted_out") {
				code, title = model.SkipOptedOut, "The contact does not want to be called."
			}
			if err := s.callFailed(ctx, c, rec, code, title); err != nil {
				return err
			}
		case errors.As(err, &ve) || errors.Is(err, ErrCannotCall):
			// Not this person's: the number or Retell cannot call. They wait for a resume.
			for _, r := range claimed[i:] {
				waits = append(waits, store.Deferral{ID: r.ID, At: s.now()})
			}
			if err := s.st.DeferRecipients(ctx, c.OrgID, waits, false); err != nil {
				return err
			}
			detail := err.Error()
			if ve != nil {
				detail = strings.Join(slices.Sorted(maps.Values(ve.Fields)), ", ")
			}
			if len(detail) > 300 {
				detail = detail[:300]
			}
			return errors.Join(errStop, s.pause(ctx, c.OrgID, c.ID, PauseNoCalls, detail))
		default:
			// The call did not connect: like an unanswered call, tried again after the delay.
			msg := err.Error()
			if len(msg) > 300 {
				msg = msg[:300]
			}
			if rec.Attempts >= c.Settings.CallAttempts {
				if err := s.callFailed(ctx, c, rec, model.CallResultFailed, "The call could not be placed: "+msg); err != nil {
					return err
				}
				continue
			}
			if err := s.st.DeferRecipients(ctx, c.OrgID, []store.Deferral{{ID: rec.ID,
				At: s.now().Add(time.Duration(c.Settings.RetryMinutes) * time.Minute), Code: model.CallResultFailed,
				Title: "The call could not be placed: " + msg}}, true); err != nil {
				return err
			}
		}
	}
	return s.st.DeferRecipients(ctx, c.OrgID, waits, false)
}

// callFailed ends a claimed recipient without a call.
func (s *Service) callFailed(ctx context.Context, c model.Campaign, rec store.Claimed, code, title string) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.MarkRecipientsFailed(ctx, c.OrgID, []store.FailedRecipient{{ID: rec.ID, Status: model.RecipientFailed,
			Code: code, Title: title}}, 0); err != nil {
			return err
		}
		return publishOne(ctx, tx, c, rec, model.RecipientFailed, code)
	})
}

func publishOne(ctx context.Context, tx *store.Store, c model.Campaign, rec store.Claimed, status, code string) error {
	ev := events.CampaignRecipient{CampaignID: c.ID, RecipientID: rec.ID, Status: status, ErrorCode: code}
	if rec.ContactID != nil {
		ev.ContactID = *rec.ContactID
	}
	return events.CampaignRecipientStatus.PublishMany(ctx, tx, c.OrgID, []events.CampaignRecipient{ev})
}

// CallHook settles a campaign's recipient when its call ends (calls.Service.AddHook): it
// runs in the transaction that applies the call's event, so the ledger and the call never
// disagree. A call answered by a person makes the recipient answered; voicemail, no
// answer, busy or a failure to connect try again after the campaign's delay while it has
// attempts left, else fail with the reason in words. Retell's analysis marks the success.
func (s *Service) CallHook(ctx context.Context, tx *store.Store, event string, call model.Call) error {
	if call.CampaignID == nil || call.ContactID == nil || call.Direction == "inbound" {
		return nil
	}
	if event == "call_started" || call.Outcome() == "" {
		return nil
	}
	c, err := tx.Campaign(ctx, call.OrgID, *call.CampaignID)
	if errors.Is(err, model.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !c.Voice() {
		return nil
	}
	st := c.Settings
	st.DefaultCallSettings()
	result, words := CallOutcome(call)
	outcome := store.CallRetry
	switch result {
	case model.CallResultAnswered:
		outcome = store.CallAnswered
	case model.CallResultInvalid:
		outcome = store.CallFailed
	}
	var success *bool
	if call.EventRank >= 3 && result == model.CallResultAnswered {
		success = call.Successful
	}
	changed, err := tx.SettleCallRecipient(ctx, call.OrgID, store.CallSettlement{CampaignID: c.ID, ContactID: *call.ContactID,
		CallID: call.CallID, Outcome: outcome, Result: result, Words: words, RetryMinutes: st.RetryMinutes,
		Attempts: st.CallAttempts, Successful: success})
	if err != nil {
		return err
	}
	if len(changed) == 0 && success != nil {
		// Settled by call_ended before: the analysis adds the success.
		if changed, err = tx.SetCallSuccess(ctx, call.OrgID, c.ID, call.CallID, *success); err != nil {
			return err
		}
	}
	if len(changed) == 0 {
		return nil
	}
	if err := publishChanges(ctx, tx, call.OrgID, changed, result); err != nil {
		return err
	}
	return events.CampaignProgress.Signal(ctx, tx, call.OrgID, events.CampaignRef{CampaignID: c.ID})
}

// CallOutcome reads an ended call as the calls do (model.Call.Outcome: answered,
// voicemail, no answer, busy, failed), a number that does not exist apart (no retry can
// reach it); with the reason in plain words.
func CallOutcome(c model.Call) (string, string) {
	if c.DisconnectionReason == "invalid_destination" {
		return model.CallResultInvalid, "The number does not exist."
	}
	switch c.Outcome() {
	case model.OutcomeAnswered:
		return model.CallResultAnswered, ""
	case model.OutcomeVoicemail:
		return model.CallResultVoicemail, "The call reached voicemail."
	case model.OutcomeNoAnswer:
		return model.CallResultNoAnswer, "Nobody answered."
	case model.OutcomeBusy:
		return model.CallResultBusy, "The line was busy."
	}
	if c.DisconnectionReason != "" {
		return model.CallResultFailed, "The call could not be connected (" + c.DisconnectionReason + ")."
	}
	return model.CallResultFailed, "The call could not be connected."
}
