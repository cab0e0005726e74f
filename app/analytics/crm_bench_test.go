package analytics

import (
	"context"
	"net/url"
	"sort"
	"testing"
	"time"

	"masteria/app/store/storetest"
)

// BenchmarkAnalyticsCRM measures the leads and campaigns rollups on an org of 20,000 leads
// (two moves each, over 90 days) and a 100,000-recipient campaign:
//   - send-overhead-%: what the campaign_recipients trigger adds to status updates written
//     1,000 rows a statement (the same updates without triggers are the bound);
//   - catchup-leads-ms, catchup-sends-ms: the catch-up that works out those marks;
//   - figures-p50-ms, figures-p95-ms: every leads, campaign, cadence and call figure of
//     90 days read from the rollups; drill-p50-ms: the first page of a drill-down.
func BenchmarkAnalyticsCRM(b *testing.B) {
	st, _ := storetest.New(b)
	ctx := context.Background()
	s := New(st)
	org, err := st.CreateOrg(ctx, "Atacadão")
	if err != nil {
		b.Fatal(err)
	}
	db := st.DB()
	exec := func(q string, args ...any) time.Duration {
		b.Helper()
		t0 := time.Now()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
		return time.Since(t0)
	}
	exec(`INSERT INTO contacts (org_id, name) SELECT $1, 'Pessoa ' || g FROM generate_series(1, 100000) g`, org.ID)
	exec(`INSERT INTO pipelines (org_id, name) VALUES ($1, 'Vendas')`, org.ID)
	exec(`INSERT INTO stages (org_id, pipeline_id, name, outcome, position)
		SELECT $1, p.id, s.name, s.outcome, s.pos FROM pipelines p,
		(VALUES ('Novo', 'open', 0), ('Qualificado', 'open', 1), ('Proposta', 'open', 2), ('Ganho', 'won', 3), ('Perdido', 'lost', 4)) s(name, outcome, pos)
		WHERE p.org_id = $1`, org.ID)
	exec(`INSERT INTO leads (org_id, pipeline_id, stage_id, contact_id, title, value_cents, rank, created_at)
		SELECT $1, s.pipeline_id, s.id, c.id, 'Lead ' || c.id, c.id % 1000 * 100, 'a' || c.id, now() - (c.id % 90) * interval '1 day'
		FROM (SELECT id FROM contacts WHERE org_id = $1 ORDER BY id LIMIT 20000) c, stages s WHERE s.org_id = $1 AND s.position = 0`, org.ID)
	exec(`INSERT INTO lead_moves (org_id, lead_id, from_stage_id, to_stage_id, created_at)
		SELECT l.org_id, l.id, a.id, b.id, l.created_at + m.n * interval '1 hour'
		FROM leads l CROSS JOIN (VALUES (1), (2)) m(n)
		JOIN stages a ON a.org_id = l.org_id AND a.position = m.n - 1
		JOIN stages b ON b.org_id = l.org_id AND b.position = CASE WHEN m.n = 2 AND l.id % 3 = 0 THEN 3 WHEN m.n = 2 AND l.id % 3 = 1 THEN 4 ELSE m.n END
		WHERE l.org_id = $1`, org.ID)
	t0 := time.Now()
	if _, err := s.CatchUp(ctx); err != nil {
		b.Fatal(err)
	}
	catchupLeads := time.Since(t0)

	exec(`INSERT INTO channels (org_id, kind, name) VALUES ($1, 'sandbox', 'Um')`, org.ID)
	exec(`INSERT INTO campaigns (org_id, name, channel_id, status, launched_at)
		SELECT $1, 'Black Friday', id, 'running', now() - interval '30 days' FROM channels WHERE org_id = $1`, org.ID)
	exec(`INSERT INTO campaign_recipients (org_id, campaign_id, channel_id, contact_id)
		SELECT $1, p.id, p.channel_id, c.id FROM campaigns p, contacts c WHERE p.org_id = $1 AND c.org_id = $1`, org.ID)
	if _, err := s.CatchUp(ctx); err != nil {
		b.Fatal(err)
	}
	// The sends: statuses written 1,000 rows a statement, as batches of status reports
	// are, on one connection; every other statement runs without triggers
	// (session_replication_role replica), the bound, so both halves meet the same table.
	var first int64
	if err := db.GetContext(ctx, &first, `SELECT min(id) FROM campaign_recipients WHERE org_id = $1`, org.ID); err != nil {
		b.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var bare, withMarks time.Duration
	for _, status := range []string{"claimed", "sent", "delivered"} {
		for i, lo := 0, first; lo < first+100000; i, lo = i+1, lo+1000 {
			role := []string{"replica", "origin"}[i%2]
			if _, err := conn.ExecContext(ctx, `SET session_replication_role = `+role); err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			if _, err := conn.ExecContext(ctx, `UPDATE campaign_recipients SET status = $2, updated_at = now()
				WHERE org_id = $1 AND id >= $3 AND id < $3 + 1000`, org.ID, status, lo); err != nil {
				b.Fatal(err)
			}
			if i%2 == 0 {
				bare += time.Since(t0)
			} else {
				withMarks += time.Since(t0)
			}
		}
	}
	conn.Close()
	// The halves written without triggers left no marks: mark the campaign as they would.
	exec(`INSERT INTO analytics_dirty (org_id, kind, key) SELECT org_id, 'crm.campaigns', id FROM campaigns WHERE org_id = $1`, org.ID)
	t0 = time.Now()
	if _, err := s.CatchUp(ctx); err != nil {
		b.Fatal(err)
	}
	catchupSends := time.Since(t0)
	exec(`ANALYZE`)

	f, err := ParseFilter(url.Values{"period": {"90d"}}, "America/Sao_Paulo", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	var figs, drills []time.Duration
	b.ResetTimer()
	for range b.N {
		for range 20 {
			t0 := time.Now()
			got, err := s.Figures(ctx, org.ID, f, crmKeysAll)
			if err != nil {
				b.Fatal(err)
			}
			figs = append(figs, time.Since(t0))
			if got[0].Value != 20000 {
				b.Fatalf("leads.created = %v", got[0].Value)
			}
			t0 = time.Now()
			if _, err := s.Drill(ctx, org.ID, f, "campaign.delivered", "", "", 50); err != nil {
				b.Fatal(err)
			}
			drills = append(drills, time.Since(t0))
		}
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	pct := func(ds []time.Duration, p float64) time.Duration {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[int(p*float64(len(ds)-1))]
	}
	b.ReportMetric(100*(withMarks.Seconds()-bare.Seconds())/bare.Seconds(), "send-overhead-%")
	b.ReportMetric(ms(catchupLeads), "catchup-leads-ms")
	b.ReportMetric(ms(catchupSends), "catchup-sends-ms")
	b.ReportMetric(ms(pct(figs, 0.5)), "figures-p50-ms")
	b.ReportMetric(ms(pct(figs, 0.95)), "figures-p95-ms")
	b.ReportMetric(ms(pct(drills, 0.5)), "drill-p50-ms")
	b.Logf("150,000 status updates each way: %s bare, %s with marks; catch-up %s (20,000 leads), %s (the sends)",
		bare.Round(time.Millisecond), withMarks.Round(time.Millisecond), catchupLeads.Round(time.Millisecond), catchupSends.Round(time.Millisecond))
}
