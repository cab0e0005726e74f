package events

import (
	"context"
	"encoding/json"
	"fmt"

	"masteria/app/store"
)

// Signal announces an event of orgID that is not worth keeping (who is viewing or typing
// in a conversation): it reaches the subscribers of every instance like a published event,
// but it is not stored, so it is never replayed and has no id. It is sent at once, not at
// the end of a transaction. The event must be a transient one of the catalogue.
func Signal(ctx context.Context, st *store.Store, orgID int64, name string, payload any) error {
	d, err := check(name, payload)
	if err != nil {
		return err
	}
	if !d.Transient {
		return fmt.Errorf("events: %s is stored: publish it", name)
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("events: encode %s: %w", name, err)
	}
	note, err := json.Marshal(notification{OrgID: orgID, Type: name, Payload: b})
	if err != nil {
		return fmt.Errorf("events: encode %s: %w", name, err)
	}
	return st.NotifyTransient(ctx, note)
}

// notification is what the NOTIFY channel carries: the id of a stored event, or a
// transient event whole (id 0, with its type and payload).
type notification struct {
	ID      int64           `json:"id,omitempty"`
	IDs     []int64         `json:"ids,omitempty"` // several events of the org, in order (one NOTIFY for a statement's events)
	OrgID   int64           `json:"org_id"`
	Type    string          `json:"type,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}
