package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"masteria/app/model"
)

// identityQueries are the queries of contact identities.
type identityQueries struct {
	IdentitiesLink     *sqlx.Stmt `query:"identities-link"`
	ContactChangePhone *sqlx.Stmt `query:"contact-change-phone"`
	IdentitiesOf       *sqlx.Stmt `query:"identities-of-contact"`
}

// identityArrays splits identities into the kinds and values arrays the queries take.
func identityArrays(ids []model.Identity) (kinds, values pq.StringArray) {
	kinds, values = pq.StringArray{}, pq.StringArray{}
	for _, id := range ids {
		if id.Kind == "" || id.Value == "" {
			continue
		}
		kinds, values = append(kinds, id.Kind), append(values, id.Value)
	}
	return kinds, values
}

// LinkIdentities records identities of a contact a channel told about, and its phone when
// it had none and nobody else holds it; identities other contacts hold stay theirs.
func (s *Store) LinkIdentities(ctx context.Context, orgID, contactID int64, phone string, ids []model.Identity) error {
	kinds, values := identityArrays(ids)
	if _, err := s.exec(ctx, s.q.IdentitiesLink, orgID, contactID, phone, kinds, values); err != nil {
		return fmt.Errorf("store: link identities: %w", err)
	}
	return nil
}

// ChangePhone gives a contact a new phone number (the person changed it), unless another
// contact holds that number; false when it did not move.
func (s *Store) ChangePhone(ctx context.Context, orgID, contactID int64, phone string) (bool, error) {
	n, err := s.exec(ctx, s.q.ContactChangePhone, orgID, contactID, phone)
	if err != nil {
		return false, fmt.Errorf("store: change phone: %w", err)
	}
	return n == 1, nil
}

// Identities returns a contact's identities, the most trusted first.
func (s *Store) Identities(ctx context.Context, orgID, contactID int64) ([]model.Identity, error) {
	var out []model.Identity
	if err := s.sel(ctx, s.q.IdentitiesOf, &out, orgID, contactID); err != nil {
		return nil, fmt.Errorf("store: identities: %w", err)
	}
	return out, nil
}
