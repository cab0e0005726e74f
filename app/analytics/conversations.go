package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"time"

	"masteria/app/model"
	"masteria/app/store"
)

// The conversations family. A conversation lives as long as its channel and contact, so the
// unit is a case: it starts with a customer's message while the conversation has no case
// open (it was closed since its last case, or never had one) and ends at the close that
// follows. Its rollup, analytics_cases, holds one row per case worked out from the
// conversation's messages and its log (conversation_log, written by a trigger on every
// change of status, owner or assignee).
//
// A person's reply is an outbound message with a sender that is not the bot's, nor a
// campaign's or a cadence's send. First response: case start to the first person's reply;
// resolution: case start to the close. Both are also kept in business hours (the clock
// runs only inside the org's business hours).

type conversationsFamily struct{ st *store.Store }

// conversationsNarrows are the filters the conversations family follows: a case's channel,
// assignee, labels and the campaign that reached it (its replies and AI cost, read from
// the messages, follow the same).
var conversationsNarrows = []string{FilterChannel, FilterAgent, FilterCampaign, FilterLabel}

// businessHoursKeys are the metrics measured in the org's business hours when the filter
// asks for them: response and resolution times, and the share within the target.
var businessHoursKeys = map[string]bool{
	"response.first_median": true, "response.first_p90": true, "response.within_target": true,
	"resolution.median": true, "resolution.p90": true,
}

// caseCounts are the case figures of a bucket (or of a whole period).
type caseCounts struct {
	started, botCases, responded, within int64
	resolved, botResolved, handovers     int64
	firstMedian, firstP90                *float64
	resolutionMedian, resolutionP90      *float64
}

func nullable(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	return &v.Float64
}

func (c *caseCounts) add(b store.CaseBucket) {
	switch b.By {
	case "start":
		c.started += b.N
		c.botCases += b.Bot
		c.responded += b.Responded
		c.within += b.Within
		c.firstMedian, c.firstP90 = nullable(b.FirstMedian), nullable(b.FirstP90)
		c.resolutionMedian, c.resolutionP90 = nullable(b.ResolutionMedian), nullable(b.ResolutionP90)
	case "resolved":
		c.resolved += b.N
		c.botResolved += b.Bot
	case "handover":
		c.handovers += b.N
	}
}

// caseFigure is the value of a case key; target says whether the org has a first-response
// target.
func (c caseCounts) figure(key string, target bool) Figure {
	count := func(n int64) Figure { return Figure{Metric: key, Value: float64(n), Known: true} }
	some := func(v *float64) Figure {
		if v == nil {
			return Figure{Metric: key}
		}
		return Figure{Metric: key, Value: *v, Known: true}
	}
	ratio := func(n, d int64) Figure {
		if d == 0 {
			return Figure{Metric: key}
		}
		return Figure{Metric: key, Value: float64(n) / float64(d), Known: true}
	}
	switch key {
	case "conversations.started":
		return count(c.started)
	case "conversations.resolved":
		return count(c.resolved)
	case "response.first_median":
		return some(c.firstMedian)
	case "response.first_p90":
		return some(c.firstP90)
	case "response.within_target":
		if !target {
			return Figure{Metric: key}
		}
		return ratio(c.within, c.responded)
	case "resolution.median":
		return some(c.resolutionMedian)
	case "resolution.p90":
		return some(c.resolutionP90)
	case "ai.conversations":
		return count(c.botCases)
	case "ai.resolved":
		return count(c.botResolved)
	case "ai.share":
		return ratio(c.botResolved, c.resolved)
	case "ai.handovers":
		return count(c.handovers)
	}
	return Figure{Metric: key}
}

// fromMessages are the keys of this family read from the messages rollup.
var fromMessages = map[string]bool{"agent.replies": true, "ai.cost": true, "ai.cost_per_resolved": true}

