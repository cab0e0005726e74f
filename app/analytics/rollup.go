package analytics

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/riverqueue/river"

	"masteria/app/jobs"
	"masteria/app/store"
)

// Mark is one change a rollup must work out again: a key of the rollup (0 for none) and
// the moment whose bucket changed (zero for none).
type Mark struct {
	Key int64
	At  time.Time
}

// rollup keeps one table of figures up to date. Its source tables' triggers leave marks of
// its Kind in analytics_dirty; Recompute works out again, from the source rows, everything
// those marks touched, inside tx (which holds the org's lock for this kind). Marks come
// folded: each (Key, At) at most once; zone is the org's time zone.
type rollup interface {
	Kind() string
	Recompute(ctx context.Context, tx *store.Store, orgID int64, zone *time.Location, marks []Mark) error
}

// addRollup registers a rollup (each family's constructor calls it from New).
func (s *Service) addRollup(r rollup) { s.rollups[r.Kind()] = r }

// MarksPerRound is how many marks one catch-up transaction takes.
const MarksPerRound = 5000

// CatchUp works out every pending mark, round after round, until a round finds none (marks
// written meanwhile included); it returns the orgs whose figures changed. Tests call it to
// read figures that include everything written before.
func (s *Service) CatchUp(ctx context.Context) ([]int64, error) { return s.catchUp(ctx, 0) }

// JobBudget is how long one rollup job works rounds before it leaves the rest to the next
// (a second later): well within the job's time, however much is pending.
const JobBudget = 20 * time.Second

// catchUp works rounds until none is left or, with a budget, until the budget is spent.
func (s *Service) catchUp(ctx context.Context, budget time.Duration) ([]int64, error) {
	start := time.Now()
	changed := map[int64]bool{}
	for {
		n, orgs, err := s.catchUpRound(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range orgs {
			changed[o] = true
		}
		// A round may leave marks for the next (a rebuild spread over rounds).
		if n == 0 || budget > 0 && time.Since(start) > budget {
			break
		}
	}
	out := make([]int64, 0, len(changed))
	for o := range changed {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// catchUpRound takes one round of marks and recomputes them in one transaction: a failure
// rolls the marks back for the next round.
func (s *Service) catchUpRound(ctx context.Context) (int, []int64, error) {
	var n int
	var orgs []int64
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		marks, err := tx.TakeAnalyticsMarks(ctx, MarksPerRound)
		if err != nil {
			return err
		}
		n = len(marks)
		type group struct {
			org  int64
			kind string
		}
		folded := map[group]map[Mark]bool{}
		var order []group
		for _, m := range marks {
			g := group{m.OrgID, m.Kind}
			if folded[g] == nil {
				folded[g] = map[Mark]bool{}
				order = append(order, g)
			}
			mk := Mark{Key: m.Key}
			if m.At.Valid {
				mk.At = m.At.Time.UTC()
			}
			folded[g][mk] = true
		}
		// A stable order of locks, so two instances never wait on each other in a circle.
		sort.Slice(order, func(i, j int) bool {
			if order[i].org != order[j].org {
				return order[i].org < order[j].org
			}
			return order[i].kind < order[j].kind
		})
		zones := map[int64]*time.Location{}
		for _, g := range order {
			r, ok := s.rollups[g.kind]
			if !ok {
				slog.Warn("analytics: marks of an unknown rollup dropped", "kind", g.kind, "org", g.org)
				continue
			}
			zone, ok := zones[g.org]
			if !ok {
				name, err := tx.OrgTimeZone(ctx, g.org)
				if err != nil {
					continue // the org is gone: its marks go with it
				}
				if zone, err = time.LoadLocation(name); err != nil {
					zone = time.UTC
				}
				zones[g.org] = zone
			}
			if err := tx.LockAnalytics(ctx, g.org, g.kind); err != nil {
				return err
			}
			ms := make([]Mark, 0, len(folded[g]))
			for m := range folded[g] {
				ms = append(ms, m)
			}
			sort.Slice(ms, func(i, j int) bool {
				if !ms[i].At.Equal(ms[j].At) {
					return ms[i].At.Before(ms[j].At)
				}
				return ms[i].Key < ms[j].Key
			})
			if err := r.Recompute(ctx, tx, g.org, zone, ms); err != nil {
				return fmt.Errorf("analytics: recompute %s of org %d: %w", g.kind, g.org, err)
			}
			if len(orgs) == 0 || orgs[len(orgs)-1] != g.org {
				orgs = append(orgs, g.org)
			}
		}
		return nil
	})
	return n, orgs, err
}

// RollupArgs runs a catch-up of the rollups.
type RollupArgs struct{}

// Kind is the job's stable name.
func (RollupArgs) Kind() string { return "analytics.rollup" }

// RollupWorker runs catch-ups.
type RollupWorker struct {
	river.WorkerDefaults[RollupArgs]
	S *Service
}

// Work catches up and tells the changed orgs' pages.
func (w *RollupWorker) Work(ctx context.Context, _ *river.Job[RollupArgs]) error {
	orgs, err := w.S.catchUp(ctx, JobBudget)
	if err != nil {
		return err
	}
	if w.S.OnChange != nil {
		for _, o := range orgs {
			w.S.OnChange(ctx, o)
		}
	}
	return nil
}

// Register adds the rollup job, every second: figures are at most about a second behind
// the rows they count.
func Register(reg *jobs.Registry, s *Service) {
	river.AddWorker(reg.Workers, &RollupWorker{S: s})
	reg.Periodic = append(reg.Periodic,
		river.NewPeriodicJob(river.PeriodicInterval(time.Second),
			func() (river.JobArgs, *river.InsertOpts) { return RollupArgs{}, nil },
			&river.PeriodicJobOpts{ID: "analytics.rollup", RunOnStart: true}))
}
