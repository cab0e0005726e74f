package wameow

import (
	"encoding/hex"
	"encoding/json"
	"strings"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"masteria/app/channel"
	"masteria/app/model"
)

// Skip says why a WhatsApp event is not an inbox message.
type Skip string

// Reasons an event is skipped.
const (
	SkipNone      Skip = ""
	SkipGroup     Skip = "group"     // groups and channels are not conversations with one customer
	SkipBroadcast Skip = "broadcast" // status updates
	SkipFromMe    Skip = "from_me"   // sent from the linked phone or by us
	SkipNoPhone   Skip = "no_phone"  // a sender with neither a number nor a LID
	SkipEmpty     Skip = "empty"     // protocol messages: revokes, key shares, edits of nothing
)

// Phone is the E.164 number of a user JID, or "" when the JID is not a phone number (a
// LID, a group, a newsletter).
func Phone(jid types.JID) string {
	if jid.Server != types.DefaultUserServer || jid.User == "" {
		return ""
	}
	for _, r := range jid.User {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return "+" + jid.User
}

// senderPhone is the customer's number: the sender's JID when it is a phone number,
// otherwise its alternative address (WhatsApp sends both when it hides numbers behind LIDs).
func senderPhone(info types.MessageInfo) string {
	if p := Phone(info.Sender.ToNonAD()); p != "" {
		return p
	}
	return Phone(info.SenderAlt.ToNonAD())
}

// senderLID is the sender's hidden-number address (LID), when WhatsApp gave one: it finds
// the contact too, and reaches a person whose number is not known.
func senderLID(info types.MessageInfo) string {
	for _, j := range []types.JID{info.Sender.ToNonAD(), info.SenderAlt.ToNonAD()} {
		if j.Server == types.HiddenUserServer && j.User != "" {
			return j.String()
		}
	}
	return ""
}

// Inbound turns a WhatsApp message into an inbox message. Only a customer's message in a
// one-to-one chat is one: groups, broadcasts, our own messages and protocol messages are
// skipped, and Skip says why.
func Inbound(evt *events.Message) (channel.Inbound, Skip) {
	info := evt.Info
	switch {
	case info.Chat.ToNonAD() == types.StatusBroadcastJID:
		return channel.Inbound{}, SkipBroadcast
	case info.Chat.IsBroadcastList():
		// A customer's broadcast list shows in their direct chat, like a message to us.
	case info.IsGroup || info.Chat.Server == types.GroupServer || info.Chat.Server == types.NewsletterServer:
		return channel.Inbound{}, SkipGroup
	case info.IsFromMe:
		return channel.Inbound{}, SkipFromMe
	}
	from, lid := senderPhone(info), senderLID(info)
	if from == "" && lid == "" {
		return channel.Inbound{}, SkipNoPhone
	}
	kind, body, content := message(evt.Message)
	if kind == "" {
		return channel.Inbound{}, SkipEmpty
	}
	if content == nil {
		content = map[string]any{}
	}
	if evt.IsViewOnce {
		content["view_once"] = true
	}
	b, _ := json.Marshal(content)
	return channel.Inbound{
		From:       from,
		LID:        lid,
		Name:       strings.TrimSpace(info.PushName),
		ProviderID: info.ID,
		Kind:       kind,
		Body:       body,
		Content:    b,
		At:         info.Timestamp,
	}, SkipNone
}

// message reads the kind, the text and the details of a message, with the same kind names
// the Cloud API uses, so the inbox shows both alike. An empty kind is nothing to show.
func message(m *waE2E.Message) (kind, body string, content map[string]any) {
	if m == nil {
		return "", "", nil
	}
	switch {
	case m.GetConversation() != "":
		return "text", m.GetConversation(), nil
	case m.GetExtendedTextMessage() != nil:
		t := m.GetExtendedTextMessage()
		var c map[string]any
		if u := t.GetMatchedText(); u != "" {
			c = map[string]any{"link": u}
		}
		return "text", t.GetText(), c
	case m.GetImageMessage() != nil:
		x := m.GetImageMessage()
		return "image", x.GetCaption(), media("image", x)
	case m.GetVideoMessage() != nil:
		x := m.GetVideoMessage()
		c := media("video", x)
		if s := x.GetSeconds(); s > 0 {
			c["seconds"] = s
		}
		return "video", x.GetCaption(), c
	case m.GetAudioMessage() != nil:
		x := m.GetAudioMessage()
		c := media("audio", x)
		if s := x.GetSeconds(); s > 0 {
			c["seconds"] = s
		}
		if x.GetPTT() {
			c["voice"] = true
		}
		return "audio", "", c
	case m.GetDocumentMessage() != nil:
		x := m.GetDocumentMessage()
		c := media("document", x)
		name := x.GetFileName()
		if name == "" {
			name = x.GetTitle()
		}
		if name != "" {
			c["filename"] = name
		}
		return "document", x.GetCaption(), c
	case m.GetStickerMessage() != nil:
		x := m.GetStickerMessage()
		c := media("sticker", x)
		if x.GetIsAnimated() {
			c["animated"] = true
		}
		return "sticker", "", c
	case m.GetLocationMessage() != nil:
		x := m.GetLocationMessage()
		return "location", x.GetName(), location(x.GetDegreesLatitude(), x.GetDegreesLongitude(), x.GetName(), x.GetAddress())
	case m.GetLiveLocationMessage() != nil:
		x := m.GetLiveLocationMessage()
		c := location(x.GetDegreesLatitude(), x.GetDegreesLongitude(), "", "")
		c["live"] = true
		return "location", x.GetCaption(), c
	case m.GetContactMessage() != nil:
		x := m.GetContactMessage()
		return "contacts", x.GetDisplayName(), map[string]any{"contacts": []map[string]string{contact(x)}}
	case m.GetContactsArrayMessage() != nil:
		x := m.GetContactsArrayMessage()
		list := make([]map[string]string, 0, len(x.GetContacts()))
		for _, c := range x.GetContacts() {
			list = append(list, contact(c))
		}
		body := x.GetDisplayName()
		if body == "" && len(list) > 0 {
			body = list[0]["name"]
		}
		return "contacts", body, map[string]any{"contacts": list}
	case m.GetReactionMessage() != nil:
		x := m.GetReactionMessage()
		// An empty emoji takes a reaction back; the thread shows it as such.
		return "reaction", x.GetText(), map[string]any{"message_id": x.GetKey().GetID(), "emoji": x.GetText()}
	case m.GetButtonsResponseMessage() != nil:
		x := m.GetButtonsResponseMessage()
		return "button", x.GetSelectedDisplayText(), map[string]any{"id": x.GetSelectedButtonID()}
	case m.GetListResponseMessage() != nil:
		x := m.GetListResponseMessage()
		return "interactive", x.GetTitle(), map[string]any{"id": x.GetSingleSelectReply().GetSelectedRowID()}
	case m.GetTemplateButtonReplyMessage() != nil:
		x := m.GetTemplateButtonReplyMessage()
		return "button", x.GetSelectedDisplayText(), map[string]any{"id": x.GetSelectedID()}
	}
	return "", "", nil
}

// media is a file's content: its type, hash and size, and as "id" the details to download
// it later (see mediaRef), as a Meta media id is for the Cloud API.
func media(kind string, x downloadable) map[string]any {
	c := map[string]any{}
	if ref := encodeRef(kind, x); ref != "" {
		c["id"] = ref
	}
	if mime := x.GetMimetype(); mime != "" {
		c["mime_type"] = mime
	}
	if sha := x.GetFileSHA256(); len(sha) > 0 {
		c["sha256"] = hex.EncodeToString(sha)
	}
	if size := x.GetFileLength(); size > 0 {
		c["file_length"] = size
	}
	return c
}

func location(lat, lng float64, name, address string) map[string]any {
	c := map[string]any{"latitude": lat, "longitude": lng}
	if name != "" {
		c["name"] = name
	}
	if address != "" {
		c["address"] = address
	}
	return c
}

func contact(c *waE2E.ContactMessage) map[string]string {
	return map[string]string{"name": c.GetDisplayName(), "vcard": c.GetVcard()}
}

// Receipt turns a WhatsApp receipt of messages we sent into an inbox status and the ids it
// applies to; ok is false for receipts the inbox does not track (our other devices reading,
// retries, groups).
func Receipt(evt *events.Receipt) (status string, ids []string, ok bool) {
	if evt.IsGroup || evt.IsFromMe || len(evt.MessageIDs) == 0 {
		return "", nil, false
	}
	switch evt.Type {
	case types.ReceiptTypeDelivered:
		status = model.StatusDelivered
	case types.ReceiptTypeRead, types.ReceiptTypePlayed:
		status = model.StatusRead
	default:
		return "", nil, false
	}
	ids = make([]string, len(evt.MessageIDs))
	copy(ids, evt.MessageIDs)
	return status, ids, true
}