// caseFilter is the store's filter with the org's first-response target.
func (c *conversationsFamily) caseFilter(ctx context.Context, orgID int64, f Filter) (store.AnalyticsFilter, error) {
	sf := storeFilter(f)
	set, err := remembered(ctx, fmt.Sprintf("settings|%d", orgID), func() (model.InboxSettings, error) {
		return c.st.InboxSettings(ctx, orgID)
	})
	if err != nil {
		return sf, err
	}
	sf.TargetS = set.ResponseTarget * 60
	return sf, nil
}

// period are the figures of the period's buckets (starts) per assignee when byAssignee
// (key -1 otherwise), with the messages counts the family needs.
func (c *conversationsFamily) period(ctx context.Context, orgID int64, f Filter, starts []time.Time, byAssignee bool) (map[int64][]caseCounts, bool, error) {
	sf, err := c.caseFilter(ctx, orgID, f)
	if err != nil {
		return nil, false, err
	}
	rows, err := remembered(ctx, memoKeyOf("cases", orgID, f, starts, byAssignee), func() ([]store.CaseBucket, error) {
		return c.st.CaseBuckets(ctx, orgID, sf, starts, byAssignee)
	})
	if err != nil {
		return nil, false, err
	}
	out := map[int64][]caseCounts{}
	if !byAssignee {
		out[-1] = make([]caseCounts, len(starts))
	}
	for _, r := range rows {
		if r.Bucket < 1 || r.Bucket > len(starts) {
			continue
		}
		if out[r.AssigneeID] == nil {
			out[r.AssigneeID] = make([]caseCounts, len(starts))
		}
		out[r.AssigneeID][r.Bucket-1].add(r)
	}
	return out, sf.TargetS > 0, nil
}

// figureOf is key's value from the case and message counts of a bucket.
func figureOf(key string, cc caseCounts, mc messageCounts, target bool) Figure {
	switch key {
	case "agent.replies", "ai.cost":
		return mc.figure(key)
	case "ai.cost_per_resolved":
		if cc.botResolved == 0 {
			return Figure{Metric: key}
		}
		return Figure{Metric: key, Value: mc.costCents / float64(cc.botResolved), Known: true}
	}
	return cc.figure(key, target)
}

func (c *conversationsFamily) figures(ctx context.Context, orgID int64, f Filter, keys []string) (map[string]Figure, error) {
	out := map[string]Figure{}
	var needCases, needMessages, needNow bool
	for _, k := range keys {
		d, _ := DefinitionOf(k)
		switch {
		case d.Now:
			needNow = true
		case fromMessages[k]:
			needMessages = true
			needCases = needCases || k == "ai.cost_per_resolved"
		default:
			needCases = true
		}
	}
	var cc caseCounts
	var mc messageCounts
	var target bool
	if needCases {
		per, t, err := c.period(ctx, orgID, f, []time.Time{f.From}, false)
		if err != nil {
			return nil, err
		}
		cc, target = per[-1][0], t
	}
	if needMessages {
		counts, _, err := countMessages(ctx, c.st, orgID, f, []time.Time{f.From})
		if err != nil {
			return nil, err
		}
		mc = counts[0]
	}
	var now store.ConversationsNow
	if needNow {
		var err error
		if now, err = c.st.ConversationsNowOf(ctx, orgID, storeFilter(f)); err != nil {
			return nil, err
		}
	}
	for _, k := range keys {
		switch k {
		case "conversations.open":
			out[k] = Figure{Metric: k, Value: float64(now.Open), Known: true}
		case "conversations.waiting":
			out[k] = Figure{Metric: k, Value: float64(now.Waiting), Known: true}
		case "conversations.unassigned":
			out[k] = Figure{Metric: k, Value: float64(now.Unassigned), Known: true}
		default:
			out[k] = figureOf(k, cc, mc, target)
		}
	}
	return out, nil
}

