package model

import (
	"fmt"
	"regexp"
	"slices"
	"time"
)

// A cadence is a follow-up that runs by itself: a graph of steps (send a WhatsApp message,
// an SMS, place a call, wait, wait for what came of a send and branch on it, act on the
// lead) that each enrolled contact walks through. Its steps are versioned: editing a
// cadence with people in it makes a new version, and those enrolled stay on theirs.

// Cadence statuses.
const (
	CadenceDraft    = "draft"    // being built: nobody can be enrolled
	CadenceActive   = "active"   // enrolments run
	CadencePaused   = "paused"   // enrolments wait where they are
	CadenceArchived = "archived" // closed: its enrolments ended
)

// Kinds of steps.
const (
	StepWhatsApp = "whatsapp" // send a WhatsApp template (or text while the 24-hour window is open)
	StepSMS      = "sms"      // send an SMS
	StepCall     = "call"     // place an AI voice call
	StepWait     = "wait"     // wait a duration, or until a window in the contact's zone
	StepAwait    = "await"    // wait for what came of an earlier send or call, then branch
	StepStage    = "stage"    // move the contact's lead to a stage
	StepTag      = "tag"      // add a tag to the contact
	StepUntag    = "untag"    // remove a tag from the contact
	StepAssign   = "assign"   // give the contact (and its lead) to a member
	StepNotify   = "notify"   // tell a member, with a note
	StepClassify = "classify" // let the AI place the lead (lead progression)
)

// StepKinds lists the kinds in the order the builder offers them.
var StepKinds = []string{StepWhatsApp, StepSMS, StepCall, StepWait, StepAwait, StepStage, StepTag, StepUntag, StepAssign,
	StepNotify, StepClassify}

// IsSend tells whether a kind of step reaches the contact (and passes the contact policy).
func IsSend(kind string) bool { return kind == StepWhatsApp || kind == StepSMS || kind == StepCall }

// What came of a send or a call, as an await step branches on it. A message's outcomes
// rank: read implies delivered, replied implies read; a step waiting for "delivered" is
// satisfied by a read or a reply too.
const (
	OutcomeSent       = "sent"        // the provider took it (never enough to decide a fallback)
	OutcomeDelivered  = "delivered"   // the status webhook said delivered
	OutcomeRead       = "read"        // … read
	OutcomeReplied    = "replied"     // the contact wrote back on any channel
	OutcomeSendFailed = "failed"      // the provider refused it or reported it failed
	OutcomeNoWhatsApp = "no_whatsapp" // the number has no WhatsApp (131026), or no way to reach it
	OutcomeSkipped    = "skipped"     // the contact policy held it (opted out, capped, duplicate SMS…)
	OutcomeTimeout    = "timeout"     // nothing came within the await's time limit
	// A call's: OutcomeAnswered, OutcomeVoicemail, OutcomeNoAnswer, OutcomeBusy, OutcomeFailed.
)

// AwaitOutcomes are the outcomes an await can branch on, by the kind of step awaited.
var AwaitOutcomes = map[string][]string{
	StepWhatsApp: {OutcomeDelivered, OutcomeRead, OutcomeReplied, OutcomeSendFailed, OutcomeNoWhatsApp, OutcomeSkipped, OutcomeTimeout},
	StepSMS:      {OutcomeDelivered, OutcomeReplied, OutcomeSendFailed, OutcomeSkipped, OutcomeTimeout},
	StepCall:     {OutcomeAnswered, OutcomeVoicemail, OutcomeNoAnswer, OutcomeBusy, OutcomeFailed, OutcomeSkipped, OutcomeTimeout},
}

// CadenceStep is one step of a cadence version. Which fields count depends on Kind.
type CadenceStep struct {
	ID   string `json:"id"`             // unique in the version: "s1", "s2"…
	Kind string `json:"kind"`           // one of StepKinds
	Next string `json:"next,omitempty"` // the step after this one; "" ends the cadence

	// whatsapp, sms: the channel and the message (a template with its variables mapped, or a text).
	ChannelID int64    `json:"channel_id,omitempty"`
	Message   *Variant `json:"message,omitempty"`
	// call: the number called from (0: the org's default) and the agent (""="the number's").
	NumberID int64  `json:"number_id,omitempty"`
	AgentID  string `json:"agent_id,omitempty"`

	// wait: a duration, then (or instead) until the window opens in the contact's zone.
	WaitMinutes int         `json:"wait_minutes,omitempty"`
	Window      *StepWindow `json:"window,omitempty"`
	// await: what came of step Await, for at most WithinMinutes; Branches are tried in
	// order (the first whose outcomes include what came of it), else Otherwise.
	Await         string        `json:"await,omitempty"`
	WithinMinutes int           `json:"within_minutes,omitempty"`
	Branches      []AwaitBranch `json:"branches,omitempty"`
	Otherwise     string        `json:"otherwise,omitempty"` // "" ends the cadence

	// stage: where the lead goes. tag, untag: the tag. assign, notify: the member (0 for
	// notify: the contact's owner). notify: the note.
	StageID int64  `json:"stage_id,omitempty"`
	TagID   int64  `json:"tag_id,omitempty"`
	UserID  int64  `json:"user_id,omitempty"`
	Note    string `json:"note,omitempty"`
}

