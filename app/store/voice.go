package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"masteria/app/model"
)

// voiceQueries are the queries of the org's Retell account (queries/voice.sql).
type voiceQueries struct {
	VoiceAccount          *sqlx.Stmt `query:"voice-account"`
	VoiceAccountByID      *sqlx.Stmt `query:"voice-account-by-id"`
	VoiceAccountEnsure    *sqlx.Stmt `query:"voice-account-ensure"`
	VoiceAccountSetKey    *sqlx.Stmt `query:"voice-account-set-key"`
	VoiceAccountSetMax    *sqlx.Stmt `query:"voice-account-set-max"`
	VoiceAccountSetHours  *sqlx.Stmt `query:"voice-account-set-hours"`
	VoiceAccountSetStatus *sqlx.Stmt `query:"voice-account-set-status"`
}

// VoiceAccount returns the org's Retell account, or model.ErrNotFound when it has none.
func (s *Store) VoiceAccount(ctx context.Context, orgID int64) (model.VoiceAccount, error) {
	var a model.VoiceAccount
	if err := s.get(ctx, s.q.VoiceAccount, &a, orgID); err != nil {
		return a, fmt.Errorf("store: voice account: %w", err)
	}
	return a, nil
}

// VoiceAccountByID returns the Retell account a webhook URL names, whatever its org (the
// row says which), or model.ErrNotFound.
func (s *Store) VoiceAccountByID(ctx context.Context, id int64) (model.VoiceAccount, error) {
	var a model.VoiceAccount
	if err := s.get(ctx, s.q.VoiceAccountByID, &a, id); err != nil {
		return a, fmt.Errorf("store: voice account %d: %w", id, err)
	}
	return a, nil
}

// PutVoiceAccountKey creates the org's account if it has none and stores its key, sealed by
// seal, which gets the account's id to bind the key to. In one transaction: no row is left
// without a key.
func (s *Store) PutVoiceAccountKey(ctx context.Context, orgID int64, seal func(accountID int64) (string, error)) (model.VoiceAccount, error) {
	var a model.VoiceAccount
	err := s.Tx(ctx, func(tx *Store) error {
		var id int64
		if err := tx.get(ctx, tx.q.VoiceAccountEnsure, &id, orgID); err != nil {
			return err
		}
		sealed, err := seal(id)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, tx.q.VoiceAccountSetKey, orgID, id, sealed); err != nil {
			return err
		}
		a, err = tx.VoiceAccount(ctx, orgID)
		return err
	})
	if err != nil {
		return a, fmt.Errorf("store: put voice account key: %w", err)
	}
	return a, nil
}

// SetVoiceMaxConcurrent sets how many calls the org may have at once.
func (s *Store) SetVoiceMaxConcurrent(ctx context.Context, orgID int64, n int) error {
	k, err := s.exec(ctx, s.q.VoiceAccountSetMax, orgID, n)
	if err != nil {
		return fmt.Errorf("store: voice max concurrent: %w", err)
	}
	if k == 0 {
		return fmt.Errorf("store: voice max concurrent: %w", model.ErrNotFound)
	}
	return nil
}

// SetVoiceAccountStatus records what the last test said (ok or error, Retell's words).
func (s *Store) SetVoiceAccountStatus(ctx context.Context, orgID int64, status, lastError string) error {
	if _, err := s.exec(ctx, s.q.VoiceAccountSetStatus, orgID, status, lastError); err != nil {
		return fmt.Errorf("store: voice account status: %w", err)
	}
	return nil
}
