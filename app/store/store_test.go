package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"masteria/app/model"
	"masteria/app/pgdev/pgtest"
	"masteria/app/store"
	"masteria/app/store/storetest"
)

func TestEveryQueryPreparesAndMissingRowsAreNotFound(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	if _, err := st.Org(ctx, 424242); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("missing org: want ErrNotFound, got %v", err)
	}
	if _, err := st.UserByEmail(ctx, "nobody@example.com"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("missing user: want ErrNotFound, got %v", err)
	}
}

func TestDuplicateEmailIsConflict(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	if _, err := st.CreateUser(ctx, "ana@loja.com.br", "Ana", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(ctx, "ana@loja.com.br", "Ana 2", nil, nil); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("want ErrConflict, got %v", err)
	}
}

func TestTxRollsBackEventsWithTheChange(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	o, err := st.CreateOrg(ctx, "Loja")
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = st.Tx(ctx, func(tx *store.Store) error {
		if _, err := tx.RenameOrg(ctx, o.ID, "Loja Nova"); err != nil {
			return err
		}
		if _, err := tx.InsertEvent(ctx, o.ID, "org.renamed", []byte(`{}`)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("want boom, got %v", err)
	}
	got, _ := st.Org(ctx, o.ID)
	evs, _ := st.EventsSince(ctx, o.ID, 0, 10)
	if got.Name != "Loja" || len(evs) != 0 {
		t.Fatalf("rollback kept changes: name %q, %d events", got.Name, len(evs))
	}
}

// TestMigrateTwiceAtOnce runs two migrations of an empty database side by side, as two
// instances starting together would: both succeed and the schema is whole.
func TestMigrateTwiceAtOnce(t *testing.T) {
	url := pgtest.Database(t, "empty", func(context.Context, string) error { return nil })
	ctx := context.Background()
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			db, err := sql.Open("postgres", url)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			errs <- store.Migrate(ctx, db)
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	st, err := store.Connect(ctx, url) // prepares every query: fails if a table is missing
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
}
