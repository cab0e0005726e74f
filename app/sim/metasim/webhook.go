package metasim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

var (
	// ErrUnknownNumber is returned for a phone number id that AddNumber never registered.
	ErrUnknownNumber = errors.New("metasim: unknown phone number id")
	// ErrNoWebhookURL is returned when the number has no webhook URL to post to.
	ErrNoWebhookURL = errors.New("metasim: number has no webhook URL")
	// ErrUnknownMessage is returned by SendStatus for a wamid the sim never accepted.
	ErrUnknownMessage = errors.New("metasim: unknown message id")
	// ErrChallengeMismatch is returned by Verify when the app answered 200 with another body.
	ErrChallengeMismatch = errors.New("metasim: verification answer is not the challenge")
)

// Sender is the WhatsApp user an inbound message comes from.
type Sender struct {
	WaID string // the user's number, digits only, e.g. "5511999990000"
	Name string // profile name
	// UserID is the business-scoped user id; empty mints one per (portfolio, number), so
	// a new number gets a new one as with Meta. ParentUserID is sent when set.
	UserID, ParentUserID string
	Username             string // the handle the user adopted, if any
	// HidePhone drops wa_id and from, as Meta does for a username user with no recent
	// contact with the business.
	HidePhone bool
}

// MintUserID is the business-scoped user id the sim gives a number within a WABA:
// "<country>.<digits>", stable for the pair.
func MintUserID(wabaID, waID string) string {
	sum := sha256.Sum256([]byte(wabaID + "/" + digits(waID)))
	cc := "US"
	if strings.HasPrefix(digits(waID), "55") {
		cc = "BR"
	}
	n := new(big.Int).SetBytes(sum[:9])
	return cc + "." + n.String()
}

// who completes a sender for number n: its minted user id.
func (from Sender) who(n Number) Sender {
	if from.UserID == "" && from.WaID != "" {
		from.UserID = MintUserID(n.WABAID, from.WaID)
	}
	return from
}

// keys are the sender's keys of the 24-hour window: its number and its user id.
func (from Sender) keys(phoneNumberID string) []conversationKey {
	var ks []conversationKey
	if from.WaID != "" {
		ks = append(ks, conversationKey{phoneNumberID, digits(from.WaID)})
	}
	if from.UserID != "" {
		ks = append(ks, conversationKey{phoneNumberID, from.UserID})
	}
	return ks
}

// Webhook is one POST the sim makes to the app, byte for byte: build one with BuildInbound or
// BuildStatuses to use as a fuzz seed or in a benchmark, or to send it with Deliver.
type Webhook struct {
	URL    string
	Body   []byte
	Header http.Header
}

// Signature is the X-Hub-Signature-256 value of a body: "sha256=" and the hex HMAC-SHA256 of the
// raw body keyed with the app secret.
func Signature(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// WithWrongSignature returns a copy signed with another secret, for testing that the app refuses it.
func (w Webhook) WithWrongSignature() Webhook {
	return w.signed("not-the-app-secret")
}

// signed returns a copy with the body's signatures computed with secret. Meta still sends the
// legacy SHA-1 X-Hub-Signature next to X-Hub-Signature-256.
func (w Webhook) signed(secret string) Webhook {
	h := w.Header.Clone()
	if h == nil {
		h = make(http.Header)
	}
	h.Set("X-Hub-Signature-256", Signature(secret, w.Body))
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write(w.Body)
	h.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(mac.Sum(nil)))
	w.Header = h
	return w
}

// envelope wraps one value in the messages-field envelope and signs it with the number's secret.
func (s *Server) envelope(n Number, v Value) (Webhook, error) {
	v.MessagingProduct = "whatsapp"
	v.Metadata = Metadata{DisplayPhoneNumber: digits(n.DisplayNumber), PhoneNumberID: n.PhoneNumberID}
	body, err := json.Marshal(Envelope{
		Object: "whatsapp_business_account",
		Entry:  []Entry{{ID: n.WABAID, Changes: []Change{{Value: v, Field: "messages"}}}},
	})
	if err != nil {
		return Webhook{}, fmt.Errorf("metasim: encode webhook: %w", err)
	}
	h := make(http.Header)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "facebookexternalua")
	return Webhook{URL: n.WebhookURL, Body: body, Header: h}.signed(n.AppSecret), nil
}

