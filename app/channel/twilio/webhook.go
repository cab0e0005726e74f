// Package twilio is the SMS channel through Twilio: the webhooks Twilio posts (inbound SMS
// and status callbacks, signed with the account's auth token) and, later, the REST client.
package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Signature computes X-Twilio-Signature as Twilio documents it: the full URL of the
// request, then every POST parameter's name and value sorted by name, HMAC-SHA1 with the
// auth token, base64.
func Signature(authToken, fullURL string, params url.Values) string {
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range names {
		vals := append([]string(nil), params[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks a request's X-Twilio-Signature in constant time.
func VerifySignature(authToken, fullURL string, params url.Values, header string) bool {
	if authToken == "" || header == "" {
		return false
	}
	want := Signature(authToken, fullURL, params)
	return subtle.ConstantTimeCompare([]byte(want), []byte(header)) == 1
}

// Inbound is an SMS (or MMS) a customer sent.
type Inbound struct {
	SID   string
	From  string // E.164
	To    string
	Body  string
	Media []Media
}

// Media is one attachment of an MMS.
type Media struct {
	URL, ContentType string
}

// StatusCallback is Twilio's report on a message the business sent.
type StatusCallback struct {
	SID       string
	Status    string // queued, sent, delivered, undelivered, failed, read…
	ErrorCode string
}

// ErrNotTwilio is a form that is neither an inbound message nor a status callback.
var ErrNotTwilio = errors.New("twilio: not a message webhook")

// Parse reads a webhook form: an inbound message (SmsStatus/MessageStatus "received") or a
// status callback of a sent one.
func Parse(form url.Values) (*Inbound, *StatusCallback, error) {
	sid := form.Get("MessageSid")
	if sid == "" {
		sid = form.Get("SmsSid")
	}
	status := form.Get("MessageStatus")
	if status == "" {
		status = form.Get("SmsStatus")
	}
	if sid == "" || status == "" || form.Get("AccountSid") == "" {
		return nil, nil, ErrNotTwilio
	}
	if status != "received" {
		return nil, &StatusCallback{SID: sid, Status: status, ErrorCode: form.Get("ErrorCode")}, nil
	}
	from := form.Get("From")
	if !strings.HasPrefix(from, "+") || len(from) < 8 {
		return nil, nil, ErrNotTwilio
	}
	in := &Inbound{SID: sid, From: from, To: form.Get("To"), Body: form.Get("Body")}
	n, _ := strconv.Atoi(form.Get("NumMedia"))
	for i := 0; i < n && i < 10; i++ {
		idx := strconv.Itoa(i)
		if u := form.Get("MediaUrl" + idx); u != "" {
			in.Media = append(in.Media, Media{URL: u, ContentType: form.Get("MediaContentType" + idx)})
		}
	}
	return in, nil, nil
}

// Status maps a Twilio message status to the inbox's: undelivered and failed both fail.
func Status(s string) string {
	switch s {
	case "sent", "delivered", "read":
		return s
	case "undelivered", "failed":
		return "failed"
	}
	return "" // queued, accepted, sending: nothing to show yet
}

// Keyword says what an inbound text asks about messages: "stop", "start" or "".
// Brazilian customers write SAIR, PARAR, CANCELAR; English ones STOP, UNSUBSCRIBE.
func Keyword(body string) string {
	switch strings.ToUpper(strings.Trim(strings.TrimSpace(body), ".!")) {
	case "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "SAIR", "PARAR", "CANCELAR", "DESCADASTRAR":
		return "stop"
	case "START", "UNSTOP", "YES", "VOLTAR", "INICIAR", "RETOMAR":
		return "start"
	}
	return ""
}
