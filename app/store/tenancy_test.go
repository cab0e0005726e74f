package store

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"masteria/migrations"
	"masteria/queries"
)

// tenantTables reads the migrations and returns every table that has an org_id column:
// those are the tables whose rows belong to one org.
func tenantTables(t *testing.T) map[string]bool {
	t.Helper()
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	create := regexp.MustCompile(`(?is)CREATE TABLE\s+(?:IF NOT EXISTS\s+)?([a-z_]+)\s*\((.*?)\n\);`)
	alter := regexp.MustCompile(`(?i)ALTER TABLE\s+([a-z_]+)\s+ADD COLUMN\s+(?:IF NOT EXISTS\s+)?org_id\b`)
	tables := map[string]bool{}
	for _, f := range files {
		b, _ := fs.ReadFile(migrations.FS, f)
		up, _, _ := strings.Cut(string(b), "-- +goose Down")
		for _, m := range create.FindAllStringSubmatch(up, -1) {
			if regexp.MustCompile(`(?m)^\s*org_id\s`).MatchString(m[2]) {
				tables[strings.ToLower(m[1])] = true
			}
		}
		for _, m := range alter.FindAllStringSubmatch(up, -1) {
			tables[strings.ToLower(m[1])] = true
		}
	}
	return tables
}

// violations returns the queries that touch a tenant table without an org_id predicate,
// unless they say why they span orgs with a `-- cross-org:` comment.
func violations(tables map[string]bool, all map[string]Query) []string {
	ref := regexp.MustCompile(`\b(?:from|join|into|update)\s+([a-z_]+)`)
	orgID := regexp.MustCompile(`\borg_id\b`)
	var out []string
	for _, q := range all {
		if q.CrossOrg {
			continue
		}
		sql := strings.ToLower(q.SQL)
		for _, m := range ref.FindAllStringSubmatch(sql, -1) {
			if tables[m[1]] && !orgID.MatchString(sql) {
				out = append(out, q.Name+" ("+q.File+") queries tenant table "+m[1]+" without org_id")
				break
			}
		}
	}
	return out
}

func TestTenantQueriesFilterByOrg(t *testing.T) {
	tables := tenantTables(t)
	for _, want := range []string{"memberships", "invites", "api_keys", "audit_log", "events", "org_secrets"} {
		if !tables[want] {
			t.Fatalf("tenant table %s not found in migrations: the migration parser is broken", want)
		}
	}
	all, err := ParseQueries(queries.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range violations(tables, all) {
		t.Error(v)
	}
}

// TestTenantCheckCatchesAMissingFilter makes sure the check above can fail.
func TestTenantCheckCatchesAMissingFilter(t *testing.T) {
	tables := tenantTables(t)
	all, err := ParseQueries(fstest.MapFS{"x.sql": {Data: []byte(
		"-- name: leaky\nSELECT name FROM api_keys WHERE id = $1;\n" +
			"-- name: joined\nSELECT u.name FROM users u JOIN memberships m ON m.user_id = u.id;\n" +
			"-- name: fine\nSELECT name FROM api_keys WHERE org_id = $1;\n" +
			"-- name: spans\n-- cross-org: retention\nDELETE FROM events;\n")}})
	if err != nil {
		t.Fatal(err)
	}
	got := violations(tables, all)
	if len(got) != 2 || !strings.Contains(strings.Join(got, "|"), "leaky") || !strings.Contains(strings.Join(got, "|"), "joined") {
		t.Fatalf("want leaky and joined flagged, got %v", got)
	}
}

func TestParseQueriesRejectsDuplicates(t *testing.T) {
	fsys := fstest.MapFS{"a.sql": {Data: []byte("-- name: x\nSELECT 1;\n")}, "b.sql": {Data: []byte("-- name: x\nSELECT 2;\n")}}
	if _, err := ParseQueries(fsys); err == nil || !strings.Contains(err.Error(), "defined twice") {
		t.Fatalf("want a duplicate error, got %v", err)
	}
}
