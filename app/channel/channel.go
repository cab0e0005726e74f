// Package channel is the one way messages leave Master IA: a Channel interface that every
// provider (WhatsApp Cloud API, WhatsApp by QR, Twilio SMS, the demo sandbox) implements,
// a registry that builds a channel from its stored row, and a per-channel send pace that
// slows down when the provider says "too many".
package channel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"masteria/app/model"
)

// Outbound is a message to send.
type Outbound struct {
	To string // E.164; empty when the person is known by Recipient only
	// Recipient addresses a person with no known phone: a WhatsApp business-scoped user id
	// (Cloud API's "recipient") or a JID/LID (WhatsApp by QR). To wins when both are set.
	Recipient string
	Kind      string // text, image, document, audio, video, template
	Body      string // the text, or a media caption
	MediaURL  string
	// Media is a stored file to send (image, document, audio, video): each provider takes
	// it its own way, by upload or by link.
	Media    *Attachment
	Template *Template
	// Ref is our name for this send ("m123": the message row), echoed by the provider in its
	// status reports (StatusUpdate.Ref) so a send whose answer was lost can be reconciled.
	Ref string
}

// Attachment is a stored file an outbound message carries.
type Attachment struct {
	MIME, Filename string
	Size           int64
	// URL is a public link that expires, for providers that fetch the file (Twilio MMS).
	URL string
	// Open reads the file, for providers it is uploaded to (WhatsApp Cloud API).
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// MediaFetcher is a channel that downloads the media of inbound messages: ref is what
// its webhook gave (a Meta media id, a Twilio MediaUrl). The caller closes the reader.
type MediaFetcher interface {
	Fetch(ctx context.Context, ref string) (body io.ReadCloser, mimeType string, err error)
}

// Template is an approved WhatsApp template with its parameters.
type Template struct {
	Name     string
	Language string
	Params   []string // the body's {{1}}, {{2}}…
	// HeaderParams fill a text header's variables, if it has any.
	HeaderParams []string
	// HeaderMedia is the file of a media header (a template whose HEADER format is IMAGE,
	// VIDEO or DOCUMENT), sent by its URL when it has one. HeaderKind is that format in
	// lower case (image, video, document); empty, it follows the file's MIME type.
	HeaderMedia *Attachment
	HeaderKind  string
}

// MediaHeaderKind is the header parameter type of t's media: HeaderKind, else the kind of
// the file's MIME type (audio, which a header cannot carry, goes as a document); "" when t
// has no header media.
func (t *Template) MediaHeaderKind() string {
	if t == nil || t.HeaderMedia == nil {
		return ""
	}
	if t.HeaderKind != "" {
		return t.HeaderKind
	}
	switch k := model.MediaKind(t.HeaderMedia.MIME); k {
	case "image", "video":
		return k
	}
	return "document"
}

// Sent is what a provider answered to a send.
type Sent struct {
	ProviderID string // wamid…, SM…
}

// Capabilities say what a channel kind can do, so the composer offers only that.
type Capabilities struct {
	Media     bool
	Templates bool
	// ServiceWindow: free text only within 24 hours of the customer's last message.
	ServiceWindow bool
	ReadReceipts  bool
}

// Channel sends messages through one provider account.
type Channel interface {
	Kind() string
	Capabilities() Capabilities
	Send(ctx context.Context, m Outbound) (Sent, error)
}

// ThrottledError is a provider's "slow down" (HTTP 429, Meta 130429/131056, Twilio
// 20429): the message is not failed, it goes again after RetryAfter.
type ThrottledError struct {
	RetryAfter time.Duration
	Code       string
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("channel: throttled by the provider (%s), retry in %s", e.Code, e.RetryAfter)
}

// SendError is a provider's refusal of one message, with its code and title for the
// agent; Permanent ones are not retried.
type SendError struct {
	Code, Title string
	Permanent   bool
}

func (e *SendError) Error() string { return "channel: " + e.Code + ": " + e.Title }

// ErrElsewhere is a send through a channel whose live connection another instance holds (a
// QR session): not a failure, the job comes back soon and may land on that instance.
var ErrElsewhere = errors.New("channel: another instance holds this channel's connection")

// ErrNoID is a send the provider accepted (a success status) whose answer names no
// message: it was taken, and only its status reports can tell which message it is.
var ErrNoID = errors.New("channel: the provider took the send but its answer names no message")

// ErrUnknownKind is a channel row of a kind no factory builds.
var ErrUnknownKind = errors.New("channel: unknown kind")

// StatusFunc reports a status change of a sent message (sandbox and tests; real providers
// report through their webhooks).
type StatusFunc func(ctx context.Context, channelID int64, providerID, status string)

// Factory builds a channel from its row and opened secrets.
type Factory func(c model.Channel, secrets map[string]string, report StatusFunc) (Channel, error)

// Registry builds channels by kind and paces their sends.
type Registry struct {
	mu        sync.Mutex
	factories map[string]Factory
	limits    map[int64]*rate.Limiter
	report    StatusFunc
	hooks     map[string]Webhook // by the provider segment of their URL
}

// NewRegistry returns an empty registry; report receives statuses a channel learns itself.
func NewRegistry(report StatusFunc) *Registry {
	return &Registry{factories: map[string]Factory{}, limits: map[int64]*rate.Limiter{}, report: report}
}

// Register adds the factory of a kind.
func (r *Registry) Register(kind string, f Factory) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.factories[kind] = f
}

