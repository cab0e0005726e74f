package analytics_test

import (
	"context"
	"math"
	"net/url"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"masteria/app/analytics"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/store/storetest"
)

// fixture builds an org's rows with SQL at given moments, as the app would have written
// them (the triggers of migration 00038 run as they do for the app's own statements).
type fixture struct {
	t    *testing.T
	db   *sqlx.DB
	org  int64
	zone *time.Location
}

func (x *fixture) id(query string, args ...any) int64 {
	x.t.Helper()
	var id int64
	if err := x.db.Get(&id, query, args...); err != nil {
		x.t.Fatalf("%s: %v", query, err)
	}
	return id
}

func (x *fixture) exec(query string, args ...any) {
	x.t.Helper()
	if _, err := x.db.Exec(query, args...); err != nil {
		x.t.Fatalf("%s: %v", query, err)
	}
}

// at is a local moment of the fixture's zone, "2006-01-02 15:04".
func (x *fixture) at(s string) time.Time {
	x.t.Helper()
	t, err := time.ParseInLocation("2006-01-02 15:04", s, x.zone)
	if err != nil {
		x.t.Fatal(err)
	}
	return t
}

func (x *fixture) user(name string) int64 {
	u := x.id(`INSERT INTO users (email, name) VALUES ($1, $2) RETURNING id`, name+"@example.com", name)
	x.exec(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'agent')`, x.org, u)
	return u
}

func (x *fixture) channel(kind, name string) int64 {
	return x.id(`INSERT INTO channels (org_id, kind, name) VALUES ($1, $2, $3) RETURNING id`, x.org, kind, name)
}

func (x *fixture) conversation(channel int64, contact string, labels ...string) int64 {
	c := x.id(`INSERT INTO contacts (org_id, name) VALUES ($1, $2) RETURNING id`, x.org, contact)
	if labels == nil {
		labels = []string{}
	}
	conv := x.id(`INSERT INTO conversations (org_id, channel_id, contact_id, labels) VALUES ($1, $2, $3, $4) RETURNING id`,
		x.org, channel, c, pqArray(labels))
	x.exec(`UPDATE conversation_log SET at = '2026-10-01' WHERE conversation_id = $1`, conv)
	return conv
}

// msg stores a message of conversation conv at a local moment.
func (x *fixture) msg(conv int64, direction, status, at string, sender int64) int64 {
	var s any
	if sender != 0 {
		s = sender
	}
	when := x.at(at)
	id := x.id(`INSERT INTO messages (org_id, conversation_id, channel_id, direction, status, sender_id, created_at, body)
		SELECT org_id, id, channel_id, $2, $3, $4, $5, 'text' FROM conversations WHERE id = $1 RETURNING id`,
		conv, direction, status, s, when)
	if direction == "in" {
		x.exec(`UPDATE conversations SET last_message_at = $2, last_inbound_at = $2 WHERE id = $1`, conv, when)
	} else if direction == "out" {
		x.exec(`UPDATE conversations SET last_message_at = $2 WHERE id = $1`, conv, when)
	}
	return id
}

// bot stores a bot's reply that cost usd.
func (x *fixture) bot(conv int64, status, at string, usd float64) int64 {
	id := x.msg(conv, "out", status, at, 0)
	x.exec(`INSERT INTO ai_replies (message_id, org_id, conversation_id, model, cost) VALUES ($1, $2, $3, 'm', $4)`, id, x.org, conv, usd)
	return id
}

// change sets columns of a conversation (set: SQL assignments) and dates the log line the
// trigger wrote at a local moment.
func (x *fixture) change(conv int64, set, at string) {
	x.exec(`UPDATE conversations SET `+set+` WHERE id = $1`, conv)
	x.exec(`UPDATE conversation_log SET at = $2 WHERE id = (SELECT max(id) FROM conversation_log WHERE conversation_id = $1)`, conv, x.at(at))
}

func pqArray(v []string) any {
	out := "{"
	for i, s := range v {
		if i > 0 {
			out += ","
		}
		out += `"` + s + `"`
	}
	return out + "}"
}

// shop is the fixture of the conversations and messages tests: a week (Monday 2 to
// Sunday 8 November 2026, São Paulo) and the week before.
type shop struct {
	*fixture
	st                 *store.Store
	s                  *analytics.Service
	ana, bruno         int64
	wa, sms            int64
	a, b, c, d, e      int64
	campaign           int64
	lateMessage        int64
	week, previousWeek analytics.Filter
	orgOther           int64
}

func newShop(t *testing.T) *shop {
	st, _ := storetest.New(t)
	ctx := context.Background()
	org, err := st.CreateOrg(ctx, "Loja")
	if err != nil {
		t.Fatal(err)
	}
	zone, _ := time.LoadLocation("America/Sao_Paulo")
	x := &shop{fixture: &fixture{t: t, db: st.DB(), org: org.ID, zone: zone}, st: st, s: analytics.New(st)}
	x.ana, x.bruno = x.user("ana"), x.user("bruno")
	x.wa, x.sms = x.channel("whatsapp_cloud", "WhatsApp"), x.channel("twilio_sms", "SMS")
	x.a = x.conversation(x.wa, "Alice", "vip")
	x.b = x.conversation(x.wa, "Beto")
	x.c = x.conversation(x.sms, "Carla")
	x.d = x.conversation(x.wa, "Davi")
	x.e = x.conversation(x.wa, "Eva", "vip")

	// The week before: Beto asks, Bruno answers in 5 minutes, and closes.
	x.change(x.b, "assignee_id = "+itoa(x.bruno), "2026-10-30 09:00")
	x.msg(x.b, "in", "received", "2026-10-30 10:00", 0)
	x.msg(x.b, "out", "read", "2026-10-30 10:05", x.bruno)
	x.change(x.b, "status = 'closed', owner = 'closed'", "2026-10-30 11:00")

	// A: the bot answers first, hands over, Ana answers in 10 minutes and closes at 10:30.
	x.change(x.a, "owner = 'bot'", "2026-11-02 09:59")
	x.msg(x.a, "in", "received", "2026-11-02 10:00", 0)
	x.bot(x.a, "read", "2026-11-02 10:01", 0.002)
	x.change(x.a, "owner = 'waiting'", "2026-11-02 10:05")
	x.change(x.a, "assignee_id = "+itoa(x.ana)+", owner = 'human'", "2026-11-02 10:06")
	x.msg(x.a, "out", "delivered", "2026-11-02 10:10", x.ana)
	x.msg(x.a, "note", "received", "2026-11-02 10:11", x.ana)
	x.change(x.a, "status = 'closed', owner = 'closed'", "2026-11-02 10:30")
	x.msg(x.a, "out", "queued", "2026-11-02 10:40", x.ana)

	// B again, Friday 17:50; Bruno answers Monday 09:10, after the week.
	x.change(x.b, "status = 'open', owner = 'human'", "2026-11-06 17:50")
	x.msg(x.b, "in", "received", "2026-11-06 17:50", 0)
	x.msg(x.b, "out", "read", "2026-11-09 09:10", x.bruno)

	// C on SMS: the bot answers and the case is closed without a person (the bot resolved
	// it); the customer writes again in the afternoon and waits for a human.
	x.change(x.c, "owner = 'bot'", "2026-11-03 08:00")
	x.msg(x.c, "in", "received", "2026-11-03 09:00", 0)
	x.bot(x.c, "delivered", "2026-11-03 09:02", 0.001)
	x.change(x.c, "status = 'closed', owner = 'closed'", "2026-11-03 09:20")
	x.change(x.c, "status = 'open', owner = 'bot'", "2026-11-03 14:00")
	x.msg(x.c, "in", "received", "2026-11-03 14:00", 0)
	x.change(x.c, "owner = 'waiting'", "2026-11-03 14:05")

	// A campaign reaches D (failed) and E (sent); E answers Thursday and Ana replies.
	x.campaign = x.id(`INSERT INTO campaigns (org_id, name) VALUES ($1, 'Black Friday') RETURNING id`, x.org)
	for _, conv := range []int64{x.d, x.e} {
		status := "failed"
		if conv == x.e {
			status = "sent"
		}
		m := x.msg(conv, "out", status, "2026-11-04 12:00", 0)
		x.exec(`INSERT INTO campaign_recipients (org_id, campaign_id, channel_id, contact_id, status, message_id)
			SELECT org_id, $2, channel_id, contact_id, $3, $4 FROM conversations WHERE id = $1`, conv, x.campaign, status, m)
		if conv == x.e {
			x.lateMessage = m
		}
	}
	x.change(x.e, "assignee_id = "+itoa(x.ana), "2026-11-05 07:00")
	x.msg(x.e, "in", "received", "2026-11-05 08:00", 0)
	x.msg(x.e, "out", "sent", "2026-11-05 08:30", x.ana)

	// Another org with rows in the same week: never counted.
	other, err := st.CreateOrg(ctx, "Outra")
	if err != nil {
		t.Fatal(err)
	}
	o := &fixture{t: t, db: st.DB(), org: other.ID, zone: zone}
	och := o.channel("whatsapp_cloud", "Outro")
	oc := o.conversation(och, "Zé", "vip")
	o.msg(oc, "in", "received", "2026-11-02 10:00", 0)
	o.msg(oc, "out", "read", "2026-11-02 10:02", 0)
	o.change(oc, "status = 'closed', owner = 'closed'", "2026-11-02 11:00")
	x.orgOther = other.ID

	if _, err := x.s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	x.week, err = analytics.ParseFilter(url.Values{"from": {"2026-11-02"}, "to": {"2026-11-08"}}, "America/Sao_Paulo", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	x.previousWeek = x.week.Previous()
	return x
}

func itoa(v int64) string { return fmtInt(v) }

// want compares figures with expected values; NaN expects an unknown figure.
func want(t *testing.T, what string, got []analytics.Figure, expect map[string]float64) {
	t.Helper()
	for _, f := range got {
		e, ok := expect[f.Metric]
		if !ok {
			continue
		}
		switch {
		case math.IsNaN(e):
			if f.Known {
				t.Errorf("%s: %s = %v, want unknown", what, f.Metric, f.Value)
			}
		case !f.Known:
			t.Errorf("%s: %s unknown, want %v", what, f.Metric, e)
		case math.Abs(f.Value-e) > 1e-6:
			t.Errorf("%s: %s = %v, want %v", what, f.Metric, f.Value, e)
		}
	}
}

func keysOf(family string) []string {
	var out []string
	for _, d := range analytics.Definitions {
		if d.Family == family {
			out = append(out, d.Key)
		}
	}
	return out
}

var unknown = math.NaN()

func TestConversationFigures(t *testing.T) {
	x := newShop(t)
	ctx := context.Background()
	keys := append(keysOf("messages"), keysOf("conversations")...)
	figs, err := x.s.Figures(ctx, x.org, x.week, keys)
	if err != nil {
		t.Fatal(err)
	}
	want(t, "week", figs, map[string]float64{
		"messages.sent": 6, "messages.delivered": 3, "messages.read": 1, "messages.failed": 1,
		"messages.delivery_rate": 0.5, "messages.read_rate": 1.0 / 6, "messages.failure_rate": 1.0 / 6,
		"messages.inbound": 5, "agent.replies": 3,
		"conversations.started": 5, "conversations.resolved": 2,
		// Bot replies are no first response: A is 600 s (Ana), not 60 s (the bot).
		"response.first_median": 1800, "response.first_p90": 1800 + 0.8*(228000-1800),
		"response.within_target": 1.0 / 3,
		"resolution.median":      1500, "resolution.p90": 1200 + 0.9*600,
		"conversations.open": 4, "conversations.waiting": 1, "conversations.unassigned": 2,
		"ai.conversations": 2, "ai.resolved": 1, "ai.share": 0.5, "ai.handovers": 2,
		"ai.cost": 0.3, "ai.cost_per_resolved": 0.3,
	})
	prev, err := x.s.Figures(ctx, x.org, x.previousWeek, keys)
	if err != nil {
		t.Fatal(err)
	}
	want(t, "previous week", prev, map[string]float64{
		"messages.sent": 1, "messages.read": 1, "messages.inbound": 1, "agent.replies": 1,
		"conversations.started": 1, "conversations.resolved": 1, "response.first_median": 300,
		"resolution.median": 3600, "ai.conversations": 0, "ai.share": 0, "ai.cost_per_resolved": unknown,
	})
}

func fmtInt(v int64) string {
	return string(appendInt(nil, v))
}

func appendInt(b []byte, v int64) []byte {
	if v >= 10 {
		b = appendInt(b, v/10)
	}
	return append(b, byte('0'+v%10))
}

// TestConversationFilters: channel, agent, label and campaign narrow every figure as
// written in the README.
func TestConversationFilters(t *testing.T) {
	x := newShop(t)
	ctx := context.Background()
	keys := append(keysOf("messages"), keysOf("conversations")...)
	for _, c := range []struct {
		name   string
		narrow func(f *analytics.Filter)
		expect map[string]float64
	}{
		{"sms", func(f *analytics.Filter) { f.ChannelID = x.sms }, map[string]float64{
			"messages.sent": 1, "messages.delivered": 1, "messages.inbound": 2, "conversations.started": 2,
			"conversations.resolved": 1, "ai.resolved": 1, "response.first_median": unknown, "conversations.open": 1,
			"conversations.waiting": 1, "ai.cost": 0.1}},
		{"ana", func(f *analytics.Filter) { f.AgentID = x.ana }, map[string]float64{
			"messages.sent": 2, "messages.delivered": 1, "messages.inbound": 0, "agent.replies": 3,
			"conversations.started": 2, "response.first_median": 1200, "resolution.median": 1800,
			"response.within_target": 0.5, "conversations.open": 1, "conversations.unassigned": 0}},
		{"vip", func(f *analytics.Filter) { f.Label = "vip" }, map[string]float64{
			"messages.sent": 4, "messages.delivered": 2, "messages.read": 1, "messages.inbound": 2, "agent.replies": 3,
			"conversations.started": 2, "ai.conversations": 1, "ai.cost": 0.2, "conversations.open": 1}},
		{"campaign", func(f *analytics.Filter) { f.CampaignID = x.campaign }, map[string]float64{
			"messages.sent": 2, "messages.failed": 1, "messages.failure_rate": 0.5, "messages.inbound": 0,
			"conversations.started": 1, "response.first_median": 1800, "conversations.open": 2, "conversations.unassigned": 1}},
	} {
		f := x.week
		c.narrow(&f)
		figs, err := x.s.Figures(ctx, x.org, f, keys)
		if err != nil {
			t.Fatal(err)
		}
		want(t, c.name, figs, c.expect)
	}
}

// TestBusinessHours: with hours 09:00–18:00 on weekdays, the clock stops outside them.
func TestBusinessHours(t *testing.T) {
	x := newShop(t)
	ctx := context.Background()
	zone := x.zone
	var hours analytics.BusinessHours
	for d := time.Monday; d <= time.Friday; d++ {
		hours[d] = model.BusinessDay{Open: true, From: "09:00", To: "18:00"}
	}
	friday := time.Date(2026, 11, 6, 17, 50, 0, 0, zone)
	for _, c := range []struct {
		to   time.Time
		want int
	}{
		{time.Date(2026, 11, 9, 9, 10, 0, 0, zone), 20 * 60},     // Friday's last 10 minutes and Monday's first 10
		{time.Date(2026, 11, 9, 9, 20, 0, 0, zone), 30 * 60},     // and 10 more
		{time.Date(2026, 11, 7, 12, 0, 0, 0, zone), 10 * 60},     // a Saturday adds nothing
		{time.Date(2026, 11, 6, 17, 55, 0, 0, zone), 5 * 60},     // inside the hours: the plain time
		{time.Date(2026, 11, 13, 17, 50, 0, 0, zone), 45 * 3600}, // a whole week: 5 × 9 hours
	} {
		if got := hours.Seconds(friday, c.to, zone); got != c.want {
			t.Errorf("Friday 17:50 to %v: %d s, want %d", c.to, got, c.want)
		}
	}
	if got := (analytics.BusinessHours{}).Seconds(friday, friday.Add(time.Hour), zone); got != 3600 {
		t.Errorf("no business hours: %d s, want the plain 3600", got)
	}

	// The org's hours, saved: the figures in business hours after the catch-up.
	x.exec(`INSERT INTO org_inbox_settings (org_id, business_hours) VALUES ($1, $2)`, x.org,
		`[{"day":1,"from":"09:00","to":"18:00"},{"day":2,"from":"09:00","to":"18:00"},{"day":3,"from":"09:00","to":"18:00"},`+
			`{"day":4,"from":"09:00","to":"18:00"},{"day":5,"from":"09:00","to":"18:00"}]`)
	if _, err := x.s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	f := x.week
	f.BusinessHours = true
	figs, err := x.s.Figures(ctx, x.org, f, keysOf("conversations"))
	if err != nil {
		t.Fatal(err)
	}
	// A 600 s (Monday 10:00–10:10), B 1,200 s (Friday 17:50 to Monday 09:10), E 0 s (Thursday
	// 08:00–08:30, before opening).
	want(t, "business hours", figs, map[string]float64{
		"response.first_median": 600, "response.first_p90": 600 + 0.8*600, "response.within_target": 2.0 / 3,
		"resolution.median": 1500, "conversations.started": 5,
	})
	page, err := x.s.Drill(ctx, x.org, f, "response.first_median", "", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]float64{}
	for _, it := range page.Items {
		got[it.ID] = it.Value
	}
	if page.Total != 3 || got[x.a] != 600 || got[x.b] != 1200 || got[x.e] != 0 {
		t.Errorf("first responses in business hours: total %d, %v", page.Total, got)
	}
}

// TestEmptyPeriod: counts are zero, rates and times unknown, and every bucket is there.
func TestEmptyPeriod(t *testing.T) {
	x := newShop(t)
	ctx := context.Background()
	f, err := analytics.ParseFilter(url.Values{"from": {"2026-01-05"}, "to": {"2026-01-11"}}, "America/Sao_Paulo", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keys := append(keysOf("messages"), keysOf("conversations")...)
	figs, err := x.s.Figures(ctx, x.org, f, keys)
	if err != nil {
		t.Fatal(err)
	}
	want(t, "empty", figs, map[string]float64{
		"messages.sent": 0, "messages.inbound": 0, "messages.delivery_rate": unknown, "messages.failure_rate": unknown,
		"conversations.started": 0, "conversations.resolved": 0, "response.first_median": unknown, "response.first_p90": unknown,
		"response.within_target": unknown, "resolution.median": unknown, "ai.share": unknown, "ai.cost": 0,
		"ai.cost_per_resolved": unknown, "agent.replies": 0,
	})
	for _, key := range keys {
		if d, _ := analytics.DefinitionOf(key); d.Now {
			continue
		}
		sr, err := x.s.Series(ctx, x.org, f, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(sr.Points) != 7 || sr.Step != "day" {
			t.Fatalf("%s: %d points of %s", key, len(sr.Points), sr.Step)
		}
		for _, p := range sr.Points {
			if d, _ := analytics.DefinitionOf(key); d.Unit == analytics.Count && (!p.Known || p.Value != 0) {
				t.Errorf("%s: an empty day is %+v", key, p)
			}
			if d, _ := analytics.DefinitionOf(key); (d.Unit == analytics.Ratio || d.Unit == analytics.Seconds) && p.Known {
				t.Errorf("%s: an empty day is known: %+v", key, p)
			}
		}
	}
}

// TestSeriesAndLateStatus: a day's bucket holds what was sent that day; a status that
// arrives two days later moves the figure of the day the message was sent.
func TestSeriesAndLateStatus(t *testing.T) {
	x := newShop(t)
	ctx := context.Background()
	point := func(key string, day int) analytics.Point {
		t.Helper()
		sr, err := x.s.Series(ctx, x.org, x.week, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(sr.Points) != 7 {
			t.Fatalf("%s: %d points", key, len(sr.Points))
		}
		p := sr.Points[day-2] // the week starts on the 2nd
		if want := time.Date(2026, 11, day, 0, 0, 0, 0, x.zone); !p.Start.Equal(want) {
			t.Fatalf("%s: point of the %d starts %v", key, day, p.Start)
		}
		return p
	}
	for _, c := range []struct {
		key  string
		day  int
		want float64
	}{
		{"messages.sent", 2, 2}, {"messages.sent", 3, 1}, {"messages.sent", 4, 2}, {"messages.sent", 5, 1},
		{"messages.inbound", 3, 2}, {"messages.inbound", 6, 1}, {"conversations.started", 3, 2},
		{"response.first_median", 2, 600}, {"response.first_median", 6, 228000}, {"ai.handovers", 3, 1},
		{"messages.delivered", 4, 0}, {"ai.cost", 2, 0.2},
	} {
		if p := point(c.key, c.day); !p.Known || p.Value != c.want {
			t.Errorf("%s on the %d: %+v, want %v", c.key, c.day, p, c.want)
		}
	}
	if p := point("response.first_median", 3); p.Known {
		t.Errorf("a day without replies has a median: %+v", p)
	}
	// Delivered two days later: counted on the 4th, when it was sent.
	x.exec(`UPDATE messages SET status = 'delivered', status_at = $2 WHERE id = $1`, x.lateMessage, x.at("2026-11-06 12:00"))
	if _, err := x.s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if p := point("messages.delivered", 4); p.Value != 1 {
		t.Errorf("the late delivery moved the 4th to %+v", p)
	}
	if p := point("messages.delivered", 6); p.Value != 0 {
		t.Errorf("the late delivery was counted when it arrived: %+v", p)
	}

	// One day: 24 hourly buckets.
	f, err := analytics.ParseFilter(url.Values{"from": {"2026-11-02"}, "to": {"2026-11-02"}}, "America/Sao_Paulo", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sr, err := x.s.Series(ctx, x.org, f, "messages.sent")
	if err != nil {
		t.Fatal(err)
	}
	if sr.Step != "hour" || len(sr.Points) != 24 || sr.Points[10].Value != 2 {
		t.Errorf("hourly series: %s, %d points, 10:00 is %+v", sr.Step, len(sr.Points), sr.Points[10])
	}
}

// TestDrillTotalsEqualFigures: the list behind every count has as many rows as the figure,
// and its pages walk it without gaps or repeats.
func TestDrillTotalsEqualFigures(t *testing.T) {
	x := newShop(t)
	ctx := context.Background()
	keys := append(keysOf("messages"), keysOf("conversations")...)
	for _, f := range []analytics.Filter{x.week, withLabel(x.week, "vip"), withAgent(x.week, x.ana)} {
		figs, err := x.s.Figures(ctx, x.org, f, keys)
		if err != nil {
			t.Fatal(err)
		}
		for _, fig := range figs {
			d, _ := analytics.DefinitionOf(fig.Metric)
			seen := map[string]bool{}
			var total int64
			after := ""
			for pages := 0; ; pages++ {
				page, err := x.s.Drill(ctx, x.org, f, fig.Metric, "", after, 2)
				if err != nil {
					t.Fatalf("%s: %v", fig.Metric, err)
				}
				total = page.Total
				for _, it := range page.Items {
					k := fmtInt(it.ID) + "@" + it.At.String()
					if seen[k] {
						t.Errorf("%s: %v listed twice", fig.Metric, k)
					}
					seen[k] = true
				}
				if page.Next == "" || pages > 50 {
					break
				}
				after = page.Next
			}
			if int64(len(seen)) != total {
				t.Errorf("%s: %d rows walked, total %d", fig.Metric, len(seen), total)
			}
			if d.Unit == analytics.Count && float64(total) != fig.Value {
				t.Errorf("%s (%s): drill total %d, figure %v", fig.Metric, f, total, fig.Value)
			}
		}
	}
	// A row of the agents table narrows to that agent; of the channels table, to that channel.
	page, err := x.s.Drill(ctx, x.org, x.week, "conversations.started", fmtInt(x.ana), "", 10)
	if err != nil || page.Total != 2 {
		t.Errorf("Ana's cases: %d (%v)", page.Total, err)
	}
	page, err = x.s.Drill(ctx, x.org, x.week, "messages.inbound", fmtInt(x.sms), "", 10)
	if err != nil || page.Total != 2 {
		t.Errorf("SMS inbound: %d (%v)", page.Total, err)
	}
	for _, bad := range []struct{ row, after string }{{"x", ""}, {"-1", ""}, {"", "%%%"}, {"", "bm90IGEgY3Vyc29y"}} {
		if _, err := x.s.Drill(ctx, x.org, x.week, "messages.sent", bad.row, bad.after, 10); err == nil {
			t.Errorf("row %q after %q: no error", bad.row, bad.after)
		}
	}
}

func withLabel(f analytics.Filter, l string) analytics.Filter { f.Label = l; return f }
func withAgent(f analytics.Filter, a int64) analytics.Filter  { f.AgentID = a; return f }

// TestTables: the agents and channels tables, with totals of the whole period.
func TestTables(t *testing.T) {
	x := newShop(t)
	ctx := context.Background()
	agents, err := x.s.Table(ctx, x.org, x.week, "agents")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]analytics.Row{}
	for _, r := range agents.Rows {
		rows[r.Key] = r
	}
	col := func(r analytics.Row, key string) analytics.Figure {
		for i, c := range agents.Columns {
			if c == key {
				return r.Figures[i]
			}
		}
		t.Fatalf("no column %s", key)
		return analytics.Figure{}
	}
	ana, bruno, nobody := rows[fmtInt(x.ana)], rows[fmtInt(x.bruno)], rows["0"]
	if ana.Label != "ana" || col(ana, "conversations.started").Value != 2 || col(ana, "agent.replies").Value != 3 ||
		col(ana, "response.first_median").Value != 1200 || col(ana, "resolution.median").Value != 1800 ||
		col(ana, "response.within_target").Value != 0.5 {
		t.Errorf("Ana's row: %+v", ana)
	}
	if col(bruno, "conversations.started").Value != 1 || col(bruno, "response.first_median").Value != 228000 ||
		col(bruno, "resolution.median").Known || col(bruno, "agent.replies").Value != 0 {
		t.Errorf("Bruno's row: %+v", bruno)
	}
	if col(nobody, "conversations.started").Value != 2 {
		t.Errorf("unassigned row: %+v", nobody)
	}
	if agents.Total == nil || col(*agents.Total, "conversations.started").Value != 5 || col(*agents.Total, "response.first_median").Value != 1800 {
		t.Errorf("agents total: %+v", agents.Total)
	}
	channels, err := x.s.Table(ctx, x.org, x.week, "channels")
	if err != nil {
		t.Fatal(err)
	}
	if len(channels.Rows) != 2 || channels.Total == nil || channels.Total.Figures[0].Value != 6 {
		t.Fatalf("channels: %+v", channels)
	}
	for _, r := range channels.Rows {
		if r.Key == fmtInt(x.sms) && (r.Figures[0].Value != 1 || r.Figures[7].Value != 2) {
			t.Errorf("SMS row: %+v", r)
		}
		if r.Key == fmtInt(x.wa) && (r.Figures[0].Value != 5 || r.Figures[3].Value != 1 || r.Figures[6].Value != 0.2) {
			t.Errorf("WhatsApp row: %+v", r)
		}
	}
}

// TestTwoZones: the same rows read in São Paulo and, after the org moves, in Lisbon give
// the days of each zone; a zone 5:45 off UTC counts its hours right.
func TestTwoZones(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	org, err := st.CreateOrg(ctx, "Fuso")
	if err != nil {
		t.Fatal(err)
	}
	x := &fixture{t: t, db: st.DB(), org: org.ID, zone: time.UTC}
	ch := x.channel("whatsapp_cloud", "WhatsApp")
	conv := x.conversation(ch, "Rui")
	// 01:30 UTC on the 3rd: the 2nd at 22:30 in São Paulo, the 3rd at 01:30 in Lisbon.
	x.msg(conv, "in", "received", "2026-11-03 01:30", 0)
	x.msg(conv, "out", "sent", "2026-11-03 01:40", 0)
	s := analytics.New(st)
	day := func(zone string) (int, float64) {
		t.Helper()
		if _, err := s.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		f, err := analytics.ParseFilter(url.Values{"from": {"2026-11-01"}, "to": {"2026-11-04"}}, zone, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		sr, err := s.Series(ctx, org.ID, f, "messages.inbound")
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range sr.Points {
			if p.Value != 0 {
				return i + 1, p.Value
			}
		}
		return 0, 0
	}
	if d, n := day("America/Sao_Paulo"); d != 2 || n != 1 {
		t.Errorf("São Paulo: day %d, %v", d, n)
	}
	x.exec(`UPDATE orgs SET time_zone = 'Europe/Lisbon' WHERE id = $1`, org.ID)
	if d, n := day("Europe/Lisbon"); d != 3 || n != 1 {
		t.Errorf("Lisbon: day %d, %v", d, n)
	}
	var stale int
	if err := st.DB().Get(&stale, `SELECT count(*) FROM analytics_message_hours WHERE org_id = $1 AND zone <> 'Europe/Lisbon'`, org.ID); err != nil || stale != 0 {
		t.Errorf("%d rows of the old zone left (%v)", stale, err)
	}

	// Kathmandu (+05:45): a message at 10:10 UTC is 15:55 there; another at 10:20 UTC, added
	// after a catch-up, is 16:05 — in the next local hour, which its UTC hour's mark reaches.
	x.exec(`UPDATE orgs SET time_zone = 'Asia/Kathmandu' WHERE id = $1`, org.ID)
	x.msg(conv, "in", "received", "2026-11-05 10:10", 0)
	if _, err := s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	x.msg(conv, "in", "received", "2026-11-05 10:20", 0)
	if _, err := s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	f, err := analytics.ParseFilter(url.Values{"from": {"2026-11-05"}, "to": {"2026-11-05"}}, "Asia/Kathmandu", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sr, err := s.Series(ctx, org.ID, f, "messages.inbound")
	if err != nil {
		t.Fatal(err)
	}
	if sr.Points[15].Value != 1 || sr.Points[16].Value != 1 {
		t.Errorf("Kathmandu 15:00 and 16:00: %+v %+v", sr.Points[15], sr.Points[16])
	}
}

// TestDeletedContactLeavesTheFigures: deleting a contact takes its conversation and its
// messages (ON DELETE CASCADE); after the catch-up the figures no longer count them, and
// the drill-downs, read from the rows that remain, still add up to the figures.
func TestDeletedContactLeavesTheFigures(t *testing.T) {
	x := newShop(t)
	ctx := context.Background()
	keys := []string{"conversations.started", "messages.inbound", "messages.sent"}
	before, err := x.s.Figures(ctx, x.org, x.week, keys)
	if err != nil {
		t.Fatal(err)
	}
	// Alice's part of the week, counted from her rows before they go.
	var cases, inbound, sent int
	if err := x.db.QueryRow(`SELECT count(*) FROM analytics_cases WHERE org_id = $1 AND conversation_id = $2 AND started_at >= $3 AND started_at < $4`,
		x.org, x.a, x.week.From, x.week.To).Scan(&cases); err != nil || cases == 0 {
		t.Fatalf("Alice has %d cases in the week (%v)", cases, err)
	}
	if err := x.db.QueryRow(`SELECT count(*) FILTER (WHERE direction = 'in'), count(*) FILTER (WHERE direction = 'out' AND status <> 'queued')
		FROM messages WHERE org_id = $1 AND conversation_id = $2 AND created_at >= $3 AND created_at < $4`,
		x.org, x.a, x.week.From, x.week.To).Scan(&inbound, &sent); err != nil || inbound == 0 {
		t.Fatalf("Alice has %d inbound messages in the week (%v)", inbound, err)
	}
	x.exec(`DELETE FROM contacts WHERE org_id = $1 AND id = (SELECT contact_id FROM conversations WHERE id = $2)`, x.org, x.a)
	if _, err := x.s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := x.s.Figures(ctx, x.org, x.week, keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, gone := range []int{cases, inbound, sent} {
		if got, want := after[i].Value, before[i].Value-float64(gone); got != want {
			t.Errorf("%s after the deletion: %v, want %v (%v less %d)", keys[i], got, want, before[i].Value, gone)
		}
		page, err := x.s.Drill(ctx, x.org, x.week, keys[i], "", "", analytics.MaxDrill)
		if err != nil {
			t.Fatal(err)
		}
		if float64(page.Total) != after[i].Value {
			t.Errorf("%s: the drill-down lists %d, the figure says %v", keys[i], page.Total, after[i].Value)
		}
	}
}
