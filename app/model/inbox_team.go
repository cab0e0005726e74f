package model

import (
	"encoding/json"
	"fmt"
	"time"
)

// InboxSettings are an org's rules for its shared inbox.
type InboxSettings struct {
	// RestrictAgents: agents see (and act on) only their own and unassigned conversations;
	// another agent's is as if it were not there. Managers and above always see all.
	RestrictAgents bool `db:"restrict_agents" json:"restrict_agents"`
	// RoundRobin: a new conversation (or one reopened with nobody on it) goes to the member
	// of the rotation who was given one longest ago.
	RoundRobin bool `db:"round_robin" json:"round_robin"`
	// BusinessHours are when the team works, in the org's zone: response and resolution
	// times in business hours count only the time inside them.
	BusinessHours BusinessHours `db:"business_hours" json:"business_hours"`
	// ResponseTarget is the first-response target in minutes (0: none).
	ResponseTarget int `db:"response_target" json:"response_target"`
}

// MaxResponseTarget is the longest first-response target, in minutes (a week).
const MaxResponseTarget = 7 * 24 * 60

// DefaultInboxSettings are an org's settings until an admin saves them: what the inbox did
// before they existed.
var DefaultInboxSettings = InboxSettings{RestrictAgents: true, ResponseTarget: 15}

// RotationMember is a member as the round-robin settings show them.
type RotationMember struct {
	UserID         int64      `db:"user_id"`
	Name           string     `db:"user_name"`
	Role           Role       `db:"role"`
	InRotation     bool       `db:"in_rotation"` // the explicit choice, or by role: agents take part
	LastAssignedAt *time.Time `db:"last_assigned_at"`
}

// Label limits of a conversation.
const (
	MaxLabelLen = 32
	MaxLabels   = 10
)

// Labels are a conversation's labels. The store reads them as JSON (to_json of the text[]
// column), so this package needs nothing of the database driver.
type Labels []string

// Scan reads a JSON array of strings.
func (l *Labels) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*l = nil
		return nil
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return fmt.Errorf("model: labels from %T", src)
	}
	return json.Unmarshal(b, (*[]string)(l))
}

// MarshalJSON writes no labels as [], not null.
func (l Labels) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]string(l))
}

// QuickReply is a saved answer an agent inserts by typing "/" and its shortcut.
type QuickReply struct {
	ID        int64     `db:"id" json:"id"`
	OrgID     int64     `db:"org_id" json:"-"`
	Shortcut  string    `db:"shortcut" json:"shortcut"`
	Title     string    `db:"title" json:"title"`
	Body      string    `db:"body" json:"body"`
	CreatedBy *int64    `db:"created_by" json:"-"`
	CreatedAt time.Time `db:"created_at" json:"-"`
	UpdatedAt time.Time `db:"updated_at" json:"-"`
}

// ContactLead is one of a contact's leads as the inbox's contact panel shows it.
type ContactLead struct {
	ID           int64  `db:"id"`
	Title        string `db:"title"`
	PipelineID   int64  `db:"pipeline_id"`
	PipelineName string `db:"pipeline_name"`
	StageName    string `db:"stage_name"`
	StageColor   string `db:"stage_color"`
}
