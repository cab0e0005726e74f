package twiliosim

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxBody is Twilio's limit for a message body (https://www.twilio.com/docs/api/errors/21617).
const maxBody = 1600

// apiError is Twilio's REST error body, fields in Twilio's order
// (https://www.twilio.com/docs/usage/twilios-response).
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
	// retryAfter is the Retry-After header sent with it ("" none).
	retryAfter string
}

func newAPIError(status, code int, msg string) apiError {
	return apiError{Code: code, Message: msg, MoreInfo: "https://www.twilio.com/docs/errors/" + strconv.Itoa(code), Status: status}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Twilio does not escape <, > and & in bodies
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func writeError(w http.ResponseWriter, e apiError) {
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
	}
	if e.retryAfter != "" {
		w.Header().Set("Retry-After", e.retryAfter)
	}
	writeJSON(w, e.Status, e)
}

// resource is the Message resource as Twilio renders it
// (https://www.twilio.com/docs/messaging/api/message-resource), fields in Twilio's order.
// Counts are strings and absent values null, as in Twilio's JSON.
type resource struct {
	Body                string            `json:"body"`
	NumSegments         string            `json:"num_segments"`
	Direction           string            `json:"direction"`
	From                *string           `json:"from"`
	To                  string            `json:"to"`
	DateUpdated         string            `json:"date_updated"`
	Price               *string           `json:"price"`
	ErrorMessage        *string           `json:"error_message"`
	URI                 string            `json:"uri"`
	AccountSid          string            `json:"account_sid"`
	NumMedia            string            `json:"num_media"`
	Status              string            `json:"status"`
	MessagingServiceSid *string           `json:"messaging_service_sid"`
	Sid                 string            `json:"sid"`
	DateSent            *string           `json:"date_sent"`
	DateCreated         string            `json:"date_created"`
	ErrorCode           *int              `json:"error_code"`
	PriceUnit           string            `json:"price_unit"`
	APIVersion          string            `json:"api_version"`
	SubresourceURIs     map[string]string `json:"subresource_uris"`
}

// rfc2822 is Twilio's date format, always in GMT: "Thu, 24 Aug 2023 05:01:45 +0000".
func rfc2822(t time.Time) string { return t.UTC().Format(time.RFC1123Z) }

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func render(m *Message) resource {
	base := "/2010-04-01/Accounts/" + m.AccountSid + "/Messages/" + m.Sid
	r := resource{
		Body:                m.Body,
		NumSegments:         strconv.Itoa(m.NumSegments),
		Direction:           m.Direction,
		From:                optional(m.From),
		To:                  m.To,
		DateUpdated:         rfc2822(m.DateUpdated),
		URI:                 base + ".json",
		AccountSid:          m.AccountSid,
		NumMedia:            strconv.Itoa(len(m.MediaURLs)),
		Status:              m.Status,
		MessagingServiceSid: optional(m.MessagingServiceSid),
		Sid:                 m.Sid,
		DateCreated:         rfc2822(m.DateCreated),
		PriceUnit:           "USD",
		APIVersion:          apiVersion,
		SubresourceURIs:     map[string]string{"media": base + "/Media.json"},
	}
	// A Messaging Service send has no sender and no segment count until it is queued
	// (num_segments in the Message resource reference).
	if m.Status == "accepted" {
		r.From, r.NumSegments = nil, "0"
	}
	if !m.DateSent.IsZero() {
		r.DateSent = optional(rfc2822(m.DateSent))
	}
	if m.ErrorCode != 0 {
		r.ErrorCode = &m.ErrorCode
	}
	return r
}

