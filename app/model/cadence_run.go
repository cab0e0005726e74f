package model

import "time"

// How an enrolment joined its cadence.
const (
	EnrolManual  = "manual"  // a member, from a contact, the contacts list or the board
	EnrolSegment = "segment" // the contact matched the cadence's segment
	EnrolStage   = "stage"   // the contact's lead entered the cadence's enrol stage
	EnrolAPI     = "api"     // the REST API
)

// Why an enrolment ended early (exit_reason).
const (
	ExitReplied  = "replied"      // the contact wrote back on any channel
	ExitOptedOut = "opted_out"    // the contact opted out on any channel
	ExitStage    = "stage_change" // the contact's lead changed stage
	ExitGoal     = "goal"         // the lead reached the cadence's goal stage
	ExitManual   = "manual"       // a member (or the API) removed it
	ExitArchived = "archived"     // the cadence was archived
	ExitGone     = "gone"         // its version or step no longer exists
)

// Statuses of a step in an enrolment's timeline (cadence_steps.status).
const (
	StepRunning = "running" // claimed: being done (a call being placed)
	StepWaiting = "waiting" // a wait or an await not over
	StepDone    = "done"
	StepSkipped = "skipped" // the contact policy held a send (detail says why)
	StepFailed  = "failed"
)

// Enrolment is one contact's walk through one version of a cadence.
type Enrolment struct {
	ID         int64      `db:"id" json:"id"`
	OrgID      int64      `db:"org_id" json:"-"`
	CadenceID  int64      `db:"cadence_id" json:"cadence_id"`
	Version    int        `db:"version" json:"version"`
	ContactID  int64      `db:"contact_id" json:"contact_id"`
	LeadID     *int64     `db:"lead_id" json:"lead_id"`
	Status     string     `db:"status" json:"status"`
	StepID     string     `db:"step_id" json:"step_id"`
	StepAt     time.Time  `db:"step_at" json:"step_at"`
	DueAt      *time.Time `db:"due_at" json:"due_at"`
	Source     string     `db:"source" json:"source"`
	EnrolledBy *int64     `db:"enrolled_by" json:"-"`
	ExitReason string     `db:"exit_reason" json:"exit_reason,omitempty"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt  time.Time  `db:"updated_at" json:"updated_at"`
	FinishedAt *time.Time `db:"finished_at" json:"finished_at"`

	// Read with it for pages: the contact's name and phone, the cadence's name.
	ContactName  string  `db:"contact_name" json:"contact_name,omitempty"`
	ContactPhone *string `db:"contact_phone" json:"-"`
	CadenceName  string  `db:"cadence_name" json:"cadence_name,omitempty"`

	Steps []EnrolmentStep `db:"-" json:"steps,omitempty"`
}

// Running tells whether the enrolment has not ended.
func (e Enrolment) Running() bool { return e.Status == EnrolmentActive || e.Status == EnrolmentPaused }

// EnrolmentStep is one line of an enrolment's timeline: a step it reached, what was done
// and what came of it.
type EnrolmentStep struct {
	ID         int64      `db:"id" json:"-"`
	StepID     string     `db:"step_id" json:"step_id"`
	Kind       string     `db:"kind" json:"kind"`
	Status     string     `db:"status" json:"status"`
	Outcome    string     `db:"outcome" json:"outcome,omitempty"`
	MessageID  *int64     `db:"message_id" json:"message_id,omitempty"`
	CallID     *int64     `db:"call_id" json:"call_id,omitempty"`
	Detail     string     `db:"detail" json:"detail,omitempty"`
	StartedAt  time.Time  `db:"started_at" json:"started_at"`
	FinishedAt *time.Time `db:"finished_at" json:"finished_at,omitempty"`
}

// FunnelStep is how many enrolments of a cadence are at one of its steps and what came of
// the step for those who passed it.
type FunnelStep struct {
	StepID   string           `json:"step_id"`
	Kind     string           `json:"kind"`
	Here     int64            `json:"here"`     // active or paused enrolments at the step now
	Reached  int64            `json:"reached"`  // enrolments that reached it
	Outcomes map[string]int64 `json:"outcomes"` // by outcome (or status for a skipped step)
}

// Funnel is a cadence's steps with their counts, and its enrolments by status.
type Funnel struct {
	Steps    []FunnelStep     `json:"steps"`
	ByStatus map[string]int64 `json:"by_status"`
}

// EnrolResult is what an enrolment request did: how many joined, how many were in the
// cadence already, and how many were not found (not contacts of the org).
type EnrolResult struct {
	Enrolled int     `json:"enrolled"`
	Already  int     `json:"already"`
	NotFound int     `json:"not_found"`
	IDs      []int64 `json:"ids,omitempty"`
}
