package store_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"masteria/app/store"
	"masteria/app/store/storetest"
	"masteria/queries"
)

// TestCallStatsOrgsReadsTheChangedCallsOnly: over 100,000 calls of 40 orgs, a few hundred
// changed in the last ten minutes, the minute job's question (call-stats-orgs) is answered
// through calls_updated_org, reading only the calls changed (never a sequential scan of
// calls), and its answer is the orgs whose calls changed. The plan and its time without the index are
// logged beside.
func TestCallStatsOrgsReadsTheChangedCallsOnly(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	db := st.DB()
	var orgs []int64
	for i := range 40 {
		o, err := st.CreateOrg(ctx, "Org "+string(rune('A'+i)))
		if err != nil {
			t.Fatal(err)
		}
		orgs = append(orgs, o.ID)
	}
	// Call g belongs to org g % 40; the last 300 calls (of orgs 0–9 only) changed a minute
	// ago, the others over the past 90 days.
	if _, err := db.Exec(`
		INSERT INTO calls (org_id, call_id, direction, status, event_rank, created_at, updated_at)
		SELECT o.ids[1 + CASE WHEN g > 99700 THEN g % 10 ELSE g % 40 END], 'call_' || g, 'outbound', 'ended', 3, t, t
		FROM generate_series(1, 100000) g, (SELECT $1::bigint[] AS ids) o,
		     LATERAL (SELECT CASE WHEN g > 99700 THEN now() - interval '1 minute'
		                          ELSE now() - interval '1 hour' - (g % 90) * interval '1 day' - (g % 86400) * interval '1 second' END AS t) x`,
		pq.Array(orgs)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`VACUUM ANALYZE calls`); err != nil {
		t.Fatal(err)
	}
	all, err := store.ParseQueries(queries.FS)
	if err != nil {
		t.Fatal(err)
	}
	q := all["call-stats-orgs"].SQL
	since := time.Now().Add(-10 * time.Minute)
	explain := func(dropIndex bool) (string, float64) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if dropIndex {
			if _, err := tx.Exec(`DROP INDEX calls_updated_org`); err != nil {
				t.Fatal(err)
			}
		}
		var out []byte
		if err := tx.QueryRow(`EXPLAIN (ANALYZE, FORMAT JSON) `+q, since).Scan(&out); err != nil {
			t.Fatal(err)
		}
		var p []struct {
			Plan          map[string]any `json:"Plan"`
			ExecutionTime float64        `json:"Execution Time"`
		}
		if err := json.Unmarshal(out, &p); err != nil || len(p) == 0 {
			t.Fatalf("plan %s: %v", out, err)
		}
		return nodes(p[0].Plan), p[0].ExecutionTime
	}
	with, ms := explain(false)
	without, msWithout := explain(true)
	t.Logf("with calls_updated_org: %s, %.2f ms; without: %s, %.2f ms", with, ms, without, msWithout)
	if !strings.Contains(with, "Scan calls_updated_org") || strings.Contains(with, "Seq Scan") {
		t.Errorf("plan %s", with)
	}
	got, err := st.CallStatsOrgs(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, orgs[:10]) {
		t.Errorf("orgs %v, want %v", got, orgs[:10])
	}
}

// nodes writes a plan's nodes as "Type index/relation > child …".
func nodes(p map[string]any) string {
	s, _ := p["Node Type"].(string)
	if ix, ok := p["Index Name"].(string); ok {
		s += " " + ix
	} else if rel, ok := p["Relation Name"].(string); ok {
		s += " " + rel
	}
	kids, _ := p["Plans"].([]any)
	var parts []string
	for _, k := range kids {
		if m, ok := k.(map[string]any); ok {
			parts = append(parts, nodes(m))
		}
	}
	if len(parts) > 0 {
		s += " > (" + strings.Join(parts, ", ") + ")"
	}
	return s
}
