package model

import "time"

// PipelineAI is a pipeline's lead progression: whether the AI moves its leads, and how sure
// it must be to move one by itself (below that it only suggests).
type PipelineAI struct {
	PipelineID int64      `db:"pipeline_id" json:"pipeline_id"`
	Enabled    bool       `db:"enabled" json:"enabled"`
	Threshold  float64    `db:"threshold" json:"threshold"`
	UpdatedAt  *time.Time `db:"updated_at" json:"updated_at"`
}

// Limits of a pipeline's threshold: below one half the AI would move cards on a coin flip.
const (
	DefaultAIThreshold = 0.80
	MinAIThreshold     = 0.50
	MaxAIThreshold     = 1.00
)

// Kinds and states of a lead's AI decision (lead_ai_decisions).
const (
	AIDecisionMove       = "move"
	AIDecisionSuggestion = "suggestion"

	AIMoveApplied = "applied" // the card moved
	AIMoveUndone  = "undone"  // a person put it back

	AISuggestionOpen       = "open"
	AISuggestionAccepted   = "accepted"
	AISuggestionDismissed  = "dismissed"
	AISuggestionSuperseded = "superseded" // a newer classification, or the lead moved meanwhile
)

// MaxAIReason is how long a reason the AI gives is kept (in runes).
const MaxAIReason = 300

// LeadAIDecision is one AI move or suggestion of a lead.
type LeadAIDecision struct {
	ID          int64      `db:"id" json:"id"`
	OrgID       int64      `db:"org_id" json:"-"`
	LeadID      int64      `db:"lead_id" json:"lead_id"`
	PipelineID  int64      `db:"pipeline_id" json:"pipeline_id"`
	Kind        string     `db:"kind" json:"kind"`
	Status      string     `db:"status" json:"status"`
	FromStageID *int64     `db:"from_stage_id" json:"from_stage_id"`
	ToStageID   *int64     `db:"to_stage_id" json:"to_stage_id"`
	FromName    string     `db:"from_name" json:"from_name"`
	ToName      string     `db:"to_name" json:"to_name"`
	Confidence  float64    `db:"confidence" json:"confidence"`
	Reason      string     `db:"reason" json:"reason"`
	Model       string     `db:"model" json:"model"`
	LeadMoveID  *int64     `db:"lead_move_id" json:"-"`
	DecidedBy   *int64     `db:"decided_by" json:"decided_by"`
	DecidedAt   *time.Time `db:"decided_at" json:"decided_at"`
	CreatedAt   time.Time  `db:"created_at" json:"created_at"`
	// Undoable: an applied move that is still the lead's latest change of stage (filled by
	// the queries that list moves).
	Undoable bool `db:"undoable" json:"undoable"`
}

// Percent is the confidence as a whole percentage, for people.
func (d LeadAIDecision) Percent() int { return int(d.Confidence*100 + 0.5) }

// LeadAIMark is what a card shows of the AI: the move that put it in its stage (while it is
// still the lead's latest move), and the open suggestion (while the lead is still in the
// stage it was made from). Either may be nil.
type LeadAIMark struct {
	Move       *LeadAIDecision
	Suggestion *LeadAIDecision
}

// Empty tells whether there is nothing to show.
func (m LeadAIMark) Empty() bool { return m.Move == nil && m.Suggestion == nil }

// LeadAICheck is the last classification of a lead: what the model said, whatever came of it.
type LeadAICheck struct {
	LeadID     int64     `db:"lead_id"`
	MessageID  int64     `db:"message_id"`
	CallID     int64     `db:"call_id"` // the newest call the classification read
	StageName  string    `db:"stage_name"`
	Confidence float64   `db:"confidence"`
	Reason     string    `db:"reason"`
	CheckedAt  time.Time `db:"checked_at"`
}

// LeadAIContext is what the classification of a lead reads: the lead, its pipeline's
// stages and settings.
type LeadAIContext struct {
	LeadID      int64  `db:"lead_id"`
	OrgID       int64  `db:"org_id"`
	PipelineID  int64  `db:"pipeline_id"`
	StageID     int64  `db:"stage_id"`
	ContactID   int64  `db:"contact_id"`
	Title       string `db:"title"`
	ContactName string `db:"contact_name"`
}

// LeadAIMessage is one message of a lead's conversations as the classification reads it.
type LeadAIMessage struct {
	ID        int64     `db:"id"`
	Direction string    `db:"direction"` // in or out
	Kind      string    `db:"kind"`
	Body      string    `db:"body"`
	CreatedAt time.Time `db:"created_at"`
}
