package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"masteria/app/model"
)

// voiceNumberQueries are the queries of voice numbers and their set-up.
type voiceNumberQueries struct {
	VoiceNumbers         *sqlx.Stmt `query:"voice-numbers"`
	VoiceNumbersPage     *sqlx.Stmt `query:"voice-numbers-page"`
	VoiceNumber          *sqlx.Stmt `query:"voice-number"`
	VoiceNumberCreate    *sqlx.Stmt `query:"voice-number-create"`
	VoiceNumberClaim     *sqlx.Stmt `query:"voice-number-claim"`
	VoiceNumberProgress  *sqlx.Stmt `query:"voice-number-progress"`
	VoiceNumberFail      *sqlx.Stmt `query:"voice-number-fail"`
	VoiceNumberSetAgents *sqlx.Stmt `query:"voice-number-set-agents"`

	VoiceNumberReleaseClaim    *sqlx.Stmt `query:"voice-number-release-claim"`
	VoiceNumberReleaseProgress *sqlx.Stmt `query:"voice-number-release-progress"`
	VoiceNumberReleaseFail     *sqlx.Stmt `query:"voice-number-release-fail"`
	VoiceNumberDelete          *sqlx.Stmt `query:"voice-number-delete"`
}

// VoiceNumbers lists an org's voice numbers, newest first.
func (s *Store) VoiceNumbers(ctx context.Context, orgID int64) ([]model.VoiceNumber, error) {
	var out []model.VoiceNumber
	if err := s.sel(ctx, s.q.VoiceNumbers, &out, orgID); err != nil {
		return nil, fmt.Errorf("store: voice numbers: %w", err)
	}
	return out, nil
}

// VoiceNumbersPage returns up to limit of an org's voice numbers, newest first, older than
// beforeID when it is not 0.
func (s *Store) VoiceNumbersPage(ctx context.Context, orgID, beforeID int64, limit int) ([]model.VoiceNumber, error) {
	var out []model.VoiceNumber
	if err := s.sel(ctx, s.q.VoiceNumbersPage, &out, orgID, beforeID, limit); err != nil {
		return nil, fmt.Errorf("store: voice numbers page: %w", err)
	}
	return out, nil
}

// VoiceNumber reads one of an org's voice numbers.
func (s *Store) VoiceNumber(ctx context.Context, orgID, id int64) (model.VoiceNumber, error) {
	var n model.VoiceNumber
	if err := s.get(ctx, s.q.VoiceNumber, &n, orgID, id); err != nil {
		return n, fmt.Errorf("store: voice number %d: %w", id, err)
	}
	return n, nil
}

// CreateVoiceNumber stores a number (its PhoneNumber, Source, Country, Step, Status, agents,
// Nickname and TwilioChannelID, which must be a Twilio channel of the org or is dropped). A
// number the org already has is model.ErrConflict.
func (s *Store) CreateVoiceNumber(ctx context.Context, orgID int64, n model.VoiceNumber) (model.VoiceNumber, error) {
	var out model.VoiceNumber
	err := s.get(ctx, s.q.VoiceNumberCreate, &out, orgID, n.PhoneNumber, n.Source, n.Country, n.Step, n.Status,
		n.InboundAgentID, n.OutboundAgentID, n.Nickname, n.TwilioChannelID)
	if isUnique(err) {
		return out, fmt.Errorf("store: create voice number: %w", model.ErrConflict)
	}
	if err != nil {
		return out, fmt.Errorf("store: create voice number: %w", err)
	}
	return out, nil
}

// ClaimVoiceNumber takes a failed set-up (or one stuck in progress) to run it again; false
// when it is running or done.
func (s *Store) ClaimVoiceNumber(ctx context.Context, orgID, id int64) (bool, error) {
	var got int64
	err := s.get(ctx, s.q.VoiceNumberClaim, &got, orgID, id)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, model.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("store: claim voice number %d: %w", id, err)
}

// SaveVoiceNumberProgress records n's step, status and the sids and credentials learned.
func (s *Store) SaveVoiceNumberProgress(ctx context.Context, orgID int64, n model.VoiceNumber) error {
	_, err := s.exec(ctx, s.q.VoiceNumberProgress, orgID, n.ID, n.Step, n.Status, n.TwilioNumberSID, n.TrunkSID,
		n.TerminationURI, n.OriginationURLSID, n.CredentialListSID, n.SIPUsername, n.SIPPasswordSealed)
	if err != nil {
		return fmt.Errorf("store: voice number %d progress: %w", n.ID, err)
	}
	return nil
}

// FailVoiceNumber marks a set-up failed at its current step, with the reason in plain words.
func (s *Store) FailVoiceNumber(ctx context.Context, orgID, id int64, reason string) error {
	if _, err := s.exec(ctx, s.q.VoiceNumberFail, orgID, id, reason); err != nil {
		return fmt.Errorf("store: voice number %d fail: %w", id, err)
	}
	return nil
}

// SetVoiceNumberAgents changes a number's inbound and outbound agents.
func (s *Store) SetVoiceNumberAgents(ctx context.Context, orgID, id int64, inbound, outbound string) error {
	n, err := s.exec(ctx, s.q.VoiceNumberSetAgents, orgID, id, inbound, outbound)
	if err != nil {
		return fmt.Errorf("store: voice number %d agents: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: voice number %d agents: %w", id, model.ErrNotFound)
	}
	return nil
}

// ClaimVoiceNumberRelease takes a number to release (or a failed release to go on with):
// its status becomes releasing at the step it stopped at. fromRetell is kept from the first
// try. False when it is being set up or released now.
func (s *Store) ClaimVoiceNumberRelease(ctx context.Context, orgID, id int64, fromRetell bool) (bool, error) {
	var got int64
	err := s.get(ctx, s.q.VoiceNumberReleaseClaim, &got, orgID, id, fromRetell)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, model.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("store: claim voice number %d release: %w", id, err)
}

// SaveVoiceNumberRelease records a release step done: n's ReleaseStep is the next one, and
// the trunk and number sids it may have found.
func (s *Store) SaveVoiceNumberRelease(ctx context.Context, orgID int64, n model.VoiceNumber) error {
	if _, err := s.exec(ctx, s.q.VoiceNumberReleaseProgress, orgID, n.ID, n.ReleaseStep, n.TrunkSID, n.TwilioNumberSID); err != nil {
		return fmt.Errorf("store: voice number %d release: %w", n.ID, err)
	}
	return nil
}

// FailVoiceNumberRelease marks a release failed at its current step, with the reason.
func (s *Store) FailVoiceNumberRelease(ctx context.Context, orgID, id int64, reason string) error {
	if _, err := s.exec(ctx, s.q.VoiceNumberReleaseFail, orgID, id, reason); err != nil {
		return fmt.Errorf("store: voice number %d release fail: %w", id, err)
	}
	return nil
}

// DeleteVoiceNumber removes a number whose release is done.
func (s *Store) DeleteVoiceNumber(ctx context.Context, orgID, id int64) error {
	if _, err := s.exec(ctx, s.q.VoiceNumberDelete, orgID, id); err != nil {
		return fmt.Errorf("store: delete voice number %d: %w", id, err)
	}
	return nil
}
