package board

import (
	"context"
	"errors"

	"masteria/app/events"
	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/app/store"
)

// PipelineInput is what the pipeline form sends.
type PipelineInput struct {
	Name     string
	Currency string // one of Currencies; "" is BRL
}

func (in *PipelineInput) validate() error {
	v := model.NewValidationError()
	var ok bool
	if in.Name, ok = cleanText(in.Name, MaxPipelineName); !ok {
		v.Add("name", "board.error.name")
	}
	if in.Currency == "" {
		in.Currency = "BRL"
	}
	if !oneOf(in.Currency, Currencies) {
		v.Add("currency", "board.error.currency")
	}
	return v.Err()
}

// StageInput is what a stage form sends.
type StageInput struct {
	Name        string
	Color       string // one of Colors; "" is gray
	Description string
	Outcome     string // open, won or lost; "" is open
}

func (in *StageInput) validate() error {
	v := model.NewValidationError()
	var ok bool
	if in.Name, ok = cleanText(in.Name, MaxStageName); !ok {
		v.Add("name", "board.error.name")
	}
	if in.Color == "" {
		in.Color = "gray"
	}
	if !oneOf(in.Color, Colors) {
		v.Add("color", "board.error.color")
	}
	if !within(in.Description, MaxDescription) {
		v.Add("description", "board.error.too_long")
	}
	if in.Outcome == "" {
		in.Outcome = model.OutcomeOpen
	}
	if !oneOf(in.Outcome, Outcomes) {
		v.Add("outcome", "board.error.outcome")
	}
	return v.Err()
}

// defaultStage is one stage of the pipelines the app creates; texts are i18n keys.
type defaultStage struct {
	name, description, color, outcome string
}

// salesStages are the stages of the pipeline an org gets when it first opens the board.
var salesStages = []defaultStage{
	{"board.default.new", "board.default.new_description", "gray", model.OutcomeOpen},
	{"board.default.qualified", "board.default.qualified_description", "blue", model.OutcomeOpen},
	{"board.default.proposal", "board.default.proposal_description", "purple", model.OutcomeOpen},
	{"board.default.negotiation", "board.default.negotiation_description", "orange", model.OutcomeOpen},
	{"board.default.won", "board.default.won_description", "green", model.OutcomeWon},
	{"board.default.lost", "board.default.lost_description", "red", model.OutcomeLost},
}

// newPipelineStages are the stages of a pipeline someone adds; they rename them to fit.
var newPipelineStages = []defaultStage{
	{"board.default.new", "board.default.new_description", "gray", model.OutcomeOpen},
	{"board.default.in_progress", "board.default.in_progress_description", "blue", model.OutcomeOpen},
	{"board.default.won", "board.default.won_description", "green", model.OutcomeWon},
	{"board.default.lost", "board.default.lost_description", "red", model.OutcomeLost},
}

func (s *Service) addStages(ctx context.Context, tx *store.Store, p model.Pipeline, stages []defaultStage, loc i18n.Locale) error {
	for _, d := range stages {
		_, err := tx.CreateStage(ctx, model.Stage{OrgID: p.OrgID, PipelineID: p.ID,
			Name: i18n.T(loc, d.name), Description: i18n.T(loc, d.description), Color: d.color, Outcome: d.outcome})
		if err != nil {
			return err
		}
	}
	return nil
}

// Pipelines lists an org's pipelines in order, with their stage and lead counts.
func (s *Service) Pipelines(ctx context.Context, orgID int64) ([]model.Pipeline, error) {
	return s.st.Pipelines(ctx, orgID)
}

// PipelinesPage returns up to limit of an org's pipelines with their stage and lead
// counts, in the order they were made, after afterID when it is not 0.
func (s *Service) PipelinesPage(ctx context.Context, orgID, afterID int64, limit int) ([]model.Pipeline, error) {
	return s.st.PipelinesPage(ctx, orgID, afterID, limit)
}

// StageOptions lists every stage of an org with its pipeline's name, in one query.
func (s *Service) StageOptions(ctx context.Context, orgID int64) ([]model.StageOption, error) {
	return s.st.StageOptions(ctx, orgID)
}

// Pipeline returns one pipeline of an org.
func (s *Service) Pipeline(ctx context.Context, orgID, id int64) (model.Pipeline, error) {
	return s.st.Pipeline(ctx, orgID, id)
}

// Stages lists a pipeline's stages in order.
func (s *Service) Stages(ctx context.Context, orgID, pipelineID int64) ([]model.Stage, error) {
	return s.st.Stages(ctx, orgID, pipelineID)
}

