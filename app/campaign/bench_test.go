package campaign_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"masteria/app/channel"
	"masteria/app/config"
	"masteria/app/jobs"
	"masteria/app/model"
	"masteria/app/sim/metasim"
	"masteria/app/web/webtest"
)

// BenchmarkCampaignSend sends a 20,000-recipient template campaign through the real engine
// (claims, queued messages, the shared pace, the provider client, the ledger) to the Graph
// simulator over loopback HTTP, and reports msgs/s from launch to the last recorded send.
// In the same run it measures two bounds on this machine: bare River no-op jobs (x-river:
// how many times the campaign's msgs/s is above River's jobs/s: the engine batches, so it
// may be above 1) and the bare simulator driven by the same client with 64 sends in flight
// (x-sim: the campaign's share of what the simulator can take).
func BenchmarkCampaignSend(b *testing.B) {
	const n = 20_000
	e := newBenchEnv(b, 10_000, metasim.WithoutStatuses())
	ids := e.bulkContacts(b, n, "+55119")
	var rate float64
	for range b.N {
		c := e.draft(b, ids)
		start := time.Now()
		if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
			b.Fatal(err)
		}
		wait(b, 10*time.Minute, "every send recorded", func() bool {
			return e.progress(b, c.ID).Reached(model.RecipientSent) == n
		})
		rate = n / time.Since(start).Seconds()
		if got := len(e.sentTimes()); got < n {
			b.Fatalf("the sim got %d people", got)
		}
		b.StopTimer()
		_, _ = e.st.DB().Exec(`DELETE FROM campaigns WHERE id = $1`, c.ID)
		b.StartTimer()
	}
	b.StopTimer()
	river := riverNoop(b, e, 5000)
	sim := bareSim(b, e, n)
	b.ReportMetric(rate, "msgs/s")
	b.ReportMetric(river, "river-jobs/s")
	b.ReportMetric(sim, "sim-msgs/s")
	b.ReportMetric(rate/river, "x-river")
	b.ReportMetric(rate/sim, "x-sim")
	b.Logf("%d recipients: %.0f msgs/s; bare River %.0f jobs/s; bare sim %.0f msgs/s", n, rate, river, sim)
}

// BenchmarkCampaignLaunch snapshots a 100,000-contact segment into recipient rows (dedup
// and skip reasons in SQL) and queues the runners: launch-s is the Launch call.
func BenchmarkCampaignLaunch(b *testing.B) {
	const n = 100_000
	e := newBenchEnv(b, 1, metasim.WithoutStatuses())
	ids := e.bulkContacts(b, n, "+55219")
	_ = ids
	tag, err := e.st.CreateTag(e.ctx, e.a.OrgID, "clientes", "blue")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.st.DB().Exec(`UPDATE contacts SET tag_ids = ARRAY[$1::bigint] WHERE org_id = $2`, tag.ID, e.a.OrgID); err != nil {
		b.Fatal(err)
	}
	filter, _ := json.Marshal(model.ContactFilter{TagIDs: []int64{tag.ID}})
	seg, err := e.st.CreateSegment(e.ctx, e.a.OrgID, "Clientes", filter, e.userID(b))
	if err != nil {
		b.Fatal(err)
	}
	var secs float64
	for range b.N {
		c := e.draft(b, nil, func(c *model.Campaign) { c.Audience = model.Audience{SegmentID: seg} })
		start := time.Now()
		if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
			b.Fatal(err)
		}
		secs = time.Since(start).Seconds()
		b.StopTimer()
		_ = e.svc.Cancel(e.ctx, e.a, c.ID)
		if p := e.progress(b, c.ID); p.Total != n {
			b.Fatalf("snapshot of %d recipients, want %d", p.Total, n)
		}
		b.StartTimer()
	}
	b.ReportMetric(secs, "launch-s")
	b.Logf("%d contacts snapshotted and ready in %.2f s", n, secs)
}

// BenchmarkCampaignPace holds a pace of 50 msgs/s with two instances sending one campaign
// together for 30 s, and reports the rate the simulator saw and its error.
func BenchmarkCampaignPace(b *testing.B) {
	const pace, window = 50.0, 30 * time.Second
	e := newBenchEnv(b, pace, metasim.WithoutStatuses())
	second := webtest.StartOn(b, e.inst.App.Config.DatabaseURL, func(c *config.Config) {
		c.MetaGraphURL = e.inst.App.Config.MetaGraphURL
		c.Workers = 2
	})
	second.App.Campaigns.Runners = 4
	ids := e.bulkContacts(b, 3000, "+55319")
	var rate float64
	for range b.N {
		c := e.draft(b, ids)
		if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
			b.Fatal(err)
		}
		time.Sleep(3 * time.Second) // past the start
		from, t0 := e.ms.SentCount(), time.Now()
		time.Sleep(window)
		rate = float64(e.ms.SentCount()-from) / time.Since(t0).Seconds()
		b.StopTimer()
		_ = e.svc.Cancel(e.ctx, e.a, c.ID)
		b.StartTimer()
	}
	b.ReportMetric(rate, "msgs/s")
	b.ReportMetric(100*abs(rate-pace)/pace, "err-%")
	b.Logf("pace %.0f msgs/s held by two instances: %.2f msgs/s over %s", pace, rate, window)
}

