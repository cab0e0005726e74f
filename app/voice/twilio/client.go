// Package twilio is a small client of the Twilio APIs a voice number needs: searching,
// buying and releasing numbers and SIP credentials (api.twilio.com, 2010-04-01) and Elastic
// SIP trunks (trunking.twilio.com, v1). Requests are form-encoded with Basic auth (account SID
// and auth token); both base URLs are server settings (TWILIO_API_URL, TWILIO_TRUNKING_URL),
// which tests and `masteria dev` point at app/sim/twiliosim.
//
// Reads and deletes are tried again after a 429 (Twilio's 20429: too many requests at once),
// a 5xx or a network failure, waiting what Retry-After says (bounded by the client's longest
// wait) or a doubling back-off; see WithRetries. Creations are never tried again here: an
// answer lost after Twilio did it would buy or create twice, so the numbers wizard looks for
// what an earlier try made before it creates.
package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds one request when New gets no http.Client.
const DefaultTimeout = 20 * time.Second

// Error is a request Twilio refused (Status, its Code and Message), or could not answer
// (Status 0: a timeout or a network failure).
type Error struct {
	Status   int
	Code     int
	Message  string
	MoreInfo string
	// RetryAfter is what the answer's Retry-After header asked for (0 when none).
	RetryAfter time.Duration
	err        error
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return "twilio: " + e.Message
	}
	return fmt.Sprintf("twilio: %d %s (code %d)", e.Status, e.Message, e.Code)
}

func (e *Error) Unwrap() error { return e.err }

// CodeOf returns the Twilio error code of err, or 0.
func CodeOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// Client calls Twilio for one account.
type Client struct {
	apiURL, trunkingURL string
	sid, token          string
	hc                  *http.Client
	retries             int
	backoff, maxWait    time.Duration
}

// The default retries of reads and deletes: 3 more tries, from 0.5 s doubling, no wait
// longer than 5 s whatever Retry-After asks (a person waits for the page).
const (
	DefaultRetries = 3
	DefaultBackoff = 500 * time.Millisecond
	DefaultMaxWait = 5 * time.Second
)

// New returns a client of the 2010 API at apiURL and the trunking API at trunkingURL, with
// the account's SID and auth token; a nil hc times out after DefaultTimeout.
func New(apiURL, trunkingURL, accountSID, authToken string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	return &Client{apiURL: strings.TrimRight(apiURL, "/"), trunkingURL: strings.TrimRight(trunkingURL, "/"),
		sid: accountSID, token: authToken, hc: hc, retries: DefaultRetries, backoff: DefaultBackoff, maxWait: DefaultMaxWait}
}

// WithRetries returns a copy of c that tries a read or a delete n more times after a 429, a
// 5xx or a network failure, waiting what Retry-After asks, or else backoff doubling each
// time, never longer than maxWait at once; the request's context ends the waiting. n = 0
// tries once.
func (c *Client) WithRetries(n int, backoff, maxWait time.Duration) *Client {
	cp := *c
	cp.retries, cp.backoff, cp.maxWait = max(n, 0), max(backoff, 0), max(maxWait, 0)
	return &cp
}

func (c *Client) account() string { return c.apiURL + "/2010-04-01/Accounts/" + url.PathEscape(c.sid) }

