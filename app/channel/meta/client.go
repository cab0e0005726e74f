package meta

import (
	"bytes"
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

// Defaults of a WhatsApp Cloud channel's config.
const (
	DefaultGraphURL   = "https://graph.facebook.com"
	DefaultAPIVersion = "v21.0"
)

// DefaultRetryAfter is how long a throttled send waits when Meta gives no Retry-After.
const DefaultRetryAfter = 30 * time.Second

// Config is a WhatsApp Cloud channel's non-secret settings (the channel row's config).
type Config struct {
	PhoneNumberID string `json:"phone_number_id"`
	WABAID        string `json:"waba_id"`
	GraphURL      string `json:"graph_url"`
	APIVersion    string `json:"api_version"`
}

// Client is the WhatsApp Business Cloud API channel: it sends through the Graph API's
// /{phone_number_id}/messages, lists the account's templates and marks messages read.
type Client struct {
	id          int64
	cfg         Config
	token       string
	appSecret   string
	verifyToken string
	http        *http.Client
}

var _ channel.Channel = (*Client)(nil)

// New is the WhatsApp Cloud channel.Factory. Secrets: access_token (required),
// app_secret, verify_token (used by the webhook side).
func New(c model.Channel, secrets map[string]string, _ channel.StatusFunc) (channel.Channel, error) {
	return NewClient(c, secrets)
}

// NewClient is New with its concrete type, for templates and mark-as-read.
func NewClient(c model.Channel, secrets map[string]string) (*Client, error) {
	var cfg Config
	if err := channel.Config(c, &cfg); err != nil {
		return nil, fmt.Errorf("meta: channel %d config: %w", c.ID, err)
	}
	if cfg.GraphURL == "" {
		cfg.GraphURL = DefaultGraphURL
	}
	cfg.GraphURL = strings.TrimRight(cfg.GraphURL, "/")
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	if cfg.PhoneNumberID == "" {
		return nil, fmt.Errorf("meta: channel %d has no phone_number_id", c.ID)
	}
	if secrets["access_token"] == "" {
		return nil, fmt.Errorf("meta: channel %d has no access token", c.ID)
	}
	return &Client{
		id: c.ID, cfg: cfg,
		token: secrets["access_token"], appSecret: secrets["app_secret"], verifyToken: secrets["verify_token"],
		http: graphHTTP,
	}, nil
}

// graphHTTP is shared by every channel, keeping connections to the Graph API open.
var graphHTTP = &http.Client{Timeout: 15 * time.Second, Transport: channel.KeepAlive()}

// Kind is model.KindWhatsAppCloud.
func (c *Client) Kind() string { return model.KindWhatsAppCloud }

// Capabilities of the Cloud API: media, templates, the 24-hour window and read receipts.
func (c *Client) Capabilities() channel.Capabilities {
	return channel.Capabilities{Media: true, Templates: true, ServiceWindow: true, ReadReceipts: true}
}

func (c *Client) endpoint(parts ...string) string {
	return c.cfg.GraphURL + "/" + c.cfg.APIVersion + "/" + strings.Join(parts, "/")
}

type mediaObject struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

type templateParam struct {
	Type     string       `json:"type"`
	Text     *string      `json:"text,omitempty"` // set for a text parameter, even when empty
	Image    *mediaObject `json:"image,omitempty"`
	Video    *mediaObject `json:"video,omitempty"`
	Document *mediaObject `json:"document,omitempty"`
}

type templateComponent struct {
	Type       string          `json:"type"`
	Parameters []templateParam `json:"parameters"`
}

type templateObject struct {
	Name       string              `json:"name"`
	Lang       map[string]string   `json:"language"`
	Components []templateComponent `json:"components,omitempty"`
}

// maxRef is the longest biz_opaque_callback_data the Messages API takes.
const maxRef = 512

// headerParam is the header parameter of a template's media (providers.md §4.2): by link
// when the file has a URL, else by the id it was uploaded as; a document adds its name.
func headerParam(t *channel.Template, mediaID string) (templateParam, error) {
	a, kind := t.HeaderMedia, t.MediaHeaderKind()
	mo := &mediaObject{ID: mediaID}
	if mediaID == "" {
		if a.URL == "" {
			return templateParam{}, &channel.SendError{Code: "media", Title: "the template's header media has no URL", Permanent: true}
		}
		mo.Link = a.URL
	}
	p := templateParam{Type: kind}
	switch kind {
	case "image":
		p.Image = mo
	case "video":
		p.Video = mo
	case "document":
		mo.Filename = a.Filename
		p.Document = mo
	default:
		return templateParam{}, &channel.SendError{Code: "media", Title: "a template header cannot carry " + kind, Permanent: true}
	}
	return p, nil
}

// payload is the Messages API body of m; mediaID is its uploaded file (or, for a
// template, its header's uploaded file), if any.
func payload(m channel.Outbound, mediaID string) (map[string]any, error) {
	p := map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual"}
	// A person known only by their business-scoped user id is addressed with "recipient";
	// Meta uses "to" when a request carries both, so only one is sent.
	if m.To == "" && m.Recipient != "" {
		p["recipient"] = m.Recipient
	} else {
		p["to"] = strings.TrimPrefix(m.To, "+")
	}
	// Ref comes back on every status webhook of this message, so a send whose answer was
	// lost can still be matched; Meta takes at most 512 characters.
	if m.Ref != "" {
		if len([]rune(m.Ref)) > maxRef {
			return nil, &channel.SendError{Code: "ref", Title: "the send's reference is longer than 512 characters", Permanent: true}
		}
		p["biz_opaque_callback_data"] = m.Ref
	}
	kind := m.Kind
	if kind == "" {
		kind = "text"
	}
	p["type"] = kind
	switch kind {
	case "text":
		p["text"] = map[string]any{"body": m.Body, "preview_url": false}
	case "image", "video", "document":
		if m.MediaURL == "" && mediaID == "" {
			return nil, &channel.SendError{Code: "media", Title: "no media URL", Permanent: true}
		}
		mo := mediaObject{ID: mediaID, Caption: m.Body}
		if mediaID == "" {
			mo.Link = m.MediaURL
		}
		if kind == "document" && m.Media != nil && m.Media.Filename != "" {
			mo.Filename = m.Media.Filename
		} else if kind == "document" {
			if u, err := url.Parse(m.MediaURL); err == nil {
				if i := strings.LastIndex(u.Path, "/"); i >= 0 && i < len(u.Path)-1 {
					mo.Filename = u.Path[i+1:]
				}
			}
		}
		p[kind] = mo
	case "audio": // audio takes no caption
		switch {
		case mediaID != "":
			p[kind] = map[string]string{"id": mediaID}
		case m.MediaURL != "":
			p[kind] = map[string]string{"link": m.MediaURL}
		default:
			return nil, &channel.SendError{Code: "media", Title: "no media URL", Permanent: true}
		}
	case "template":
		if m.Template == nil || m.Template.Name == "" {
			return nil, &channel.SendError{Code: "template", Title: "no template", Permanent: true}
		}
		t := templateObject{Name: m.Template.Name, Lang: map[string]string{"code": m.Template.Language}}
		if m.Template.HeaderMedia != nil {
			hp, err := headerParam(m.Template, mediaID)
			if err != nil {
				return nil, err
			}
			t.Components = append(t.Components, templateComponent{Type: "header", Parameters: []templateParam{hp}})
		} else if len(m.Template.HeaderParams) > 0 {
			comp := templateComponent{Type: "header"}
			for _, v := range m.Template.HeaderParams {
				comp.Parameters = append(comp.Parameters, templateParam{Type: "text", Text: &v})
			}
			t.Components = append(t.Components, comp)
		}
		if len(m.Template.Params) > 0 {
			comp := templateComponent{Type: "body"}
			for _, v := range m.Template.Params {
				comp.Parameters = append(comp.Parameters, templateParam{Type: "text", Text: &v})
			}
			t.Components = append(t.Components, comp)
		}
		p["template"] = t
	default:
		return nil, &channel.SendError{Code: "kind", Title: "unsupported message kind " + kind, Permanent: true}
	}
	return p, nil
}

// Send posts m to /{phone_number_id}/messages and returns the wamid Meta gave it.
func (c *Client) Send(ctx context.Context, m channel.Outbound) (channel.Sent, error) {
	// A stored file goes up first and is sent by its media id: the app itself may not be
	// reachable from Meta, so a link to it would not do.
	var mediaID string
	if m.Media != nil && m.MediaURL == "" && m.Kind != "template" {
		var err error
		if mediaID, err = c.Upload(ctx, m.Media); err != nil {
			return channel.Sent{}, err
		}
	}
	// A template's header media goes by its link (one link serves every recipient of a
	// campaign); a file with no link but a reader is uploaded instead.
	if t := m.Template; m.Kind == "template" && t != nil && t.HeaderMedia != nil && t.HeaderMedia.URL == "" && t.HeaderMedia.Open != nil {
		var err error
		if mediaID, err = c.Upload(ctx, t.HeaderMedia); err != nil {
			return channel.Sent{}, err
		}
	}
	p, err := payload(m, mediaID)
	if err != nil {
		return channel.Sent{}, err
	}
	var out struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if err := c.do(ctx, http.MethodPost, c.endpoint(c.cfg.PhoneNumberID, "messages"), p, &out); err != nil {
		return channel.Sent{}, err
	}
	if len(out.Messages) == 0 || out.Messages[0].ID == "" {
		return channel.Sent{}, fmt.Errorf("meta: send: %w", channel.ErrNoID)
	}
	return channel.Sent{ProviderID: out.Messages[0].ID}, nil
}

// MarkRead marks an inbound message as read (the customer sees blue ticks).
func (c *Client) MarkRead(ctx context.Context, wamid string) error {
	body := map[string]string{"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
	var out struct {
		Success bool `json:"success"`
	}
	if err := c.do(ctx, http.MethodPost, c.endpoint(c.cfg.PhoneNumberID, "messages"), body, &out); err != nil {
		return err
	}
	if !out.Success {
		return errors.New("meta: mark as read was not accepted")
	}
	return nil
}

// Template is a message template of the WhatsApp Business Account.
type Template struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Language string `json:"language"`
	Status   string `json:"status"`   // APPROVED, PENDING, REJECTED…
	Category string `json:"category"` // MARKETING, UTILITY, AUTHENTICATION
	// Components are the header, body, footer and buttons, as Graph lists them.
	Components json.RawMessage `json:"components"`
}

// maxTemplatePages bounds the paging loop against a server that never ends it.
const maxTemplatePages = 100

// Templates lists every template of the channel's WABA, following the paging cursors.
func (c *Client) Templates(ctx context.Context) ([]Template, error) {
	if c.cfg.WABAID == "" {
		return nil, errors.New("meta: the channel has no waba_id")
	}
	q := url.Values{"fields": {"id,name,language,status,category,components"}, "limit": {"100"}}
	base := c.endpoint(c.cfg.WABAID, "message_templates")
	var all []Template
	after := ""
	for range maxTemplatePages {
		if after != "" {
			q.Set("after", after)
		}
		var page struct {
			Data   []Template `json:"data"`
			Paging struct {
				Cursors struct {
					After string `json:"after"`
				} `json:"cursors"`
				Next string `json:"next"`
			} `json:"paging"`
		}
		if err := c.do(ctx, http.MethodGet, base+"?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Data...)
		if page.Paging.Next == "" || page.Paging.Cursors.After == "" || page.Paging.Cursors.After == after || len(page.Data) == 0 {
			return all, nil
		}
		after = page.Paging.Cursors.After
	}
	return all, nil
}

// graphErr is Graph's error answer.
type graphErr struct {
	Error *struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      int    `json:"code"`
		Subcode   int    `json:"error_subcode"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"error"`
}

// throttleCodes slow the channel down (4 and 80007: the app's or the account's call rate,
// 130429: the number's throughput) or, for 131056, only the one recipient (the pair rate):
// the ThrottledError's Code tells which.
var throttleCodes = map[int]bool{130429: true, 131056: true, 4: true, 80007: true}

// permanentCodes are refusals that sending the same message again will not fix (Meta's
// error-codes page). 190 (bad or expired token) is left out on purpose: it is the channel's,
// not the message's, and the send goes again once the token is replaced.
var permanentCodes = map[int]bool{
	100:    true, // invalid parameter
	368:    true, // temporarily blocked for policy violations
	130472: true, // recipient in a Meta experiment
	131021: true, // recipient cannot be sender
	131026: true, // undeliverable
	131030: true, // recipient not in the allowed list (test numbers)
	131031: true, // account locked
	131042: true, // payment/eligibility problem
	131047: true, // outside the 24-hour window
	131048: true, // spam rate limit: sending restricted
	131049: true, // withheld for ecosystem engagement (try days later, not now)
	131050: true, // the user stopped marketing messages
	131051: true, // unsupported message type
	132000: true, // template parameter count
	132001: true, // template missing or not approved
	132005: true, // hydrated text too long
	132007: true, // format-character policy
	132012: true, // parameter format mismatch
	132015: true, // template paused
	132016: true, // template disabled
}

// do makes one Graph call with the bearer token and decodes a 2xx answer into out.
func (c *Client) do(ctx context.Context, method, u string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("meta: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("meta: %s %s: %w", method, redact(u), err) // temporary: the job retries
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("meta: reading the answer: %w", err)
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("meta: decoding the answer: %w", err)
		}
		return nil
	}
	return classify(res, raw)
}

// classify turns a Graph error answer into a channel error: throttling, a permanent
// refusal, or a plain (temporary) error.
func classify(res *http.Response, raw []byte) error {
	var g graphErr
	_ = json.Unmarshal(raw, &g)
	code, title := 0, http.StatusText(res.StatusCode)
	if g.Error != nil {
		code, title = g.Error.Code, g.Error.Message
		if d := g.Error.ErrorData.Details; d != "" && !strings.Contains(title, d) {
			title += ": " + d
		}
	}
	if res.StatusCode == http.StatusTooManyRequests || throttleCodes[code] {
		c := strconv.Itoa(code)
		if code == 0 {
			c = "429"
		}
		return &channel.ThrottledError{RetryAfter: retryAfter(res.Header.Get("Retry-After"), code), Code: c}
	}
	if permanentCodes[code] && res.StatusCode < 500 {
		return &channel.SendError{Code: strconv.Itoa(code), Title: title, Permanent: true}
	}
	if res.StatusCode >= 500 {
		return fmt.Errorf("meta: graph answered %d: %s", res.StatusCode, title)
	}
	if code != 0 {
		return &channel.SendError{Code: strconv.Itoa(code), Title: title}
	}
	return fmt.Errorf("meta: graph answered %d", res.StatusCode)
}

// retryAfter is Meta's Retry-After, else a wait that fits the code: a second for the
// number's throughput (130429, a bare 429), six for one person's pair rate (131056), and
// DefaultRetryAfter for the app's or the account's call limits (4, 80007).
func retryAfter(h string, code int) time.Duration {
	if h == "" {
		switch code {
		case 130429, 0:
			return time.Second
		case 131056:
			return 6 * time.Second
		}
		return DefaultRetryAfter
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return DefaultRetryAfter
}

// redact drops the query (which may carry an access_token) from a URL for errors.
func redact(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

var _ channel.TemplateLister = (*Client)(nil)

// ListTemplates is Templates as the inbox stores them (channel.TemplateLister); templates
// without a name or language are left out.
func (c *Client) ListTemplates(ctx context.Context) ([]model.Template, error) {
	list, err := c.Templates(ctx)
	if err != nil {
		return nil, err
	}
	rows := make([]model.Template, 0, len(list))
	for _, t := range list {
		if t.Name == "" || t.Language == "" {
			continue
		}
		rows = append(rows, model.Template{ProviderID: t.ID, Name: t.Name, Language: t.Language,
			Category: t.Category, Status: t.Status, Components: t.Components})
	}
	return rows, nil
}
