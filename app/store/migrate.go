package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"sync"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"

	"masteria/migrations"
)

// migrateLockKey is the advisory lock that lets only one process migrate at a time;
// a second `masteria migrate` waits, then finds nothing left to do.
const migrateLockKey = 0x6d617374657269 // "masteri"

// Migrate brings the schema up to date: our goose migrations, then River's own tables.
// It is idempotent and safe to run from several processes at once.
func Migrate(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrateLockKey); err != nil {
		return fmt.Errorf("store: migrate: lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLockKey) //nolint:errcheck // the lock also ends with the connection

	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for _, r := range results {
		slog.Info("migrated", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
	}

	m, err := rivermigrate.New(riverdatabasesql.New(db), nil)
	if err != nil {
		return fmt.Errorf("store: migrate river: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("store: migrate river: %w", err)
	}
	for _, v := range res.Versions {
		slog.Info("migrated river", "version", v.Version, "took", v.Duration)
	}
	return nil
}

// MigrationState says how far the schema is from the migrations this binary carries.
type MigrationState struct {
	Current, Latest int64
	RiverPending    bool
}

// Migrations reads the schema's version without changing anything, for /health.
func Migrations(ctx context.Context, db *sql.DB) (MigrationState, error) {
	var st MigrationState
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		return st, fmt.Errorf("store: migrations: %w", err)
	}
	if st.Current, st.Latest, err = p.GetVersions(ctx); err != nil {
		return st, fmt.Errorf("store: migrations: %w", err)
	}
	m, err := rivermigrate.New(riverdatabasesql.New(db), nil)
	if err != nil {
		return st, fmt.Errorf("store: migrations: %w", err)
	}
	existing, err := m.ExistingVersions(ctx)
	if err != nil {
		return st, fmt.Errorf("store: river migrations: %w", err)
	}
	st.RiverPending = len(existing) < len(m.AllVersions())
	return st, nil
}

// SchemaKey is a short hash of every migration and of River's version: test databases are
// cloned from a template built once per key, so a changed migration builds a new one.
func SchemaKey() string {
	schemaKeyOnce.Do(func() {
		h := sha256.New()
		names, _ := fs.Glob(migrations.FS, "*.sql")
		sort.Strings(names)
		for _, n := range names {
			b, _ := fs.ReadFile(migrations.FS, n)
			h.Write([]byte(n))
			h.Write(b)
		}
		m, _ := rivermigrate.New(riverdatabasesql.New(nil), nil)
		if m != nil {
			fmt.Fprint(h, len(m.AllVersions()))
		}
		schemaKey = "s" + hex.EncodeToString(h.Sum(nil))[:24]
	})
	return schemaKey
}

var (
	schemaKeyOnce sync.Once
	schemaKey     string
)
