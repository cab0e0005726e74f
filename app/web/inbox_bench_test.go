package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"masteria/app/channel/meta"
	"masteria/app/model"
	"masteria/app/web/webtest"
)

// ingestClients is how many webhook deliveries are in flight at once, as Meta sends them.
const ingestClients = 8

// ingestSenders is how many customers write to the number during the benchmark.
const ingestSenders = 1000

// metaTextWebhook is the notification Meta sends for one inbound text message: the exact
// envelope (object, entry, changes, value with metadata, contacts and messages).
func metaTextWebhook(phoneNumberID, from, name, wamid, text string, at time.Time) []byte {
	return fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{`+
		`"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":%q},`+
		`"contacts":[{"profile":{"name":%q},"wa_id":%q}],`+
		`"messages":[{"from":%q,"id":%q,"timestamp":"%d","type":"text","text":{"body":%q}}]},`+
		`"field":"messages"}]}]}`, phoneNumberID, name, from, from, wamid, at.Unix(), text)
}

// ingestRun posts webhooks from ingestClients goroutines; next gives the i-th body and
// false when there is nothing more to send. It returns each request's latency, how many
// were answered 200, and the wall time.
type ingestResult struct {
	times   []time.Duration
	ok      int64
	failed  int64
	elapsed time.Duration
}

func ingest(client *http.Client, url, secret string, bodies <-chan []byte) ingestResult {
	var (
		mu  sync.Mutex
		res ingestResult
		wg  sync.WaitGroup
	)
	start := time.Now()
	for range ingestClients {
		wg.Go(func() {
			var local []time.Duration
			for body := range bodies {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("User-Agent", "facebookexternalua")
				req.Header.Set("X-Hub-Signature-256", meta.Sign(body, secret))
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

func (r ingestResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(len(r.times)) / r.elapsed.Seconds()
}

// BenchmarkWebhookIngest measures inbound WhatsApp messages end to end: signed Cloud API
// webhooks (one text message each, unique wamids, ~1,000 senders) posted over loopback HTTP
// by ingestClients concurrent clients to a running app, through the whole handler chain
// (channel lookup, secrets, signature, parse, contact, conversation, message, event) into
// PostgreSQL. It reports msgs/s, p50-ms and p99-ms, "lost" (answered 200 but not stored;
// must be 0), and x-bare: how many times the throughput of a bare handler (reads the body,
// answers 200) with the same client code is above the app's.
func BenchmarkWebhookIngest(b *testing.B) {
	inst := webtest.Start(b)
	c := webtest.NewClient(b, inst.URL)
	c.Signup("Clínica Sorriso", "Rui", uniqueEmail("ingest"), strongPassword)
	ctx := context.Background()
	db := inst.App.Store.DB()
	var orgID, userID int64
	if err := db.Get(&orgID, `SELECT id FROM orgs`); err != nil {
		b.Fatal(err)
	}
	if err := db.Get(&userID, `SELECT id FROM users`); err != nil {
		b.Fatal(err)
	}
	const secret = "bench-app-secret"
	ch, err := inst.App.Inbox.CreateChannel(ctx, model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner},
		model.KindWhatsAppCloud, "WhatsApp", map[string]string{"phone_number_id": "106540352242922"},
		map[string]string{"app_secret": secret, "verify_token": "vt", "access_token": "EAAbench"})
	if err != nil {
		b.Fatal(err)
	}
	url := fmt.Sprintf("%s/webhooks/whatsapp/%d", inst.URL, ch.ID)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: ingestClients * 2, MaxIdleConnsPerHost: ingestClients * 2, IdleConnTimeout: time.Minute}}
	defer client.CloseIdleConnections()

	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	body := func(i int) []byte {
		s := i % ingestSenders
		return metaTextWebhook("106540352242922", fmt.Sprintf("55119%08d", 87650000+s), fmt.Sprintf("Cliente %d", s),
			fmt.Sprintf("wamid.HBgN%s%09d", run, i), fmt.Sprintf("Olá, mensagem %d: queria saber o horário de amanhã", i), time.Now())
	}

	bodies := make(chan []byte)
	done := make(chan ingestResult, 1)
	go func() { done <- ingest(client, url, secret, bodies) }()
	n := 0
	b.ResetTimer()
	for b.Loop() {
		bodies <- body(n) // blocks until a client is free: the loop runs at the server's pace
		n++
	}
	close(bodies)
	app := <-done
	b.StopTimer()

	var stored int64
	if err := db.Get(&stored, `SELECT count(*) FROM messages WHERE org_id = $1 AND channel_id = $2`, orgID, ch.ID); err != nil {
		b.Fatal(err)
	}

	// The bound: the same clients against a handler that only reads the body.
	bareSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	defer bareSrv.Close()
	bareBodies := make(chan []byte)
	go func() { done <- ingest(client, bareSrv.URL+"/webhooks/whatsapp/1", secret, bareBodies) }()
	for i := range n {
		bareBodies <- body(i)
	}
	close(bareBodies)
	bare := <-done

	b.ReportMetric(app.rate(), "msgs/s")
	b.ReportMetric(ms(percentile(app.times, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(app.times, 99)), "p99-ms")
	b.ReportMetric(float64(app.ok-stored), "lost")
	b.ReportMetric(float64(app.failed), "non-200")
	b.ReportMetric(bare.rate()/max(app.rate(), 1e-9), "x-bare")
	b.Logf("%d webhooks: app %.0f msgs/s p50 %.2f ms p99 %.2f ms (%d ok, %d failed, %d stored); bare %.0f msgs/s p50 %.2f ms",
		n, app.rate(), ms(percentile(app.times, 50)), ms(percentile(app.times, 99)), app.ok, app.failed, stored,
		bare.rate(), ms(percentile(bare.times, 50)))
	if app.ok != stored {
		b.Errorf("%d webhooks answered 200 but %d messages stored", app.ok, stored)
	}
}

// inboxScale is the seeded inbox: conversations and messages of the benchmarked org.
// MASTERIA_BENCH_INBOX_SCALE divides it (e.g. 10 for a quick run).
func inboxScale() (convs, msgs int) {
	convs, msgs = 100_000, 1_000_000
	if d, _ := strconv.Atoi(os.Getenv("MASTERIA_BENCH_INBOX_SCALE")); d > 1 {
		convs, msgs = convs/d, msgs/d
	}
	return convs, msgs
}

// inboxBench is a running app whose org has a large seeded inbox, and the requests of its
// logged-in owner.
type inboxBench struct {
	h       http.Handler
	home    string
	cookies []*http.Cookie
	convs   []int64         // the org's conversation ids
	long    []int64         // conversations with more than a page of messages
	before  map[int64]int64 // a long conversation's 60th newest message: an older page's cursor
}

// seedInbox starts an app with two orgs; the first gets convs conversations (a third
// assigned to the owner, the rest unassigned; 60% open, 10% pending, 30% closed; 5% labelled
// "vip", about 14% "entrega") and msgs
// messages (a fifth of them in the first 1% of conversations, so long threads exist); the
// second org gets a tenth as much, so the org_id predicates have something to skip.
// Message texts are twenty everyday phrases (so "horário" is in about one message in
// ten, "bolo" one in twenty), "panetone" in one in a thousand and "João" in one in two
// hundred, spread at random over the conversations.
func seedInbox(b *testing.B) *inboxBench {
	b.Helper()
	inst := webtest.Start(b)
	ctx := context.Background()
	db := inst.App.Store.DB()

	other := webtest.NewClient(b, inst.URL)
	other.Signup("Outra Loja", "Zé", uniqueEmail("other"), strongPassword)
	c := webtest.NewClient(b, inst.URL)
	home := c.Signup("Ótica Visão", "Lia", uniqueEmail("inbox"), strongPassword)

	convs, msgs := inboxScale()
	type org struct {
		id, user, channel int64
		convs, msgs       int
	}
	var orgs []org
	for i, name := range []string{"Outra Loja", "Ótica Visão"} {
		var o org
		if err := db.Get(&o.id, `SELECT id FROM orgs WHERE name = $1`, name); err != nil {
			b.Fatal(err)
		}
		if err := db.Get(&o.user, `SELECT user_id FROM memberships WHERE org_id = $1`, o.id); err != nil {
			b.Fatal(err)
		}
		ch, err := inst.App.Inbox.CreateChannel(ctx, model.Actor{OrgID: o.id, UserID: o.user, Role: model.RoleOwner},
			model.KindSandbox, "Sandbox", nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		o.channel = ch.ID
		o.convs, o.msgs = convs, msgs
		if i == 0 {
			o.convs, o.msgs = convs/10, msgs/10
		}
		orgs = append(orgs, o)
	}

	start := time.Now()
	var took []string
	// Bulk loading: the conversations' words are filled once at the end, as migration 00012
	// does, rather than by the trigger for each of a million messages.
	if _, err := db.ExecContext(ctx, `ALTER TABLE messages DISABLE TRIGGER conversation_learns_words`); err != nil {
		b.Fatal(err)
	}
	for _, o := range orgs {
		long := max(o.convs/100, 1) // conversations 0..long-1 share a fifth of the messages
		steps := []struct{ what, sql string }{
			{"contacts", `INSERT INTO contacts (org_id, name, phone, created_at, last_activity_at)
				SELECT $1, (ARRAY['Ana','Bruno','Carla','Diego','Elisa','Fábio','Gabriela','Heitor','Isabela','João',
				               'Karina','Lucas','Mariana','Nicolas','Olívia','Pedro','Quésia','Rafael','Sofia','Tiago'])[1 + g % 20]
				       || ' ' || (ARRAY['Silva','Santos','Oliveira','Souza','Rodrigues','Ferreira','Alves','Pereira','Lima','Gomes',
				               'Costa','Ribeiro','Martins','Carvalho','Almeida','Lopes','Soares','Fernandes','Vieira','Barbosa'])[1 + (g / 20) % 20]
				       || ' ' || g,
				       '+55119' || lpad(g::text, 8, '0'), now() - g * interval '1 minute', now()
				FROM generate_series(0, $2 - 1) g`},
			{"conversations", `INSERT INTO conversations (org_id, channel_id, contact_id, status, assignee_id, unread,
				       last_message_at, last_inbound_at, preview, created_at, labels)
				SELECT $1, $3, c.id,
				       CASE WHEN k % 10 < 6 THEN 'open' WHEN k % 10 = 6 THEN 'pending' ELSE 'closed' END,
				       CASE WHEN k % 3 = 0 THEN $4::bigint END, k % 4,
				       now() - (random() * 90 * 86400) * interval '1 second', now() - k * interval '1 minute',
				       'Olá, tudo bem? Queria saber o preço', now() - k * interval '1 minute',
				       CASE WHEN k % 20 = 0 THEN ARRAY['vip'] WHEN k % 7 = 0 THEN ARRAY['entrega', 'orçamento'] ELSE '{}' END
				FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM contacts WHERE org_id = $1) c
				WHERE k < $2`},
			{"messages", `INSERT INTO messages (org_id, conversation_id, channel_id, direction, kind, body, provider_id, status, created_at, status_at)
				SELECT $1, v.id, $3, CASE WHEN g % 3 = 0 THEN 'out' ELSE 'in' END, 'text',
				       CASE WHEN abs(hashint8(g)) % 1000 = 7 THEN 'Vocês ainda têm panetone trufado? Quanto custa o de 1 kg?'
				            WHEN abs(hashint8(g)) % 200 = 3 THEN 'Oi, aqui é o João, falei com vocês ontem sobre a entrega'
				            ELSE (ARRAY['Olá, gostaria de saber se ainda tem horário disponível amanhã de manhã',
				                'Bom dia! Vocês entregam no sábado à tarde?', 'Qual o valor do orçamento para 50 convites de casamento?',
				                'Obrigado, recebi o pedido certinho', 'Pode mandar a chave PIX que eu pago agora',
				                'Quero encomendar um bolo de chocolate para sexta', 'Tudo bem? Qual o horário de funcionamento hoje?',
				                'Vocês aceitam cartão de crédito em 3 vezes?', 'Olá! O pedido 4821 já saiu para entrega?',
				                'Perfeito, combinado então. Até amanhã!', 'Boa tarde, qual o prazo de entrega para Campinas?',
				                'Segue o comprovante do pagamento', 'Vocês têm estacionamento no local?',
				                'Olá, quero cancelar o meu pedido', 'Muito obrigada pelo atendimento, nota dez!',
				                'Oi, tudo bem? Queria saber o preço da coxinha o cento', 'Consegue me mandar o cardápio atualizado?',
				                'Tem opção sem glúten ou sem lactose?', 'Estou esperando o motoboy ainda, alguma previsão?',
				                'Bom dia, vocês abrem no feriado?'])[1 + abs(hashint8(g + 1)) % 20] END,
				       CASE WHEN g % 3 = 0 THEN NULL ELSE 'wamid.seed' || $1 || '.' || g END,
				       CASE WHEN g % 3 = 0 THEN 'read' ELSE 'received' END,
				       now() - ($4 - g) * interval '1 second', now()
				FROM generate_series(0::bigint, $4 - 1) g
				JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM conversations WHERE org_id = $1) v
				  ON v.k = CASE WHEN g < $4 / 5 THEN g % $5 ELSE $5 + (g - $4 / 5) % ($2 - $5) END`},
		}
		for _, st := range steps {
			t0 := time.Now()
			var err error
			switch st.what {
			case "contacts":
				_, err = db.ExecContext(ctx, st.sql, o.id, o.convs)
			case "conversations":
				_, err = db.ExecContext(ctx, st.sql, o.id, o.convs, o.channel, o.user)
			case "messages":
				_, err = db.ExecContext(ctx, st.sql, o.id, o.convs, o.channel, o.msgs, long)
			}
			if err != nil {
				b.Fatalf("seed %s: %v", st.what, err)
			}
			took = append(took, fmt.Sprintf("%s %s", st.what, time.Since(t0).Round(time.Millisecond)))
		}
	}
	t0 := time.Now()
	if _, err := db.ExecContext(ctx, `UPDATE conversations v SET search = m.words
		FROM (SELECT conversation_id, search_union(strip(search)) AS words FROM messages GROUP BY conversation_id) m
		WHERE m.conversation_id = v.id`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ALTER TABLE messages ENABLE TRIGGER conversation_learns_words`); err != nil {
		b.Fatal(err)
	}
	took = append(took, fmt.Sprintf("words %s", time.Since(t0).Round(time.Millisecond)))
	if _, err := db.ExecContext(ctx, `VACUUM (ANALYZE) contacts, conversations, messages`); err != nil {
		b.Fatal(err)
	}
	b.Logf("seed: %d conversations, %d messages (+10%% in a second org) in %s %v", convs, msgs, time.Since(start).Round(time.Millisecond), took)

	ib := &inboxBench{h: inst.App.Web.Handler(), home: home}
	u, _ := http.NewRequest(http.MethodGet, inst.URL, nil)
	ib.cookies = c.HTTP.Jar.Cookies(u.URL)
	me := orgs[1]
	if err := db.Select(&ib.convs, `SELECT id FROM conversations WHERE org_id = $1 ORDER BY id`, me.id); err != nil {
		b.Fatal(err)
	}
	ib.long = ib.convs[:max(me.convs/100, 1)]
	var cursors []struct {
		Conv int64 `db:"conversation_id"`
		ID   int64 `db:"id"`
	}
	if err := db.Select(&cursors, `SELECT conversation_id, id FROM (
		SELECT conversation_id, id, row_number() OVER (PARTITION BY conversation_id ORDER BY id DESC) AS n
		FROM messages WHERE org_id = $1 AND conversation_id <= $2) m WHERE n = 60`, me.id, ib.long[len(ib.long)-1]); err != nil {
		b.Fatal(err)
	}
	ib.before = make(map[int64]int64, len(cursors))
	for _, c := range cursors {
		ib.before[c.Conv] = c.ID
	}
	if len(ib.before) == 0 {
		b.Fatal("no conversation has more than a page of messages")
	}
	return ib
}

