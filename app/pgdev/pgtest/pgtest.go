// Package pgtest gives tests an isolated, migrated PostgreSQL database of their own.
//
// All test binaries of the repository share one cluster (started by pgdev, reused while it runs)
// in $MASTERIA_TEST_PG_DIR, default $TMPDIR/masteria-test-pg. Each distinct set of migrations is
// applied once into a template database; every test then gets a cheap clone of it, dropped when
// the test ends. The shared cluster keeps running after the tests so the next run starts fast.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"masteria/app/pgdev"
)

// DirEnv names the environment variable that overrides the shared test cluster's directory.
const DirEnv = "MASTERIA_TEST_PG_DIR"

var (
	mu        sync.Mutex
	shared    *pgdev.Cluster
	admin     *sql.DB             // connections to the "postgres" database of shared
	templates = map[string]bool{} // templates known to exist, so later tests skip the lookup
)

// Dir returns the directory of the shared test cluster.
func Dir() string {
	if d := os.Getenv(DirEnv); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "masteria-test-pg")
}

// Cluster returns the shared test cluster, starting it on first use.
func Cluster(t testing.TB) *pgdev.Cluster {
	t.Helper()
	c, _ := cluster(t)
	return c
}

func cluster(t testing.TB) (*pgdev.Cluster, *sql.DB) {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		return shared, admin
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := pgdev.Start(ctx, Dir(), pgdev.WithFastUnsafe())
	if err != nil {
		t.Fatalf("pgtest: start the shared test cluster in %s: %v", Dir(), err)
	}
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		t.Fatalf("pgtest: open: %v", err)
	}
	db.SetMaxIdleConns(2)
	shared, admin = c, db
	return shared, admin
}

// Database returns the URL of a new empty database cloned from a template that migrate has
// brought up to date. The template is built once per distinct key (callers pass a hash of their
// migrations) and reused by every test binary; the database is dropped when the test ends.
func Database(t testing.TB, key string, migrate func(ctx context.Context, url string) error) string {
	t.Helper()
	c, db := cluster(t)
	ctx := t.Context()
	tpl := templateName(key)

	if err := ensureTemplate(ctx, c, db, tpl, migrate); err != nil {
		t.Fatalf("pgtest: template for key %q: %v", key, err)
	}

	name := "t_" + randomHex(8)
	create := fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", pq.QuoteIdentifier(name), pq.QuoteIdentifier(tpl))
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		_, err = db.ExecContext(ctx, create)
		// 55006: something is connected to the template; it goes away shortly.
		if !isCode(err, "55006") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("pgtest: create test database from %s: %v", tpl, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop test database %s: %v", name, err)
		}
	})
	return c.URL(name)
}

// ensureTemplate builds template tpl unless it exists. The build runs under an advisory lock so
// parallel test binaries build it once, in a scratch database renamed when complete so a
// half-built template is never cloned.
func ensureTemplate(ctx context.Context, c *pgdev.Cluster, db *sql.DB, tpl string, migrate func(context.Context, string) error) error {
	mu.Lock()
	known := templates[tpl]
	mu.Unlock()
	if known {
		return nil
	}

	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lockKey(tpl)); err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	defer func() {
		// A fresh context: the lock must go even when ctx is done.
		unlockCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(unlockCtx, "SELECT pg_advisory_unlock($1)", lockKey(tpl)); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // drop the connection, and the lock with it
		}
	}()

	exists, err := databaseExists(ctx, conn, tpl)
	if err != nil {
		return err
	}
	if !exists {
		if err := buildTemplate(ctx, c, conn, tpl, migrate); err != nil {
			return err
		}
	}
	mu.Lock()
	templates[tpl] = true
	mu.Unlock()
	return nil
}

func buildTemplate(ctx context.Context, c *pgdev.Cluster, conn *sql.Conn, tpl string, migrate func(context.Context, string) error) error {
	scratch := tpl + "_new"
	qs := pq.QuoteIdentifier(scratch)
	// A scratch left by a builder that died is dropped and built again.
	if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+qs+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop %s: %w", scratch, err)
	}
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+qs); err != nil {
		return fmt.Errorf("create %s: %w", scratch, err)
	}
	if err := createVector(ctx, c.URL(scratch)); err != nil {
		return err
	}
	if err := migrate(ctx, c.URL(scratch)); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// Cloning and renaming both need the database free of connections; migrate may have left
	// some open. Refuse new ones, end the rest and wait until they are gone.
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+qs+" WITH ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("close %s: %w", scratch, err)
	}
	for {
		var n int
		err := conn.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = $1 AND pid <> pg_backend_pid()`, scratch).Scan(&n)
		if err != nil {
			return fmt.Errorf("disconnect %s: %w", scratch, err)
		}
		if n == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+qs+" RENAME TO "+pq.QuoteIdentifier(tpl)); err != nil {
		return fmt.Errorf("rename %s to %s: %w", scratch, tpl, err)
	}
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+pq.QuoteIdentifier(tpl)+" WITH IS_TEMPLATE true"); err != nil {
		return fmt.Errorf("mark %s as template: %w", tpl, err)
	}
	return nil
}

// createVector installs pgvector in the database at url, with its own short-lived connection.
func createVector(ctx context.Context, url string) error {
	db, err := sql.Open("postgres", url)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS vector"); err != nil {
		return fmt.Errorf("create extension vector (is pgvector installed? `go tool task setup`): %w", err)
	}
	return nil
}

func databaseExists(ctx context.Context, conn *sql.Conn, name string) (bool, error) {
	var exists bool
	err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("look up %s: %w", name, err)
	}
	return exists, nil
}

var plainKey = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)

// templateName is tpl_<key> when key is short and identifier-safe, else tpl_ and a hash of it:
// PostgreSQL silently truncates names longer than 63 bytes.
func templateName(key string) string {
	if plainKey.MatchString(key) {
		return "tpl_" + key
	}
	sum := sha256.Sum256([]byte(key))
	return "tpl_" + hex.EncodeToString(sum[:])[:40]
}

// lockKey maps a template name to the advisory lock guarding its build.
func lockKey(tpl string) int64 {
	h := fnv.New64a()
	h.Write([]byte("masteria/pgtest:" + tpl))
	return int64(h.Sum64())
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}

func isCode(err error, code string) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && string(pqErr.Code) == code
}
