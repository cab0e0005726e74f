package hooks_test

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"masteria/app/events"
	"masteria/app/hooks"
	"masteria/app/store"
)

// BenchmarkWebhookDelivery sends 50,000 events, published at a steady 2,500 a second, to a
// local receiver that fails 30 % of requests at random (HTTP 500), through the whole path:
// outbox → dispatcher job → delivery rows → delivery jobs → signed POSTs. It reports the
// first attempts a second (deliveries/s), the 99th percentile from an event's commit to its
// first attempt (p99-ms), and lost: events whose first attempt never came.
func BenchmarkWebhookDelivery(b *testing.B) {
	total, perSecond, batch := benchTotal()
	_ = 0 // , 2_500, 50
	for b.Loop() {
		e := newEnv(b, hooks.Options{AllowPrivate: true})
		var mu sync.Mutex
		first := make(map[string]time.Time, total) // webhook-id → first attempt
		lat := make([]float64, 0, total)
		rc := newReceiver(b, nil)
		rc.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			now := time.Now()
			id := r.Header.Get("webhook-id")
			var body struct {
				Timestamp time.Time `json:"timestamp"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			mu.Lock()
			if _, seen := first[id]; !seen {
				first[id] = now
				lat = append(lat, float64(now.Sub(body.Timestamp).Microseconds())/1000)
			}
			mu.Unlock()
			if rand.Float64() < 0.3 {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
		e.endpoint(b, rc.URL)
		ps := make([]events.IDName, batch)
		for i := range ps {
			ps[i] = events.IDName{ID: e.a.OrgID, Name: "bench"}
		}
		tick := time.NewTicker(time.Second * time.Duration(batch) / time.Duration(perSecond))
		start := time.Now()
		for sent := 0; sent < total; sent += batch {
			<-tick.C
			if err := e.st.Tx(e.ctx, func(tx *store.Store) error { return events.OrgRenamed.PublishMany(e.ctx, tx, e.a.OrgID, ps) }); err != nil {
				b.Fatal(err)
			}
		}
		tick.Stop()
		published := time.Since(start)
		deadline := time.Now().Add(60 * time.Second)
		var last time.Time
		for {
			mu.Lock()
			n := len(first)
			mu.Unlock()
			if n >= total || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		mu.Lock()
		for _, t := range first {
			if t.After(last) {
				last = t
			}
		}
		n := len(first)
		slices.Sort(lat)
		p99 := 0.0
		if len(lat) > 0 {
			p99 = lat[min(len(lat)-1, len(lat)*99/100)]
		}
		mu.Unlock()
		b.ReportMetric(float64(n)/last.Sub(start).Seconds(), "deliveries/s")
		b.ReportMetric(p99, "p99-ms")
		b.ReportMetric(float64(total-n), "lost")
		b.ReportMetric(published.Seconds(), "publish-s")
		// Where the time goes: event → delivery row (the dispatcher), row → first attempt.
		var split struct {
			Dispatch float64 `db:"dispatch"`
			Send     float64 `db:"send"`
		}
		if err := e.st.DB().Get(&split, `SELECT
			percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM d.created_at - d.event_at)) * 1000 AS dispatch,
			percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM a.at - d.created_at)) * 1000 AS send
			FROM webhook_deliveries d JOIN LATERAL (SELECT min(at) AS at FROM webhook_attempts WHERE delivery_id = d.id) a ON true`); err == nil {
			b.ReportMetric(split.Dispatch, "dispatch-p99-ms")
			b.ReportMetric(split.Send, "send-p99-ms")
		}
	}
}

func benchTotal() (int, int, int) {
	if n, err := strconv.Atoi(os.Getenv("HOOKS_BENCH_EVENTS")); err == nil && n > 0 {
		return n, 2_500, 50
	}
	return 50_000, 2_500, 50
}