// Stage returns one stage of an org.
func (s *Service) Stage(ctx context.Context, orgID, id int64) (model.Stage, error) {
	return s.st.Stage(ctx, orgID, id)
}

// EnsurePipeline returns the org's first pipeline. An org without one gets the default
// sales pipeline, named in loc; two members opening the board at once get the same one.
func (s *Service) EnsurePipeline(ctx context.Context, a model.Actor, loc i18n.Locale) (model.Pipeline, error) {
	ps, err := s.st.Pipelines(ctx, a.OrgID)
	if err != nil || len(ps) > 0 {
		if len(ps) > 0 {
			return ps[0], nil
		}
		return model.Pipeline{}, err
	}
	var p model.Pipeline
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.LockOrg(ctx, a.OrgID); err != nil {
			return err
		}
		ps, err := tx.Pipelines(ctx, a.OrgID)
		if err != nil {
			return err
		}
		if len(ps) > 0 {
			p = ps[0]
			return nil
		}
		if p, err = tx.CreatePipeline(ctx, a.OrgID, i18n.T(loc, "board.default.pipeline"), "BRL"); err != nil {
			return err
		}
		if err := s.addStages(ctx, tx, p, salesStages, loc); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "pipeline.created", p.Name, events.PipelineChanged.With(events.PipelineRef{PipelineID: p.ID}))
	})
	return p, err
}

// CreatePipeline adds a pipeline with starter stages named in loc.
func (s *Service) CreatePipeline(ctx context.Context, a model.Actor, in PipelineInput, loc i18n.Locale) (model.Pipeline, error) {
	var p model.Pipeline
	if err := in.validate(); err != nil {
		return p, err
	}
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		p, err = tx.CreatePipeline(ctx, a.OrgID, in.Name, in.Currency)
		if errors.Is(err, model.ErrConflict) {
			return model.FieldError("name", "board.error.pipeline_taken")
		}
		if err != nil {
			return err
		}
		if err := s.addStages(ctx, tx, p, newPipelineStages, loc); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "pipeline.created", p.Name, events.PipelineChanged.With(events.PipelineRef{PipelineID: p.ID}))
	})
	return p, err
}

// UpdatePipeline renames a pipeline and sets its currency.
func (s *Service) UpdatePipeline(ctx context.Context, a model.Actor, id int64, in PipelineInput) (model.Pipeline, error) {
	var p model.Pipeline
	if err := in.validate(); err != nil {
		return p, err
	}
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		p, err = tx.UpdatePipeline(ctx, a.OrgID, id, in.Name, in.Currency)
		if errors.Is(err, model.ErrConflict) {
			return model.FieldError("name", "board.error.pipeline_taken")
		}
		if err != nil {
			return err
		}
		return s.record(ctx, tx, a, "pipeline.updated", p.Name, events.PipelineChanged.With(events.PipelineRef{PipelineID: p.ID}))
	})
	return p, err
}

// DeletePipeline deletes a pipeline and its stages. One that still has leads is refused
// with a *HasLeadsError: its leads must be moved or deleted first.
func (s *Service) DeletePipeline(ctx context.Context, a model.Actor, id int64) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		p, err := tx.LockPipeline(ctx, a.OrgID, id)
		if err != nil {
			return err
		}
		n, err := tx.CountPipelineLeads(ctx, a.OrgID, id)
		if err != nil {
			return err
		}
		if n > 0 {
			return &HasLeadsError{Leads: n}
		}
		if err := tx.DeletePipeline(ctx, a.OrgID, id); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "pipeline.deleted", p.Name, events.PipelineChanged.With(events.PipelineRef{PipelineID: p.ID}))
	})
}

// CreateStage adds a stage at the end of a pipeline.
func (s *Service) CreateStage(ctx context.Context, a model.Actor, pipelineID int64, in StageInput) (model.Stage, error) {
	var st model.Stage
	if err := in.validate(); err != nil {
		return st, err
	}
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		p, err := tx.LockPipeline(ctx, a.OrgID, pipelineID)
		if err != nil {
			return err
		}
		st, err = tx.CreateStage(ctx, model.Stage{OrgID: a.OrgID, PipelineID: p.ID, Name: in.Name, Color: in.Color,
			Description: in.Description, Outcome: in.Outcome})
		if err != nil {
			return err
		}
		return s.record(ctx, tx, a, "stage.created", p.Name+" / "+st.Name, events.PipelineChanged.With(events.PipelineRef{PipelineID: p.ID, StageID: st.ID}))
	})
	return st, err
}

