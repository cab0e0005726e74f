package analytics_test

import (
	"context"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"masteria/app/analytics"
	"masteria/app/store/storetest"
)

// BenchmarkDashboard: one org with 1,000,000 messages in 100,000 conversations and 10,000
// leads over a year, seeded with bulk SQL; one catch-up of the rollups (catchup-s), then
// the home dashboard for 30 days (Service.Home, what the page and the API show), 200
// times. Reports p50-ms and p95-ms of a whole dashboard.
//
//	go test -run '^$' -bench BenchmarkDashboard -benchtime 1x ./app/analytics
func BenchmarkDashboard(b *testing.B) {
	st, _ := storetest.New(b)
	ctx := context.Background()
	org, err := st.CreateOrg(ctx, "Grande")
	if err != nil {
		b.Fatal(err)
	}
	db := st.DB()
	seed := []string{
		`INSERT INTO users (email, name) SELECT 'agent' || i || '@example.com', 'Agent ' || i FROM generate_series(1, 8) i`,
		`INSERT INTO memberships (org_id, user_id, role) SELECT $1, id, 'agent' FROM users WHERE email LIKE 'agent%@example.com'`,
		`INSERT INTO channels (org_id, kind, name) VALUES ($1, 'whatsapp_cloud', 'WhatsApp'), ($1, 'twilio_sms', 'SMS'), ($1, 'whatsapp_qr', 'QR')`,
		`INSERT INTO contacts (org_id, name) SELECT $1, 'Contact ' || i FROM generate_series(1, 100000) i`,
		// One conversation per contact, on one of the channels, most with an agent.
		`INSERT INTO conversations (org_id, channel_id, contact_id, assignee_id, labels, status, owner)
		 SELECT $1, ch.ids[1 + c.id % 3], c.id,
		        CASE WHEN c.id % 5 = 0 THEN NULL ELSE u.ids[1 + c.id % 8] END,
		        CASE WHEN c.id % 7 = 0 THEN ARRAY['vip'] ELSE '{}' END,
		        CASE WHEN c.id % 10 < 8 THEN 'closed' ELSE 'open' END,
		        CASE WHEN c.id % 10 < 8 THEN 'closed' WHEN c.id % 3 = 0 THEN 'bot' ELSE 'human' END
		 FROM contacts c,
		      (SELECT array_agg(id ORDER BY id) AS ids FROM channels WHERE org_id = $1) ch,
		      (SELECT array_agg(user_id ORDER BY user_id) AS ids FROM memberships WHERE org_id = $1) u
		 WHERE c.org_id = $1`,
		// Ten messages each, a few minutes apart from a moment of the past year: the
		// customer writes, a person or the bot answers; two cases per conversation.
		`INSERT INTO messages (org_id, conversation_id, channel_id, direction, status, sender_id, created_at, body)
		 SELECT $1, v.id, v.channel_id,
		        CASE WHEN k % 2 = 0 THEN 'in' ELSE 'out' END,
		        CASE WHEN k % 2 = 0 THEN 'received'
		             ELSE (ARRAY['sent', 'delivered', 'read', 'read', 'failed', 'delivered'])[1 + (v.id + k) % 6] END,
		        CASE WHEN k % 2 = 1 AND (v.id + k) % 4 <> 0 THEN v.assignee_id END,
		        now() - interval '365 days' * ((v.id * 7919) % 100000) / 100000.0 + interval '7 minutes' * k
		            + CASE WHEN k >= 5 THEN interval '1 day' ELSE interval '0' END,
		        '' -- no words: the search trigger's work is not what this measures
		 FROM conversations v, generate_series(0, 9) k WHERE v.org_id = $1`,
		// The bot's replies: the outbound messages without a sender, one in two.
		`INSERT INTO ai_replies (message_id, org_id, conversation_id, model, cost)
		 SELECT id, org_id, conversation_id, 'gpt', 0.0004 FROM messages
		 WHERE org_id = $1 AND direction = 'out' AND sender_id IS NULL AND id % 2 = 0`,
		// Each conversation's first case closed half an hour after its fifth message; its
		// second case too, for the closed ones (the others stay open).
		`INSERT INTO conversation_log (org_id, conversation_id, at, status, owner, assignee_id, old_status, old_owner)
		 SELECT $1, v.id, now() - interval '365 days' * ((v.id * 7919) % 100000) / 100000.0
		        + interval '7 minutes' * k + CASE WHEN k >= 5 THEN interval '1 day' ELSE interval '0' END + interval '30 minutes',
		        'closed', 'closed', v.assignee_id, 'open', 'human'
		 FROM conversations v, (VALUES (4), (9)) AS c(k) WHERE v.org_id = $1 AND (k = 4 OR v.status = 'closed')`,
		`INSERT INTO pipelines (org_id, name) VALUES ($1, 'Vendas')`,
		`INSERT INTO stages (org_id, pipeline_id, name, outcome, position)
		 SELECT $1, p.id, s.name, s.outcome, s.pos FROM pipelines p,
		        (VALUES ('Novo', 'open', 0), ('Ganho', 'won', 1), ('Perdido', 'lost', 2)) s(name, outcome, pos) WHERE p.org_id = $1`,
		`INSERT INTO leads (org_id, pipeline_id, stage_id, contact_id, title, value_cents, rank, created_at)
		 SELECT $1, s.pipeline_id, s.id, c.id, 'Lead ' || c.id, (c.id % 100) * 1000, 'a' || c.id,
		        now() - interval '365 days' * (c.id % 1000) / 1000.0
		 FROM contacts c JOIN stages s ON s.org_id = $1 AND s.position = c.id % 3
		 WHERE c.org_id = $1 AND c.id % 10 = 0`,
		`ANALYZE`,
	}
	start := time.Now()
	for _, q := range seed {
		var args []any
		if strings.Contains(q, "$1") {
			args = []any{org.ID}
		}
		t0 := time.Now()
		if _, err := db.Exec(q, args...); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
		b.Logf("%.40s… %s", strings.Join(strings.Fields(q), " "), time.Since(t0).Round(time.Millisecond))
	}
	b.Logf("seeded in %s", time.Since(start).Round(time.Millisecond))
	var n struct {
		Messages int `db:"messages"`
		Log      int `db:"log"`
	}
	_ = db.Get(&n, `SELECT (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM conversation_log) AS log`)
	b.Logf("%d messages, %d log lines", n.Messages, n.Log)

	s := analytics.New(st)
	start = time.Now()
	if _, err := s.CatchUp(ctx); err != nil {
		b.Fatal(err)
	}
	catchUp := time.Since(start)
	// What autovacuum does after a large write: the visibility map lets the cases be read
	// from their covering indexes alone.
	if _, err := db.Exec(`VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	var cases int
	_ = db.Get(&cases, `SELECT count(*) FROM analytics_cases`)
	b.Logf("catch-up %s, %d cases", catchUp.Round(time.Millisecond), cases)

	f, err := analytics.ParseFilter(url.Values{"period": {"30d"}}, "America/Sao_Paulo", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	// Exactly what the home page shows (Service.Home: every KPI beside the previous
	// period, the figures of now, the charts, the tables and the funnels), as one request.
	dashboard := func() {
		h, err := s.Home(analytics.WithMemo(ctx), org.ID, f)
		if err != nil {
			b.Fatal(err)
		}
		if h.KPIs[0].Current.Value == 0 {
			b.Fatalf("an empty dashboard: %+v", h.KPIs[0])
		}
	}
	const requests = 200
	b.ResetTimer()
	for range b.N {
		var took []time.Duration
		for range requests {
			t0 := time.Now()
			dashboard()
			took = append(took, time.Since(t0))
		}
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
	}
	b.ReportMetric(catchUp.Seconds(), "catchup-s")
	b.StopTimer()
	// Where a dashboard's time goes: each part alone, the median of 20 (a part's own memo).
	part := func(name string, fn func(ctx context.Context) error) {
		var took []time.Duration
		for range 20 {
			t0 := time.Now()
			if err := fn(analytics.WithMemo(ctx)); err != nil {
				b.Fatal(err)
			}
			took = append(took, time.Since(t0))
		}
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		b.Logf("%-28s %6.1f ms", name, float64(took[10].Microseconds())/1000)
	}
	for _, k := range analytics.HomeKPIs {
		part("kpi "+k, func(ctx context.Context) error { _, err := s.KPIs(ctx, org.ID, f, []string{k}); return err })
	}
	part("now", func(ctx context.Context) error { _, err := s.Figures(ctx, org.ID, f, analytics.HomeNow); return err })
	for _, k := range analytics.HomeSeries {
		part("series "+k, func(ctx context.Context) error { _, err := s.Series(ctx, org.ID, f, k); return err })
	}
	for _, n := range analytics.HomeTables {
		part("table "+n, func(ctx context.Context) error { _, err := s.Table(ctx, org.ID, f, n); return err })
	}
	for _, n := range analytics.HomeFunnels {
		part("funnel "+n, func(ctx context.Context) error { _, err := s.Funnel(ctx, org.ID, f, n); return err })
	}
}