// BenchmarkStatusIngest posts signed Cloud API status webhooks (sent, delivered, read) for
// campaign messages to the app over loopback, ingestClients at a time: each moves the message and its
// recipient. It reports statuses/s, p99-ms and lost (recipients not read at the end).
func BenchmarkStatusIngest(b *testing.B) {
	const n = 5000
	e := newBenchEnv(b, 10_000, metasim.WithoutStatuses())
	ids := e.bulkContacts(b, n, "+55419")
	c := e.draft(b, ids)
	if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
		b.Fatal(err)
	}
	e.waitDone(b, c.ID, 5*time.Minute)
	sent := e.ms.Sent()
	var hooks [][]byte
	for _, status := range []string{"sent", "delivered", "read"} {
		for _, m := range sent {
			w, err := e.ms.BuildStatuses(phoneNumberID, metasim.Status{ID: m.ID, Status: status, RecipientID: m.WaID,
				BizOpaqueCallbackData: m.CallbackData, Timestamp: fmt.Sprint(time.Now().Unix())})
			if err != nil {
				b.Fatal(err)
			}
			hooks = append(hooks, w.Body, []byte(w.Header.Get("X-Hub-Signature-256")))
		}
	}
	url := fmt.Sprintf("%s/webhooks/whatsapp/%d", e.inst.URL, e.ch.ID)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: ingestClients}}
	var times []time.Duration
	var mu sync.Mutex
	var next atomic.Int64
	var failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range ingestClients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if 2*i >= len(hooks) {
					return
				}
				req, _ := http.NewRequest("POST", url, bytesReader(hooks[2*i]))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Hub-Signature-256", string(hooks[2*i+1]))
				t0 := time.Now()
				res, err := client.Do(req)
				d := time.Since(t0)
				if err != nil || res.StatusCode != http.StatusOK {
					failed.Add(1)
				}
				if res != nil {
					res.Body.Close()
				}
				mu.Lock()
				times = append(times, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var notRead int64
	_ = e.st.DB().Get(&notRead, `SELECT count(*) FROM campaign_recipients WHERE campaign_id = $1 AND status <> 'read'`, c.ID)
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	p99 := times[len(times)*99/100]
	b.ReportMetric(float64(len(times))/elapsed.Seconds(), "statuses/s")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(notRead), "lost")
	b.ReportMetric(float64(failed.Load()), "non-200")
	b.Logf("%d statuses in %s: %.0f/s, p99 %s, %d recipients not read, %d non-200", len(times), elapsed,
		float64(len(times))/elapsed.Seconds(), p99, notRead, failed.Load())
}

// newBenchEnv is an env whose channel sends at pace.
func newBenchEnv(b *testing.B, pace float64, simOpts ...metasim.Option) env {
	b.Helper()
	e := newEnvWith(b, nil, simOpts...)
	e.svc.Runners = 4
	e.svc.SendTimeout = 15 * time.Second
	e.svc.Lease = 2 * time.Minute
	e.svc.Slice = 20 * time.Second
	if err := e.st.SetChannelSendSettings(e.ctx, e.a.OrgID, e.ch.ID, json.RawMessage(`{}`), pace); err != nil {
		b.Fatal(err)
	}
	e.ch.Rate = pace
	// No daily cap: each iteration sends to the same people again (the policy still runs).
	if err := e.st.SavePolicySettings(e.ctx, e.a.OrgID, model.PolicySettings{SMSDedupHours: 24}); err != nil {
		b.Fatal(err)
	}
	return e
}

// bulkContacts inserts n contacts in one statement, phones prefix + 8 digits.
func (e env) bulkContacts(b *testing.B, n int, prefix string) []int64 {
	b.Helper()
	var ids []int64
	if err := e.st.DB().Select(&ids, `INSERT INTO contacts (org_id, name, phone)
		SELECT $1, 'Cliente ' || i, $2 || lpad(i::text, 8, '0') FROM generate_series(1, $3) i RETURNING id`,
		e.a.OrgID, prefix, n); err != nil {
		b.Fatal(err)
	}
	return ids
}

