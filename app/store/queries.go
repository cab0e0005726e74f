package store

import (
	"bufio"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
)

// Query is one named query read from queries/*.sql.
type Query struct {
	Name string
	File string
	SQL  string
	// CrossOrg is set by a `-- cross-org: why` comment: the query spans orgs on purpose
	// (a login, an invite link, retention), so the tenant check lets it through.
	CrossOrg bool
	// Fragment is set by a `-- fragment: what` comment: the start of a query that the store
	// completes with filters (a list with optional conditions), or that queries share
	// through `-- include: name`; it is not prepared alone.
	Fragment bool
}

// includeLine is a line `-- include: name`: the text of fragment name goes there, so that
// queries built on the same part (a WITH of common tables) share one copy of it.
var includeLine = regexp.MustCompile(`^\s*--\s*include:\s*([a-z0-9-]+)\s*$`)

var nameLine = regexp.MustCompile(`^--\s*name:\s*([a-z0-9-]+)\s*$`)

// ParseQueries reads every *.sql file of fsys into queries keyed by name.
// A name used twice is an error, so one query cannot silently shadow another.
func ParseQueries(fsys fs.FS) (map[string]Query, error) {
	files, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	out := map[string]Query{}
	for _, file := range files {
		b, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, err
		}
		var cur *Query
		var body strings.Builder
		flush := func() error {
			if cur == nil {
				return nil
			}
			cur.SQL = strings.TrimSpace(body.String())
			if cur.SQL == "" {
				return fmt.Errorf("store: query %s in %s is empty", cur.Name, file)
			}
			if _, dup := out[cur.Name]; dup {
				return fmt.Errorf("store: query %s defined twice (again in %s)", cur.Name, file)
			}
			out[cur.Name] = *cur
			body.Reset()
			return nil
		}
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			line := sc.Text()
			if m := nameLine.FindStringSubmatch(line); m != nil {
				if err := flush(); err != nil {
					return nil, err
				}
				cur = &Query{Name: m[1], File: file}
				continue
			}
			if cur == nil {
				continue
			}
			if m := includeLine.FindStringSubmatch(line); m != nil {
				body.WriteString("\x00include:" + m[1] + "\n") // filled in once every file is read
				continue
			}
			trimmed := strings.TrimSpace(line)
			if strings.HasPrefix(trimmed, "--") {
				switch comment := strings.TrimSpace(strings.TrimPrefix(trimmed, "--")); {
				case strings.HasPrefix(comment, "cross-org:"):
					cur.CrossOrg = true
				case strings.HasPrefix(comment, "fragment:"):
					cur.Fragment = true
				}
				continue
			}
			body.WriteString(line)
			body.WriteByte('\n')
		}
		if err := flush(); err != nil {
			return nil, err
		}
	}
	for name, q := range out {
		if !strings.Contains(q.SQL, "\x00include:") {
			continue
		}
		lines := strings.Split(q.SQL, "\n")
		for i, l := range lines {
			inc, ok := strings.CutPrefix(l, "\x00include:")
			if !ok {
				continue
			}
			f, found := out[inc]
			if !found || !f.Fragment || strings.Contains(f.SQL, "\x00include:") {
				return nil, fmt.Errorf("store: query %s in %s includes %s, which is not a fragment", name, q.File, inc)
			}
			lines[i] = strings.TrimSuffix(f.SQL, ";")
		}
		q.SQL = strings.Join(lines, "\n")
		out[name] = q
	}
	return out, nil
}
