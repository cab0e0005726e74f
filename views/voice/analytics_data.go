package voice

// Stats are the figures of a group of calls (a day, an agent, a number, a campaign, or all).
type Stats struct {
	Key, Label                         string
	Calls, Answered, Voicemail         int64
	DurationMS, AvgDurationMS          int64
	Analysed, Successful               int64
	Positive, Neutral, Negative        int64
	CostCents                          float64
	AnswerRate, VoicemailRate, Success float64
}

// AnalyticsData is GET /o/{org}/settings/voice/analytics: the calls of a period.
type AnalyticsData struct {
	From, To string // YYYY-MM-DD, the period's first and last day
	Zone     string
	// Error is an i18n key when the period asked for was refused (the default is shown).
	Error     string
	Total     Stats
	Days      []Stats
	Agents    []Stats
	Numbers   []Stats
	Campaigns []Stats
	MaxDay    int64 // the busiest day's calls, to scale the bars
}

// barHeight is a day's bar in twentieths of the busiest day's (CSS draws data-h; the
// page's CSP allows no inline style). A day with calls shows at least a sliver.
func barHeight(n, top int64) string {
	if top == 0 || n == 0 {
		return "0"
	}
	return id(max(1, (n*20+top/2)/top))
}

func sentimentSplit(s Stats) (pos, neu, neg string) {
	total := s.Positive + s.Neutral + s.Negative
	if total == 0 {
		return "—", "—", "—"
	}
	t := float64(total)
	return percent(float64(s.Positive) / t), percent(float64(s.Neutral) / t), percent(float64(s.Negative) / t)
}
