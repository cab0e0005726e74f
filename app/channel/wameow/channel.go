package wameow

import (
	"context"
	"fmt"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"

	"masteria/app/channel"
	"masteria/app/model"
)

// Factory is the channel.Factory of WhatsApp QR channels: their sends go through the live
// session this manager runs.
func (m *Manager) Factory(c model.Channel, _ map[string]string, _ channel.StatusFunc) (channel.Channel, error) {
	return &qrChannel{m: m, ch: c}, nil
}

type qrChannel struct {
	m  *Manager
	ch model.Channel
}

func (c *qrChannel) Kind() string { return model.KindWhatsAppQR }

// Capabilities: text and files, with delivery and read receipts. Templates are a Cloud API
// feature, and a linked phone has no 24-hour window.
func (c *qrChannel) Capabilities() channel.Capabilities {
	return channel.Capabilities{Media: true, ReadReceipts: true}
}

// Send sends a text from the linked number. Only the instance that runs the session can:
// elsewhere it is ErrNotHere, a temporary error the send job retries.
func (c *qrChannel) Send(ctx context.Context, o channel.Outbound) (channel.Sent, error) {
	if c.ch.Status != "connected" {
		return channel.Sent{}, &channel.SendError{Code: "not_connected", Title: "The WhatsApp number is not connected.", Permanent: true}
	}
	to, err := userJID(o.To)
	if o.To == "" && o.Recipient != "" { // a person known by their LID only
		to, err = types.ParseJID(o.Recipient)
	}
	if err != nil {
		return channel.Sent{}, err
	}
	cli := c.m.client(c.ch.ID)
	if cli == nil || !cli.IsLoggedIn() {
		return channel.Sent{}, ErrNotHere
	}
	msg, err := outbound(ctx, o, cli.Upload)
	if err != nil {
		return channel.Sent{}, err
	}
	resp, err := cli.SendMessage(ctx, to, msg)
	if err != nil {
		return channel.Sent{}, fmt.Errorf("wameow: send: %w", err)
	}
	return channel.Sent{ProviderID: resp.ID}, nil
}

// outbound is the WhatsApp message of an inbox message, its file uploaded first; what a
// linked device does not send (templates, files only known by a link) is refused for good.
func outbound(ctx context.Context, o channel.Outbound, upload uploader) (*waE2E.Message, error) {
	if o.Template != nil || o.MediaURL != "" {
		return nil, &channel.SendError{Code: "unsupported", Title: "A linked WhatsApp number sends text and files, not templates or links to files.", Permanent: true}
	}
	if o.Media != nil {
		return mediaMessage(ctx, o, upload)
	}
	if o.Kind != "" && o.Kind != "text" {
		return nil, &channel.SendError{Code: "unsupported", Title: "A linked WhatsApp number cannot send this kind of message.", Permanent: true}
	}
	if o.Body == "" {
		return nil, &channel.SendError{Code: "empty", Title: "The message is empty.", Permanent: true}
	}
	return &waE2E.Message{Conversation: proto.String(o.Body)}, nil
}

// userJID is the WhatsApp address of an E.164 number.
func userJID(e164 string) (types.JID, error) {
	jid := types.NewJID(stripPlus(e164), types.DefaultUserServer)
	if Phone(jid) == "" || len(jid.User) < 7 {
		return types.JID{}, &channel.SendError{Code: "bad_number", Title: "The phone number is not valid.", Permanent: true}
	}
	return jid, nil
}

func stripPlus(s string) string {
	if len(s) > 0 && s[0] == '+' {
		return s[1:]
	}
	return s
}
