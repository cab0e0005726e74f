package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"masteria/app/model"
)

// campaignUIQueries are the queries the campaign pages read: the list's summaries.
type campaignUIQueries struct {
	CampaignSummaries *sqlx.Stmt `query:"campaign-summaries"`
}

// CampaignSummaries counts the recipients of some of an org's campaigns by status, in one
// query; a campaign with no recipients (a draft) is absent.
func (s *Store) CampaignSummaries(ctx context.Context, orgID int64, ids []int64) (map[int64]model.Progress, error) {
	out := map[int64]model.Progress{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		CampaignID int64  `db:"campaign_id"`
		Status     string `db:"status"`
		N          int64  `db:"n"`
	}
	if err := s.sel(ctx, s.q.CampaignSummaries, &rows, orgID, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("store: campaign summaries: %w", err)
	}
	for _, r := range rows {
		p, ok := out[r.CampaignID]
		if !ok {
			p = model.Progress{ByStatus: map[string]int64{}}
		}
		p.ByStatus[r.Status] += r.N
		p.Total += r.N
		out[r.CampaignID] = p
	}
	return out, nil
}

// AudienceSample returns up to n contacts a launch would send to, for a preview: the
// launch's own audience query, so the preview shows real recipients.
func (s *Store) AudienceSample(ctx context.Context, orgID int64, sp Snapshot, n int) ([]int64, error) {
	b := s.snapshotSQL(orgID, sp)
	b.add(" ", "SELECT contact_id FROM final WHERE skip_reason = '' ORDER BY contact_id LIMIT ?", n)
	var ids []int64
	if err := sqlx.SelectContext(ctx, s.queryer(), &ids, b.String(), b.args...); err != nil {
		return nil, fmt.Errorf("store: audience sample: %w", err)
	}
	return ids, nil
}
