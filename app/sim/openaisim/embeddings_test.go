package openaisim_test

import (
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/tmc/langchaingo/embeddings"
	"github.com/tmc/langchaingo/llms/openai"

	"masteria/app/sim/openaisim"
)

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

func TestEmbeddingsDimensions(t *testing.T) {
	sim := startSim(t)
	ctx := testContext(t)
	cases := []struct {
		model string
		dims  int // asked; 0 = native
		want  int
	}{
		{"text-embedding-3-small", 0, 1536},
		{"text-embedding-3-small", 256, 256},
		{"text-embedding-ada-002", 0, 1536},
		{openaisim.TestEmbeddingModel, 0, 64},
	}
	for _, c := range cases {
		opts := []openai.Option{openai.WithEmbeddingModel(c.model)}
		if c.dims > 0 {
			opts = append(opts, openai.WithEmbeddingDimensions(c.dims))
		}
		emb, err := embeddings.NewEmbedder(newLLM(t, sim, opts...))
		if err != nil {
			t.Fatal(err)
		}
		vecs, err := emb.EmbedDocuments(ctx, []string{"pão de queijo", "bolo de cenoura", "café"})
		if err != nil {
			t.Fatalf("%s: %v", c.model, err)
		}
		if len(vecs) != 3 {
			t.Fatalf("%s: %d vectors", c.model, len(vecs))
		}
		for _, v := range vecs {
			if len(v) != c.want {
				t.Errorf("%s dims %d: got %d floats, want %d", c.model, c.dims, len(v), c.want)
			}
			if n := cosine(v, v); math.Abs(n-1) > 1e-5 {
				t.Errorf("%s: not normalized", c.model)
			}
		}
		r := sim.Requests()[len(sim.Requests())-1]
		if r.Path != "/v1/embeddings" || r.Model != c.model || r.Dimensions != c.dims || len(r.Input) != 3 || r.Input[1] != "bolo de cenoura" {
			t.Errorf("recorded %s %s %d %q", r.Path, r.Model, r.Dimensions, r.Input)
		}
	}
}

func TestEmbeddingsCloseness(t *testing.T) {
	sim := startSim(t)
	ctx := testContext(t)
	emb, err := embeddings.NewEmbedder(newLLM(t, sim))
	if err != nil {
		t.Fatal(err)
	}
	docs := []string{
		"A padaria funciona de segunda a sábado, das 7h às 19h.",
		"Fazemos entregas no bairro com taxa de R$ 5,00.",
		"O bolo de cenoura com cobertura de chocolate custa R$ 35.",
	}
	vecs, err := emb.EmbedDocuments(ctx, docs)
	if err != nil {
		t.Fatal(err)
	}
	queries := []string{
		"Qual o horário que a padaria funciona no sábado?",
		"Vocês fazem entrega? Qual a taxa?",
		"Quanto custa o bolo de cenoura?",
	}
	for qi, q := range queries {
		qv, err := emb.EmbedQuery(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		best, bestScore := -1, -2.0
		for i, v := range vecs {
			if s := cosine(qv, v); s > bestScore {
				best, bestScore = i, s
			}
		}
		if best != qi {
			t.Errorf("%q is closest to %q, want %q", q, docs[best], docs[qi])
		}
	}

	// Deterministic, and insensitive to case and accents.
	again, err := emb.EmbedQuery(ctx, docs[0])
	if err != nil {
		t.Fatal(err)
	}
	if cosine(again, vecs[0]) < 0.99999 {
		t.Error("the same text got another vector")
	}
	a, _ := emb.EmbedQuery(ctx, "PÃO DE QUEIJO")
	b, _ := emb.EmbedQuery(ctx, "pao de queijo")
	if cosine(a, b) < 0.99999 {
		t.Error("case and accents change the vector")
	}
	if s := cosine(a, vecs[2]); s > 0.3 {
		t.Errorf("unrelated texts have cosine %.2f", s)
	}
	if got := openaisim.Embedding("pao de queijo", 1536); cosine(got, b) < 0.99999 {
		t.Error("Embedding differs from what the API answers")
	}
}

func TestEmbeddingsRefusals(t *testing.T) {
	sim := startSim(t)
	cases := []struct {
		body  string
		param string
	}{
		{`{"model":"text-embedding-3-small","input":["ok",""]}`, "input"},
		{`{"model":"text-embedding-3-small","input":""}`, "input"},
		{`{"model":"text-embedding-3-small","input":[]}`, "input"},
		{`{"model":"text-embedding-ada-002","input":"oi","dimensions":256}`, "dimensions"},
		{`{"model":"text-embedding-3-small","input":"oi","dimensions":5000}`, "dimensions"},
		{`{"model":"gpt-4o-mini","input":"oi"}`, "model"},
	}
	for _, c := range cases {
		resp := post(t, sim, "/v1/embeddings", apiKey, c.body)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d", c.body, resp.StatusCode)
		}
		if e := errorObject(t, resp); e["param"] != c.param || e["type"] != "invalid_request_error" {
			t.Errorf("%s: error %v", c.body, e)
		}
	}

	// langchaingo reports the 400.
	emb, err := embeddings.NewEmbedder(newLLM(t, sim))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := emb.EmbedDocuments(testContext(t), []string{""}); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("empty text: %v", err)
	}
}

func TestEmbeddingsWireFormat(t *testing.T) {
	sim := startSim(t)
	resp := post(t, sim, "/v1/embeddings", apiKey, `{"model":"test-embedding","input":["um","dois"],"dimensions":8}`)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("openai-model") != "test-embedding" {
		t.Fatalf("status %d headers %v", resp.StatusCode, resp.Header)
	}
	body := decode(t, resp.Body)
	data := body["data"].([]any)
	for i, d := range data {
		item := d.(map[string]any)
		if item["index"] != float64(i) || item["object"] != "embedding" || len(item["embedding"].([]any)) != 8 {
			t.Errorf("item %d: %v", i, item)
		}
	}
	if body["object"] != "list" || body["usage"].(map[string]any)["prompt_tokens"].(float64) <= 0 {
		t.Errorf("body %v", body)
	}
}
