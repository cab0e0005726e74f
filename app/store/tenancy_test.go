package store

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
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

// violations returns the queries in which a tenant table is not constrained by its own
// org_id (alias.org_id, table.org_id, or a bare org_id when it is the only tenant table of
// its statement) in a WHERE, ON or HAVING condition, or, for an INSERT, in its column list.
// An org_id only in a select list, a SET, or on another table does not count. Queries that
// say why they span orgs with a `-- cross-org:` comment are let through.
func violations(tables map[string]bool, all map[string]Query) []string {
	var out []string
	for _, q := range all {
		if q.CrossOrg {
			continue
		}
		for _, table := range unconstrained(tables, q.SQL) {
			out = append(out, q.Name+" ("+q.File+") does not constrain tenant table "+table+" by its own org_id")
		}
	}
	sort.Strings(out)
	return out
}

// sqlToken matches the tokens the check needs: comments, strings and quoted names (to skip
// them), names with their qualifiers, parameters, parentheses, and single symbols.
var sqlToken = regexp.MustCompile(`(?s)--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|"[^"]*"|[a-z_][a-z0-9_$]*(?:\.[a-z_][a-z0-9_]*)*|\$[0-9]+|[0-9.]+|::|[(),;]|[^\s]`)

// scope is one statement level: its own tokens, with each nested statement (a subquery, a
// CTE body) replaced by the token "(sub)" and kept apart in subs.
type scope struct {
	toks []string
	subs []*scope
}

// parseScopes splits sql into statement levels. A parenthesis that starts with select,
// with, insert, update, delete or values opens a new level; any other (a function's
// arguments, a column list, a grouped condition) stays in its level.
func parseScopes(sql string) *scope {
	var toks []string
	for _, t := range sqlToken.FindAllString(strings.ToLower(sql), -1) {
		switch {
		case strings.HasPrefix(t, "--"), strings.HasPrefix(t, "/*"):
			continue
		case strings.HasPrefix(t, "'"):
			t = "'…'"
		case strings.HasPrefix(t, `"`):
			t = strings.Trim(t, `"`)
		}
		toks = append(toks, t)
	}
	root := &scope{}
	stack := []*scope{root}
	// opened says, for each open parenthesis, whether it opened a statement level.
	var opened []bool
	for i, t := range toks {
		cur := stack[len(stack)-1]
		switch t {
		case "(":
			next := ""
			if i+1 < len(toks) {
				next = toks[i+1]
			}
			switch next {
			case "select", "with", "insert", "update", "delete", "values":
				sub := &scope{}
				cur.subs = append(cur.subs, sub)
				cur.toks = append(cur.toks, "(sub)")
				stack = append(stack, sub)
				opened = append(opened, true)
			default:
				cur.toks = append(cur.toks, t)
				opened = append(opened, false)
			}
		case ")":
			if len(opened) > 0 && opened[len(opened)-1] {
				stack = stack[:len(stack)-1]
			} else {
				cur.toks = append(cur.toks, t)
			}
			if len(opened) > 0 {
				opened = opened[:len(opened)-1]
			}
		default:
			cur.toks = append(cur.toks, t)
		}
	}
	return root
}

// sqlWords are keywords that cannot be a table's alias.
var sqlWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`where on join left right inner full outer cross lateral natural using group order
		limit offset returning window for having set do union except intersect values select from as and or not
		default on conflict when then else end case is in exists`) {
		sqlWords[w] = true
	}
}

// ends is where a condition (WHERE, ON, HAVING) stops.
var ends = map[string]bool{"join": true, "left": true, "right": true, "inner": true, "full": true, "cross": true,
	"natural": true, "where": true, "group": true, "order": true, "limit": true, "offset": true, "returning": true,
	"window": true, "for": true, "having": true, "set": true, "do": true, "union": true, "except": true,
	"intersect": true, "values": true, "from": true, ";": true}

type tableRef struct{ table, alias string }

// unconstrained returns the tenant tables of sql, at any level, not constrained by their
// own org_id.
func unconstrained(tables map[string]bool, sql string) []string {
	var out []string
	var walk func(s *scope)
	walk = func(s *scope) {
		for _, seg := range segments(s.toks) {
			out = append(out, checkSegment(tables, seg)...)
		}
		for _, sub := range s.subs {
			walk(sub)
		}
	}
	walk(parseScopes(sql))
	return out
}

// segments splits one level into its statements: a SELECT of a UNION, the INSERT and the
// SELECT that feeds it. An update after DO, FOR or KEY (ON CONFLICT DO UPDATE, FOR UPDATE)
// does not start one.
func segments(toks []string) [][]string {
	var out [][]string
	start := 0
	for i, t := range toks {
		starts := t == "select" || t == "insert" || t == "delete" || t == ";" ||
			(t == "update" && (i == 0 || (toks[i-1] != "do" && toks[i-1] != "for" && toks[i-1] != "key")))
		if starts && i > start {
			out = append(out, toks[start:i])
			start = i
		}
	}
	return append(out, toks[start:])
}

