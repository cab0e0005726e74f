package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// Sealed is one sealed value of a table (a channel's secrets, an org's AI or Retell key,
// a number's SIP password), for `masteria keys rotate`. ID is the row's id (an AI
// provider's is its org's).
type Sealed struct {
	ID     int64  `db:"id"`
	OrgID  int64  `db:"org_id"`
	Sealed string `db:"sealed"`
}

// SealedKind names a table of sealed values.
type SealedKind string

// The tables whose sealed values key rotation re-seals besides org_secrets and the
// webhook secrets (which have their own).
const (
	SealedChannels      SealedKind = "channels"
	SealedAIProviders   SealedKind = "ai_providers"
	SealedVoiceAccounts SealedKind = "voice_accounts"
	SealedVoiceNumbers  SealedKind = "voice_numbers"
)

type resealQueries struct {
	ResealChannels      *sqlx.Stmt `query:"reseal-channels"`
	ResealChannel       *sqlx.Stmt `query:"reseal-channel"`
	ResealAIProviders   *sqlx.Stmt `query:"reseal-ai-providers"`
	ResealAIProvider    *sqlx.Stmt `query:"reseal-ai-provider"`
	ResealVoiceAccounts *sqlx.Stmt `query:"reseal-voice-accounts"`
	ResealVoiceAccount  *sqlx.Stmt `query:"reseal-voice-account"`
	ResealVoiceNumbers  *sqlx.Stmt `query:"reseal-voice-numbers"`
	ResealVoiceNumber   *sqlx.Stmt `query:"reseal-voice-number"`
}

func (s *Store) resealStmts(k SealedKind) (list, put *sqlx.Stmt, err error) {
	q := s.q
	switch k {
	case SealedChannels:
		return q.ResealChannels, q.ResealChannel, nil
	case SealedAIProviders:
		return q.ResealAIProviders, q.ResealAIProvider, nil
	case SealedVoiceAccounts:
		return q.ResealVoiceAccounts, q.ResealVoiceAccount, nil
	case SealedVoiceNumbers:
		return q.ResealVoiceNumbers, q.ResealVoiceNumber, nil
	}
	return nil, nil, fmt.Errorf("store: no sealed values called %q", k)
}

// SealedValues lists every org's sealed values of a kind.
func (s *Store) SealedValues(ctx context.Context, k SealedKind) ([]Sealed, error) {
	list, _, err := s.resealStmts(k)
	if err != nil {
		return nil, err
	}
	var out []Sealed
	if err := s.sel(ctx, list, &out); err != nil {
		return nil, fmt.Errorf("store: sealed %s: %w", k, err)
	}
	return out, nil
}

// ResealValue replaces a sealed value with fresh if it is still old; false when the row
// changed (or went) meanwhile.
func (s *Store) ResealValue(ctx context.Context, k SealedKind, v Sealed, fresh string) (bool, error) {
	_, put, err := s.resealStmts(k)
	if err != nil {
		return false, err
	}
	n, err := s.exec(ctx, put, v.OrgID, v.ID, v.Sealed, fresh)
	if err != nil {
		return false, fmt.Errorf("store: reseal %s %d: %w", k, v.ID, err)
	}
	return n == 1, nil
}
