// Package events carries domain events from the change that caused them to everyone who
// cares: open pages (over SSE) on every instance, and later outgoing webhooks.
//
// A service writes its change and the event in one transaction (Publish); PostgreSQL's
// NOTIFY, sent on commit, wakes the Broker of every instance, which loads the event and hands
// it to the subscribers of that org. Subscribers that fall behind or reconnect replay from
// the events table with Last-Event-ID, so nothing is lost between a notify and a subscribe.
package events

import (
	"context"
	"encoding/json"
	"fmt"

	"masteria/app/model"
	"masteria/app/store"
)

// Event types emitted by the foundation. Later areas add their own.
const (
	OrgRenamed        = "org.renamed"
	MemberInvited     = "member.invited"
	MemberJoined      = "member.joined"
	MemberRoleChanged = "member.role_changed"
	MemberRemoved     = "member.removed"
	InviteRevoked     = "invite.revoked"
	APIKeyCreated     = "apikey.created"
	APIKeyRevoked     = "apikey.revoked"
)

// Publish records an event of orgID in the transaction of tx. It becomes visible, and is
// announced, only if that transaction commits.
func Publish(ctx context.Context, tx *store.Store, orgID int64, typ string, payload any) (model.Event, error) {
	if tx.SQLTx() == nil {
		return model.Event{}, fmt.Errorf("events: publish %s outside a transaction", typ)
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return model.Event{}, fmt.Errorf("events: encode %s: %w", typ, err)
	}
	return tx.InsertEvent(ctx, orgID, typ, b)
}
