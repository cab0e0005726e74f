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

// VoiceNumber is a phone number the org calls from and is called on, with how far its
// set-up went.
type VoiceNumber struct {
	ID                int64     `db:"id" json:"id"`
	OrgID             int64     `db:"org_id" json:"-"`
	PhoneNumber       string    `db:"phone_number" json:"phone_number"`
	Source            string    `db:"source" json:"source"` // twilio, linked
	Country           string    `db:"country" json:"country"`
	Step              string    `db:"step" json:"step"`
	Status            string    `db:"status" json:"status"` // in_progress, failed, ready
	LastError         string    `db:"last_error" json:"last_error,omitempty"`
	TwilioNumberSID   string    `db:"twilio_number_sid" json:"-"`
	TrunkSID          string    `db:"trunk_sid" json:"-"`
	TerminationURI    string    `db:"termination_uri" json:"termination_uri,omitempty"`
	OriginationURLSID string    `db:"origination_url_sid" json:"-"`
	CredentialListSID string    `db:"credential_list_sid" json:"-"`
	SIPUsername       string    `db:"sip_username" json:"-"`
	SIPPasswordSealed string    `db:"sip_password_sealed" json:"-"`
	InboundAgentID    string    `db:"inbound_agent_id" json:"inbound_agent_id"`
	OutboundAgentID   string    `db:"outbound_agent_id" json:"outbound_agent_id"`
	Nickname          string    `db:"nickname" json:"nickname"`
	TwilioChannelID   *int64    `db:"twilio_channel_id" json:"-"` // the Twilio account it was bought with (migration 00022)
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