func (s *Server) lookupNumber(phoneNumberID string) (Number, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.numbers[phoneNumberID]
	if n == nil {
		return Number{}, fmt.Errorf("%w: %s", ErrUnknownNumber, phoneNumberID)
	}
	return n.Number, nil
}

func (s *Server) unixNow() string { return strconv.FormatInt(s.now().Unix(), 10) }

// BuildInbound builds the webhook for a message from a WhatsApp user without sending it. It
// fills the message's from, id and timestamp when empty and returns the message as sent. The
// user counts as having written now: the 24-hour window opens and the id can be marked as read.
func (s *Server) BuildInbound(phoneNumberID string, from Sender, m Message) (Webhook, Message, error) {
	n, err := s.lookupNumber(phoneNumberID)
	if err != nil {
		return Webhook{}, Message{}, err
	}
	if m.Type == "" {
		return Webhook{}, Message{}, errors.New("metasim: inbound message without type")
	}
	from = from.who(n)
	if m.From == "" && !from.HidePhone {
		m.From = from.WaID
	}
	m.FromUserID, m.FromParentUserID = from.UserID, from.ParentUserID
	if m.ID == "" {
		m.ID = newWAMID()
	}
	if m.Timestamp == "" {
		m.Timestamp = s.unixNow()
	}
	v := Value{Messages: []Message{m}}
	if m.Type != "system" { // system messages come without contacts
		c := Contact{Profile: Profile{Name: from.Name, Username: from.Username}, UserID: from.UserID, ParentUserID: from.ParentUserID}
		if !from.HidePhone {
			c.WaID = from.WaID
		}
		v.Contacts = []Contact{c}
	}
	w, err := s.envelope(n, v)
	if err != nil {
		return Webhook{}, Message{}, err
	}
	s.mu.Lock()
	for _, k := range from.keys(phoneNumberID) {
		s.lastInbound[k] = s.now()
	}
	s.inbound[m.ID] = phoneNumberID
	s.mu.Unlock()
	return w, m, nil
}

// BuildStatuses builds one status webhook carrying the given statuses, filling empty timestamps
// and, for messages the sim accepted, empty recipient ids and biz_opaque_callback_data.
func (s *Server) BuildStatuses(phoneNumberID string, statuses ...Status) (Webhook, error) {
	n, err := s.lookupNumber(phoneNumberID)
	if err != nil {
		return Webhook{}, err
	}
	statuses = append([]Status(nil), statuses...)
	s.mu.Lock()
	for i := range statuses {
		if statuses[i].Timestamp == "" {
			statuses[i].Timestamp = strconv.FormatInt(s.now().Unix(), 10)
		}
		j, ok := s.sentByID[statuses[i].ID]
		if !ok {
			continue
		}
		if statuses[i].RecipientID == "" && statuses[i].RecipientUserID == "" {
			statuses[i].RecipientID, statuses[i].RecipientUserID = s.sent[j].WaID, s.sent[j].UserID
		}
		// Meta echoes the send's biz_opaque_callback_data on every status of it.
		if statuses[i].BizOpaqueCallbackData == "" {
			statuses[i].BizOpaqueCallbackData = s.sent[j].CallbackData
		}
	}
	s.mu.Unlock()
	return s.envelope(n, Value{Statuses: statuses})
}