// checkSegment returns the tenant tables one statement reads or writes without its own
// org_id in a condition.
func checkSegment(tables map[string]bool, toks []string) []string {
	var refs []tableRef
	var cond []string           // tokens of the WHERE, ON and HAVING conditions
	insertCols := []string(nil) // an INSERT's column list
	depth := 0                  // inside a function's or a condition's parentheses
	inCond := false
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t {
		case "(":
			depth++
		case ")":
			depth--
		}
		if inCond && depth == 0 && ends[t] && !(t == "from" && i > 0 && toks[i-1] == "distinct") {
			inCond = false
		}
		if inCond {
			cond = append(cond, t)
			continue
		}
		if depth > 0 {
			continue
		}
		switch t {
		case "where", "on", "having":
			if t == "on" && i+1 < len(toks) && toks[i+1] == "conflict" {
				continue
			}
			inCond = true
		case "from", "join", "into", "update", "using":
			if i > 0 && (t == "update" && (toks[i-1] == "do" || toks[i-1] == "for" || toks[i-1] == "key") ||
				t == "from" && toks[i-1] == "distinct") {
				continue
			}
			j := i + 1
			for {
				for j < len(toks) && (toks[j] == "lateral" || toks[j] == "only") {
					j++
				}
				if j >= len(toks) || toks[j] == "(" || toks[j] == "(sub)" || sqlWords[toks[j]] {
					break
				}
				ref := tableRef{table: toks[j], alias: toks[j]}
				j++
				if j < len(toks) && toks[j] == "as" {
					j++
				}
				if j < len(toks) && isName(toks[j]) && !sqlWords[toks[j]] {
					ref.alias = toks[j]
					j++
				}
				refs = append(refs, ref)
				if t == "into" && j < len(toks) && toks[j] == "(" {
					for k := j + 1; k < len(toks) && toks[k] != ")"; k++ {
						insertCols = append(insertCols, toks[k])
					}
				}
				if j < len(toks) && toks[j] == "," && t == "from" {
					j++
					continue
				}
				break
			}
		}
	}
	tenants := 0
	for _, r := range refs {
		if tables[r.table] {
			tenants++
		}
	}
	var out []string
	for _, r := range refs {
		if !tables[r.table] {
			continue
		}
		ok := slices.Contains(cond, r.alias+".org_id") || (tenants == 1 && slices.Contains(cond, "org_id"))
		if len(insertCols) > 0 && r == refs[0] && slices.Contains(insertCols, "org_id") {
			ok = true
		}
		if !ok {
			out = append(out, r.table)
		}
	}
	return out
}

var nameRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

func isName(t string) bool { return nameRE.MatchString(t) }

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

