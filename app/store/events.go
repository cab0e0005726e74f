package store

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/lib/pq"
	"time"

	"masteria/app/model"
)

// InsertEvent writes an event to the outbox and queues its notification; both take effect
// when the surrounding transaction commits, so listeners never see an event whose change
// was rolled back.
func (s *Store) InsertEvent(ctx context.Context, orgID int64, typ string, payload json.RawMessage) (model.Event, error) {
	e := model.Event{OrgID: orgID, Type: typ, Payload: payload}
	row := struct {
		ID        int64     `db:"id"`
		CreatedAt time.Time `db:"created_at"`
	}{}
	if err := s.get(ctx, s.q.EventInsert, &row, orgID, typ, []byte(payload)); err != nil {
		return e, fmt.Errorf("store: insert event %s: %w", typ, err)
	}
	e.ID, e.CreatedAt = row.ID, row.CreatedAt
	note, _ := json.Marshal(struct {
		ID    int64 `json:"id"`
		OrgID int64 `json:"org_id"`
	}{e.ID, orgID})
	if _, err := s.exec(ctx, s.q.EventNotify, string(note)); err != nil {
		return e, fmt.Errorf("store: notify event %s: %w", typ, err)
	}
	return e, nil
}

// Event returns one event of an org.
func (s *Store) Event(ctx context.Context, orgID, eventID int64) (model.Event, error) {
	var e model.Event
	if err := s.get(ctx, s.q.EventByID, &e, orgID, eventID); err != nil {
		return e, fmt.Errorf("store: event %d: %w", eventID, err)
	}
	return e, nil
}

// EventsSince returns an org's events after afterID, oldest first, at most limit.
func (s *Store) EventsSince(ctx context.Context, orgID, afterID int64, limit int) ([]model.Event, error) {
	var es []model.Event
	if err := s.sel(ctx, s.q.EventsSince, &es, orgID, afterID, limit); err != nil {
		return nil, fmt.Errorf("store: events since %d: %w", afterID, err)
	}
	return es, nil
}

// DeleteOldEvents trims the outbox: events older than keep can no longer be resumed from.
func (s *Store) DeleteOldEvents(ctx context.Context, keep time.Duration) (int64, error) {
	n, err := s.exec(ctx, s.q.EventsDeleteOld, fmt.Sprintf("%d seconds", int64(keep.Seconds())))
	if err != nil {
		return 0, fmt.Errorf("store: delete old events: %w", err)
	}
	return n, nil
}

// NotifyTransient announces an event that is not stored (presence: "Ana is typing"): every
// instance's listener gets it whole in the notification, and it is gone once delivered.
// note is the JSON the broker reads; PostgreSQL caps it just under 8000 bytes.
func (s *Store) NotifyTransient(ctx context.Context, note []byte) error {
	if len(note) > 7000 {
		return fmt.Errorf("store: transient event of %d bytes is too big", len(note))
	}
	if _, err := s.exec(ctx, s.q.EventNotify, string(note)); err != nil {
		return fmt.Errorf("store: notify transient event: %w", err)
	}
	return nil
}

// InsertEvents records many events of one type in one statement; each is announced when
// the transaction commits.
func (s *Store) InsertEvents(ctx context.Context, orgID int64, typ string, payloads [][]byte) error {
	if len(payloads) == 0 {
		return nil
	}
	ps := make([]string, len(payloads))
	for i, p := range payloads {
		ps[i] = string(p)
	}
	var n int64
	if err := s.get(ctx, s.q.EventsInsertMany, &n, orgID, typ, pq.Array(ps)); err != nil {
		return fmt.Errorf("store: insert events %s: %w", typ, err)
	}
	return nil
}
