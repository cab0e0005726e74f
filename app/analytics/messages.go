package analytics

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"masteria/app/model"
	"masteria/app/store"
)

// The messages family: outbound messages (not notes) by their status now, counted in the
// hour they were created in, and inbound messages. "Sent" is every outbound message the
// provider took or refused — queued ones (not tried yet) are left out — so delivered, read
// and failed are parts of it and their rates have it below the line. Its rollup is
// analytics_message_hours (migration 00038), rebuilt hour by hour from marks.

// messageCounts are the messages of a bucket (or of a whole period).
type messageCounts struct {
	sent, delivered, read, failed, inbound, replies int64
	costCents                                       float64
}

func (c *messageCounts) add(b store.MessageBucket) {
	c.sent += b.Sent
	c.delivered += b.Delivered
	c.read += b.Read
	c.failed += b.Failed
	c.inbound += b.Inbound
	c.replies += b.Replies
	c.costCents += b.CostCents
}

// figure is the value of key (a messages key, agent.replies or ai.cost) of the counts.
func (c messageCounts) figure(key string) Figure {
	rate := func(n int64) Figure {
		if c.sent == 0 {
			return Figure{Metric: key}
		}
		return Figure{Metric: key, Value: float64(n) / float64(c.sent), Known: true}
	}
	count := func(n int64) Figure { return Figure{Metric: key, Value: float64(n), Known: true} }
	switch key {
	case "messages.sent":
		return count(c.sent)
	case "messages.delivered":
		return count(c.delivered)
	case "messages.read":
		return count(c.read)
	case "messages.failed":
		return count(c.failed)
	case "messages.inbound":
		return count(c.inbound)
	case "messages.delivery_rate":
		return rate(c.delivered)
	case "messages.read_rate":
		return rate(c.read)
	case "messages.failure_rate":
		return rate(c.failed)
	case "agent.replies":
		return count(c.replies)
	case "ai.cost":
		return Figure{Metric: key, Value: c.costCents, Known: true}
	}
	return Figure{Metric: key}
}

// storeFilter is the filter as the store takes it.
func storeFilter(f Filter) store.AnalyticsFilter {
	zone := f.Zone
	if zone == nil {
		zone = time.UTC
	}
	return store.AnalyticsFilter{From: f.From, To: f.To, Zone: zone, ChannelID: f.ChannelID, AgentID: f.AgentID,
		CampaignID: f.CampaignID, Label: f.Label, Business: f.BusinessHours}
}

type messagesFamily struct{ st *store.Store }

// messagesNarrows are the filters the messages family follows (storeFilter): a message's
// channel, its sender, its campaign and its conversation's labels.
var messagesNarrows = []string{FilterChannel, FilterAgent, FilterCampaign, FilterLabel}

func (m *messagesFamily) counts(ctx context.Context, orgID int64, f Filter, starts []time.Time) ([]messageCounts, map[int64]*messageCounts, error) {
	return countMessages(ctx, m.st, orgID, f, starts)
}

// messageRows are the rollup's rows of the period per bucket of starts, channel and sender.
func messageRows(ctx context.Context, st *store.Store, orgID int64, f Filter, starts []time.Time) ([]store.MessageBucket, error) {
	return remembered(ctx, memoKeyOf("messages", orgID, f, starts), func() ([]store.MessageBucket, error) {
		return st.MessageBuckets(ctx, orgID, storeFilter(f), starts)
	})
}

// countMessages reads the period's message counts per bucket of starts, and per channel.
func countMessages(ctx context.Context, st *store.Store, orgID int64, f Filter, starts []time.Time) ([]messageCounts, map[int64]*messageCounts, error) {
	rows, err := messageRows(ctx, st, orgID, f, starts)
	if err != nil {
		return nil, nil, err
	}
	out := make([]messageCounts, len(starts))
	byChannel := map[int64]*messageCounts{}
	for _, r := range rows {
		if r.Bucket < 1 || r.Bucket > len(starts) {
			continue
		}
		out[r.Bucket-1].add(r)
		c := byChannel[r.ChannelID]
		if c == nil {
			c = &messageCounts{}
			byChannel[r.ChannelID] = c
		}
		c.add(r)
	}
	return out, byChannel, nil
}

func (m *messagesFamily) figures(ctx context.Context, orgID int64, f Filter, keys []string) (map[string]Figure, error) {
	counts, _, err := m.counts(ctx, orgID, f, []time.Time{f.From})
	if err != nil {
		return nil, err
	}
	out := map[string]Figure{}
	for _, k := range keys {
		out[k] = counts[0].figure(k)
	}
	return out, nil
}

func (m *messagesFamily) series(ctx context.Context, orgID int64, f Filter, key, step string) (Series, error) {
	starts := buckets(f, step)
	counts, _, err := m.counts(ctx, orgID, f, starts)
	if err != nil {
		return Series{}, err
	}
	d, _ := DefinitionOf(key)
	sr := Series{Metric: key, Unit: d.Unit, Step: step, Points: make([]Point, len(starts))}
	for i, t := range starts {
		fig := counts[i].figure(key)
		sr.Points[i] = Point{Start: t, Value: fig.Value, Known: fig.Known}
	}
	return sr, nil
}

// channelColumns are the columns of the channels table.
var channelColumns = []string{"messages.sent", "messages.delivered", "messages.read", "messages.failed",
	"messages.delivery_rate", "messages.read_rate", "messages.failure_rate", "messages.inbound"}

