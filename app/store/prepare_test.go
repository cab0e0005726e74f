package store

import (
	"context"
	"database/sql"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jmoiron/sqlx"

	"masteria/app/pgdev/pgtest"
	"masteria/queries"
)

// TestBrokenQueryStopsStartWithItsName: a query that does not prepare fails New, and the
// error names the query and its file, so start-up stops with a useful message.
func TestBrokenQueryStopsStartWithItsName(t *testing.T) {
	url := pgtest.Database(t, SchemaKey(), func(ctx context.Context, url string) error {
		db, err := sql.Open("postgres", url)
		if err != nil {
			return err
		}
		defer db.Close()
		return Migrate(ctx, db)
	})
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fsys := fstest.MapFS{}
	files, _ := fs.Glob(queries.FS, "*.sql")
	for _, f := range files {
		b, _ := fs.ReadFile(queries.FS, f)
		if f == "orgs.sql" {
			// Break the table name of org-by-id only.
			head, tail, _ := strings.Cut(string(b), "-- name: org-by-id")
			b = []byte(head + "-- name: org-by-id" + strings.Replace(tail, "FROM orgs", "FROM orgz", 1))
		}
		fsys[f] = &fstest.MapFile{Data: b}
	}
	_, err = newFrom(context.Background(), db, fsys)
	if err == nil || !strings.Contains(err.Error(), "org-by-id") || !strings.Contains(err.Error(), "orgs.sql") {
		t.Fatalf("want an error naming org-by-id in orgs.sql, got %v", err)
	}
	if _, err := newFrom(context.Background(), db, queries.FS); err != nil {
		t.Fatalf("the real queries: %v", err)
	}
}
