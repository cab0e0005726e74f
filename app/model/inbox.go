package model

import (
	"encoding/json"
	"time"
)

// Channel kinds.
const (
	KindWhatsAppCloud = "whatsapp_cloud"
	KindWhatsAppQR    = "whatsapp_qr"
	KindTwilioSMS     = "twilio_sms"
	KindSandbox       = "sandbox"
)

// Channel is a connected number an org talks to customers through.
type Channel struct {
	ID        int64           `db:"id" json:"id"`
	OrgID     int64           `db:"org_id" json:"-"`
	Kind      string          `db:"kind" json:"kind"`
	Name      string          `db:"name" json:"name"`
	Config    json.RawMessage `db:"config" json:"config"`
	Secrets   string          `db:"secrets" json:"-"` // sealed by app/vault
	Status    string          `db:"status" json:"status"`
	LastError string          `db:"last_error" json:"last_error,omitempty"`
	Rate      float64         `db:"rate" json:"rate"`
	CreatedAt time.Time       `db:"created_at" json:"created_at"`
	UpdatedAt time.Time       `db:"updated_at" json:"updated_at"`
	// PersonaID is the persona the bot answers this channel's conversations with (nil: no bot).
	PersonaID *int64 `db:"persona_id" json:"persona_id"`
}

// OptOutKind is the contact opt-out a channel kind obeys.
func (c Channel) OptOutKind() string {
	if c.Kind == KindTwilioSMS {
		return ChannelSMS
	}
	return ChannelWhatsApp
}

// Conversation is the thread between an org and a contact on one channel.
type Conversation struct {
	ID            int64      `db:"id" json:"id"`
	OrgID         int64      `db:"org_id" json:"-"`
	ChannelID     int64      `db:"channel_id" json:"channel_id"`
	ContactID     int64      `db:"contact_id" json:"contact_id"`
	ContactName   string     `db:"contact_name" json:"contact_name"`
	ContactPhone  *string    `db:"contact_phone" json:"contact_phone"`
	Status        string     `db:"status" json:"status"`
	AssigneeID    *int64     `db:"assignee_id" json:"assignee_id"`
	Unread        int        `db:"unread" json:"unread"`
	LastMessageAt time.Time  `db:"last_message_at" json:"last_message_at"`
	LastInboundAt *time.Time `db:"last_inbound_at" json:"last_inbound_at"`
	Preview       string     `db:"preview" json:"preview"`
	Labels        Labels     `db:"labels" json:"labels"`
	CreatedAt     time.Time  `db:"created_at" json:"created_at"`
	// Who answers it now (OwnerBot, OwnerWaiting, OwnerHuman, OwnerClosed), the persona of
	// this conversation alone, whether an agent stopped the bot here, how many replies the
	// bot gave, and the last hand-over's reason and summary for the agent.
	Owner           string     `db:"owner" json:"owner"`
	PersonaID       *int64     `db:"persona_id" json:"persona_id"`
	BotStopped      bool       `db:"bot_stopped" json:"bot_stopped"`
	BotTurns        int        `db:"bot_turns" json:"bot_turns"`
	BotReadTo       int64      `db:"bot_read_to" json:"-"`
	HandoverReason  string     `db:"handover_reason" json:"handover_reason,omitempty"`
	HandoverSummary string     `db:"handover_summary" json:"handover_summary,omitempty"`
	HandoverAt      *time.Time `db:"handover_at" json:"handover_at,omitempty"`
	// Snippet is, in a search's results, an extract of the newest message the search
	// matched, each match between SnippetMark and SnippetEnd; "" when only the contact matched.
	Snippet string `db:"-" json:"-"`
}

// The characters around each match in Conversation.Snippet (private-use ones, which no
// keyboard types; the database's search_headline() writes them).
const (
	SnippetMark = '\uE000'
	SnippetEnd  = '\uE001'
)

// ServiceWindow is how long after the customer's last message WhatsApp lets a business
// answer with free text; after it only approved templates may be sent.
const ServiceWindow = 24 * time.Hour

// WindowOpen tells whether free text may be sent now.
func (c Conversation) WindowOpen(now time.Time) bool {
	return c.LastInboundAt != nil && now.Sub(*c.LastInboundAt) < ServiceWindow
}

// Message statuses, in the order they can only move forward; failed ends a send.
const (
	StatusReceived  = "received"
	StatusQueued    = "queued"
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusFailed    = "failed"
)

// StatusRank orders outbound statuses, so a late "delivered" never undoes a "read".
func StatusRank(s string) int {
	switch s {
	case StatusQueued:
		return 1
	case StatusSent:
		return 2
	case StatusDelivered:
		return 3
	case StatusRead:
		return 4
	case StatusFailed:
		return 5
	}
	return 0
}

// Why a message failed before it reached the provider: Message.ErrorCode values set by the
// inbox itself. The screens show them translated (the key of SendFailureKey).
const (
	FailNoPhone             = "no_phone"
	FailOptedOut            = "opted_out"
	FailChannelDisconnected = "channel_disconnected"
)

// SendFailures are the failure codes the screens translate: the inbox's own and the
// providers' most common (Meta's outside-the-window and undeliverable, Twilio's
// unsubscribed, unreachable, unknown and landline numbers). Others show the provider's text.
var SendFailures = []string{FailNoPhone, FailOptedOut, FailChannelDisconnected, "131047", "131026", "21610", "30003", "30005", "30006"}

// SendFailureKey is the i18n key of a failure code's explanation.
func SendFailureKey(code string) string { return "inbox.fail." + code }

// Message is one message of a conversation: from the customer (in), to them (out), or an
// internal note between agents (note).
type Message struct {
	ID             int64           `db:"id" json:"id"`
	OrgID          int64           `db:"org_id" json:"-"`
	ConversationID int64           `db:"conversation_id" json:"conversation_id"`
	ChannelID      int64           `db:"channel_id" json:"channel_id"`
	Direction      string          `db:"direction" json:"direction"`
	Kind           string          `db:"kind" json:"kind"`
	Body           string          `db:"body" json:"body"`
	Content        json.RawMessage `db:"content" json:"content"`
	ProviderID     *string         `db:"provider_id" json:"provider_id"`
	Status         string          `db:"status" json:"status"`
	ErrorCode      string          `db:"error_code" json:"error_code,omitempty"`
	ErrorTitle     string          `db:"error_title" json:"error_title,omitempty"`
	SenderID       *int64          `db:"sender_id" json:"sender_id"`
	CreatedAt      time.Time       `db:"created_at" json:"created_at"`
	StatusAt       time.Time       `db:"status_at" json:"status_at"`
}

// MarshalJSON writes a status time that was never set (a queued message) as null rather
// than year 1, and a message without type data with an empty content object, so every
// answer has the same shape.
func (m Message) MarshalJSON() ([]byte, error) {
	type plain Message
	out := struct {
		plain
		Content  json.RawMessage `json:"content"`
		StatusAt *time.Time      `json:"status_at"`
	}{plain: plain(m), Content: m.Content}
	if len(out.Content) == 0 || string(out.Content) == "null" {
		out.Content = json.RawMessage("{}")
	}
	if !m.StatusAt.IsZero() {
		out.StatusAt = &m.StatusAt
	}
	return json.Marshal(out)
}

// Preview is a conversation's preview line of a message: its first 120 characters, or its
// kind in brackets when it has no text (a photo, a sticker).
func Preview(kind, body string) string {
	if body == "" {
		return "[" + kind + "]"
	}
	if r := []rune(body); len(r) > 120 {
		return string(r[:120]) + "…"
	}
	return body
}