// Build makes the channel of a row.
func (r *Registry) Build(c model.Channel, secrets map[string]string) (Channel, error) {
	r.mu.Lock()
	f, ok := r.factories[c.Kind]
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownKind, c.Kind)
	}
	return f(c, secrets, r.report)
}

// Wait blocks until channel c may send one more message, at its rate in messages per second.
func (r *Registry) Wait(ctx context.Context, c model.Channel) error {
	return r.limiter(c).Wait(ctx)
}

func (r *Registry) limiter(c model.Channel) *rate.Limiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, ok := r.limits[c.ID]
	if !ok {
		perSec := c.Rate
		if perSec <= 0 {
			perSec = 1
		}
		l = rate.NewLimiter(rate.Limit(perSec), max(1, int(perSec)))
		r.limits[c.ID] = l
	}
	return l
}

// SlowDown halves channel c's pace after the provider throttled it (never under one
// message every 10 s); the pace stays lower for the life of the process.
func (r *Registry) SlowDown(c model.Channel) {
	l := r.limiter(c)
	if next := l.Limit() / 2; next >= 0.1 {
		l.SetLimit(next)
	}
}

// Limit is channel c's current pace in messages per second.
func (r *Registry) Limit(c model.Channel) float64 { return float64(r.limiter(c).Limit()) }

// KeepAlive is an HTTP transport for provider clients: a campaign keeps many sends in
// flight to one host, and the default transport would keep only two connections open.
func KeepAlive() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 256, 128
	return t
}

// Config reads a channel's non-secret settings into v.
func Config(c model.Channel, v any) error {
	if len(c.Config) == 0 {
		return nil
	}
	return json.Unmarshal(c.Config, v)
}

// Checker is a channel that can ask its provider whether its settings work (the settings
// page's "Test" button); it answers what the provider says of the number or account.
type Checker interface {
	Check(ctx context.Context) (string, error)
}

// Limits are what a provider says a number may send.
type Limits struct {
	// Messaging is the business-initiated limit: unique people per moving 24 hours outside
	// a service window (-1 unlimited, 0 unknown).
	Messaging int
	// PerSecond is the number's throughput (messages per second), 0 when not given.
	PerSecond int
	Quality   string // GREEN, YELLOW, RED, UNKNOWN
}

// LimitReader is a channel that can ask its provider for the number's limits (WhatsApp
// Cloud API): campaigns check them before launch.
type LimitReader interface {
	Limits(ctx context.Context) (Limits, error)
}

// TemplateLister is a channel whose provider keeps approved message templates (WhatsApp
// Cloud API): the inbox syncs them for the composer without knowing the provider.
type TemplateLister interface {
	ListTemplates(ctx context.Context) ([]model.Template, error)
}
