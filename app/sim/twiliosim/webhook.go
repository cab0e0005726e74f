package twiliosim

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// form is a form body whose fields keep the order Twilio sends them in; url.Values would sort
// them. The signature does not depend on the order, but fuzz seeds should look like the real thing.
type form []field

type field struct{ name, value string }

func (f *form) add(name, value string) { *f = append(*f, field{name, value}) }

func (f form) encode() string {
	var b strings.Builder
	for i, kv := range f {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv.name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv.value))
	}
	return b.String()
}

func (f form) values() url.Values {
	v := make(url.Values, len(f))
	for _, kv := range f {
		v.Add(kv.name, kv.value)
	}
	return v
}

// RawRequest is a webhook request exactly as the sim sends it: for fuzz seeds, benchmarks and
// replaying duplicates.
type RawRequest struct {
	MessageSid string
	URL        string      // the webhook URL as configured, which the signature covers
	Header     http.Header // Content-Type, X-Twilio-Signature, I-Twilio-Idempotency-Token...
	Body       []byte      // application/x-www-form-urlencoded
}

// NewRequest builds the POST for r; each call gets a fresh body reader, so one RawRequest can
// be sent many times.
func (r RawRequest) NewRequest(ctx context.Context) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, fmt.Errorf("twiliosim: webhook request: %w", err)
	}
	req.Header = r.Header.Clone()
	return req, nil
}

// Params returns the form parameters of the body.
func (r RawRequest) Params() url.Values {
	v, _ := url.ParseQuery(string(r.Body))
	return v
}

// newRawRequest signs f for webhookURL with token
// (https://www.twilio.com/docs/usage/webhooks/webhooks-security) and adds the other headers
// Twilio's webhook requests carry, among them I-Twilio-Idempotency-Token, which stays the same
// when Twilio retries a request.
func newRawRequest(sid, webhookURL, token string, f form) RawRequest {
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("Accept", "*/*")
	h.Set("User-Agent", "TwilioProxy/1.1")
	h.Set("X-Home-Region", "us1")
	h.Set("I-Twilio-Idempotency-Token", uuid())
	h.Set("X-Twilio-Signature", Signature(token, webhookURL, f.values()))
	return RawRequest{MessageSid: sid, URL: webhookURL, Header: h, Body: []byte(f.encode())}
}

// post sends a webhook and returns the app's status and answer, at most 64 KiB of it.
func (s *Server) post(ctx context.Context, raw RawRequest) (int, []byte, error) {
	req, err := raw.NewRequest(ctx)
	if err != nil {
		return 0, nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("twiliosim: webhook %s: %w", raw.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return resp.StatusCode, body, fmt.Errorf("twiliosim: webhook %s: read answer: %w", raw.URL, err)
	}
	return resp.StatusCode, body, nil
}

func uuid() string {
	b := make([]byte, 16)
	// crypto/rand.Read never returns an error on supported platforms.
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
