// Package retell speaks to Retell AI (voice agents and phone calls): the REST client over
// net/http with Bearer auth, the call and webhook types, and the x-retell-signature its
// webhooks carry. The base URL is a server setting (RETELL_API_URL), so tests and
// `masteria dev` point it at app/sim/retellsim.
package retell

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultTimeout bounds each request when New is given no HTTP client.
const DefaultTimeout = 30 * time.Second

// pageSize is the page asked of the list endpoints (their maximum).
const pageSize = 1000

// maxPages stops a list whose pagination never ends.
const maxPages = 100

// Client calls the Retell API with one API key.
type Client struct {
	base    string
	key     string
	hc      *http.Client
	retries int
	backoff time.Duration
}

// New returns a client of the API at baseURL (https://api.retellai.com) with apiKey; a nil hc
// gets a client that times out after DefaultTimeout.
func New(baseURL, apiKey string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), key: apiKey, hc: hc, retries: 2, backoff: 500 * time.Millisecond}
}

// WithRetries sets how often a request that changes nothing (a read, a list) is tried again
// after a network error, a 429 or a 5xx, waiting backoff, then twice as long each time (up
// to 8 s). The default is Retell's SDKs': 2 retries from 0.5 s. Requests that create
// something (a call, a number) are never retried: a lost answer must not call twice.
func (c *Client) WithRetries(n int, backoff time.Duration) *Client {
	cp := *c
	cp.retries, cp.backoff = max(n, 0), backoff
	return &cp
}

// retryable is an error worth another try of a request that changes nothing.
func retryable(ctx context.Context, err error) bool {
	var e *Error
	if ctx.Err() != nil || !errors.As(err, &e) {
		return false
	}
	return e.Status == 0 || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// read is do for a request that changes nothing, with retries.
func (c *Client) read(ctx context.Context, method, path string, query url.Values, in, out any) error {
	wait := c.backoff
	for try := 0; ; try++ {
		err := c.do(ctx, method, path, query, in, out)
		if err == nil || try >= c.retries || !retryable(ctx, err) {
			return err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return err
		}
		wait = min(wait*2, 8*time.Second)
	}
}

// Error is a request Retell refused (Status and its own message) or could not answer
// (Status 0: a timeout or a network error).
type Error struct {
	Status  int
	Message string
	Timeout bool
	err     error
}

func (e *Error) Error() string {
	var what string
	switch {
	case e.Timeout:
		what = "Retell did not answer in time"
	case e.Status == 0:
		what = "Retell could not be reached"
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		what = "Retell refused the API key"
	case e.Status == http.StatusPaymentRequired:
		what = "Retell wants payment"
	case e.Status == http.StatusTooManyRequests:
		what = "Retell is limiting requests"
	case e.Status == http.StatusNotFound || e.Status == http.StatusUnprocessableEntity:
		what = "Retell did not find it"
	case e.Status >= 500:
		what = "Retell failed"
	default:
		what = "Retell refused the request"
	}
	if e.Status != 0 {
		what += " (" + strconv.Itoa(e.Status) + ")"
	}
	if e.Message != "" {
		what += ": " + e.Message
	}
	return what
}

func (e *Error) Unwrap() error { return e.err }

// StatusOf is the HTTP status of a Retell error, 0 for anything else.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// clip keeps a provider's words short and printable.
func clip(s string) string {
	s = strings.ToValidUTF8(strings.TrimSpace(strings.ReplaceAll(s, "\x00", "")), "")
	if utf8.RuneCountInString(s) > 300 {
		s = string([]rune(s)[:300]) + "…"
	}
	return s
}

// do sends one request and decodes a 2xx JSON answer into out (nil: ignore the body).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("retell: encode %s: %w", path, err)
		}
		body = bytes.NewReader(b)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return &Error{Message: "bad base URL", err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ne net.Error
		return &Error{Timeout: errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()), err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		var ne net.Error
		return &Error{Status: resp.StatusCode, Timeout: errors.As(err, &ne) && ne.Timeout(), Message: "the answer was cut", err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var eb struct {
			Message string `json:"message"`
			Error   string `json:"error"`
		}
		_ = json.Unmarshal(raw, &eb)
		msg := eb.Message
		if msg == "" {
			msg = eb.Error
		}
		return &Error{Status: resp.StatusCode, Message: clip(msg)}
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &Error{Status: resp.StatusCode, Message: "the answer is not Retell's JSON", err: err}
	}
	return nil
}