// Deliver posts a webhook and returns the HTTP status the app answered. Like Meta it does not
// follow redirects; unlike Meta it does not retry, so tests see every attempt they cause.
func (s *Server) Deliver(ctx context.Context, w Webhook) (int, error) {
	if w.URL == "" {
		return 0, ErrNoWebhookURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(w.Body))
	if err != nil {
		return 0, fmt.Errorf("metasim: webhook request: %w", err)
	}
	req.Header = w.Header.Clone()
	client := *s.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("metasim: post webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// DeliverTwice posts the same webhook twice in a row, as Meta does when it retries a delivery
// the app did acknowledge.
func (s *Server) DeliverTwice(ctx context.Context, w Webhook) (first, second int, err error) {
	if first, err = s.Deliver(ctx, w); err != nil {
		return first, 0, err
	}
	second, err = s.Deliver(ctx, w)
	return first, second, err
}

// InboundMessage builds and posts an inbound message; it returns the message's wamid and the
// HTTP status the app answered.
func (s *Server) InboundMessage(ctx context.Context, phoneNumberID string, from Sender, m Message) (wamid string, status int, err error) {
	w, m, err := s.BuildInbound(phoneNumberID, from, m)
	if err != nil {
		return "", 0, err
	}
	status, err = s.Deliver(ctx, w)
	return m.ID, status, err
}

// ChangeNumber posts what Meta sends when a user moves to a new number: a
// user_changed_number system message from the old identity, then a user_changed_user_id
// one with the user id minted for the new number. It returns the user as they now are.
func (s *Server) ChangeNumber(ctx context.Context, phoneNumberID string, from Sender, newWaID string) (Sender, error) {
	n, err := s.lookupNumber(phoneNumberID)
	if err != nil {
		return from, err
	}
	from = from.who(n)
	next := from
	next.WaID, next.UserID = newWaID, MintUserID(n.WABAID, newWaID)
	for _, sys := range []*System{
		{Type: "user_changed_number", WaID: digits(newWaID), Body: fmt.Sprintf("User %s changed from %s to %s", from.Name, from.WaID, newWaID)},
		{Type: "user_changed_user_id", UserID: next.UserID, Body: fmt.Sprintf("User %s changed their user id", from.Name)},
	} {
		if _, status, err := s.InboundMessage(ctx, phoneNumberID, from, Message{Type: "system", System: sys}); err != nil {
			return from, err
		} else if status != http.StatusOK {
			return from, fmt.Errorf("metasim: system message answered %d", status)
		}
	}
	return next, nil
}

// InboundText posts a text message from a user.
func (s *Server) InboundText(ctx context.Context, phoneNumberID string, from Sender, body string) (string, int, error) {
	return s.InboundMessage(ctx, phoneNumberID, from, Message{Type: "text", Text: &Text{Body: body}})
}

// MediaFile is a file a user sends: Type is image, audio, video, document or sticker.
type MediaFile struct {
	Type     string
	Data     []byte
	MIMEType string // sniffed from Data when empty
	Caption  string // image, video, document
	Filename string // document
	Voice    bool   // audio recorded as a voice note
	Animated bool   // sticker
}

// InboundMedia stores the file as media of the number, so that its id resolves through
// GET /{media_id} and the download URL, and posts the message that carries it.
func (s *Server) InboundMedia(ctx context.Context, phoneNumberID string, from Sender, f MediaFile) (string, int, error) {
	mime := f.MIMEType
	if mime == "" {
		mime = defaultMIME(f.Type, f.Data)
	}
	id := s.AddMedia(phoneNumberID, f.Data, mime)
	sum := sha256.Sum256(f.Data)
	// Webhooks carry the hash base64-encoded; GET /{media_id} gives it in hex.
	media := &Media{
		Caption: f.Caption, Filename: f.Filename, MIMEType: mime,
		SHA256: base64.StdEncoding.EncodeToString(sum[:]), ID: id, Voice: f.Voice,
	}
	m := Message{Type: f.Type}
	switch f.Type {
	case "image":
		m.Image = media
	case "audio":
		m.Audio = media
	case "video":
		m.Video = media
	case "document":
		m.Document = media
	case "sticker":
		animated := f.Animated
		media.Animated = &animated
		m.Sticker = media
	default:
		return "", 0, fmt.Errorf("metasim: %q is not a media message type", f.Type)
	}
	return s.InboundMessage(ctx, phoneNumberID, from, m)
}

func defaultMIME(typ string, data []byte) string {
	switch typ {
	case "sticker":
		return "image/webp"
	case "audio":
		return "audio/ogg; codecs=opus"
	}
	return http.DetectContentType(data)
}

// InboundLocation posts a shared location.
func (s *Server) InboundLocation(ctx context.Context, phoneNumberID string, from Sender, loc Location) (string, int, error) {
	return s.InboundMessage(ctx, phoneNumberID, from, Message{Type: "location", Location: &loc})
}

// InboundContacts posts shared contact cards.
func (s *Server) InboundContacts(ctx context.Context, phoneNumberID string, from Sender, cards ...SharedContact) (string, int, error) {
	return s.InboundMessage(ctx, phoneNumberID, from, Message{Type: "contacts", Contacts: cards})
}

// replyContext points at the business message contextID, sent from the number.
func (s *Server) replyContext(phoneNumberID, contextID string) *MessageContext {
	if contextID == "" {
		return nil
	}
	n, _ := s.lookupNumber(phoneNumberID)
	return &MessageContext{From: digits(n.DisplayNumber), ID: contextID}
}

// InboundButtonReply posts the tap on a reply button of the interactive message contextID.
func (s *Server) InboundButtonReply(ctx context.Context, phoneNumberID string, from Sender, contextID string, r Reply) (string, int, error) {
	return s.InboundMessage(ctx, phoneNumberID, from, Message{
		Type: "interactive", Context: s.replyContext(phoneNumberID, contextID),
		Interactive: &Interactive{Type: "button_reply", ButtonReply: &Reply{ID: r.ID, Title: r.Title}},
	})
}

// InboundListReply posts the choice of a row of the list message contextID.
func (s *Server) InboundListReply(ctx context.Context, phoneNumberID string, from Sender, contextID string, r Reply) (string, int, error) {
	return s.InboundMessage(ctx, phoneNumberID, from, Message{
		Type: "interactive", Context: s.replyContext(phoneNumberID, contextID),
		Interactive: &Interactive{Type: "list_reply", ListReply: &r},
	})
}

// InboundButton posts the tap on a quick reply button of the template message contextID.
func (s *Server) InboundButton(ctx context.Context, phoneNumberID string, from Sender, contextID, text, payload string) (string, int, error) {
	return s.InboundMessage(ctx, phoneNumberID, from, Message{
		Type: "button", Context: s.replyContext(phoneNumberID, contextID),
		Button: &Button{Text: text, Payload: payload},
	})
}

// InboundReaction posts an emoji reaction to messageID; an empty emoji removes the reaction.
func (s *Server) InboundReaction(ctx context.Context, phoneNumberID string, from Sender, messageID, emoji string) (string, int, error) {
	return s.InboundMessage(ctx, phoneNumberID, from, Message{
		Type: "reaction", Reaction: &Reaction{MessageID: messageID, Emoji: emoji},
	})
}

// InboundUnsupported posts a message Cloud API cannot pass on (kind is what the user sent, such
// as "poll_creation" or "edit"), shaped as the unsupported messages webhook reference shows.
func (s *Server) InboundUnsupported(ctx context.Context, phoneNumberID string, from Sender, kind string) (string, int, error) {
	return s.InboundMessage(ctx, phoneNumberID, from, Message{
		Type: "unsupported",
		Errors: []Error{{
			Code: 131051, Title: "Message type unknown", Message: "Message type unknown",
			ErrorData: &ErrorData{Details: "Message type is currently not supported."},
		}},
		Unsupported: &Unsupported{Type: kind},
	})
}

// statusFor builds the status of an accepted message. Following the status webhook reference,
// sent and delivered carry conversation and pricing; read and failed do not.
func (s *Server) statusFor(msg SentMessage, status string) Status {
	now := s.now()
	st := Status{
		ID: msg.ID, Status: status, Timestamp: strconv.FormatInt(now.Unix(), 10),
		RecipientID: msg.WaID, RecipientUserID: msg.UserID, BizOpaqueCallbackData: msg.CallbackData,
	}
	if status == StatusSent || status == StatusDelivered {
		sum := sha256.Sum256([]byte(msg.PhoneNumberID + "/" + msg.WaID + msg.UserID + "/" + msg.category))
		st.Conversation = &Conversation{ID: hex.EncodeToString(sum[:16]), Origin: ConversationOrigin{Type: msg.category}}
		if status == StatusSent {
			st.Conversation.ExpirationTimestamp = strconv.FormatInt(now.Add(24*time.Hour).Unix(), 10)
		}
		st.Pricing = &Pricing{Billable: true, PricingModel: "PMP", Type: "regular", Category: msg.category}
		if msg.category == "service" {
			st.Pricing.Billable, st.Pricing.Type = false, "free_customer_service"
		}
	}
	return st
}

func (s *Server) sentMessage(wamid string) (SentMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.sentByID[wamid]
	if !ok {
		return SentMessage{}, false
	}
	return s.sent[i], true
}

// SendStatus posts a status (sent, delivered or read) for a message the sim accepted.
func (s *Server) SendStatus(ctx context.Context, phoneNumberID, wamid, status string) (int, error) {
	msg, ok := s.sentMessage(wamid)
	if !ok {
		return 0, fmt.Errorf("%w: %s", ErrUnknownMessage, wamid)
	}
	return s.SendStatuses(ctx, phoneNumberID, s.statusFor(msg, status))
}

// SendFailed posts a failed status with e (see CloudError) for a message the sim accepted.
func (s *Server) SendFailed(ctx context.Context, phoneNumberID, wamid string, e Error) (int, error) {
	msg, ok := s.sentMessage(wamid)
	if !ok {
		return 0, fmt.Errorf("%w: %s", ErrUnknownMessage, wamid)
	}
	st := s.statusFor(msg, StatusFailed)
	st.Errors = []Error{e}
	return s.SendStatuses(ctx, phoneNumberID, st)
}

// SendStatuses posts one webhook with any statuses, for ids the sim never saw too.
func (s *Server) SendStatuses(ctx context.Context, phoneNumberID string, statuses ...Status) (int, error) {
	w, err := s.BuildStatuses(phoneNumberID, statuses...)
	if err != nil {
		return 0, err
	}
	return s.Deliver(ctx, w)
}

// SendReadBeforeDelivered posts "read" and then "delivered" for the same message, the order
// Meta sometimes uses, so the app can be checked not to move a status backwards.
func (s *Server) SendReadBeforeDelivered(ctx context.Context, phoneNumberID, wamid string) (read, delivered int, err error) {
	if read, err = s.SendStatus(ctx, phoneNumberID, wamid, StatusRead); err != nil {
		return read, 0, err
	}
	delivered, err = s.SendStatus(ctx, phoneNumberID, wamid, StatusDelivered)
	return read, delivered, err
}

// Verify makes Meta's subscription handshake against the app's webhook URL:
// GET url?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…. It returns the body the app
// answered and its HTTP status; err is ErrChallengeMismatch when the app answered 200 without
// echoing the challenge.
func (s *Server) Verify(ctx context.Context, webhookURL, verifyToken string) (challenge string, status int, err error) {
	u, err := url.Parse(webhookURL)
	if err != nil {
		return "", 0, fmt.Errorf("metasim: verify url: %w", err)
	}
	want := numericID(10)
	q := u.Query()
	q.Set("hub.mode", "subscribe")
	q.Set("hub.challenge", want)
	q.Set("hub.verify_token", verifyToken)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", 0, fmt.Errorf("metasim: verify request: %w", err)
	}
	req.Header.Set("User-Agent", "facebookplatform/1.0 (+http://developers.facebook.com)")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("metasim: verify: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if err != nil {
		return "", resp.StatusCode, fmt.Errorf("metasim: verify body: %w", err)
	}
	got := strings.TrimSpace(string(body))
	if resp.StatusCode == http.StatusOK && got != want {
		return got, resp.StatusCode, ErrChallengeMismatch
	}
	return got, resp.StatusCode, nil
}
