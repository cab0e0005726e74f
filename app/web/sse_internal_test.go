package web

import "testing"

// TestRecentIDsForgetsTheOldest: the stream's memory of sent ids is bounded and forgets
// the oldest first; an id added twice takes one place.
func TestRecentIDsForgetsTheOldest(t *testing.T) {
	r := newRecentIDs(3)
	for _, id := range []int64{10, 11, 11, 12} {
		r.add(id)
	}
	if !r.has(10) || !r.has(11) || !r.has(12) || len(r.set) != 3 {
		t.Fatalf("after 10, 11, 12: %v", r.set)
	}
	r.add(13)
	r.add(14)
	if r.has(10) || r.has(11) || !r.has(12) || !r.has(13) || !r.has(14) || len(r.set) != 3 {
		t.Fatalf("after 13, 14: %v", r.set)
	}
}
