package cadence

import (
	"context"
	"time"

	"masteria/app/campaign/policy"
	"masteria/app/store"
)

// PolicyOf is the contact policy (app/campaign/policy) as the engine asks it.
func PolicyOf(p *policy.Policy) Policy { return contactPolicy{p} }

type contactPolicy struct{ p *policy.Policy }

func (c contactPolicy) Check(ctx context.Context, tx *store.Store, s Send, now time.Time) (Verdict, error) {
	v, err := c.p.Check(ctx, tx, policySend(s), now)
	return Verdict{OK: v.OK, Reason: v.Reason, Detail: v.Detail, Until: v.Until}, err
}

func (c contactPolicy) Record(ctx context.Context, tx *store.Store, s Send, now time.Time) (Verdict, error) {
	v, err := c.p.Record(ctx, tx, policySend(s), now)
	return Verdict{OK: v.OK, Reason: v.Reason, Detail: v.Detail, Until: v.Until}, err
}

func policySend(s Send) policy.Send {
	return policy.Send{OrgID: s.OrgID, ContactID: s.ContactID, Channel: s.Channel, Phone: s.Phone, Text: s.Text,
		Source: s.Source, SourceID: s.SourceID, SourceName: s.SourceName}
}
