package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"masteria/app/model"
)

// boardQueries are the queries of pipelines, stages and leads (the Kanban board).
type boardQueries struct {
	PipelineCreate    *sqlx.Stmt `query:"pipeline-create"`
	Pipelines         *sqlx.Stmt `query:"pipelines"`
	PipelinesPage     *sqlx.Stmt `query:"pipelines-page"`
	PipelineList      *sqlx.Stmt `query:"pipeline-list"`
	Pipeline          *sqlx.Stmt `query:"pipeline"`
	PipelineLock      *sqlx.Stmt `query:"pipeline-lock"`
	PipelineUpdate    *sqlx.Stmt `query:"pipeline-update"`
	PipelineDelete    *sqlx.Stmt `query:"pipeline-delete"`
	PipelineLeadCount *sqlx.Stmt `query:"pipeline-lead-count"`

	StageCreate    *sqlx.Stmt `query:"stage-create"`
	Stages         *sqlx.Stmt `query:"stages"`
	StageOptions   *sqlx.Stmt `query:"stage-options"`
	Stage          *sqlx.Stmt `query:"stage"`
	StageLock      *sqlx.Stmt `query:"stage-lock"`
	StageUpdate    *sqlx.Stmt `query:"stage-update"`
	StageDelete    *sqlx.Stmt `query:"stage-delete"`
	StageLeadCount *sqlx.Stmt `query:"stage-lead-count"`
	StagesReorder  *sqlx.Stmt `query:"stages-reorder"`

	LeadCreate     *sqlx.Stmt `query:"lead-create"`
	Lead           *sqlx.Stmt `query:"lead"`
	LeadFiltered   *sqlx.Stmt `query:"lead-filtered"`
	LeadLock       *sqlx.Stmt `query:"lead-lock"`
	LeadsPage      *sqlx.Stmt `query:"leads-page"`
	LeadRank       *sqlx.Stmt `query:"lead-rank"`
	LeadRankNext   *sqlx.Stmt `query:"lead-rank-next"`
	LeadRankPrev   *sqlx.Stmt `query:"lead-rank-prev"`
	LeadRankFirst  *sqlx.Stmt `query:"lead-rank-first"`
	LeadPlace      *sqlx.Stmt `query:"lead-place"`
	LeadUpdate     *sqlx.Stmt `query:"lead-update"`
	LeadDelete     *sqlx.Stmt `query:"lead-delete"`
	LeadMoveInsert *sqlx.Stmt `query:"lead-move-insert"`
	LeadMoves      *sqlx.Stmt `query:"lead-moves"`

	BoardCards  *sqlx.Stmt `query:"board-cards"`
	StageCards  *sqlx.Stmt `query:"stage-cards"`
	BoardTotals *sqlx.Stmt `query:"board-totals"`

	BoardContactUpsert *sqlx.Stmt `query:"board-contact-upsert"`
	BoardContact       *sqlx.Stmt `query:"board-contact"`
	BoardContacts      *sqlx.Stmt `query:"board-contacts-search"`
	BoardContactEvent  *sqlx.Stmt `query:"board-contact-event"`
}

// leadFilterArgs are the filter's query parameters $3 to $6.
func leadFilterArgs(f model.LeadFilter) []any {
	min, max := int64(-1), int64(-1)
	if f.Min != nil {
		min = *f.Min
	}
	if f.Max != nil {
		max = *f.Max
	}
	pattern := ""
	if q := model.CleanSearch(f.Search); q != "" {
		pattern = "%" + escapeLike(q) + "%" // the queries fold it
	}
	return []any{f.OwnerID, pattern, min, max}
}

// --- Pipelines ---

// CreatePipeline adds a pipeline after the org's others; a name taken is model.ErrConflict.
func (s *Store) CreatePipeline(ctx context.Context, orgID int64, name, currency string) (model.Pipeline, error) {
	var p model.Pipeline
	if err := s.get(ctx, s.q.PipelineCreate, &p, orgID, name, currency); err != nil {
		return p, fmt.Errorf("store: create pipeline: %w", boardConflict(err))
	}
	return p, nil
}

// Pipelines lists an org's pipelines in order, with their stage and lead counts.
func (s *Store) Pipelines(ctx context.Context, orgID int64) ([]model.Pipeline, error) {
	var ps []model.Pipeline
	if err := s.sel(ctx, s.q.Pipelines, &ps, orgID); err != nil {
		return nil, fmt.Errorf("store: pipelines: %w", err)
	}
	return ps, nil
}

