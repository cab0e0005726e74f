package meta

import (
	"crypto/subtle"
	"net/http"
	"net/url"

	"masteria/app/channel"
	"masteria/app/model"
)

// Hook is the WhatsApp Cloud API webhook: the subscription handshake (verify token) and
// notifications signed with X-Hub-Signature-256 (the app secret).
type Hook struct{}

var _ channel.Webhook = Hook{}

// Kind is model.KindWhatsAppCloud.
func (Hook) Kind() string { return model.KindWhatsAppCloud }

// Handshake answers hub.challenge when hub.verify_token is the channel's verify token.
func (Hook) Handshake(q url.Values, secrets map[string]string) (string, error) {
	token := q.Get("hub.verify_token")
	if q.Get("hub.mode") != "subscribe" || secrets["verify_token"] == "" ||
		subtle.ConstantTimeCompare([]byte(token), []byte(secrets["verify_token"])) != 1 {
		return "", channel.ErrRefused
	}
	return q.Get("hub.challenge"), nil
}

// Verify checks X-Hub-Signature-256 with the channel's app secret.
func (Hook) Verify(r channel.WebhookRequest, secrets map[string]string) bool {
	return VerifySignature(r.Body, r.Header.Get("X-Hub-Signature-256"), secrets["app_secret"])
}

// Parse reads the messages and statuses of a notification, with the senders' user ids,
// usernames and identity changes, the statuses' Ref (biz_opaque_callback_data), and the
// account notices (template status and quality, number quality, messaging limit).
func (Hook) Parse(r channel.WebhookRequest) (channel.WebhookBatch, error) {
	out := channel.WebhookBatch{Reply: channel.WebhookReply{Status: http.StatusOK}}
	b, err := Parse(r.Body)
	if err != nil {
		return out, err
	}
	for _, m := range b.Messages {
		in := channel.Inbound{From: m.From, UserID: m.UserID, ParentUserID: m.ParentUserID, Username: m.Username,
			Name: m.Name, ProviderID: m.ID, Kind: m.Type, Body: m.Body, Content: m.Content, At: m.At, SharedPhone: m.SharedPhone}
		if m.System != nil {
			in.NewPhone, in.NewUserID, in.NewParentUserID = m.System.NewPhone, m.System.NewUserID, m.System.NewParentUserID
		}
		out.Messages = append(out.Messages, in)
	}
	for _, st := range b.Statuses {
		out.Statuses = append(out.Statuses, channel.StatusUpdate{ProviderID: st.ID, Status: st.Status, ErrorCode: st.ErrorCode,
			ErrorTitle: st.ErrorTitle, Ref: st.Ref})
	}
	out.Notices = b.Notices
	return out, nil
}
