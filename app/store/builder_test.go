package store

import (
	"reflect"
	"testing"
)

func TestBuilderNumbersPlaceholders(t *testing.T) {
	b := newBuilder("SELECT 1 FROM contacts c WHERE c.org_id = $1", int64(7))
	b.where("c.owner_id = ?", int64(3))
	b.where("(c.search LIKE ? OR c.phone = ?)", "%ana%", "+5511")
	b.where("x ~ '^a?b$' AND y = ?", "z")
	b.add(" ORDER BY ", "c.id LIMIT ?", 50)
	want := "SELECT 1 FROM contacts c WHERE c.org_id = $1 AND c.owner_id = $2 AND (c.search LIKE $3 OR c.phone = $4) AND x ~ '^a?b$' AND y = $5 ORDER BY c.id LIMIT $6"
	if b.String() != want {
		t.Fatalf("got  %s\nwant %s", b.String(), want)
	}
	if !reflect.DeepEqual(b.args, []any{int64(7), int64(3), "%ana%", "+5511", "z", 50}) {
		t.Fatalf("args %v", b.args)
	}
}
