package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"masteria/app/model"
	"masteria/app/store/storetest"
)

// BenchmarkContactSearch searches an org of 1,000,000 contacts the way the list does (search
// box, newest first, one page of 50) for a mix of what people type: a common surname, a
// first name, two words, names typed without accents, phone digits, part of an email, a
// rare name, and filters. It reports p50 and p95 in milliseconds over the mix.
func BenchmarkContactSearch(b *testing.B) {
	st, _ := storetest.New(b)
	ctx := context.Background()
	org, err := st.CreateOrg(ctx, "Atacadão")
	if err != nil {
		b.Fatal(err)
	}
	other, _ := st.CreateOrg(ctx, "Outra loja") // a second org, so org_id filtering is real
	start := time.Now()
	// Realistic names from first and last name lists; phones unique; a tenth tagged.
	_, err = st.DB().ExecContext(ctx, `
		WITH first(n, i) AS (SELECT * FROM unnest(ARRAY['Maria','José','Ana','João','Antônio','Francisca','Carlos','Paulo','Pedro','Lucas',
			'Luiz','Marcos','Luís','Gabriel','Rafael','Daniel','Marcelo','Bruno','Eduardo','Felipe','Juliana','Fernanda','Patrícia',
			'Aline','Sandra','Camila','Amanda','Bruna','Jéssica','Letícia','Júlia','Luciana','Vanessa','Mariana','Gabriela','Vera',
			'Vitória','Larissa','Cláudia','Beatriz']) WITH ORDINALITY),
		     last(n, i) AS (SELECT * FROM unnest(ARRAY['Silva','Santos','Oliveira','Souza','Rodrigues','Ferreira','Alves','Pereira',
			'Lima','Gomes','Costa','Ribeiro','Martins','Carvalho','Almeida','Lopes','Soares','Fernandes','Vieira','Barbosa','Rocha',
			'Dias','Nascimento','Andrade','Moreira','Nunes','Marques','Machado','Mendes','Freitas','Cardoso','Ramos','Gonçalves',
			'Santana','Teixeira']) WITH ORDINALITY)
		INSERT INTO contacts (org_id, name, phone, email, tag_ids, created_at, last_activity_at)
		SELECT $1,
		       f.n || ' ' || l.n || CASE WHEN g % 97 = 0 THEN ' Kowalczyk' ELSE '' END,
		       '+55' || (11 + g % 80)::text || '9' || lpad((g % 100000000)::text, 8, '0'),
		       CASE WHEN g % 3 = 0 THEN lower(f.n) || '.' || g || '@mail.com' END,
		       CASE WHEN g % 10 = 0 THEN ARRAY[1::bigint] ELSE '{}' END,
		       now() - (g || ' seconds')::interval, now() - ((g * 7) % 1000000 || ' seconds')::interval
		FROM generate_series(1::bigint, 1000000) g
		JOIN first f ON f.i = 1 + (g * 7919) % 40
		JOIN last l ON l.i = 1 + (g * 104729) % 35`, org.ID)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.DB().ExecContext(ctx, `INSERT INTO contacts (org_id, name, phone) SELECT $1, 'Maria Silva', '+5521' || g FROM generate_series(10000000, 10099999) g`, other.ID); err != nil {
		b.Fatal(err)
	}
	if _, err := st.DB().ExecContext(ctx, `ANALYZE contacts`); err != nil {
		b.Fatal(err)
	}
	b.Logf("1,000,000 contacts loaded in %s", time.Since(start).Round(time.Second))

	queries := []model.ContactFilter{
		{Query: "silva"},
		{Query: "maria"},
		{Query: "ana paula"},
		{Query: "joão santos"},
		{Query: "joao"},      // accents typed or not, the same contacts
		{Query: "GONCALVES"}, // (Gonçalves)
		{Query: "leticia lima"},
		{Query: "98765"},
		{Query: "(11) 9000"},
		{Query: "mail.com"},
		{Query: "kowalczyk"},
		{Query: "zzzz-nobody"},
		{Query: "lu"},
		{TagIDs: []int64{1}},
		{Query: "costa", TagIDs: []int64{1}},
		{OptedOut: "none", Query: "fernanda"},
	}
	var times []time.Duration
	perQuery := make([]time.Duration, len(queries))
	b.ResetTimer()
	i := 0
	for b.Loop() {
		qi := i % len(queries)
		f := queries[qi]
		i++
		t0 := time.Now()
		page, err := st.Contacts(ctx, org.ID, 0, f, model.ContactSort{By: "created", Desc: true}, "", 50)
		times = append(times, time.Since(t0))
		if d := time.Since(t0); d > perQuery[qi] {
			perQuery[qi] = d // the slowest run of each query, to see which one sets the p95
		}
		if err != nil {
			b.Fatal(err)
		}
		if f.Query == "silva" && len(page.Contacts) != 50 {
			b.Fatalf("silva: %d results", len(page.Contacts))
		}
	}
	b.StopTimer()
	for j, q := range queries {
		b.Logf("slowest %q tags=%v opted_out=%q: %v", q.Query, q.TagIDs, q.OptedOut, perQuery[j].Round(10*time.Microsecond))
	}
	slices.Sort(times)
	p := func(q int) float64 { return float64(times[(len(times)-1)*q/100]) / float64(time.Millisecond) }
	b.ReportMetric(p(50), "p50-ms")
	b.ReportMetric(p(95), "p95-ms")
	b.ReportMetric(1_000_000, "contacts")
}
