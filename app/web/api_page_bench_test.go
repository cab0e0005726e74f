package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"masteria/app/config"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/store/storetest"
	"masteria/app/web/webtest"
)

// BenchmarkAPIMessagesWalk walks GET /api/v1/conversations/{id}/messages to the end, 100 a
// page, over a thread of 50,000 messages (and another org's thread as long), in process
// through the whole API chain. The threads hold one text over and over: each new word would
// grow the conversation's search words, which is the seeding's cost, not the API's. The page
// keeps its place by the message id: it reports the p50 and p95 of a page, the time of the
// last 10 pages over that of pages 2 to 11 (about 1 when a deep page costs what an early one
// does; the first page, which warms the caches, is left out) and messages read a second.
func BenchmarkAPIMessagesWalk(b *testing.B) {
	ctx := context.Background()
	inst := webtest.StartOn(b, storetest.URL(b), func(c *config.Config) { c.APIRateLimit = 1_000_000 })
	const n = 50_000
	var conv int64
	var key string
	for i, name := range []string{"Loja Conversa Longa", "Loja Vizinha Longa"} {
		webtest.NewClient(b, inst.URL).Signup(name, "Ivo", uniqueEmail("ivo"), strongPassword)
		var org int64
		if err := inst.App.Store.DB().Get(&org, `SELECT id FROM orgs WHERE name = $1`, name); err != nil {
			b.Fatal(err)
		}
		ch, err := inst.App.Inbox.CreateChannel(ctx, model.Actor{OrgID: org, Role: model.RoleOwner}, model.KindSandbox, "Loja", nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		r, err := inst.App.Inbox.Receive(ctx, ch, inbox.Inbound{From: "+5511987650000", Body: "Olá", ProviderID: "long.0"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := inst.App.Store.DB().Exec(`INSERT INTO messages (org_id, conversation_id, channel_id, direction, body, created_at)
			SELECT $1, $2, $3, 'in', 'Mensagem de teste', now() - ($4 - i) * interval '1 second' FROM generate_series(2, $4) i`,
			org, r.ConversationID, ch.ID, n); err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			conv = r.ConversationID
			if key, err = inst.App.Account.CreateAPIKeyForOrgName(ctx, name, "ERP"); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := inst.App.Store.DB().Exec(`ANALYZE messages`); err != nil {
		b.Fatal(err)
	}
	h := inst.App.Web.Handler()
	base := "/api/v1/conversations/" + strconv.FormatInt(conv, 10) + "/messages?limit=100"
	page := func(after string) (time.Duration, int, *string) {
		var out struct {
			Messages []model.Message
			Next     *string
		}
		took := getPage(b, h, key, base, after, &out)
		return took, len(out.Messages), out.Next
	}
	walkPages(b, n, "messages", page)
}

// BenchmarkAPITagsWalk walks GET /api/v1/tags to the end, 100 a page, over 5,000 tags (and a
// neighbour org's 5,000, made between them) carried by 20,000 contacts, two tags each. Tags
// is the largest of the lists that used to come whole, and each row counts its contacts.
// The page keeps its place by the tag id: it reports the p50 and p95 of a page, the time of
// the last 10 pages over that of pages 2 to 11 (about 1 when a deep page costs what an
// early one does) and tags read a second.
func BenchmarkAPITagsWalk(b *testing.B) {
	inst := webtest.StartOn(b, storetest.URL(b), func(c *config.Config) { c.APIRateLimit = 1_000_000 })
	const n = 5_000
	db := inst.App.Store.DB()
	var orgs []int64
	for _, name := range []string{"Loja Etiquetas", "Loja Vizinha Etiquetas"} {
		webtest.NewClient(b, inst.URL).Signup(name, "Ivo", uniqueEmail("ivo"), strongPassword)
		var org int64
		if err := db.Get(&org, `SELECT id FROM orgs WHERE name = $1`, name); err != nil {
			b.Fatal(err)
		}
		orgs = append(orgs, org)
	}
	if _, err := db.Exec(`INSERT INTO tags (org_id, name, color)
		SELECT CASE WHEN i % 2 = 0 THEN $1 ELSE $2 END::bigint, 'Etiqueta ' || i, 'green' FROM generate_series(0, 2 * $3 - 1) i`,
		orgs[0], orgs[1], n); err != nil {
		b.Fatal(err)
	}
	for _, org := range orgs {
		if _, err := db.Exec(`INSERT INTO contacts (org_id, name, tag_ids)
			SELECT $1, 'Contato ' || i, ARRAY[t.ids[1 + i % $2], t.ids[1 + (i * 7) % $2]]
			FROM generate_series(1, 20000) i, (SELECT array_agg(id ORDER BY id) AS ids FROM tags WHERE org_id = $1) t`, org, n); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.Exec(`ANALYZE tags; ANALYZE contacts`); err != nil {
		b.Fatal(err)
	}
	key, err := inst.App.Account.CreateAPIKeyForOrgName(context.Background(), "Loja Etiquetas", "ERP")
	if err != nil {
		b.Fatal(err)
	}
	h := inst.App.Web.Handler()
	page := func(after string) (time.Duration, int, *string) {
		var out struct {
			Tags []model.Tag
			Next *string
		}
		took := getPage(b, h, key, "/api/v1/tags?limit=100", after, &out)
		return took, len(out.Tags), out.Next
	}
	walkPages(b, n, "tags", page)
}

// walkPages walks a paged list to the end once per benchmark round, page(after) reading one
// page, and reports the pages' p50 and p95, the last 10 pages' time over pages 2 to 11 of each
// walk (a deep page should cost what a shallow one does), and rows read per second. Each walk
// must read n rows of what.
func walkPages(b *testing.B, n int, what string, page func(after string) (time.Duration, int, *string)) {
	var times []time.Duration
	var shallow, deep, total time.Duration
	read := 0
	b.ResetTimer()
	for b.Loop() {
		after, got := "", 0
		var walk []time.Duration
		for {
			took, k, next := page(after)
			walk = append(walk, took)
			total += took
			got += k
			if next == nil {
				break
			}
			after = *next
		}
		if got != n {
			b.Fatalf("the walk read %d %s, want %d", got, what, n)
		}
		for _, d := range walk[1:11] {
			shallow += d
		}
		for _, d := range walk[len(walk)-10:] {
			deep += d
		}
		times = append(times, walk...)
		read += got
	}
	b.StopTimer()
	b.ReportMetric(ms(percentile(times, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(times, 95)), "p95-ms")
	b.ReportMetric(float64(deep)/float64(max(shallow, 1)), "deep/shallow")
	b.ReportMetric(float64(read)/total.Seconds(), "rows/s")
}

// getPage GETs base (a path with its query), with after as the cursor when set, as the
// holder of key, decodes the answer into out and returns how long the request took.
func getPage(b *testing.B, h http.Handler, key, base, after string, out any) time.Duration {
	q := base
	if after != "" {
		q += "&after=" + url.QueryEscape(after)
	}
	req := httptest.NewRequest(http.MethodGet, q, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	start := time.Now()
	rec := serve(h, req)
	took := time.Since(start)
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), out) != nil {
		b.Fatalf("%s: %d %s", q, rec.Code, rec.Body.String())
	}
	return took
}
