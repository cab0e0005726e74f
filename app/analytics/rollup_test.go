package analytics

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"masteria/app/store"
	"masteria/app/store/storetest"
)

// countingRollup records what it was asked to recompute, and fails when told to.
type countingRollup struct {
	mu    sync.Mutex
	got   map[int64][]Mark
	zones map[int64]string
	fail  bool
}

func (*countingRollup) Kind() string { return "test" }

func (r *countingRollup) Recompute(_ context.Context, _ *store.Store, orgID int64, zone *time.Location, marks []Mark) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("refused")
	}
	r.got[orgID] = append(r.got[orgID], marks...)
	r.zones[orgID] = zone.String()
	return nil
}

// TestCatchUpFoldsMarksAndKeepsThemOnFailure: duplicate marks come once, each org with its
// zone; a failed recompute leaves the marks for the next catch-up; a mark of an unknown
// rollup is dropped without holding up the others.
func TestCatchUpFoldsMarksAndKeepsThemOnFailure(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	a, err := st.CreateOrg(ctx, "Loja A")
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.CreateOrg(ctx, "Loja B")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().Exec(`UPDATE orgs SET time_zone = 'Europe/Lisbon' WHERE id = $1`, b.ID); err != nil {
		t.Fatal(err)
	}
	// The rollups' own marks of the change of zone are not this test's.
	if _, err := st.DB().Exec(`DELETE FROM analytics_dirty`); err != nil {
		t.Fatal(err)
	}
	hour := time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)
	for _, m := range []struct {
		org, key int64
		at       time.Time
	}{{a.ID, 7, hour}, {a.ID, 7, hour}, {a.ID, 8, time.Time{}}, {b.ID, 7, hour}} {
		if err := st.MarkAnalytics(ctx, m.org, "test", m.key, m.at); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.MarkAnalytics(ctx, a.ID, "gone", 1, time.Time{}); err != nil {
		t.Fatal(err)
	}
	r := &countingRollup{got: map[int64][]Mark{}, zones: map[int64]string{}, fail: true}
	s := New(st)
	s.addRollup(r)
	if _, err := s.CatchUp(ctx); err == nil {
		t.Fatal("a failing rollup's catch-up succeeded")
	}
	var left int
	if err := st.DB().Get(&left, `SELECT count(*) FROM analytics_dirty`); err != nil || left != 5 {
		t.Fatalf("after a failure %d marks are left (%v), want all 5", left, err)
	}
	r.fail = false
	orgs, err := s.CatchUp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(orgs) != 2 || orgs[0] != a.ID || orgs[1] != b.ID {
		t.Fatalf("changed orgs %v", orgs)
	}
	if got := r.got[a.ID]; len(got) != 2 || got[0] != (Mark{Key: 8}) || got[1] != (Mark{Key: 7, At: hour}) {
		t.Fatalf("org A's marks %+v", got)
	}
	if r.zones[a.ID] != "America/Sao_Paulo" || r.zones[b.ID] != "Europe/Lisbon" {
		t.Fatalf("zones %v", r.zones)
	}
	if err := st.DB().Get(&left, `SELECT count(*) FROM analytics_dirty`); err != nil || left != 0 {
		t.Fatalf("%d marks left (%v)", left, err)
	}
}