// TestTenantCheckCatchesAMissingFilter makes sure the check above can fail: an org_id in
// the select list, in a SET, on another table, or in the outer query only does not
// constrain a table.
func TestTenantCheckCatchesAMissingFilter(t *testing.T) {
	tables := tenantTables(t)
	bad := map[string]string{
		"no org_id":          "SELECT name FROM api_keys WHERE id = $1",
		"joined":             "SELECT u.name FROM users u JOIN memberships m ON m.user_id = u.id",
		"select list only":   "SELECT org_id, name FROM api_keys WHERE id = $1",
		"another table's":    "SELECT k.name FROM api_keys k JOIN memberships m ON m.user_id = k.created_by WHERE m.org_id = $1",
		"ambiguous bare":     "SELECT l.title FROM leads l JOIN contacts c ON c.id = l.contact_id WHERE org_id = $1",
		"outer only":         "SELECT c.name FROM contacts c WHERE c.org_id = $1 AND c.id IN (SELECT contact_id FROM leads WHERE id = $2)",
		"subquery only":      "SELECT c.name FROM contacts c WHERE c.id IN (SELECT contact_id FROM leads WHERE org_id = $1)",
		"in a set":           "UPDATE contacts SET org_id = $1 WHERE id = $2",
		"insert without":     "INSERT INTO tags (name) VALUES ($1)",
		"insert, conflict":   "INSERT INTO tags (name) VALUES ($1) ON CONFLICT (org_id, name) DO NOTHING",
		"insert from leaky":  "INSERT INTO tags (org_id, name) SELECT $1, name FROM segments WHERE id = $2",
		"union half":         "SELECT id FROM tags WHERE org_id = $1 UNION ALL SELECT id FROM segments WHERE id = $2",
		"cte body":           "WITH x AS (SELECT id FROM tags WHERE name = $2) SELECT c.id FROM contacts c, x WHERE c.org_id = $1",
		"delete using":       "DELETE FROM tags t USING contacts c WHERE t.org_id = $1 AND c.id = $2",
		"scalar in the list": "SELECT (SELECT count(*) FROM leads WHERE contact_id = c.id), c.name FROM contacts c WHERE c.org_id = $1",
		"filter clause":      "SELECT count(*) FILTER (WHERE org_id = $1) FROM contacts",
		"comma join":         "SELECT t.name FROM tags t, contacts c WHERE c.org_id = $1 AND c.id = $2",
	}
	good := map[string]string{
		"bare":           "SELECT name FROM api_keys WHERE org_id = $1",
		"qualified":      "SELECT k.name FROM api_keys AS k WHERE k.org_id = $1",
		"joined":         "SELECT l.title FROM leads l JOIN contacts c ON c.id = l.contact_id AND c.org_id = l.org_id WHERE l.org_id = $1",
		"non-tenant":     "SELECT u.name FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.org_id = $1",
		"grouped":        "SELECT id FROM tags WHERE (org_id = $1 OR false) AND name = $2",
		"insert":         "INSERT INTO tags (org_id, name) VALUES ($1, $2) ON CONFLICT (org_id, name) DO UPDATE SET name = excluded.name RETURNING id",
		"insert select":  "INSERT INTO tags (org_id, name) SELECT $1, s.name FROM segments s WHERE s.org_id = $1",
		"update from":    "UPDATE contacts AS c SET name = t.name FROM tags t WHERE c.org_id = $1 AND t.org_id = c.org_id",
		"distinct from":  "SELECT id FROM tags WHERE org_id = $1 AND name IS DISTINCT FROM $2",
		"locking":        "SELECT id FROM tags WHERE org_id = $1 FOR UPDATE",
		"lateral":        "SELECT x.* FROM stages s CROSS JOIN LATERAL (SELECT l.id FROM leads l WHERE l.org_id = s.org_id) x WHERE s.org_id = $1",
		"string literal": "SELECT id FROM tags WHERE org_id = $1 AND name <> 'from contacts'",
	}
	var b strings.Builder
	for name, sql := range bad {
		fmt.Fprintf(&b, "-- name: bad-%s\n%s;\n", slug(name), sql)
	}
	for name, sql := range good {
		fmt.Fprintf(&b, "-- name: good-%s\n%s;\n", slug(name), sql)
	}
	b.WriteString("-- name: spans\n-- cross-org: retention\nDELETE FROM events;\n")
	all, err := ParseQueries(fstest.MapFS{"x.sql": {Data: []byte(b.String())}})
	if err != nil {
		t.Fatal(err)
	}
	flagged := map[string]bool{}
	for _, v := range violations(tables, all) {
		name, _, _ := strings.Cut(v, " (")
		flagged[name] = true
	}
	for name := range bad {
		if !flagged["bad-"+slug(name)] {
			t.Errorf("not flagged: %s: %s", name, bad[name])
		}
	}
	for name := range good {
		if flagged["good-"+slug(name)] {
			t.Errorf("flagged: %s: %s", name, good[name])
		}
	}
	if flagged["spans"] {
		t.Error("a cross-org query was flagged")
	}
}

// slug makes a test case's name a query name.
func slug(s string) string { return regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(s, "-") }

func TestParseQueriesRejectsDuplicates(t *testing.T) {
	fsys := fstest.MapFS{"a.sql": {Data: []byte("-- name: x\nSELECT 1;\n")}, "b.sql": {Data: []byte("-- name: x\nSELECT 2;\n")}}
	if _, err := ParseQueries(fsys); err == nil || !strings.Contains(err.Error(), "defined twice") {
		t.Fatalf("want a duplicate error, got %v", err)
	}
}

func TestParseQueriesIncludesFragments(t *testing.T) {
	fsys := fstest.MapFS{
		"a.sql": {Data: []byte("-- name: uses\n-- include: common\nSELECT n FROM t;\n")},
		"b.sql": {Data: []byte("-- name: common\n-- fragment: shared\nWITH t AS (SELECT 1 AS n);\n")},
	}
	all, err := ParseQueries(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if got := all["uses"].SQL; got != "WITH t AS (SELECT 1 AS n)\nSELECT n FROM t;" {
		t.Errorf("uses: %q", got)
	}
	for name, data := range map[string]string{
		"unknown":      "-- name: uses\n-- include: nothing\nSELECT 1;\n",
		"not fragment": "-- name: uses\n-- include: plain\nSELECT 1;\n-- name: plain\nSELECT 2;\n",
	} {
		if _, err := ParseQueries(fstest.MapFS{"x.sql": {Data: []byte(data)}}); err == nil || !strings.Contains(err.Error(), "not a fragment") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
