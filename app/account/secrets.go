package account

import (
	"context"
	"fmt"

	"masteria/app/store"
	"masteria/app/vault"
)

// Secrets keeps an org's provider tokens sealed by the vault. Each value is bound to its org
// and name (associated data), so a sealed value copied to another row does not open.
type Secrets struct {
	st   *store.Store
	ring *vault.Ring
}

// NewSecrets returns the sealed-secret store.
func NewSecrets(st *store.Store, ring *vault.Ring) *Secrets { return &Secrets{st: st, ring: ring} }

func secretAD(orgID int64, name string) []byte {
	return fmt.Appendf(nil, "org:%d:secret:%s", orgID, name)
}

// Put seals and stores a secret.
func (s *Secrets) Put(ctx context.Context, orgID int64, name, value string) error {
	sealed, err := s.ring.Seal([]byte(value), secretAD(orgID, name))
	if err != nil {
		return err
	}
	return s.st.PutSecret(ctx, orgID, name, sealed)
}

// Get opens a stored secret. A tampered value is an error, never garbage.
func (s *Secrets) Get(ctx context.Context, orgID int64, name string) (string, error) {
	sealed, err := s.st.Secret(ctx, orgID, name)
	if err != nil {
		return "", err
	}
	b, err := s.ring.Open(sealed, secretAD(orgID, name))
	if err != nil {
		return "", fmt.Errorf("account: open secret %s of org %d: %w", name, orgID, err)
	}
	return string(b), nil
}

// Rotate re-seals with the primary key every secret sealed with an older one. It is safe to
// run again, and next to running instances: a row changed meanwhile is left to the next run.
func (s *Secrets) Rotate(ctx context.Context) (resealed int, err error) {
	all, err := s.st.AllSecrets(ctx)
	if err != nil {
		return 0, err
	}
	for _, sec := range all {
		if !s.ring.NeedsReseal(sec.Sealed) {
			continue
		}
		fresh, err := s.ring.Reseal(sec.Sealed, secretAD(sec.OrgID, sec.Name))
		if err != nil {
			return resealed, fmt.Errorf("account: reseal %s of org %d: %w", sec.Name, sec.OrgID, err)
		}
		ok, err := s.st.ResealSecret(ctx, sec.OrgID, sec.Name, sec.Sealed, fresh)
		if err != nil {
			return resealed, err
		}
		if ok {
			resealed++
		}
	}
	return resealed, nil
}