func (c *conversationsFamily) series(ctx context.Context, orgID int64, f Filter, key, step string) (Series, error) {
	starts := buckets(f, step)
	d, _ := DefinitionOf(key)
	sr := Series{Metric: key, Unit: d.Unit, Step: step, Points: make([]Point, len(starts))}
	ccs := make([]caseCounts, len(starts))
	mcs := make([]messageCounts, len(starts))
	var target bool
	if !fromMessages[key] || key == "ai.cost_per_resolved" {
		per, t, err := c.period(ctx, orgID, f, starts, false)
		if err != nil {
			return Series{}, err
		}
		ccs, target = per[-1], t
	}
	if fromMessages[key] {
		counts, _, err := countMessages(ctx, c.st, orgID, f, starts)
		if err != nil {
			return Series{}, err
		}
		mcs = counts
	}
	for i, t := range starts {
		fig := figureOf(key, ccs[i], mcs[i], target)
		sr.Points[i] = Point{Start: t, Value: fig.Value, Known: fig.Known}
	}
	return sr, nil
}

// agentColumns are the columns of the agents table.
var agentColumns = []string{"conversations.started", "agent.replies", "response.first_median", "resolution.median", "response.within_target"}

func (c *conversationsFamily) table(ctx context.Context, orgID int64, f Filter, name string) (Table, error) {
	if name != "agents" {
		return Table{}, model.FieldError("table", "analytics.error.table")
	}
	one := []time.Time{f.From}
	per, target, err := c.period(ctx, orgID, f, one, true)
	if err != nil {
		return Table{}, err
	}
	// Replies by sender: the messages rollup's rows per agent.
	rows, err := messageRows(ctx, c.st, orgID, f, one)
	if err != nil {
		return Table{}, err
	}
	replies := map[int64]*messageCounts{}
	for _, r := range rows {
		if r.Bucket != 1 {
			continue
		}
		if replies[r.AgentID] == nil {
			replies[r.AgentID] = &messageCounts{}
		}
		replies[r.AgentID].add(r)
	}
	members, err := c.st.Members(ctx, orgID)
	if err != nil {
		return Table{}, err
	}
	t := Table{Columns: agentColumns}
	row := func(key, label string, cc caseCounts, mc messageCounts) Row {
		r := Row{Key: key, Label: label}
		for _, col := range agentColumns {
			r.Figures = append(r.Figures, figureOf(col, cc, mc, target))
		}
		return r
	}
	for _, m := range members {
		if f.AgentID != 0 && m.UserID != f.AgentID {
			continue
		}
		var cc caseCounts
		if b := per[m.UserID]; b != nil {
			cc = b[0]
		}
		var mc messageCounts
		if r := replies[m.UserID]; r != nil {
			mc = *r
		}
		t.Rows = append(t.Rows, row(strconv.FormatInt(m.UserID, 10), m.UserName, cc, mc))
	}
	// Cases with nobody on them: a row of their own (key 0, no label: the page names it).
	if b := per[0]; b != nil && f.AgentID == 0 {
		t.Rows = append(t.Rows, row("0", "", b[0], messageCounts{}))
	}
	figs, err := c.figures(ctx, orgID, f, agentColumns)
	if err != nil {
		return Table{}, err
	}
	total := Row{Key: "total"}
	for _, col := range agentColumns {
		total.Figures = append(total.Figures, figs[col])
	}
	t.Total = &total
	return t, nil
}

func (c *conversationsFamily) funnel(context.Context, int64, Filter, string) (Funnel, error) {
	return Funnel{}, model.FieldError("funnel", "analytics.error.funnel")
}