// PipelinesPage returns up to limit of an org's pipelines in the order they were made,
// after afterID when it is not 0, with their stage and lead counts.
func (s *Store) PipelinesPage(ctx context.Context, orgID, afterID int64, limit int) ([]model.Pipeline, error) {
	var ps []model.Pipeline
	if err := s.sel(ctx, s.q.PipelinesPage, &ps, orgID, afterID, limit); err != nil {
		return nil, fmt.Errorf("store: pipelines page: %w", err)
	}
	return ps, nil
}

// PipelineList lists an org's pipelines in order, without counts.
func (s *Store) PipelineList(ctx context.Context, orgID int64) ([]model.Pipeline, error) {
	var ps []model.Pipeline
	if err := s.sel(ctx, s.q.PipelineList, &ps, orgID); err != nil {
		return nil, fmt.Errorf("store: pipeline list: %w", err)
	}
	return ps, nil
}

// model.Pipeline returns one pipeline of an org.
func (s *Store) Pipeline(ctx context.Context, orgID, id int64) (model.Pipeline, error) {
	var p model.Pipeline
	if err := s.get(ctx, s.q.Pipeline, &p, orgID, id); err != nil {
		return p, fmt.Errorf("store: pipeline %d: %w", id, err)
	}
	return p, nil
}

// LockPipeline returns a pipeline locked until the transaction ends.
func (s *Store) LockPipeline(ctx context.Context, orgID, id int64) (model.Pipeline, error) {
	var p model.Pipeline
	if err := s.get(ctx, s.q.PipelineLock, &p, orgID, id); err != nil {
		return p, fmt.Errorf("store: lock pipeline %d: %w", id, err)
	}
	return p, nil
}

// UpdatePipeline renames a pipeline and sets its currency.
func (s *Store) UpdatePipeline(ctx context.Context, orgID, id int64, name, currency string) (model.Pipeline, error) {
	var p model.Pipeline
	if err := s.get(ctx, s.q.PipelineUpdate, &p, orgID, id, name, currency); err != nil {
		return p, fmt.Errorf("store: update pipeline %d: %w", id, boardConflict(err))
	}
	return p, nil
}

// DeletePipeline deletes a pipeline and its stages; one that still has leads is
// model.ErrConflict.
func (s *Store) DeletePipeline(ctx context.Context, orgID, id int64) error {
	n, err := s.exec(ctx, s.q.PipelineDelete, orgID, id)
	if err != nil {
		return fmt.Errorf("store: delete pipeline %d: %w", id, boardConflict(err))
	}
	if n == 0 {
		return fmt.Errorf("store: delete pipeline %d: %w", id, model.ErrNotFound)
	}
	return nil
}

// CountPipelineLeads counts the leads of a pipeline.
func (s *Store) CountPipelineLeads(ctx context.Context, orgID, id int64) (int64, error) {
	var n int64
	if err := s.get(ctx, s.q.PipelineLeadCount, &n, orgID, id); err != nil {
		return 0, fmt.Errorf("store: count pipeline leads: %w", err)
	}
	return n, nil
}

// --- Stages ---

// CreateStage adds a stage at the end of a pipeline.
func (s *Store) CreateStage(ctx context.Context, st model.Stage) (model.Stage, error) {
	var out model.Stage
	if err := s.get(ctx, s.q.StageCreate, &out, st.OrgID, st.PipelineID, st.Name, st.Color, st.Description, st.Outcome); err != nil {
		return out, fmt.Errorf("store: create stage: %w", err)
	}
	return out, nil
}

// Stages lists a pipeline's stages in order.
func (s *Store) Stages(ctx context.Context, orgID, pipelineID int64) ([]model.Stage, error) {
	var ss []model.Stage
	if err := s.sel(ctx, s.q.Stages, &ss, orgID, pipelineID); err != nil {
		return nil, fmt.Errorf("store: stages: %w", err)
	}
	return ss, nil
}

// StageOptions lists every stage of an org, pipeline by pipeline, in one query.
func (s *Store) StageOptions(ctx context.Context, orgID int64) ([]model.StageOption, error) {
	var out []model.StageOption
	if err := s.sel(ctx, s.q.StageOptions, &out, orgID); err != nil {
		return nil, fmt.Errorf("store: stage options: %w", err)
	}
	return out, nil
}

