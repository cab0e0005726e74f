package home

import (
	"context"
	"strconv"
	"time"

	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/views/ui"
)

// myDayEvents change what "my day" shows: a customer's message (waiting, unread, a new
// unassigned conversation), a member's message or note (a mention, the member's replies),
// and a conversation assigned, resolved or reopened.
const myDayEvents = "sse:message.received, sse:message.created, sse:conversation.changed"

// MyDayData is what an agent's home ("my day") shows.
type MyDayData struct {
	UserName   string
	Now        time.Time
	Figures    []MyFigure                  // today's, the member's own
	Mentions   []model.NoteMention         // unseen first
	Waiting    []model.WaitingConversation // the customer wrote last; the longest waiting first
	Mine       []model.Conversation        // open and assigned to the member
	Unassigned []model.Conversation        // open and nobody's: the member may take them
}

// MyFigure is one of the member's figures of today; Known false shows "—".
type MyFigure struct {
	Key   string // a metric key: its name is analytics.metric.<key>.name
	Unit  string // count or seconds
	Value float64
	Known bool
}

// Unseen counts the mentions not seen yet.
func (d MyDayData) Unseen() int {
	n := 0
	for _, m := range d.Mentions {
		if m.SeenAt == nil {
			n++
		}
	}
	return n
}

// figureText is a figure as "my day" shows it: a count, or a duration; "—" when unknown.
func figureText(ctx context.Context, f MyFigure) string {
	if !f.Known {
		return "—"
	}
	if f.Unit == "seconds" {
		return durationText(ctx, time.Duration(f.Value*float64(time.Second)))
	}
	return strconv.FormatInt(int64(f.Value+0.5), 10)
}

// figureName is a metric's name, or its key until its name is written.
func figureName(ctx context.Context, key string) string {
	k := "analytics.metric." + key + ".name"
	if i18n.Has(ui.From(ctx).Locale, k) {
		return ui.T(ctx, k)
	}
	return key
}

// durationText says how long d is, short: "45 s", "12 min", "2 h 5 min", "3 d".
func durationText(ctx context.Context, d time.Duration) string {
	switch {
	case d < time.Minute:
		return ui.T(ctx, "myday.duration.seconds", "n", strconv.Itoa(int(d.Seconds())))
	case d < time.Hour:
		return ui.T(ctx, "myday.duration.minutes", "n", strconv.Itoa(int(d.Minutes())))
	case d < 48*time.Hour:
		return ui.T(ctx, "myday.duration.hours", "h", strconv.Itoa(int(d.Hours())), "m", strconv.Itoa(int(d.Minutes())%60))
	}
	return ui.T(ctx, "myday.duration.days", "n", strconv.Itoa(int(d.Hours()/24)))
}

// mentionWho is the conversation a mention is in, by its contact.
func mentionWho(m model.NoteMention) string {
	return ui.ConversationName(model.Conversation{ContactName: m.ContactName, ContactPhone: m.ContactPhone})
}
