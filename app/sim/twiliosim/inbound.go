package twiliosim

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// InboundOption changes one incoming message.
type InboundOption func(*inboundOptions)

type inboundOptions struct {
	media          []media
	files          []mediaFile
	wrongSignature bool
	sid            string
}

type media struct{ url, contentType string }

// WithMedia attaches a media item, sent as MediaUrlN and MediaContentTypeN; the message then
// gets an MM SID, as MMS do.
func WithMedia(url, contentType string) InboundOption {
	return func(o *inboundOptions) { o.media = append(o.media, media{url, contentType}) }
}

// WithWrongSignature signs the request with a token that is not the account's: a forged
// request the app must refuse. Since it never went through Twilio it changes nothing in the sim
// (no stored message, no opt-out).
func WithWrongSignature() InboundOption {
	return func(o *inboundOptions) { o.wrongSignature = true }
}

// WithMessageSid gives the message this SID instead of a new one.
func WithMessageSid(sid string) InboundOption {
	return func(o *inboundOptions) { o.sid = sid }
}

// InboundResult is the app's answer to an incoming message webhook.
type InboundResult struct {
	MessageSid string
	Status     int    // the app's HTTP status
	Body       string // the app's answer, usually TwiML
}

// Inbound delivers a message from the handset from to the number numberSid the way Twilio does:
// it applies opt-out keywords first (Advanced Opt-Out), then posts the signed webhook to the
// number's SMS URL and returns the app's answer.
func (s *Server) Inbound(ctx context.Context, numberSid, from, body string, opts ...InboundOption) (InboundResult, error) {
	raw, o, err := s.buildInbound(numberSid, from, body, opts)
	if err != nil {
		return InboundResult{}, err
	}
	s.mu.Lock()
	s.inbound[raw.MessageSid] = raw
	if !o.wrongSignature {
		s.receive(numberSid, from, body, raw.MessageSid, o.media)
	}
	s.mu.Unlock()
	return s.deliverInbound(ctx, raw)
}

// InboundRequest builds the webhook request Inbound would send, without sending it or changing
// anything in the sim: raw body and headers for fuzz seeds and benchmarks.
func (s *Server) InboundRequest(numberSid, from, body string, opts ...InboundOption) (RawRequest, error) {
	raw, _, err := s.buildInbound(numberSid, from, body, opts)
	return raw, err
}

// Redeliver sends an earlier incoming message webhook again, byte for byte with the same
// signature and idempotency token, as Twilio does when it retries: the app must not store the
// message twice.
func (s *Server) Redeliver(ctx context.Context, messageSid string) (InboundResult, error) {
	s.mu.Lock()
	raw, ok := s.inbound[messageSid]
	s.mu.Unlock()
	if !ok {
		return InboundResult{}, fmt.Errorf("twiliosim: no incoming message %s", messageSid)
	}
	return s.deliverInbound(ctx, raw)
}

func (s *Server) deliverInbound(ctx context.Context, raw RawRequest) (InboundResult, error) {
	status, answer, err := s.post(ctx, raw)
	return InboundResult{MessageSid: raw.MessageSid, Status: status, Body: string(answer)}, err
}

// buildInbound makes the signed webhook of an incoming SMS and returns the options it applied.
func (s *Server) buildInbound(numberSid, from, body string, opts []InboundOption) (RawRequest, inboundOptions, error) {
	var o inboundOptions
	for _, opt := range opts {
		opt(&o)
	}
	if strings.TrimSpace(from) == "" {
		return RawRequest{}, o, errors.New("twiliosim: inbound message without a sender")
	}
	s.mu.Lock()
	n := s.numbers[numberSid]
	var acct *account
	if n != nil {
		acct = s.accounts[n.account]
	}
	s.mu.Unlock()
	switch {
	case n == nil || acct == nil:
		return RawRequest{}, o, fmt.Errorf("twiliosim: unknown number %s", numberSid)
	case n.smsURL == "":
		return RawRequest{}, o, fmt.Errorf("twiliosim: number %s has no SMS URL", numberSid)
	}
	sid := o.sid
	if sid == "" {
		prefix := "SM"
		if len(o.media)+len(o.files) > 0 {
			prefix = "MM"
		}
		sid = NewSID(prefix)
	}
	s.attachFiles(&o, n.account, sid)
	token := acct.token
	if o.wrongSignature {
		token = NewSID("") // any other secret
	}
	f := inboundForm(sid, n, from, body, s.keyword(body), o.media)
	return newRawRequest(sid, n.smsURL, token, f), o, nil
}

