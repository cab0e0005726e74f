package model

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// Campaign statuses.
const (
	CampaignDraft     = "draft"
	CampaignScheduled = "scheduled"
	CampaignRunning   = "running"
	CampaignPaused    = "paused"
	CampaignCompleted = "completed"
	CampaignCancelled = "cancelled"
)

// Recipient statuses: the ledger of one send. They only move forward.
const (
	RecipientPending   = "pending"
	RecipientClaimed   = "claimed"
	RecipientSent      = "sent"
	RecipientDelivered = "delivered"
	RecipientRead      = "read"
	RecipientReplied   = "replied"
	RecipientFailed    = "failed"
	RecipientSkipped   = "skipped"
	RecipientCapped    = "capped"
	// RecipientAnswered: a call campaign's call was answered by a person.
	RecipientAnswered = "answered"
)

// Outcomes of a call campaign's call (call_result), stable keys the UI translates.
const (
	CallResultAnswered  = "answered"
	CallResultVoicemail = "voicemail"
	CallResultNoAnswer  = "no_answer"
	CallResultBusy      = "busy"
	CallResultFailed    = "dial_failed"
	CallResultInvalid   = "invalid_number"
)

// RecipientStatuses in the order the progress bar shows them.
var RecipientStatuses = []string{RecipientPending, RecipientClaimed, RecipientSent, RecipientDelivered,
	RecipientRead, RecipientReplied, RecipientFailed, RecipientSkipped, RecipientCapped, RecipientAnswered}

// Why a recipient is skipped at launch (stable keys the UI translates).
const (
	SkipOptedOut     = "opted_out"        // opted out on any channel
	SkipNoAddress    = "no_address"       // no number (or user id) this channel can reach
	SkipInvalid      = "invalid_number"   // a number that is not valid
	SkipMissingVar   = "missing_variable" // a template variable with no value and no fallback
	SkipRecent       = "recently_messaged"
	SkipDuplicate    = "duplicate" // another contact of the same person gets it
	SkipDeleted      = "contact_deleted"
	SkipNotReachable = "not_reachable"
)

// SkipReasons in the order the pre-launch check lists them.
var SkipReasons = []string{SkipOptedOut, SkipNoAddress, SkipInvalid, SkipMissingVar, SkipRecent, SkipDuplicate}

// Why a campaign pauses by itself (stable keys the UI translates).
const (
	PauseByUser        = "user"
	PauseQuality       = "quality_downgrade" // the number's quality dropped
	PauseTemplate      = "template_paused"   // the template was paused or disabled
	PauseSpam          = "spam_blocked"      // 131048, 368, 131031
	PauseFailureRate   = "failure_rate"      // too many of the last sends failed
	PauseDailyLimit    = "daily_limit"       // WhatsApp's 24-hour limit is reached and spreading is off
	PauseChannelGone   = "channel_gone"      // the channel was disconnected or deleted
	PauseTemplateGone  = "template_gone"     // the template is no longer approved
	PauseNotAuthorized = "not_authorized"    // the provider refused the token
)

// Campaign is a mass send to an audience through one channel.
type Campaign struct {
	ID        int64  `db:"id" json:"id"`
	OrgID     int64  `db:"org_id" json:"-"`
	Name      string `db:"name" json:"name"`
	ChannelID *int64 `db:"channel_id" json:"channel_id"`
	// VoiceNumberID makes a call campaign: the audience is called from this voice number
	// (ChannelID stays nil).
	VoiceNumberID *int64           `db:"voice_number_id" json:"voice_number_id,omitempty"`
	Status        string           `db:"status" json:"status"`
	Audience      Audience         `db:"audience" json:"audience"`
	Message       CampaignMessage  `db:"message" json:"message"`
	Settings      CampaignSettings `db:"settings" json:"settings"`
	ScheduledAt   *time.Time       `db:"scheduled_at" json:"scheduled_at"`
	LaunchedAt    *time.Time       `db:"launched_at" json:"launched_at"`
	FinishedAt    *time.Time       `db:"finished_at" json:"finished_at"`
	PauseReason   string           `db:"pause_reason" json:"pause_reason,omitempty"`
	PauseDetail   string           `db:"pause_detail" json:"pause_detail,omitempty"`
	Winner        *int16           `db:"winner" json:"winner,omitempty"`
	CreatedBy     *int64           `db:"created_by" json:"-"`
	CreatedAt     time.Time        `db:"created_at" json:"created_at"`
	UpdatedAt     time.Time        `db:"updated_at" json:"updated_at"`
}

// Voice says whether the campaign calls its audience instead of messaging it.
func (c Campaign) Voice() bool { return c.VoiceNumberID != nil }

// Editable says whether the campaign is still a draft (or scheduled, not yet started).
func (c Campaign) Editable() bool {
	return c.Status == CampaignDraft || c.Status == CampaignScheduled
}

// Finished says whether the campaign will send nothing more.
func (c Campaign) Finished() bool {
	return c.Status == CampaignCompleted || c.Status == CampaignCancelled
}

