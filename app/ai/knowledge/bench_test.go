package knowledge_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/pgvector/pgvector-go"

	"masteria/app/model"
	"masteria/app/store/storetest"
)

// BenchmarkRAGSearch searches 100,000 chunks (the bakery's passages among 99,966 others
// about other things, in 100 documents, each with its hashed embedding under the HNSW index)
// with the labelled questions: hybrid top-5 (full text fused with the nearest vectors) and
// full text alone. It reports p95-ms and p50-ms of hybrid, lexical-p95-ms and lexical-p50-ms,
// and recall@5 of hybrid and of full text at that size. The chunks are written straight into
// the table: its triggers count their words (kb_terms) as the index job's writes do.
func BenchmarkRAGSearch(b *testing.B) {
	const total = 100_000
	st, _ := storetest.New(b)
	ctx := context.Background()
	org, err := st.CreateOrg(ctx, "Doce Lar")
	if err != nil {
		b.Fatal(err)
	}
	kbID, passageOf := loadBakery(b, st, org.ID)
	var passages []passage
	readJSON(b, "testdata/bakery_passages.json", &passages)
	var bakery []string
	for _, p := range passages {
		bakery = append(bakery, strings.Fields(p.Text)...)
	}
	// The other chunks are about other things, as a large knowledge base is: words of a
	// 30,000-word made-up vocabulary drawn with Zipf's law (a few words everywhere, most
	// rare), with one word in twenty from the bakery's texts, so the questions' words also
	// turn up outside the passages that answer them.
	syllables := strings.Fields("ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo fu ga ge go gu la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo vu ção nha lha tra pre cri")
	vocab := make([]string, 30_000)
	vrng := rand.New(rand.NewPCG(3, 4))
	for i := range vocab {
		var w strings.Builder
		for range 2 + vrng.IntN(3) {
			w.WriteString(syllables[vrng.IntN(len(syllables))])
		}
		vocab[i] = w.String()
	}
	db := st.DB()
	// The indexes are built once at the end: faster.
	for _, index := range []string{"kb_chunks_embedding", "kb_chunks_words"} {
		if _, err := db.Exec(`DROP INDEX ` + index); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(vocab)-1))
	fill := total - len(passageOf)
	for d := 0; d*1000 < fill; d++ {
		doc, err := st.CreateDocument(ctx, org.ID, model.KBDocument{KnowledgeBaseID: kbID, Title: fmt.Sprintf("Arquivo %d", d), Content: "."})
		if err != nil {
			b.Fatal(err)
		}
		n := min(1000, fill-d*1000)
		texts, vecs, positions := make([]string, n), make([]string, n), make([]int64, n)
		for i := range n {
			words := make([]string, 40+rng.IntN(60))
			for j := range words {
				if rng.IntN(20) == 0 {
					words[j] = bakery[rng.IntN(len(bakery))]
				} else {
					words[j] = vocab[zipf.Uint64()]
				}
			}
			texts[i] = strings.Join(words, " ")
			vecs[i] = pgvector.NewVector(hashEmbedding(texts[i])).String()
			positions[i] = int64(i)
		}
		if _, err := db.Exec(`INSERT INTO kb_chunks (org_id, knowledge_base_id, document_id, position, heading, text, embedding, embedding_model)
			SELECT $1, $2, $3, u.position, '', u.text, u.embedding::vector, 'hash'
			FROM unnest($4::int[], $5::text[], $6::text[]) AS u(position, text, embedding)`,
			org.ID, kbID, doc.ID, pq.Array(positions), pq.Array(texts), pq.Array(vecs)); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	if _, err := db.Exec(`SET maintenance_work_mem = '512MB'`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(`CREATE INDEX kb_chunks_embedding ON kb_chunks USING hnsw (embedding vector_cosine_ops) WHERE embedding IS NOT NULL`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(`CREATE INDEX kb_chunks_words ON kb_chunks USING gin (org_id, knowledge_base_id, tsv) WITH (gin_pending_list_limit = 256)`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(`ANALYZE kb_chunks`); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d chunks, HNSW and GIN indexes built in %s", total, time.Since(start).Round(time.Second))

	var questions []question
	readJSON(b, "testdata/bakery_questions.json", &questions)
	var hybrid, lexical []time.Duration
	found, foundLexical, asked := 0, 0, 0
	b.ResetTimer()
	for i := 0; i < max(b.N, 1) || len(hybrid) < 200; i++ {
		q := questions[i%len(questions)]
		t0 := time.Now()
		hits, err := st.SearchChunks(ctx, org.ID, []int64{kbID}, q.Q, hashEmbedding(q.Q), 5)
		hybrid = append(hybrid, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		lexHits, err := st.SearchChunks(ctx, org.ID, []int64{kbID}, q.Q, nil, 5)
		if err != nil {
			b.Fatal(err)
		}
		lexical = append(lexical, time.Since(t0))
		if i < len(questions) {
			asked++
			found += answered(hits, q.Answers, passageOf)
			foundLexical += answered(lexHits, q.Answers, passageOf)
		}
	}
	b.StopTimer()
	b.ReportMetric(ms(pct(hybrid, 95)), "p95-ms")
	b.ReportMetric(ms(pct(hybrid, 50)), "p50-ms")
	b.ReportMetric(ms(pct(lexical, 95)), "lexical-p95-ms")
	b.ReportMetric(ms(pct(lexical, 50)), "lexical-p50-ms")
	b.ReportMetric(float64(found)/float64(asked), "recall@5")
	b.ReportMetric(float64(foundLexical)/float64(asked), "lexical-recall@5")
	b.Logf("%d searches: hybrid p50 %.1f ms p95 %.1f ms; lexical p50 %.1f ms p95 %.1f ms; recall@5 hybrid %.3f, lexical %.3f among %d chunks",
		len(hybrid), ms(pct(hybrid, 50)), ms(pct(hybrid, 95)), ms(pct(lexical, 50)), ms(pct(lexical, 95)),
		float64(found)/float64(asked), float64(foundLexical)/float64(asked), total)
}

// answered is 1 when one of hits is one of the answers.
func answered(hits []model.ChunkHit, answers []string, passageOf map[int64]string) int {
	for _, h := range hits {
		if slices.Contains(answers, passageOf[h.ChunkID]) {
			return 1
		}
	}
	return 0
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
