// Package progression is the AI that moves leads along the board.
//
// Each stage of a pipeline says in its description when a lead belongs there. A pipeline
// with progression on (managers turn it on, with a confidence threshold) has its leads
// classified after new activity on their contact's conversations: a customer's message
// (the inbox's Replied hook) or a member's reply reaching the customer (MessagesMoved).
// The classification is a River job scheduled a short delay later and unique per lead, so
// several messages in a row make one request to the model; a message that arrives while
// the job runs makes it run again (a snooze) rather than being lost.
//
// The job reads the lead's recent messages (capped), the pipeline's stages with their
// descriptions and the lead's current stage, and asks the org's chat model for
// {stage, confidence, reason} with structured output (a JSON schema whose stage is one of
// the pipeline's stage names). At or above the threshold the card moves by itself: the
// move is recorded in lead_moves like any other, and beside it as an AI move with its
// reason and confidence, which a member can undo while it is still the lead's latest
// change of stage. Below the threshold the card shows a suggestion to accept or dismiss.
// Closing a lead (a won or lost stage) is only ever a suggestion: a person confirms it.
//
// What is ignored safely: a stage the pipeline does not have, a lead in a won or lost
// stage (closed), a pipeline with progression off, a lead moved by someone while the
// model was thinking, a stage a person refused for that lead recently (a dismissed
// suggestion or an undone move: Cooldown). Over budget or a provider error: no move, a
// log line.
package progression

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/tmc/langchaingo/llms"

	"masteria/app/ai/provider"
	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// Chatter is the org's AI provider, as progression uses it (app/ai/provider).
type Chatter interface {
	ChatWithFormat(ctx context.Context, orgID int64, rf *provider.ResponseFormat) (llms.Model, error)
	OverBudget(ctx context.Context, orgID int64) bool
}

// Mover moves a lead on the board inside a transaction (app/crm/board), so that a move made
// by the AI or by a member accepting a suggestion is recorded and published like any
// other, with its AI decision in the same transaction.
type Mover interface {
	MoveTx(ctx context.Context, tx *store.Store, a model.Actor, leadID, stageID int64) error
}

// Inserter puts jobs in the queue inside a transaction (the River client).
type Inserter interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Options tune the service; zero values take the defaults.
type Options struct {
	// Delay is how long after a message the lead is classified (default 15 s): the
	// messages of that while make one request.
	Delay time.Duration
	// Cooldown is how long a stage a person refused (a dismissed suggestion, an undone
	// move) is not proposed again for that lead (default 72 h).
	Cooldown time.Duration
	// MaxMessages is how many of the latest messages the model reads (default 30).
	MaxMessages int
}

// Defaults of Options.
const (
	DefaultDelay       = 15 * time.Second
	DefaultCooldown    = 72 * time.Hour
	DefaultMaxMessages = 30
	// maxMessageRunes and maxTranscriptRunes cap what one message and the whole
	// conversation weigh in the prompt; the oldest messages go first.
	maxMessageRunes    = 600
	maxTranscriptRunes = 12000
	// maxCalls and maxCallRunes: the contact's last calls, each summary and transcript
	// capped, read with its messages.
	maxCalls     = 5
	maxCallRunes = 2000
)

// Service runs lead progression.
type Service struct {
	st    *store.Store
	ai    Chatter
	board Mover
	jobs  Inserter
	opts  Options
	now   func() time.Time
	log   *slog.Logger
}

// New returns the service.
func New(st *store.Store, ai Chatter, board Mover, opts Options) *Service {
	if opts.Delay <= 0 {
		opts.Delay = DefaultDelay
	}
	if opts.Cooldown <= 0 {
		opts.Cooldown = DefaultCooldown
	}
	if opts.MaxMessages <= 0 {
		opts.MaxMessages = DefaultMaxMessages
	}
	return &Service{st: st, ai: ai, board: board, opts: opts, now: time.Now, log: slog.Default().With("area", "progression")}
}

// SetJobs gives the service the queue its classifications run on.
func (s *Service) SetJobs(j Inserter) { s.jobs = j }

// SetClock replaces time.Now (the cooldown of refused stages), for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// --- Settings ---

// Settings returns a pipeline's progression settings; model.ErrNotFound when the pipeline
// is not the org's.
func (s *Service) Settings(ctx context.Context, orgID, pipelineID int64) (model.PipelineAI, error) {
	return s.st.PipelineAI(ctx, orgID, pipelineID)
}

// ThresholdError is the i18n key of a threshold out of bounds.
const ThresholdError = "ai.progression.error.threshold"

