package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lib/pq"
)

// Keys unique to this run, so the templates are really built here; TestMain drops them after.
var (
	keyIsolated = "pgtest_iso_" + randomHex(4)
	keyOnce     = "pgtest_once_" + randomHex(4)
)

func TestMain(m *testing.M) {
	code := m.Run()
	dropTemplates(keyIsolated, keyOnce)
	os.Exit(code)
}

// dropTemplates removes this run's templates from the shared cluster, which outlives the tests.
func dropTemplates(keys ...string) {
	mu.Lock()
	db := admin
	mu.Unlock()
	if db == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, k := range keys {
		name := pq.QuoteIdentifier(templateName(k))
		// Only a non-template database can be dropped; the error of a missing one is fine.
		_, _ = db.ExecContext(ctx, "ALTER DATABASE "+name+" WITH IS_TEMPLATE false")
		_, _ = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
}

// migrator returns a migrate func that creates one table and counts its calls.
func migrator(calls *atomic.Int32) func(ctx context.Context, url string) error {
	return func(ctx context.Context, url string) error {
		calls.Add(1)
		db, err := sql.Open("postgres", url)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(ctx, `CREATE TABLE items (id serial PRIMARY KEY, embedding vector(3) NOT NULL)`)
		return err
	}
}

func TestDatabaseIsolated(t *testing.T) {
	var calls atomic.Int32
	var urls sync.Map
	t.Run("group", func(t *testing.T) {
		for _, name := range []string{"a", "b"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				url := Database(t, keyIsolated, migrator(&calls))
				urls.Store(name, url)
				db, err := sql.Open("postgres", url)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if _, err := db.Exec(`INSERT INTO items (embedding) VALUES ('[1,2,3]')`); err != nil {
					t.Fatalf("insert into the migrated table: %v", err)
				}
				var n int
				if err := db.QueryRow(`SELECT count(*) FROM items`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 1 {
					t.Fatalf("items has %d rows, want 1: databases are not isolated", n)
				}
			})
		}
	})
	a, _ := urls.Load("a")
	b, _ := urls.Load("b")
	if a == nil || a == b {
		t.Fatalf("urls %v and %v, want two different databases", a, b)
	}
	if got := calls.Load(); got != 1 {
		t.Fatalf("migrate ran %d times, want 1", got)
	}

	// The subtests have ended, so their databases are gone.
	_, db := cluster(t)
	var left int
	err := db.QueryRow(`SELECT count(*) FROM pg_database WHERE $1 LIKE '%/' || datname || '?%' OR $2 LIKE '%/' || datname || '?%'`,
		a, b).Scan(&left)
	if err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d test databases left after their tests ended", left)
	}
}

func TestTemplateBuiltOnce(t *testing.T) {
	var calls atomic.Int32
	t.Run("group", func(t *testing.T) {
		for i := range 6 {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				db, err := sql.Open("postgres", Database(t, keyOnce, migrator(&calls)))
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if err := db.Ping(); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
	if got := calls.Load(); got != 1 {
		t.Fatalf("migrate ran %d times across 6 parallel tests, want 1", got)
	}
}

func TestTemplateName(t *testing.T) {
	if got := templateName("abc_123"); got != "tpl_abc_123" {
		t.Fatalf("templateName = %q", got)
	}
	long := templateName("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	if len(long) > 63 || long == templateName("other") {
		t.Fatalf("templateName of a long key = %q", long)
	}
}
