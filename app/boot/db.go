package boot

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"masteria/app/config"
	"masteria/app/pgdev"
	"masteria/app/store"
	"masteria/app/vault"
)

func openDB(url string) (*sql.DB, error) { return sql.Open("postgres", url) }

// DevDatabase is the database name inside the private cluster.
const DevDatabase = "masteria"

// ResolveDatabase fills cfg.DatabaseURL: when it is empty, the private cluster under DataDir
// is started (or reused, if a `dev` already runs it) and its database created.
func ResolveDatabase(ctx context.Context, cfg *config.Config) error {
	if cfg.DatabaseURL != "" {
		return nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	cl, err := pgdev.Start(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	if err := cl.EnsureDatabase(ctx, DevDatabase); err != nil {
		return err
	}
	cfg.DatabaseURL = cl.URL(DevDatabase)
	return nil
}

// Migrate brings the database at cfg.DatabaseURL up to date.
func Migrate(ctx context.Context, cfg config.Config) error {
	db, err := openDB(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	return store.Migrate(ctx, db)
}

// KeyRing parses MASTERIA_SECRET_KEY. In development without one, a key is generated once
// into DataDir/secret.key and reused, so sealed values survive restarts.
func KeyRing(cfg config.Config) (*vault.Ring, error) {
	if cfg.SecretKey != "" {
		return vault.ParseKeyRing(cfg.SecretKey)
	}
	if cfg.Production() {
		return nil, fmt.Errorf("MASTERIA_SECRET_KEY is required in production")
	}
	path := filepath.Join(cfg.DataDir, "secret.key")
	if b, err := os.ReadFile(path); err == nil {
		return vault.ParseKeyRing(strings.TrimSpace(string(b)))
	}
	key, err := vault.GenerateKey()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write dev key: %w", err)
	}
	return vault.ParseKeyRing(key)
}
