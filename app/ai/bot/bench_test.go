package bot_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"masteria/app/config"
	"masteria/app/inbox"
)

// BenchmarkBotOverhead measures the bot's own time: from a customer's message stored by
// the inbox to the request reaching the model (the OpenAI simulator over loopback HTTP),
// with no debounce; the model's time is not counted. Each round is a new customer on the
// Cloud API channel, whose persona retrieves from the bakery's knowledge base (full text
// and vectors, embedding the question at the simulator too). Reports p50-ms and p95-ms;
// the goal is a p95 under 50 ms.
func BenchmarkBotOverhead(b *testing.B) {
	e := newEnvWith(b, func(c *config.Config) { c.BotDebounce = 0 })
	ch := e.ch
	var lat []time.Duration
	i := 0
	for b.Loop() {
		i++
		before := len(e.chats())
		r, err := e.inst.App.Inbox.Receive(e.ctx, ch, inbox.Inbound{From: fmt.Sprintf("+55119%08d", 50_000_000+i),
			Name: "Cliente", Body: "Vocês fazem entregas no bairro?", ProviderID: fmt.Sprintf("wamid.bench.%d.%d", time.Now().UnixNano(), i)})
		stored := time.Now()
		if err != nil {
			b.Fatal(err)
		}
		var sent time.Time
		wait(b, 10*time.Second, "the model request", func() bool {
			reqs := e.chats()
			if len(reqs) > before {
				sent = reqs[len(reqs)-1].Time
				return true
			}
			return false
		})
		lat = append(lat, sent.Sub(stored))
		// The reply is stored before the next round, so rounds do not overlap.
		wait(b, 10*time.Second, "the reply", func() bool { return len(e.aiReplies(b, r.ConversationID)) == 1 })
	}
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(p(0.50), "p50-ms")
	b.ReportMetric(p(0.95), "p95-ms")
	b.Logf("%d messages: p50 %.1f ms, p95 %.1f ms, max %.1f ms (goal p95 < 50 ms)", len(lat), p(0.5), p(0.95), p(1))
}
