package events

import (
	"time"

	"masteria/app/model"
)

// The catalogue: every event the app publishes, with its payload type and what it means.
// Publish and Signal refuse any other name or payload, the SSE stream skips anything not
// listed, and `go generate ./app/events` writes the README's "Live events" list from it.
// Add an event here before publishing it; keep payloads additive (webhook receivers and open
// pages read them).
var (
	OrgRenamed = define[IDName]("org.renamed", "The org's name changed.")

	MemberInvited     = define[MemberInvite]("member.invited", "Someone was invited to join the org with a role.")
	MemberJoined      = define[Member]("member.joined", "An invited person accepted and is now a member.")
	MemberRoleChanged = define[Member]("member.role_changed", "A member's role changed.")
	MemberRemoved     = define[MemberRef]("member.removed", "A member was removed from the org.")
	InviteRevoked     = define[InviteRef]("invite.revoked", "A pending invitation was revoked.")
	APIKeyCreated     = define[IDName]("apikey.created", "An API key was created.")
	APIKeyRevoked     = define[IDName]("apikey.revoked", "An API key was revoked.")

	ContactCreated  = define[ContactNew]("contact.created", "A contact was created (by hand, the API or a first inbound message).")
	ContactUpdated  = define[ContactRef]("contact.updated", "A contact's fields, tags or opt-outs changed.")
	ContactsChanged = define[ContactsBulk]("contacts.changed", "A bulk action (tag, untag, owner, opt-out) changed many contacts.")
	ContactsDeleted = define[ContactIDs]("contacts.deleted", "Contacts were deleted.")
	ContactMerged   = define[ContactMerge]("contact.merged", "Two contacts became one: everything of the removed one moved to the kept one.")
	ImportProgress  = define[Import]("import.progress", "A contact import advanced or finished, with its counters.")

	LeadCreated     = define[LeadPlaced]("lead.created", "A lead was added to a stage of a pipeline.")
	LeadUpdated     = define[LeadRef]("lead.updated", "A lead's fields changed.")
	LeadMoved       = define[LeadMove]("lead.moved", "A lead moved to another place or stage on the board.")
	LeadDeleted     = define[LeadGone]("lead.deleted", "A lead was deleted.")
	PipelineChanged = define[PipelineRef]("pipeline.changed", "A pipeline or its stages were created, edited, reordered or deleted.")

	LeadAIMoved           = define[LeadAI]("lead.ai_moved", "The AI moved a lead to another stage of its pipeline, sure enough by the pipeline's threshold; with its confidence and reason (a member may undo it).")
	LeadSuggestionCreated = define[LeadAI]("lead.suggestion_created", "The AI suggested another stage for a lead, less sure than the pipeline's threshold: a member accepts or dismisses it.")
	LeadSuggestionClosed  = define[LeadSuggestionEnd]("lead.suggestion_closed", "A lead's AI suggestion was accepted, dismissed, or replaced (a newer one, or the lead moved).")

	ChannelCreated  = define[ChannelNew]("channel.created", "A channel was added to the org.")
	ChannelStatus   = define[ChannelState]("channel.status", "A channel connected, disconnected or failed its check.")
	ChannelQR       = define[ChannelCode]("channel.qr", "A WhatsApp-by-QR channel has a new pairing code to show.")
	TemplatesSynced = define[TemplatesSync]("templates.synced", "A Cloud API channel's message templates were fetched again.")

	KBDocumentStatus = only(define[KBDocState]("kb.document.status", "A knowledge-base document's indexing moved: pending, indexing, ready or failed."), model.ManageKnowledge)

	PersonaCreated = define[PersonaRef]("persona.created", "A bot persona was created.")
	PersonaUpdated = define[PersonaRef]("persona.updated", "A bot persona's instructions, rules or knowledge bases changed.")
	PersonaDeleted = define[PersonaRef]("persona.deleted", "A bot persona was deleted; the channels that ran it have no bot.")
	ChannelBot     = define[ChannelBotRef]("channel.bot", "A channel's bot changed: the persona that answers its new conversations, or none.")

	MessageReceived      = define[MessageIn]("message.received", "A customer's message arrived.")
	MessageCreated       = define[MessageNew]("message.created", "An agent's message or internal note was added to a conversation.")
	MessageUpdated       = define[MessageRef]("message.updated", "A message's content changed (its media finished downloading).")
	MessageStatus        = define[MessageState]("message.status", "A sent message's status moved: sent, delivered, read or failed.")
	ConversationStarted  = define[ConversationStart]("conversation.started", "An agent or the API started a conversation with a contact.")
	ConversationChanged  = define[ConversationChange]("conversation.changed", "A conversation was assigned, labelled, resolved, reopened or read, or changed hands between the bot and people.")
	InboxSettingsChanged = define[model.InboxSettings]("inbox.settings_changed", "The org's inbox settings changed.")

	CampaignCreated         = define[CampaignRef]("campaign.created", "A campaign draft was created.")
	CampaignStarted         = define[CampaignRef]("campaign.started", "A campaign was launched (or resumed) and is sending.")
	CampaignPaused          = define[CampaignPause]("campaign.paused", "A campaign paused: by a user, or by itself with the reason (quality, template, spam, failures, daily limit).")
	CampaignCompleted       = define[CampaignRef]("campaign.completed", "A campaign finished sending: every recipient was sent, failed or skipped.")
	CampaignCancelled       = define[CampaignRef]("campaign.cancelled", "A campaign was cancelled; what was not sent stays unsent.")
	CampaignRecipientStatus = define[CampaignRecipient]("campaign.recipient.status", "A campaign recipient moved: sent, delivered, read, replied, failed or capped; a call campaign's: in a call (sent), answered, waiting for another call (pending) or failed.")
	CampaignProgress        = signal[CampaignRef]("campaign.progress",
		"A campaign's runner finished a batch: its counters changed (not stored, never replayed).", nil)

	CadenceEnrolled = define[CadenceEnrolment]("cadence.enrolled", "Contacts joined a cadence (by hand, a segment, a stage or the API): how many, and the first ids.")
	CadenceStep     = define[CadenceStepRef]("cadence.step", "An enrolment reached, finished or skipped a step of its cadence (sent, waiting, what came of it).")
	CadenceExited   = define[CadenceExit]("cadence.exited", "An enrolment left its cadence: completed, or early with the reason (replied, opted out, stage change, goal, by hand).")

	CallRegistered     = define[CallRef]("call.registered", "A voice call was started from Master IA (a member, a campaign or the API): Retell is dialling.")
	CallStarted        = define[CallRef]("call.started", "A voice call connected (Retell's call_started).")
	CallEnded          = define[CallRef]("call.ended", "A voice call ended, or never connected: its status, reason, duration and transcript are known.")
	CallAnalyzed       = define[CallRef]("call.analyzed", "A voice call was analysed: summary, sentiment, success and custom fields.")
	CallRecordingSaved = define[CallRef]("call.recording_saved", "A voice call's recording was copied into the media store and can be played.")

	AIBudgetSpent = only(define[AIBudget]("ai.budget_spent",
		"The org's monthly AI budget is spent: the bot hands conversations over instead of answering (once a month)."),
		model.ManageKnowledge)

	WebhookTest = define[WebhookPing]("webhook.test",
		"A test ping of an outgoing webhook endpoint, sent from Settings → Webhooks or the API to that endpoint alone.")
	WebhookEndpointDisabled = only(define[WebhookEndpointRef]("webhook.endpoint_disabled",
		"An outgoing webhook endpoint was disabled by its receiver (HTTP 410) or after failing for days; admins are told on the Webhooks page."),
		model.ManageOrg)

	ConversationPresence = signal[Presence]("conversation.presence",
		"A member is viewing or typing in a conversation (not stored, never replayed).", presenceVisible)

	AnalyticsChanged = signal[AnalyticsChange]("analytics.changed",
		"The org's figures changed (the rollups caught up with new rows): open dashboards refresh (at most every few seconds; not stored, never replayed).",
		func(_ AnalyticsChange, a model.Actor) bool { return a.Role.May(model.ViewAnalytics) })
)