// StepWindow is a time of day in the contact's zone: from Start to End o'clock (End 24 is
// midnight) on the weekdays of Days (a bit per weekday, Sunday 0).
type StepWindow struct {
	Start int `json:"start"`
	End   int `json:"end"`
	Days  int `json:"days"`
}

// AwaitBranch goes to Next when what came of the awaited step is one of Outcomes.
type AwaitBranch struct {
	Outcomes []string `json:"outcomes"`
	Next     string   `json:"next"`
}

// Limits of a cadence.
const (
	MaxCadenceSteps   = 50
	MaxStepWait       = 90 * 24 * 60 // minutes: 90 days
	MaxStepNoteRunes  = 1000
	MaxCadenceNameLen = 120
)

var stepIDPattern = regexp.MustCompile(`^[a-z0-9_-]{1,20}$`)

// Targets are the ids a step may go to: Next, each branch's and Otherwise.
func (s CadenceStep) Targets() []string {
	out := []string{}
	for _, t := range append([]string{s.Next, s.Otherwise}, branchTargets(s.Branches)...) {
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func branchTargets(bs []AwaitBranch) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Next
	}
	return out
}

// ValidateSteps checks a cadence's steps on their own (the org's channels, stages, tags
// and members are checked by the service): the first step is where enrolments start;
// every step is reachable and well formed; branches and next steps name existing steps;
// an await names a send or call that comes before it on every path; and nothing loops (a
// cadence always ends). Field errors are keyed "steps.<id>.<field>" (or "steps").
func ValidateSteps(steps []CadenceStep) error {
	v := NewValidationError()
	if len(steps) == 0 {
		v.Add("steps", "cadence.error.no_steps")
		return v
	}
	if len(steps) > MaxCadenceSteps {
		v.Add("steps", "cadence.error.too_many_steps")
		return v
	}
	byID := make(map[string]CadenceStep, len(steps))
	for _, s := range steps {
		f := "steps." + s.ID
		if !stepIDPattern.MatchString(s.ID) {
			v.Add("steps", "cadence.error.step_id")
			continue
		}
		if _, dup := byID[s.ID]; dup {
			v.Add(f, "cadence.error.step_id_twice")
			continue
		}
		byID[s.ID] = s
		validateStep(v, f, s)
	}
	if len(v.Fields) > 0 {
		return v
	}
	for _, s := range steps {
		for _, t := range s.Targets() {
			if _, ok := byID[t]; !ok {
				v.Add("steps."+s.ID+".next", "cadence.error.unknown_step")
			}
		}
	}
	if len(v.Fields) > 0 {
		return v
	}
	// Depth first from the first step: a step met again on the way to itself is a loop.
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var order []string // reverse post-order: each step before the steps it leads to
	var visit func(id string) bool
	visit = func(id string) bool {
		switch state[id] {
		case onPath:
			v.Add("steps."+id, "cadence.error.loop")
			return false
		case done:
			return true
		}
		state[id] = onPath
		for _, t := range byID[id].Targets() {
			if !visit(t) {
				return false
			}
		}
		state[id] = done
		order = append(order, id)
		return true
	}
	if !visit(steps[0].ID) {
		return v
	}
	slices.Reverse(order)
	// The sends made on every path to each step: what an await may wait on.
	before := map[string][]string{steps[0].ID: {}}
	for _, id := range order {
		s := byID[id]
		if s.Kind == StepAwait {
			if !slices.Contains(before[id], s.Await) {
				v.Add("steps."+id+".await", "cadence.error.await_before")
			}
			for _, b := range s.Branches {
				for _, o := range b.Outcomes {
					if !AwaitCompatible(byID[s.Await].Kind, o) {
						v.Add("steps."+id+".branches", "cadence.error.outcome_of_kind")
					}
				}
			}
		}
		sent := before[id]
		if IsSend(s.Kind) {
			sent = append(slices.Clone(sent), id)
		}
		for _, t := range s.Targets() {
			if prev, ok := before[t]; ok {
				before[t] = slices.DeleteFunc(slices.Clone(prev), func(x string) bool { return !slices.Contains(sent, x) })
			} else {
				before[t] = slices.Clone(sent)
			}
		}
	}
	for _, s := range steps {
		if state[s.ID] == unseen {
			v.Add("steps."+s.ID, "cadence.error.unreachable")
		}
	}
	return v.Err()
}

