package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"masteria/app/model"
)

// aiProviderQueries are the queries of an org's AI provider and its usage.
type aiProviderQueries struct {
	AIProvider      *sqlx.Stmt `query:"ai-provider"`
	AIProviderPut   *sqlx.Stmt `query:"ai-provider-put"`
	AIProviderState *sqlx.Stmt `query:"ai-provider-set-status"`
	AIUsageAdd      *sqlx.Stmt `query:"ai-usage-add"`
	AIUsageSince    *sqlx.Stmt `query:"ai-usage-since"`
}

// AIProvider returns an org's AI provider, or model.ErrNotFound when it has none.
func (s *Store) AIProvider(ctx context.Context, orgID int64) (model.AIProvider, error) {
	var p model.AIProvider
	if err := s.get(ctx, s.q.AIProvider, &p, orgID); err != nil {
		return p, fmt.Errorf("store: ai provider: %w", err)
	}
	return p, nil
}

// PutAIProvider saves an org's AI provider; p.KeySealed is already sealed. A new base URL or
// key makes it untested again.
func (s *Store) PutAIProvider(ctx context.Context, orgID int64, p model.AIProvider) error {
	if _, err := s.exec(ctx, s.q.AIProviderPut, orgID, p.BaseURL, p.KeySealed, p.ChatModel,
		p.EmbeddingModel, p.EmbeddingDimensions, p.MonthlyBudget); err != nil {
		return fmt.Errorf("store: put ai provider: %w", err)
	}
	return nil
}

// SetAIProviderStatus records what the last test or call said.
func (s *Store) SetAIProviderStatus(ctx context.Context, orgID int64, status, lastError string) error {
	if _, err := s.exec(ctx, s.q.AIProviderState, orgID, status, lastError); err != nil {
		return fmt.Errorf("store: ai provider status: %w", err)
	}
	return nil
}

// AddAIUsage records one call's tokens and estimated cost.
func (s *Store) AddAIUsage(ctx context.Context, orgID int64, u model.AIUsage) error {
	if _, err := s.exec(ctx, s.q.AIUsageAdd, orgID, u.Kind, u.Model, u.PromptTokens, u.CompletionTokens, u.Cost); err != nil {
		return fmt.Errorf("store: add ai usage: %w", err)
	}
	return nil
}

// AISpentSince is what an org's AI calls cost since a time, in USD.
func (s *Store) AISpentSince(ctx context.Context, orgID int64, since time.Time) (float64, error) {
	var v float64
	if err := s.get(ctx, s.q.AIUsageSince, &v, orgID, since); err != nil {
		return 0, fmt.Errorf("store: ai spent: %w", err)
	}
	return v, nil
}
