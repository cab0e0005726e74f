package model

import (
	"encoding/json"
	"time"
)

// VoiceAccount is an org's Retell connection (migration 00020). Its id names the webhook
// URL Retell posts call events to; the key stays sealed here.
type VoiceAccount struct {
	ID            int64      `db:"id" json:"id"`
	OrgID         int64      `db:"org_id" json:"-"`
	KeySealed     string     `db:"api_key_sealed" json:"-"`
	Status        string     `db:"status" json:"status"` // untested, ok, error
	LastError     string     `db:"last_error" json:"last_error"`
	TestedAt      *time.Time `db:"tested_at" json:"tested_at"`
	MaxConcurrent int        `db:"max_concurrent" json:"max_concurrent"`
	// Calling hours in each contact's time zone: [start, end) on the days of CallDays.
	CallHoursStart int       `db:"call_hours_start" json:"call_hours_start"`
	CallHoursEnd   int       `db:"call_hours_end" json:"call_hours_end"`
	CallDays       int       `db:"call_days" json:"call_days"` // a bit per weekday, Sunday 0
	CreatedAt      time.Time `db:"created_at" json:"created_at"`
	UpdatedAt      time.Time `db:"updated_at" json:"updated_at"`
}

// The steps of a number's set-up, in order.
const (
	NumberBought      = "bought"
	NumberTrunk       = "trunk"
	NumberOrigination = "origination"
	NumberCredentials = "credentials"
	NumberAttached    = "attached"
	NumberImported    = "imported"
	NumberReady       = "ready"
)

// The steps of a number's release, in order (migration 00025).
const (
	ReleaseRetell      = "retell"      // removed from Retell
	ReleaseDetach      = "detach"      // taken off its trunk
	ReleaseCredentials = "credentials" // the trunk's credential list deleted
	ReleaseOrigination = "origination" // the trunk's origination URL deleted
	ReleaseTrunk       = "trunk"       // the trunk deleted
	ReleaseNumber      = "number"      // the number given back to Twilio
)

// VoiceNumber is a phone number the org calls from and is called on, with how far its
// set-up went.
type VoiceNumber struct {
	ID                int64  `db:"id" json:"id"`
	OrgID             int64  `db:"org_id" json:"-"`
	PhoneNumber       string `db:"phone_number" json:"phone_number"`
	Source            string `db:"source" json:"source"` // twilio, linked
	Country           string `db:"country" json:"country"`
	Step              string `db:"step" json:"step"`
	Status            string `db:"status" json:"status"` // in_progress, failed, ready, releasing, release_failed
	LastError         string `db:"last_error" json:"last_error,omitempty"`
	TwilioNumberSID   string `db:"twilio_number_sid" json:"-"`
	TrunkSID          string `db:"trunk_sid" json:"-"`
	TerminationURI    string `db:"termination_uri" json:"termination_uri,omitempty"`
	OriginationURLSID string `db:"origination_url_sid" json:"-"`
	CredentialListSID string `db:"credential_list_sid" json:"-"`
	SIPUsername       string `db:"sip_username" json:"-"`
	SIPPasswordSealed string `db:"sip_password_sealed" json:"-"`
	InboundAgentID    string `db:"inbound_agent_id" json:"inbound_agent_id"`
	OutboundAgentID   string `db:"outbound_agent_id" json:"outbound_agent_id"`
	Nickname          string `db:"nickname" json:"nickname"`
	TwilioChannelID   *int64 `db:"twilio_channel_id" json:"-"` // the Twilio account it was bought with (migration 00022)
	// ReleaseStep is the release's next step ('' when none began, migration 00025), and
	// ReleaseFromRetell whether the release takes it out of Retell too.
	ReleaseStep       string    `db:"release_step" json:"release_step,omitempty"`
	ReleaseFromRetell bool      `db:"release_from_retell" json:"-"`
	CreatedAt         time.Time `db:"created_at" json:"created_at"`
	UpdatedAt         time.Time `db:"updated_at" json:"updated_at"`
}

// Call statuses, as Retell reports them.
const (
	CallRegistered   = "registered"
	CallOngoing      = "ongoing"
	CallEnded        = "ended"
	CallNotConnected = "not_connected"
	CallError        = "error"
)

