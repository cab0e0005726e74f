package store

import (
	"math"
	"slices"
	"testing"

	"masteria/app/model"
)

// fuse ranks as kb-search's own fusion: Σ 1/(60 + position) over the two lists, a chunk
// both found first, ties by id; each side's figure is kept, the other's left empty.
func TestFuseLikeKBSearch(t *testing.T) {
	d := func(v float64) *float64 { return &v }
	lexical := []model.ChunkHit{{ChunkID: 7, LexicalRank: 3.2, Text: "a"}, {ChunkID: 3, LexicalRank: 1.1, Text: "b"}, {ChunkID: 9, LexicalRank: 0.4, Text: "c"}}
	vector := []model.ChunkHit{{ChunkID: 3, VectorDistance: d(0.2), Text: "b"}, {ChunkID: 5, VectorDistance: d(0.3), Text: "e"}, {ChunkID: 8, VectorDistance: d(0.4), Text: "f"}}
	got := fuse(lexical, vector, 4)
	var ids []int64
	for _, h := range got {
		ids = append(ids, h.ChunkID)
	}
	// 3: 1/62 + 1/61; 7: 1/61; 5: 1/62; then 8 (1/63) ties 9 (1/63): the smaller id first.
	if want := []int64{3, 7, 5, 8}; !slices.Equal(ids, want) {
		t.Fatalf("order %v, want %v", ids, want)
	}
	if got[0].LexicalRank != 1.1 || got[0].VectorDistance == nil || *got[0].VectorDistance != 0.2 {
		t.Fatalf("both sides' figures: %+v", got[0])
	}
	if got[1].VectorDistance != nil || got[2].LexicalRank != 0 {
		t.Fatalf("a side's missing figure: %+v %+v", got[1], got[2])
	}
	if want := 1.0/62 + 1.0/61; math.Abs(got[0].Score-want) > 1e-12 {
		t.Fatalf("score %v, want %v", got[0].Score, want)
	}
	if n := len(fuse(nil, nil, 5)); n != 0 {
		t.Fatalf("%d hits from nothing", n)
	}
}
