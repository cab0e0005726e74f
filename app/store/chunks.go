package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/lib/pq"
	"github.com/pgvector/pgvector-go"

	"masteria/app/model"
)

// ReplaceChunks makes chunks a document's only chunks, in order, in one statement, and
// returns their ids in order (none when the document is not the org's).
func (s *Store) ReplaceChunks(ctx context.Context, orgID, docID int64, chunks []model.ChunkText) ([]int64, error) {
	headings := make([]string, len(chunks))
	texts := make([]string, len(chunks))
	for i, c := range chunks {
		headings[i], texts[i] = c.Heading, c.Text
	}
	var ids []int64
	if err := s.sel(ctx, s.q.ChunksReplace, &ids, orgID, docID, pq.Array(headings), pq.Array(texts)); err != nil {
		return nil, fmt.Errorf("store: replace chunks of document %d: %w", docID, err)
	}
	return ids, nil
}

// ChunkToEmbed is a chunk waiting for its embedding.
type ChunkToEmbed struct {
	ID      int64  `db:"id"`
	Heading string `db:"heading"`
	Text    string `db:"text"`
}

// ChunksToEmbed returns a document's chunks that have no embedding of model, in order.
func (s *Store) ChunksToEmbed(ctx context.Context, orgID, docID int64, model string) ([]ChunkToEmbed, error) {
	var out []ChunkToEmbed
	if err := s.sel(ctx, s.q.ChunksToEmbed, &out, orgID, docID, model); err != nil {
		return nil, fmt.Errorf("store: chunks to embed: %w", err)
	}
	return out, nil
}

// SetEmbeddings stores the embeddings of chunks ids (vectors[i] is ids[i]'s), made by
// model, in one statement. Every vector must have EmbeddingDims numbers.
func (s *Store) SetEmbeddings(ctx context.Context, orgID int64, ids []int64, vectors [][]float32, model string) error {
	if len(ids) != len(vectors) {
		return fmt.Errorf("store: set embeddings: %d ids, %d vectors", len(ids), len(vectors))
	}
	texts := make([]string, len(vectors))
	for i, v := range vectors {
		if len(v) != EmbeddingDims {
			return fmt.Errorf("store: set embeddings: a vector of %d numbers, want %d", len(v), EmbeddingDims)
		}
		texts[i] = pgvector.NewVector(v).String()
	}
	if _, err := s.exec(ctx, s.q.ChunksSetEmbed, orgID, pq.Array(ids), pq.Array(texts), model); err != nil {
		return fmt.Errorf("store: set embeddings: %w", err)
	}
	return nil
}

// SearchChunks returns the org's chunks of knowledge bases kbIDs (all of the org's when
// nil) that best answer query, best first, at most k: full-text search fused with the
// nearest chunks to queryEmbedding when there is one (nil: full text only; an empty query
// with an embedding: vector only). queries/knowledge.sql kb-search says how they rank.
//
// With both a question and an embedding, the two searches run at once on two connections
// and are fused here, by the same Reciprocal Rank Fusion kb-search applies: a hybrid search
// takes as long as the slower of the two rather than both.
func (s *Store) SearchChunks(ctx context.Context, orgID int64, kbIDs []int64, query string, queryEmbedding []float32, k int) ([]model.ChunkHit, error) {
	if queryEmbedding != nil && len(queryEmbedding) != EmbeddingDims {
		return nil, fmt.Errorf("store: search chunks: a query vector of %d numbers, want %d", len(queryEmbedding), EmbeddingDims)
	}
	if queryEmbedding == nil || strings.TrimSpace(query) == "" || s.tx != nil {
		return s.searchChunks(ctx, orgID, kbIDs, query, queryEmbedding, k)
	}
	var lexical, vector []model.ChunkHit
	var lexErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		lexical, lexErr = s.searchChunks(ctx, orgID, kbIDs, query, nil, lexicalK)
	}()
	vector, vecErr := s.searchChunks(ctx, orgID, kbIDs, "", queryEmbedding, vectorK)
	<-done
	if err := errors.Join(lexErr, vecErr); err != nil {
		return nil, err
	}
	return fuse(lexical, vector, k), nil
}

// How many chunks each side of a hybrid search gives the fusion: kb-search's own limits.
const (
	lexicalK = 50
	vectorK  = 40
)

// fuse merges the full-text and the vector results, each best first, by Reciprocal Rank
// Fusion (score = Σ 1/(60 + position)), as kb-search does in one query.
func fuse(lexical, vector []model.ChunkHit, k int) []model.ChunkHit {
	byID := map[int64]*model.ChunkHit{}
	var out []*model.ChunkHit
	add := func(h model.ChunkHit, pos int, fromVector bool) {
		got, ok := byID[h.ChunkID]
		if !ok {
			h.Score = 0
			if fromVector {
				h.LexicalRank = 0
			} else {
				h.VectorDistance = nil
			}
			got = &h
			byID[h.ChunkID] = got
			out = append(out, got)
		}
		if fromVector {
			got.VectorDistance = h.VectorDistance
		} else {
			got.LexicalRank = h.LexicalRank
		}
		got.Score += 1 / float64(60+pos)
	}
	for i, h := range lexical {
		add(h, i+1, false)
	}
	for i, h := range vector {
		add(h, i+1, true)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].ChunkID < out[j].ChunkID
	})
	hits := make([]model.ChunkHit, 0, min(k, len(out)))
	for _, h := range out[:min(k, len(out))] {
		hits = append(hits, *h)
	}
	return hits
}

// searchChunks runs kb-search once.
func (s *Store) searchChunks(ctx context.Context, orgID int64, kbIDs []int64, query string, queryEmbedding []float32, k int) ([]model.ChunkHit, error) {
	var kbs any // NULL: every knowledge base of the org
	if kbIDs != nil {
		kbs = pq.Array(kbIDs)
	}
	var vec any // NULL: no vector search
	if queryEmbedding != nil {
		vec = pgvector.NewVector(queryEmbedding)
	}
	var out []model.ChunkHit
	err := s.Tx(ctx, func(tx *Store) error {
		if _, err := tx.exec(ctx, tx.q.SearchSettings); err != nil {
			return err
		}
		return tx.sel(ctx, tx.q.Search, &out, orgID, kbs, query, vec, k)
	})
	if err != nil {
		return nil, fmt.Errorf("store: search chunks: %w", err)
	}
	return out, nil
}