// Call is one voice call, inbound or outbound, as Retell's events told it.
type Call struct {
	ID                  int64           `db:"id" json:"id"`
	OrgID               int64           `db:"org_id" json:"-"`
	CallID              string          `db:"call_id" json:"call_id"`
	NumberID            *int64          `db:"number_id" json:"number_id"`
	ContactID           *int64          `db:"contact_id" json:"contact_id"`
	LeadID              *int64          `db:"lead_id" json:"lead_id"`
	ConversationID      *int64          `db:"conversation_id" json:"conversation_id"`
	CampaignID          *int64          `db:"campaign_id" json:"campaign_id"`
	Direction           string          `db:"direction" json:"direction"`
	FromNumber          string          `db:"from_number" json:"from_number"`
	ToNumber            string          `db:"to_number" json:"to_number"`
	AgentID             string          `db:"agent_id" json:"agent_id"`
	AgentName           string          `db:"agent_name" json:"agent_name"`
	Status              string          `db:"status" json:"status"`
	EventRank           int             `db:"event_rank" json:"-"`
	DisconnectionReason string          `db:"disconnection_reason" json:"disconnection_reason"`
	StartedAt           *time.Time      `db:"started_at" json:"started_at"`
	EndedAt             *time.Time      `db:"ended_at" json:"ended_at"`
	DurationMS          int64           `db:"duration_ms" json:"duration_ms"`
	RecordingURL        string          `db:"recording_url" json:"-"`
	RecordingFileID     *int64          `db:"recording_file_id" json:"recording_file_id"`
	Transcript          string          `db:"transcript" json:"transcript"`
	TranscriptObject    json.RawMessage `db:"transcript_object" json:"transcript_object"`
	Summary             string          `db:"summary" json:"summary"`
	Sentiment           string          `db:"sentiment" json:"sentiment"`
	Successful          *bool           `db:"successful" json:"successful"`
	InVoicemail         *bool           `db:"in_voicemail" json:"in_voicemail"`
	CustomAnalysis      json.RawMessage `db:"custom_analysis" json:"custom_analysis"`
	CostCents           float64         `db:"cost_cents" json:"cost_cents"`
	Metadata            json.RawMessage `db:"metadata" json:"metadata"`
	DynamicVariables    json.RawMessage `db:"dynamic_variables" json:"dynamic_variables"`
	CreatedAt           time.Time       `db:"created_at" json:"created_at"`
	UpdatedAt           time.Time       `db:"updated_at" json:"updated_at"`
}

// What came of a call, in the terms campaigns, cadences and lead progression act on.
const (
	OutcomeAnswered  = "answered"  // a person talked to the agent
	OutcomeVoicemail = "voicemail" // a voicemail or an IVR answered
	OutcomeNoAnswer  = "no_answer" // it rang out, or never connected
	OutcomeBusy      = "busy"      // the line was busy, or the person declined
	OutcomeFailed    = "failed"    // it could not be placed (a bad number, an error)
)

// Outcome says what came of the call ("" while it is live). It reads the call as the
// analytics do (queries/voice_calls.sql): an ended call is answered unless it ended in
// one of the dial failures, and an answered call that reached a voicemail or an IVR is
// voicemail.
func (c Call) Outcome() string {
	switch c.Status {
	case CallRegistered, CallOngoing:
		return ""
	}
	r := c.DisconnectionReason
	switch r {
	case "dial_busy", "user_declined":
		return OutcomeBusy
	case "dial_no_answer", "registered_call_timeout":
		return OutcomeNoAnswer
	case "dial_failed", "invalid_destination", "marked_as_spam", "scam_detected", "concurrency_limit_reached",
		"no_concurrency_fallback", "no_valid_payment", "sip_routing_error", "telephony_provider_permission_denied",
		"telephony_provider_unavailable":
		return OutcomeFailed
	}
	switch {
	case c.Status == CallNotConnected:
		return OutcomeNoAnswer
	case c.Status == CallError || (len(r) > 6 && r[:6] == "error_"):
		return OutcomeFailed
	case (c.InVoicemail != nil && *c.InVoicemail) || r == "voicemail_reached" || r == "ivr_reached":
		return OutcomeVoicemail
	}
	return OutcomeAnswered
}
