package analytics

import (
	"context"
	"strconv"
	"time"

	"masteria/app/model"
	"masteria/app/store"
)

// The campaigns family: the funnel of the recipients of the campaigns launched in the
// period (analytics_campaigns, one row per launched campaign). Each step is a subset of
// the one before; a recipient counts at the furthest step it reached
// (analytics_recipient_step, migration 00039):
//
//   - campaign.sent: a provider took the message (status sent, delivered, read, replied; a
//     call campaign's answered call too).
//   - campaign.delivered: delivered, read or replied (a call: answered).
//   - campaign.read: read or replied — a reply without a read receipt counts as read, as a
//     reply proves the message was read.
//   - campaign.replied: replied.
//   - campaign.lead: replied, and the recipient's contact has a lead (any pipeline) created
//     at or after the campaign's launch.
//   - campaign.won: such a lead is in a won stage now.
//
// Filters: campaign, channel (the campaign's).
type campaignsFamily struct{ st *store.Store }

// campaignsNarrows are the filters the campaigns family follows: the campaign and its channel.
var campaignsNarrows = []string{FilterChannel, FilterCampaign}

// campaignsRollup keeps analytics_campaigns: its marks are campaign ids.
type campaignsRollup struct{}

func (campaignsRollup) Kind() string { return "crm.campaigns" }

func (campaignsRollup) Recompute(ctx context.Context, tx *store.Store, orgID int64, _ *time.Location, marks []Mark) error {
	if ids := crmKeys(marks); len(ids) > 0 {
		return tx.RecomputeCampaignFunnels(ctx, orgID, ids)
	}
	return nil
}

func newCampaigns(s *Service) {
	s.register("campaigns", campaignsFamily{st: s.st})
	s.addRollup(campaignsRollup{})
}

// campaignSteps are the funnel's keys, in order.
var campaignSteps = []string{"campaign.sent", "campaign.delivered", "campaign.read", "campaign.replied", "campaign.lead", "campaign.won"}

func campaignFigure(key string, c store.CampaignCounts) Figure {
	switch key {
	case "campaign.sent":
		return crmCount(c.Sent)
	case "campaign.delivered":
		return crmCount(c.Delivered)
	case "campaign.read":
		return crmCount(c.Read)
	case "campaign.replied":
		return crmCount(c.Replied)
	case "campaign.lead":
		return crmCount(c.Lead)
	case "campaign.won":
		return crmCount(c.Won)
	}
	return Figure{}
}

func (c campaignsFamily) byBucket(ctx context.Context, orgID int64, f Filter, step string) (map[int]store.CampaignCounts, error) {
	rows, err := c.st.CampaignsCounts(ctx, orgID, crmPeriod(f, step), f.CampaignID, f.ChannelID, false)
	if err != nil {
		return nil, err
	}
	out := map[int]store.CampaignCounts{}
	for _, r := range rows {
		out[r.Bucket] = r
	}
	return out, nil
}

func (c campaignsFamily) figures(ctx context.Context, orgID int64, f Filter, keys []string) (map[string]Figure, error) {
	by, err := c.byBucket(ctx, orgID, f, "")
	if err != nil {
		return nil, err
	}
	out := map[string]Figure{}
	for _, k := range keys {
		out[k] = campaignFigure(k, by[1])
	}
	return out, nil
}

func (c campaignsFamily) series(ctx context.Context, orgID int64, f Filter, key, step string) (Series, error) {
	by, err := c.byBucket(ctx, orgID, f, step)
	if err != nil {
		return Series{}, err
	}
	return crmSeries(f, key, step, func(b int) Figure { return campaignFigure(key, by[b]) }), nil
}

func campaignRow(key, label string, c store.CampaignCounts) Row {
	r := Row{Key: key, Label: label}
	for _, k := range campaignSteps {
		fig := campaignFigure(k, c)
		fig.Metric = k
		r.Figures = append(r.Figures, fig)
	}
	return r
}

// table "campaigns": one row per campaign launched in the period (the latest first), with
// its funnel; the total is the period's funnel.
func (c campaignsFamily) table(ctx context.Context, orgID int64, f Filter, name string) (Table, error) {
	if name != "campaigns" {
		return Table{}, model.FieldError("table", "analytics.error.table")
	}
	rows, err := c.st.CampaignsCounts(ctx, orgID, crmPeriod(f, ""), f.CampaignID, f.ChannelID, true)
	if err != nil {
		return Table{}, err
	}
	t := Table{Columns: campaignSteps, Rows: []Row{}}
	var total store.CampaignCounts
	for _, r := range rows {
		t.Rows = append(t.Rows, campaignRow(strconv.FormatInt(r.Key, 10), r.Label, r))
		total.Sent += r.Sent
		total.Delivered += r.Delivered
		total.Read += r.Read
		total.Replied += r.Replied
		total.Lead += r.Lead
		total.Won += r.Won
	}
	tr := campaignRow("", "", total)
	t.Total = &tr
	return t, nil
}

// funnel "campaign": sent → delivered → read → replied → lead → won.
func (c campaignsFamily) funnel(ctx context.Context, orgID int64, f Filter, name string) (Funnel, error) {
	if name != "campaign" {
		return Funnel{}, model.FieldError("funnel", "analytics.error.funnel")
	}
	by, err := c.byBucket(ctx, orgID, f, "")
	if err != nil {
		return Funnel{}, err
	}
	return Funnel{Steps: campaignRow("", "", by[1]).Figures}, nil
}

// drill lists the recipients behind a step of the funnel (row: one campaign); each links
// to its campaign's run page.
func (c campaignsFamily) drill(ctx context.Context, orgID int64, f Filter, key, row, after string, limit int) (DrillPage, error) {
	id, err := crmRowID(row)
	if err != nil {
		return DrillPage{}, err
	}
	q := store.DrillQuery{List: "campaigns", A: f.CampaignID, B: f.ChannelID}
	for i, k := range campaignSteps {
		if k == key {
			q.What = i + 1
		}
	}
	if id != 0 {
		if q.A != 0 && q.A != id {
			q.A = -1 // a campaign the filter leaves out: nothing
		} else {
			q.A = id
		}
	}
	return crmDrill(ctx, c.st, orgID, f, q, after, limit, func(r store.DrillRow) DrillItem {
		return DrillItem{ID: r.ID, Title: r.Title, Detail: r.Detail, At: r.Shown, Path: "/campaigns/" + strconv.FormatInt(r.Ref, 10)}
	})
}