// page is the new list endpoints' answer.
type page[T any] struct {
	Items         []T    `json:"items"`
	HasMore       bool   `json:"has_more"`
	PaginationKey string `json:"pagination_key"`
}

// gone reports an answer that means "this server does not have the endpoint".
func gone(err error) bool {
	s := StatusOf(err)
	return s == http.StatusNotFound || s == http.StatusMethodNotAllowed
}

// ListAgents lists every agent: POST /v2/list-agents page by page, or, where a server does
// not answer it, the older GET /list-agents (a bare array, paged by the last agent id).
func (c *Client) ListAgents(ctx context.Context) ([]Agent, error) {
	var out []Agent
	key := ""
	for range maxPages {
		q := url.Values{"limit": {strconv.Itoa(pageSize)}}
		if key != "" {
			q.Set("pagination_key", key)
		}
		var p page[Agent]
		err := c.read(ctx, http.MethodPost, "/v2/list-agents", q, struct{}{}, &p)
		if gone(err) && key == "" {
			return c.listAgentsOld(ctx)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if !p.HasMore || p.PaginationKey == "" || p.PaginationKey == key {
			return out, nil
		}
		key = p.PaginationKey
	}
	return out, nil
}

// listAgentsOld is GET /list-agents; an agent listed in several versions appears once, in
// its latest.
func (c *Client) listAgentsOld(ctx context.Context) ([]Agent, error) {
	var out []Agent
	at := map[string]int{}
	key := ""
	for range maxPages {
		q := url.Values{"limit": {strconv.Itoa(pageSize)}}
		if key != "" {
			q.Set("pagination_key", key)
		}
		var list []Agent
		if err := c.read(ctx, http.MethodGet, "/list-agents", q, nil, &list); err != nil {
			return nil, err
		}
		for _, a := range list {
			if i, ok := at[a.AgentID]; ok {
				if a.Version > out[i].Version {
					out[i] = a
				}
				continue
			}
			at[a.AgentID] = len(out)
			out = append(out, a)
		}
		if len(list) < pageSize || list[len(list)-1].AgentID == key {
			return out, nil
		}
		key = list[len(list)-1].AgentID
	}
	return out, nil
}

// ImportPhoneNumber imports a number on the org's own SIP trunk into Retell.
func (c *Client) ImportPhoneNumber(ctx context.Context, in ImportPhoneNumber) (PhoneNumber, error) {
	var p PhoneNumber
	err := c.do(ctx, http.MethodPost, "/import-phone-number", nil, in, &p)
	return p, err
}

// ListPhoneNumbers lists the account's numbers: GET /v2/list-phone-numbers page by page, or
// the older GET /list-phone-numbers (a bare array).
func (c *Client) ListPhoneNumbers(ctx context.Context) ([]PhoneNumber, error) {
	var out []PhoneNumber
	key := ""
	for range maxPages {
		q := url.Values{"limit": {strconv.Itoa(pageSize)}}
		if key != "" {
			q.Set("pagination_key", key)
		}
		var p page[PhoneNumber]
		err := c.read(ctx, http.MethodGet, "/v2/list-phone-numbers", q, nil, &p)
		if gone(err) && key == "" {
			var list []PhoneNumber
			if err := c.read(ctx, http.MethodGet, "/list-phone-numbers", nil, nil, &list); err != nil {
				return nil, err
			}
			return list, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if !p.HasMore || p.PaginationKey == "" || p.PaginationKey == key {
			return out, nil
		}
		key = p.PaginationKey
	}
	return out, nil
}

// CreatePhoneCall starts an outbound call (201, call_status "registered").
func (c *Client) CreatePhoneCall(ctx context.Context, in CreatePhoneCall) (Call, error) {
	var call Call
	err := c.do(ctx, http.MethodPost, "/v2/create-phone-call", nil, in, &call)
	return call, err
}

// GetCall reads one call; an unknown id is Retell's 422 (a *Error).
func (c *Client) GetCall(ctx context.Context, id string) (Call, error) {
	var call Call
	if id == "" || strings.ContainsAny(id, "/?#") {
		return call, &Error{Status: http.StatusUnprocessableEntity, Message: "bad call id"}
	}
	err := c.read(ctx, http.MethodGet, "/v2/get-call/"+url.PathEscape(id), nil, nil, &call)
	return call, err
}
