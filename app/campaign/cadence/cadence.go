// Package cadence builds and runs cadences: follow-ups of several steps (WhatsApp, SMS, a
// call, waits, branches on what came of a send, actions on the lead) that each enrolled
// contact walks through by itself. Service builds them (definitions and their versions);
// the engine runs them.
package cadence

import (
	"context"
	"errors"
	"fmt"

	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// Service builds cadences: create, edit (versioned), activate, pause, archive, list, read.
// Managers and up build them (model.RunCampaigns); every member may read them.
type Service struct {
	st *store.Store
}

// New returns the building side of cadences.
func New(st *store.Store) *Service { return &Service{st: st} }

// ErrNotReady is an activation of a cadence whose steps do not hold (its fields say why).
var ErrNotReady = errors.New("cadence: not ready to activate")

// ErrStatus is a change the cadence's status does not allow (archived cadences are closed;
// only an active cadence pauses…).
var ErrStatus = fmt.Errorf("cadence: not in a status that allows it: %w", model.ErrConflict)

func mayBuild(a model.Actor) error {
	if !a.Role.May(model.RunCampaigns) {
		return model.ErrForbidden
	}
	return nil
}

func mayRead(a model.Actor) error {
	if a.OrgID == 0 || !a.Role.AtLeast(model.RoleAgent) {
		return model.ErrForbidden
	}
	return nil
}

// List returns the org's cadences, newest first (before an id when it is not 0), with how
// many people are in each.
func (s *Service) List(ctx context.Context, a model.Actor, before int64, limit int) ([]model.CadenceListItem, error) {
	if err := mayRead(a); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	return s.st.Cadences(ctx, a.OrgID, before, limit)
}

// Definition returns one cadence of the org with the steps of its current version.
func (s *Service) Definition(ctx context.Context, orgID, id int64) (model.Cadence, error) {
	c, err := s.st.Cadence(ctx, orgID, id)
	if err != nil {
		return c, err
	}
	if c.Steps, err = s.st.CadenceSteps(ctx, orgID, id, c.CurrentVersion); err != nil {
		return c, err
	}
	return c, nil
}

// Cadence is Definition for a member of the org.
func (s *Service) Cadence(ctx context.Context, a model.Actor, id int64) (model.Cadence, error) {
	if err := mayRead(a); err != nil {
		return model.Cadence{}, err
	}
	return s.Definition(ctx, a.OrgID, id)
}

// Create saves a new draft: its name, steps, enrol and exit settings, all checked (another
// org's channel, stage, tag, member, number or segment is model.ErrNotFound; what is wrong
// with a field is a *model.ValidationError).
func (s *Service) Create(ctx context.Context, a model.Actor, c model.Cadence) (model.Cadence, error) {
	if err := mayBuild(a); err != nil {
		return c, err
	}
	c.OrgID, c.CreatedBy, c.ID = a.OrgID, a.UserRef(), 0
	if err := s.validate(ctx, &c); err != nil {
		return c, err
	}
	id, err := s.st.CreateCadence(ctx, c)
	if err != nil {
		return c, err
	}
	return s.Definition(ctx, a.OrgID, id)
}

// Update saves a cadence's name, settings and steps. When anybody walked its current
// version, the steps become a new version and those enrolled stay on theirs; otherwise the
// current version is rewritten. An archived cadence refuses (ErrStatus). The status stays.
func (s *Service) Update(ctx context.Context, a model.Actor, c model.Cadence) (model.Cadence, error) {
	if err := mayBuild(a); err != nil {
		return c, err
	}
	old, err := s.st.Cadence(ctx, a.OrgID, c.ID)
	if err != nil {
		return c, err
	}
	if old.Status == model.CadenceArchived {
		return c, ErrStatus
	}
	c.OrgID = a.OrgID
	if err := s.validate(ctx, &c); err != nil {
		return c, err
	}
	if _, err := s.st.UpdateCadence(ctx, c, a.UserRef()); err != nil {
		if errors.Is(err, model.ErrConflict) {
			return c, ErrStatus
		}
		return c, err
	}
	return s.Definition(ctx, a.OrgID, c.ID)
}

// Activate lets a draft or a paused cadence run: its steps are checked again against what
// the org has now (a channel removed, a template no longer approved); a cadence that does
// not hold is ErrNotReady with the fields that fail.
func (s *Service) Activate(ctx context.Context, a model.Actor, id int64) (model.Cadence, error) {
	if err := mayBuild(a); err != nil {
		return model.Cadence{}, err
	}
	c, err := s.Definition(ctx, a.OrgID, id)
	if err != nil {
		return c, err
	}
	if err := s.validate(ctx, &c); err != nil {
		if errors.Is(err, model.ErrInvalid) {
			return c, fmt.Errorf("%w: %w", ErrNotReady, err)
		}
		return c, err
	}
	return s.move(ctx, a, id, model.CadenceActive, model.CadenceDraft, model.CadencePaused)
}

// Pause stops an active cadence's enrolments where they are.
func (s *Service) Pause(ctx context.Context, a model.Actor, id int64) (model.Cadence, error) {
	if err := mayBuild(a); err != nil {
		return model.Cadence{}, err
	}
	return s.move(ctx, a, id, model.CadencePaused, model.CadenceActive)
}

// Archive closes a cadence for good: nobody joins it, it can no longer be edited, and the
// people still in it leave it now (exited, "archived"), in the same transaction, rather
// than each when its next step comes due.
func (s *Service) Archive(ctx context.Context, a model.Actor, id int64) (model.Cadence, error) {
	if err := mayBuild(a); err != nil {
		return model.Cadence{}, err
	}
	return s.move(ctx, a, id, model.CadenceArchived, model.CadenceDraft, model.CadenceActive, model.CadencePaused)
}

func (s *Service) move(ctx context.Context, a model.Actor, id int64, to string, from ...string) (model.Cadence, error) {
	if _, err := s.st.Cadence(ctx, a.OrgID, id); err != nil {
		return model.Cadence{}, err
	}
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		ok, err := tx.SetCadenceStatus(ctx, a.OrgID, id, to, from)
		if err != nil {
			return err
		}
		if !ok {
			return ErrStatus
		}
		if to != model.CadenceArchived {
			return nil
		}
		ended, err := tx.ExitCadenceEnrolments(ctx, a.OrgID, id, model.ExitArchived)
		if err != nil {
			return err
		}
		out := make([]events.CadenceExit, len(ended))
		for i, en := range ended {
			out[i] = events.CadenceExit{CadenceID: id, EnrolmentID: en.ID, ContactID: en.ContactID,
				Status: model.EnrolmentExited, Reason: model.ExitArchived}
		}
		return events.CadenceExited.PublishMany(ctx, tx, a.OrgID, out)
	})
	if err != nil {
		return model.Cadence{}, err
	}
	return s.Definition(ctx, a.OrgID, id)
}
