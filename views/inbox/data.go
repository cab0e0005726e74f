// Package inbox renders the shared inbox (conversation list, thread, contact panel and
// composer) and the channel settings.
package inbox

import (
	"net/url"
	"strconv"
	"time"

	"masteria/app/model"
)

// Kinds lists the channel kinds in the order the settings page offers them; only the
// sandbox can be connected from the page for now.
var Kinds = []struct {
	Kind, Key string
	Ready     bool
}{
	{model.KindSandbox, "channels.kind.sandbox", true},
	{model.KindWhatsAppCloud, "channels.kind.whatsapp_cloud", false},
	{model.KindWhatsAppQR, "channels.kind.whatsapp_qr", false},
	{model.KindTwilioSMS, "channels.kind.twilio_sms", false},
}

// ChannelsData is the channel settings page.
type ChannelsData struct {
	Channels []model.Channel
	Kind     string            // the form's chosen kind
	Name     string            // the form's typed name
	Errors   map[string]string // field → i18n key
}

// Filter is the conversation list's filter, as the URL carries it.
type Filter struct {
	View      string // mine, unassigned, all
	Status    string // open, pending, closed, "" for any
	ChannelID int64
	Query     string
}

// Values is the filter as URL query values, without the empty ones.
func (f Filter) Values() url.Values {
	v := url.Values{}
	if f.View != "" {
		v.Set("view", f.View)
	}
	if f.Status != "" {
		v.Set("status", f.Status)
	}
	if f.ChannelID != 0 {
		v.Set("channel", strconv.FormatInt(f.ChannelID, 10))
	}
	if f.Query != "" {
		v.Set("q", f.Query)
	}
	return v
}

// Encode is the filter as a query string with its "?", or "".
func (f Filter) Encode() string {
	if e := f.Values().Encode(); e != "" {
		return "?" + e
	}
	return ""
}

// With is the query string of the filter with one key changed.
func (f Filter) With(key, value string) string {
	v := f.Values()
	if value == "" {
		v.Del(key)
	} else {
		v.Set(key, value)
	}
	if e := v.Encode(); e != "" {
		return "?" + e
	}
	return ""
}

// ListData is the conversation list.
type ListData struct {
	Filter   Filter
	Items    []model.Conversation
	Next     string // cursor of the next page, "" at the end
	After    string // cursor this page started at
	OpenID   int64  // the conversation open beside the list
	Unread   int64  // unread conversations the member sees, for the page title
	Channels map[int64]model.Channel
	Members  map[int64]string // user id → name
	AnyYet   bool             // the org has channels
}

// ThreadData is one conversation's messages, oldest first.
type ThreadData struct {
	Conv     model.Conversation
	Messages []model.Message
	OlderID  int64 // load messages before this id; 0 when there are none
	Members  map[int64]string
	Filter   Filter
}

// OpenData is the open conversation: its header, thread, composer and contact.
type OpenData struct {
	Conv          model.Conversation
	Channel       model.Channel
	Contact       model.Contact
	ContactPhone  string
	Tags          []model.Tag
	Thread        ThreadData
	Members       []model.Membership
	MemberNames   map[int64]string
	WindowClosed  bool   // WhatsApp's 24-hour window: only templates may be sent
	Body          string // the composer's text after a refused send
	ComposerError string // i18n key
	Filter        Filter
	Now           time.Time
}

// PageData is the whole inbox page.
type PageData struct {
	List ListData
	Open *OpenData
}
