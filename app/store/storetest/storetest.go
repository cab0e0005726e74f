// Package storetest gives each test its own migrated database on the shared test cluster.
package storetest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"sort"
	"sync"
	"testing"

	"masteria/app/pgdev/pgtest"
	"masteria/app/store"
	"masteria/migrations"
)

var (
	keyOnce sync.Once
	key     string
)

// schemaKey hashes the migrations, so a changed migration builds a new template.
func schemaKey() string {
	keyOnce.Do(func() {
		h := sha256.New()
		names, _ := fs.Glob(migrations.FS, "*.sql")
		sort.Strings(names)
		for _, n := range names {
			b, _ := fs.ReadFile(migrations.FS, n)
			h.Write([]byte(n))
			h.Write(b)
		}
		h.Write([]byte(riverVersion))
		key = "s" + hex.EncodeToString(h.Sum(nil))[:24]
	})
	return key
}

// riverVersion is part of the template key: a River upgrade brings new River migrations.
const riverVersion = "river-v0.51.2"

// URL returns the URL of a fresh database with the whole schema, dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	return pgtest.Database(t, schemaKey(), func(ctx context.Context, url string) error {
		db, err := sql.Open("postgres", url)
		if err != nil {
			return err
		}
		defer db.Close()
		return store.Migrate(ctx, db)
	})
}

// New returns a store on a fresh database, and the database's URL.
func New(t testing.TB) (*store.Store, string) {
	t.Helper()
	url := URL(t)
	st, err := store.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st, url
}
