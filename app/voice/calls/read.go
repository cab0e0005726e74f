package calls

import (
	"context"
	"sort"
	"time"

	"masteria/app/model"
	"masteria/app/store"
)

// Call returns one call of the org.
func (s *Service) Call(ctx context.Context, orgID, id int64) (model.Call, error) {
	return s.st.Call(ctx, orgID, id)
}

// MaxCalls is the most calls a page lists.
const MaxCalls = 200

// Calls lists up to limit of the org's calls (1 to MaxCalls, or one more to tell whether a
// page follows; 50 otherwise), the newest first.
func (s *Service) Calls(ctx context.Context, orgID int64, f store.CallFilter, limit int) ([]model.Call, error) {
	if limit <= 0 || limit > MaxCalls+1 {
		limit = 50
	}
	return s.st.Calls(ctx, orgID, f, limit)
}

// OfConversation returns the calls of a conversation's thread, oldest first.
func (s *Service) OfConversation(ctx context.Context, orgID, convID int64) ([]model.Call, error) {
	return s.st.CallsOfConversation(ctx, orgID, convID)
}

// Stats are the figures of a group of calls, with their rates worked out.
type Stats struct {
	store.CallStats
	AnswerRate    float64 `json:"answer_rate"`    // answered / calls
	VoicemailRate float64 `json:"voicemail_rate"` // voicemail / answered
	SuccessRate   float64 `json:"success_rate"`   // successful / analysed
	AvgDurationMS int64   `json:"avg_duration_ms"`
}

func statsOf(r store.CallStats) Stats {
	st := Stats{CallStats: r}
	if r.Calls > 0 {
		st.AnswerRate = float64(r.Answered) / float64(r.Calls)
	}
	if r.Answered > 0 {
		st.VoicemailRate = float64(r.Voicemail) / float64(r.Answered)
		st.AvgDurationMS = r.DurationMS / r.Answered
	}
	if r.Analysed > 0 {
		st.SuccessRate = float64(r.Successful) / float64(r.Analysed)
	}
	return st
}

// Report is the calls analytics of a period: overall, per day (every day of the period,
// empty ones included), per agent, per number and per campaign.
type Report struct {
	From, To  time.Time // the period's first and last day, in the org's zone
	Zone      string
	Total     Stats
	Days      []Stats
	Agents    []Stats
	Numbers   []Stats
	Campaigns []Stats
}

// MaxDays is the longest period a report covers.
const MaxDays = 366

// Analytics reports the org's calls from the first to the last day (inclusive) in zone.
func (s *Service) Analytics(ctx context.Context, orgID int64, first, last time.Time, zone string) (Report, error) {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc, zone = time.UTC, "UTC"
	}
	from := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, loc)
	to := time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	if !to.After(from) {
		return Report{}, model.FieldError("to", "calls.error.period")
	}
	if to.Sub(from) > MaxDays*24*time.Hour+time.Hour {
		return Report{}, model.FieldError("from", "calls.error.period_long")
	}
	rows, err := s.st.CallsAnalytics(ctx, orgID, from, to.AddDate(0, 0, -1), zone)
	if err != nil {
		return Report{}, err
	}
	rep := Report{From: from, To: to.AddDate(0, 0, -1), Zone: zone}
	// Stored and worked-out rows of the same agent, number or campaign add up.
	byDay := map[string]Stats{}
	groups := map[string]map[string]*store.CallStats{"agent": {}, "number": {}, "campaign": {}}
	var order []*store.CallStats
	var total store.CallStats
	for _, r := range rows {
		if r.Dim == "day" {
			byDay[r.Key] = statsOf(r)
			add(&total, r)
			continue
		}
		g, ok := groups[r.Dim]
		if !ok {
			continue
		}
		if cur, ok := g[r.Key]; ok {
			add(cur, r)
			if cur.Label == "" {
				cur.Label = r.Label
			}
			continue
		}
		r := r
		g[r.Key] = &r
		order = append(order, &r)
	}
	total.Dim = "total"
	rep.Total = statsOf(total)
	sort.SliceStable(order, func(i, j int) bool { return order[i].Calls > order[j].Calls })
	for _, r := range order {
		switch r.Dim {
		case "agent":
			rep.Agents = append(rep.Agents, statsOf(*r))
		case "number":
			rep.Numbers = append(rep.Numbers, statsOf(*r))
		case "campaign":
			rep.Campaigns = append(rep.Campaigns, statsOf(*r))
		}
	}
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		k := d.Format(time.DateOnly)
		st, ok := byDay[k]
		if !ok {
			st = Stats{CallStats: store.CallStats{Dim: "day", Key: k}}
		}
		rep.Days = append(rep.Days, st)
	}
	return rep, nil
}

func add(to *store.CallStats, r store.CallStats) {
	to.Calls += r.Calls
	to.Answered += r.Answered
	to.Voicemail += r.Voicemail
	to.DurationMS += r.DurationMS
	to.Analysed += r.Analysed
	to.Successful += r.Successful
	to.Positive += r.Positive
	to.Neutral += r.Neutral
	to.Negative += r.Negative
	to.CostCents += r.CostCents
}

// RefreshStats stores the daily figures of the org's last year of calls that are missing or
// out of date, in the org's time zone; it returns how many days it worked out.
func (s *Service) RefreshStats(ctx context.Context, orgID int64) (int, error) {
	zone, err := s.st.OrgTimeZone(ctx, orgID)
	if err != nil {
		return 0, err
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc, zone = time.UTC, "UTC"
	}
	now := time.Now().In(loc)
	last := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	return s.st.RefreshCallStats(ctx, orgID, last.AddDate(0, 0, -MaxDays), last, zone)
}
