// Package inbox renders the shared inbox (conversation list, thread, contact panel and
// composer) and the channel settings.
package inbox

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"masteria/app/model"
	"masteria/views/ui"
	"masteria/views/voice"
)

// KindOption is a channel kind as the settings page offers it: its labels. Which kinds
// exist, which can be connected and what each asks for are model.ConnectionKinds,
// model.ChannelKindReady and model.ChannelFields.
type KindOption struct {
	Kind, Key string
	Hint      string // i18n key of the line under the kind's name
	Ready     bool   // can be connected from the page
}

// Kinds lists the channel kinds in the order the settings page offers them.
var Kinds = func() []KindOption {
	out := make([]KindOption, len(model.ConnectionKinds))
	for i, k := range model.ConnectionKinds {
		out[i] = KindOption{k, "channels.kind." + k, "channels.kind." + k + "_hint", model.ChannelKindReady(k)}
	}
	return out
}()

// KindField is one setting a channel kind asks for (model.ChannelField).
type KindField = model.ChannelField

// KindFields lists, per kind, what the connect form asks for besides the name.
var KindFields = model.ChannelFields

// WebhookURL is where the provider of ch posts its messages and statuses, to paste in
// its console; "" for kinds without one.
func WebhookURL(base string, ch model.Channel) string {
	switch ch.Kind {
	case model.KindWhatsAppCloud:
		return base + "/webhooks/whatsapp/" + strconv.FormatInt(ch.ID, 10)
	case model.KindTwilioSMS:
		return base + "/webhooks/twilio/" + strconv.FormatInt(ch.ID, 10)
	}
	return ""
}

// ChannelsData is the channel settings page.
type ChannelsData struct {
	Channels []model.Channel
	BaseURL  string            // the app's public URL, for webhook URLs
	Kind     string            // the form's chosen kind
	Name     string            // the form's typed name
	Values   map[string]string // the form's other typed values, secrets left out
	Errors   map[string]string // field → i18n key
	Created  *model.Channel    // the channel just connected, whose webhook URL to show
}

// Filter is the conversation list's filter, as the URL carries it.
type Filter struct {
	View      string // mine, unassigned, all
	Status    string // open, pending, closed, "" for any
	ChannelID int64
	Query     string
	Label     string
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
	if f.Label != "" {
		v.Set("label", f.Label)
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
	Labels   []string         // the org's labels in use, for the label filter
}

// ThreadData is one conversation's messages, oldest first.
type ThreadData struct {
	Conv     model.Conversation
	Messages []model.Message
	OlderID  int64 // load messages before this id; 0 when there are none
	Members  map[int64]string
	Filter   Filter
	AI       map[int64]model.AIReply // the bot's replies among Messages: their sources, model and cost
	// Calls are the voice calls of the conversation within this page's time, oldest first.
	Calls []model.Call
	// UnseenMentions: notes here mention the reader and they have not seen them yet (the
	// thread marks them seen, as it marks the conversation read).
	UnseenMentions bool
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
	Labels        LabelsData          // the conversation's labels and their form
	Leads         []model.ContactLead // the contact's leads with their stage
	LeadStages    []model.StageOption // where a lead made from the conversation may go
	Personas      []model.Persona     // the org's personas, to give the conversation to the bot
	PersonaName   string              // the persona answering it, when the bot has it
	Assist        *AssistView         // the agent assist's answer, on a page sent without JavaScript
	CallFrom      []voice.CallNumber  // the numbers the contact can be called from
}

// PageData is the whole inbox page.
type PageData struct {
	List ListData
	Open *OpenData
	// BudgetSpent: the org's monthly AI budget is spent and the bot hands over instead of
	// answering (shown to those who manage the AI).
	BudgetSpent bool
}

// formKind is the kind the connect form shows: the chosen one when it can be connected,
// the sandbox otherwise.
func formKind(kind string) string {
	if model.ChannelKindReady(kind) {
		return kind
	}
	return model.KindSandbox
}

func fieldLabel(ctx context.Context, f KindField) string {
	l := ui.T(ctx, "channels.field."+f.Name)
	if f.Optional {
		l += " (" + ui.T(ctx, "channels.optional") + ")"
	}
	return l
}

// fieldValue is what the form shows again after a refusal: never a secret.
func fieldValue(d ChannelsData, f KindField) string {
	if f.Secret {
		return ""
	}
	return d.Values[f.Name]
}

func fieldAttrs(f KindField) templ.Attributes {
	a := templ.Attributes{"autocomplete": "off", "data-testid": "channel-" + f.Name, "maxlength": "1024"}
	if f.Secret {
		a["autocomplete"] = "new-password"
	}
	if f.Required {
		a["required"] = true
	}
	if f.Type == "tel" {
		a["placeholder"] = "+5511999990000"
	}
	return a
}
