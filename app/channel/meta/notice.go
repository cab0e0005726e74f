package meta

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"masteria/app/channel"
)

// The account fields of the WhatsApp Business Account webhook (Meta's webhooks reference:
// message_template_status_update, message_template_quality_update,
// phone_number_quality_update, business_capability_update). Unknown fields and values are
// ignored.

// parseNotice reads one account change; ok is false for a field that is not one, or a value
// that cannot be read (the rest of the batch is kept).
func parseNotice(field string, raw json.RawMessage) (channel.Notice, bool) {
	switch field {
	case "message_template_status_update":
		var v struct {
			Event     string          `json:"event"`
			Name      string          `json:"message_template_name"`
			Language  string          `json:"message_template_language"`
			Reason    json.RawMessage `json:"reason"` // a string, or null on DELETED
			OtherInfo *struct {
				Title string `json:"title"`
			} `json:"other_info"`
		}
		if json.Unmarshal(raw, &v) != nil || v.Event == "" || v.Name == "" {
			return channel.Notice{}, false
		}
		n := channel.Notice{Kind: channel.NoticeTemplateStatus, Template: v.Name, Language: v.Language, Event: v.Event}
		var reason string
		if json.Unmarshal(v.Reason, &reason) == nil && reason != "NONE" {
			n.Reason = reason
		}
		if n.Reason == "" && v.OtherInfo != nil {
			n.Reason = v.OtherInfo.Title // FIRST_PAUSE, SECOND_PAUSE, DISABLED
		}
		return n, true
	case "message_template_quality_update":
		var v struct {
			Score    string `json:"new_quality_score"`
			Name     string `json:"message_template_name"`
			Language string `json:"message_template_language"`
		}
		if json.Unmarshal(raw, &v) != nil || v.Name == "" || v.Score == "" {
			return channel.Notice{}, false
		}
		return channel.Notice{Kind: channel.NoticeTemplateQuality, Template: v.Name, Language: v.Language, Quality: v.Score}, true
	case "phone_number_quality_update":
		var v struct {
			Event        string          `json:"event"`
			CurrentLimit json.RawMessage `json:"current_limit"`
			PerBusiness  json.RawMessage `json:"max_daily_conversations_per_business"`
		}
		if json.Unmarshal(raw, &v) != nil || v.Event == "" {
			return channel.Notice{}, false
		}
		// current_limit's removal was announced for February 2026: the per-business maximum
		// stands in when it is gone.
		limit := ParseLimit(v.CurrentLimit)
		if limit == 0 {
			limit = ParseLimit(v.PerBusiness)
		}
		return channel.Notice{Kind: channel.NoticeNumberQuality, Event: v.Event, Limit: limit}, true
	case "business_capability_update":
		var v struct {
			PerBusiness json.RawMessage `json:"max_daily_conversations_per_business"`
		}
		if json.Unmarshal(raw, &v) != nil {
			return channel.Notice{}, false
		}
		limit := ParseLimit(v.PerBusiness)
		if limit == 0 {
			return channel.Notice{}, false
		}
		return channel.Notice{Kind: channel.NoticeMessagingLimit, Limit: limit}, true
	}
	return channel.Notice{}, false
}

// ParseLimit reads a messaging limit as Meta writes it: a tier string (TIER_250; TIER_1K and
// TIER_2K are 2,000, since the 1K tier became 2K; TIER_10K, TIER_100K; TIER_UNLIMITED is -1),
// a number, or a number in a string (-1 unlimited). Anything else is 0, unknown.
func ParseLimit(raw json.RawMessage) int {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0
	}
	var s string
	if raw[0] == '"' {
		if json.Unmarshal(raw, &s) != nil {
			return 0
		}
	} else {
		s = string(raw)
	}
	s = strings.ToUpper(strings.TrimSpace(s))
	switch s {
	case "TIER_50":
		return 50
	case "TIER_250":
		return 250
	case "TIER_1K", "TIER_2K":
		return 2000
	case "TIER_10K":
		return 10000
	case "TIER_100K":
		return 100000
	case "TIER_UNLIMITED", "UNLIMITED":
		return -1
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == float64(int(f)) && (f > 0 || f == -1) {
		return int(f)
	}
	return 0
}
