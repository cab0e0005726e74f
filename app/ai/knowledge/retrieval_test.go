package knowledge_test

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"math"
	"os"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/store/storetest"
)

// passage is one entry of the demo knowledge base; question one labelled customer question.
type passage struct {
	ID      string `json:"id"`
	Heading string `json:"heading"`
	Text    string `json:"text"`
}

type question struct {
	Q       string   `json:"q"`
	Answers []string `json:"answers"`
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// hashEmbedding is a deterministic stand-in for an embedding model: a bag of the text's
// words (lower-case, no accents) hashed into EmbeddingDims numbers, L2-normalized. Texts
// that share words are near; it knows no synonyms.
func hashEmbedding(text string) []float32 {
	v := make([]float32, store.EmbeddingDims)
	folded := strings.ToLower(norm.NFD.String(text))
	words := strings.FieldsFunc(folded, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for _, w := range words {
		h := fnv.New32a()
		h.Write([]byte(w))
		v[h.Sum32()%store.EmbeddingDims]++
	}
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum > 0 {
		n := float32(math.Sqrt(sum))
		for i := range v {
			v[i] /= n
		}
	}
	return v
}

// loadBakery stores the demo bakery's passages as one document each, one chunk each, with
// their hashed embeddings, in a knowledge base of org; it returns the passage of each chunk.
func loadBakery(t testing.TB, st *store.Store, orgID int64) (kbID int64, passageOf map[int64]string) {
	t.Helper()
	ctx := context.Background()
	var passages []passage
	readJSON(t, "testdata/bakery_passages.json", &passages)
	kb, err := st.CreateKnowledgeBase(ctx, orgID, "Confeitaria", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	passageOf = map[int64]string{}
	for _, p := range passages {
		doc, err := st.CreateDocument(ctx, orgID, model.KBDocument{KnowledgeBaseID: kb.ID, Title: "Confeitaria Doce Lar", Content: p.Text})
		if err != nil {
			t.Fatal(err)
		}
		ids, err := st.ReplaceChunks(ctx, orgID, doc.ID, []model.ChunkText{{Heading: p.Heading, Text: p.Text}})
		if err != nil || len(ids) != 1 {
			t.Fatalf("chunks %v: %v", ids, err)
		}
		if err := st.SetEmbeddings(ctx, orgID, ids, [][]float32{hashEmbedding(p.Heading + " " + p.Text)}, "hash"); err != nil {
			t.Fatal(err)
		}
		passageOf[ids[0]] = p.ID
	}
	return kb.ID, passageOf
}

// TestRetrievalRecall reports recall@5 of lexical, vector and hybrid retrieval over the
// labelled bakery questions; full-text search alone must find at least 80% of the answers.
func TestRetrievalRecall(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	org, err := st.CreateOrg(ctx, "Doce Lar")
	if err != nil {
		t.Fatal(err)
	}
	kbID, passageOf := loadBakery(t, st, org.ID)
	var questions []question
	readJSON(t, "testdata/bakery_questions.json", &questions)
	if len(questions) < 40 || len(passageOf) < 30 {
		t.Fatalf("the labelled set has %d questions over %d passages", len(questions), len(passageOf))
	}
	modes := []struct {
		name       string
		text, vect bool
	}{{"lexical", true, false}, {"vector", false, true}, {"hybrid", true, true}}
	recall := map[string]float64{}
	for _, m := range modes {
		var sum float64
		for _, q := range questions {
			text := ""
			var vec []float32
			if m.text {
				text = q.Q
			}
			if m.vect {
				vec = hashEmbedding(q.Q)
			}
			hits, err := st.SearchChunks(ctx, org.ID, []int64{kbID}, text, vec, 5)
			if err != nil {
				t.Fatal(err)
			}
			found := map[string]bool{}
			var got []string
			for _, h := range hits {
				found[passageOf[h.ChunkID]] = true
				got = append(got, passageOf[h.ChunkID])
			}
			n := 0
			for _, a := range q.Answers {
				if found[a] {
					n++
				}
			}
			sum += float64(n) / float64(len(q.Answers))
			if m.name == "lexical" && n < len(q.Answers) {
				t.Logf("lexical missed %v for %q: %v", q.Answers, q.Q, got)
			}
		}
		recall[m.name] = sum / float64(len(questions))
	}
	t.Logf("recall@5 over %d questions, %d passages: lexical %.3f, vector %.3f, hybrid %.3f",
		len(questions), len(passageOf), recall["lexical"], recall["vector"], recall["hybrid"])
	if recall["lexical"] < 0.8 {
		t.Errorf("lexical recall@5 %.3f, want at least 0.8", recall["lexical"])
	}
}
