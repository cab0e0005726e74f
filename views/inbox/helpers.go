package inbox

import (
	"cmp"
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/views/ui"
)

func id(n int64) string { return strconv.FormatInt(n, 10) }

func kindIcon(kind string) string {
	switch kind {
	case model.KindTwilioSMS:
		return "smartphone"
	case model.KindSandbox:
		return "compass"
	}
	return "message"
}

// KindName is a channel kind in the reader's language.
func KindName(ctx context.Context, kind string) string {
	for _, k := range Kinds {
		if k.Kind == kind {
			return ui.T(ctx, k.Key)
		}
	}
	return kind
}

func statusKind(s string) string {
	switch s {
	case "connected":
		return "success"
	case "pending":
		return "warning"
	case "error":
		return "danger"
	}
	return "neutral"
}

func channelStatusKey(s string) string {
	switch s {
	case "connected":
		return "channels.status.connected"
	case "pending":
		return "channels.status.pending"
	case "error":
		return "channels.status.error"
	}
	return "channels.status.disconnected"
}

// convStatusKey is the label of one conversation's status ("Aberta"); the filter's
// options name the groups ("Abertas").
func convStatusKey(s string) string {
	switch s {
	case "pending":
		return "inbox.conv_status.pending"
	case "closed":
		return "inbox.conv_status.closed" // one conversation: "Resolvida"
	}
	return "inbox.conv_status.open"
}

// msgStatusKey is the label of an outbound message status.
func msgStatusKey(s string) string {
	switch s {
	case model.StatusQueued:
		return "inbox.msg.queued"
	case model.StatusSent:
		return "inbox.msg.sent"
	case model.StatusDelivered:
		return "inbox.msg.delivered"
	case model.StatusRead:
		return "inbox.msg.read"
	case model.StatusFailed:
		return "inbox.msg.failed"
	}
	return "inbox.msg.queued"
}

// ticks is the mark an outbound message shows for its status.
func ticks(s string) string {
	switch s {
	case model.StatusSent:
		return "✓"
	case model.StatusDelivered, model.StatusRead:
		return "✓✓"
	}
	return ""
}

func (d OpenData) convURL(ctx context.Context, suffix string) string {
	return ui.OrgURL(ctx, "/inbox/"+id(d.Conv.ID)+suffix)
}

func convHref(ctx context.Context, f Filter, cid int64) string {
	return ui.OrgURL(ctx, "/inbox/"+id(cid)) + f.Encode()
}

func listHref(ctx context.Context, f Filter, open int64) string {
	if open != 0 {
		return convHref(ctx, f, open)
	}
	return ui.OrgURL(ctx, "/inbox") + f.Encode()
}

// listPartURL is the list fragment for the filter (the live refresh and "load more").
func listPartURL(ctx context.Context, f Filter, open int64, after string) string {
	v := f.Values()
	if open != 0 {
		v.Set("open", id(open))
	}
	if after != "" {
		v.Set("after", after)
	}
	u := ui.OrgURL(ctx, "/inbox/list")
	if e := v.Encode(); e != "" {
		u += "?" + e
	}
	return u
}

var views = []struct{ Value, Key string }{
	{"mine", "inbox.view.mine"},
	{"unassigned", "inbox.view.unassigned"},
	{"waiting", "inbox.view.waiting"},
	{"all", "inbox.view.all"},
}

var statuses = []struct{ Value, Key string }{
	{"open", "inbox.status.open"},
	{"pending", "inbox.status.pending"},
	{"closed", "inbox.status.closed"},
}

const liveMessages = "sse:message.received, sse:message.created, sse:message.status, sse:message.updated, " +
	"sse:call.registered, sse:call.started, sse:call.ended, sse:call.analyzed, sse:call.recording_saved"

// liveList also reloads when this browser marked a conversation read (inbox-read, sent by the
// read request's answer), without waiting for that change to come back over SSE.
const liveList = liveMessages + ", sse:conversation.changed, inbox-read from:body"

func sortedChannels(m map[int64]model.Channel) []model.Channel {
	out := make([]model.Channel, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b model.Channel) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// sep is what joins one more parameter to u.
func sep(u string) string {
	if strings.Contains(u, "?") {
		return "&"
	}
	return "?"
}

func urlEscape(s string) string { return url.QueryEscape(s) }

func convBadge(status string) string {
	switch status {
	case "pending":
		return "warning"
	case "closed":
		return "neutral"
	}
	return "success"
}

func statusActionKey(status string) string {
	switch status {
	case "pending":
		return "inbox.action.pending"
	case "closed":
		return "inbox.action.close"
	}
	return "inbox.action.reopen"
}

// failTitle is why a message failed, or a general reason.
// Codes the app knows are explained in the reader's language; the provider's own text
// (often English) only for the others.
func failTitle(ctx context.Context, m model.Message) string {
	if key := model.SendFailureKey(m.ErrorCode); m.ErrorCode != "" && i18n.Has(ui.From(ctx).Locale, key) {
		return ui.T(ctx, key)
	}
	if m.ErrorTitle != "" {
		return m.ErrorTitle
	}
	return ui.T(ctx, "inbox.msg.failed")
}

// noPhone: the conversation's channel needs a phone (SMS) and the contact has none.
func noPhone(d OpenData) bool {
	return !d.Channel.ReachesWithoutPhone() && d.ContactPhone == ""
}

// ReasonText is a bot's hand-over reason in the reader's language: its code translated,
// with the detail (the keyword, the model's words, the provider's error).
func ReasonText(ctx context.Context, reason string) string {
	code, detail, _ := strings.Cut(reason, ": ")
	if code == "" {
		return ""
	}
	return ui.T(ctx, "bot.reason."+code, "detail", detail)
}

func personaSelected(d OpenData, id int64) bool {
	if d.Conv.PersonaID != nil {
		return *d.Conv.PersonaID == id
	}
	return d.Channel.PersonaID != nil && *d.Channel.PersonaID == id
}

// threadItem is a message or a voice call of the thread.
type threadItem struct {
	Msg  *model.Message
	Call *model.Call
}

// threadItems puts the page's calls among its messages by time, oldest first.
func threadItems(d ThreadData) []threadItem {
	out := make([]threadItem, 0, len(d.Messages)+len(d.Calls))
	k := 0
	for i := range d.Messages {
		for k < len(d.Calls) && d.Calls[k].CreatedAt.Before(d.Messages[i].CreatedAt) {
			out = append(out, threadItem{Call: &d.Calls[k]})
			k++
		}
		out = append(out, threadItem{Msg: &d.Messages[i]})
	}
	for ; k < len(d.Calls); k++ {
		out = append(out, threadItem{Call: &d.Calls[k]})
	}
	return out
}
