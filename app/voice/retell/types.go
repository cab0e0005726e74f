package retell

import "encoding/json"

// Agent is one Retell voice or chat agent, as either list-agents endpoint returns it.
type Agent struct {
	AgentID   string `json:"agent_id"`
	AgentName string `json:"agent_name,omitempty"`
	Channel   string `json:"channel,omitempty"` // voice, chat (new list)
	Version   int    `json:"version,omitempty"` // old list
	VoiceID   string `json:"voice_id,omitempty"`
	// LastModification is the old list's last_modification_timestamp, UserModified the
	// new list's user_modified_timestamp (ms).
	LastModification int64 `json:"last_modification_timestamp,omitempty"`
	UserModified     int64 `json:"user_modified_timestamp,omitempty"`
}

// AgentWeight is one agent of a number's inbound or outbound agents (weights sum to 1).
type AgentWeight struct {
	AgentID      string  `json:"agent_id"`
	Weight       float64 `json:"weight"`
	AgentVersion *int    `json:"agent_version,omitempty"`
}

// ImportPhoneNumber is the body of POST /import-phone-number: a number on the org's own
// SIP trunk (for Twilio, TerminationURI is the trunk's <name>.pstn.twilio.com).
type ImportPhoneNumber struct {
	PhoneNumber            string        `json:"phone_number"`
	TerminationURI         string        `json:"termination_uri"`
	SIPTrunkAuthUsername   string        `json:"sip_trunk_auth_username,omitempty"`
	SIPTrunkAuthPassword   string        `json:"sip_trunk_auth_password,omitempty"`
	Transport              string        `json:"transport,omitempty"` // TLS, TCP (default), UDP
	Nickname               string        `json:"nickname,omitempty"`
	InboundAgents          []AgentWeight `json:"inbound_agents,omitempty"`
	OutboundAgents         []AgentWeight `json:"outbound_agents,omitempty"`
	InboundWebhookURL      string        `json:"inbound_webhook_url,omitempty"`
	AllowedInboundCountry  []string      `json:"allowed_inbound_country_list,omitempty"`
	AllowedOutboundCountry []string      `json:"allowed_outbound_country_list,omitempty"`
}

// SIPOutboundTrunk is how Retell reaches the trunk of an imported number (no password).
type SIPOutboundTrunk struct {
	TerminationURI string `json:"termination_uri,omitempty"`
	AuthUsername   string `json:"auth_username,omitempty"`
	Transport      string `json:"transport,omitempty"`
}

// PhoneNumber is Retell's phone-number object.
type PhoneNumber struct {
	PhoneNumber       string            `json:"phone_number"`
	PhoneNumberPretty string            `json:"phone_number_pretty,omitempty"`
	PhoneNumberType   string            `json:"phone_number_type"` // retell-twilio, retell-telnyx, custom
	Nickname          string            `json:"nickname,omitempty"`
	AreaCode          int               `json:"area_code,omitempty"`
	InboundAgents     []AgentWeight     `json:"inbound_agents,omitempty"`
	OutboundAgents    []AgentWeight     `json:"outbound_agents,omitempty"`
	InboundWebhookURL string            `json:"inbound_webhook_url,omitempty"`
	SIPOutboundTrunk  *SIPOutboundTrunk `json:"sip_outbound_trunk_config,omitempty"`
	LastModification  int64             `json:"last_modification_timestamp"`
}

// CreatePhoneCall is the body of POST /v2/create-phone-call.
type CreatePhoneCall struct {
	FromNumber           string            `json:"from_number"`
	ToNumber             string            `json:"to_number"`
	OverrideAgentID      string            `json:"override_agent_id,omitempty"`
	OverrideAgentVersion any               `json:"override_agent_version,omitempty"` // int or a tag
	Metadata             json.RawMessage   `json:"metadata,omitempty"`
	DynamicVariables     map[string]string `json:"retell_llm_dynamic_variables,omitempty"`
	CustomSIPHeaders     map[string]string `json:"custom_sip_headers,omitempty"`
	IgnoreE164Validation bool              `json:"ignore_e164_validation,omitempty"`
}

// Call statuses.
const (
	StatusRegistered   = "registered"
	StatusOngoing      = "ongoing"
	StatusEnded        = "ended"
	StatusNotConnected = "not_connected"
	StatusError        = "error"
)

// Webhook events: the three every agent sends, and those an agent's webhook_events can add
// (transcript_updated carries transcript_with_tool_calls; transfer_* carry
// transfer_destination and transfer_option).
const (
	EventCallStarted       = "call_started"
	EventCallEnded         = "call_ended"
	EventCallAnalyzed      = "call_analyzed"
	EventTranscriptUpdated = "transcript_updated"
	EventTransferStarted   = "transfer_started"
	EventTransferBridged   = "transfer_bridged"
	EventTransferCancelled = "transfer_cancelled"
	EventTransferEnded     = "transfer_ended"
)