// model.Stage returns one stage of an org.
func (s *Store) Stage(ctx context.Context, orgID, id int64) (model.Stage, error) {
	var st model.Stage
	if err := s.get(ctx, s.q.Stage, &st, orgID, id); err != nil {
		return st, fmt.Errorf("store: stage %d: %w", id, err)
	}
	return st, nil
}

// LockStage returns a stage locked until the transaction ends: every write that places a
// lead in the stage takes it first.
func (s *Store) LockStage(ctx context.Context, orgID, id int64) (model.Stage, error) {
	var st model.Stage
	if err := s.get(ctx, s.q.StageLock, &st, orgID, id); err != nil {
		return st, fmt.Errorf("store: lock stage %d: %w", id, err)
	}
	return st, nil
}

// UpdateStage changes a stage's name, colour, description and outcome.
func (s *Store) UpdateStage(ctx context.Context, st model.Stage) (model.Stage, error) {
	var out model.Stage
	if err := s.get(ctx, s.q.StageUpdate, &out, st.OrgID, st.ID, st.Name, st.Color, st.Description, st.Outcome); err != nil {
		return out, fmt.Errorf("store: update stage %d: %w", st.ID, err)
	}
	return out, nil
}

// DeleteStage deletes a stage; one that still has leads is model.ErrConflict.
func (s *Store) DeleteStage(ctx context.Context, orgID, id int64) error {
	n, err := s.exec(ctx, s.q.StageDelete, orgID, id)
	if err != nil {
		return fmt.Errorf("store: delete stage %d: %w", id, boardConflict(err))
	}
	if n == 0 {
		return fmt.Errorf("store: delete stage %d: %w", id, model.ErrNotFound)
	}
	return nil
}

// CountStageLeads counts the leads of a stage.
func (s *Store) CountStageLeads(ctx context.Context, orgID, id int64) (int64, error) {
	var n int64
	if err := s.get(ctx, s.q.StageLeadCount, &n, orgID, id); err != nil {
		return 0, fmt.Errorf("store: count stage leads: %w", err)
	}
	return n, nil
}

// ReorderStages gives a pipeline's stages the order of ids.
func (s *Store) ReorderStages(ctx context.Context, orgID, pipelineID int64, ids []int64) error {
	if _, err := s.exec(ctx, s.q.StagesReorder, orgID, pipelineID, pq.Array(ids)); err != nil {
		return fmt.Errorf("store: reorder stages: %w", err)
	}
	return nil
}

// --- Leads ---

// CreateLead inserts a lead at the place rank of its stage and returns its id.
func (s *Store) CreateLead(ctx context.Context, l model.Lead) (int64, error) {
	var id int64
	err := s.get(ctx, s.q.LeadCreate, &id, l.OrgID, l.PipelineID, l.StageID, l.ContactID, l.Title, l.ValueCents,
		l.OwnerID, l.Source, l.Notes, l.Rank, l.CreatedBy)
	if err != nil {
		return 0, fmt.Errorf("store: create lead: %w", boardConflict(err))
	}
	return id, nil
}

// model.Lead returns one lead of an org with its contact, owner and last move.
func (s *Store) Lead(ctx context.Context, orgID, id int64) (model.Lead, error) {
	var l model.Lead
	if err := s.get(ctx, s.q.Lead, &l, orgID, id); err != nil {
		return l, fmt.Errorf("store: lead %d: %w", id, err)
	}
	return l, nil
}

// LeadFiltered returns a lead when the filter shows it, else model.ErrNotFound.
func (s *Store) LeadFiltered(ctx context.Context, orgID, id int64, f model.LeadFilter) (model.Lead, error) {
	var l model.Lead
	args := append([]any{orgID, id}, leadFilterArgs(f)...)
	if err := s.get(ctx, s.q.LeadFiltered, &l, args...); err != nil {
		return l, fmt.Errorf("store: lead %d: %w", id, err)
	}
	return l, nil
}

// LeadList selects leads for the API's list; a zero field does not filter.
type LeadList struct {
	PipelineID, StageID, ContactID int64
	OwnerID                        int64 // model.NoOwner: the leads nobody owns
}

