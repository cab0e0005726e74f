package analytics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"testing"
	"time"

	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/store/storetest"
	"masteria/app/voice/calls"
)

// crmFixture is an org's board, campaigns, cadences and calls written with known moments,
// so that every figure of the leads, campaigns, cadences and calls families can be worked
// out by hand (the comments beside the rows say what each one counts for).
type crmFixture struct {
	st   *store.Store
	s    *Service
	a, b int64 // org A (São Paulo), org B (Kolkata)
	sp   *time.Location
	// ids the tests filter and drill by
	u1, u2, p1, p2, ch1, ch2   int64
	c1, c2, k1, k2, s1, s2, s3 int64
	won, lost                  int64
}

func (x *crmFixture) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := x.st.DB().Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (x *crmFixture) id(t *testing.T, q string, args ...any) int64 {
	t.Helper()
	var id int64
	if err := x.st.DB().Get(&id, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return id
}

// at is a moment of November 2026 in São Paulo.
func (x *crmFixture) at(day, hour, min int) time.Time {
	return time.Date(2026, 11, day, hour, min, 0, 0, x.sp)
}

func newCRMFixture(t *testing.T) *crmFixture {
	t.Helper()
	st, _ := storetest.New(t)
	ctx := context.Background()
	x := &crmFixture{st: st, s: New(st)}
	x.sp, _ = time.LoadLocation("America/Sao_Paulo")
	oa, err := st.CreateOrg(ctx, "Loja A")
	if err != nil {
		t.Fatal(err)
	}
	ob, err := st.CreateOrg(ctx, "Loja B")
	if err != nil {
		t.Fatal(err)
	}
	x.a, x.b = oa.ID, ob.ID
	x.exec(t, `UPDATE orgs SET time_zone = 'Asia/Kolkata' WHERE id = $1`, x.b)

	x.u1 = x.id(t, `INSERT INTO users (email, name) VALUES ('ana@loja.test', 'Ana') RETURNING id`)
	x.u2 = x.id(t, `INSERT INTO users (email, name) VALUES ('bia@loja.test', 'Bia') RETURNING id`)
	contact := func(org int64, name string) int64 {
		return x.id(t, `INSERT INTO contacts (org_id, name) VALUES ($1, $2) RETURNING id`, org, name)
	}
	pipeline := func(org int64, name string, pos int) int64 {
		return x.id(t, `INSERT INTO pipelines (org_id, name, position) VALUES ($1, $2, $3) RETURNING id`, org, name, pos)
	}
	stage := func(org, p int64, name, outcome string, pos int) int64 {
		return x.id(t, `INSERT INTO stages (org_id, pipeline_id, name, outcome, position) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			org, p, name, outcome, pos)
	}
	rank := 0
	lead := func(org, p, s, contact int64, owner any, value int64, created time.Time) int64 {
		rank++
		return x.id(t, `INSERT INTO leads (org_id, pipeline_id, stage_id, contact_id, title, value_cents, owner_id, rank, created_at)
			VALUES ($1, $2, $3, $4, 'Lead ' || $8::text, $5, $6, $7, $9) RETURNING id`,
			org, p, s, contact, value, owner, fmt.Sprintf("a%d", rank), rank, created)
	}
	move := func(org, lead, from, to int64, at time.Time) {
		x.exec(t, `UPDATE leads SET stage_id = $3, moved_at = $4 WHERE org_id = $1 AND id = $2`, org, lead, to, at)
		x.exec(t, `INSERT INTO lead_moves (org_id, lead_id, from_stage_id, to_stage_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
			org, lead, from, to, at)
	}

	// The board: P1 (first) New → Qualified → Proposal → Won / Lost; P2 Start → Won.
	x.p1 = pipeline(x.a, "Vendas", 0)
	x.p2 = pipeline(x.a, "Parcerias", 1)
	x.s1 = stage(x.a, x.p1, "Novo", "open", 0)
	x.s2 = stage(x.a, x.p1, "Qualificado", "open", 1)
	x.s3 = stage(x.a, x.p1, "Proposta", "open", 2)
	x.won = stage(x.a, x.p1, "Ganho", "won", 3)
	x.lost = stage(x.a, x.p1, "Perdido", "lost", 4)
	t1 := stage(x.a, x.p2, "Início", "open", 0)
	tw := stage(x.a, x.p2, "Fechado", "won", 1)
	k := make([]int64, 11)
	for i := 1; i <= 10; i++ {
		k[i] = contact(x.a, fmt.Sprintf("Pessoa %d", i))
	}
	// The period is 2 to 8 November (São Paulo); the previous one 26 October to 1 November.
	l1 := lead(x.a, x.p1, x.s1, k[1], x.u1, 1000, x.at(3, 10, 0)) // created; S1 → S2 → won
	move(x.a, l1, x.s1, x.s2, x.at(3, 12, 0))
	move(x.a, l1, x.s2, x.won, x.at(4, 9, 0))
	l2 := lead(x.a, x.p1, x.s1, k[2], x.u2, 2000, time.Date(2026, 10, 20, 10, 0, 0, 0, x.sp)) // 20 Oct; won twice in the period: once
	move(x.a, l2, x.s1, x.won, x.at(5, 10, 0))
	move(x.a, l2, x.won, x.s3, x.at(6, 10, 0))
	move(x.a, l2, x.s3, x.won, x.at(7, 10, 0))
	l3 := lead(x.a, x.p1, x.s1, k[3], x.u1, 500, x.at(2, 9, 0)) // created; lost
	move(x.a, l3, x.s1, x.lost, x.at(6, 11, 0))
	lead(x.a, x.p1, x.won, k[4], x.u2, 3000, x.at(4, 15, 0))                                // created right in Won
	lead(x.a, x.p1, x.s2, k[5], x.u1, 700, x.at(5, 16, 0))                                  // created in S2
	l6 := lead(x.a, x.p1, x.s1, k[6], x.u1, 100, time.Date(2026, 10, 28, 9, 0, 0, 0, x.sp)) // 28 Oct (previous period); lost 30 Oct
	move(x.a, l6, x.s1, x.lost, time.Date(2026, 10, 30, 9, 0, 0, 0, x.sp))
	l7 := lead(x.a, x.p2, t1, k[7], x.u2, 900, x.at(3, 14, 0)) // P2: created, won
	move(x.a, l7, t1, tw, x.at(4, 10, 0))
	lead(x.a, x.p1, x.s1, k[8], x.u1, 50, x.at(8, 22, 0)) // 8 Nov 22:00 here, 9 Nov in UTC
	// The campaign's people: a lead since the launch (open), one won, one from before it;
	// k4 (replied) has L4, created after the launch right in Won.
	lead(x.a, x.p2, t1, k[5], nil, 0, x.at(4, 10, 0))
	lead(x.a, x.p2, tw, k[6], nil, 5000, x.at(4, 11, 0))
	lead(x.a, x.p2, t1, k[10], nil, 0, x.at(1, 10, 0))

	// Campaigns: C1 on channel 1 in the period, C2 on channel 2 in it, C3 before it, C4 a draft.
	x.ch1 = x.id(t, `INSERT INTO channels (org_id, kind, name) VALUES ($1, 'sandbox', 'Um') RETURNING id`, x.a)
	x.ch2 = x.id(t, `INSERT INTO channels (org_id, kind, name) VALUES ($1, 'sandbox', 'Dois') RETURNING id`, x.a)
	campaign := func(org int64, name string, ch int64, launched any) int64 {
		return x.id(t, `INSERT INTO campaigns (org_id, name, channel_id, status, launched_at) VALUES ($1, $2, $3, 'running', $4) RETURNING id`,
			org, name, ch, launched)
	}
	recipient := func(org, c, ch, contact int64, status string) {
		x.exec(t, `INSERT INTO campaign_recipients (org_id, campaign_id, channel_id, contact_id, status) VALUES ($1, $2, $3, $4, 'pending')`,
			org, c, ch, contact)
		// As a send does: pending first, then the statuses reported.
		x.exec(t, `UPDATE campaign_recipients SET status = $3, sent_at = now() WHERE org_id = $1 AND campaign_id = $2 AND contact_id = $4`,
			org, c, status, contact)
	}
	x.c1 = campaign(x.a, "Black Friday", x.ch1, x.at(3, 10, 0))
	for i, s := range []string{"", "sent", "delivered", "read", "replied", "replied", "replied", "failed", "pending", "skipped", "replied"} {
		if i > 0 {
			recipient(x.a, x.c1, x.ch1, k[i], s) // k4 replied without a read receipt
		}
	}
	x.c2 = campaign(x.a, "Natal", x.ch2, x.at(6, 10, 0))
	recipient(x.a, x.c2, x.ch2, k[1], "delivered")
	recipient(x.a, x.c2, x.ch2, k[5], "read")
	c3 := campaign(x.a, "Outubro", x.ch1, time.Date(2026, 10, 29, 10, 0, 0, 0, x.sp))
	recipient(x.a, c3, x.ch1, k[1], "sent")
	campaign(x.a, "Rascunho", x.ch1, nil)

	// Cadences.
	cadence := func(org int64, name string) int64 {
		id := x.id(t, `INSERT INTO cadences (org_id, name, status) VALUES ($1, $2, 'active') RETURNING id`, org, name)
		x.exec(t, `INSERT INTO cadence_versions (org_id, cadence_id, version, steps) VALUES ($1, $2, 1, '[]')`, org, id)
		return id
	}
	enrol := func(org, cad, contact int64, at time.Time, status, reason string) {
		x.exec(t, `INSERT INTO cadence_enrolments (org_id, cadence_id, version, contact_id, created_at) VALUES ($1, $2, 1, $3, $4)`,
			org, cad, contact, at)
		if status != "active" {
			x.exec(t, `UPDATE cadence_enrolments SET status = $4, exit_reason = $5, finished_at = now()
				WHERE org_id = $1 AND cadence_id = $2 AND contact_id = $3`, org, cad, contact, status, reason)
		}
	}
	x.k1 = cadence(x.a, "Boas-vindas")
	x.k2 = cadence(x.a, "Reativação")
	enrol(x.a, x.k1, k[1], x.at(3, 10, 15), "active", "")
	enrol(x.a, x.k1, k[2], x.at(3, 10, 45), "exited", "replied")
	enrol(x.a, x.k1, k[3], x.at(4, 8, 0), "completed", "")
	enrol(x.a, x.k1, k[4], x.at(5, 8, 0), "exited", "opted_out")
	enrol(x.a, x.k2, k[5], x.at(8, 22, 30), "completed", "") // 9 Nov in UTC
	enrol(x.a, x.k2, k[6], time.Date(2026, 10, 30, 8, 0, 0, 0, x.sp), "exited", "replied")

	// Calls (São Paulo): answered, voicemail, not connected, answered late on the 8th.
	call := func(org int64, n int, at time.Time, status, reason string, ms int64, ok any, cost float64, campaign any) {
		x.exec(t, `INSERT INTO calls (org_id, call_id, direction, status, disconnection_reason, duration_ms, successful, cost_cents,
			campaign_id, created_at, updated_at) VALUES ($1, $2, 'outbound', $3, $4, $5, $6, $7, $8, $9, $9)`,
			org, fmt.Sprintf("call_%d_%d", org, n), status, reason, ms, ok, cost, campaign, at)
	}
	call(x.a, 1, x.at(3, 10, 20), "ended", "user_hangup", 60000, true, 10.5, x.c1)
	call(x.a, 2, x.at(3, 15, 0), "ended", "voicemail_reached", 20000, false, 5, nil)
	call(x.a, 3, x.at(4, 9, 0), "not_connected", "dial_no_answer", 0, nil, 1, nil)
	call(x.a, 4, x.at(8, 22, 0), "ended", "user_hangup", 30000, nil, 2, nil)

	// Org B (Kolkata, half an hour off UTC) has rows in the same days: none counts for A.
	bp := pipeline(x.b, "Vendas", 0)
	bs := stage(x.b, bp, "Novo", "open", 0)
	bw := stage(x.b, bp, "Ganho", "won", 1)
	bk1, bk2 := contact(x.b, "Outra 1"), contact(x.b, "Outra 2")
	bl := lead(x.b, bp, bs, bk1, nil, 99999, x.at(3, 10, 0))
	move(x.b, bl, bs, bw, x.at(4, 10, 0))
	bch := x.id(t, `INSERT INTO channels (org_id, kind, name) VALUES ($1, 'sandbox', 'B') RETURNING id`, x.b)
	bc := campaign(x.b, "B", bch, x.at(3, 10, 0))
	recipient(x.b, bc, bch, bk1, "replied")
	bcad := cadence(x.b, "B")
	kol, _ := time.LoadLocation("Asia/Kolkata")
	// The same UTC hour (18:00), two local days in Kolkata: 2 Nov 23:50 and 3 Nov 00:10.
	enrol(x.b, bcad, bk1, time.Date(2026, 11, 2, 23, 50, 0, 0, kol), "active", "")
	enrol(x.b, bcad, bk2, time.Date(2026, 11, 3, 0, 10, 0, 0, kol), "completed", "")
	call(x.b, 1, x.at(3, 11, 0), "ended", "user_hangup", 5000, true, 3, nil)

	if _, err := x.s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	return x
}

// filter is a filter of org A (or B) from the URL parameters.
func (x *crmFixture) filter(t *testing.T, zone string, q string) Filter {
	t.Helper()
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFilter(v, zone, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// want is a figure written the way a person reads it: a number, or "—" for unknown.
func checkFigures(t *testing.T, what string, got []Figure, want map[string]any) {
	t.Helper()
	for _, g := range got {
		w, ok := want[g.Metric]
		if !ok {
			continue
		}
		switch w := w.(type) {
		case string: // "—"
			if g.Known {
				t.Errorf("%s: %s = %v, want unknown", what, g.Metric, g.Value)
			}
		default:
			var v float64
			switch w := w.(type) {
			case int:
				v = float64(w)
			case float64:
				v = w
			}
			if !g.Known || math.Abs(g.Value-v) > 1e-9 {
				t.Errorf("%s: %s = %v (known %v), want %v", what, g.Metric, g.Value, g.Known, v)
			}
		}
	}
}

var crmKeysAll = func() []string {
	var out []string
	for _, d := range Definitions {
		switch d.Family {
		case "leads", "campaigns", "cadences", "calls":
			out = append(out, d.Key)
		}
	}
	return out
}()

const period = "from=2026-11-02&to=2026-11-08"

// TestCRMFiguresByHand: every figure of the four families, in the period, the previous
// period, an empty period and with filters, is the one worked out by hand from the fixture;
// org B's rows never count for A.
func TestCRMFiguresByHand(t *testing.T) {
	x := newCRMFixture(t)
	ctx := context.Background()
	figures := func(q string) []Figure {
		t.Helper()
		got, err := x.s.Figures(ctx, x.a, x.filter(t, "America/Sao_Paulo", q), crmKeysAll)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	checkFigures(t, "period", figures(period), map[string]any{
		// created L1 L3 L4 L5 L7 L8 and the campaign's two; won L1 L2 (once) L4 L7 and k6's;
		// lost L3; value 1000+2000+3000+900+5000.
		"leads.created": 8, "leads.won": 5, "leads.lost": 1, "leads.won_value": 11900, "leads.win_rate": 5.0 / 6,
		// P1's open stages: Novo 3 in (L1 on), Qualificado 2 in (L1 on), Proposta 1 in (L2 on).
		"leads.stage_conversion": 0.5,
		"campaign.sent":          9, "campaign.delivered": 8, "campaign.read": 6, "campaign.replied": 4, "campaign.lead": 3, "campaign.won": 2,
		"cadence.enrolled": 5, "cadence.replied": 1, "cadence.completed": 2, "cadence.exited": 1,
		"calls.total": 4, "calls.answered": 3, "calls.answer_rate": 0.75, "calls.duration_avg": 36.666,
		"calls.successful": 1, "calls.cost": 18.5,
	})
	checkFigures(t, "previous", figures("from=2026-10-26&to=2026-11-01"), map[string]any{
		"leads.created": 2, "leads.won": 0, "leads.lost": 1, "leads.won_value": 0, "leads.win_rate": 0,
		"campaign.sent": 1, "campaign.delivered": 0, "campaign.replied": 0,
		"cadence.enrolled": 1, "cadence.replied": 1, "cadence.completed": 0,
		"calls.total": 0, "calls.answer_rate": "—", "calls.duration_avg": "—",
	})
	checkFigures(t, "empty", figures("from=2025-01-01&to=2025-01-31"), map[string]any{
		"leads.created": 0, "leads.won": 0, "leads.won_value": 0, "leads.win_rate": "—", "leads.stage_conversion": "—",
		"campaign.sent": 0, "campaign.won": 0, "cadence.enrolled": 0, "calls.total": 0, "calls.cost": 0,
		"calls.answer_rate": "—", "calls.duration_avg": "—",
	})
	checkFigures(t, "pipeline P1", figures(period+fmt.Sprintf("&pipeline=%d", x.p1)), map[string]any{
		"leads.created": 5, "leads.won": 3, "leads.lost": 1, "leads.won_value": 6000, "leads.win_rate": 0.75,
		"leads.stage_conversion": 0.5,
	})
	checkFigures(t, "pipeline P2", figures(period+fmt.Sprintf("&pipeline=%d", x.p2)), map[string]any{
		// Início: L7 (on to Fechado) and k5's lead.
		"leads.created": 3, "leads.won": 2, "leads.lost": 0, "leads.stage_conversion": 0.5,
	})
	checkFigures(t, "agent Ana", figures(period+fmt.Sprintf("&agent=%d", x.u1)), map[string]any{
		"leads.created": 4, "leads.won": 1, "leads.lost": 1, "leads.won_value": 1000, "leads.win_rate": 0.5,
	})
	checkFigures(t, "channel 1", figures(period+fmt.Sprintf("&channel=%d", x.ch1)), map[string]any{
		"campaign.sent": 7, "campaign.delivered": 6, "campaign.read": 5, "campaign.replied": 4, "campaign.lead": 3, "campaign.won": 2,
	})
	checkFigures(t, "campaign C2", figures(period+fmt.Sprintf("&campaign=%d", x.c2)), map[string]any{
		"campaign.sent": 2, "campaign.delivered": 2, "campaign.read": 1, "campaign.replied": 0, "campaign.lead": 0,
	})
	checkFigures(t, "campaign C1 calls", figures(period+fmt.Sprintf("&campaign=%d", x.c1)), map[string]any{
		"calls.total": 1, "calls.answered": 1, "calls.duration_avg": 60, "calls.successful": 1, "calls.cost": 10.5,
	})
	// The cards: each figure beside the previous period's.
	kpis, err := x.s.KPIs(ctx, x.a, x.filter(t, "America/Sao_Paulo", period), []string{"leads.created", "campaign.sent", "cadence.replied", "leads.win_rate"})
	if err != nil {
		t.Fatal(err)
	}
	if k := kpis[0]; k.Current.Value != 8 || k.Previous.Value != 2 || k.Unit != Count {
		t.Errorf("leads.created card %+v", k)
	}
	if k := kpis[1]; k.Current.Value != 9 || k.Previous.Value != 1 {
		t.Errorf("campaign.sent card %+v", k)
	}
	if k := kpis[2]; k.Current.Value != 1 || k.Previous.Value != 1 {
		t.Errorf("cadence.replied card %+v", k)
	}
	if k := kpis[3]; !k.Previous.Known || k.Previous.Value != 0 || k.Unit != Ratio {
		t.Errorf("leads.win_rate card %+v", k)
	}
	// Another org's pipeline: nothing of A's.
	checkFigures(t, "foreign pipeline", figures(period+fmt.Sprintf("&pipeline=%d", x.p1+100)), map[string]any{
		"leads.created": 0, "leads.stage_conversion": "—",
	})
}

// TestCRMCallsEqualVoicePage: the calls figures are the voice analytics page's, before and
// after its daily figures are stored.
func TestCRMCallsEqualVoicePage(t *testing.T) {
	x := newCRMFixture(t)
	ctx := context.Background()
	voice := calls.New(x.st, calls.Options{})
	f := x.filter(t, "America/Sao_Paulo", period)
	for _, stored := range []bool{false, true} {
		if stored {
			if _, err := x.st.RefreshCallStats(ctx, x.a, x.at(2, 0, 0), x.at(8, 0, 0), "America/Sao_Paulo"); err != nil {
				t.Fatal(err)
			}
		}
		rep, err := voice.Analytics(ctx, x.a, x.at(2, 0, 0), x.at(8, 0, 0), "America/Sao_Paulo")
		if err != nil {
			t.Fatal(err)
		}
		got, err := x.s.Figures(ctx, x.a, f, []string{"calls.total", "calls.answered", "calls.answer_rate", "calls.duration_avg",
			"calls.successful", "calls.cost"})
		if err != nil {
			t.Fatal(err)
		}
		checkFigures(t, fmt.Sprintf("voice page (stored %v)", stored), got, map[string]any{
			"calls.total": int(rep.Total.Calls), "calls.answered": int(rep.Total.Answered), "calls.answer_rate": rep.Total.AnswerRate,
			"calls.duration_avg": float64(rep.Total.AvgDurationMS) / 1000, "calls.successful": int(rep.Total.Successful),
			"calls.cost": rep.Total.CostCents,
		})
		if rep.Total.Calls != 4 {
			t.Fatalf("the voice page counts %d calls", rep.Total.Calls)
		}
	}
}

// TestCRMZones: org B's Kolkata hours (half an hour off UTC) split one UTC hour's marks into
// two local days; a change of org A's zone rebuilds its cadence hours and moves the late
// rows of the 8th (São Paulo) to the 9th (UTC).
func TestCRMZones(t *testing.T) {
	x := newCRMFixture(t)
	ctx := context.Background()
	one := func(org int64, zone, q, key string) Figure {
		t.Helper()
		got, err := x.s.Figures(ctx, org, x.filter(t, zone, q), []string{key})
		if err != nil {
			t.Fatal(err)
		}
		return got[0]
	}
	if g := one(x.b, "Asia/Kolkata", "from=2026-11-03&to=2026-11-03", "cadence.enrolled"); g.Value != 1 {
		t.Errorf("Kolkata 3 Nov enrolled %v, want 1", g.Value)
	}
	if g := one(x.b, "Asia/Kolkata", "from=2026-11-02&to=2026-11-02", "cadence.enrolled"); g.Value != 1 {
		t.Errorf("Kolkata 2 Nov enrolled %v, want 1", g.Value)
	}
	sr, err := x.s.Series(ctx, x.b, x.filter(t, "Asia/Kolkata", "from=2026-11-03&to=2026-11-03"), "cadence.completed")
	if err != nil {
		t.Fatal(err)
	}
	if sr.Step != "hour" || len(sr.Points) != 24 || sr.Points[0].Value != 1 || sr.Points[0].Start.In(time.UTC).Format("15:04") != "18:30" {
		t.Errorf("Kolkata hourly series %+v", sr)
	}

	x.exec(t, `UPDATE orgs SET time_zone = 'UTC' WHERE id = $1`, x.a)
	if _, err := x.s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	var zones []string
	if err := x.st.DB().Select(&zones, `SELECT DISTINCT zone FROM analytics_cadence_hours WHERE org_id = $1`, x.a); err != nil ||
		len(zones) != 1 || zones[0] != "UTC" {
		t.Fatalf("org A's cadence hours are in %v (%v)", zones, err)
	}
	if g := one(x.a, "UTC", period, "cadence.enrolled"); g.Value != 4 {
		t.Errorf("UTC period enrolled %v, want 4", g.Value)
	}
	if g := one(x.a, "UTC", period, "leads.created"); g.Value != 7 {
		t.Errorf("UTC period leads created %v, want 7", g.Value)
	}
	if g := one(x.a, "UTC", "from=2026-11-09&to=2026-11-09", "calls.total"); g.Value != 1 {
		t.Errorf("UTC 9 Nov calls %v, want 1", g.Value)
	}
}

// TestCRMSeriesTablesFunnels: series have every bucket (unknown rates in empty ones) and add
// up to the figure; the tables and funnels are the hand-worked ones.
func TestCRMSeriesTablesFunnels(t *testing.T) {
	x := newCRMFixture(t)
	ctx := context.Background()
	f := x.filter(t, "America/Sao_Paulo", period)
	sr, err := x.s.Series(ctx, x.a, f, "leads.created")
	if err != nil {
		t.Fatal(err)
	}
	var days []float64
	for _, p := range sr.Points {
		days = append(days, p.Value)
	}
	if fmt.Sprint(days) != "[1 2 3 1 0 0 1]" || !sr.Points[0].Start.Equal(x.at(2, 0, 0)) {
		t.Errorf("leads.created by day %v from %v", days, sr.Points[0].Start)
	}
	wr, err := x.s.Series(ctx, x.a, f, "leads.win_rate")
	if err != nil {
		t.Fatal(err)
	}
	var rates []string
	for _, p := range wr.Points {
		if p.Known {
			rates = append(rates, fmt.Sprint(p.Value))
		} else {
			rates = append(rates, "—")
		}
	}
	if fmt.Sprint(rates) != "[— — 1 1 0 1 —]" {
		t.Errorf("win rate by day %v", rates)
	}
	for _, key := range crmKeysAll {
		sr, err := x.s.Series(ctx, x.a, f, key)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if len(sr.Points) != 7 || sr.Step != "day" {
			t.Errorf("%s: %d points of %s", key, len(sr.Points), sr.Step)
		}
	}
	day := x.filter(t, "America/Sao_Paulo", "from=2026-11-03&to=2026-11-03")
	calls, err := x.s.Series(ctx, x.a, day, "calls.total")
	if err != nil {
		t.Fatal(err)
	}
	if len(calls.Points) != 24 || calls.Points[10].Value != 1 || calls.Points[15].Value != 1 || calls.Points[11].Value != 0 {
		t.Errorf("calls of 3 Nov by hour %+v", calls.Points)
	}

	stages, err := x.s.Table(ctx, x.a, f, "stages")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range stages.Rows {
		got = append(got, fmt.Sprintf("%s %v/%v", r.Label, r.Figures[0].Value, r.Figures[1].Value))
	}
	if fmt.Sprint(got) != "[Novo 3/1 Qualificado 2/1 Proposta 1/1 Ganho 3/0 Perdido 1/0]" || stages.Total.Figures[2].Value != 0.5 ||
		stages.Rows[3].Figures[2].Known {
		t.Errorf("stages table %v total %+v", got, stages.Total)
	}
	camps, err := x.s.Table(ctx, x.a, f, "campaigns")
	if err != nil {
		t.Fatal(err)
	}
	if len(camps.Rows) != 2 || camps.Rows[0].Label != "Natal" || camps.Rows[1].Figures[5].Value != 2 || camps.Total.Figures[0].Value != 9 {
		t.Errorf("campaigns table %+v", camps)
	}
	cads, err := x.s.Table(ctx, x.a, f, "cadences")
	if err != nil {
		t.Fatal(err)
	}
	if len(cads.Rows) != 2 || cads.Rows[0].Label != "Boas-vindas" || fmt.Sprint(figValues(cads.Rows[0].Figures)) != "[4 1 1 1]" ||
		fmt.Sprint(figValues(cads.Rows[1].Figures)) != "[1 0 1 0]" {
		t.Errorf("cadences table %+v", cads)
	}
	for name, want := range map[string]string{"leads": "[8 5 4]", "campaign": "[9 8 6 4 3 2]", "cadence": "[5 1 2]"} {
		fu, err := x.s.Funnel(ctx, x.a, f, name)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(figValues(fu.Steps)) != want {
			t.Errorf("funnel %s %v, want %s", name, figValues(fu.Steps), want)
		}
	}
}

// TestCRMHome: the manager's dashboard, all families together, shows these families'
// figures as they are alone.
func TestCRMHome(t *testing.T) {
	x := newCRMFixture(t)
	h, err := x.s.Home(context.Background(), x.a, x.filter(t, "America/Sao_Paulo", period))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, k := range h.KPIs {
		got[k.Metric] = k.Current.Value
	}
	if got["leads.created"] != 8 || got["leads.won"] != 5 || got["leads.won_value"] != 11900 || got["calls.total"] != 4 {
		t.Errorf("home cards %v", got)
	}
	var funnels []string
	for _, fu := range h.Funnels {
		funnels = append(funnels, fmt.Sprint(fu.Name, figValues(fu.Steps)))
	}
	if fmt.Sprint(funnels) != "[campaign[9 8 6 4 3 2] cadence[5 1 2] leads[8 5 4]]" {
		t.Errorf("home funnels %v", funnels)
	}
}

func figValues(fs []Figure) []float64 {
	out := make([]float64, len(fs))
	for i, f := range fs {
		out[i] = f.Value
	}
	return out
}

// walk reads every page of a drill, size per page, and fails on a repeated row.
func walk(t *testing.T, x *crmFixture, org int64, f Filter, key, row string, size int) ([]DrillItem, int64) {
	t.Helper()
	var items []DrillItem
	seen := map[string]bool{}
	after := ""
	var total int64 = -1
	for pages := 0; ; pages++ {
		page, err := x.s.Drill(context.Background(), org, f, key, row, after, size)
		if err != nil {
			t.Fatalf("%s %s: %v", key, row, err)
		}
		if total >= 0 && page.Total != total {
			t.Fatalf("%s: total changed between pages: %d, %d", key, total, page.Total)
		}
		total = page.Total
		if len(page.Items) > size || pages > 100 {
			t.Fatalf("%s: page of %d items", key, len(page.Items))
		}
		for _, it := range page.Items {
			k := fmt.Sprintf("%d %s %s", it.ID, it.Detail, it.Path)
			if seen[k] {
				t.Fatalf("%s: %s twice", key, k)
			}
			seen[k] = true
			items = append(items, it)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	return items, total
}

// TestCRMDrillsAddUpToFigures: for every key and filter, walking a drill page by page
// lists each row once, as many as its total, and the total (or the rows' values) is the
// figure clicked; a table row's drill is that row's figure.
func TestCRMDrillsAddUpToFigures(t *testing.T) {
	x := newCRMFixture(t)
	ctx := context.Background()
	for _, q := range []string{period, "from=2026-10-26&to=2026-11-01", "from=2025-01-01&to=2025-01-31",
		period + fmt.Sprintf("&pipeline=%d", x.p2), period + fmt.Sprintf("&agent=%d", x.u1),
		period + fmt.Sprintf("&channel=%d", x.ch1), period + fmt.Sprintf("&campaign=%d", x.c1)} {
		f := x.filter(t, "America/Sao_Paulo", q)
		figs, err := x.s.Figures(ctx, x.a, f, crmKeysAll)
		if err != nil {
			t.Fatal(err)
		}
		fig := map[string]Figure{}
		for _, g := range figs {
			fig[g.Metric] = g
		}
		for _, key := range crmKeysAll {
			items, total := walk(t, x, x.a, f, key, "", 2)
			if int64(len(items)) != total {
				t.Errorf("%s %s: %d rows walked, total %d", q, key, len(items), total)
			}
			var sum float64
			for _, it := range items {
				sum += it.Value
				if it.Path == "" || it.Title == "" {
					t.Errorf("%s: item without a title or link %+v", key, it)
				}
			}
			d, _ := DefinitionOf(key)
			var want, got float64 = fig[key].Value, float64(total)
			switch key {
			case "leads.won_value", "calls.cost":
				got = sum
			case "leads.win_rate":
				want = fig["leads.won"].Value + fig["leads.lost"].Value
			case "leads.stage_conversion", "calls.duration_avg":
				if total > 0 {
					got = sum / float64(total)
				}
			case "calls.answer_rate":
				want = fig["calls.total"].Value
			default:
				if d.Unit != Count {
					t.Fatalf("%s: no rule", key)
				}
			}
			if math.Abs(got-want) > 0.001 {
				t.Errorf("%s %s: drill gives %v, figure %v", q, key, got, want)
			}
		}
	}

	// Table rows.
	f := x.filter(t, "America/Sao_Paulo", period)
	for name, key := range map[string]string{"stages": "leads.stage_conversion", "campaigns": "campaign.sent", "cadences": "cadence.enrolled"} {
		tb, err := x.s.Table(ctx, x.a, f, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range tb.Rows {
			if name == "stages" && !r.Figures[2].Known {
				continue
			}
			items, total := walk(t, x, x.a, f, key, r.Key, 1)
			if float64(total) != r.Figures[0].Value || int64(len(items)) != total {
				t.Errorf("%s row %s: drill %d (%d walked), row says %v", name, r.Label, total, len(items), r.Figures[0].Value)
			}
			if name == "stages" {
				var on float64
				for _, it := range items {
					on += it.Value
				}
				if on != r.Figures[1].Value {
					t.Errorf("stage %s: %v moved on in the drill, %v in the row", r.Label, on, r.Figures[1].Value)
				}
			}
		}
	}
	// Links.
	items, _ := walk(t, x, x.a, f, "campaign.won", "", 10)
	if len(items) != 2 || items[0].Path != fmt.Sprintf("/campaigns/%d", x.c1) {
		t.Errorf("campaign.won drill %+v", items)
	}
	items, _ = walk(t, x, x.a, f, "cadence.replied", "", 10)
	if len(items) != 1 || items[0].Title != "Pessoa 2" || items[0].Detail != "Boas-vindas" {
		t.Errorf("cadence.replied drill %+v", items)
	}
	// Another org never sees A's rows, even asking by A's ids.
	fb := x.filter(t, "Asia/Kolkata", period+fmt.Sprintf("&campaign=%d", x.c1))
	if _, total := walk(t, x, x.b, fb, "campaign.sent", "", 5); total != 0 {
		t.Errorf("org B drills %d of A's recipients", total)
	}
	if _, total := walk(t, x, x.b, x.filter(t, "Asia/Kolkata", period), "campaign.sent", strconv.FormatInt(x.c1, 10), 5); total != 0 {
		t.Errorf("org B drills %d recipients of A's campaign row", total)
	}
	if _, total := walk(t, x, x.b, x.filter(t, "Asia/Kolkata", period+fmt.Sprintf("&pipeline=%d", x.p1)), "leads.stage_conversion",
		strconv.FormatInt(x.s1, 10), 5); total != 0 {
		t.Errorf("org B drills %d of A's stage entries", total)
	}
}

// TestCRMDrillRefusesBadInput: a cursor or a row that is not one is a field error.
func TestCRMDrillRefusesBadInput(t *testing.T) {
	x := newCRMFixture(t)
	ctx := context.Background()
	f := x.filter(t, "America/Sao_Paulo", period)
	for _, c := range []struct{ key, row, after, field string }{
		{"leads.created", "", "%%%", "after"},
		{"leads.created", "", "bm90LWEtY3Vyc29y", "after"},
		{"campaign.sent", "", "MS4yLjM\x00", "after"},
		{"calls.total", "", "\xff\xfe", "after"},
		{"cadence.enrolled", "abc", "", "row"},
		{"cadence.enrolled", "-4", "", "row"},
		{"leads.created", "7", "", "row"},
		{"calls.total", "1", "", "row"},
	} {
		_, err := x.s.Drill(ctx, x.a, f, c.key, c.row, c.after, 10)
		var fe *model.ValidationError
		if !errors.As(err, &fe) || fe.Fields[c.field] == "" {
			t.Errorf("%s row %q after %q: %v, want a field error on %s", c.key, c.row, c.after, err, c.field)
		}
	}
}

// TestCRMRollupsFollowChanges: after changes of every kind the triggers see (a status
// report, a lead's value, owner and stage, a lead and a campaign deleted, an enrolment
// ended, a recipient moved to another contact), the rollups hold what a rebuild from
// scratch works out, and the figures moved as they should.
func TestCRMRollupsFollowChanges(t *testing.T) {
	x := newCRMFixture(t)
	ctx := context.Background()
	f := x.filter(t, "America/Sao_Paulo", period)
	one := func(key string) float64 {
		t.Helper()
		got, err := x.s.Figures(ctx, x.a, f, []string{key})
		if err != nil {
			t.Fatal(err)
		}
		return got[0].Value
	}
	var l1, l4, k8 int64
	_ = x.st.DB().Get(&l1, `SELECT id FROM leads WHERE org_id = $1 AND value_cents = 1000`, x.a)
	_ = x.st.DB().Get(&l4, `SELECT id FROM leads WHERE org_id = $1 AND value_cents = 3000`, x.a)
	_ = x.st.DB().Get(&k8, `SELECT id FROM contacts WHERE org_id = $1 AND name = 'Pessoa 8'`, x.a)
	x.exec(t, `UPDATE leads SET value_cents = 1500, owner_id = $3 WHERE org_id = $1 AND id = $2`, x.a, l1, x.u2)
	x.exec(t, `DELETE FROM leads WHERE org_id = $1 AND id = $2`, x.a, l4)
	// k1 (sent) replies to C1; k8 (pending) is sent; C2 is deleted.
	x.exec(t, `UPDATE campaign_recipients SET status = 'replied' WHERE org_id = $1 AND campaign_id = $2 AND status = 'sent'`, x.a, x.c1)
	x.exec(t, `UPDATE campaign_recipients SET status = 'sent' WHERE org_id = $1 AND campaign_id = $2 AND contact_id = $3`, x.a, x.c1, k8)
	x.exec(t, `DELETE FROM campaigns WHERE org_id = $1 AND id = $2`, x.a, x.c2)
	x.exec(t, `UPDATE cadence_enrolments SET status = 'exited', exit_reason = 'replied' WHERE org_id = $1 AND status = 'active'`, x.a)
	if _, err := x.s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]float64{
		"leads.created": 7, "leads.won": 4, "leads.won_value": 1500 + 2000 + 900 + 5000,
		// k1 replied and has L1, created after C1's launch and won; k4's lead is gone.
		"campaign.sent": 8, "campaign.delivered": 7, "campaign.replied": 5, "campaign.lead": 3, "campaign.won": 2,
		"cadence.replied": 2, "cadence.enrolled": 5, "leads.stage_conversion": 0.5,
	} {
		if got := one(key); got != want {
			t.Errorf("after the changes %s = %v, want %v", key, got, want)
		}
	}

	// "Perdido" becomes a won stage: L3 is won, and its entry into Novo moved on.
	x.exec(t, `UPDATE stages SET outcome = 'won' WHERE org_id = $1 AND id = $2`, x.a, x.lost)
	if _, err := x.s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]float64{"leads.won": 5, "leads.lost": 0, "leads.won_value": 9900, "leads.stage_conversion": 4.0 / 6} {
		if got := one(key); got != want {
			t.Errorf("after the stage change %s = %v, want %v", key, got, want)
		}
	}

	snapshot := func() string {
		t.Helper()
		var rows []string
		for _, q := range []string{
			`SELECT format('%s %s %s %s %s %s %s %s %s %s', lead_id, move_id, at, pipeline_id, stage_id, outcome, owner_id, value_cents, moved_on, past_first)
			 FROM analytics_lead_entries WHERE org_id IN ($1, $2) ORDER BY 1`,
			`SELECT format('%s %s %s %s %s %s %s %s %s', campaign_id, channel_id, launched_at, sent, delivered, read, replied, lead, won)
			 FROM analytics_campaigns WHERE org_id IN ($1, $2) ORDER BY 1`,
			`SELECT format('%s %s %s %s %s %s %s %s', org_id, zone, hour, cadence_id, enrolled, replied, completed, exited)
			 FROM analytics_cadence_hours WHERE org_id IN ($1, $2) ORDER BY 1`,
		} {
			var got []string
			if err := x.st.DB().Select(&got, q, x.a, x.b); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, got...)
		}
		return fmt.Sprint(rows)
	}
	// A pipeline (its leads first) and an enrolment deleted.
	x.exec(t, `DELETE FROM leads WHERE org_id = $1 AND pipeline_id = $2`, x.a, x.p2)
	x.exec(t, `DELETE FROM pipelines WHERE org_id = $1 AND id = $2`, x.a, x.p2)
	// A stage no lead is in any more: its moves lose it (lead_moves' SET NULL).
	x.exec(t, `DELETE FROM stages WHERE org_id = $1 AND id = $2`, x.a, x.s3)
	x.exec(t, `DELETE FROM cadence_enrolments WHERE org_id = $1 AND id = (SELECT min(id) FROM cadence_enrolments WHERE org_id = $1)`, x.a)
	if _, err := x.s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if got := one("leads.created"); got != 4 { // L1 L3 L5 L8: P2's three are gone
		t.Errorf("after P2 was deleted leads.created = %v", got)
	}
	kept := snapshot()
	x.exec(t, `DELETE FROM analytics_lead_entries WHERE org_id IN ($1, $2)`, x.a, x.b)
	x.exec(t, `DELETE FROM analytics_campaigns WHERE org_id IN ($1, $2)`, x.a, x.b)
	x.exec(t, `DELETE FROM analytics_cadence_hours WHERE org_id IN ($1, $2)`, x.a, x.b)
	x.exec(t, `INSERT INTO analytics_dirty (org_id, kind, key) SELECT org_id, 'crm.leads', id FROM leads WHERE org_id IN ($1, $2)
		UNION ALL SELECT org_id, 'crm.campaigns', id FROM campaigns WHERE org_id IN ($1, $2)
		UNION ALL SELECT id, 'crm.cadences', -1 FROM orgs WHERE id IN ($1, $2)`, x.a, x.b)
	if _, err := x.s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if rebuilt := snapshot(); rebuilt != kept {
		t.Errorf("the rollups kept by marks differ from a rebuild:\nkept    %s\nrebuilt %s", kept, rebuilt)
	}
	// An org that goes takes its rollups along.
	x.exec(t, `DELETE FROM orgs WHERE id = $1`, x.b)
	if _, err := x.s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := x.st.DB().Get(&left, `SELECT (SELECT count(*) FROM analytics_lead_entries WHERE org_id = $1)
		+ (SELECT count(*) FROM analytics_campaigns WHERE org_id = $1) + (SELECT count(*) FROM analytics_cadence_hours WHERE org_id = $1)
		+ (SELECT count(*) FROM analytics_dirty WHERE org_id = $1)`, x.b); err != nil || left != 0 {
		t.Errorf("%d rows of a deleted org left (%v)", left, err)
	}
}
