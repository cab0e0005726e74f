package channel

import (
	"errors"
	"net/http"
	"net/url"
)

// WebhookRequest is one request a provider made to a channel's webhook URL.
type WebhookRequest struct {
	Query  url.Values
	Header http.Header
	Body   []byte
	URL    string // the full public URL the provider was given (Twilio signs it)
}

// WebhookReply is what the provider gets back after a notification was taken.
type WebhookReply struct {
	Status      int
	ContentType string
	Body        []byte
}

// WebhookBatch is what one notification carries, as channel-level values.
type WebhookBatch struct {
	Messages []Inbound
	Statuses []StatusUpdate
	// Notices are the provider's words about the account (template status, quality,
	// limits), for a receiver that is a NoticeReceiver.
	Notices []Notice
	Reply   WebhookReply
}

// Webhook is how one channel kind takes its provider's notifications: it checks them
// with the channel's secrets and turns them into channel values. The web layer serves
// every kind through it, at /webhooks/{provider}/{channel}.
type Webhook interface {
	Kind() string // the channel kind it serves, e.g. model.KindWhatsAppCloud
	// Handshake answers a GET the provider makes to subscribe (Meta's verify token):
	// ErrNoHandshake when the kind has none, ErrRefused for a wrong token.
	Handshake(query url.Values, secrets map[string]string) (string, error)
	// Verify checks the notification's signature with the channel's secrets.
	Verify(r WebhookRequest, secrets map[string]string) bool
	// Parse reads a verified notification; an error is a body that is not one (400).
	Parse(r WebhookRequest) (WebhookBatch, error)
}

var (
	// ErrNoHandshake is a GET to a webhook whose provider makes none.
	ErrNoHandshake = errors.New("channel: this webhook has no handshake")
	// ErrRefused is a handshake with the wrong token.
	ErrRefused = errors.New("channel: wrong verify token")
)

// RegisterWebhook makes a kind's webhook answer at /webhooks/{path}/{channel}.
func (r *Registry) RegisterWebhook(path string, w Webhook) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hooks == nil {
		r.hooks = map[string]Webhook{}
	}
	r.hooks[path] = w
}

// Webhook is the webhook registered at path, if any.
func (r *Registry) Webhook(path string) (Webhook, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.hooks[path]
	return w, ok
}