// AnalyticsChange says that the org's figures changed; a dashboard reads them again.
type AnalyticsChange struct{}

// WebhookPing is the data of a test ping.
type WebhookPing struct {
	EndpointID int64  `json:"endpoint_id"`
	Message    string `json:"message"`
}

// WebhookEndpointRef is an outgoing webhook endpoint that changed: its URL and why it was
// disabled ("gone": the receiver answered 410; "failing": it failed for days; "manual").
type WebhookEndpointRef struct {
	EndpointID int64  `json:"endpoint_id"`
	URL        string `json:"url"`
	Reason     string `json:"reason"`
}

// AIBudget is what the org's AI calls cost this month, in US dollars.
type AIBudget struct {
	Spent float64 `json:"spent"`
}

// CadenceEnrolment is contacts that joined a cadence.
type CadenceEnrolment struct {
	CadenceID    int64   `json:"cadence_id"`
	Count        int     `json:"count"`
	Source       string  `json:"source"`
	EnrolmentIDs []int64 `json:"enrolment_ids,omitempty"` // the first 100
	ContactID    int64   `json:"contact_id,omitempty"`    // when one contact joined
}

// CadenceStepRef is one step of one enrolment.
type CadenceStepRef struct {
	CadenceID   int64  `json:"cadence_id"`
	EnrolmentID int64  `json:"enrolment_id"`
	ContactID   int64  `json:"contact_id"`
	StepID      string `json:"step_id"`
	Kind        string `json:"kind"`
	Status      string `json:"status"`
	Outcome     string `json:"outcome,omitempty"`
}