// retryable is a failed read or delete worth another try: Twilio too busy (429), failing
// (5xx), or not reached, while the caller still waits.
func retryable(ctx context.Context, err error) bool {
	var e *Error
	if ctx.Err() != nil || !errors.As(err, &e) {
		return false
	}
	return e.Status == 0 || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// do sends one request; reads (GET) and deletes (DELETE) are tried again as WithRetries says,
// anything else once.
func (c *Client) do(ctx context.Context, method, u string, form url.Values, out any) error {
	if !slices.Contains([]string{http.MethodGet, http.MethodDelete}, method) {
		return c.once(ctx, method, u, form, out)
	}
	wait := c.backoff
	for try := 0; ; try++ {
		err := c.once(ctx, method, u, form, out)
		if err == nil || try >= c.retries || !retryable(ctx, err) {
			return err
		}
		d := wait
		var e *Error
		if errors.As(err, &e) && e.RetryAfter > 0 {
			d = e.RetryAfter
		}
		t := time.NewTimer(min(d, c.maxWait))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
		wait = min(wait*2, c.maxWait)
	}
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date; 0 when absent or bad.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(h); err == nil {
		return time.Duration(max(n, 0)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

func (c *Client) once(ctx context.Context, method, u string, form url.Values, out any) error {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return &Error{Message: err.Error(), err: err}
	}
	req.SetBasicAuth(c.sid, c.token)
	req.Header.Set("Accept", "application/json")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return &Error{Message: "could not reach Twilio: " + err.Error(), err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return &Error{Message: "reading Twilio's answer: " + err.Error(), err: err}
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		e := &Error{Status: res.StatusCode, RetryAfter: retryAfter(res.Header.Get("Retry-After"), time.Now())}
		var eb struct {
			Code     int    `json:"code"`
			Message  string `json:"message"`
			MoreInfo string `json:"more_info"`
		}
		if json.Unmarshal(b, &eb) == nil && eb.Message != "" {
			e.Code, e.Message, e.MoreInfo = eb.Code, eb.Message, eb.MoreInfo
		} else {
			e.Message = http.StatusText(res.StatusCode)
		}
		return e
	}
	if out == nil || res.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return &Error{Status: res.StatusCode, Message: "Twilio's answer is not the JSON expected: " + err.Error(), err: err}
	}
	return nil
}

// AvailableNumber is a number Twilio offers to buy.
type AvailableNumber struct {
	FriendlyName string `json:"friendly_name"`
	PhoneNumber  string `json:"phone_number"`
	Locality     string `json:"locality"`
	Region       string `json:"region"`
	PostalCode   string `json:"postal_code"`
	ISOCountry   string `json:"iso_country"`
	Address      string `json:"address_requirements"`
	Capabilities struct {
		Voice bool `json:"voice"`
		SMS   bool `json:"sms"`
		MMS   bool `json:"mms"`
	} `json:"capabilities"`
}

// SearchLocal lists local numbers of a country (ISO alpha-2) that can take voice calls,
// in an area code when one is given (Twilio filters AreaCode in the US and Canada).
func (c *Client) SearchLocal(ctx context.Context, country, areaCode string, limit int) ([]AvailableNumber, error) {
	q := url.Values{"VoiceEnabled": {"true"}, "PageSize": {strconv.Itoa(limit)}}
	if areaCode != "" {
		q.Set("AreaCode", areaCode)
	}
	var out struct {
		Numbers []AvailableNumber `json:"available_phone_numbers"`
	}
	u := c.account() + "/AvailablePhoneNumbers/" + url.PathEscape(country) + "/Local.json?" + q.Encode()
	err := c.do(ctx, http.MethodGet, u, nil, &out)
	return out.Numbers, err
}

// IncomingNumber is a number of the account.
type IncomingNumber struct {
	Sid          string  `json:"sid"`
	PhoneNumber  string  `json:"phone_number"`
	FriendlyName string  `json:"friendly_name"`
	TrunkSid     *string `json:"trunk_sid"`
	Status       string  `json:"status"`
}

// BuyNumber buys phone (E.164) for the account.
func (c *Client) BuyNumber(ctx context.Context, phone, friendlyName string) (IncomingNumber, error) {
	var n IncomingNumber
	f := url.Values{"PhoneNumber": {phone}}
	if friendlyName != "" {
		f.Set("FriendlyName", friendlyName)
	}
	err := c.do(ctx, http.MethodPost, c.account()+"/IncomingPhoneNumbers.json", f, &n)
	return n, err
}

// IncomingNumberByPhone finds a number the account already owns; ok is false when it owns
// none such. It recognises a purchase whose answer was lost.
func (c *Client) IncomingNumberByPhone(ctx context.Context, phone string) (n IncomingNumber, ok bool, err error) {
	var out struct {
		Numbers []IncomingNumber `json:"incoming_phone_numbers"`
	}
	u := c.account() + "/IncomingPhoneNumbers.json?" + url.Values{"PhoneNumber": {phone}}.Encode()
	if err := c.do(ctx, http.MethodGet, u, nil, &out); err != nil {
		return n, false, err
	}
	for _, n := range out.Numbers {
		if n.PhoneNumber == phone {
			return n, true, nil
		}
	}
	return n, false, nil
}

// Trunk is an Elastic SIP trunk.
type Trunk struct {
	Sid          string `json:"sid"`
	DomainName   string `json:"domain_name"`
	FriendlyName string `json:"friendly_name"`
}

// CreateTrunk creates a trunk whose termination URI is domainName (<name>.pstn.twilio.com).
func (c *Client) CreateTrunk(ctx context.Context, friendlyName, domainName string) (Trunk, error) {
	var t Trunk
	err := c.do(ctx, http.MethodPost, c.trunkingURL+"/v1/Trunks",
		url.Values{"FriendlyName": {friendlyName}, "DomainName": {domainName}}, &t)
	return t, err
}

// TrunkByDomain finds the account's trunk with this domain name, reading at most 20 pages.
func (c *Client) TrunkByDomain(ctx context.Context, domainName string) (t Trunk, ok bool, err error) {
	u := c.trunkingURL + "/v1/Trunks?PageSize=1000"
	for range 20 {
		var out struct {
			Trunks []Trunk `json:"trunks"`
			Meta   struct {
				NextPageURL *string `json:"next_page_url"`
			} `json:"meta"`
		}
		if err := c.do(ctx, http.MethodGet, u, nil, &out); err != nil {
			return t, false, err
		}
		for _, t := range out.Trunks {
			if strings.EqualFold(t.DomainName, domainName) {
				return t, true, nil
			}
		}
		if out.Meta.NextPageURL == nil || *out.Meta.NextPageURL == "" {
			break
		}
		u = *out.Meta.NextPageURL
	}
	return t, false, nil
}

// OriginationURL is where a trunk sends the calls its numbers receive.
type OriginationURL struct {
	Sid          string `json:"sid"`
	FriendlyName string `json:"friendly_name"`
	SipURL       string `json:"sip_url"`
	Weight       int    `json:"weight"`
	Priority     int    `json:"priority"`
	Enabled      bool   `json:"enabled"`
}

func (c *Client) trunk(sid string) string { return c.trunkingURL + "/v1/Trunks/" + url.PathEscape(sid) }

// CreateOriginationURL adds an origination URL to a trunk (every field is required).
func (c *Client) CreateOriginationURL(ctx context.Context, trunkSid string, o OriginationURL) (OriginationURL, error) {
	var out OriginationURL
	f := url.Values{"FriendlyName": {o.FriendlyName}, "SipUrl": {o.SipURL}, "Weight": {strconv.Itoa(o.Weight)},
		"Priority": {strconv.Itoa(o.Priority)}, "Enabled": {strconv.FormatBool(o.Enabled)}}
	err := c.do(ctx, http.MethodPost, c.trunk(trunkSid)+"/OriginationUrls", f, &out)
	return out, err
}

// OriginationURLs lists a trunk's origination URLs (the first page of 1000).
func (c *Client) OriginationURLs(ctx context.Context, trunkSid string) ([]OriginationURL, error) {
	var out struct {
		URLs []OriginationURL `json:"origination_urls"`
	}
	err := c.do(ctx, http.MethodGet, c.trunk(trunkSid)+"/OriginationUrls?PageSize=1000", nil, &out)
	return out.URLs, err
}

// CreateCredentialList creates an empty SIP credential list.
func (c *Client) CreateCredentialList(ctx context.Context, friendlyName string) (sid string, err error) {
	var out struct {
		Sid string `json:"sid"`
	}
	err = c.do(ctx, http.MethodPost, c.account()+"/SIP/CredentialLists.json", url.Values{"FriendlyName": {friendlyName}}, &out)
	return out.Sid, err
}

// CreateCredential adds a username and password to a credential list. Twilio wants the
// password 12 characters or longer with a digit, an upper- and a lower-case letter.
func (c *Client) CreateCredential(ctx context.Context, listSid, username, password string) (sid string, err error) {
	var out struct {
		Sid string `json:"sid"`
	}
	u := c.account() + "/SIP/CredentialLists/" + url.PathEscape(listSid) + "/Credentials.json"
	err = c.do(ctx, http.MethodPost, u, url.Values{"Username": {username}, "Password": {password}}, &out)
	return out.Sid, err
}

// AttachCredentialList makes a trunk accept termination (outbound) calls authenticated by
// the list's credentials.
func (c *Client) AttachCredentialList(ctx context.Context, trunkSid, listSid string) error {
	return c.do(ctx, http.MethodPost, c.trunk(trunkSid)+"/CredentialLists", url.Values{"CredentialListSid": {listSid}}, nil)
}

// TrunkHasCredentialList reports whether the list is attached to the trunk.
func (c *Client) TrunkHasCredentialList(ctx context.Context, trunkSid, listSid string) (bool, error) {
	return c.exists(ctx, c.trunk(trunkSid)+"/CredentialLists/"+url.PathEscape(listSid))
}

// AttachPhoneNumber puts a number of the account on a trunk.
func (c *Client) AttachPhoneNumber(ctx context.Context, trunkSid, numberSid string) error {
	return c.do(ctx, http.MethodPost, c.trunk(trunkSid)+"/PhoneNumbers", url.Values{"PhoneNumberSid": {numberSid}}, nil)
}

// TrunkHasPhoneNumber reports whether the number is on the trunk.
func (c *Client) TrunkHasPhoneNumber(ctx context.Context, trunkSid, numberSid string) (bool, error) {
	return c.exists(ctx, c.trunk(trunkSid)+"/PhoneNumbers/"+url.PathEscape(numberSid))
}

func (c *Client) exists(ctx context.Context, u string) (bool, error) {
	err := c.do(ctx, http.MethodGet, u, nil, nil)
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return false, nil
	}
	return err == nil, err
}

// gone is nil for a delete whose target Twilio no longer has (404: deleted already, by an
// earlier try whose answer was lost or by hand), else err.
func gone(err error) error {
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return nil
	}
	return err
}

