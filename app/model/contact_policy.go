package model

// PolicySettings are an org's contact policy, which every automated send (campaigns,
// cadences) passes: at most DailyCap automated messages to a contact in 24 hours (0: no
// cap), nothing from QuietStart:00 to QuietEnd:00 in the contact's zone (equal hours: no
// quiet hours), and the same SMS text never twice to a phone within SMSDedupHours (0: off).
type PolicySettings struct {
	DailyCap      int `db:"daily_cap" json:"daily_cap"`
	QuietStart    int `db:"quiet_start" json:"quiet_start"`
	QuietEnd      int `db:"quiet_end" json:"quiet_end"`
	SMSDedupHours int `db:"sms_dedup_hours" json:"sms_dedup_hours"`
}

// DefaultPolicySettings is an org's policy until it saves its own.
var DefaultPolicySettings = PolicySettings{DailyCap: 2, QuietStart: 21, QuietEnd: 8, SMSDedupHours: 24}

// Limits of the policy's settings.
const (
	MaxDailyCap      = 50
	MaxSMSDedupHours = 720 // 30 days
)

// Validate checks the settings' ranges; the errors are i18n keys under policy.error.
func (p PolicySettings) Validate() error {
	v := NewValidationError()
	if p.DailyCap < 0 || p.DailyCap > MaxDailyCap {
		v.Add("daily_cap", "policy.error.daily_cap")
	}
	if p.QuietStart < 0 || p.QuietStart > 23 {
		v.Add("quiet_start", "policy.error.hour")
	}
	if p.QuietEnd < 0 || p.QuietEnd > 23 {
		v.Add("quiet_end", "policy.error.hour")
	}
	if p.SMSDedupHours < 0 || p.SMSDedupHours > MaxSMSDedupHours {
		v.Add("sms_dedup_hours", "policy.error.dedup_hours")
	}
	return v.Err()
}
