package analytics_test

import (
	"context"
	"testing"

	"masteria/app/analytics"
)

// TestConversationFiltersNarrowAsDeclared: the messages and conversations families follow
// the filters they declare (business hours only for their times), and no other.
func TestConversationFiltersNarrowAsDeclared(t *testing.T) {
	x := newShop(t)
	// Business hours that change the times of the week (see TestBusinessHours), and a
	// pipeline, which nothing of these families has.
	x.exec(`INSERT INTO org_inbox_settings (org_id, business_hours) VALUES ($1, $2)`, x.org,
		`[{"day":1,"from":"09:00","to":"18:00"},{"day":2,"from":"09:00","to":"18:00"},{"day":3,"from":"09:00","to":"18:00"},`+
			`{"day":4,"from":"09:00","to":"18:00"},{"day":5,"from":"09:00","to":"18:00"}]`)
	if _, err := x.s.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	pipeline := x.id(`INSERT INTO pipelines (org_id, name, position) VALUES ($1, 'Vendas', 0) RETURNING id`, x.org)
	set := map[string]func(*analytics.Filter){
		analytics.FilterChannel:       func(f *analytics.Filter) { f.ChannelID = x.sms },
		analytics.FilterAgent:         func(f *analytics.Filter) { f.AgentID = x.ana },
		analytics.FilterCampaign:      func(f *analytics.Filter) { f.CampaignID = x.campaign },
		analytics.FilterPipeline:      func(f *analytics.Filter) { f.PipelineID = pipeline },
		analytics.FilterLabel:         func(f *analytics.Filter) { f.Label = "vip" },
		analytics.FilterBusinessHours: func(f *analytics.Filter) { f.BusinessHours = true },
	}
	for _, fam := range []string{"messages", "conversations"} {
		t.Run(fam, func(t *testing.T) { analytics.CheckNarrowing(t, x.s, x.org, x.week, fam, set) })
	}
}
