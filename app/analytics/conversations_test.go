package analytics_test

import (
	"context"
	"math"
	"net/url"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"masteria/app/analytics"
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
