package campaign

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// RunArgs is one runner of a campaign: it claims batches of recipients and sends them until
// none is due. Several runners, on any instances, send one campaign together.
type RunArgs struct {
	OrgID      int64 `json:"org_id"`
	CampaignID int64 `json:"campaign_id"`
	Runner     int   `json:"runner"`
}

// Kind is the job's stable name.
func (RunArgs) Kind() string { return "campaign.run" }

// InsertOpts: one job per runner of a campaign while it is queued or running.
func (RunArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1000, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled}}}
}

// startRunners queues the campaign's runners in tx, and wakes those that wait (snoozed until
// a recipient is due): a resume or a released A/B winner starts at once.
func (s *Service) startRunners(ctx context.Context, tx *store.Store, orgID, id int64) error {
	if s.jobs == nil {
		return fmt.Errorf("campaign: no job queue")
	}
	waiting, err := tx.RunnersWaiting(ctx, id)
	if err != nil {
		return err
	}
	for _, job := range waiting {
		if _, err := s.jobs.JobRetryTx(ctx, tx.SQLTx(), job); err != nil {
			return err
		}
	}
	for r := range max(1, s.Runners) {
		if _, err := s.jobs.InsertTx(ctx, tx.SQLTx(), RunArgs{OrgID: orgID, CampaignID: id, Runner: r}, nil); err != nil {
			return err
		}
	}
	return nil
}

// Launch starts a campaign now, or schedules it for its time: it refuses a campaign that is
// not ready (ErrNotReady with the fields), or that was launched before (ErrStarted).
// Starting snapshots the audience into recipient rows in the same transaction.
func (s *Service) Launch(ctx context.Context, a model.Actor, id int64) (model.Campaign, error) {
	if err := mayRun(a); err != nil {
		return model.Campaign{}, err
	}
	c, err := s.st.Campaign(ctx, a.OrgID, id)
	if err != nil {
		return c, err
	}
	if c.Status != model.CampaignDraft && c.Status != model.CampaignScheduled {
		return c, ErrStarted
	}
	if c.Voice() {
		if _, err := s.readyCall(ctx, c); err != nil {
			return c, err
		}
	} else if _, _, err := s.ready(ctx, c); err != nil {
		return c, err
	}
	if c.ScheduledAt != nil && c.ScheduledAt.After(s.now()) {
		ok, err := s.st.MoveCampaign(ctx, a.OrgID, id, model.CampaignScheduled, []string{model.CampaignDraft}, "", "")
		if err == nil && !ok {
			err = ErrStarted
		}
		if err != nil {
			return c, err
		}
		return s.st.Campaign(ctx, a.OrgID, id)
	}
	if err := s.start(ctx, c, model.CampaignDraft, model.CampaignScheduled); err != nil {
		return c, err
	}
	return s.st.Campaign(ctx, a.OrgID, id)
}

// start moves a campaign from one of the from states to running, snapshots its audience and
// queues its runners, all in one transaction: two launches at once start it once.
func (s *Service) start(ctx context.Context, c model.Campaign, from ...string) error {
	var sp store.Snapshot
	if c.Voice() {
		if _, err := s.readyCall(ctx, c); err != nil {
			return err
		}
		var err error
		if sp, err = s.callSnapshot(ctx, c); err != nil {
			return err
		}
	} else {
		ch, _, err := s.ready(ctx, c)
		if err != nil {
			return err
		}
		if sp, err = s.snapshot(ctx, c, ch); err != nil {
			return err
		}
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		ok, err := tx.MoveCampaign(ctx, c.OrgID, c.ID, model.CampaignRunning, from, "", "")
		if err != nil {
			return err
		}
		if !ok {
			return ErrStarted
		}
		if _, err := tx.SnapshotAudience(ctx, c.OrgID, sp); err != nil {
			return err
		}
		if err := s.startRunners(ctx, tx, c.OrgID, c.ID); err != nil {
			return err
		}
		_, err = events.CampaignStarted.Publish(ctx, tx, c.OrgID, events.CampaignRef{CampaignID: c.ID, Name: c.Name})
		return err
	})
}