// Some disconnection reasons (the full list is in Retell's call object).
const (
	ReasonUserHangup       = "user_hangup"
	ReasonAgentHangup      = "agent_hangup"
	ReasonCallTransfer     = "call_transfer"
	ReasonVoicemail        = "voicemail_reached"
	ReasonDialBusy         = "dial_busy"
	ReasonDialFailed       = "dial_failed"
	ReasonDialNoAnswer     = "dial_no_answer"
	ReasonConcurrencyLimit = "concurrency_limit_reached"
	ReasonTransferBridged  = "transfer_bridged"
)

// Word is one word of an utterance, with its times in seconds from the call's start.
type Word struct {
	Word  string  `json:"word"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

// Utterance is one turn of transcript_object.
type Utterance struct {
	Role    string `json:"role"` // agent, user, transfer_target
	Content string `json:"content"`
	Words   []Word `json:"words,omitempty"`
}

// CallAnalysis is what Retell's post-call analysis found (call_analyzed and later).
type CallAnalysis struct {
	CallSummary        string          `json:"call_summary,omitempty"`
	UserSentiment      string          `json:"user_sentiment,omitempty"` // Negative, Positive, Neutral, Unknown
	CallSuccessful     *bool           `json:"call_successful,omitempty"`
	InVoicemail        *bool           `json:"in_voicemail,omitempty"`
	CustomAnalysisData json.RawMessage `json:"custom_analysis_data,omitempty"`
}

// ProductCost is one line of a call's cost (cents).
type ProductCost struct {
	Product           string  `json:"product"`
	Cost              float64 `json:"cost"`
	UnitPrice         float64 `json:"unit_price,omitempty"`
	IsTransferLegCost bool    `json:"is_transfer_leg_cost,omitempty"`
}

// CallCost is what a call cost, in cents.
type CallCost struct {
	ProductCosts           []ProductCost `json:"product_costs,omitempty"`
	CombinedCost           float64       `json:"combined_cost"`
	TotalDurationSeconds   float64       `json:"total_duration_seconds,omitempty"`
	TotalDurationUnitPrice float64       `json:"total_duration_unit_price,omitempty"`
}

// TelephonyIdentifier ties a call to the carrier's own call.
type TelephonyIdentifier struct {
	TwilioCallSID string `json:"twilio_call_sid,omitempty"`
}

// Call is Retell's call object (a phone call; web calls carry AccessToken instead of the
// numbers). Timestamps are Unix milliseconds, zero when absent.
type Call struct {
	CallID                    string               `json:"call_id"`
	CallType                  string               `json:"call_type"` // phone_call, web_call
	AgentID                   string               `json:"agent_id"`
	AgentVersion              int                  `json:"agent_version"`
	AgentName                 string               `json:"agent_name,omitempty"`
	CallStatus                string               `json:"call_status"`
	Direction                 string               `json:"direction,omitempty"` // inbound, outbound
	FromNumber                string               `json:"from_number,omitempty"`
	ToNumber                  string               `json:"to_number,omitempty"`
	AccessToken               string               `json:"access_token,omitempty"`
	StartTimestamp            int64                `json:"start_timestamp,omitempty"`
	EndTimestamp              int64                `json:"end_timestamp,omitempty"`
	TransferEndTimestamp      int64                `json:"transfer_end_timestamp,omitempty"`
	DurationMS                int64                `json:"duration_ms,omitempty"`
	Transcript                string               `json:"transcript,omitempty"`
	TranscriptObject          []Utterance          `json:"transcript_object,omitempty"`
	TranscriptWithToolCalls   json.RawMessage      `json:"transcript_with_tool_calls,omitempty"`
	RecordingURL              string               `json:"recording_url,omitempty"`
	PublicLogURL              string               `json:"public_log_url,omitempty"`
	DisconnectionReason       string               `json:"disconnection_reason,omitempty"`
	TransferDestination       string               `json:"transfer_destination,omitempty"`
	TransferOption            json.RawMessage      `json:"transfer_option,omitempty"`
	Metadata                  json.RawMessage      `json:"metadata,omitempty"`
	DynamicVariables          map[string]string    `json:"retell_llm_dynamic_variables,omitempty"`
	CollectedDynamicVariables json.RawMessage      `json:"collected_dynamic_variables,omitempty"`
	CustomSIPHeaders          map[string]string    `json:"custom_sip_headers,omitempty"`
	CallAnalysis              *CallAnalysis        `json:"call_analysis,omitempty"`
	CallCost                  *CallCost            `json:"call_cost,omitempty"`
	TelephonyIdentifier       *TelephonyIdentifier `json:"telephony_identifier,omitempty"`
}

// Event is a webhook's body: {"event": "call_started", "call": {…}}.
type Event struct {
	Event string `json:"event"`
	Call  Call   `json:"call"`
}
