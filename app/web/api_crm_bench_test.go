package web_test

import (
	"context"
	"testing"
	"time"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

// BenchmarkAPIContactsWalk walks GET /api/v1/contacts to the end, 100 a page, over 20,000
// contacts of an org (and 20,000 of another), in process through the whole API chain (key,
// rate limit, scope, text check). Keyset pages cost the same however deep: it reports the
// p50 and p95 of a page, the last page's time over the first's, and contacts read a second.
func BenchmarkAPIContactsWalk(b *testing.B) {
	inst := webtest.Start(b)
	var orgs []int64
	for _, name := range []string{"Loja Muitos Contatos", "Loja Vizinha Grande"} {
		webtest.NewClient(b, inst.URL).Signup(name, "Ivo", uniqueEmail("ivo"), strongPassword)
		var id int64
		if err := inst.App.Store.DB().Get(&id, `SELECT id FROM orgs WHERE name = $1`, name); err != nil {
			b.Fatal(err)
		}
		orgs = append(orgs, id)
	}
	key, err := inst.App.Account.CreateAPIKeyForOrgName(context.Background(), "Loja Muitos Contatos", "ERP")
	if err != nil {
		b.Fatal(err)
	}
	const n = 20_000
	for _, org := range orgs {
		if _, err := inst.App.Store.DB().Exec(`INSERT INTO contacts (org_id, name, phone, created_at)
			SELECT $1, 'Cliente ' || i, '+5511' || (900000000 + i)::text, now() - i * interval '1 minute'
			FROM generate_series(1, $2) i`, org, n); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := inst.App.Store.DB().Exec(`ANALYZE contacts`); err != nil {
		b.Fatal(err)
	}
	h := inst.App.Web.Handler()
	page := func(after string) (time.Duration, []model.Contact, *string) {
		var out struct {
			Contacts []model.Contact
			Next     *string
		}
		took := getPage(b, h, key, "/api/v1/contacts?limit=100", after, &out)
		return took, out.Contacts, out.Next
	}
	var times []time.Duration
	var firsts, lasts time.Duration
	read := 0
	var total time.Duration
	b.ResetTimer()
	for b.Loop() {
		after := ""
		seen := map[int64]bool{}
		for i := 0; ; i++ {
			took, cs, next := page(after)
			times = append(times, took)
			total += took
			if i == 0 {
				firsts += took
			}
			for _, c := range cs {
				seen[c.ID] = true
			}
			read += len(cs)
			if next == nil {
				lasts += took
				break
			}
			after = *next
		}
		if len(seen) != n {
			b.Fatalf("the walk read %d contacts once, want %d", len(seen), n)
		}
	}
	b.StopTimer()
	b.ReportMetric(ms(percentile(times, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(times, 95)), "p95-ms")
	b.ReportMetric(float64(lasts)/float64(max(firsts, 1)), "last/first")
	b.ReportMetric(float64(read)/total.Seconds(), "rows/s")
}
