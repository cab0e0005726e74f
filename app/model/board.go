package model

import "time"

// Pipeline is an org's sales process: ordered stages that leads move through.
type Pipeline struct {
	ID        int64     `db:"id"`
	OrgID     int64     `db:"org_id"`
	Name      string    `db:"name"`
	Currency  string    `db:"currency"`
	Position  int       `db:"position"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
	// Counts, filled by Pipelines only.
	StageCount int64 `db:"stage_count"`
	LeadCount  int64 `db:"lead_count"`
}

// Limits of the board's fields: the services refuse longer ones and the forms do not let
// them be typed.
const (
	MaxPipelineName     = 80
	MaxStageName        = 60
	MaxStageDescription = 1000
	MaxLeadTitle        = 200
	MaxLeadSource       = 120
	MaxLeadNotes        = 5000
	MaxLeadContactName  = 120
	// MaxLeadValueCents bounds a lead's value: a trillion in any currency.
	MaxLeadValueCents = int64(100_000_000_000_000)
)

// StageColors are the colours a stage may take (CSS classes stage-<color>).
var StageColors = []string{"gray", "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink"}

// Currencies a pipeline may count its leads in.
var Currencies = []string{"BRL", "USD", "EUR"}

// StageOutcomes of a stage: open, or the end of the road.
var StageOutcomes = []string{OutcomeOpen, OutcomeWon, OutcomeLost}

// Stage outcomes: where a lead in the stage stands.
const (
	OutcomeOpen = "open"
	OutcomeWon  = "won"
	OutcomeLost = "lost"
)

// Stage is one column of a pipeline.
type Stage struct {
	ID          int64     `db:"id"`
	OrgID       int64     `db:"org_id"`
	PipelineID  int64     `db:"pipeline_id"`
	Name        string    `db:"name"`
	Color       string    `db:"color"`
	Description string    `db:"description"`
	Outcome     string    `db:"outcome"`
	Position    int       `db:"position"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`
}

// Lead is a contact on a pipeline: a card of the board.
type Lead struct {
	ID           int64      `db:"id"`
	OrgID        int64      `db:"org_id"`
	PipelineID   int64      `db:"pipeline_id"`
	StageID      int64      `db:"stage_id"`
	ContactID    int64      `db:"contact_id"`
	ContactName  string     `db:"contact_name"`
	ContactPhone *string    `db:"contact_phone"`
	Title        string     `db:"title"`
	ValueCents   int64      `db:"value_cents"`
	OwnerID      *int64     `db:"owner_id"`
	OwnerName    *string    `db:"owner_name"`
	Source       string     `db:"source"`
	Notes        string     `db:"notes"` // empty in board lists
	Rank         string     `db:"rank"`
	CreatedBy    *int64     `db:"created_by"`
	CreatedAt    time.Time  `db:"created_at"`
	UpdatedAt    time.Time  `db:"updated_at"`
	MovedAt      *time.Time `db:"moved_at"`
	MovedByName  *string    `db:"moved_by_name"`
	Currency     string     `db:"currency"` // the pipeline's; filled by Lead and LeadFiltered only
}

// LeadRow is a lead as a move locks it: where it is and whose it is.
type LeadRow struct {
	ID         int64  `db:"id"`
	OrgID      int64  `db:"org_id"`
	PipelineID int64  `db:"pipeline_id"`
	StageID    int64  `db:"stage_id"`
	ContactID  int64  `db:"contact_id"`
	OwnerID    *int64 `db:"owner_id"`
	CreatedBy  *int64 `db:"created_by"`
	Rank       string `db:"rank"`
}

// LeadMove is one change of stage of a lead.
type LeadMove struct {
	ID          int64     `db:"id"`
	LeadID      int64     `db:"lead_id"`
	FromStageID *int64    `db:"from_stage_id"`
	ToStageID   *int64    `db:"to_stage_id"`
	FromName    string    `db:"from_name"`
	ToName      string    `db:"to_name"`
	ActorName   *string   `db:"actor_name"`
	CreatedAt   time.Time `db:"created_at"`
	// The AI decision behind the move, if any: "move" (the AI moved it) or "suggestion" (a
	// member accepted its suggestion), with its confidence and reason.
	AIKind       *string  `db:"ai_kind"`
	AIConfidence *float64 `db:"ai_confidence"`
	AIReason     *string  `db:"ai_reason"`
}

// StageTotal is the count and value of the leads of a stage.
type StageTotal struct {
	StageID  int64 `db:"stage_id"`
	Count    int64 `db:"count"`
	SumCents int64 `db:"sum_cents"`
}

// Neighbour is a lead next to a place in a stage, by its key.
type Neighbour struct {
	ID   int64  `db:"id"`
	Rank string `db:"rank"`
}

// BoardContact is the part of a contact a lead form shows.
type BoardContact struct {
	ID    int64   `db:"id"`
	Name  string  `db:"name"`
	Phone *string `db:"phone"`
}

// LeadFilter narrows the cards of a board; the zero value shows them all.
type LeadFilter struct {
	OwnerID int64  // 0: anyone; NoOwner: leads without an owner; else that user's
	Search  string // words of the title or the contact's name
	Min     *int64 // value in cents, inclusive
	Max     *int64
}

// NoOwner is LeadFilter.OwnerID for the leads nobody owns.
const NoOwner = -1

// StageOption is a stage named with its pipeline, for a filter's choices.
type StageOption struct {
	ID           int64  `db:"id"`
	PipelineID   int64  `db:"pipeline_id"`
	PipelineName string `db:"pipeline_name"`
	Name         string `db:"name"`
}