// Pause stops a running (or scheduled) campaign's sends within a second, on every instance:
// runners read the status before each batch.
func (s *Service) Pause(ctx context.Context, a model.Actor, id int64) error {
	if err := mayRun(a); err != nil {
		return err
	}
	if _, err := s.st.Campaign(ctx, a.OrgID, id); err != nil {
		return err
	}
	return s.pause(ctx, a.OrgID, id, model.PauseByUser, "")
}

// pause moves a campaign to paused with a reason; one already paused or finished stays.
func (s *Service) pause(ctx context.Context, orgID, id int64, reason, detail string) error {
	return s.pauseIn(ctx, s.st, orgID, id, reason, detail)
}

// pauseIn is pause in st's transaction, when st is in one.
func (s *Service) pauseIn(ctx context.Context, st *store.Store, orgID, id int64, reason, detail string) error {
	return st.Tx(ctx, func(tx *store.Store) error {
		ok, err := tx.MoveCampaign(ctx, orgID, id, model.CampaignPaused,
			[]string{model.CampaignRunning, model.CampaignScheduled}, reason, detail)
		if err != nil || !ok {
			if err == nil && reason == model.PauseByUser {
				return fmt.Errorf("campaign: not running: %w", model.ErrConflict)
			}
			return err
		}
		_, err = events.CampaignPaused.Publish(ctx, tx, orgID, events.CampaignPause{CampaignID: id, Reason: reason, Detail: detail})
		return err
	})
}

// Resume continues a paused campaign exactly where it stopped.
func (s *Service) Resume(ctx context.Context, a model.Actor, id int64) error {
	if err := mayRun(a); err != nil {
		return err
	}
	c, err := s.st.Campaign(ctx, a.OrgID, id)
	if err != nil {
		return err
	}
	if c.Status != model.CampaignPaused {
		return fmt.Errorf("campaign: not paused: %w", model.ErrConflict)
	}
	if c.LaunchedAt == nil { // paused while scheduled: nothing was snapshotted yet
		return s.start(ctx, c, model.CampaignPaused)
	}
	return s.resume(ctx, c.OrgID, c.ID, c.Name, []string{model.CampaignPaused})
}

func (s *Service) resume(ctx context.Context, orgID, id int64, name string, from []string) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		ok, err := tx.MoveCampaign(ctx, orgID, id, model.CampaignRunning, from, "", "")
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("campaign: cannot resume: %w", model.ErrConflict)
		}
		if err := s.startRunners(ctx, tx, orgID, id); err != nil {
			return err
		}
		_, err = events.CampaignStarted.Publish(ctx, tx, orgID, events.CampaignRef{CampaignID: id, Name: name})
		return err
	})
}

// Cancel ends a campaign: what was not sent stays unsent.
func (s *Service) Cancel(ctx context.Context, a model.Actor, id int64) error {
	if err := mayRun(a); err != nil {
		return err
	}
	if _, err := s.st.Campaign(ctx, a.OrgID, id); err != nil {
		return err
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		ok, err := tx.MoveCampaign(ctx, a.OrgID, id, model.CampaignCancelled, []string{model.CampaignDraft,
			model.CampaignScheduled, model.CampaignRunning, model.CampaignPaused}, "", "")
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("campaign: already finished: %w", model.ErrConflict)
		}
		_, err = events.CampaignCancelled.Publish(ctx, tx, a.OrgID, events.CampaignRef{CampaignID: id})
		return err
	})
}

// finalCodes are failures no retry can fix: the number does not work, the person opted
// out, the message itself is wrong.
var finalCodes = []string{"131026", "131050", "21211", "21614", "21610", model.FailOptedOut, model.FailNoPhone,
	"132000", "132005", "132007", "132012", "100",
	// A call campaign's: a number that does not exist, a contact with no phone or deleted.
	model.CallResultInvalid, model.SkipNoAddress, model.SkipDeleted}

