package calls

import (
	"context"
	"time"

	"masteria/app/model"
	"masteria/app/store"
)

// Call returns one call of the org.
func (s *Service) Call(ctx context.Context, orgID, id int64) (model.Call, error) {
	return s.st.Call(ctx, orgID, id)
}

// Calls lists the org's calls, the newest first.
func (s *Service) Calls(ctx context.Context, orgID int64, f store.CallFilter, limit int) ([]model.Call, error) {
	if limit <= 0 || limit > 200 {
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
	rows, err := s.st.CallsAnalytics(ctx, orgID, from, to.AddDate(0, 0, -1), from, to, zone)
	if err != nil {
		return Report{}, err
	}
	rep := Report{From: from, To: to.AddDate(0, 0, -1), Zone: zone}
	byDay := map[string]Stats{}
	for _, r := range rows {
		st := statsOf(r)
		switch r.Dim {
		case "total":
			rep.Total = st
		case "day":
			byDay[r.Key] = st
		case "agent":
			rep.Agents = append(rep.Agents, st)
		case "number":
			rep.Numbers = append(rep.Numbers, st)
		case "campaign":
			rep.Campaigns = append(rep.Campaigns, st)
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