func validateStep(v *ValidationError, f string, s CadenceStep) {
	switch s.Kind {
	case StepWhatsApp, StepSMS:
		if s.ChannelID <= 0 {
			v.Add(f+".channel_id", "cadence.error.channel")
		}
		if s.Message == nil || (s.Message.Text == "" && s.Message.Template == "" && s.Message.TemplateID == 0) {
			v.Add(f+".message", "cadence.error.message")
		} else if s.Kind == StepSMS && s.Message.Text == "" {
			v.Add(f+".message", "cadence.error.sms_text")
		}
	case StepCall:
		if s.NumberID < 0 || len(s.AgentID) > 128 {
			v.Add(f+".number_id", "cadence.error.number")
		}
	case StepWait:
		if s.WaitMinutes < 0 || s.WaitMinutes > MaxStepWait || (s.WaitMinutes == 0 && s.Window == nil) {
			v.Add(f+".wait_minutes", "cadence.error.wait")
		}
		if w := s.Window; w != nil && (w.Start < 0 || w.Start >= w.End || w.End > 24 || w.Days < 1 || w.Days > 127) {
			v.Add(f+".window", "cadence.error.window")
		}
	case StepAwait:
		if s.Await == "" {
			v.Add(f+".await", "cadence.error.await")
		}
		if s.WithinMinutes <= 0 || s.WithinMinutes > MaxStepWait {
			v.Add(f+".within_minutes", "cadence.error.within")
		}
		if len(s.Branches) == 0 {
			v.Add(f+".branches", "cadence.error.branches")
		}
		for _, b := range s.Branches {
			if len(b.Outcomes) == 0 {
				v.Add(f+".branches", "cadence.error.branch_outcomes")
			}
			for _, o := range b.Outcomes {
				if !knownOutcome(o) {
					v.Add(f+".branches", "cadence.error.outcome")
				}
			}
		}
	case StepStage:
		if s.StageID <= 0 {
			v.Add(f+".stage_id", "cadence.error.stage")
		}
	case StepTag, StepUntag:
		if s.TagID <= 0 {
			v.Add(f+".tag_id", "cadence.error.tag")
		}
	case StepAssign:
		if s.UserID <= 0 {
			v.Add(f+".user_id", "cadence.error.user")
		}
	case StepNotify:
		if s.UserID < 0 || len([]rune(s.Note)) > MaxStepNoteRunes {
			v.Add(f+".note", "cadence.error.note")
		}
	case StepClassify:
	default:
		v.Add(f+".kind", "cadence.error.kind")
	}
	if s.Kind != StepAwait && (len(s.Branches) > 0 || s.Otherwise != "") {
		v.Add(f+".branches", "cadence.error.branches_only_await")
	}
}

func knownOutcome(o string) bool {
	for _, os := range AwaitOutcomes {
		if slices.Contains(os, o) {
			return true
		}
	}
	return false
}

// AwaitCompatible tells whether an await of a step of kind may branch on outcome o.
func AwaitCompatible(kind, o string) bool { return slices.Contains(AwaitOutcomes[kind], o) }

// Cadence is a follow-up an org runs; its steps are those of CurrentVersion.
type Cadence struct {
	ID             int64  `db:"id" json:"id"`
	OrgID          int64  `db:"org_id" json:"-"`
	Name           string `db:"name" json:"name"`
	Status         string `db:"status" json:"status"`
	CurrentVersion int    `db:"current_version" json:"version"`
	// Who joins by themselves: a segment's contacts (new matches join), contacts whose
	// lead enters a stage.
	EnrolSegmentID *int64 `db:"enrol_segment_id" json:"enrol_segment_id"`
	EnrolStageID   *int64 `db:"enrol_stage_id" json:"enrol_stage_id"`
	// When an enrolment ends early (an opt-out on any channel always ends it).
	ExitOnReply       bool          `db:"exit_on_reply" json:"exit_on_reply"`
	ExitOnStageChange bool          `db:"exit_on_stage_change" json:"exit_on_stage_change"`
	GoalStageID       *int64        `db:"goal_stage_id" json:"goal_stage_id"`
	CreatedBy         *int64        `db:"created_by" json:"-"`
	CreatedAt         time.Time     `db:"created_at" json:"created_at"`
	UpdatedAt         time.Time     `db:"updated_at" json:"updated_at"`
	Steps             []CadenceStep `db:"-" json:"steps,omitempty"` // the current version's, when read with them
}

// Enrolment statuses.
const (
	EnrolmentActive    = "active"
	EnrolmentPaused    = "paused"
	EnrolmentCompleted = "completed" // it walked to the end
	EnrolmentExited    = "exited"    // it left early: exit_reason says why
)

// String names a step for logs.
func (s CadenceStep) String() string { return fmt.Sprintf("%s(%s)", s.ID, s.Kind) }
