package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"masteria/app/model"
)

// progressionQueries are the queries of lead progression: pipelines' AI settings, the AI's
// moves and suggestions, and what a classification reads.
type progressionQueries struct {
	PipelineAI    *sqlx.Stmt `query:"pipeline-ai"`
	PipelineAIPut *sqlx.Stmt `query:"pipeline-ai-put"`

	AILeadsOfContact  *sqlx.Stmt `query:"ai-progression-leads-of-contact"`
	AILeadsOfMessages *sqlx.Stmt `query:"ai-progression-leads-of-messages"`
	AILead            *sqlx.Stmt `query:"ai-progression-lead"`
	AIMessages        *sqlx.Stmt `query:"ai-progression-messages"`
	AILatestMessage   *sqlx.Stmt `query:"ai-progression-latest-message"`
	AICheck           *sqlx.Stmt `query:"ai-progression-check"`
	AICalls           *sqlx.Stmt `query:"ai-progression-calls"`
	AILeadsOfCalls    *sqlx.Stmt `query:"ai-progression-leads-of-calls"`
	AICheckPut        *sqlx.Stmt `query:"ai-progression-check-put"`
	AILatestMove      *sqlx.Stmt `query:"ai-progression-latest-move"`

	AIDecisionInsert   *sqlx.Stmt `query:"ai-decision-insert"`
	AIDecision         *sqlx.Stmt `query:"ai-decision"`
	AIDecisionLock     *sqlx.Stmt `query:"ai-decision-lock"`
	AIDecisionClose    *sqlx.Stmt `query:"ai-decision-close"`
	AISupersede        *sqlx.Stmt `query:"ai-suggestions-supersede"`
	AIRefusedSince     *sqlx.Stmt `query:"ai-decision-refused-since"`
	AILeadSuggestions  *sqlx.Stmt `query:"ai-lead-suggestions"`
	AIPipelineSuggests *sqlx.Stmt `query:"ai-pipeline-suggestions"`
	AILeadMoves        *sqlx.Stmt `query:"ai-lead-moves"`
	AIMarks            *sqlx.Stmt `query:"ai-marks"`
}

// PipelineAI returns a pipeline's progression settings (the defaults when never saved), or
// model.ErrNotFound when the pipeline is not the org's.
func (s *Store) PipelineAI(ctx context.Context, orgID, pipelineID int64) (model.PipelineAI, error) {
	var p model.PipelineAI
	if err := s.get(ctx, s.q.PipelineAI, &p, orgID, pipelineID); err != nil {
		return p, fmt.Errorf("store: pipeline ai %d: %w", pipelineID, err)
	}
	return p, nil
}

// PutPipelineAI saves a pipeline's progression settings; model.ErrNotFound when the
// pipeline is not the org's.
func (s *Store) PutPipelineAI(ctx context.Context, orgID, pipelineID int64, enabled bool, threshold float64, by *int64) (model.PipelineAI, error) {
	var p model.PipelineAI
	if err := s.get(ctx, s.q.PipelineAIPut, &p, orgID, pipelineID, enabled, threshold, by); err != nil {
		return p, fmt.Errorf("store: put pipeline ai %d: %w", pipelineID, err)
	}
	return p, nil
}

// AIFollowedLeadsOfContact lists the contact's leads the AI follows: in pipelines with
// progression on and in open stages.
func (s *Store) AIFollowedLeadsOfContact(ctx context.Context, orgID, contactID int64) ([]int64, error) {
	var ids []int64
	if err := s.sel(ctx, s.q.AILeadsOfContact, &ids, orgID, contactID); err != nil {
		return nil, fmt.Errorf("store: ai leads of contact: %w", err)
	}
	return ids, nil
}

// AIFollowedLeadsOfMessages is AIFollowedLeadsOfContact for the contacts that members'
// outbound messages went to.
func (s *Store) AIFollowedLeadsOfMessages(ctx context.Context, orgID int64, messageIDs []int64) ([]int64, error) {
	var ids []int64
	if err := s.sel(ctx, s.q.AILeadsOfMessages, &ids, orgID, pq.Array(messageIDs)); err != nil {
		return nil, fmt.Errorf("store: ai leads of messages: %w", err)
	}
	return ids, nil
}

// AILeadContext returns what the classification of a lead starts from.
func (s *Store) AILeadContext(ctx context.Context, orgID, leadID int64) (model.LeadAIContext, error) {
	var l model.LeadAIContext
	if err := s.get(ctx, s.q.AILead, &l, orgID, leadID); err != nil {
		return l, fmt.Errorf("store: ai lead %d: %w", leadID, err)
	}
	return l, nil
}

