package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"masteria/app/channel"
	"masteria/app/model"
)

// DefaultAPIURL is Twilio's REST API base URL; tests and `masteria dev` point a channel's
// api_url at the simulator instead.
const DefaultAPIURL = "https://api.twilio.com"

// Config is the non-secret settings of a Twilio SMS channel (its row's config JSON). The
// auth token is a secret ("auth_token").
type Config struct {
	AccountSID          string `json:"account_sid"`
	From                string `json:"from,omitempty"`                  // E.164 sender…
	MessagingServiceSID string `json:"messaging_service_sid,omitempty"` // …or a Messaging Service
	APIURL              string `json:"api_url,omitempty"`
	// StatusCallback is the app's {BaseURL}/webhooks/twilio/{channelID}; empty sends none.
	StatusCallback string `json:"status_callback,omitempty"`
}

// permanentCodes are Twilio errors that sending again will not fix
// (https://www.twilio.com/docs/api/errors).
var permanentCodes = map[int]bool{
	21211: true, // invalid To number
	21408: true, // region not enabled
	21602: true, // body required
	21606: true, // From is not a number of the account
	21610: true, // recipient opted out (STOP)
	21614: true, // To is not a mobile number
	21617: true, // body too long
	21659: true, // From is not a valid sender
}

// httpClient is shared by every Twilio channel: 15 s per request.
// httpClient keeps many connections to Twilio open: a campaign has many sends in flight.
var httpClient = &http.Client{Timeout: 15 * time.Second, Transport: channel.KeepAlive()}

type client struct {
	cfg   Config
	token string
	http  *http.Client
}

// New is the Twilio SMS channel.Factory.
func New(c model.Channel, secrets map[string]string, _ channel.StatusFunc) (channel.Channel, error) {
	var cfg Config
	if err := channel.Config(c, &cfg); err != nil {
		return nil, fmt.Errorf("twilio: config: %w", err)
	}
	if cfg.AccountSID == "" {
		return nil, errors.New("twilio: config: account_sid is required")
	}
	if cfg.From == "" && cfg.MessagingServiceSID == "" {
		return nil, errors.New("twilio: config: from or messaging_service_sid is required")
	}
	token := secrets["auth_token"]
	if token == "" {
		return nil, errors.New("twilio: the auth_token secret is missing")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	return &client{cfg: cfg, token: token, http: httpClient}, nil
}

func (c *client) Kind() string { return model.KindTwilioSMS }

func (c *client) Capabilities() channel.Capabilities {
	return channel.Capabilities{Media: true}
}

// apiError is Twilio's JSON error body.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  int    `json:"status"`
}

// Send creates a Message resource.
func (c *client) Send(ctx context.Context, m channel.Outbound) (channel.Sent, error) {
	form := url.Values{"To": {m.To}, "Body": {m.Body}}
	if c.cfg.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", c.cfg.MessagingServiceSID)
	} else {
		form.Set("From", c.cfg.From)
	}
	if m.MediaURL != "" {
		form.Set("MediaUrl", m.MediaURL)
	} else if m.Media != nil && m.Media.URL != "" {
		form.Set("MediaUrl", m.Media.URL) // Twilio fetches the file from the signed link
	}
	if c.cfg.StatusCallback != "" {
		cb, err := callbackURL(c.cfg.StatusCallback, m.Ref)
		if err != nil {
			return channel.Sent{}, err
		}
		form.Set("StatusCallback", cb)
	}
	endpoint := c.cfg.APIURL + "/2010-04-01/Accounts/" + url.PathEscape(c.cfg.AccountSID) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return channel.Sent{}, fmt.Errorf("twilio: %w", err)
	}
	req.SetBasicAuth(c.cfg.AccountSID, c.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return channel.Sent{}, fmt.Errorf("twilio: send: %w", err) // temporary
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return channel.Sent{}, fmt.Errorf("twilio: send: reading the answer: %w", err)
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		var ok struct {
			SID string `json:"sid"`
		}
		if err := json.Unmarshal(raw, &ok); err != nil || ok.SID == "" {
			return channel.Sent{}, fmt.Errorf("twilio: send: %w (HTTP %d)", channel.ErrNoID, res.StatusCode)
		}
		return channel.Sent{ProviderID: ok.SID}, nil
	}
	return channel.Sent{}, sendError(res, raw)
}

// sendError maps a failed answer: throttling is retried later, known refusals are
// permanent, everything else (5xx, unknown 4xx) is temporary.
func sendError(res *http.Response, raw []byte) error {
	var e apiError
	_ = json.Unmarshal(raw, &e)
	if res.StatusCode == http.StatusTooManyRequests || e.Code == 20429 {
		code := "20429"
		if e.Code != 0 {
			code = strconv.Itoa(e.Code)
		}
		return &channel.ThrottledError{RetryAfter: retryAfter(res.Header.Get("Retry-After")), Code: code}
	}
	if e.Code == 0 {
		return fmt.Errorf("twilio: send: HTTP %d", res.StatusCode)
	}
	title := e.Message
	if title == "" {
		title = http.StatusText(res.StatusCode)
	}
	se := &channel.SendError{Code: strconv.Itoa(e.Code), Title: title, Permanent: permanentCodes[e.Code]}
	if res.StatusCode >= 500 {
		se.Permanent = false
	}
	return se
}

// retryAfter reads Retry-After in seconds or as an HTTP date; 10 s when absent or invalid.
func retryAfter(h string) time.Duration {
	const fallback = 10 * time.Second
	h = strings.TrimSpace(h)
	if h == "" {
		return fallback
	}
	if n, err := strconv.Atoi(h); err == nil {
		if n <= 0 {
			return fallback
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return fallback
}

// callbackURL is the StatusCallback of one send: the channel's, with ref=<Ref> added to its
// query when the send has a Ref. Twilio requests that URL exactly and signs it whole, query
// included, so the webhook learns the Ref from the URL it was called at.
func callbackURL(base, ref string) (string, error) {
	if ref == "" {
		return base, nil
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("twilio: status_callback: %w", err)
	}
	q := u.Query()
	q.Set("ref", ref)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