func (ib *inboxBench) get(b *testing.B, path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, ib.home+path, nil)
	req.Header.Set("Accept-Language", "pt-BR")
	req.Header.Set("HX-Request", "true")
	for _, ck := range ib.cookies {
		req.AddCookie(ck)
	}
	rec := serve(ib.h, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: %d %s", path, rec.Code, webtest.Text(rec.Body.String()))
	}
	return rec
}

// BenchmarkInboxList measures the inbox list fragment (GET /o/{org}/inbox/list) of an org
// with 100,000 conversations and 1,000,000 messages, through the whole handler chain in
// process, cycling through the filters agents use. It reports p50-ms and p95-ms over all
// of them and logs each filter's, the slowest first.
func BenchmarkInboxList(b *testing.B) {
	ib := seedInbox(b)
	filters := []struct{ name, query string }{
		{"all open", "/inbox/list"},
		{"mine open", "/inbox/list?view=mine&status=open"},
		{"unassigned open", "/inbox/list?view=unassigned&status=open"},
		{"all any status", "/inbox/list?view=all&status=any"},
		{"pending", "/inbox/list?view=all&status=pending"},
		{"search name", "/inbox/list?view=all&status=open&q=ana+silva"},
		{"search phone", "/inbox/list?view=all&status=any&q=1190004242"},
		{"search rare", "/inbox/list?view=all&status=open&q=nobody-has-this"},
		{"text common", "/inbox/list?view=all&status=open&q=hor%C3%A1rio"},     // ~10% of messages
		{"text medium", "/inbox/list?view=all&status=open&q=panetone"},         // 0.1%
		{"text and name", "/inbox/list?view=all&status=open&q=joao"},           // 0.5% of messages, 5% of names
		{"text two words", "/inbox/list?view=all&status=any&q=bolo+chocolate"}, // 5%
		{"label (5%)", "/inbox/list?view=all&status=open&label=vip"},
	}
	for _, f := range filters { // warm up, and check each answers
		ib.get(b, f.query)
	}
	per := make([][]time.Duration, len(filters))
	var all []time.Duration
	i := 0
	b.ResetTimer()
	for b.Loop() {
		k := i % len(filters)
		i++
		t0 := time.Now()
		ib.get(b, filters[k].query)
		d := time.Since(t0)
		per[k] = append(per[k], d)
		all = append(all, d)
	}
	b.StopTimer()
	b.ReportMetric(ms(percentile(all, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(all, 95)), "p95-ms")
	slowest, worst := "", time.Duration(0)
	for k, f := range filters {
		p95 := percentile(per[k], 95)
		b.Logf("%-16s p50 %6.2f ms  p95 %6.2f ms  (%d requests)", f.name, ms(percentile(per[k], 50)), ms(p95), len(per[k]))
		if p95 > worst {
			slowest, worst = f.name, p95
		}
	}
	b.Logf("slowest filter: %s (p95 %.2f ms)", slowest, ms(worst))
}

// BenchmarkInboxThread measures a conversation's thread fragment (GET
// /o/{org}/inbox/{id}/thread) in the same seeded org: alternately the newest page of a
// random conversation and an older page (?before=) of a long one. It reports p50-ms and
// p95-ms over both, and logs each kind's.
func BenchmarkInboxThread(b *testing.B) {
	ib := seedInbox(b)
	rng := rand.New(rand.NewPCG(1, 2))
	var long []int64
	for id := range ib.before {
		long = append(long, id)
	}
	ib.get(b, fmt.Sprintf("/inbox/%d/thread?before=%d", long[0], ib.before[long[0]]))
	var newest, older []time.Duration
	i := 0
	b.ResetTimer()
	for b.Loop() {
		var path string
		if i%2 == 0 {
			path = fmt.Sprintf("/inbox/%d/thread", ib.convs[rng.IntN(len(ib.convs))])
		} else {
			id := long[rng.IntN(len(long))]
			// An id inside the conversation's history: the page shows the 50 messages older than it.
			path = fmt.Sprintf("/inbox/%d/thread?before=%d", id, ib.before[id])
		}
		t0 := time.Now()
		rec := ib.get(b, path)
		d := time.Since(t0)
		if i%2 == 0 {
			newest = append(newest, d)
		} else {
			older = append(older, d)
			if rec.Body.Len() == 0 {
				b.Fatalf("%s: empty page", path)
			}
		}
		i++
	}
	b.StopTimer()
	all := append(append([]time.Duration{}, newest...), older...)
	b.ReportMetric(ms(percentile(all, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(all, 95)), "p95-ms")
	b.Logf("newest page  p50 %6.2f ms  p95 %6.2f ms  (%d requests)", ms(percentile(newest, 50)), ms(percentile(newest, 95)), len(newest))
	b.Logf("older page   p50 %6.2f ms  p95 %6.2f ms  (%d requests)", ms(percentile(older, 50)), ms(percentile(older, 95)), len(older))
}