// AIContactMessages returns the last limit messages of a contact's conversations (no
// internal notes), oldest first.
func (s *Store) AIContactMessages(ctx context.Context, orgID, contactID int64, limit int) ([]model.LeadAIMessage, error) {
	var ms []model.LeadAIMessage
	if err := s.sel(ctx, s.q.AIMessages, &ms, orgID, contactID, limit); err != nil {
		return nil, fmt.Errorf("store: ai messages: %w", err)
	}
	return ms, nil
}

// AIContactCalls are the last limit calls of a contact that ended, oldest first.
func (s *Store) AIContactCalls(ctx context.Context, orgID, contactID int64, limit int) ([]model.Call, error) {
	var cs []model.Call
	if err := s.sel(ctx, s.q.AICalls, &cs, orgID, contactID, limit); err != nil {
		return nil, fmt.Errorf("store: ai calls: %w", err)
	}
	return cs, nil
}

// LeadOfCall is a lead the AI follows and the org it is of.
type LeadOfCall struct {
	OrgID  int64 `db:"org_id"`
	LeadID int64 `db:"id"`
}

// AIFollowedLeadsOfCalls are the leads the AI follows that calls are activity on: each
// call's lead and its contact's (calls of any orgs; a call's lead 0: none), by org and id.
func (s *Store) AIFollowedLeadsOfCalls(ctx context.Context, cs []model.Call) ([]LeadOfCall, error) {
	orgs, contacts, leads := make([]int64, 0, len(cs)), make([]int64, 0, len(cs)), make([]int64, 0, len(cs))
	for _, c := range cs {
		if c.ContactID == nil {
			continue
		}
		var lead int64
		if c.LeadID != nil {
			lead = *c.LeadID
		}
		orgs, contacts, leads = append(orgs, c.OrgID), append(contacts, *c.ContactID), append(leads, lead)
	}
	if len(orgs) == 0 {
		return nil, nil
	}
	var out []LeadOfCall
	if err := s.sel(ctx, s.q.AILeadsOfCalls, &out, pq.Array(orgs), pq.Array(contacts), pq.Array(leads)); err != nil {
		return nil, fmt.Errorf("store: ai leads of calls: %w", err)
	}
	return out, nil
}

// AIContactLatestMessage is the id of the newest message of a contact's conversations (0:
// none).
func (s *Store) AIContactLatestMessage(ctx context.Context, orgID, contactID int64) (int64, error) {
	var id int64
	if err := s.get(ctx, s.q.AILatestMessage, &id, orgID, contactID); err != nil {
		return 0, fmt.Errorf("store: ai latest message: %w", err)
	}
	return id, nil
}

// AILeadCheck returns the last classification of a lead, or model.ErrNotFound.
func (s *Store) AILeadCheck(ctx context.Context, orgID, leadID int64) (model.LeadAICheck, error) {
	var c model.LeadAICheck
	if err := s.get(ctx, s.q.AICheck, &c, orgID, leadID); err != nil {
		return c, fmt.Errorf("store: ai check %d: %w", leadID, err)
	}
	return c, nil
}

// PutAILeadCheck records a classification of a lead.
func (s *Store) PutAILeadCheck(ctx context.Context, orgID int64, c model.LeadAICheck) error {
	if _, err := s.exec(ctx, s.q.AICheckPut, orgID, c.LeadID, c.MessageID, c.StageName, c.Confidence, c.Reason, c.CallID); err != nil {
		return fmt.Errorf("store: put ai check: %w", err)
	}
	return nil
}

// LatestLeadMove is the id of a lead's latest change of stage (0: it never moved).
func (s *Store) LatestLeadMove(ctx context.Context, orgID, leadID int64) (int64, error) {
	var id int64
	if err := s.get(ctx, s.q.AILatestMove, &id, orgID, leadID); err != nil {
		return 0, fmt.Errorf("store: latest lead move: %w", err)
	}
	return id, nil
}

// AddAIDecision records an AI move or suggestion.
func (s *Store) AddAIDecision(ctx context.Context, d model.LeadAIDecision) (model.LeadAIDecision, error) {
	var out model.LeadAIDecision
	err := s.get(ctx, s.q.AIDecisionInsert, &out, d.OrgID, d.LeadID, d.PipelineID, d.Kind, d.Status, d.FromStageID, d.ToStageID,
		d.FromName, d.ToName, d.Confidence, d.Reason, d.Model, d.LeadMoveID)
	if err != nil {
		return out, fmt.Errorf("store: add ai decision: %w", err)
	}
	return out, nil
}

