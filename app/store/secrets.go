package store

import (
	"context"
	"fmt"
)

// PutSecret stores an already sealed secret of an org.
func (s *Store) PutSecret(ctx context.Context, orgID int64, name, sealed string) error {
	if _, err := s.exec(ctx, s.q.SecretPut, orgID, name, sealed); err != nil {
		return fmt.Errorf("store: put secret %s: %w", name, err)
	}
	return nil
}

// Secret returns an org's sealed secret.
func (s *Store) Secret(ctx context.Context, orgID int64, name string) (string, error) {
	var sealed string
	if err := s.get(ctx, s.q.SecretGet, &sealed, orgID, name); err != nil {
		return "", fmt.Errorf("store: secret %s: %w", name, err)
	}
	return sealed, nil
}

// SealedSecret is one sealed value, as key rotation walks them.
type SealedSecret struct {
	OrgID  int64  `db:"org_id"`
	Name   string `db:"name"`
	Sealed string `db:"sealed"`
}

// AllSecrets lists every org's sealed secrets, for key rotation.
func (s *Store) AllSecrets(ctx context.Context) ([]SealedSecret, error) {
	var ss []SealedSecret
	if err := s.sel(ctx, s.q.SecretsAll, &ss); err != nil {
		return nil, fmt.Errorf("store: all secrets: %w", err)
	}
	return ss, nil
}

// ResealSecret swaps a sealed value for its re-sealed form, unless it changed meanwhile.
func (s *Store) ResealSecret(ctx context.Context, orgID int64, name, old, resealed string) (bool, error) {
	n, err := s.exec(ctx, s.q.SecretReseal, orgID, name, old, resealed)
	if err != nil {
		return false, fmt.Errorf("store: reseal %s: %w", name, err)
	}
	return n == 1, nil
}