// caseDrills are, for each key listed from the cases, the moment that places a case in the
// period and the predicate over the case a: the same rules the figures count.
var caseDrills = map[string]struct{ at, where, value string }{
	"conversations.started":  {"started_at", "", ""},
	"conversations.resolved": {"resolved_at", "", "resolution"},
	"response.first_median":  {"started_at", "a.first_reply_at IS NOT NULL", "first"},
	"response.first_p90":     {"started_at", "a.first_reply_at IS NOT NULL", "first"},
	"response.within_target": {"started_at", "a.first_reply_at IS NOT NULL", "first"},
	"resolution.median":      {"started_at", "a.resolved_at IS NOT NULL", "resolution"},
	"resolution.p90":         {"started_at", "a.resolved_at IS NOT NULL", "resolution"},
	"ai.conversations":       {"started_at", "a.bot_replied", ""},
	"ai.resolved":            {"resolved_at", "a.bot_replied AND a.person_replies = 0", ""},
	"ai.share":               {"resolved_at", "a.bot_replied AND a.person_replies = 0", ""},
	"ai.cost_per_resolved":   {"resolved_at", "a.bot_replied AND a.person_replies = 0", ""},
	"ai.handovers":           {"handover_at", "", ""},
}

// openDrills are the predicates over the open conversation v of the figures of now.
var openDrills = map[string]string{
	"conversations.open":       "",
	"conversations.waiting":    "v.owner <> 'bot' AND v.last_inbound_at >= v.last_message_at",
	"conversations.unassigned": "v.assignee_id IS NULL",
}

func (c *conversationsFamily) drill(ctx context.Context, orgID int64, f Filter, key, row, after string, limit int) (DrillPage, error) {
	if row != "" {
		id, err := strconv.ParseInt(row, 10, 64)
		if err != nil || id <= 0 {
			return DrillPage{}, model.FieldError("row", "analytics.error.row")
		}
		f.AgentID = id
	}
	if _, ok := messagePredicates[key]; ok {
		return drillMessages(ctx, c.st, orgID, f, key, after, limit)
	}
	at, afterID, err := parseCursor(after)
	if err != nil {
		return DrillPage{}, err
	}
	var page DrillPage
	if where, ok := openDrills[key]; ok {
		rows, total, err := c.st.OpenDrill(ctx, orgID, storeFilter(f), where, afterID, limit+1)
		if err != nil {
			return DrillPage{}, err
		}
		page.Total = total
		for i, r := range rows {
			if i == limit {
				page.Next = cursor(time.Unix(0, 0), rows[limit-1].ConversationID)
				break
			}
			page.Items = append(page.Items, DrillItem{ID: r.ConversationID, Title: r.ContactName, At: *r.LastMessageAt,
				Path: fmt.Sprintf("/inbox/%d", r.ConversationID)})
		}
		return page, nil
	}
	d, ok := caseDrills[key]
	if !ok {
		return DrillPage{}, model.FieldError("metric", "analytics.error.no_drill")
	}
	rows, total, err := c.st.CaseDrill(ctx, orgID, storeFilter(f), d.at, d.where, at, afterID, limit+1)
	if err != nil {
		return DrillPage{}, err
	}
	page.Total = total
	moment := func(r store.CaseDrillRow) time.Time {
		switch d.at {
		case "resolved_at":
			return *r.ResolvedAt
		case "handover_at":
			return *r.HandoverAt
		}
		return *r.StartedAt
	}
	for i, r := range rows {
		if i == limit {
			page.Next = cursor(moment(rows[limit-1]), rows[limit-1].ConversationID)
			break
		}
		when := moment(r)
		item := DrillItem{ID: r.ConversationID, Title: r.ContactName, At: when, Path: fmt.Sprintf("/inbox/%d", r.ConversationID)}
		switch plain, business := r.FirstResponseS, r.FirstResponseBS; d.value {
		case "first":
			if f.BusinessHours {
				plain = business
			}
			item.Value = float64(plain.Int64)
		case "resolution":
			v := r.ResolutionS
			if f.BusinessHours {
				v = r.ResolutionBS
			}
			item.Value = float64(v.Int64)
		}
		page.Items = append(page.Items, item)
	}
	return page, nil
}

