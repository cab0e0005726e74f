package campaign

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"masteria/app/jobs"
	"masteria/app/model"
	"masteria/app/store"
)

// TickArgs is the engine's housekeeping, run by the queue's leader every few seconds:
// scheduled campaigns whose time came start, claims whose runner died are settled, running
// campaigns whose runners died get new ones, capped recipients whose wait is over go again,
// and A/B tests whose window closed release their winner.
type TickArgs struct{}

// Kind is the job's stable name.
func (TickArgs) Kind() string { return "campaign.tick" }

// TickWorker runs TickArgs.
type TickWorker struct {
	river.WorkerDefaults[TickArgs]
	Service *Service
}

// Work does one round of housekeeping; a failure of one campaign does not stop the others.
func (w *TickWorker) Work(ctx context.Context, _ *river.Job[TickArgs]) error {
	return w.Service.Tick(ctx)
}

// Tick runs the housekeeping once.
func (s *Service) Tick(ctx context.Context) error {
	due, err := s.st.DueCampaigns(ctx)
	if err != nil {
		return err
	}
	for _, ref := range due {
		c, err := s.st.Campaign(ctx, ref.OrgID, ref.ID)
		if err == nil {
			err = s.start(ctx, c, model.CampaignScheduled)
		}
		if err != nil {
			slog.Warn("campaign: scheduled start", "campaign", ref.ID, "err", err)
			_ = s.pause(ctx, ref.OrgID, ref.ID, model.PauseTemplateGone, err.Error())
		}
	}
	if _, err := s.st.SettleStaleClaims(ctx, s.Lease, s.runTimeout()); err != nil {
		return err
	}
	capped, err := s.st.RetryCapped(ctx)
	if err != nil {
		return err
	}
	for _, ref := range capped {
		// A completed campaign whose withheld recipients may go again runs again.
		c, err := s.st.Campaign(ctx, ref.OrgID, ref.ID)
		if err == nil && c.Status == model.CampaignCompleted {
			err = s.resume(ctx, c.OrgID, c.ID, c.Name, []string{model.CampaignCompleted})
		}
		if err != nil {
			slog.Warn("campaign: capped retry", "campaign", ref.ID, "err", err)
		}
	}
	running, err := s.st.RunningCampaigns(ctx)
	if err != nil {
		return err
	}
	for _, ref := range running {
		if err := s.tend(ctx, ref); err != nil {
			slog.Warn("campaign: tend", "campaign", ref.ID, "err", err)
		}
	}
	return nil
}

// tend gives a running campaign new runners when none is alive (their process died: its
// jobs stay "running" until the queue rescues them), and closes its A/B test when due.
func (s *Service) tend(ctx context.Context, ref store.CampaignRef) error {
	c, err := s.st.Campaign(ctx, ref.OrgID, ref.ID)
	if err != nil {
		return err
	}
	if c.Winner == nil && len(c.Message.Variants) > 1 && c.Settings.TestPct > 0 && c.Settings.AutoWinner &&
		c.LaunchedAt != nil && s.now().Sub(*c.LaunchedAt) >= time.Duration(c.Settings.TestHours)*time.Hour {
		if best, ok, err := s.best(ctx, c); err != nil {
			return err
		} else if ok {
			if err := s.release(ctx, c, best); err != nil {
				return err
			}
		}
	}
	alive, err := s.st.RunnersAlive(ctx, c.ID, s.Slice+2*s.SendTimeout+10*time.Second)
	if err != nil || alive > 0 {
		return err
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		// A new generation, so the dead runners' stuck jobs do not block them.
		gen := int(s.now().Unix())
		for r := range max(1, s.Runners) {
			if _, err := s.jobs.InsertTx(ctx, tx.SQLTx(), RunArgs{OrgID: c.OrgID, CampaignID: c.ID, Runner: gen*100 + r}, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// best is the A/B variant with the best rate of the campaign's metric (reply or read).
func (s *Service) best(ctx context.Context, c model.Campaign) (int, bool, error) {
	stats, err := s.st.CampaignVariants(ctx, c.OrgID, c.ID)
	if err != nil {
		return 0, false, err
	}
	best, bestRate, found := 0, -1.0, false
	for _, v := range stats {
		if v.Sent == 0 {
			continue
		}
		hits := v.Replied
		if c.Settings.TestMetric == "read" {
			hits = v.Read
		}
		if rate := float64(hits) / float64(v.Sent); rate > bestRate {
			best, bestRate, found = v.Variant, rate, true
		}
	}
	return best, found, nil
}

// Register adds the engine's workers and its housekeeping, every tick.
func Register(reg *jobs.Registry, s *Service, tick time.Duration) {
	river.AddWorker(reg.Workers, &RunWorker{Service: s})
	river.AddWorker(reg.Workers, &TickWorker{Service: s})
	reg.Periodic = append(reg.Periodic, river.NewPeriodicJob(river.PeriodicInterval(tick),
		func() (river.JobArgs, *river.InsertOpts) { return TickArgs{}, nil },
		&river.PeriodicJobOpts{ID: "campaign.tick", RunOnStart: true}))
}
