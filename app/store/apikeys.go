package store

import (
	"context"
	"fmt"

	"masteria/app/model"
)

// CreateAPIKey stores a new key's hash and display prefix.
func (s *Store) CreateAPIKey(ctx context.Context, orgID int64, name, prefix string, hash []byte, createdBy int64) (model.APIKey, error) {
	var k model.APIKey
	var by *int64 // 0: made from the command line, by nobody in particular
	if createdBy != 0 {
		by = &createdBy
	}
	if err := s.get(ctx, s.q.APIKeyCreate, &k, orgID, name, prefix, hash, by); err != nil {
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