func (m *messagesFamily) table(ctx context.Context, orgID int64, f Filter, name string) (Table, error) {
	if name != "channels" {
		return Table{}, model.FieldError("table", "analytics.error.table")
	}
	counts, byChannel, err := m.counts(ctx, orgID, f, []time.Time{f.From})
	if err != nil {
		return Table{}, err
	}
	channels, err := m.st.Channels(ctx, orgID)
	if err != nil {
		return Table{}, err
	}
	t := Table{Columns: channelColumns}
	for _, ch := range channels {
		if f.ChannelID != 0 && ch.ID != f.ChannelID {
			continue
		}
		c := byChannel[ch.ID]
		if c == nil {
			c = &messageCounts{}
		}
		row := Row{Key: strconv.FormatInt(ch.ID, 10), Label: ch.Name}
		for _, col := range channelColumns {
			row.Figures = append(row.Figures, c.figure(col))
		}
		t.Rows = append(t.Rows, row)
	}
	total := Row{Key: "total"}
	for _, col := range channelColumns {
		total.Figures = append(total.Figures, counts[0].figure(col))
	}
	t.Total = &total
	return t, nil
}

func (m *messagesFamily) funnel(context.Context, int64, Filter, string) (Funnel, error) {
	return Funnel{}, model.FieldError("funnel", "analytics.error.funnel")
}

// messagePredicates are what each key's drill-down lists, over the facts f: the same rules
// the rollup counted them with. A rate lists the messages above its line.
var messagePredicates = map[string]string{
	"messages.sent":          "f.direction = 'out' AND f.status IN ('sent', 'delivered', 'read', 'failed')",
	"messages.delivered":     "f.direction = 'out' AND f.status IN ('delivered', 'read')",
	"messages.delivery_rate": "f.direction = 'out' AND f.status IN ('delivered', 'read')",
	"messages.read":          "f.direction = 'out' AND f.status = 'read'",
	"messages.read_rate":     "f.direction = 'out' AND f.status = 'read'",
	"messages.failed":        "f.direction = 'out' AND f.status = 'failed'",
	"messages.failure_rate":  "f.direction = 'out' AND f.status = 'failed'",
	"messages.inbound":       "f.source = 'inbound'",
	"agent.replies":          "f.source = 'person'",
	"ai.cost":                "f.source = 'bot'",
}

func (m *messagesFamily) drill(ctx context.Context, orgID int64, f Filter, key, row, after string, limit int) (DrillPage, error) {
	if row != "" {
		id, err := strconv.ParseInt(row, 10, 64)
		if err != nil || id <= 0 {
			return DrillPage{}, model.FieldError("row", "analytics.error.row")
		}
		f.ChannelID = id
	}
	return drillMessages(ctx, m.st, orgID, f, key, after, limit)
}

// drillMessages is a page of the messages behind key.
func drillMessages(ctx context.Context, st *store.Store, orgID int64, f Filter, key, after string, limit int) (DrillPage, error) {
	where, ok := messagePredicates[key]
	if !ok {
		return DrillPage{}, model.FieldError("metric", "analytics.error.no_drill")
	}
	at, id, err := parseCursor(after)
	if err != nil {
		return DrillPage{}, err
	}
	rows, total, err := st.MessageDrill(ctx, orgID, storeFilter(f), where, at, id, limit+1)
	if err != nil {
		return DrillPage{}, err
	}
	page := DrillPage{Total: total}
	for i, r := range rows {
		if i == limit {
			last := rows[limit-1]
			page.Next = cursor(last.CreatedAt, last.ID)
			break
		}
		page.Items = append(page.Items, DrillItem{ID: r.ID, Title: r.ContactName, Detail: messageDetail(r),
			At: r.CreatedAt, Value: r.CostCents, Path: fmt.Sprintf("/inbox/%d", r.ConversationID)})
	}
	return page, nil
}

// messageDetail is a message's line in a drill-down: its status or source, and its start.
func messageDetail(r store.MessageDrillRow) string {
	body := strings.Join(strings.Fields(r.Body), " ")
	if len([]rune(body)) > 80 {
		body = string([]rune(body)[:80]) + "…"
	}
	what := r.Status
	if r.Direction == "in" {
		what = "inbound"
	}
	if body == "" {
		return what
	}
	return what + " · " + body
}

// cursor is the opaque position after a row ordered by (at, id).
func cursor(at time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixNano(), 10) + ":" + strconv.FormatInt(id, 10)))
}

// parseCursor reads a cursor; "" is the first page (id 0).
func parseCursor(s string) (time.Time, int64, error) {
	if s == "" {
		return time.Time{}, 0, nil
	}
	bad := model.FieldError("after", "analytics.error.cursor")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, 0, bad
	}
	ns, idText, ok := strings.Cut(string(raw), ":")
	if !ok {
		return time.Time{}, 0, bad
	}
	n, err1 := strconv.ParseInt(ns, 10, 64)
	id, err2 := strconv.ParseInt(idText, 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return time.Time{}, 0, bad
	}
	return time.Unix(0, n), id, nil
}

// messageHours keeps analytics_message_hours: a mark is a UTC hour whose messages changed
// (none: the org's zone changed, count everything again).
type messageHours struct{}

func (messageHours) Kind() string { return "messages" }

func (messageHours) Recompute(ctx context.Context, tx *store.Store, orgID int64, zone *time.Location, marks []Mark) error {
	var hours []time.Time
	for _, m := range marks {
		if m.At.IsZero() {
			return tx.RebuildMessageHours(ctx, orgID, zone.String())
		}
		hours = append(hours, m.At)
	}
	return tx.CountMessageHours(ctx, orgID, zone.String(), hours)
}
