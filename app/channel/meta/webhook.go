// Package meta is the WhatsApp Business Cloud API channel: the webhook Meta posts (messages
// and statuses, signed with the app secret) and, later, the Graph API client that sends.
package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"masteria/app/channel"
)

// VerifySignature checks the X-Hub-Signature-256 header ("sha256=<hex>"): an HMAC-SHA256 of
// the raw body with the app secret, compared in constant time.
func VerifySignature(body []byte, header, appSecret string) bool {
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok || appSecret == "" {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Sign is the header value Meta sends for body; the simulator and tests use it.
func Sign(body []byte, appSecret string) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Message is one customer message from a webhook, whatever its type.
type Message struct {
	PhoneNumberID string // the business number it was sent to
	From          string // E.164; empty when Meta withholds it (a username user)
	// UserID is the sender's business-scoped user id (BSUID, e.g. "BR.1349…"), ParentUserID
	// its parent id when linked portfolios share one, Username the handle they adopted.
	UserID, ParentUserID, Username string
	Name                           string // the customer's WhatsApp profile name
	// System is an identity change ("system" messages): the person's new number or user id.
	System *System
	// SharedPhone is the person's own number, in a "contacts" message that answers a request
	// for their contact information.
	SharedPhone string
	ID          string // wamid…
	Type        string // text, image, audio, video, document, sticker, location, contacts, interactive, button, reaction, unsupported
	Body        string // the text, a caption, a button's title, a reaction's emoji
	// Content keeps the type's own object as Meta sent it (media id and mime type, location,
	// contacts, reply ids, errors), for the thread to show and media to be fetched.
	Content json.RawMessage
	At      time.Time
}

// System is what a "system" message says changed: user_changed_number (NewPhone) or
// user_changed_user_id (NewUserID, NewParentUserID).
type System struct {
	Type, NewPhone, NewUserID, NewParentUserID string
}

// Status is a delivery report of a message the business sent.
type Status struct {
	PhoneNumberID string
	ID            string // the wamid of the sent message
	Status        string // sent, delivered, read, failed
	Recipient     string // the phone it was sent to, when it was sent to one
	RecipientUser string // the user id it was sent to, when sent by "recipient"
	At            time.Time
	ErrorCode     string
	ErrorTitle    string
	// Ref is the biz_opaque_callback_data the send carried (channel.Outbound.Ref).
	Ref string
}

// Batch is what one webhook POST carries.
type Batch struct {
	Messages []Message
	Statuses []Status
	// Notices are the account fields' changes: template status and quality, the number's
	// quality and the messaging limit.
	Notices []channel.Notice
}

// ErrNotWhatsApp is a body that is JSON but not a WhatsApp Business Account notification.
var ErrNotWhatsApp = errors.New("meta: not a whatsapp_business_account notification")

// The envelope, as Meta's webhook references show it; each change's value is read by its
// field.
type envelope struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string `json:"id"`
		Changes []struct {
			Field string          `json:"field"`
			Value json.RawMessage `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

// messagesValue is the value of a "messages" change.
type messagesValue struct {
	MessagingProduct string `json:"messaging_product"`
	Metadata         struct {
		PhoneNumberID string `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts []struct {
		Profile struct {
			Name     string `json:"name"`
			Username string `json:"username"`
		} `json:"profile"`
		WaID         string `json:"wa_id"`
		UserID       string `json:"user_id"`
		ParentUserID string `json:"parent_user_id"`
	} `json:"contacts"`
	Messages []json.RawMessage `json:"messages"`
	Statuses []struct {
		ID              string     `json:"id"`
		Status          string     `json:"status"`
		Timestamp       string     `json:"timestamp"`
		RecipientID     string     `json:"recipient_id"`
		RecipientUserID string     `json:"recipient_user_id"`
		BizOpaque       string     `json:"biz_opaque_callback_data"`
		Errors          []apiError `json:"errors"`
	} `json:"statuses"`
}

type apiError struct {
	Code    int    `json:"code"`
	Title   string `json:"title"`
	Message string `json:"message"`
}

// rawMessage is the part of a message every type shares.
type rawMessage struct {
	From             string `json:"from"`
	FromUserID       string `json:"from_user_id"`
	FromParentUserID string `json:"from_parent_user_id"`
	System           *struct {
		Type         string `json:"type"`
		WaID         string `json:"wa_id"`
		NewWaID      string `json:"new_wa_id"` // older payloads
		UserID       string `json:"user_id"`
		ParentUserID string `json:"parent_user_id"`
		Body         string `json:"body"`
	} `json:"system"`
	Contacts []struct {
		Origin string `json:"origin"`
		Phones []struct {
			WaID string `json:"wa_id"`
		} `json:"phones"`
	} `json:"contacts"`
	Origin    string `json:"origin"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Type      string `json:"type"`
	Text      *struct {
		Body string `json:"body"`
	} `json:"text"`
	Interactive *struct {
		Type        string                      `json:"type"`
		ButtonReply *struct{ ID, Title string } `json:"button_reply"`
		ListReply   *struct{ ID, Title string } `json:"list_reply"`
	} `json:"interactive"`
	Button *struct {
		Payload string `json:"payload"`
		Text    string `json:"text"`
	} `json:"button"`
	Reaction *struct {
		MessageID string `json:"message_id"`
		Emoji     string `json:"emoji"`
	} `json:"reaction"`
	Errors []apiError `json:"errors"`
}

// captioned are the media types whose object may carry a caption.
var captioned = map[string]bool{"image": true, "video": true, "document": true}

// Parse reads a webhook body. Unknown fields are ignored; a message missing its sender or
// id is an error, so a malformed notification is refused rather than half stored.
func Parse(body []byte) (Batch, error) {
	var b Batch
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return b, fmt.Errorf("meta: webhook body: %w", err)
	}
	if env.Object != "whatsapp_business_account" {
		return b, ErrNotWhatsApp
	}
	for _, e := range env.Entry {
		for _, ch := range e.Changes {
			if ch.Field != "messages" {
				// Account fields (template status and quality, number quality, capability):
				// a change that cannot be read is skipped, the others of the batch are kept.
				if n, ok := parseNotice(ch.Field, ch.Value); ok {
					b.Notices = append(b.Notices, n)
				}
				continue
			}
			var v messagesValue
			if len(ch.Value) == 0 {
				continue
			}
			if err := json.Unmarshal(ch.Value, &v); err != nil {
				return b, fmt.Errorf("meta: webhook value: %w", err)
			}
			for _, raw := range v.Messages {
				m, err := parseMessage(raw)
				if err != nil {
					return b, err
				}
				m.PhoneNumberID = v.Metadata.PhoneNumberID
				// The sender's contacts[] entry: by phone or by user id (either may be missing).
				for _, c := range v.Contacts {
					if (c.WaID != "" && "+"+c.WaID == m.From) || (c.UserID != "" && c.UserID == m.UserID) || len(v.Contacts) == 1 {
						m.Name, m.Username = c.Profile.Name, c.Profile.Username
						if m.UserID == "" {
							m.UserID = c.UserID
						}
						if m.ParentUserID == "" {
							m.ParentUserID = c.ParentUserID
						}
						if m.From == "" && c.WaID != "" {
							m.From = "+" + c.WaID
						}
						break
					}
				}
				if m.From == "" && m.UserID == "" && m.ParentUserID == "" {
					return b, fmt.Errorf("meta: a message without a sender")
				}
				b.Messages = append(b.Messages, m)
			}
			for _, s := range v.Statuses {
				if s.ID == "" || s.Status == "" {
					return b, fmt.Errorf("meta: a status without id or status")
				}
				st := Status{PhoneNumberID: v.Metadata.PhoneNumberID, ID: s.ID, Status: s.Status, Recipient: s.RecipientID,
					RecipientUser: s.RecipientUserID, At: unix(s.Timestamp), Ref: s.BizOpaque}
				if len(s.Errors) > 0 {
					st.ErrorCode, st.ErrorTitle = strconv.Itoa(s.Errors[0].Code), s.Errors[0].Title
				}
				b.Statuses = append(b.Statuses, st)
			}
		}
	}
	return b, nil
}

func parseMessage(raw json.RawMessage) (Message, error) {
	var r rawMessage
	if err := json.Unmarshal(raw, &r); err != nil {
		return Message{}, fmt.Errorf("meta: message: %w", err)
	}
	if r.ID == "" || r.Type == "" {
		return Message{}, fmt.Errorf("meta: a message without id or type")
	}
	m := Message{From: e164(r.From), UserID: r.FromUserID, ParentUserID: r.FromParentUserID, ID: r.ID, Type: r.Type, At: unix(r.Timestamp)}
	if r.System != nil {
		newPhone := r.System.WaID
		if newPhone == "" {
			newPhone = r.System.NewWaID
		}
		m.System = &System{Type: r.System.Type, NewPhone: e164(newPhone), NewUserID: r.System.UserID, NewParentUserID: r.System.ParentUserID}
		m.Body = r.System.Body
	}
	// The answer to a request for contact information shares the person's own number.
	if r.Type == "contacts" && len(r.Contacts) == 1 && (r.Origin == "contact_request" || r.Contacts[0].Origin == "contact_request") &&
		len(r.Contacts[0].Phones) > 0 {
		m.SharedPhone = e164(r.Contacts[0].Phones[0].WaID)
	}
	// The type's own object (e.g. "image": {...}) is kept whole.
	var all map[string]json.RawMessage
	_ = json.Unmarshal(raw, &all)
	if obj, ok := all[r.Type]; ok {
		m.Content = obj
	}
	switch {
	case r.Type == "text" && r.Text != nil:
		m.Body = r.Text.Body
	case captioned[r.Type]:
		var media struct {
			Caption string `json:"caption"`
		}
		_ = json.Unmarshal(m.Content, &media)
		m.Body = media.Caption
	case r.Type == "interactive" && r.Interactive != nil:
		if r.Interactive.ButtonReply != nil {
			m.Body = r.Interactive.ButtonReply.Title
		} else if r.Interactive.ListReply != nil {
			m.Body = r.Interactive.ListReply.Title
		}
	case r.Type == "button" && r.Button != nil:
		m.Body = r.Button.Text
	case r.Type == "reaction" && r.Reaction != nil:
		m.Body = r.Reaction.Emoji
	case r.Type == "unsupported" && len(r.Errors) > 0:
		b, _ := json.Marshal(map[string]any{"errors": r.Errors})
		m.Content = b
	}
	if len(m.Content) == 0 {
		m.Content = json.RawMessage("{}")
	}
	return m, nil
}

// e164 is a WhatsApp id (digits) as a phone number; "" stays "".
func e164(waID string) string {
	if waID == "" || strings.HasPrefix(waID, "+") {
		return waID
	}
	return "+" + waID
}

// unix reads Meta's timestamps (seconds since 1970, as a string); now when unreadable.
func unix(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Now()
	}
	return time.Unix(n, 0)
}
