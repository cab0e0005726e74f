package events

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lib/pq"

	"masteria/app/model"
	"masteria/app/store"
)

// channel is the NOTIFY channel written by store.InsertEvent.
const channel = "masteria_events"

// Broker listens for event notifications and fans them out to this instance's subscribers.
type Broker struct {
	st  *store.Store
	url string

	mu   sync.Mutex
	subs map[int64]map[*Subscription]struct{} // by org id
}

// Subscription receives the events of one org. C is closed when the subscription ends.
type Subscription struct {
	OrgID int64
	C     chan model.Event
	b     *Broker
	once  sync.Once
	// Lagged is set when events were dropped because the reader was too slow; the reader
	// then resumes from the table with its last id.
	lagged bool
}

// NewBroker returns a broker that listens on the database at url.
func NewBroker(st *store.Store, url string) *Broker {
	return &Broker{st: st, url: url, subs: map[int64]map[*Subscription]struct{}{}}
}

// Run listens until ctx ends. The listener reconnects by itself after a database outage;
// subscribers resume from the table on their next reconnect, so events of the gap are not lost.
func (b *Broker) Run(ctx context.Context) error {
	l := pq.NewListener(b.url, time.Second, 30*time.Second, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			slog.Warn("events: listener", "event", ev, "err", err)
		}
	})
	defer l.Close()
	if err := l.Listen(channel); err != nil {
		return fmt.Errorf("events: listen: %w", err)
	}
	ping := time.NewTicker(30 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-l.Notify:
			if n == nil { // reconnected: notifications may have been missed
				continue
			}
			b.deliver(ctx, n.Extra)
		case <-ping.C:
			go func() { _ = l.Ping() }()
		}
	}
}

func (b *Broker) deliver(ctx context.Context, note string) {
	var ref notification
	if err := json.Unmarshal([]byte(note), &ref); err != nil {
		slog.Warn("events: bad notification", "payload", note, "err", err)
		return
	}
	if !b.hasSubscribers(ref.OrgID) {
		return
	}
	if ref.ID == 0 && ref.Type != "" { // transient (Signal): the notification is the event
		b.fanOut(model.Event{OrgID: ref.OrgID, Type: ref.Type, Payload: ref.Payload, CreatedAt: time.Now()})
		return
	}
	ids := ref.IDs
	if ref.ID != 0 {
		ids = append(ids, ref.ID)
	}
	for _, id := range ids {
		ev, err := b.st.Event(ctx, ref.OrgID, id)
		if err != nil {
			slog.Warn("events: load", "id", id, "err", err)
			continue
		}
		b.fanOut(ev)
	}
}

// fanOut hands ev to its org's subscribers.
func (b *Broker) fanOut(ev model.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs[ev.OrgID] {
		select {
		case s.C <- ev:
		default:
			s.lagged = true // the reader replays from the table; never block the broker
		}
	}
}

func (b *Broker) hasSubscribers(orgID int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs[orgID]) > 0
}

// Subscribe starts receiving orgID's events. Call Close when done.
func (b *Broker) Subscribe(orgID int64) *Subscription {
	s := &Subscription{OrgID: orgID, C: make(chan model.Event, 64), b: b}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs[orgID] == nil {
		b.subs[orgID] = map[*Subscription]struct{}{}
	}
	b.subs[orgID][s] = struct{}{}
	return s
}

// Lagged tells, and clears, whether events were dropped since the last call.
func (s *Subscription) Lagged() bool {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	l := s.lagged
	s.lagged = false
	return l
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.b.mu.Lock()
		delete(s.b.subs[s.OrgID], s)
		if len(s.b.subs[s.OrgID]) == 0 {
			delete(s.b.subs, s.OrgID)
		}
		s.b.mu.Unlock()
	})
}

// Since returns orgID's events after afterID, for Last-Event-ID resume.
func (b *Broker) Since(ctx context.Context, orgID, afterID int64, limit int) ([]model.Event, error) {
	return b.st.EventsSince(ctx, orgID, afterID, limit)
}