func (c *Client) del(ctx context.Context, u string) error {
	return gone(c.do(ctx, http.MethodDelete, u, nil, nil))
}

// ReleaseNumber gives a number of the account back to Twilio (DELETE
// IncomingPhoneNumbers/{sid}); one already released is no error.
func (c *Client) ReleaseNumber(ctx context.Context, numberSid string) error {
	return c.del(ctx, c.account()+"/IncomingPhoneNumbers/"+url.PathEscape(numberSid)+".json")
}

// DetachPhoneNumber takes a number off a trunk; one not on it (or no trunk) is no error.
func (c *Client) DetachPhoneNumber(ctx context.Context, trunkSid, numberSid string) error {
	return c.del(ctx, c.trunk(trunkSid)+"/PhoneNumbers/"+url.PathEscape(numberSid))
}

// DetachCredentialList takes a credential list off a trunk; one not on it is no error.
func (c *Client) DetachCredentialList(ctx context.Context, trunkSid, listSid string) error {
	return c.del(ctx, c.trunk(trunkSid)+"/CredentialLists/"+url.PathEscape(listSid))
}

// DeleteCredentialList deletes a SIP credential list and its credentials.
func (c *Client) DeleteCredentialList(ctx context.Context, listSid string) error {
	return c.del(ctx, c.account()+"/SIP/CredentialLists/"+url.PathEscape(listSid)+".json")
}

// DeleteOriginationURL deletes one of a trunk's origination URLs.
func (c *Client) DeleteOriginationURL(ctx context.Context, trunkSid, urlSid string) error {
	return c.del(ctx, c.trunk(trunkSid)+"/OriginationUrls/"+url.PathEscape(urlSid))
}

// DeleteTrunk deletes a trunk (Twilio drops what is attached to it).
func (c *Client) DeleteTrunk(ctx context.Context, trunkSid string) error {
	return c.del(ctx, c.trunk(trunkSid))
}
