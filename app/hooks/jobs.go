package hooks

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/lib/pq"
	"github.com/riverqueue/river"

	"masteria/app/jobs"
	"masteria/app/store"
)

// DispatchBatch is how many events one dispatch transaction fans out.
const DispatchBatch = 1000

// DispatchArgs runs the dispatcher: the outbox's next events become deliveries.
type DispatchArgs struct{}

// Kind is the job's stable name.
func (DispatchArgs) Kind() string { return "hooks.dispatch" }

// DeliverArgs sends an endpoint's due deliveries.
type DeliverArgs struct {
	OrgID      int64 `json:"org_id"`
	EndpointID int64 `json:"endpoint_id"`
}

// Kind is the job's stable name.
func (DeliverArgs) Kind() string { return "hooks.deliver" }

// SweepArgs wakes endpoints whose due deliveries no job is sending (lost with a process).
type SweepArgs struct{}

// Kind is the job's stable name.
func (SweepArgs) Kind() string { return "hooks.sweep" }

func deliverOpts(at time.Time) *river.InsertOpts {
	o := &river.InsertOpts{MaxAttempts: 5}
	if at.After(time.Now()) {
		o.ScheduledAt = at
	}
	return o
}

// DispatchWorker follows the outbox.
type DispatchWorker struct {
	river.WorkerDefaults[DispatchArgs]
	S *Service
}

// Work fans out events until the outbox is read to its end.
func (w *DispatchWorker) Work(ctx context.Context, j *river.Job[DispatchArgs]) error {
	// Waits happen here rather than as River snoozes: a snoozed job waits for River's
	// scheduler, seconds, where these waits are tens of milliseconds.
	busy, behind := 0, time.Now().Add(2*time.Second)
	some, err := w.S.st.AnyWebhookEndpoints(ctx)
	if err != nil {
		return err
	}
	w.S.active.Store(some)
	if !some {
		// Nobody to deliver to: keep the cursor up with the outbox, once, and rest.
		_, err := w.S.Dispatch(ctx)
		return err
	}
	for {
		f, err := w.S.Dispatch(ctx)
		if err != nil {
			return err
		}
		switch {
		case f.Busy:
			// Another dispatcher is reading; an event it may have just missed is looked
			// at again shortly, twice (later events queue their own job).
			if busy++; busy > 2 {
				return nil
			}
		case f.Events == DispatchBatch:
			continue // more to read now
		case f.More && time.Now().Before(behind):
			// Events wait behind a transaction still running; the periodic dispatch
			// takes them if it runs long.
		default:
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(40 * time.Millisecond):
		}
	}
}

// Timeout: a dispatch is a few statements per thousand events.
func (w *DispatchWorker) Timeout(*river.Job[DispatchArgs]) time.Duration { return time.Minute }

// Dispatch fans out one batch of the outbox and queues a delivery job per endpoint that
// got deliveries, in the same transaction.
func (s *Service) Dispatch(ctx context.Context) (store.WebhookFanout, error) {
	return s.st.DispatchWebhooks(ctx, DispatchBatch, func(tx *store.Store, ts []store.WebhookTarget) error {
		if s.jobs == nil || len(ts) == 0 {
			return nil
		}
		ps := make([]river.InsertManyParams, len(ts))
		for i, t := range ts {
			ps[i] = river.InsertManyParams{Args: DeliverArgs{OrgID: t.OrgID, EndpointID: t.EndpointID}, InsertOpts: deliverOpts(time.Time{})}
		}
		if _, err := s.jobs.InsertManyFastTx(ctx, tx.SQLTx(), ps); err != nil {
			return fmt.Errorf("hooks: queue deliveries: %w", err)
		}
		return nil
	})
}

// DeliverWorker sends one endpoint's due deliveries.
type DeliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	S *Service
}

// Work drains the endpoint.
func (w *DeliverWorker) Work(ctx context.Context, j *river.Job[DeliverArgs]) error {
	return w.S.Drain(ctx, j.Args.OrgID, j.Args.EndpointID)
}

// Timeout leaves room for a batch of slow receivers.
func (w *DeliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration { return 10 * time.Minute }

// SweepWorker wakes what no job is sending.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	S *Service
}

// LogRetention is how long the delivery log keeps a finished delivery.
const LogRetention = 30 * 24 * time.Hour

// CleanupArgs trims the delivery log (hourly).
type CleanupArgs struct{}

// Kind is the job's stable name.
func (CleanupArgs) Kind() string { return "hooks.cleanup" }

// CleanupWorker deletes finished deliveries older than LogRetention.
type CleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	S *Service
}

// Work trims the log.
func (w *CleanupWorker) Work(ctx context.Context, _ *river.Job[CleanupArgs]) error {
	_, err := w.S.st.DeleteOldWebhookDeliveries(ctx, LogRetention)
	return err
}

// Work queues a delivery job for every endpoint with stale due deliveries.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	ts, err := w.S.st.StaleWebhookTargets(ctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		w.S.wake(ctx, t.OrgID, t.EndpointID)
	}
	return nil
}

// Register adds the workers and the periodic jobs: the dispatcher every second (beside
// the wake-ups Run sends on every event), the sweep every half minute, the log's trim hourly.
func Register(reg *jobs.Registry, s *Service) {
	river.AddWorker(reg.Workers, &DispatchWorker{S: s})
	river.AddWorker(reg.Workers, &DeliverWorker{S: s})
	river.AddWorker(reg.Workers, &SweepWorker{S: s})
	river.AddWorker(reg.Workers, &CleanupWorker{S: s})
	reg.Periodic = append(reg.Periodic,
		river.NewPeriodicJob(river.PeriodicInterval(time.Second),
			func() (river.JobArgs, *river.InsertOpts) { return DispatchArgs{}, nil },
			&river.PeriodicJobOpts{ID: "hooks.dispatch", RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(30*time.Second),
			func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{}, nil },
			&river.PeriodicJobOpts{ID: "hooks.sweep"}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return CleanupArgs{}, nil },
			&river.PeriodicJobOpts{ID: "hooks.cleanup"}))
}

// Run wakes the dispatcher when events are written: it listens to the outbox's
// notifications and queues a dispatch job, at most one every 50 ms, until ctx ends.
func (s *Service) Run(ctx context.Context, databaseURL string) error {
	l := pq.NewListener(databaseURL, time.Second, 30*time.Second, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			slog.Warn("hooks: listener", "event", ev, "err", err)
		}
	})
	defer l.Close()
	if err := l.Listen("masteria_events"); err != nil {
		return fmt.Errorf("hooks: listen: %w", err)
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	dirty := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-l.Notify:
			// nil: reconnected, something may have been missed.
			if n == nil || isStored(n.Extra) {
				dirty = true
			}
		case <-tick.C:
			if !s.active.Load() {
				dirty = false // no endpoint anywhere: the periodic dispatch keeps the cursor up
				continue
			}
			if !dirty || s.jobs == nil {
				continue
			}
			dirty = false
			if _, err := s.jobs.Insert(ctx, DispatchArgs{}, nil); err != nil && ctx.Err() == nil {
				slog.Warn("hooks: queue dispatch", "err", err)
				dirty = true
			}
		}
	}
}

// isStored tells a stored event's notification ({"id":…,"org_id":…}) from a transient one
// (which carries the event's type and payload, and no id: it never reaches webhooks).
func isStored(note string) bool { return !strings.Contains(note, `"type"`) }