// Audience is who a campaign goes to: the union of a saved segment, contacts with all of the
// tags, leads in the stages, contacts picked by hand and the contacts of an uploaded CSV.
type Audience struct {
	SegmentID  int64   `json:"segment_id,omitempty"`
	TagIDs     []int64 `json:"tag_ids,omitempty"`
	StageIDs   []int64 `json:"stage_ids,omitempty"`
	ContactIDs []int64 `json:"contact_ids,omitempty"`
	ImportID   int64   `json:"import_id,omitempty"`
}

// Empty says whether nothing is chosen.
func (a Audience) Empty() bool {
	return a.SegmentID == 0 && len(a.TagIDs) == 0 && len(a.StageIDs) == 0 && len(a.ContactIDs) == 0 && a.ImportID == 0
}

// MaxVariants is how many message variants an A/B test compares.
const MaxVariants = 3

// CampaignMessage is what a campaign sends: one variant, or up to three for an A/B test.
type CampaignMessage struct {
	Variants []Variant `json:"variants"`
	// AgentID is the Retell agent a call campaign calls with ("" : the number's outbound agent).
	AgentID string `json:"agent_id,omitempty"`
}

// Variant is one version of the message: a text (QR, SMS; with {{fields}} and {spintax})
// or a WhatsApp template with each variable mapped to a contact field.
type Variant struct {
	Text string `json:"text,omitempty"`
	// MediaID is a stored file sent with the text (QR), or the template's header media.
	MediaID    int64    `json:"media_id,omitempty"`
	TemplateID int64    `json:"template_id,omitempty"`
	Template   string   `json:"template,omitempty"`
	Language   string   `json:"language,omitempty"`
	Vars       []VarMap `json:"vars,omitempty"`        // the body's {{1}}, {{2}}…
	HeaderVars []VarMap `json:"header_vars,omitempty"` // a text header's {{1}}
}

// VarMap fills one template variable: from a contact field (name, first_name, phone, email),
// a custom field (by key) or fixed text, with a fallback when the contact's value is empty.
type VarMap struct {
	Source   string `json:"source"` // field, custom, text
	Field    string `json:"field,omitempty"`
	Key      string `json:"key,omitempty"`
	Text     string `json:"text,omitempty"`
	Fallback string `json:"fallback,omitempty"`
}

// CampaignSettings are a campaign's safety and measurement choices.
type CampaignSettings struct {
	// Quiet hours in the contact's time zone: nothing is sent from QuietStart to QuietEnd
	// (hours, 0–23; the window may cross midnight). Equal hours mean none.
	QuietStart int `json:"quiet_start"`
	QuietEnd   int `json:"quiet_end"`
	// SkipRecentHours skips people another campaign messaged within that many hours (0: off).
	SkipRecentHours int `json:"skip_recent_hours"`
	// ReplyHours is how long after the send a customer's message counts as a reply.
	ReplyHours int `json:"reply_hours"`
	// CappedRetryDays retries recipients WhatsApp withheld (131049) after that many days (0: never).
	CappedRetryDays int `json:"capped_retry_days"`
	// The campaign pauses itself when FailurePct of the last FailureWindow sends failed.
	FailurePct    int `json:"failure_pct"`
	FailureWindow int `json:"failure_window"`
	// Spread sends what WhatsApp's 24-hour limit leaves over the next days instead of pausing.
	Spread bool `json:"spread"`
	// Category prices the send: marketing, utility or authentication.
	Category string `json:"category,omitempty"`
	// A/B test: TestPct of the audience is split among the variants; after TestHours the
	// variant with the best rate of TestMetric (reply or read) goes to the rest, by itself
	// when AutoWinner.
	TestPct    int    `json:"test_pct,omitempty"`
	TestHours  int    `json:"test_hours,omitempty"`
	TestMetric string `json:"test_metric,omitempty"`
	AutoWinner bool   `json:"auto_winner,omitempty"`
	// Call campaigns: calls at once (1 to the org's limit), unanswered calls (voicemail, no
	// answer, busy, failed to connect) tried again after RetryMinutes, up to CallAttempts calls.
	Concurrency  int `json:"concurrency,omitempty"`
	RetryMinutes int `json:"retry_minutes,omitempty"`
	CallAttempts int `json:"call_attempts,omitempty"`
}

// Limits of a call campaign's settings.
const (
	MinRetryMinutes = 1
	MaxRetryMinutes = 24 * 60
	MaxCallAttempts = 5
)

// DefaultCallSettings fills a call campaign's settings left blank: 2 calls at once, a retry
// after 2 hours, 3 attempts.
func (s *CampaignSettings) DefaultCallSettings() {
	if s.Concurrency == 0 {
		s.Concurrency = 2
	}
	if s.RetryMinutes == 0 {
		s.RetryMinutes = 120
	}
	if s.CallAttempts == 0 {
		s.CallAttempts = 3
	}
}

// DefaultCampaignSettings are what a new campaign starts with.
func DefaultCampaignSettings() CampaignSettings {
	return CampaignSettings{QuietStart: 21, QuietEnd: 8, ReplyHours: 72, FailurePct: 20, FailureWindow: 50,
		Category: "marketing", TestHours: 4, TestMetric: "reply", AutoWinner: true}
}