// CadenceExit is an enrolment that ended.
type CadenceExit struct {
	CadenceID   int64  `json:"cadence_id"`
	EnrolmentID int64  `json:"enrolment_id"`
	ContactID   int64  `json:"contact_id"`
	Status      string `json:"status"` // completed, exited
	Reason      string `json:"reason,omitempty"`
}

// CallRef is a voice call: our id, Retell's, and the records it is tied to.
type CallRef struct {
	ID             int64  `json:"id"`
	CallID         string `json:"call_id"`
	Direction      string `json:"direction"`
	Status         string `json:"status"`
	ContactID      int64  `json:"contact_id,omitempty"`
	LeadID         int64  `json:"lead_id,omitempty"`
	ConversationID int64  `json:"conversation_id,omitempty"`
	CampaignID     int64  `json:"campaign_id,omitempty"`
	// Outcome is what came of an ended call: answered, voicemail, no_answer, busy or failed.
	Outcome string `json:"outcome,omitempty"`
}

// CampaignRef is a campaign.
type CampaignRef struct {
	CampaignID int64  `json:"campaign_id"`
	Name       string `json:"name,omitempty"`
}

// CampaignPause is a campaign that paused, and why.
type CampaignPause struct {
	CampaignID int64  `json:"campaign_id"`
	Reason     string `json:"reason"`
	Detail     string `json:"detail,omitempty"`
}

// CampaignRecipient is one recipient's new status.
type CampaignRecipient struct {
	CampaignID  int64  `json:"campaign_id"`
	RecipientID int64  `json:"recipient_id"`
	ContactID   int64  `json:"contact_id,omitempty"`
	Status      string `json:"status"`
	ErrorCode   string `json:"error_code,omitempty"`
}

// IDName names a thing by id: the org, an API key.
type IDName struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// MemberInvite is an invitation sent.
type MemberInvite struct {
	InviteID int64      `json:"invite_id"`
	Role     model.Role `json:"role"`
	Email    string     `json:"email"`
}