// SaveSettings turns a pipeline's progression on or off and sets its threshold (0.50 to
// 1.00). Only those who shape pipelines may.
func (s *Service) SaveSettings(ctx context.Context, a model.Actor, pipelineID int64, enabled bool, threshold float64) (model.PipelineAI, error) {
	if !a.Role.May(model.ShapePipelines) {
		return model.PipelineAI{}, model.ErrForbidden
	}
	if math.IsNaN(threshold) || threshold < model.MinAIThreshold || threshold > model.MaxAIThreshold {
		return model.PipelineAI{}, model.FieldError("threshold", ThresholdError)
	}
	threshold = math.Round(threshold*100) / 100
	var out model.PipelineAI
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		p, err := tx.LockPipeline(ctx, a.OrgID, pipelineID)
		if err != nil {
			return err
		}
		if out, err = tx.PutPipelineAI(ctx, a.OrgID, pipelineID, enabled, threshold, a.UserRef()); err != nil {
			return err
		}
		state := "off"
		if enabled {
			state = "on, " + strconv.Itoa(int(threshold*100+0.5)) + "%"
		}
		if err := tx.Audit(ctx, model.AuditEntry{OrgID: a.OrgID, UserID: a.UserRef(), Action: "pipeline.ai_progression",
			Target: p.Name + ": " + state, IP: a.IP, UserAgent: a.UserAgent}); err != nil {
			return err
		}
		_, err = events.PipelineChanged.Publish(ctx, tx, a.OrgID, events.PipelineRef{PipelineID: pipelineID})
		return err
	})
	return out, err
}

// --- Reading ---

// LeadSuggestions lists a lead's open suggestion (at most one); model.ErrNotFound when the
// lead is not the org's.
func (s *Service) LeadSuggestions(ctx context.Context, orgID, leadID int64) ([]model.LeadAIDecision, error) {
	if _, err := s.st.AILeadContext(ctx, orgID, leadID); err != nil {
		return nil, err
	}
	return s.st.AILeadSuggestions(ctx, orgID, leadID)
}

// MaxList is how many suggestions one page of a pipeline's list holds.
const MaxList = 100

// PipelineSuggestions lists up to limit (1 to MaxList, or one more to tell whether a page
// follows) open suggestions of a pipeline's leads, newest first, before id before (0: from
// the newest); model.ErrNotFound when the pipeline is not the org's.
func (s *Service) PipelineSuggestions(ctx context.Context, orgID, pipelineID int64, limit int, before int64) ([]model.LeadAIDecision, error) {
	if _, err := s.st.Pipeline(ctx, orgID, pipelineID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxList+1 {
		limit = MaxList
	}
	return s.st.AIPipelineSuggestions(ctx, orgID, pipelineID, limit, max(before, 0))
}

// LeadMoves lists a lead's last AI moves, newest first, each saying whether it can still
// be undone; model.ErrNotFound when the lead is not the org's.
func (s *Service) LeadMoves(ctx context.Context, orgID, leadID int64) ([]model.LeadAIDecision, error) {
	if _, err := s.st.AILeadContext(ctx, orgID, leadID); err != nil {
		return nil, err
	}
	return s.st.AILeadMoves(ctx, orgID, leadID, 20)
}

// Decision returns one AI move or suggestion of the org.
func (s *Service) Decision(ctx context.Context, orgID, id int64) (model.LeadAIDecision, error) {
	return s.st.AIDecision(ctx, orgID, id)
}

// Marks returns what the cards of some leads show of the AI, by lead id (leads without
// any are absent).
func (s *Service) Marks(ctx context.Context, orgID int64, leadIDs []int64) (map[int64]model.LeadAIMark, error) {
	return s.st.AIMarks(ctx, orgID, leadIDs)
}

// Mark returns what one lead's card shows of the AI.
func (s *Service) Mark(ctx context.Context, orgID, leadID int64) (model.LeadAIMark, error) {
	m, err := s.st.AIMarks(ctx, orgID, []int64{leadID})
	return m[leadID], err
}

// --- A member's answers ---

// ErrStale is a suggestion or move that can no longer be acted on: the suggestion was
// already answered or replaced, the lead moved since, or the stage is gone. It matches
// model.ErrConflict.
var ErrStale = fmt.Errorf("progression: the lead changed since: %w", model.ErrConflict)

// Accept moves the lead to the stage an open suggestion proposed, as a. The lead must still
// be in the stage the suggestion was made from.
func (s *Service) Accept(ctx context.Context, a model.Actor, suggestionID int64) (model.LeadAIDecision, error) {
	return s.answer(ctx, a, suggestionID, model.AISuggestionAccepted)
}

// Dismiss closes an open suggestion without moving the lead; its stage is not proposed
// again for that lead until the cooldown passes.
func (s *Service) Dismiss(ctx context.Context, a model.Actor, suggestionID int64) (model.LeadAIDecision, error) {
	return s.answer(ctx, a, suggestionID, model.AISuggestionDismissed)
}

func (s *Service) answer(ctx context.Context, a model.Actor, id int64, status string) (model.LeadAIDecision, error) {
	var d model.LeadAIDecision
	stale := false
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		if d, err = tx.AIDecision(ctx, a.OrgID, id); err != nil {
			return err
		}
		if d.Kind != model.AIDecisionSuggestion {
			return model.ErrNotFound
		}
		// The lead first, then the decision: the order the classification takes them in.
		cur, err := tx.LockLead(ctx, a.OrgID, d.LeadID)
		if err != nil {
			return err
		}
		if d, err = tx.LockAIDecision(ctx, a.OrgID, id); err != nil {
			return err
		}
		if d.Status != model.AISuggestionOpen {
			return ErrStale
		}
		if d.FromStageID == nil || d.ToStageID == nil || cur.StageID != *d.FromStageID {
			if err := tx.CloseAIDecision(ctx, a.OrgID, d.ID, model.AISuggestionOpen, model.AISuggestionSuperseded, nil, nil); err != nil {
				return err
			}
			stale = true // kept: the suggestion is superseded
			return closed(ctx, tx, a.OrgID, d, model.AISuggestionSuperseded)
		}
		var moveID *int64
		if status == model.AISuggestionAccepted {
			if err := s.board.MoveTx(ctx, tx, a, d.LeadID, *d.ToStageID); err != nil {
				return err
			}
			mv, err := tx.LatestLeadMove(ctx, a.OrgID, d.LeadID)
			if err != nil {
				return err
			}
			moveID = &mv
		}
		if err := tx.CloseAIDecision(ctx, a.OrgID, d.ID, model.AISuggestionOpen, status, a.UserRef(), moveID); err != nil {
			return err
		}
		d.Status = status
		return closed(ctx, tx, a.OrgID, d, status)
	})
	if err == nil && stale {
		return d, ErrStale
	}
	return d, err
}