// Recipient is one person of a launched campaign: the ledger of their send.
type Recipient struct {
	ID             int64      `db:"id" json:"id"`
	OrgID          int64      `db:"org_id" json:"-"`
	CampaignID     int64      `db:"campaign_id" json:"campaign_id"`
	ChannelID      int64      `db:"channel_id" json:"-"`
	ContactID      *int64     `db:"contact_id" json:"contact_id"`
	Name           string     `db:"name" json:"name"`
	Address        string     `db:"address" json:"address"`
	KeptContactID  *int64     `db:"kept_contact_id" json:"kept_contact_id,omitempty"`
	Variant        *int16     `db:"variant" json:"variant"`
	Country        string     `db:"country" json:"country,omitempty"`
	Status         string     `db:"status" json:"status"`
	SkipReason     string     `db:"skip_reason" json:"skip_reason,omitempty"`
	Attempts       int        `db:"attempts" json:"attempts"`
	NotBefore      time.Time  `db:"not_before" json:"-"`
	MessageID      *int64     `db:"message_id" json:"message_id,omitempty"`
	ConversationID *int64     `db:"conversation_id" json:"conversation_id,omitempty"`
	ProviderID     *string    `db:"provider_id" json:"provider_id,omitempty"`
	ErrorCode      string     `db:"error_code" json:"error_code,omitempty"`
	ErrorTitle     string     `db:"error_title" json:"error_title,omitempty"`
	SentAt         *time.Time `db:"sent_at" json:"sent_at,omitempty"`
	DeliveredAt    *time.Time `db:"delivered_at" json:"delivered_at,omitempty"`
	ReadAt         *time.Time `db:"read_at" json:"read_at,omitempty"`
	RepliedAt      *time.Time `db:"replied_at" json:"replied_at,omitempty"`
	FailedAt       *time.Time `db:"failed_at" json:"failed_at,omitempty"`
	UpdatedAt      time.Time  `db:"updated_at" json:"updated_at"`
	// A call campaign's last call: its outcome, and Retell's success verdict.
	CallResult     string `db:"call_result" json:"call_result,omitempty"`
	CallSuccessful *bool  `db:"call_successful" json:"call_successful,omitempty"`
}

// CallFigures are a call campaign's progress in plain words.
type CallFigures struct {
	Called     int64 `db:"called" json:"called"`         // recipients called at least once
	Calls      int64 `db:"calls" json:"calls"`           // calls made
	Live       int64 `db:"live" json:"live"`             // calls running now
	Answered   int64 `db:"answered" json:"answered"`     // answered by a person
	Voicemail  int64 `db:"voicemail" json:"voicemail"`   // last call reached voicemail
	NoAnswer   int64 `db:"no_answer" json:"no_answer"`   // last call not answered or busy
	ToRetry    int64 `db:"to_retry" json:"to_retry"`     // waiting for another attempt
	Failed     int64 `db:"failed" json:"failed"`         // ended without an answer
	Successful int64 `db:"successful" json:"successful"` // Retell's analysis: the call reached its goal
	Pending    int64 `db:"pending" json:"pending"`       // not called yet
}

// Progress counts a campaign's recipients by status; Delivered counts everyone who got
// at least that far (read and replied too), and so on, as a funnel.
type Progress struct {
	Total    int64            `json:"total"`
	ByStatus map[string]int64 `json:"by_status"`
}

// Count is the number of recipients in a status.
func (p Progress) Count(status string) int64 { return p.ByStatus[status] }

// Reached counts recipients at or past a point of the funnel: sent, delivered, read.
func (p Progress) Reached(status string) int64 {
	order := []string{RecipientSent, RecipientDelivered, RecipientRead, RecipientReplied}
	var n int64
	started := false
	for _, s := range order {
		if s == status {
			started = true
		}
		if started {
			n += p.ByStatus[s]
		}
	}
	return n
}

// Done counts recipients that need nothing more.
func (p Progress) Done() int64 {
	return p.Total - p.ByStatus[RecipientPending] - p.ByStatus[RecipientClaimed]
}

// The JSON columns of a campaign scan from and write to jsonb.

func (a *Audience) Scan(src any) error          { return scanJSON(src, a) }
func (a Audience) Value() (driver.Value, error) { return json.Marshal(a) }

func (m *CampaignMessage) Scan(src any) error          { return scanJSON(src, m) }
func (m CampaignMessage) Value() (driver.Value, error) { return json.Marshal(m) }

func (s *CampaignSettings) Scan(src any) error          { return scanJSON(src, s) }
func (s CampaignSettings) Value() (driver.Value, error) { return json.Marshal(s) }

func scanJSON(src, dst any) error {
	switch v := src.(type) {
	case nil:
		return nil
	case []byte:
		return json.Unmarshal(v, dst)
	case string:
		return json.Unmarshal([]byte(v), dst)
	}
	return fmt.Errorf("model: cannot scan %T as JSON", src)
}