// InviteRef is an invitation.
type InviteRef struct {
	InviteID int64 `json:"invite_id"`
}

// Member is a member of the org and their role.
type Member struct {
	UserID int64      `json:"user_id"`
	Role   model.Role `json:"role"`
}

// MemberRef is a member of the org.
type MemberRef struct {
	UserID int64 `json:"user_id"`
}

// ContactNew is a contact created.
type ContactNew struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// ContactRef is a contact.
type ContactRef struct {
	ID int64 `json:"id"`
}

// ContactIDs are contacts.
type ContactIDs struct {
	IDs []int64 `json:"ids"`
}

// ContactsBulk is a bulk action over contacts and how many it changed.
type ContactsBulk struct {
	Action string `json:"action"`
	Count  int    `json:"count"`
}

// ContactMerge is a merge of two contacts of the org.
type ContactMerge struct {
	KeptID    int64 `json:"kept_id"`
	RemovedID int64 `json:"removed_id"`
}

// Import is a contact import's state and counters.
type Import struct {
	ImportID  int64  `json:"import_id"`
	Status    string `json:"status"`
	Processed int    `json:"processed"`
	Imported  int    `json:"imported"`
	Updated   int    `json:"updated"`
	Skipped   int    `json:"skipped"`
	Rejected  int    `json:"rejected"`
}

// LeadPlaced is a new lead and where it went: between AfterID and BeforeID (0: an end), with
// its rank key.
type LeadPlaced struct {
	LeadID     int64  `json:"lead_id"`
	PipelineID int64  `json:"pipeline_id"`
	StageID    int64  `json:"stage_id"`
	AfterID    int64  `json:"after_id"`
	BeforeID   int64  `json:"before_id"`
	Rank       string `json:"rank"`
}

// LeadRef is a lead of a pipeline.
type LeadRef struct {
	LeadID     int64 `json:"lead_id"`
	PipelineID int64 `json:"pipeline_id"`
}

// LeadGone is a lead deleted and the stage it was in.
type LeadGone struct {
	LeadID     int64 `json:"lead_id"`
	PipelineID int64 `json:"pipeline_id"`
	StageID    int64 `json:"stage_id"`
}

// LeadMove is a lead's move from one stage to a place in another (or the same) stage.
type LeadMove struct {
	LeadID      int64  `json:"lead_id"`
	PipelineID  int64  `json:"pipeline_id"`
	FromStageID int64  `json:"from_stage_id"`
	ToStageID   int64  `json:"to_stage_id"`
	AfterID     int64  `json:"after_id"`
	BeforeID    int64  `json:"before_id"`
	Rank        string `json:"rank"`
}

// LeadAI is an AI move or suggestion of a lead: from which stage to which, how sure the
// model was (0 to 1) and why.
type LeadAI struct {
	DecisionID  int64   `json:"decision_id"`
	LeadID      int64   `json:"lead_id"`
	PipelineID  int64   `json:"pipeline_id"`
	FromStageID int64   `json:"from_stage_id"`
	ToStageID   int64   `json:"to_stage_id"`
	Confidence  float64 `json:"confidence"`
	Reason      string  `json:"reason"`
}

// LeadSuggestionEnd is an AI suggestion that closed: accepted, dismissed or superseded.
type LeadSuggestionEnd struct {
	DecisionID int64  `json:"decision_id"`
	LeadID     int64  `json:"lead_id"`
	PipelineID int64  `json:"pipeline_id"`
	Status     string `json:"status"`
}

// PipelineRef is a pipeline and, when one changed, its stage.
type PipelineRef struct {
	PipelineID int64 `json:"pipeline_id"`
	StageID    int64 `json:"stage_id,omitempty"`
}

