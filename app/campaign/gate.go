package campaign

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"masteria/app/campaign/policy"
	"masteria/app/model"
	"masteria/app/store"
)

// admit passes a batch's new sends through the contact policy, in the transaction that
// queues them: each is recorded (toward the contact's daily cap across campaigns and
// cadences; an SMS takes its duplication slot), or held until the policy allows it (cap,
// quiet hours in the contact's zone), or skipped with the reason (an opt-out on any
// channel, no phone, the same SMS already sent to the phone). A send tried before (its
// message already queued) was recorded then and passes as it is.
func (r *runner) admit(ctx context.Context, tx *store.Store, items []*item, now time.Time) (ok []*item, held []store.Deferral, skipped []store.FailedRecipient, err error) {
	channel := policy.ChannelWhatsApp
	if r.ch.Kind == model.KindTwilioSMS {
		channel = policy.ChannelSMS
	}
	// Lock-ordering, so that batches and cadence steps that share contacts or phones never
	// wait on each other in a circle: every contact of the batch is locked first, in id
	// order; then the SMS slots are taken in phone order (a slot that another transaction
	// holds is waited for, as a lock is).
	var fresh []*item
	for _, it := range items {
		if it.messageID == 0 {
			fresh = append(fresh, it)
		}
	}
	slices.SortStableFunc(fresh, func(a, b *item) int { return cmp.Compare(*a.rec.ContactID, *b.rec.ContactID) })
	for i, it := range fresh {
		if i == 0 || *fresh[i-1].rec.ContactID != *it.rec.ContactID {
			if err := tx.LockPolicyContact(ctx, r.c.OrgID, *it.rec.ContactID); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	slices.SortStableFunc(fresh, func(a, b *item) int { return cmp.Compare(a.rec.Address, b.rec.Address) })
	refused := make(map[*item]bool)
	for _, it := range fresh {
		s := policy.Send{OrgID: r.c.OrgID, ContactID: *it.rec.ContactID, Channel: channel, Source: policy.SourceCampaign,
			SourceID: r.c.ID, SourceName: r.c.Name, OwnQuietHours: true} // send applied the campaign's
		if strings.HasPrefix(it.rec.Address, "+") {
			s.Phone = it.rec.Address
		}
		if channel == policy.ChannelSMS {
			s.Text = it.msg.Body
		}
		v, err := r.s.policy.Record(ctx, tx, s, now)
		if err != nil {
			return nil, nil, nil, err
		}
		switch {
		case v.OK:
			continue
		case !v.Until.IsZero():
			held = append(held, store.Deferral{ID: it.rec.ID, At: v.Until, Title: v.Detail})
		default:
			skipped = append(skipped, store.FailedRecipient{ID: it.rec.ID, Status: model.RecipientSkipped, Code: skipCode(v.Reason), Title: v.Detail})
		}
		refused[it] = true
	}
	for _, it := range items {
		if !refused[it] {
			ok = append(ok, it)
		}
	}
	return ok, held, skipped, nil
}

// skipCode is a policy refusal as a recipient's skip reason.
func skipCode(reason string) string {
	switch reason {
	case policy.ReasonOptedOut:
		return model.SkipOptedOut
	case policy.ReasonNoPhone:
		return model.SkipNoAddress
	}
	return reason // duplicate_sms
}

// callSend is a call campaign's first call to a recipient as the contact policy sees it. A
// call again to one who did not answer is the same call, counted once. Calling hours are
// the campaign's own (the dialer's).
func callSend(c model.Campaign, rec store.Claimed) (policy.Send, bool) {
	s := policy.Send{OrgID: c.OrgID, ContactID: *rec.ContactID, Channel: policy.ChannelVoice, Source: policy.SourceCampaign,
		SourceID: c.ID, SourceName: c.Name, OwnQuietHours: true}
	if strings.HasPrefix(rec.Address, "+") {
		s.Phone = rec.Address
	}
	return s, rec.Attempts <= 1
}

// policyCall asks the contact policy before a call campaign's first call to a recipient:
// an opt-out on any channel or no phone skips them, the daily cap holds them until it
// allows. ok is false when the recipient was skipped or held (added to waits).
func (s *Service) policyCall(ctx context.Context, c model.Campaign, rec store.Claimed, waits *[]store.Deferral) (ok bool, err error) {
	send, first := callSend(c, rec)
	if !first {
		return true, nil
	}
	v, err := s.policy.Check(ctx, nil, send, s.now())
	if err != nil || v.OK {
		return v.OK, err
	}
	if !v.Until.IsZero() {
		*waits = append(*waits, store.Deferral{ID: rec.ID, At: v.Until, Title: v.Detail})
		return false, nil
	}
	return false, s.st.Tx(ctx, func(tx *store.Store) error {
		code := skipCode(v.Reason)
		if err := tx.MarkRecipientsFailed(ctx, c.OrgID, []store.FailedRecipient{{ID: rec.ID, Status: model.RecipientSkipped,
			Code: code, Title: v.Detail}}, 0); err != nil {
			return err
		}
		return publishOne(ctx, tx, c, rec, model.RecipientSkipped, code)
	})
}

// recordCall counts a call campaign's first call to a recipient toward the contact's daily
// cap, in the transaction that records the call. The call is placed already: a cap that a
// concurrent send filled meanwhile leaves it uncounted rather than undone.
func (s *Service) recordCall(ctx context.Context, tx *store.Store, c model.Campaign, rec store.Claimed) error {
	send, first := callSend(c, rec)
	if !first {
		return nil
	}
	_, err := s.policy.Record(ctx, tx, send, s.now())
	return err
}
