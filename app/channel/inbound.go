package channel

import (
	"context"
	"encoding/json"
	"time"

	"masteria/app/model"
)

// Inbound is a customer's message as a channel parsed it, whatever the provider.
type Inbound struct {
	From string // E.164; empty when the provider withholds it (a WhatsApp username user)
	// The sender's other identities, any of which finds the contact: WhatsApp's
	// business-scoped user id, its parent id and username (Cloud API), the JID or LID
	// (WhatsApp by QR).
	UserID, ParentUserID, Username string
	JID, LID                       string
	Name                           string // the profile name the provider gives, if any
	ProviderID                     string
	Kind                           string
	Body                           string
	Content                        json.RawMessage
	At                             time.Time
	// NewPhone and NewUserID are an identity change the provider reports (a "system"
	// message: the person changed number or got a new user id); the contact keeps both.
	NewPhone, NewUserID, NewParentUserID string
	// SharedPhone is the person's own number, shared when the business asked for it.
	SharedPhone string
	// Keyword is an SMS opt-out ("stop": STOP, SAIR, PARAR) or opt-in ("start") the
	// provider's channel recognised in the text.
	Keyword string
}

// Received says where an inbound message went.
type Received struct {
	MessageID, ConversationID, ContactID int64
	Duplicate                            bool
}

// StatusUpdate is a provider's report on a message the business sent: sent, delivered,
// read or failed (with the provider's code and title).
type StatusUpdate struct {
	ProviderID, Status, ErrorCode, ErrorTitle string
	// Ref is the Outbound.Ref the provider echoes (Cloud API biz_opaque_callback_data, a
	// query parameter of Twilio's StatusCallback URL): it names the send even when its
	// answer, and so its ProviderID, was lost in a crash.
	Ref string
}

// Notice is a provider's word about the account rather than one message: a template's
// status or quality changed, or the number's quality or messaging limit did.
type Notice struct {
	Kind string // one of the Notice* kinds
	// Template and Language name the template of template notices.
	Template, Language string
	// Event is the provider's word: APPROVED, PAUSED, DISABLED, REJECTED… for templates;
	// DOWNGRADE, UPGRADE, FLAGGED, UNFLAGGED… for the number's quality.
	Event  string
	Reason string
	// Quality is the new rating where the notice carries one (GREEN, YELLOW, RED).
	Quality string
	// Limit is the business-initiated messaging limit (unique people per moving 24 hours)
	// where the notice carries one: -1 unlimited, 0 not given.
	Limit int
}

// Notice kinds.
const (
	NoticeTemplateStatus  = "template_status"
	NoticeTemplateQuality = "template_quality"
	NoticeNumberQuality   = "number_quality"
	NoticeMessagingLimit  = "messaging_limit"
)

// NoticeReceiver is a Receiver that also takes notices (the inbox, which passes them on to
// campaigns).
type NoticeReceiver interface {
	Notice(ctx context.Context, ch model.Channel, n Notice) error
}

// Receiver takes what channels receive: the inbox implements it, so providers know no area.
type Receiver interface {
	Receive(ctx context.Context, ch model.Channel, in Inbound) (Received, error)
	Status(ctx context.Context, ch model.Channel, st StatusUpdate) error
}