// UpdateStage changes a stage's name, colour, description and outcome.
func (s *Service) UpdateStage(ctx context.Context, a model.Actor, id int64, in StageInput) (model.Stage, error) {
	var st model.Stage
	if err := in.validate(); err != nil {
		return st, err
	}
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		cur, err := tx.Stage(ctx, a.OrgID, id)
		if err != nil {
			return err
		}
		p, err := tx.LockPipeline(ctx, a.OrgID, cur.PipelineID)
		if err != nil {
			return err
		}
		cur.Name, cur.Color, cur.Description, cur.Outcome = in.Name, in.Color, in.Description, in.Outcome
		if st, err = tx.UpdateStage(ctx, cur); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "stage.updated", p.Name+" / "+st.Name, events.PipelineChanged.With(events.PipelineRef{PipelineID: p.ID, StageID: st.ID}))
	})
	return st, err
}

// DeleteStage deletes a stage. One with leads is refused with a *HasLeadsError, and the
// only stage of a pipeline with ErrLastStage.
func (s *Service) DeleteStage(ctx context.Context, a model.Actor, id int64) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		cur, err := tx.Stage(ctx, a.OrgID, id)
		if err != nil {
			return err
		}
		p, err := tx.LockPipeline(ctx, a.OrgID, cur.PipelineID)
		if err != nil {
			return err
		}
		if _, err := tx.LockStage(ctx, a.OrgID, id); err != nil {
			return err
		}
		n, err := tx.CountStageLeads(ctx, a.OrgID, id)
		if err != nil {
			return err
		}
		if n > 0 {
			return &HasLeadsError{Leads: n}
		}
		all, err := tx.Stages(ctx, a.OrgID, p.ID)
		if err != nil {
			return err
		}
		if len(all) <= 1 {
			return ErrLastStage
		}
		if err := tx.DeleteStage(ctx, a.OrgID, id); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "stage.deleted", p.Name+" / "+cur.Name, events.PipelineChanged.With(events.PipelineRef{PipelineID: p.ID, StageID: id}))
	})
}

// StepStage moves a stage one place to the left (delta -1) or right (+1) of its pipeline;
// at either end it stays.
func (s *Service) StepStage(ctx context.Context, a model.Actor, id int64, delta int) (model.Stage, error) {
	var moved model.Stage
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		cur, err := tx.Stage(ctx, a.OrgID, id)
		if err != nil {
			return err
		}
		p, err := tx.LockPipeline(ctx, a.OrgID, cur.PipelineID)
		if err != nil {
			return err
		}
		all, err := tx.Stages(ctx, a.OrgID, cur.PipelineID)
		if err != nil {
			return err
		}
		ids := make([]int64, len(all))
		at := -1
		for i, st := range all {
			ids[i] = st.ID
			if st.ID == id {
				at, moved = i, st
			}
		}
		to := at + delta
		if at < 0 || to < 0 || to >= len(ids) {
			return nil
		}
		ids[at], ids[to] = ids[to], ids[at]
		return s.reorder(ctx, tx, a, p, ids)
	})
	return moved, err
}

// ReorderStages gives a pipeline's stages the order of ids, which must hold each of its
// stages once.
func (s *Service) ReorderStages(ctx context.Context, a model.Actor, pipelineID int64, ids []int64) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		p, err := tx.LockPipeline(ctx, a.OrgID, pipelineID)
		if err != nil {
			return err
		}
		all, err := tx.Stages(ctx, a.OrgID, pipelineID)
		if err != nil {
			return err
		}
		if len(ids) != len(all) {
			return model.FieldError("ids", "board.error.order")
		}
		want := map[int64]bool{}
		for _, st := range all {
			want[st.ID] = true
		}
		for _, id := range ids {
			if !want[id] {
				return model.FieldError("ids", "board.error.order")
			}
			delete(want, id)
		}
		return s.reorder(ctx, tx, a, p, ids)
	})
}

func (s *Service) reorder(ctx context.Context, tx *store.Store, a model.Actor, p model.Pipeline, ids []int64) error {
	if err := tx.ReorderStages(ctx, a.OrgID, p.ID, ids); err != nil {
		return err
	}
	return s.record(ctx, tx, a, "stages.reordered", p.Name, events.PipelineChanged.With(events.PipelineRef{PipelineID: p.ID}))
}