// BusinessHours are the org's business hours (Settings → Inbox).
type BusinessHours = model.BusinessHours

// cases keeps analytics_cases: a mark is a conversation whose cases changed (0: every
// conversation of the org, after a new zone or new business hours).
type cases struct{}

func (cases) Kind() string { return "cases" }

// casesPerRead is how many conversations one read of their messages and log takes.
const casesPerRead = 1000

func (cases) Recompute(ctx context.Context, tx *store.Store, orgID int64, zone *time.Location, marks []Mark) error {
	set, err := tx.InboxSettings(ctx, orgID)
	if err != nil {
		return err
	}
	hours := set.BusinessHours
	var ids []int64
	for _, m := range marks {
		if m.Key == 0 {
			// Every case again: as marks of each conversation, for the next rounds.
			return tx.MarkAllCases(ctx, orgID)
		}
		ids = append(ids, m.Key)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for len(ids) > 0 {
		n := min(len(ids), casesPerRead)
		chunk := ids[:n]
		ids = ids[n:]
		convs, msgs, log, err := tx.CaseSources(ctx, orgID, chunk)
		if err != nil {
			return err
		}
		built := buildCases(convs, msgs, log, hours, zone)
		if err := tx.ReplaceCases(ctx, orgID, chunk, built); err != nil {
			return err
		}
	}
	return nil
}

// buildCases works out the cases of conversations from their messages and log (each in
// the order of the conversations, then of time).
func buildCases(convs []store.CaseConversation, msgs []store.CaseMessage, log []store.CaseLogEntry, hours BusinessHours, zone *time.Location) []store.Case {
	var out []store.Case
	mi, li := 0, 0
	for _, conv := range convs {
		for mi < len(msgs) && msgs[mi].ConversationID < conv.ID {
			mi++
		}
		for li < len(log) && log[li].ConversationID < conv.ID {
			li++
		}
		var cur *store.Case
		for {
			hasMsg := mi < len(msgs) && msgs[mi].ConversationID == conv.ID
			hasLog := li < len(log) && log[li].ConversationID == conv.ID
			if !hasMsg && !hasLog {
				break
			}
			// A message and a change at the same moment: the message first.
			if hasMsg && (!hasLog || !msgs[mi].CreatedAt.After(log[li].At)) {
				m := msgs[mi]
				mi++
				switch {
				case m.Direction == "in":
					if cur == nil {
						cur = &store.Case{ConversationID: conv.ID, StartedAt: m.CreatedAt, ChannelID: conv.ChannelID}
					}
				case cur == nil:
				case m.Source == "person":
					cur.PersonReplies++
					if cur.FirstReplyAt == nil {
						at := m.CreatedAt
						cur.FirstReplyAt = &at
						plain, business := int(at.Sub(cur.StartedAt)/time.Second), hours.Seconds(cur.StartedAt, at, zone)
						cur.FirstResponseS, cur.FirstResponseBS = &plain, &business
					}
				case m.Source == "bot":
					cur.BotReplied = true
				}
				continue
			}
			e := log[li]
			li++
			if cur == nil {
				continue
			}
			if e.OldOwner == "bot" && (e.Owner == "waiting" || e.Owner == "human") && cur.HandoverAt == nil {
				at := e.At
				cur.HandoverAt = &at
			}
			if e.Status == "closed" && e.OldStatus != "closed" {
				at := e.At
				if at.Before(cur.StartedAt) {
					at = cur.StartedAt
				}
				cur.ResolvedAt = &at
				plain, business := int(at.Sub(cur.StartedAt)/time.Second), hours.Seconds(cur.StartedAt, at, zone)
				cur.ResolutionS, cur.ResolutionBS = &plain, &business
				cur.AssigneeID = e.AssigneeID
				out = append(out, *cur)
				cur = nil
			}
		}
		if cur != nil {
			cur.AssigneeID = conv.AssigneeID
			out = append(out, *cur)
		}
	}
	return out
}
