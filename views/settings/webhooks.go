package settings

import (
	"context"
	"strconv"
	"time"

	"masteria/app/model"
	"masteria/views/ui"
)

// EventArea is a group of events an endpoint may want (hooks.Areas).
type EventArea struct {
	Key    string // hooks.area.<key>
	Events []EventOption
}

// EventOption is one event of the catalogue, with what it means.
type EventOption struct {
	Name        string
	Description string
}

// WebhookForm is the endpoint form's values and errors (field → i18n key).
type WebhookForm struct {
	URL         string
	Description string
	EventTypes  map[string]bool
	AllEvents   bool
	Errors      map[string]string
}

// WebhooksData is GET /o/{org}/settings/webhooks and the answer to its create form.
type WebhooksData struct {
	Endpoints []model.WebhookEndpoint
	Areas     []EventArea
	Form      WebhookForm
	// NewSecret is the secret of the endpoint just created, shown this once.
	NewSecret   string
	NewEndpoint model.WebhookEndpoint
	// AllowHTTP: the server lets endpoints use http and private addresses.
	AllowHTTP bool
	// ShowForm opens the create form (an error in it, or ?new).
	ShowForm bool
}

// WebhookData is GET /o/{org}/settings/webhooks/{id}: the endpoint, its form, its log.
type WebhookData struct {
	Endpoint model.WebhookEndpoint
	Areas    []EventArea
	Form     WebhookForm
	// NewSecret is the secret a rotation just made, shown once; OldExpires is when the
	// previous one stops being valid.
	NewSecret  string
	OldExpires time.Time
	// Test is the test ping just sent, with its result.
	Test       *model.WebhookDelivery
	Deliveries []model.WebhookDelivery
	// Filters of the log, and the cursor of its next page (0: none).
	State, EventType string
	Next             int64
	// Replayed is how many deliveries a range replay queued (-1: none asked).
	Replayed int64
	// RangeFrom, RangeTo: the range replay form's values (local datetime).
	RangeFrom, RangeTo string
	RangeError         string
}

// successRate is an endpoint's last-day success, "—" without attempts.
func successRate(e model.WebhookEndpoint) string {
	if e.RecentTotal == 0 {
		return "—"
	}
	return strconv.FormatInt(e.RecentOK*100/e.RecentTotal, 10) + "%"
}

func webhookURL(id int64, rest string) string {
	return "/settings/webhooks/" + strconv.FormatInt(id, 10) + rest
}

func statusCode(a model.WebhookAttempt) string {
	if a.Status == 0 {
		return "—"
	}
	return strconv.Itoa(a.Status)
}

func deliveryKind(state string) string {
	switch state {
	case "delivered":
		return "success"
	case "failed":
		return "danger"
	}
	return "warning"
}

func urlHint(ctx context.Context, allowHTTP bool) string {
	if allowHTTP {
		return ui.T(ctx, "hooks.url_hint_http")
	}
	return ui.T(ctx, "hooks.url_hint")
}

// areaCount is "(n chosen)" for an area of the form, "" when none.
func areaCount(a EventArea, f WebhookForm) string {
	n := 0
	for _, ev := range a.Events {
		if f.EventTypes[ev.Name] {
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return "(" + strconv.Itoa(n) + ")"
}

func lastCode(d model.WebhookDelivery) string {
	if d.LastStatus == nil || *d.LastStatus == 0 {
		return "—"
	}
	return strconv.Itoa(*d.LastStatus)
}

func lastError(d model.WebhookDelivery) string {
	if d.LastError != "" {
		return d.LastError
	}
	return "—"
}
