package store

import (
	"context"
	"errors"
	"fmt"

	"masteria/app/model"
)

// CreateAPIKey stores a new key's hash and display prefix.
func (s *Store) CreateAPIKey(ctx context.Context, orgID int64, name, prefix string, hash []byte, createdBy int64, scope string) (model.APIKey, error) {
	var k model.APIKey
	var by *int64 // 0: made from the command line, by nobody in particular
	if createdBy != 0 {
		by = &createdBy
	}
	if err := s.get(ctx, s.q.APIKeyCreate, &k, orgID, name, prefix, hash, by, scope); err != nil {
		return k, fmt.Errorf("store: create api key: %w", err)
	}
	return k, nil
}

// APIKeys lists an org's keys, live ones first.
func (s *Store) APIKeys(ctx context.Context, orgID int64) ([]model.APIKey, error) {
	var ks []model.APIKey
	if err := s.sel(ctx, s.q.APIKeys, &ks, orgID); err != nil {
		return nil, fmt.Errorf("store: api keys: %w", err)
	}
	return ks, nil
}

// APIKeyByHash finds a live key by the hash of what the client sent.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (model.APIKey, error) {
	var k model.APIKey
	if err := s.get(ctx, s.q.APIKeyByHash, &k, hash); err != nil {
		return k, fmt.Errorf("store: api key: %w", err)
	}
	return k, nil
}

// TouchAPIKey records that a key was just used (at most one write a minute).
func (s *Store) TouchAPIKey(ctx context.Context, orgID, keyID int64) error {
	if _, err := s.exec(ctx, s.q.APIKeyTouch, orgID, keyID); err != nil {
		return fmt.Errorf("store: touch api key: %w", err)
	}
	return nil
}

// RevokeAPIKey stops a key from working and returns its name.
func (s *Store) RevokeAPIKey(ctx context.Context, orgID, keyID int64) (string, error) {
	var name string
	if err := s.get(ctx, s.q.APIKeyRevoke, &name, orgID, keyID); err != nil {
		return "", fmt.Errorf("store: revoke api key: %w", err)
	}
	return name, nil
}

// Idempotent is the first answer to a POST sent with an Idempotency-Key; Status is nil
// while that request runs.
type Idempotent struct {
	RequestHash []byte `db:"request_hash"`
	Status      *int   `db:"status"`
	ContentType string `db:"content_type"`
	Body        []byte `db:"body"`
}

// ClaimIdempotencyKey takes an Idempotency-Key for a request; false when another request
// of the org has it (within a day).
func (s *Store) ClaimIdempotencyKey(ctx context.Context, orgID int64, key string, keyID int64, hash []byte) (bool, error) {
	var ok bool
	err := s.get(ctx, s.q.APIIdempotencyClaim, &ok, orgID, key, keyID, hash)
	if errors.Is(err, model.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: claim idempotency key: %w", err)
	}
	return true, nil
}

// IdempotencyKey reads what an Idempotency-Key holds.
func (s *Store) IdempotencyKey(ctx context.Context, orgID int64, key string) (Idempotent, error) {
	var out Idempotent
	if err := s.get(ctx, s.q.APIIdempotency, &out, orgID, key); err != nil {
		return out, fmt.Errorf("store: idempotency key: %w", err)
	}
	return out, nil
}

// FinishIdempotencyKey keeps the first request's answer for its repeats.
func (s *Store) FinishIdempotencyKey(ctx context.Context, orgID int64, key string, status int, contentType string, body []byte) error {
	if _, err := s.exec(ctx, s.q.APIIdempotencyDone, orgID, key, status, contentType, body); err != nil {
		return fmt.Errorf("store: finish idempotency key: %w", err)
	}
	return nil
}

// DropIdempotencyKey frees a key whose first request failed on our side.
func (s *Store) DropIdempotencyKey(ctx context.Context, orgID int64, key string) error {
	if _, err := s.exec(ctx, s.q.APIIdempotencyDrop, orgID, key); err != nil {
		return fmt.Errorf("store: drop idempotency key: %w", err)
	}
	return nil
}

// DeleteOldIdempotencyKeys forgets keys older than a day.
func (s *Store) DeleteOldIdempotencyKeys(ctx context.Context) (int64, error) {
	n, err := s.exec(ctx, s.q.APIIdempotencyDeleteOld)
	if err != nil {
		return 0, fmt.Errorf("store: delete old idempotency keys: %w", err)
	}
	return n, nil
}
