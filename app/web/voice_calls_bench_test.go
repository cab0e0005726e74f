package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"masteria/app/voice/retell"
	"masteria/app/web/webtest"
)

// retellClients is how many of Retell's webhook deliveries are in flight at once. Retell
// sends each call's events on their own, so what is in flight grows with the calls under
// way: by Little's law, 2,000 events/s (the goal) with a provider's 15 ms or so from
// sending to our answer is about 30 requests at once. (Meta's 8, ingestClients, would
// model 2,000/s only if each event took 4 ms end to end.)
const retellClients = 32

// retellIngest posts signed call events from retellClients goroutines, each signed with key
// at the moment it is sent, and measures each answer.
func retellIngest(client *http.Client, url, key string, bodies <-chan []byte) ingestResult {
	var (
		mu  sync.Mutex
		res ingestResult
		wg  sync.WaitGroup
	)
	start := time.Now()
	for range retellClients {
		wg.Go(func() {
			var local []time.Duration
			for body := range bodies {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Retell-Signature", retell.Sign(body, key, time.Now()))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					atomic.AddInt64(&res.failed, 1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				local = append(local, time.Since(t0))
				if resp.StatusCode == http.StatusOK {
					atomic.AddInt64(&res.ok, 1)
				} else {
					atomic.AddInt64(&res.failed, 1)
				}
			}
			mu.Lock()
			res.times = append(res.times, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

// BenchmarkCallWebhookIngest measures Retell's call events end to end: signed
// call_started, call_ended and call_analyzed of inbound calls (~1,000 callers, each new
// caller becoming a contact) posted over loopback HTTP by retellClients concurrent clients
// to the real route of a running app, through the whole chain (account, key, signature,
// parse, contact, links, forward-only upsert, event row) into PostgreSQL. It reports
// events/s, p50-ms, p99-ms, "lost" (answered 200 but no event row; must be 0), x-bare
// (a bare handler's throughput with the same clients, over the app's), the CPU time an
// event costs in this process (app and clients) and in the database's backends, which
// holds when other work shares the machine and the rates do not, and events/stmt (how
// many events the ingest's statements carried on average).
func BenchmarkCallWebhookIngest(b *testing.B) {
	inst := webtest.Start(b)
	c := webtest.NewClient(b, inst.URL)
	c.Signup("Clínica Sorriso", "Rui", uniqueEmail("calls"), strongPassword)
	db := inst.App.Store.DB()
	var orgID int64
	if err := db.Get(&orgID, `SELECT id FROM orgs`); err != nil {
		b.Fatal(err)
	}
	const key = "key_bench_0123456789abcdef"
	acct := retellAccount(b, inst, orgID, key)
	url := fmt.Sprintf("%s/webhooks/retell/%d", inst.URL, acct)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: retellClients * 2, MaxIdleConnsPerHost: retellClients * 2, IdleConnTimeout: time.Minute}}
	defer client.CloseIdleConnections()

	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	events := [3]string{"call_started", "call_ended", "call_analyzed"}
	// The i-th event: calls in turn, each call's three events in order.
	body := func(i int) []byte {
		call := i / 3
		return retellEvent(b, events[i%3], fmt.Sprintf("call_%s_%08d", run, call), fmt.Sprintf("+55119%08d", 70000000+call%ingestSenders))
	}
	bodies := make(chan []byte)
	done := make(chan ingestResult, 1)
	go func() { done <- retellIngest(client, url, key, bodies) }()
	n := 0
	// CPU time of this process (the app and its clients) and of the database's backends
	// (Linux /proc; 0 elsewhere): what an event costs, whatever else the machine runs.
	pgCPU := func() float64 {
		var pids []int
		_ = db.Select(&pids, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
		tot := 0.0
		for _, pid := range pids {
			bs, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if err != nil {
				continue
			}
			f := strings.Fields(string(bs[bytes.LastIndexByte(bs, ')')+2:]))
			u, _ := strconv.ParseFloat(f[11], 64)
			s, _ := strconv.ParseFloat(f[12], 64)
			tot += (u + s) / 100
		}
		return tot
	}
	var ru0, ru1 syscall.Rusage
	stmts0, applied0 := inst.App.Calls.Stats()
	pg0 := pgCPU()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	for b.Loop() {
		bodies <- body(n)
		n++
	}
	close(bodies)
	app := <-done
	b.StopTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	pg1 := pgCPU()
	stmts1, applied1 := inst.App.Calls.Stats()
	goCPU := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())

	var stored int64
	if err := db.Get(&stored, `SELECT count(*) FROM call_events WHERE org_id = $1 AND call_id LIKE $2`, orgID, "call_"+run+"_%"); err != nil {
		b.Fatal(err)
	}
	bareSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	defer bareSrv.Close()
	bareBodies := make(chan []byte)
	go func() { done <- retellIngest(client, bareSrv.URL+"/webhooks/retell/1", key, bareBodies) }()
	for i := range n {
		bareBodies <- body(i)
	}
	close(bareBodies)
	bare := <-done

	b.ReportMetric(app.rate(), "events/s")
	b.ReportMetric(ms(percentile(app.times, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(app.times, 99)), "p99-ms")
	b.ReportMetric(float64(app.ok-stored), "lost")
	b.ReportMetric(float64(app.failed), "non-200")
	b.ReportMetric(bare.rate()/max(app.rate(), 1e-9), "x-bare")
	b.ReportMetric(float64(goCPU.Microseconds())/float64(n), "go-cpu-us/event")
	b.ReportMetric((pg1-pg0)*1e6/float64(n), "pg-cpu-us/event")
	b.ReportMetric(float64(applied1-applied0)/float64(max(stmts1-stmts0, 1)), "events/stmt")
	b.Logf("%d events: app %.0f events/s p50 %.2f ms p99 %.2f ms (%d ok, %d failed, %d stored); bare %.0f events/s",
		n, app.rate(), ms(percentile(app.times, 50)), ms(percentile(app.times, 99)), app.ok, app.failed, stored, bare.rate())
	if app.ok != stored {
		b.Errorf("%d events answered 200 but %d stored", app.ok, stored)
	}
}

// BenchmarkVoiceAnalytics measures the Calls analytics tab over 100,000 calls of the org
// spread over 90 days (8 agents, 5 numbers, 20 campaigns and none), the whole period asked
// for: the page handler called in process (session, role, time zone, one analytics query,
// rendering). The minute job first stores each day's figures (timed in the log); the views
// measured read them, as every view does once the job has run. It reports p50-ms and p95-ms.
func BenchmarkVoiceAnalytics(b *testing.B) {
	inst := webtest.Start(b)
	c := webtest.NewClient(b, inst.URL)
	home := c.Signup("Clínica Sorriso", "Rui", uniqueEmail("analytics"), strongPassword)
	db := inst.App.Store.DB()
	var orgID int64
	if err := db.Get(&orgID, `SELECT id FROM orgs`); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	seed := []string{
		`INSERT INTO voice_numbers (org_id, phone_number, step, status) SELECT $1, '+55113000100' || g, 'ready', 'ready' FROM generate_series(0, 4) g`,
		`INSERT INTO campaigns (org_id, name, status) SELECT $1, 'Campanha ' || g, 'completed' FROM generate_series(1, 20) g`,
		`INSERT INTO calls (org_id, call_id, direction, agent_id, agent_name, number_id, campaign_id, status, event_rank,
			disconnection_reason, duration_ms, in_voicemail, successful, sentiment, cost_cents, created_at)
		 SELECT $1, 'call_' || g, CASE WHEN g % 4 = 0 THEN 'inbound' ELSE 'outbound' END, 'agent_' || (g % 8), 'Agente ' || (g % 8),
			(SELECT id FROM voice_numbers n WHERE n.org_id = $1 ORDER BY id OFFSET g % 5 LIMIT 1),
			CASE WHEN g % 21 = 0 THEN NULL ELSE (SELECT id FROM campaigns p WHERE p.org_id = $1 ORDER BY id OFFSET g % 20 LIMIT 1) END,
			CASE WHEN g % 10 = 0 THEN 'not_connected' ELSE 'ended' END, 3,
			(ARRAY['user_hangup', 'agent_hangup', 'voicemail_reached', 'dial_no_answer', 'call_transfer'])[1 + g % 5],
			(g % 600) * 1000, g % 3 = 0, g % 2 = 0, (ARRAY['Positive', 'Neutral', 'Negative', 'Unknown'])[1 + g % 4],
			(g % 50)::numeric, now() - (g % 90) * interval '1 day' - (g % 86400) * interval '1 second'
		 FROM generate_series(1, 100000) g`,
		// Past calls were last changed when they ended.
		`UPDATE calls SET updated_at = created_at WHERE org_id = $1`,
		`ANALYZE calls`,
	}
	for _, q := range seed {
		if _, err := db.ExecContext(ctx, q, orgID); err != nil && q != `ANALYZE calls` {
			b.Fatalf("seed: %v", err)
		} else if err != nil {
			if _, err := db.ExecContext(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
	}
	u, _ := http.NewRequest(http.MethodGet, inst.URL, nil)
	cookies := c.HTTP.Jar.Cookies(u.URL)
	h := inst.App.Web.Handler()
	today := time.Now()
	path := fmt.Sprintf("%s/settings/voice/analytics?from=%s&to=%s", home, today.AddDate(0, 0, -91).Format(time.DateOnly), today.Format(time.DateOnly))
	request := func() *http.Request {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		return req
	}
	t0 := time.Now()
	days, err := inst.App.Calls.RefreshStats(ctx, orgID) // what the minute job does
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("the job stored %d days' figures in %v", days, time.Since(t0))
	rec := serve(h, request())
	if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`data-testid="kpi-calls"`)) || !bytes.Contains(rec.Body.Bytes(), []byte("100000")) {
		i := bytes.Index(rec.Body.Bytes(), []byte(`data-testid="kpi-calls"`))
		b.Fatalf("page: %d %s", rec.Code, rec.Body.Bytes()[max(i, 0):min(len(rec.Body.Bytes()), max(i, 0)+300)])
	}
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		req := request()
		start := time.Now()
		rec := serve(h, req)
		times = append(times, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatalf("page: %d", rec.Code)
		}
	}
	b.StopTimer()
	b.ReportMetric(ms(percentile(times, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(times, 95)), "p95-ms")
}