// authenticate checks HTTP Basic credentials against the account in the path: its own SID and
// auth token, or one of its API keys. Failures answer Twilio's 20003.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*account, bool) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		writeError(w, newAPIError(http.StatusUnauthorized, 20003, "Authentication Error - No credentials provided"))
		return nil, false
	}
	sid := r.PathValue("AccountSid")
	s.mu.Lock()
	acct := s.accounts[sid]
	key, isKey := s.keys[user]
	s.mu.Unlock()
	valid := false
	switch {
	case acct == nil:
	case user == sid:
		valid = hmac.Equal([]byte(pass), []byte(acct.token))
	case isKey && key.account == sid:
		valid = hmac.Equal([]byte(pass), []byte(key.secret))
	}
	if !valid {
		writeError(w, newAPIError(http.StatusUnauthorized, 20003, "Authenticate"))
		return nil, false
	}
	return acct, true
}

// forcedError returns the failure a test asked for, or the 429 of the rate limit, if any.
// Such requests are not processed, as Twilio documents for 429 (https://www.twilio.com/docs/api/errors/20429).
func (s *Server) forcedError(accountSid string) (apiError, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failNext) > 0 {
		e := s.failNext[0]
		s.failNext = s.failNext[1:]
		return e, true
	}
	tooMany := newAPIError(http.StatusTooManyRequests, 20429, "Too Many Requests")
	if s.throttle > 0 {
		s.throttle--
		return tooMany, true
	}
	if s.rateLimit > 0 {
		now := s.now()
		win := s.windows[accountSid]
		if now.Sub(win.start) >= time.Second || now.Before(win.start) {
			win = window{start: now}
		}
		win.n++
		s.windows[accountSid] = win
		if win.n > s.rateLimit {
			return tooMany, true
		}
	}
	return apiError{}, false
}

// handleCreate sends a message: POST /2010-04-01/Accounts/{AccountSid}/Messages.json with
// form fields To, From or MessagingServiceSid, Body, MediaUrl (repeated) and StatusCallback,
// answering 201 and the Message resource, as in "Create a Message resource"
// (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource).
func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	acct, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if e, forced := s.forcedError(acct.sid); forced {
		writeError(w, e)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 256<<10)
	if err := r.ParseForm(); err != nil {
		writeError(w, newAPIError(http.StatusBadRequest, 20001, "Unable to parse request: "+err.Error()))
		return
	}
	f := r.PostForm
	req := sendRequest{
		to:       strings.TrimSpace(f.Get("To")),
		from:     strings.TrimSpace(f.Get("From")),
		service:  strings.TrimSpace(f.Get("MessagingServiceSid")),
		body:     f.Get("Body"),
		media:    f["MediaUrl"],
		callback: f.Get("StatusCallback"),
	}
	h := s.takeHang()
	if h != nil && !h.accept && !s.wait(r.Context(), h.d) {
		return // the client gave up before Twilio took the message: nothing was sent
	}
	m, e := s.create(acct.sid, req)
	if e != nil {
		writeError(w, *e)
		return
	}
	if h != nil && h.cut {
		panic(http.ErrAbortHandler) // taken, and the connection dropped with no answer
	}
	if h != nil && h.accept && !s.wait(r.Context(), h.d) {
		return // taken, but the answer is lost: the status callbacks still come
	}
	writeJSON(w, http.StatusCreated, render(&m))
}

type sendRequest struct {
	to, from, service, body, callback string
	media                             []string
}

