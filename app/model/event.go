package model

import (
	"encoding/json"
	"time"
)

// Event is a domain event of an org: something changed that open pages and webhooks care about.
type Event struct {
	ID        int64           `db:"id" json:"id"`
	OrgID     int64           `db:"org_id" json:"org_id"`
	Type      string          `db:"type" json:"type"`
	Payload   json.RawMessage `db:"payload" json:"payload"`
	CreatedAt time.Time       `db:"created_at" json:"created_at"`
}