// riverNoop is the rate of bare River no-op jobs on this database, with 100 workers (River
// fetches at most a worker's worth of jobs every 100 ms: fewer workers cap it lower).
func riverNoop(b *testing.B, e env, n int) float64 {
	b.Helper()
	reg := jobs.NewRegistry()
	var done atomic.Int64
	river.AddWorker(reg.Workers, river.WorkFunc(func(ctx context.Context, j *river.Job[noopArgs]) error {
		done.Add(1)
		return nil
	}))
	// Its own queue, so the app's workers and these never take each other's jobs.
	client, err := jobs.New(e.ctx, e.st.DB().DB, e.inst.App.Config.DatabaseURL, reg, jobs.Options{MaxWorkers: 100, Queue: "bench_noop"})
	if err != nil {
		b.Fatal(err)
	}
	if err := client.Start(e.ctx); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = client.Stop(e.ctx) }()
	params := make([]river.InsertManyParams, n)
	for i := range params {
		params[i] = river.InsertManyParams{Args: noopArgs{I: i}, InsertOpts: &river.InsertOpts{Queue: "bench_noop"}}
	}
	start := time.Now()
	for i := 0; i < n; i += 1000 {
		if _, err := client.InsertMany(e.ctx, params[i:min(n, i+1000)]); err != nil {
			b.Fatal(err)
		}
	}
	wait(b, 5*time.Minute, "the no-op jobs", func() bool { return done.Load() >= int64(n) })
	return float64(n) / time.Since(start).Seconds()
}

type noopArgs struct {
	I int `json:"i"`
}

func (noopArgs) Kind() string { return "bench.noop" }

// bareSim is the rate at which the production Meta client, 64 sends in flight, gets the
// simulator to accept template messages.
func bareSim(b *testing.B, e env, n int) float64 {
	b.Helper()
	client, err := e.inst.App.Inbox.Client(e.ch)
	if err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				_, err := client.Send(e.ctx, channel.Outbound{To: fmt.Sprintf("+55519%08d", i), Kind: "template", Ref: fmt.Sprint("m", i),
					Template: &channel.Template{Name: e.tmpl.Name, Language: e.tmpl.Language, Params: []string{"Ana", "maio"}}})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// ingestClients is how many webhooks are in flight at once, as a provider's delivery
// fleet keeps many connections open.
const ingestClients = 64

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// BenchmarkCampaignSendStatuses sends a 3,000-recipient campaign while the Graph simulator
// answers each send with its status webhooks (sent at once, delivered and read 10 ms later):
// the runners' ledger writes and the inbox's status batches meet on the same messages and
// recipients. It reports msgs/s (launch to the last recorded send), statuses/s (the three
// reports of every message, launch to every recipient read) and deadlocks: PostgreSQL's
// count for the test database over the run (each one stalls a writer for deadlock_timeout).
func BenchmarkCampaignSendStatuses(b *testing.B) {
	const n = 3000
	e := newBenchEnv(b, 10_000)
	ids := e.bulkContacts(b, n, "+55619")
	var sendRate, statusRate float64
	before := deadlocks(b, e)
	for range b.N {
		c := e.draft(b, ids)
		start := time.Now()
		if _, err := e.svc.Launch(e.ctx, e.a, c.ID); err != nil {
			b.Fatal(err)
		}
		wait(b, 10*time.Minute, "every send recorded", func() bool {
			return e.progress(b, c.ID).Reached(model.RecipientSent) == n
		})
		sendRate = n / time.Since(start).Seconds()
		wait(b, 10*time.Minute, "every recipient read", func() bool {
			return e.progress(b, c.ID).Reached(model.RecipientRead) == n
		})
		statusRate = 3 * n / time.Since(start).Seconds()
		b.StopTimer()
		_, _ = e.st.DB().Exec(`DELETE FROM campaigns WHERE id = $1`, c.ID)
		b.StartTimer()
	}
	b.StopTimer()
	// A backend reports its deadlocks to the statistics within 10 s of going idle.
	time.Sleep(11 * time.Second)
	got := deadlocks(b, e) - before
	b.ReportMetric(sendRate, "msgs/s")
	b.ReportMetric(statusRate, "statuses/s")
	b.ReportMetric(float64(got)/float64(b.N), "deadlocks")
	b.Logf("%d recipients: %.0f msgs/s, %.0f statuses/s, %d deadlocks in %d runs", n, sendRate, statusRate, got, b.N)
}

// deadlocks is PostgreSQL's count of deadlocks detected in the test database.
func deadlocks(b *testing.B, e env) int64 {
	b.Helper()
	var n int64
	if err := e.st.DB().Get(&n, `SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`); err != nil {
		b.Fatal(err)
	}
	return n
}
