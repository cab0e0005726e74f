package analytics

import "context"

// What the manager's dashboard (the org's home) shows, in order. The page, its CSV
// exports and GET /api/v1/analytics/dashboard all read Home, so they show the same figures.
var (
	// HomeKPIs are the cards at the top, each beside the previous period.
	HomeKPIs = []string{
		"conversations.started", "response.first_median", "resolution.median", "response.within_target",
		"messages.sent", "messages.delivery_rate", "leads.created", "leads.won", "leads.won_value",
		"ai.share", "calls.total",
	}
	// HomeNow are the figures of the present moment beside the cards.
	HomeNow = []string{"conversations.open", "conversations.waiting", "conversations.unassigned"}
	// HomeSeries are the charts.
	HomeSeries = []string{"conversations.started", "messages.sent", "messages.inbound", "response.first_median", "leads.created"}
	// HomeTables and HomeFunnels are the breakdowns below the charts.
	HomeTables  = []string{"agents", "channels", "campaigns"}
	HomeFunnels = []string{"campaign", "cadence", "leads"}
)

// Home is the manager's dashboard of a period.
type Home struct {
	Filter  Filter   `json:"-"`
	KPIs    []KPI    `json:"kpis"`
	Now     []Figure `json:"now"`
	Series  []Series `json:"series"`
	Tables  []Table  `json:"tables"`
	Funnels []Funnel `json:"funnels"`
}

// Home works out the manager's dashboard.
func (s *Service) Home(ctx context.Context, orgID int64, f Filter) (Home, error) {
	h := Home{Filter: f}
	ctx = WithMemo(ctx)
	var err error
	if h.KPIs, err = s.KPIs(ctx, orgID, f, HomeKPIs); err != nil {
		return Home{}, err
	}
	if h.Now, err = s.Figures(ctx, orgID, f, HomeNow); err != nil {
		return Home{}, err
	}
	for _, k := range HomeSeries {
		sr, err := s.Series(ctx, orgID, f, k)
		if err != nil {
			return Home{}, err
		}
		h.Series = append(h.Series, sr)
	}
	for _, name := range HomeTables {
		t, err := s.Table(ctx, orgID, f, name)
		if err != nil {
			return Home{}, err
		}
		h.Tables = append(h.Tables, t)
	}
	for _, name := range HomeFunnels {
		fu, err := s.Funnel(ctx, orgID, f, name)
		if err != nil {
			return Home{}, err
		}
		h.Funnels = append(h.Funnels, fu)
	}
	return h, nil
}