// Undo puts a lead the AI moved back in the stage it came from, as a, while the AI's move
// is still the lead's latest change of stage; the stage is not proposed again for that
// lead until the cooldown passes.
func (s *Service) Undo(ctx context.Context, a model.Actor, moveID int64) (model.LeadAIDecision, error) {
	var d model.LeadAIDecision
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		if d, err = tx.AIDecision(ctx, a.OrgID, moveID); err != nil {
			return err
		}
		if d.Kind != model.AIDecisionMove {
			return model.ErrNotFound
		}
		cur, err := tx.LockLead(ctx, a.OrgID, d.LeadID)
		if err != nil {
			return err
		}
		if d, err = tx.LockAIDecision(ctx, a.OrgID, moveID); err != nil {
			return err
		}
		latest, err := tx.LatestLeadMove(ctx, a.OrgID, d.LeadID)
		if err != nil {
			return err
		}
		if d.Status != model.AIMoveApplied || d.LeadMoveID == nil || *d.LeadMoveID != latest ||
			d.ToStageID == nil || cur.StageID != *d.ToStageID || d.FromStageID == nil {
			return ErrStale
		}
		if err := s.board.MoveTx(ctx, tx, a, d.LeadID, *d.FromStageID); err != nil {
			if errors.Is(err, model.ErrNotFound) { // the stage it came from is gone
				return ErrStale
			}
			return err
		}
		if err := tx.CloseAIDecision(ctx, a.OrgID, d.ID, model.AIMoveApplied, model.AIMoveUndone, a.UserRef(), nil); err != nil {
			return err
		}
		d.Status = model.AIMoveUndone
		// A suggestion made while the lead sat in the AI's stage no longer applies.
		return supersede(ctx, tx, a.OrgID, d.LeadID, d.PipelineID)
	})
	return d, err
}

// closed publishes a suggestion's end.
func closed(ctx context.Context, tx *store.Store, orgID int64, d model.LeadAIDecision, status string) error {
	_, err := events.LeadSuggestionClosed.Publish(ctx, tx, orgID, events.LeadSuggestionEnd{DecisionID: d.ID, LeadID: d.LeadID,
		PipelineID: d.PipelineID, Status: status})
	return err
}

// supersede closes a lead's open suggestion, if any, and publishes it.
func supersede(ctx context.Context, tx *store.Store, orgID, leadID, pipelineID int64) error {
	ids, err := tx.SupersedeAISuggestions(ctx, orgID, leadID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := closed(ctx, tx, orgID, model.LeadAIDecision{ID: id, LeadID: leadID, PipelineID: pipelineID}, model.AISuggestionSuperseded); err != nil {
			return err
		}
	}
	return nil
}

// clip keeps a model's text short, printable and storable (no NUL, valid UTF-8).
func clip(s string, n int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "")
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n-1]) + "…"
	}
	return s
}