// LeadsPage returns up to limit leads matching f, newest first, older than the lead
// beforeID (0: from the newest).
func (s *Store) LeadsPage(ctx context.Context, orgID int64, f LeadList, beforeID int64, limit int) ([]model.Lead, error) {
	var ls []model.Lead
	if err := s.sel(ctx, s.q.LeadsPage, &ls, orgID, f.PipelineID, f.StageID, f.ContactID, f.OwnerID, beforeID, limit); err != nil {
		return nil, fmt.Errorf("store: leads page: %w", err)
	}
	return ls, nil
}

// LockLead returns where a lead is, locked until the transaction ends.
func (s *Store) LockLead(ctx context.Context, orgID, id int64) (model.LeadRow, error) {
	var l model.LeadRow
	if err := s.get(ctx, s.q.LeadLock, &l, orgID, id); err != nil {
		return l, fmt.Errorf("store: lock lead %d: %w", id, err)
	}
	return l, nil
}

// LeadRank is the key of lead id when it is in the stage, else model.ErrNotFound.
func (s *Store) LeadRank(ctx context.Context, orgID, stageID, id int64) (string, error) {
	var r string
	if err := s.get(ctx, s.q.LeadRank, &r, orgID, stageID, id); err != nil {
		return "", fmt.Errorf("store: lead rank: %w", err)
	}
	return r, nil
}

// NextInStage is the lead right after key in the stage, skipping lead except; ok is false
// at the end of the stage.
func (s *Store) NextInStage(ctx context.Context, orgID, stageID int64, key string, except int64) (model.Neighbour, bool, error) {
	return s.neighbour(ctx, s.q.LeadRankNext, orgID, stageID, key, except)
}

// PrevInStage is the lead right before key in the stage, skipping lead except.
func (s *Store) PrevInStage(ctx context.Context, orgID, stageID int64, key string, except int64) (model.Neighbour, bool, error) {
	return s.neighbour(ctx, s.q.LeadRankPrev, orgID, stageID, key, except)
}

// FirstInStage is the stage's first lead other than except.
func (s *Store) FirstInStage(ctx context.Context, orgID, stageID, except int64) (model.Neighbour, bool, error) {
	return s.neighbour(ctx, s.q.LeadRankFirst, orgID, stageID, except)
}

func (s *Store) neighbour(ctx context.Context, st *sqlx.Stmt, args ...any) (model.Neighbour, bool, error) {
	var n model.Neighbour
	err := s.get(ctx, st, &n, args...)
	if errors.Is(err, model.ErrNotFound) {
		return n, false, nil
	}
	if err != nil {
		return n, false, fmt.Errorf("store: neighbour: %w", err)
	}
	return n, true, nil
}

// PlaceLead writes a lead's stage and key; a change of stage stamps its last move by actor.
// A key taken in the stage is model.ErrConflict.
func (s *Store) PlaceLead(ctx context.Context, orgID, id, stageID int64, key string, actor *int64) error {
	n, err := s.exec(ctx, s.q.LeadPlace, orgID, id, stageID, key, actor)
	if err != nil {
		return fmt.Errorf("store: place lead %d: %w", id, boardConflict(err))
	}
	if n == 0 {
		return fmt.Errorf("store: place lead %d: %w", id, model.ErrNotFound)
	}
	return nil
}

