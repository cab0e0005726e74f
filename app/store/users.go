package store

import (
	"context"
	"fmt"

	"masteria/app/model"
)

// CreateUser adds a user; an email already taken is model.ErrConflict.
func (s *Store) CreateUser(ctx context.Context, email, name string, passwordHash, locale *string) (model.User, error) {
	var u model.User
	err := s.get(ctx, s.q.UserCreate, &u, email, name, passwordHash, locale)
	if isUnique(err) {
		return u, fmt.Errorf("store: create user: %w", model.ErrConflict)
	}
	if err != nil {
		return u, fmt.Errorf("store: create user: %w", err)
	}
	return u, nil
}

// User returns a user by id.
func (s *Store) User(ctx context.Context, userID int64) (model.User, error) {
	var u model.User
	if err := s.get(ctx, s.q.UserByID, &u, userID); err != nil {
		return u, fmt.Errorf("store: user %d: %w", userID, err)
	}
	return u, nil
}

// UserByEmail returns the user with a normalized email.
func (s *Store) UserByEmail(ctx context.Context, email string) (model.User, error) {
	var u model.User
	if err := s.get(ctx, s.q.UserByEmail, &u, email); err != nil {
		return u, fmt.Errorf("store: user by email: %w", err)
	}
	return u, nil
}

// UpdateProfile saves a user's name, language (nil: follow the browser) and theme.
func (s *Store) UpdateProfile(ctx context.Context, userID int64, name string, locale *string, theme string) error {
	if _, err := s.exec(ctx, s.q.UserUpdateProfile, userID, name, locale, theme); err != nil {
		return fmt.Errorf("store: update profile %d: %w", userID, err)
	}
	return nil
}

// SetUserLocale saves the language a user chose.
func (s *Store) SetUserLocale(ctx context.Context, userID int64, locale string) error {
	if _, err := s.exec(ctx, s.q.UserSetLocale, userID, locale); err != nil {
		return fmt.Errorf("store: set locale %d: %w", userID, err)
	}
	return nil
}

// SetUserTheme saves the colour theme a user picked.
func (s *Store) SetUserTheme(ctx context.Context, userID int64, theme string) error {
	if _, err := s.exec(ctx, s.q.UserSetTheme, userID, theme); err != nil {
		return fmt.Errorf("store: set theme %d: %w", userID, err)
	}
	return nil
}

// SetPassword replaces a user's password hash.
func (s *Store) SetPassword(ctx context.Context, userID int64, hash string) error {
	if _, err := s.exec(ctx, s.q.UserSetPassword, userID, hash); err != nil {
		return fmt.Errorf("store: set password %d: %w", userID, err)
	}
	return nil
}

// UserIDByIdentity finds the user linked to a Google or Facebook account.
func (s *Store) UserIDByIdentity(ctx context.Context, provider, subject string) (int64, error) {
	var id int64
	if err := s.get(ctx, s.q.UserIdentity, &id, provider, subject); err != nil {
		return 0, fmt.Errorf("store: identity %s: %w", provider, err)
	}
	return id, nil
}

// LinkIdentity ties a provider account to a user; linking twice is a no-op.
func (s *Store) LinkIdentity(ctx context.Context, provider, subject string, userID int64, email string) error {
	if _, err := s.exec(ctx, s.q.UserIdentityCreate, provider, subject, userID, email); err != nil {
		return fmt.Errorf("store: link identity: %w", err)
	}
	return nil
}
