package kb_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"masteria/app/ai/kb"
	"masteria/app/ai/provider"
	"masteria/app/jobs"
	"masteria/app/model"
	"masteria/app/sim/openaisim"
	"masteria/app/store/storetest"
	"masteria/app/vault"
)

// BenchmarkIndexing adds documents as a person does (AddText: a row and a kb.index job in one
// transaction) and waits until River's workers have chunked them, stored the chunks and
// embedded them through the org's provider, langchaingo's client over HTTP to the OpenAI
// simulator, in batches of 64. It reports chunks/s and docs/s from the first document added to
// the last one ready, and embed-share: the part of that time the workers spent waiting for
// embeddings.
func BenchmarkIndexing(b *testing.B) {
	const (
		docsPerRound = 20
		parasPerDoc  = 40 // about 40 chunks each
		workers      = 4
	)
	ctx := context.Background()
	st, url := storetest.New(b)
	key, _ := vault.GenerateKey()
	ring, err := vault.ParseKeyRing(key)
	if err != nil {
		b.Fatal(err)
	}
	sim := openaisim.New(openaisim.WithAPIKey("sk-bench"))
	if _, err := sim.Start(); err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	org, err := st.CreateOrg(ctx, "Doce Lar")
	if err != nil {
		b.Fatal(err)
	}
	owner := model.Actor{OrgID: org.ID, Role: model.RoleOwner}
	ai := provider.New(st, ring)
	if err := ai.Save(ctx, owner, provider.Input{BaseURL: sim.URL() + "/v1", Key: "sk-bench", ChatModel: "gpt-4o-mini",
		EmbeddingModel: "text-embedding-3-small", EmbeddingDimensions: 1536}); err != nil {
		b.Fatal(err)
	}
	embedWait := &timedEmbedder{}
	svc := kb.New(st, kb.Options{EmbedderFor: func(ctx context.Context, orgID int64) (kb.Embedder, error) {
		e, err := ai.Embedder(ctx, orgID)
		if err != nil {
			return nil, err
		}
		return embedWait.wrap(e), nil
	}})
	reg := jobs.NewRegistry()
	kb.Register(reg, svc)
	client, err := jobs.New(ctx, st.DB().DB, url, reg, jobs.Options{MaxWorkers: workers})
	if err != nil {
		b.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() {
		stop, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = client.Stop(stop)
	}()
	svc.SetJobs(client)
	base, err := svc.CreateBase(ctx, owner, "Loja", "")
	if err != nil {
		b.Fatal(err)
	}

	words := strings.Fields("bolo torta pão salgado entrega encomenda cliente sabor chocolate morango cenoura coco " +
		"massa recheio cobertura forno receita preço tamanho festa aniversário casamento horário loja pedido pagamento " +
		"cartão pix desconto fidelidade doce brigadeiro coxinha empada quiche café leite manteiga açúcar farinha ovos")
	rng := rand.New(rand.NewPCG(7, 8))
	text := func(d int) string {
		var s strings.Builder
		for p := range parasPerDoc {
			fmt.Fprintf(&s, "## Seção %d\n\n", p)
			for range 110 {
				s.WriteString(words[rng.IntN(len(words))])
				s.WriteByte(' ')
			}
			fmt.Fprintf(&s, "(documento %d)\n\n", d)
		}
		return s.String()
	}
	var chunks, docs int
	var elapsed time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		texts := make([]string, docsPerRound)
		for d := range texts {
			texts[d] = text(i*docsPerRound + d)
		}
		b.StartTimer()
		start := time.Now()
		ids := make([]int64, 0, docsPerRound)
		for d, t := range texts {
			doc, err := svc.AddText(ctx, owner, base.ID, fmt.Sprintf("Documento %d", i*docsPerRound+d), t)
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, doc.ID)
		}
		n, err := waitIndexed(ctx, svc, org.ID, ids)
		if err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		chunks += n
		docs += len(ids)
	}
	b.StopTimer()
	b.ReportMetric(float64(chunks)/elapsed.Seconds(), "chunks/s")
	b.ReportMetric(float64(docs)/elapsed.Seconds(), "docs/s")
	b.ReportMetric(embedWait.total().Seconds()/workers/elapsed.Seconds(), "embed-share")
	b.Logf("%d documents, %d chunks in %s with %d workers: %.0f chunks/s; %d embedding requests",
		docs, chunks, elapsed.Round(time.Millisecond), workers, float64(chunks)/elapsed.Seconds(), len(sim.Requests()))
}

// waitIndexed waits until every document of ids is ready, and returns their chunks.
func waitIndexed(ctx context.Context, svc *kb.Service, orgID int64, ids []int64) (int, error) {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		n, done := 0, true
		for _, id := range ids {
			d, err := svc.Document(ctx, orgID, id)
			if err != nil {
				return 0, err
			}
			switch d.Status {
			case model.DocReady:
				n += d.Chunks
			case model.DocFailed:
				return 0, fmt.Errorf("document %d failed: %s", id, d.Error)
			default:
				done = false
			}
		}
		if done {
			return n, nil
		}
		if time.Now().After(deadline) {
			return 0, errors.New("documents not indexed in 5 minutes")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// timedEmbedder adds up the time the workers wait for embeddings.
type timedEmbedder struct {
	ch chan time.Duration
	n  time.Duration
}

func (t *timedEmbedder) wrap(e kb.Embedder) kb.Embedder {
	if t.ch == nil {
		t.ch = make(chan time.Duration, 1<<16)
	}
	return timed{e, t.ch}
}

func (t *timedEmbedder) total() time.Duration {
	for {
		select {
		case d := <-t.ch:
			t.n += d
		default:
			return t.n
		}
	}
}

type timed struct {
	kb.Embedder
	ch chan time.Duration
}

func (t timed) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	start := time.Now()
	v, err := t.Embedder.EmbedDocuments(ctx, texts)
	t.ch <- time.Since(start)
	return v, err
}
