package account

import (
	"context"
	"errors"
	"net/http"

	"masteria/app/auth"
	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// APIKeys lists an org's API keys.
func (s *Service) APIKeys(ctx context.Context, orgID int64) ([]model.APIKey, error) {
	return s.st.APIKeys(ctx, orgID)
}

// CreateAPIKey makes a key and returns it in full, the only time it can be seen.
func (s *Service) CreateAPIKey(ctx context.Context, a Actor, name string) (model.APIKey, string, error) {
	return s.CreateScopedAPIKey(ctx, a, name, "")
}

// CreateScopedAPIKey makes a key that may do only what its scope says (model.ParseScope):
// "read", or areas each read or write; empty is everything.
func (s *Service) CreateScopedAPIKey(ctx context.Context, a Actor, name, scope string) (model.APIKey, string, error) {
	var k model.APIKey
	name, ok := model.CleanName(name)
	if !ok {
		return k, "", model.FieldError("name", "signup.error.required")
	}
	scope, ok = model.ParseScope(scope)
	if !ok {
		return k, "", model.FieldError("scope", "apikeys.error.scope")
	}
	key, prefix, hash, err := auth.NewAPIKey()
	if err != nil {
		return k, "", err
	}
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		if k, err = tx.CreateAPIKey(ctx, a.OrgID, name, prefix, hash, a.UserID, scope); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "apikey.created", name, events.APIKeyCreated.With(events.IDName{ID: k.ID, Name: name}))
	})
	return k, key, err
}

// RevokeAPIKey stops a key from working at once.
func (s *Service) RevokeAPIKey(ctx context.Context, a Actor, keyID int64) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		name, err := tx.RevokeAPIKey(ctx, a.OrgID, keyID)
		if err != nil {
			return err
		}
		return s.record(ctx, tx, a, "apikey.revoked", name, events.APIKeyRevoked.With(events.IDName{ID: keyID, Name: name}))
	})
}

// ErrBadAPIKey is a missing, malformed, unknown or revoked API key.
var ErrBadAPIKey = errors.New("account: invalid API key")

// AuthenticateAPIKey checks the Authorization header of an API request and returns the key
// and its org.
func (s *Service) AuthenticateAPIKey(ctx context.Context, r *http.Request) (model.APIKey, model.Org, error) {
	var k model.APIKey
	var o model.Org
	tok, ok := auth.BearerToken(r.Header.Get("Authorization"))
	if !ok {
		return k, o, ErrBadAPIKey
	}
	k, err := s.st.APIKeyByHash(ctx, auth.HashToken(tok))
	if errors.Is(err, model.ErrNotFound) {
		return k, o, ErrBadAPIKey
	}
	if err != nil {
		return k, o, err
	}
	if o, err = s.st.Org(ctx, k.OrgID); err != nil {
		return k, o, err
	}
	return k, o, s.st.TouchAPIKey(ctx, k.OrgID, k.ID)
}

// Sessions lists a user's live sessions.
func (s *Service) Sessions(ctx context.Context, userID int64) ([]model.Session, error) {
	return s.st.Sessions(ctx, userID)
}

// RevokeSession ends one of the user's sessions.
func (s *Service) RevokeSession(ctx context.Context, a Actor, sessionID int64) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.DeleteUserSession(ctx, a.UserID, sessionID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "session.revoked", fmtID(sessionID))
	})
}

// RevokeOtherSessions logs the user out everywhere but the current browser (keepToken).
func (s *Service) RevokeOtherSessions(ctx context.Context, a Actor, keepToken string) (int64, error) {
	var keep []byte
	if keepToken != "" {
		keep = auth.HashToken(keepToken)
	}
	var n int64
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		if n, err = tx.DeleteUserSessions(ctx, a.UserID, keep); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "sessions.revoked_all", "")
	})
	return n, err
}

// SessionID returns the id of the session behind a cookie token, to mark "this device".
func (s *Service) SessionID(ctx context.Context, token string) (int64, error) {
	row, err := s.st.SessionByToken(ctx, auth.HashToken(token))
	return row.ID, err
}
