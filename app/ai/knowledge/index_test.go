package knowledge_test

import (
	"context"
	"testing"

	"masteria/app/ai/knowledge"
	"masteria/app/model"
	"masteria/app/store/storetest"
)

// TestDocumentChunksLifecycle: a document's chunks are replaced whole, counted, embedded
// once per model, found, and go with the document.
func TestDocumentChunksLifecycle(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	org, _ := st.CreateOrg(ctx, "Doce Lar")
	kb, err := st.CreateKnowledgeBase(ctx, org.ID, "Loja", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	text := "# Entregas\nEntregamos no Centro.\n\n## Taxas\nA taxa é R$ 8.\n# Pagamento\nAceitamos Pix."
	doc, err := st.CreateDocument(ctx, org.ID, model.KBDocument{KnowledgeBaseID: kb.ID, Title: "FAQ", Content: text})
	if err != nil || doc.Status != model.DocPending {
		t.Fatalf("%+v, %v", doc, err)
	}
	chunks := knowledge.Split(text)
	if len(chunks) != 3 || chunks[1].Heading != "Entregas > Taxas" {
		t.Fatalf("chunks %q", chunks)
	}
	if _, err := st.ReplaceChunks(ctx, org.ID, doc.ID, chunks); err != nil {
		t.Fatal(err)
	}
	ids, err := st.ReplaceChunks(ctx, org.ID, doc.ID, chunks[1:])
	if err != nil || len(ids) != 2 {
		t.Fatalf("%v, %v", ids, err)
	}
	if d, _ := st.Document(ctx, org.ID, doc.ID); d.Chunks != 2 {
		t.Errorf("document counts %d chunks, want 2", d.Chunks)
	}
	todo, err := st.ChunksToEmbed(ctx, org.ID, doc.ID, "hash")
	if err != nil || len(todo) != 2 || todo[0].ID != ids[0] {
		t.Fatalf("to embed: %+v, %v", todo, err)
	}
	vecs := [][]float32{hashEmbedding(todo[0].Text), hashEmbedding(todo[1].Text)}
	if err := st.SetEmbeddings(ctx, org.ID, ids, vecs, "hash"); err != nil {
		t.Fatal(err)
	}
	if todo, _ := st.ChunksToEmbed(ctx, org.ID, doc.ID, "hash"); len(todo) != 0 {
		t.Errorf("%d chunks still to embed", len(todo))
	}
	if todo, _ := st.ChunksToEmbed(ctx, org.ID, doc.ID, "another-model"); len(todo) != 2 {
		t.Errorf("a new model embeds %d chunks, want 2", len(todo))
	}
	if err := st.SetEmbeddings(ctx, org.ID, ids[:1], [][]float32{{1, 2, 3}}, "hash"); err == nil {
		t.Error("a 3-number vector was stored")
	}

	hits, err := st.SearchChunks(ctx, org.ID, nil, "aceitam pix?", hashEmbedding("aceitam pix?"), 5)
	if err != nil || len(hits) == 0 {
		t.Fatalf("%v, %v", hits, err)
	}
	top := hits[0]
	if top.ChunkID != ids[1] || top.Title != "FAQ" || top.Heading != "Pagamento" || top.LexicalRank <= 0 ||
		top.VectorDistance == nil || top.Score <= 0 {
		t.Errorf("top hit %+v", top)
	}

	if err := st.DeleteDocument(ctx, org.ID, doc.ID); err != nil {
		t.Fatal(err)
	}
	if hits, _ := st.SearchChunks(ctx, org.ID, nil, "pix", nil, 5); len(hits) != 0 {
		t.Errorf("a deleted document's chunks were found: %+v", hits)
	}
}
