package model

import "strings"

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

// SkipDuplicateSMS is a campaign recipient skipped because the same SMS text went to the
// same phone within the org's window (by any campaign or cadence); the recipient's error
// title is DuplicateSMSDetail.
const SkipDuplicateSMS = "duplicate_sms"

// DuplicateSMSDetail is the plain words of a duplicate SMS refusal: the first send's time
// (15:04, in the org's zone), its sender's kind (campaign, cadence) and name.
func DuplicateSMSDetail(at, source, name string) string {
	return "same SMS sent at " + at + " by " + source + " " + name
}

// ParseDuplicateSMSDetail reads DuplicateSMSDetail back, so a page can say it in the
// reader's language.
func ParseDuplicateSMSDetail(s string) (at, source, name string, ok bool) {
	rest, ok := strings.CutPrefix(s, "same SMS sent at ")
	if !ok || len(rest) < 6 || rest[2] != ':' {
		return "", "", "", false
	}
	at, rest = rest[:5], rest[5:]
	rest, ok = strings.CutPrefix(rest, " by ")
	if !ok {
		return "", "", "", false
	}
	source, name, _ = strings.Cut(rest, " ")
	if source != "campaign" && source != "cadence" {
		return "", "", "", false
	}
	return at, source, name, true
}
