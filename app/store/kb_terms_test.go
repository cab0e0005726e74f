package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/store/storetest"
)

// termCounts reads kb_terms of a knowledge base (words at 0 left out), and what counting the
// chunks themselves gives: the two must agree.
func termCounts(t *testing.T, st *store.Store, orgID, kbID int64) (kept, counted map[string]int) {
	t.Helper()
	read := func(q string) map[string]int {
		rows, err := st.DB().Query(q, orgID, kbID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var l string
			var n int
			if err := rows.Scan(&l, &n); err != nil {
				t.Fatal(err)
			}
			out[l] = n
		}
		return out
	}
	kept = read(`SELECT lexeme, df FROM kb_terms WHERE org_id = $1 AND knowledge_base_id = $2 AND df > 0`)
	counted = read(`SELECT l.lexeme, count(*) FROM kb_chunks c
		CROSS JOIN LATERAL unnest(tsvector_to_array(c.tsv) || '{""}'::text[]) l(lexeme)
		WHERE c.org_id = $1 AND c.knowledge_base_id = $2 GROUP BY 1`)
	return kept, counted
}

func sameCounts(t *testing.T, what string, kept, counted map[string]int) {
	t.Helper()
	if len(kept) != len(counted) {
		t.Errorf("%s: %d words kept, %d counted", what, len(kept), len(counted))
	}
	for l, n := range counted {
		if kept[l] != n {
			t.Errorf("%s: %q kept %d, counted %d", what, l, kept[l], n)
		}
	}
}

// The words of a knowledge base's chunks are counted as chunks come and go: added, replaced,
// their document removed, the knowledge base removed; each knowledge base and org apart,
// and two jobs of one knowledge base writing at once neither deadlock nor miscount.
func TestKBTermsCounted(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	org, _ := st.CreateOrg(ctx, "Doce Lar")
	other, _ := st.CreateOrg(ctx, "Outra")
	kb, _ := st.CreateKnowledgeBase(ctx, org.ID, "Loja", "", 0)
	kb2, _ := st.CreateKnowledgeBase(ctx, org.ID, "Fábrica", "", 0)
	kbOther, _ := st.CreateKnowledgeBase(ctx, other.ID, "Outra", "", 0)
	doc := func(orgID, kbID int64) model.KBDocument {
		d, err := st.CreateDocument(ctx, orgID, model.KBDocument{KnowledgeBaseID: kbID, Title: "d", Content: "x"})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d1, d2, d3 := doc(org.ID, kb.ID), doc(org.ID, kb.ID), doc(org.ID, kb2.ID)
	dOther := doc(other.ID, kbOther.ID)
	replace := func(orgID, docID int64, texts ...string) {
		t.Helper()
		var chunks []model.ChunkText
		for _, x := range texts {
			chunks = append(chunks, model.ChunkText{Heading: "Entregas", Text: x})
		}
		if _, err := st.ReplaceChunks(ctx, orgID, docID, chunks); err != nil {
			t.Fatal(err)
		}
	}
	replace(org.ID, d1.ID, "Entregamos bolos no Centro.", "A taxa de entrega é de 8 reais.")
	replace(org.ID, d2.ID, "Bolos de casamento sob encomenda.")
	replace(org.ID, d3.ID, "Fábrica de bolos.")
	replace(other.ID, dOther.ID, "Entregamos pizzas.")
	kept, counted := termCounts(t, st, org.ID, kb.ID)
	sameCounts(t, "added", kept, counted)
	if kept[""] != 3 || kept["bol"] != 2 || kept["entreg"] != 3 {
		t.Errorf("counts: %v", kept)
	}
	if k2, _ := termCounts(t, st, org.ID, kb2.ID); k2[""] != 1 || k2["bol"] != 1 {
		t.Errorf("the other knowledge base: %v", k2)
	}

	replace(org.ID, d1.ID, "Só retirada na loja.")
	kept, counted = termCounts(t, st, org.ID, kb.ID)
	sameCounts(t, "replaced", kept, counted)
	if kept[""] != 2 || kept["entreg"] != 2 || kept["retir"] != 1 {
		t.Errorf("after a replace: %v", kept)
	}
	if err := st.DeleteDocument(ctx, org.ID, d2.ID); err != nil {
		t.Fatal(err)
	}
	kept, counted = termCounts(t, st, org.ID, kb.ID)
	sameCounts(t, "document removed", kept, counted)
	if kept[""] != 1 || kept["bol"] != 0 {
		t.Errorf("after a document removed: %v", kept)
	}

	// Two jobs at once, many times, in one knowledge base.
	a, b := doc(org.ID, kb.ID), doc(org.ID, kb.ID)
	var wg sync.WaitGroup
	errs := make(chan error, 80)
	for i := range 40 {
		for _, d := range []model.KBDocument{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var chunks []model.ChunkText
				for j := range 1 + i%5 {
					chunks = append(chunks, model.ChunkText{Text: fmt.Sprintf("palavra%d bolo%d torta entrega %s", i, j, strings.Repeat("pão ", j))})
				}
				if _, err := st.ReplaceChunks(ctx, org.ID, d.ID, chunks); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent replace: %v", err)
	}
	kept, counted = termCounts(t, st, org.ID, kb.ID)
	sameCounts(t, "concurrent", kept, counted)

	if err := st.DeleteKnowledgeBase(ctx, org.ID, kb.ID); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := st.DB().Get(&left, `SELECT count(*) FROM kb_terms WHERE knowledge_base_id = $1`, kb.ID); err != nil || left != 0 {
		t.Errorf("%d rows left of a removed knowledge base (%v)", left, err)
	}
	if k2, c2 := termCounts(t, st, org.ID, kb2.ID); k2[""] != 1 {
		t.Errorf("the other knowledge base after a removal: %v", k2)
	} else {
		sameCounts(t, "the other knowledge base", k2, c2)
	}
	if ko, co := termCounts(t, st, other.ID, kbOther.ID); ko["pizz"] != 1 {
		t.Errorf("the other org: %v", ko)
	} else {
		sameCounts(t, "the other org", ko, co)
	}
}