// UpdateLead writes a lead's title, value, owner, source and notes.
func (s *Store) UpdateLead(ctx context.Context, l model.Lead) error {
	n, err := s.exec(ctx, s.q.LeadUpdate, l.OrgID, l.ID, l.Title, l.ValueCents, l.OwnerID, l.Source, l.Notes)
	if err != nil {
		return fmt.Errorf("store: update lead %d: %w", l.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("store: update lead %d: %w", l.ID, model.ErrNotFound)
	}
	return nil
}

// DeleteLead deletes a lead and its history.
func (s *Store) DeleteLead(ctx context.Context, orgID, id int64) error {
	n, err := s.exec(ctx, s.q.LeadDelete, orgID, id)
	if err != nil {
		return fmt.Errorf("store: delete lead %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: delete lead %d: %w", id, model.ErrNotFound)
	}
	return nil
}

// AddLeadMove records a change of stage.
func (s *Store) AddLeadMove(ctx context.Context, orgID, leadID int64, from, to model.Stage, actor *int64) error {
	if _, err := s.exec(ctx, s.q.LeadMoveInsert, orgID, leadID, from.ID, to.ID, from.Name, to.Name, actor); err != nil {
		return fmt.Errorf("store: add lead move: %w", err)
	}
	return nil
}

// LeadMoves lists a lead's changes of stage, newest first.
func (s *Store) LeadMoves(ctx context.Context, orgID, leadID int64, limit int) ([]model.LeadMove, error) {
	var ms []model.LeadMove
	if err := s.sel(ctx, s.q.LeadMoves, &ms, orgID, leadID, limit); err != nil {
		return nil, fmt.Errorf("store: lead moves: %w", err)
	}
	return ms, nil
}

// BoardCards returns the first perStage cards of each stage of a pipeline, stage by stage
// and in each stage by key.
func (s *Store) BoardCards(ctx context.Context, orgID, pipelineID int64, f model.LeadFilter, perStage int) ([]model.Lead, error) {
	var ls []model.Lead
	args := append([]any{orgID, pipelineID}, leadFilterArgs(f)...)
	if err := s.sel(ctx, s.q.BoardCards, &ls, append(args, perStage)...); err != nil {
		return nil, fmt.Errorf("store: board cards: %w", err)
	}
	return ls, nil
}

// StageCards returns up to limit cards of a stage after key ("" from the top).
func (s *Store) StageCards(ctx context.Context, orgID, stageID int64, f model.LeadFilter, after string, limit int) ([]model.Lead, error) {
	var ls []model.Lead
	args := append([]any{orgID, stageID}, leadFilterArgs(f)...)
	if err := s.sel(ctx, s.q.StageCards, &ls, append(args, after, limit)...); err != nil {
		return nil, fmt.Errorf("store: stage cards: %w", err)
	}
	return ls, nil
}

// BoardTotals returns the count and value of the filtered leads of each stage of a
// pipeline that has any.
func (s *Store) BoardTotals(ctx context.Context, orgID, pipelineID int64, f model.LeadFilter) ([]model.StageTotal, error) {
	var ts []model.StageTotal
	args := append([]any{orgID, pipelineID}, leadFilterArgs(f)...)
	if err := s.sel(ctx, s.q.BoardTotals, &ts, args...); err != nil {
		return nil, fmt.Errorf("store: board totals: %w", err)
	}
	return ts, nil
}

// --- Contacts, as the board needs them ---

// LeadContact returns the contact with this phone, creating it with name when there is
// none; without a phone it always creates one.
func (s *Store) LeadContact(ctx context.Context, orgID int64, name string, phone *string) (int64, error) {
	var id int64
	if err := s.get(ctx, s.q.BoardContactUpsert, &id, orgID, name, phone); err != nil {
		return 0, fmt.Errorf("store: lead contact: %w", err)
	}
	return id, nil
}

// model.BoardContact returns the name and phone of a contact of the org.
func (s *Store) BoardContact(ctx context.Context, orgID, id int64) (model.BoardContact, error) {
	var c model.BoardContact
	if err := s.get(ctx, s.q.BoardContact, &c, orgID, id); err != nil {
		return c, fmt.Errorf("store: contact %d: %w", id, err)
	}
	return c, nil
}

// SearchBoardContacts finds up to limit contacts whose name, phone or email contains q
// (accents and case do not matter).
func (s *Store) SearchBoardContacts(ctx context.Context, orgID int64, q string, limit int) ([]model.BoardContact, error) {
	var cs []model.BoardContact
	if err := s.sel(ctx, s.q.BoardContacts, &cs, orgID, "%"+escapeLike(model.CleanSearch(q))+"%", limit); err != nil {
		return nil, fmt.Errorf("store: search contacts: %w", err)
	}
	return cs, nil
}

// AddLeadEvent writes a lead's line on its contact's timeline: "lead_created" or
// "stage_changed".
func (s *Store) AddLeadEvent(ctx context.Context, orgID, contactID int64, kind string, actor *int64, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if _, err := s.exec(ctx, s.q.BoardContactEvent, orgID, contactID, kind, actor, string(b)); err != nil {
		return fmt.Errorf("store: contact event: %w", err)
	}
	return nil
}

// boardConflict turns a unique or foreign-key violation into model.ErrConflict.
func boardConflict(err error) error {
	var pe *pq.Error
	if errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "23503") {
		return fmt.Errorf("%w: %s", model.ErrConflict, pe.Message)
	}
	return err
}
