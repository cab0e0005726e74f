// Package events carries domain events from the change that caused them to everyone who
// cares: open pages (over SSE) on every instance, and later outgoing webhooks.
//
// A service writes its change and the event in one transaction (Publish); PostgreSQL's
// NOTIFY, sent on commit, wakes the Broker of every instance, which loads the event and hands
// it to the subscribers of that org. Subscribers that fall behind or reconnect replay from
// the events table with Last-Event-ID, so nothing is lost between a notify and a subscribe.
//
// Every event is in the catalogue (catalogue.go) with its payload type; publishing anything
// else is refused.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"masteria/app/model"
	"masteria/app/store"
)

// ErrUncatalogued refuses an event name that is not in the catalogue or a payload that is
// not of its event's type.
var ErrUncatalogued = errors.New("events: not in the catalogue")

// Def is one event of the catalogue.
type Def struct {
	Name        string
	Description string
	// Payload is the Go type of the payload; its JSON is what subscribers receive.
	Payload reflect.Type
	// Transient events are signalled, not stored: they are never replayed and have no id.
	Transient bool
	// visible says whether a member may see one of these events; nil: every member.
	visible func(payload json.RawMessage, a model.Actor) bool
}

// Type is an event of the catalogue whose payload is a P.
type Type[P any] struct{ def *Def }

var (
	catalogue = map[string]*Def{}
	ordered   []*Def // in the order of catalogue.go
)

func define[P any](name, description string) Type[P] {
	d := &Def{Name: name, Description: description, Payload: reflect.TypeFor[P]()}
	catalogue[name] = d
	ordered = append(ordered, d)
	return Type[P]{d}
}

// signal defines a transient event; visible (nil: all) filters who sees it.
func signal[P any](name, description string, visible func(P, model.Actor) bool) Type[P] {
	t := define[P](name, description)
	t.def.Transient = true
	if visible != nil {
		t.def.visible = func(payload json.RawMessage, a model.Actor) bool {
			var p P
			return json.Unmarshal(payload, &p) == nil && visible(p, a)
		}
	}
	return t
}

// only sends an event to the members whose role holds permission p (the pages that show
// it are theirs alone).
func only[P any](t Type[P], p model.Permission) Type[P] {
	t.def.visible = func(_ json.RawMessage, a model.Actor) bool { return a.Role.May(p) }
	return t
}

// All returns the catalogue in its order.
func All() []Def {
	out := make([]Def, len(ordered))
	for i, d := range ordered {
		out[i] = *d
	}
	return out
}

// Lookup returns the event named name.
func Lookup(name string) (Def, bool) {
	d, ok := catalogue[name]
	if !ok {
		return Def{}, false
	}
	return *d, true
}

// Visible says whether a member may receive ev: it must be in the catalogue (an event of a
// retired name still in the table is not sent) and pass its event's filter.
func Visible(ev model.Event, a model.Actor) bool {
	d, ok := catalogue[ev.Type]
	return ok && (d.visible == nil || d.visible(ev.Payload, a))
}

// Name is the event's name, as subscribers see it.
func (t Type[P]) Name() string { return t.def.Name }

// Publish records the event in tx; see Publish.
func (t Type[P]) Publish(ctx context.Context, tx *store.Store, orgID int64, payload P) (model.Event, error) {
	return Publish(ctx, tx, orgID, t.def.Name, payload)
}

// Signal announces the transient event; see Signal.
func (t Type[P]) Signal(ctx context.Context, st *store.Store, orgID int64, payload P) error {
	return Signal(ctx, st, orgID, t.def.Name, payload)
}

// With pairs the event with its payload, for code that publishes on behalf of others.
func (t Type[P]) With(payload P) Pending { return Pending{Name: t.def.Name, Payload: payload} }

// Decode reads a payload of this event.
func (t Type[P]) Decode(payload []byte) (P, error) {
	var p P
	err := json.Unmarshal(payload, &p)
	return p, err
}

// Pending is an event and its payload, ready to publish. The zero Pending is no event.
type Pending struct {
	Name    string
	Payload any
}

// Publish records p in tx; the zero Pending does nothing.
func (p Pending) Publish(ctx context.Context, tx *store.Store, orgID int64) error {
	if p.Name == "" {
		return nil
	}
	_, err := Publish(ctx, tx, orgID, p.Name, p.Payload)
	return err
}

// check finds name in the catalogue and makes sure payload is of its type.
func check(name string, payload any) (*Def, error) {
	d, ok := catalogue[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUncatalogued, name)
	}
	if got := reflect.TypeOf(payload); got != d.Payload {
		return nil, fmt.Errorf("%w: %s takes a %v payload, not %v", ErrUncatalogued, name, d.Payload, got)
	}
	return d, nil
}

// Publish records an event of orgID in the transaction of tx. It becomes visible, and is
// announced, only if that transaction commits. The event must be in the catalogue, not
// transient, and payload of its type.
func Publish(ctx context.Context, tx *store.Store, orgID int64, name string, payload any) (model.Event, error) {
	d, err := check(name, payload)
	if err != nil {
		return model.Event{}, err
	}
	if d.Transient {
		return model.Event{}, fmt.Errorf("events: %s is signalled, not stored", name)
	}
	if tx.SQLTx() == nil {
		return model.Event{}, fmt.Errorf("events: publish %s outside a transaction", name)
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return model.Event{}, fmt.Errorf("events: encode %s: %w", name, err)
	}
	return tx.InsertEvent(ctx, orgID, name, b)
}

// PublishMany records many events of this type in tx, in one statement.
func (t Type[P]) PublishMany(ctx context.Context, tx *store.Store, orgID int64, payloads []P) error {
	if len(payloads) == 0 {
		return nil
	}
	if t.def.Transient {
		return fmt.Errorf("events: %s is signalled, not stored", t.def.Name)
	}
	if tx.SQLTx() == nil {
		return fmt.Errorf("events: publish %s outside a transaction", t.def.Name)
	}
	bs := make([][]byte, len(payloads))
	for i, p := range payloads {
		b, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("events: encode %s: %w", t.def.Name, err)
		}
		bs[i] = b
	}
	return tx.InsertEvents(ctx, orgID, t.def.Name, bs)
}