// create validates a send like Twilio does for the common mistakes, in Twilio's order, then
// records the message and schedules its status changes.
func (s *Server) create(accountSid string, req sendRequest) (Message, *apiError) {
	fail := func(code int, format string, args ...any) (Message, *apiError) {
		e := newAPIError(http.StatusBadRequest, code, fmt.Sprintf(format, args...))
		return Message{}, &e
	}
	switch {
	case req.to == "":
		return fail(21604, "A 'To' phone number is required.")
	case !e164.MatchString(req.to):
		return fail(21211, "The 'To' number %s is not a valid phone number.", req.to)
	case req.from == "" && req.service == "":
		return fail(21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message")
	case req.from != "" && !e164.MatchString(req.from):
		return fail(21212, "The 'From' number %s is not a valid phone number, shortcode, or alphanumeric sender ID.", req.from)
	case req.service != "" && (!strings.HasPrefix(req.service, "MG") || len(req.service) != 34):
		return fail(21705, "The Messaging Service Sid %s is invalid.", req.service)
	case req.body == "" && len(req.media) == 0:
		return fail(21602, "Message body is required.")
	case utf16Len(req.body) > maxBody:
		return fail(21617, "The concatenated message body exceeds the %d character limit.", maxBody)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var svc *service
	if req.service != "" {
		svc = s.services[req.service]
		if svc == nil || svc.account != accountSid {
			return fail(21701, "The Messaging Service Sid %s does not exist or does not belong to account %s.", req.service, accountSid)
		}
	}
	var sender *number
	if req.from != "" {
		sender = s.byPhone[req.from]
		switch {
		case sender == nil:
			return fail(21659, "'From' %s is not a Twilio phone number or Short Code country mismatch", req.from)
		case sender.account != accountSid:
			return fail(21606, "The From phone number %s is not a valid, SMS-capable inbound phone number or short code for your account.", req.from)
		}
	} else {
		sender = s.pick(svc, req.to)
		if sender == nil {
			return fail(21703, "The Messaging Service does not have a phone number available to send a message.")
		}
	}
	scope := s.scopeOf(sender)
	if svc != nil {
		scope = svc.sid
	}
	if s.optOuts[scope][req.to] {
		return fail(21610, "Attempt to send to unsubscribed recipient")
	}

	now := s.now()
	segments, encoding := Segments(req.body)
	if segments == 0 {
		segments = 1 // a media-only message is billed as one
	}
	m := &Message{
		Sid:            NewSID("SM"),
		AccountSid:     accountSid,
		From:           sender.phone,
		To:             req.to,
		Body:           req.body,
		MediaURLs:      req.media,
		StatusCallback: req.callback,
		Direction:      "outbound-api",
		Status:         "queued",
		NumSegments:    segments,
		Encoding:       encoding,
		DateCreated:    now,
		DateUpdated:    now,
	}
	if svc != nil {
		// Messaging Service sends start as "accepted" until a sender is assigned
		// (https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks).
		m.MessagingServiceSid, m.Status = svc.sid, "accepted"
	}
	o, ok := s.outcomes[req.to]
	if !ok {
		o = s.outcomes[""]
	}
	s.messages[m.Sid] = m
	s.sent = append(s.sent, m.Sid)
	s.changes.Notify()
	s.schedule(m.Sid, s.steps(svc != nil, o))
	return m.clone(), nil
}

// pick chooses the pool number for a recipient: the one used before (Sticky Sender), else the
// next in turn. Callers hold s.mu.
func (s *Server) pick(svc *service, to string) *number {
	if sid, ok := svc.sticky[to]; ok {
		if n := s.numbers[sid]; n != nil && n.service == svc.sid {
			return n
		}
	}
	if len(svc.pool) == 0 {
		return nil
	}
	sid := svc.pool[svc.next%len(svc.pool)]
	svc.next++
	svc.sticky[to] = sid
	return s.numbers[sid]
}

// handleFetch answers GET /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}.json with
// the Message resource in its current state ("Fetch a Message resource" in the Message
// resource reference).
func (s *Server) handleFetch(w http.ResponseWriter, r *http.Request) {
	acct, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	sid, isJSON := strings.CutSuffix(r.PathValue("file"), ".json")
	s.mu.Lock()
	m, found := s.messages[sid]
	var res resource
	if found && isJSON && m.AccountSid == acct.sid {
		res = render(m)
	} else {
		found = false
	}
	s.mu.Unlock()
	if !found {
		s.handleNotFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// handleNotFound is Twilio's 20404 for any unknown resource.
func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, newAPIError(http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found"))
}