// inboundForm lists the parameters of "Twilio's request to your incoming message Webhook URL"
// (https://www.twilio.com/docs/messaging/guides/webhook-request) in the order Twilio sends
// them. MessagingServiceSid is only there for a number in a Messaging Service, OptOutType only
// for a keyword (Advanced Opt-Out), geographic fields are empty where Twilio has no data.
func inboundForm(sid string, n *number, from, body, optOutType string, items []media) form {
	segments, _ := Segments(body)
	segments = max(segments, 1)
	var f form
	f.add("ToCountry", country(n.phone))
	for i, m := range items {
		f.add("MediaContentType"+strconv.Itoa(i), m.contentType)
	}
	f.add("ToState", "")
	f.add("SmsMessageSid", sid)
	f.add("NumMedia", strconv.Itoa(len(items)))
	f.add("ToCity", "")
	f.add("FromZip", "")
	f.add("SmsSid", sid)
	f.add("FromState", "")
	f.add("SmsStatus", "received")
	f.add("FromCity", "")
	f.add("Body", body)
	f.add("FromCountry", country(from))
	f.add("To", n.phone)
	if n.service != "" {
		f.add("MessagingServiceSid", n.service)
	}
	f.add("ToZip", "")
	f.add("NumSegments", strconv.Itoa(segments))
	f.add("MessageSid", sid)
	if optOutType != "" {
		f.add("OptOutType", optOutType)
	}
	f.add("AccountSid", n.account)
	f.add("From", from)
	for i, m := range items {
		f.add("MediaUrl"+strconv.Itoa(i), m.url)
	}
	f.add("ApiVersion", apiVersion)
	return f
}

// receive stores an incoming message and applies its keyword, as Twilio does before calling
// the webhook. Callers hold s.mu.
func (s *Server) receive(numberSid, from, body, sid string, items []media) {
	n := s.numbers[numberSid]
	if n == nil {
		return
	}
	now := s.now()
	segments, encoding := Segments(body)
	var urls []string
	for _, m := range items {
		urls = append(urls, m.url)
	}
	s.messages[sid] = &Message{
		Sid: sid, AccountSid: n.account, MessagingServiceSid: n.service,
		From: from, To: n.phone, Body: body, MediaURLs: urls, Direction: "inbound",
		Status: "received", NumSegments: max(segments, 1), Encoding: encoding,
		DateCreated: now, DateUpdated: now, DateSent: now,
	}
	scope := s.scopeOf(n)
	switch s.keyword(body) {
	case "STOP":
		if s.optOuts[scope] == nil {
			s.optOuts[scope] = make(map[string]bool)
		}
		s.optOuts[scope][from] = true
	case "START":
		delete(s.optOuts[scope], from)
	}
}

// countryCodes maps calling codes to the ISO country Twilio reports in ToCountry/FromCountry,
// for the countries the app's customers text most.
var countryCodes = map[string]string{
	"1": "US", "55": "BR", "351": "PT", "244": "AO", "258": "MZ", "54": "AR", "52": "MX",
	"57": "CO", "56": "CL", "51": "PE", "598": "UY", "595": "PY", "34": "ES", "44": "GB",
	"33": "FR", "49": "DE", "39": "IT",
}

// country returns the ISO code for an E.164 number, trying the longest calling code first.
func country(phone string) string {
	digits, ok := strings.CutPrefix(phone, "+")
	if !ok {
		return ""
	}
	for l := 3; l >= 1; l-- {
		if len(digits) >= l {
			if c, ok := countryCodes[digits[:l]]; ok {
				return c
			}
		}
	}
	return ""
}
