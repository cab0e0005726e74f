package account

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"masteria/app/jobs"
	"masteria/app/store"
)

// CleanupArgs is the hourly job that forgets what has expired: sessions past their expiry,
// login attempts older than a day, events too old to resume from, status reports for
// messages that were never stored, labels no conversation has any more, and the contact
// policy's sends that no longer count (the cap's, the SMS duplication slots), and the API's
// Idempotency-Keys older than a day.
type CleanupArgs struct{}

// Kind is the job's stable name in the queue.
func (CleanupArgs) Kind() string { return "account.cleanup" }

// EventRetention is how long SSE clients can resume from (and webhooks retry from) an event.
const EventRetention = 7 * 24 * time.Hour

// CleanupWorker runs CleanupArgs.
type CleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	Store *store.Store
}

// Work deletes what expired. Each delete is idempotent, so a retry is harmless.
func (w *CleanupWorker) Work(ctx context.Context, _ *river.Job[CleanupArgs]) error {
	sessions, err := w.Store.DeleteExpiredSessions(ctx)
	if err != nil {
		return err
	}
	attempts, err := w.Store.DeleteOldLoginAttempts(ctx)
	if err != nil {
		return err
	}
	events, err := w.Store.DeleteOldEvents(ctx, EventRetention)
	if err != nil {
		return err
	}
	early, err := w.Store.DeleteOldEarlyStatuses(ctx)
	if err != nil {
		return err
	}
	labels, err := w.Store.DeleteUnusedLabels(ctx)
	if err != nil {
		return err
	}
	sends, err := w.Store.DeleteOldPolicySends(ctx)
	if err != nil {
		return err
	}
	idem, err := w.Store.DeleteOldIdempotencyKeys(ctx)
	if err != nil {
		return err
	}
	slog.Info("cleanup", "sessions", sessions, "login_attempts", attempts, "events", events, "early_statuses", early, "labels", labels,
		"policy_sends", sends, "idempotency_keys", idem)
	return nil
}

// Register adds the account area's workers and periodic jobs.
func Register(reg *jobs.Registry, st *store.Store) {
	river.AddWorker(reg.Workers, &CleanupWorker{Store: st})
	reg.Periodic = append(reg.Periodic, river.NewPeriodicJob(
		river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return CleanupArgs{}, nil },
		&river.PeriodicJobOpts{ID: "account.cleanup", RunOnStart: true},
	))
}
