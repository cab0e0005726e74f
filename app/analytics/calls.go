package analytics

import (
	"cmp"
	"context"
	"strconv"
	"time"

	"masteria/app/model"
	"masteria/app/store"
)

// The calls family: voice calls exactly as the voice analytics page counts them. It has no
// rollup of its own: it reads the page's daily figures (call_stats_daily, migration 00023,
// through store.CallsAnalytics, which works out live the days not stored yet), so the two
// pages cannot disagree. A call counts on the day (hour) it was created, in the org's zone.
//
//   - calls.total: calls placed or received.
//   - calls.answered: calls a person or a voicemail answered.
//   - calls.answer_rate: answered / total.
//   - calls.duration_avg: the average length of the answered calls, in seconds.
//   - calls.successful: calls the provider's analysis says reached their goal.
//   - calls.cost: what the calls cost, in cents.
//
// Filter: campaign (the voice figures' campaign). The voice figures' agents are the voice
// provider's AI agents, not the org's members: the agent filter does not narrow calls.
type callsFamily struct{ st *store.Store }

// callsNarrows are the filters the calls family follows: the campaign.
var callsNarrows = []string{FilterCampaign}

func newCalls(s *Service) { s.register("calls", callsFamily{st: s.st}) }

// callTotals sums the voice analytics rows of a period: its days, or the one campaign's.
func callTotals(rows []store.CallStats, campaignID int64) store.CallStats {
	var t store.CallStats
	for _, r := range rows {
		if campaignID == 0 && r.Dim != "day" || campaignID != 0 && (r.Dim != "campaign" || r.Key != strconv.FormatInt(campaignID, 10)) {
			continue
		}
		t.Calls += r.Calls
		t.Answered += r.Answered
		t.DurationMS += r.DurationMS
		t.Successful += r.Successful
		t.CostCents += r.CostCents
	}
	return t
}

func callFigure(key string, t store.CallStats) Figure {
	switch key {
	case "calls.total":
		return crmCount(t.Calls)
	case "calls.answered":
		return crmCount(t.Answered)
	case "calls.answer_rate":
		return crmRatio(t.Answered, t.Calls)
	case "calls.duration_avg":
		if t.Answered == 0 {
			return Figure{}
		}
		// As the voice page: whole milliseconds per answered call.
		return Figure{Value: float64(t.DurationMS/t.Answered) / 1000, Known: true}
	case "calls.successful":
		return crmCount(t.Successful)
	case "calls.cost":
		return Figure{Value: t.CostCents, Known: true}
	}
	return Figure{}
}

// analytics is the voice analytics of [from, to) (whole days of the filter's zone).
func (c callsFamily) analytics(ctx context.Context, orgID int64, f Filter, from, to time.Time) ([]store.CallStats, error) {
	return c.st.CallsAnalytics(ctx, orgID, from, to.AddDate(0, 0, -1), zoneName(f))
}

func (c callsFamily) figures(ctx context.Context, orgID int64, f Filter, keys []string) (map[string]Figure, error) {
	rows, err := c.analytics(ctx, orgID, f, f.From.In(crmZone(f)), f.To.In(crmZone(f)))
	if err != nil {
		return nil, err
	}
	t := callTotals(rows, f.CampaignID)
	out := map[string]Figure{}
	for _, k := range keys {
		out[k] = callFigure(k, t)
	}
	return out, nil
}

func (c callsFamily) series(ctx context.Context, orgID int64, f Filter, key, step string) (Series, error) {
	bs := buckets(f, step)
	totals := make(map[int]store.CallStats, len(bs))
	switch {
	case step == "hour":
		rows, err := c.st.CallsBuckets(ctx, orgID, crmPeriod(f, step), f.CampaignID)
		if err != nil {
			return Series{}, err
		}
		for _, r := range rows {
			totals[r.Bucket] = store.CallStats{Calls: r.Calls, Answered: r.Answered, DurationMS: r.DurationMS,
				Successful: r.Successful, CostCents: r.CostCents}
		}
	case f.CampaignID != 0:
		// The campaign's figures are per period: one read per bucket.
		for i, b := range bs {
			end := f.To
			if i+1 < len(bs) {
				end = bs[i+1]
			}
			rows, err := c.analytics(ctx, orgID, f, b, end)
			if err != nil {
				return Series{}, err
			}
			totals[i+1] = callTotals(rows, f.CampaignID)
		}
	default:
		rows, err := c.analytics(ctx, orgID, f, f.From.In(crmZone(f)), f.To.In(crmZone(f)))
		if err != nil {
			return Series{}, err
		}
		for _, r := range rows {
			if r.Dim != "day" {
				continue
			}
			day, err := time.ParseInLocation(time.DateOnly, r.Key, crmZone(f))
			if err != nil {
				continue
			}
			b := 0
			for i, s := range bs {
				if !day.Before(s) {
					b = i + 1
				}
			}
			t := totals[b]
			t.Calls += r.Calls
			t.Answered += r.Answered
			t.DurationMS += r.DurationMS
			t.Successful += r.Successful
			t.CostCents += r.CostCents
			totals[b] = t
		}
	}
	return crmSeries(f, key, step, func(b int) Figure { return callFigure(key, totals[b]) }), nil
}

func (callsFamily) table(context.Context, int64, Filter, string) (Table, error) {
	return Table{}, model.FieldError("table", "analytics.error.table")
}

func (callsFamily) funnel(context.Context, int64, Filter, string) (Funnel, error) {
	return Funnel{}, model.FieldError("funnel", "analytics.error.funnel")
}

// drill lists the calls behind a calls figure: calls.answered and calls.duration_avg the
// answered calls (Value: seconds), calls.successful the successful ones, calls.cost every
// call (Value: cents), the others every call. A call shows in its conversation's thread
// (the app has no page of one call): each links there, or else to its contact.
func (c callsFamily) drill(ctx context.Context, orgID int64, f Filter, key, row, after string, limit int) (DrillPage, error) {
	if row != "" {
		return DrillPage{}, model.FieldError("row", "analytics.error.row")
	}
	what := map[string]string{"calls.answered": "answered", "calls.duration_avg": "duration", "calls.successful": "successful",
		"calls.cost": "cost"}[key]
	q := store.DrillQuery{List: "calls", What: cmp.Or(what, "all"), A: f.CampaignID}
	return crmDrill(ctx, c.st, orgID, f, q, after, limit, func(r store.DrillRow) DrillItem {
		it := DrillItem{ID: r.ID, Title: r.Title, Detail: r.Detail, At: r.Shown, Value: r.Value}
		switch {
		case r.Ref != 0:
			it.Path = "/inbox/" + strconv.FormatInt(r.Ref, 10)
		case r.Ref2 != 0:
			it.Path = "/contacts/" + strconv.FormatInt(r.Ref2, 10)
		default: // the app has no page of one call: the voice analytics
			it.Path = "/settings/voice/analytics"
		}
		return it
	})
}
