package store_test

import (
	"context"
	"encoding/json"
	"fmt"
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

// TestCallStatsLiveMatchesStored: the figures a page works out from the calls
// (call-stats-live) are the figures the minute job stores and the page then reads
// (call-stats-compute, call-stats), row for row: both come from call-day-figures.
func TestCallStatsLiveMatchesStored(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	o, err := st.CreateOrg(ctx, "Loja")
	if err != nil {
		t.Fatal(err)
	}
	db := st.DB()
	for _, q := range []string{
		`INSERT INTO voice_numbers (org_id, phone_number, step, status) SELECT $1, '+55113000100' || g, 'ready', 'ready' FROM generate_series(0, 2) g`,
		`INSERT INTO campaigns (org_id, name, status) SELECT $1, 'Campanha ' || g, 'completed' FROM generate_series(1, 3) g`,
		`INSERT INTO calls (org_id, call_id, direction, agent_id, agent_name, number_id, campaign_id, status, event_rank,
			disconnection_reason, duration_ms, in_voicemail, successful, sentiment, cost_cents, created_at)
		 SELECT $1, 'call_' || g, 'outbound', 'agent_' || (g % 3), 'Agente ' || (g % 3),
			(SELECT id FROM voice_numbers n WHERE n.org_id = $1 ORDER BY id OFFSET g % 3 LIMIT 1),
			CASE WHEN g % 4 = 0 THEN NULL ELSE (SELECT id FROM campaigns p WHERE p.org_id = $1 ORDER BY id OFFSET g % 3 LIMIT 1) END,
			CASE WHEN g % 7 = 0 THEN 'not_connected' ELSE 'ended' END, 3,
			(ARRAY['user_hangup', 'voicemail_reached', 'dial_no_answer', 'dial_busy'])[1 + g % 4], (g % 300) * 1000,
			CASE WHEN g % 5 = 0 THEN NULL ELSE g % 3 = 0 END, CASE WHEN g % 6 = 0 THEN NULL ELSE g % 2 = 0 END,
			(ARRAY['Positive', 'Neutral', 'Negative', 'Unknown', ''])[1 + g % 5], (g % 13)::numeric / 4,
			now() - (g % 9) * interval '1 day' - (g % 1440) * interval '1 minute'
		 FROM generate_series(1, 2000) g`,
		`UPDATE calls SET updated_at = created_at WHERE org_id = $1`,
	} {
		if _, err := db.Exec(q, o.ID); err != nil {
			t.Fatal(err)
		}
	}
	zone := "America/Sao_Paulo"
	loc, _ := time.LoadLocation(zone)
	today := time.Now().In(loc)
	first, last := today.AddDate(0, 0, -10), today
	day := func(t time.Time) time.Time { d, _ := time.Parse(time.DateOnly, t.Format(time.DateOnly)); return d }
	live, err := st.CallsAnalytics(ctx, o.ID, day(first), day(last), zone)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := st.RefreshCallStats(ctx, o.ID, day(first), day(last), zone); err != nil || n != 11 {
		t.Fatalf("refresh: %d days, %v", n, err)
	}
	var marks int
	_ = db.Get(&marks, `SELECT count(*) FROM call_stats_daily WHERE org_id = $1`, o.ID)
	stored, err := st.CallsAnalytics(ctx, o.ID, day(first), day(last), zone)
	if err != nil {
		t.Fatal(err)
	}
	// A day still out of date comes live beside the stored ones (the service adds them up).
	key := func(rows []store.CallStats) []string {
		sum := map[string]store.CallStats{}
		for _, r := range rows {
			k := r.Dim + "/" + r.Key
			a := sum[k]
			a.Dim, a.Key, a.Label = r.Dim, r.Key, r.Label
			a.Calls += r.Calls
			a.Answered += r.Answered
			a.Voicemail += r.Voicemail
			a.DurationMS += r.DurationMS
			a.Analysed += r.Analysed
			a.Successful += r.Successful
			a.Positive += r.Positive
			a.Neutral += r.Neutral
			a.Negative += r.Negative
			a.CostCents += r.CostCents
			sum[k] = a
		}
		var out []string
		for _, r := range sum {
			if r.Dim == "day" && r.Calls == 0 {
				continue // a day without calls: stored as zeros, absent live
			}
			out = append(out, fmt.Sprintf("%+v", r))
		}
		slices.Sort(out)
		return out
	}
	l, s := key(live), key(stored)
	if len(l) < 20 || !slices.Equal(l, s) {
		t.Errorf("live %d rows, stored %d (%d stored rows):\nlive   %v\nstored %v", len(l), len(s), marks, l, s)
	}
}
