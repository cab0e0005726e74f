package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// analyticsMessageQueries are the queries of the metric engine's messages family
// (queries/analytics_messages.sql).
type analyticsMessageQueries struct {
	AnalyticsMessageHoursDelete  *sqlx.Stmt `query:"analytics-message-hours-delete"`
	AnalyticsMessageHoursCount   *sqlx.Stmt `query:"analytics-message-hours-count"`
	AnalyticsMessageHoursClear   *sqlx.Stmt `query:"analytics-message-hours-clear"`
	AnalyticsMessageHoursRebuild *sqlx.Stmt `query:"analytics-message-hours-rebuild"`
	AnalyticsMessageBuckets      *sqlx.Stmt `query:"analytics-message-buckets"`
	AnalyticsMessageBucketsLabel *sqlx.Stmt `query:"analytics-message-buckets-label"`
}

// AnalyticsFilter narrows a figure of the engine: the period [From, To) and the ids that
// narrow it (0 or "": all).
type AnalyticsFilter struct {
	From, To   time.Time
	Zone       *time.Location
	ChannelID  int64
	AgentID    int64
	CampaignID int64
	Label      string
	Business   bool
	TargetS    int // the first-response target in seconds, 0 for none
}

// wallClock is t's wall clock in zone, as PostgreSQL reads a timestamp without zone.
func wallClock(t time.Time, zone *time.Location) string {
	return t.In(zone).Format("2006-01-02 15:04:05")
}

// CountMessageHours counts again the local hours of zone that the UTC hours touch.
func (s *Store) CountMessageHours(ctx context.Context, orgID int64, zone string, hours []time.Time) error {
	if _, err := s.exec(ctx, s.q.AnalyticsMessageHoursDelete, orgID, zone, pq.Array(hours)); err != nil {
		return fmt.Errorf("store: message hours: %w", err)
	}
	if _, err := s.exec(ctx, s.q.AnalyticsMessageHoursCount, orgID, zone, pq.Array(hours)); err != nil {
		return fmt.Errorf("store: message hours: %w", err)
	}
	return nil
}

// RebuildMessageHours counts every message of the org again, in zone.
func (s *Store) RebuildMessageHours(ctx context.Context, orgID int64, zone string) error {
	if _, err := s.exec(ctx, s.q.AnalyticsMessageHoursClear, orgID); err != nil {
		return fmt.Errorf("store: rebuild message hours: %w", err)
	}
	if _, err := s.exec(ctx, s.q.AnalyticsMessageHoursRebuild, orgID, zone); err != nil {
		return fmt.Errorf("store: rebuild message hours: %w", err)
	}
	return nil
}

// MessageBucket is the messages of one bucket of a period, one channel and one sender.
type MessageBucket struct {
	Bucket    int     `db:"bucket"` // 1 for the first bucket
	ChannelID int64   `db:"channel_id"`
	AgentID   int64   `db:"agent_id"`
	Sent      int64   `db:"sent"`
	Delivered int64   `db:"delivered"`
	Read      int64   `db:"read"`
	Failed    int64   `db:"failed"`
	Inbound   int64   `db:"inbound"`
	Replies   int64   `db:"replies"`
	CostCents float64 `db:"cost_cents"`
}

// MessageBuckets are the period's messages by bucket (starts, the first at f.From),
// channel and sender.
func (s *Store) MessageBuckets(ctx context.Context, orgID int64, f AnalyticsFilter, starts []time.Time) ([]MessageBucket, error) {
	zone := f.Zone.String()
	walls := make([]string, len(starts))
	for i, t := range starts {
		walls[i] = wallClock(t, f.Zone)
	}
	args := []any{orgID, zone, pq.Array(walls), wallClock(f.From, f.Zone), wallClock(f.To, f.Zone), f.ChannelID, f.AgentID, f.CampaignID}
	st := s.q.AnalyticsMessageBuckets
	if f.Label != "" {
		st = s.q.AnalyticsMessageBucketsLabel
		args = append(args, f.Label)
	}
	var out []MessageBucket
	if err := s.sel(ctx, st, &out, args...); err != nil {
		return nil, fmt.Errorf("store: message buckets: %w", err)
	}
	return out, nil
}

// MessageDrillRow is one message behind a figure.
type MessageDrillRow struct {
	ID             int64     `db:"id"`
	ConversationID int64     `db:"conversation_id"`
	ChannelID      int64     `db:"channel_id"`
	Direction      string    `db:"direction"`
	Status         string    `db:"status"`
	Source         string    `db:"source"`
	CreatedAt      time.Time `db:"created_at"`
	Body           string    `db:"body"`
	CostCents      float64   `db:"cost_cents"`
	ContactName    string    `db:"contact_name"`
}

// MessageDrill is one page of the messages behind a figure: where is the figure's own
// predicate over the facts f (direction, status, source), fixed in code; the page starts
// after (created_at, id) when afterID is not 0.
func (s *Store) MessageDrill(ctx context.Context, orgID int64, f AnalyticsFilter, where string, afterAt time.Time, afterID int64, limit int) ([]MessageDrillRow, int64, error) {
	narrow := func(b *builder) {
		b.where(where)
		if f.ChannelID != 0 {
			b.where("f.channel_id = ?", f.ChannelID)
		}
		if f.AgentID != 0 {
			b.where("f.agent_id = ?", f.AgentID)
		}
		if f.CampaignID != 0 {
			b.where("f.campaign_id = ?", f.CampaignID)
		}
		if f.Label != "" {
			b.where("v.labels @> ARRAY[?::text]", f.Label)
		}
	}
	cb := newBuilder(s.fragment("analytics-message-drill-count"), orgID, f.From, f.To)
	narrow(cb)
	var total int64
	if err := sqlx.GetContext(ctx, s.queryer(), &total, cb.String(), cb.args...); err != nil {
		return nil, 0, fmt.Errorf("store: message drill: %w", err)
	}
	b := newBuilder(s.fragment("analytics-message-drill"), orgID, f.From, f.To)
	narrow(b)
	if afterID != 0 {
		b.where("(f.created_at, f.id) > (?, ?)", afterAt, afterID)
	}
	b.add(" ", "ORDER BY f.created_at, f.id LIMIT ?", limit)
	var out []MessageDrillRow
	if err := sqlx.SelectContext(ctx, s.queryer(), &out, b.String(), b.args...); err != nil {
		return nil, 0, fmt.Errorf("store: message drill: %w", err)
	}
	return out, total, nil
}