// AIDecision returns one AI decision of an org.
func (s *Store) AIDecision(ctx context.Context, orgID, id int64) (model.LeadAIDecision, error) {
	var d model.LeadAIDecision
	if err := s.get(ctx, s.q.AIDecision, &d, orgID, id); err != nil {
		return d, fmt.Errorf("store: ai decision %d: %w", id, err)
	}
	return d, nil
}

// LockAIDecision returns one AI decision of an org, locked until the transaction ends.
func (s *Store) LockAIDecision(ctx context.Context, orgID, id int64) (model.LeadAIDecision, error) {
	var d model.LeadAIDecision
	if err := s.get(ctx, s.q.AIDecisionLock, &d, orgID, id); err != nil {
		return d, fmt.Errorf("store: lock ai decision %d: %w", id, err)
	}
	return d, nil
}

// CloseAIDecision moves a decision from status from to status to, by a member, with the
// change of stage it made (nil keeps it); model.ErrConflict when it was not in from.
func (s *Store) CloseAIDecision(ctx context.Context, orgID, id int64, from, to string, by, leadMoveID *int64) error {
	n, err := s.exec(ctx, s.q.AIDecisionClose, orgID, id, from, to, by, leadMoveID)
	if err != nil {
		return fmt.Errorf("store: close ai decision %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: close ai decision %d: %w", id, model.ErrConflict)
	}
	return nil
}

// SupersedeAISuggestions closes a lead's open suggestion and returns its id, if it had one.
func (s *Store) SupersedeAISuggestions(ctx context.Context, orgID, leadID int64) ([]int64, error) {
	var ids []int64
	if err := s.sel(ctx, s.q.AISupersede, &ids, orgID, leadID); err != nil {
		return nil, fmt.Errorf("store: supersede ai suggestions: %w", err)
	}
	return ids, nil
}

// AIRefusedSince tells whether a person dismissed the AI's suggestion of a stage for a lead,
// or undid its move there, since a time.
func (s *Store) AIRefusedSince(ctx context.Context, orgID, leadID, stageID int64, since time.Time) (bool, error) {
	var ok bool
	if err := s.get(ctx, s.q.AIRefusedSince, &ok, orgID, leadID, stageID, since); err != nil {
		return false, fmt.Errorf("store: ai refused: %w", err)
	}
	return ok, nil
}

// AILeadSuggestions lists a lead's open suggestion (at most one).
func (s *Store) AILeadSuggestions(ctx context.Context, orgID, leadID int64) ([]model.LeadAIDecision, error) {
	ds := []model.LeadAIDecision{}
	if err := s.sel(ctx, s.q.AILeadSuggestions, &ds, orgID, leadID); err != nil {
		return nil, fmt.Errorf("store: ai lead suggestions: %w", err)
	}
	return ds, nil
}

// AIPipelineSuggestions lists up to limit open suggestions of a pipeline's leads, newest
// first, before id before (0: from the newest).
func (s *Store) AIPipelineSuggestions(ctx context.Context, orgID, pipelineID int64, limit int, before int64) ([]model.LeadAIDecision, error) {
	ds := []model.LeadAIDecision{}
	if err := s.sel(ctx, s.q.AIPipelineSuggests, &ds, orgID, pipelineID, limit, before); err != nil {
		return nil, fmt.Errorf("store: ai pipeline suggestions: %w", err)
	}
	return ds, nil
}

// AILeadMoves lists a lead's last AI moves, newest first, each saying whether it can still
// be undone.
func (s *Store) AILeadMoves(ctx context.Context, orgID, leadID int64, limit int) ([]model.LeadAIDecision, error) {
	ds := []model.LeadAIDecision{}
	if err := s.sel(ctx, s.q.AILeadMoves, &ds, orgID, leadID, limit); err != nil {
		return nil, fmt.Errorf("store: ai lead moves: %w", err)
	}
	return ds, nil
}

// AIMarks returns what the cards of some leads show of the AI, by lead id.
func (s *Store) AIMarks(ctx context.Context, orgID int64, leadIDs []int64) (map[int64]model.LeadAIMark, error) {
	out := map[int64]model.LeadAIMark{}
	if len(leadIDs) == 0 {
		return out, nil
	}
	var ds []model.LeadAIDecision
	if err := s.sel(ctx, s.q.AIMarks, &ds, orgID, pq.Array(leadIDs)); err != nil {
		return nil, fmt.Errorf("store: ai marks: %w", err)
	}
	for i := range ds {
		d := ds[i]
		m := out[d.LeadID]
		if d.Kind == model.AIDecisionMove {
			m.Move = &d
		} else {
			m.Suggestion = &d
		}
		out[d.LeadID] = m
	}
	return out, nil
}
