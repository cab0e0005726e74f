package twilio

import (
	"encoding/json"
	"net/http"
	"net/url"

	"masteria/app/channel"
	"masteria/app/model"
)

// Hook is the Twilio SMS webhook: inbound messages and status callbacks, signed with
// X-Twilio-Signature over the public URL Twilio was given.
type Hook struct{}

var _ channel.Webhook = Hook{}

// Kind is model.KindTwilioSMS.
func (Hook) Kind() string { return model.KindTwilioSMS }

// Handshake: Twilio makes none.
func (Hook) Handshake(url.Values, map[string]string) (string, error) {
	return "", channel.ErrNoHandshake
}

// Verify checks X-Twilio-Signature with the channel's auth token, over the full URL Twilio
// requested, query included (a status callback carries its send's ref=<Ref> there).
func (Hook) Verify(r channel.WebhookRequest, secrets map[string]string) bool {
	form, err := url.ParseQuery(string(r.Body))
	return err == nil && VerifySignature(secrets["auth_token"], r.URL, form, r.Header.Get("X-Twilio-Signature"))
}

// twiml is an empty answer: no automatic reply (Twilio's own opt-out handling answers STOP).
var twiml = []byte(`<?xml version="1.0" encoding="UTF-8"?><Response></Response>`)

// Parse reads the form: an inbound SMS (its STOP/START keyword too) or a status callback.
func (Hook) Parse(r channel.WebhookRequest) (channel.WebhookBatch, error) {
	var b channel.WebhookBatch
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return b, ErrNotTwilio
	}
	in, st, err := Parse(form)
	if err != nil {
		return b, err
	}
	if st != nil {
		if status := Status(st.Status); status != "" {
			b.Statuses = append(b.Statuses, channel.StatusUpdate{ProviderID: st.SID, Status: status, ErrorCode: st.ErrorCode, Ref: ref(r)})
		}
		b.Reply = channel.WebhookReply{Status: http.StatusNoContent}
		return b, nil
	}
	content := map[string]any{}
	if len(in.Media) > 0 {
		content["media"] = in.Media
	}
	raw, _ := json.Marshal(content)
	b.Messages = append(b.Messages, channel.Inbound{From: in.From, ProviderID: in.SID, Kind: "text", Body: in.Body, Content: raw,
		Keyword: Keyword(in.Body)})
	b.Reply = channel.WebhookReply{Status: http.StatusOK, ContentType: "text/xml", Body: twiml}
	return b, nil
}

// ref is the send's Ref, a query parameter of the StatusCallback URL (see callbackURL).
func ref(r channel.WebhookRequest) string {
	if v := r.Query.Get("ref"); v != "" {
		return v
	}
	if u, err := url.Parse(r.URL); err == nil {
		return u.Query().Get("ref")
	}
	return ""
}
