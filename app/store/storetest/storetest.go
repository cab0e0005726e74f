// Package storetest gives each test its own migrated database on the shared test cluster.
package storetest

import (
	"context"
	"database/sql"
	"testing"

	"masteria/app/pgdev/pgtest"
	"masteria/app/store"
)

// URL returns the URL of a fresh database with the whole schema, dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	return pgtest.Database(t, store.SchemaKey(), func(ctx context.Context, url string) error {
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
