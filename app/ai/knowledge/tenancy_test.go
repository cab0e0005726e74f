package knowledge_test

import (
	"context"
	"errors"
	"testing"

	"masteria/app/model"
	"masteria/app/store/storetest"
)

// TestSearchNeverReturnsAnotherOrgsChunks: two orgs with the same knowledge base; a search
// of one, by full text, by vector or both, with its own, the other's or no knowledge base
// ids, finds only its own chunks, and the other's documents cannot be read or changed.
func TestSearchNeverReturnsAnotherOrgsChunks(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	a, _ := st.CreateOrg(ctx, "Doce Lar")
	b, _ := st.CreateOrg(ctx, "Concorrente")
	kbA, ofA := loadBakery(t, st, a.ID)
	kbB, ofB := loadBakery(t, st, b.ID)

	q := "aceita pix?"
	for _, kbs := range [][]int64{nil, {kbA}, {kbB}, {kbA, kbB}} {
		for _, vec := range [][]float32{nil, hashEmbedding(q)} {
			hits, err := st.SearchChunks(ctx, a.ID, kbs, q, vec, 50)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hits {
				if _, theirs := ofB[h.ChunkID]; theirs {
					t.Errorf("kbs %v, vector %v: org A got org B's chunk %d", kbs, vec != nil, h.ChunkID)
				}
				if _, ours := ofA[h.ChunkID]; !ours {
					t.Errorf("kbs %v: unknown chunk %d", kbs, h.ChunkID)
				}
			}
			if len(kbs) == 1 && kbs[0] == kbB && len(hits) > 0 {
				t.Errorf("org A searching org B's knowledge base found %d chunks", len(hits))
			}
			if (kbs == nil || kbs[0] == kbA) && len(hits) == 0 {
				t.Errorf("kbs %v, vector %v: org A found nothing in its own knowledge base", kbs, vec != nil)
			}
		}
	}

	docsB, err := st.Documents(ctx, b.ID, kbB)
	if err != nil || len(docsB) == 0 {
		t.Fatalf("org B's documents: %v, %v", docsB, err)
	}
	docB := docsB[0].ID
	if _, err := st.Document(ctx, a.ID, docB); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("org A read org B's document: %v", err)
	}
	if _, err := st.KnowledgeBase(ctx, a.ID, kbB); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("org A read org B's knowledge base: %v", err)
	}
	if _, err := st.CreateDocument(ctx, a.ID, model.KBDocument{KnowledgeBaseID: kbB, Title: "x", Content: "x"}); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("org A added a document to org B's knowledge base: %v", err)
	}
	if ids, err := st.ReplaceChunks(ctx, a.ID, docB, []model.ChunkText{{Text: "invadido"}}); err != nil || len(ids) != 0 {
		t.Errorf("org A replaced org B's chunks: %v, %v", ids, err)
	}
	if err := st.UpdateDocument(ctx, a.ID, docB, "x", "x"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("org A edited org B's document: %v", err)
	}
	if err := st.DeleteKnowledgeBase(ctx, a.ID, kbB); err != nil {
		t.Fatal(err)
	}
	if hits, _ := st.SearchChunks(ctx, b.ID, []int64{kbB}, q, nil, 5); len(hits) == 0 {
		t.Error("org A's delete removed org B's knowledge base")
	}
	if d, err := st.Document(ctx, b.ID, docB); err != nil || d.Chunks != 1 {
		t.Errorf("org B's document after org A's attempts: %+v, %v", d, err)
	}
}
