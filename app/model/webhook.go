package model

import (
	"encoding/json"
	"time"

	"github.com/lib/pq"
)

// WebhookEndpoint is where an org's events are sent (outgoing webhooks, app/hooks).
type WebhookEndpoint struct {
	ID          int64          `db:"id" json:"id"`
	OrgID       int64          `db:"org_id" json:"-"`
	URL         string         `db:"url" json:"url"`
	Description string         `db:"description" json:"description"`
	EventTypes  pq.StringArray `db:"event_types" json:"event_types"`
	// AllEvents: every event of the catalogue, new ones too (EventTypes is then empty).
	AllEvents bool `db:"all_events" json:"all_events"`
	Enabled   bool `db:"enabled" json:"enabled"`
	// DisabledReason: "" (enabled), "manual", "gone" (the receiver answered 410) or
	// "failing" (every attempt failed for days).
	DisabledReason string     `db:"disabled_reason" json:"disabled_reason"`
	DisabledAt     *time.Time `db:"disabled_at" json:"disabled_at"`
	// Failures in a row, since when, and until when the circuit breaker holds deliveries.
	Failures     int        `db:"failures" json:"consecutive_failures"`
	FailingSince *time.Time `db:"failing_since" json:"failing_since"`
	OpenUntil    *time.Time `db:"open_until" json:"circuit_open_until"`
	CreatedAt    time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt    time.Time  `db:"updated_at" json:"updated_at"`
	// The last 24 hours' attempts (lists only).
	RecentOK    int64 `db:"recent_ok" json:"recent_ok"`
	RecentTotal int64 `db:"recent_total" json:"recent_total"`
}

// Wants tells whether the endpoint is subscribed to events of type typ.
func (e WebhookEndpoint) Wants(typ string) bool {
	if e.AllEvents {
		return true
	}
	for _, t := range e.EventTypes {
		if t == typ {
			return true
		}
	}
	return false
}

// WebhookDelivery is one event sent to one endpoint; MsgID is its webhook-id, the same on
// every attempt.
type WebhookDelivery struct {
	ID         int64           `db:"id" json:"id"`
	OrgID      int64           `db:"org_id" json:"-"`
	EndpointID int64           `db:"endpoint_id" json:"endpoint_id"`
	MsgID      string          `db:"msg_id" json:"webhook_id"`
	EventType  string          `db:"event_type" json:"event_type"`
	Payload    json.RawMessage `db:"payload" json:"data"`
	EventAt    time.Time       `db:"event_at" json:"event_at"`
	// State: pending (to send at NextAt), delivered or failed.
	State      string           `db:"state" json:"state"`
	Attempts   int              `db:"attempts" json:"attempts"`
	NextAt     time.Time        `db:"next_at" json:"next_attempt_at"`
	LastStatus *int             `db:"last_status" json:"last_status"`
	LastError  string           `db:"last_error" json:"last_error"`
	CreatedAt  time.Time        `db:"created_at" json:"created_at"`
	UpdatedAt  time.Time        `db:"updated_at" json:"updated_at"`
	Log        []WebhookAttempt `db:"-" json:"attempt_log"`
}

// WebhookAttempt is one try of a delivery: Status 0 is no answer (Error says why).
type WebhookAttempt struct {
	ID         int64     `db:"id" json:"id"`
	DeliveryID int64     `db:"delivery_id" json:"-"`
	At         time.Time `db:"at" json:"at"`
	Status     int       `db:"status" json:"status"`
	Error      string    `db:"error" json:"error"`
	Body       string    `db:"body" json:"response_body"`
	DurationMS int       `db:"duration_ms" json:"duration_ms"`
	OK         bool      `db:"ok" json:"ok"`
}
