// Package voice renders Settings → Voice: the Retell account (this file's RetellData), and
// the tabs the numbers and the calls analytics add beside it.
package voice

import (
	"context"
	"fmt"
	"time"

	"masteria/views/ui"
)

// Agent is one Retell agent as the page lists it.
type Agent struct {
	ID      string
	Name    string
	Channel string
}

// RetellData is GET/POST /o/{org}/settings/voice. It never holds the key: Connected only
// says one is saved.
type RetellData struct {
	Connected     bool
	AccountID     int64
	Status        string // untested, ok, error
	LastError     string // Retell's words
	TestedAt      *time.Time
	MaxConcurrent int
	// Calling hours, in each contact's zone: [start, end) o'clock on the days of CallDays
	// (a bit per weekday, Sunday 0).
	CallHoursStart, CallHoursEnd, CallDays int
	WebhookURL                             string
	Agents                                 []Agent
	AgentsLoaded                           bool
	AgentsError                            string
	Errors                                 map[string]string // i18n keys by field
}

// tab is one tab of Settings → Voice.
type tab struct{ id, key, path string }

// tabs are the voice tabs, in order; each area adds its line here (and its route).
var tabs = []tab{
	{"retell", "voice.tab.retell", "/settings/voice"},
	{"numbers", "voice.tab.numbers", "/settings/voice/numbers"},
	{"analytics", "calls.analytics.tab", "/settings/voice/analytics"},
}

func statusKind(s string) string {
	switch s {
	case "ok":
		return "success"
	case "error":
		return "danger"
	}
	return "neutral"
}

func keyHint(ctx context.Context, has bool) string {
	if has {
		return ui.T(ctx, "voice.retell.key_kept")
	}
	return ui.T(ctx, "voice.retell.key_hint")
}

func nameOr(ctx context.Context, name string) string {
	if name == "" {
		return ui.T(ctx, "voice.retell.agent_unnamed")
	}
	return name
}

// weekday is a day of the calling hours: its bit and its name's key.
type weekday struct {
	Bit int
	Key string
}

// weekdays are Monday first, as people read a week here.
var weekdays = []weekday{{1, "mon"}, {2, "tue"}, {3, "wed"}, {4, "thu"}, {5, "fri"}, {6, "sat"}, {0, "sun"}}

func hourLabel(h int) string { return fmt.Sprintf("%02d:00", h) }