// RetryFailed sends again to recipients whose send failed for a reason that may pass
// (throttling that ran out of attempts, a provider's outage); it returns how many.
func (s *Service) RetryFailed(ctx context.Context, a model.Actor, id int64) (int64, error) {
	if err := mayRun(a); err != nil {
		return 0, err
	}
	c, err := s.st.Campaign(ctx, a.OrgID, id)
	if err != nil {
		return 0, err
	}
	if c.LaunchedAt == nil || c.Status == model.CampaignCancelled {
		return 0, fmt.Errorf("campaign: nothing to retry: %w", model.ErrConflict)
	}
	var n int64
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		if n, err = tx.RetryFailed(ctx, a.OrgID, id, finalCodes); err != nil || n == 0 {
			return err
		}
		if c.Status == model.CampaignCompleted {
			ok, err := tx.MoveCampaign(ctx, a.OrgID, id, model.CampaignRunning, []string{model.CampaignCompleted}, "", "")
			if err != nil || !ok {
				return err
			}
			if _, err := events.CampaignStarted.Publish(ctx, tx, a.OrgID, events.CampaignRef{CampaignID: id, Name: c.Name}); err != nil {
				return err
			}
		}
		if c.Status == model.CampaignRunning || c.Status == model.CampaignCompleted {
			return s.startRunners(ctx, tx, a.OrgID, id)
		}
		return nil
	})
	return n, err
}

// ChooseWinner gives an A/B test's winning variant to the rest of the audience.
func (s *Service) ChooseWinner(ctx context.Context, a model.Actor, id int64, variant int) error {
	if err := mayRun(a); err != nil {
		return err
	}
	c, err := s.st.Campaign(ctx, a.OrgID, id)
	if err != nil {
		return err
	}
	if variant < 0 || variant >= len(c.Message.Variants) {
		return model.FieldError("variant", "campaigns.error.variant")
	}
	return s.release(ctx, c, variant)
}

func (s *Service) release(ctx context.Context, c model.Campaign, variant int) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		ok, err := tx.ReleaseWinner(ctx, c.OrgID, c.ID, variant)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("campaign: the winner was already chosen: %w", model.ErrConflict)
		}
		if c.Status == model.CampaignRunning {
			return s.startRunners(ctx, tx, c.OrgID, c.ID)
		}
		return nil
	})
}

// Progress counts a campaign's recipients by status.
func (s *Service) Progress(ctx context.Context, a model.Actor, id int64) (model.Progress, error) {
	if _, err := s.Campaign(ctx, a, id); err != nil {
		return model.Progress{}, err
	}
	return s.st.CampaignProgress(ctx, a.OrgID, id)
}

// PerMinute counts a campaign's sends per minute over the last hour it sent.
func (s *Service) PerMinute(ctx context.Context, a model.Actor, id int64) ([]store.MinuteCount, error) {
	if _, err := s.Campaign(ctx, a, id); err != nil {
		return nil, err
	}
	return s.st.CampaignPerMinute(ctx, a.OrgID, id, s.now().Add(-time.Hour))
}

// Recipients returns a page of a campaign's recipients in a status ("" all), after id.
func (s *Service) Recipients(ctx context.Context, a model.Actor, id int64, status string, after int64, limit int) ([]model.Recipient, error) {
	if _, err := s.Campaign(ctx, a, id); err != nil {
		return nil, err
	}
	if status != "" && !validStatus(status) {
		return nil, model.FieldError("status", "campaigns.error.status")
	}
	return s.st.Recipients(ctx, a.OrgID, id, status, after, limit)
}

func validStatus(s string) bool {
	for _, x := range model.RecipientStatuses {
		if x == s {
			return true
		}
	}
	return false
}

// Variants returns an A/B test's figures per variant.
func (s *Service) Variants(ctx context.Context, a model.Actor, id int64) ([]store.VariantStats, error) {
	if _, err := s.Campaign(ctx, a, id); err != nil {
		return nil, err
	}
	return s.st.CampaignVariants(ctx, a.OrgID, id)
}