// ChannelNew is a channel added.
type ChannelNew struct {
	ID   int64  `json:"id"`
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// KBDocState is a knowledge-base document's indexing status, and why it failed.
type KBDocState struct {
	KnowledgeBaseID int64  `json:"knowledge_base_id"`
	DocumentID      int64  `json:"document_id"`
	Status          string `json:"status"`
	Error           string `json:"error,omitempty"`
}

// PersonaRef is a bot persona.
type PersonaRef struct {
	PersonaID int64  `json:"persona_id"`
	Name      string `json:"name"`
}

// ChannelBotRef is a channel and the persona its bot now runs (nil: no bot).
type ChannelBotRef struct {
	ChannelID int64  `json:"channel_id"`
	PersonaID *int64 `json:"persona_id"`
}

// ChannelState is a channel's new status.
type ChannelState struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
}

// ChannelCode says a channel has a pairing code, valid until ExpiresAt. The code itself is
// not in the event: pages fetch it.
type ChannelCode struct {
	ID        int64     `json:"id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// TemplatesSync is a channel's template sync and how many templates it has.
type TemplatesSync struct {
	ChannelID int64 `json:"channel_id"`
	Count     int   `json:"count"`
}

// MessageIn is an inbound message and where it went. It is written by the inbound
// statement itself (queries/inbox.sql), with these keys.
type MessageIn struct {
	MessageID      int64 `json:"message_id"`
	ConversationID int64 `json:"conversation_id"`
	ContactID      int64 `json:"contact_id"`
	ChannelID      int64 `json:"channel_id"`
}

// MessageNew is a message added to a conversation; Note is set for an internal note.
type MessageNew struct {
	MessageID      int64 `json:"message_id"`
	ConversationID int64 `json:"conversation_id"`
	Note           bool  `json:"note,omitempty"`
}

// MessageRef is a message of a conversation.
type MessageRef struct {
	MessageID      int64 `json:"message_id"`
	ConversationID int64 `json:"conversation_id"`
}

// MessageState is a message's new status, with the provider's error when it failed.
type MessageState struct {
	MessageID      int64  `json:"message_id"`
	ConversationID int64  `json:"conversation_id"`
	Status         string `json:"status"`
	ErrorCode      string `json:"error_code,omitempty"`
	ErrorTitle     string `json:"error_title,omitempty"`
}

// ConversationStart is a conversation an agent or the API opened with a contact.
type ConversationStart struct {
	ConversationID int64 `json:"conversation_id"`
	ContactID      int64 `json:"contact_id"`
	ChannelID      int64 `json:"channel_id"`
}

// ConversationChange is what changed in a conversation: "assigned", "labels", "read" or its
// new status;
// AssigneeID and Auto say who got it when the round-robin assigned it.
type ConversationChange struct {
	ConversationID int64  `json:"conversation_id"`
	Change         string `json:"change"`
	AssigneeID     int64  `json:"assignee_id,omitempty"`
	Auto           bool   `json:"auto,omitempty"`
	// Owner and Reason come with a change of who answers it: "handed_over" (by the bot,
	// with its reason), "taken_over" (an agent), "given_to_bot".
	Owner  string `json:"owner,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Presence is a member viewing or typing in a conversation. It says whose conversation it
// is, so that the event stream keeps it from agents who may not open it.
type Presence struct {
	ConversationID   int64  `json:"conversation_id"`
	UserID           int64  `json:"user_id"`
	Name             string `json:"name"`
	State            string `json:"state"`
	AssigneeID       int64  `json:"assignee_id,omitempty"`
	AgentsRestricted bool   `json:"agents_restricted,omitempty"`
}

// presenceVisible keeps a presence event from an agent of an org that restricts agents,
// when the conversation is another agent's.
func presenceVisible(p Presence, a model.Actor) bool {
	return a.Role != model.RoleAgent || !p.AgentsRestricted || p.AssigneeID == 0 || p.AssigneeID == a.UserID
}
