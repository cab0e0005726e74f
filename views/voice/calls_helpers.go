// Package voice holds the pages and pieces of voice calls: the Retell account, the numbers,
// the call item shown on a contact's timeline and in a conversation, and the analytics.
package voice

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"masteria/app/model"
	"masteria/views/ui"
)

// Turn is one turn of a call's transcript.
type Turn struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

func turns(c model.Call) []Turn {
	var out []Turn
	_ = json.Unmarshal(c.TranscriptObject, &out)
	return out
}

// reasons with words of their own; the others read as an error or a plain end.
var reasons = map[string]bool{
	"user_hangup": true, "agent_hangup": true, "call_transfer": true, "transfer_bridged": true, "transfer_cancelled": true,
	"voicemail_reached": true, "ivr_reached": true, "inactivity": true, "max_duration_reached": true,
	"concurrency_limit_reached": true, "no_concurrency_fallback": true, "dial_busy": true, "dial_failed": true,
	"dial_no_answer": true, "invalid_destination": true, "user_declined": true, "marked_as_spam": true, "scam_detected": true,
	"no_valid_payment": true, "registered_call_timeout": true, "manual_stopped": true, "call_take_over": true,
}

// outcome says in plain words how the call is or how it ended.
func outcome(ctx context.Context, c model.Call) string {
	switch {
	case c.Status == model.CallRegistered:
		return ui.T(ctx, "calls.status.registered")
	case c.Status == model.CallOngoing:
		return ui.T(ctx, "calls.status.ongoing")
	case c.InVoicemail != nil && *c.InVoicemail && c.DisconnectionReason != "voicemail_reached":
		return ui.T(ctx, "calls.reason.voicemail_reached")
	case reasons[c.DisconnectionReason]:
		return ui.T(ctx, "calls.reason."+c.DisconnectionReason)
	case strings.HasPrefix(c.DisconnectionReason, "error_") || c.Status == model.CallError:
		return ui.T(ctx, "calls.reason.error")
	case c.Status == model.CallNotConnected:
		return ui.T(ctx, "calls.reason.not_connected")
	}
	return ui.T(ctx, "calls.reason.ended")
}

// Outcome is outcome for other views.
func Outcome(ctx context.Context, c model.Call) string { return outcome(ctx, c) }

// duration reads milliseconds as m:ss (h:mm:ss past an hour).
func duration(ms int64) string {
	s := ms / 1000
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Duration is duration for other views.
func Duration(ms int64) string { return duration(ms) }

func directionKey(c model.Call) string {
	if c.Direction == "inbound" {
		return "calls.inbound"
	}
	return "calls.outbound"
}

func speakerKey(role string) string {
	switch role {
	case "agent":
		return "calls.speaker.agent"
	case "user":
		return "calls.speaker.user"
	}
	return "calls.speaker.transfer"
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

// field is one of the agent's custom analysis fields, as text.
type field struct{ Name, Value string }

func customFields(ctx context.Context, c model.Call) []field {
	var m map[string]any
	if json.Unmarshal(c.CustomAnalysis, &m) != nil {
		return nil
	}
	out := make([]field, 0, len(m))
	for k, v := range m {
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case nil:
			continue
		case bool:
			s = ui.T(ctx, map[bool]string{true: "common.yes", false: "common.no"}[x])
		default:
			b, _ := json.Marshal(x)
			s = string(b)
		}
		out = append(out, field{Name: strings.ReplaceAll(k, "_", " "), Value: s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func sentimentClass(s string) string {
	switch s {
	case "Positive":
		return "badge badge-success"
	case "Negative":
		return "badge badge-danger"
	}
	return "badge"
}

func percent(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" }

// money reads cents as dollars.
func money(cents float64) string { return "$" + strconv.FormatFloat(cents/100, 'f', 2, 64) }
