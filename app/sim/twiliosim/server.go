// Package twiliosim is a local simulator of Twilio Programmable Messaging: the 2010-04-01
// REST API for sending SMS and the webhooks Twilio sends back (status callbacks and incoming
// messages), with Twilio's payloads, error bodies and X-Twilio-Signature. Tests and
// `masteria dev` point the Twilio SMS channel's API base URL at it.
//
// It also serves what a voice set-up needs (voice.go): searching and buying numbers
// (AvailablePhoneNumbers, IncomingPhoneNumbers), SIP credential lists and credentials, and
// the Elastic SIP Trunking v1 API (Trunks and their OriginationUrls, CredentialLists and
// PhoneNumbers) under /v1 on the same base URL, so one sim stands for both
// api.twilio.com and trunking.twilio.com. Releasing a number (release.go) deletes them:
// DELETE on IncomingPhoneNumbers/{PN}.json, SIP/CredentialLists/{CL}.json, a trunk, its
// OriginationUrls/{OU}, and a trunk's PhoneNumbers/{PN} and CredentialLists/{CL} (204, or
// 404 with 20404 when it is not there). FailNext makes the next call of one operation fail;
// Throttle makes the next calls answer 429 (20429) with a Retry-After.
//
// REST endpoints (HTTP Basic auth with AccountSid:AuthToken or ApiKeySid:Secret):
//
//	POST /2010-04-01/Accounts/{AccountSid}/Messages.json
//	GET  /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}.json
//	GET  /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid} (inbound MMS files)
//
// Webhooks the sim sends:
//
//   - status callbacks to a message's StatusCallback URL as it moves to sent, delivered,
//     undelivered or failed (and queued first for Messaging Service sends);
//   - incoming messages to a number's SMS URL, on demand through Inbound.
//
// Every number behaves as if its Messaging Service had Advanced Opt-Out on: a message that is
// only a keyword (STOP, START, HELP or a configured variant such as SAIR or VOLTAR) reaches the
// app with OptOutType, and an opted-out recipient is refused with error 21610 until they opt
// back in. Twilio's own confirmation replies to the handset are not simulated.
package twiliosim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"masteria/app/sim/simhttp"
)

const apiVersion = "2010-04-01"

// Delivery statuses a test can ask for with SetOutcome.
const (
	StatusDelivered   = "delivered"
	StatusUndelivered = "undelivered"
	StatusFailed      = "failed"
	StatusSent        = "sent" // the carrier never sends a delivery receipt
)

// Default opt-out, opt-in and help keywords: Twilio's standard English ones
// (https://www.twilio.com/docs/messaging/tutorials/advanced-opt-out) plus Portuguese ones,
// which Advanced Opt-Out lets a Messaging Service add as custom keywords.
var (
	DefaultOptOutKeywords = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "SAIR", "PARAR", "CANCELAR"}
	DefaultOptInKeywords  = []string{"START", "YES", "UNSTOP", "VOLTAR"}
	DefaultHelpKeywords   = []string{"HELP", "INFO", "AJUDA"}
)

// Option configures a Server.
type Option func(*Server)

// WithAddr sets the address Start listens on; the default is 127.0.0.1:0 (a free port).
func WithAddr(addr string) Option { return func(s *Server) { s.addr = addr } }

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithClock replaces time.Now for timestamps and the rate limit window.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithHTTPClient sets the client that sends webhooks; the default times out after 15 seconds,
// Twilio's own webhook timeout.
func WithHTTPClient(c *http.Client) Option { return func(s *Server) { s.client = c } }

// WithStatusDelays sets how long a message waits before it is sent and then before its final
// status (delivered, undelivered). The defaults are 10ms each, to keep tests fast.
func WithStatusDelays(sent, final time.Duration) Option {
	return func(s *Server) { s.sentDelay, s.finalDelay = sent, final }
}

// WithRateLimit answers 429 (code 20429) to Message creations beyond perSecond per account in
// any one-second window. Zero, the default, means no limit.
func WithRateLimit(perSecond int) Option { return func(s *Server) { s.rateLimit = perSecond } }

// WithKeywords replaces the opt-out, opt-in and help keywords; a nil list keeps the default.
func WithKeywords(optOut, optIn, help []string) Option {
	return func(s *Server) {
		if optOut != nil {
			s.optOutWords = optOut
		}
		if optIn != nil {
			s.optInWords = optIn
		}
		if help != nil {
			s.helpWords = help
		}
	}
}

// Message is a message the sim knows: sent through the REST API or received through Inbound.
type Message struct {
	Sid                 string
	AccountSid          string
	MessagingServiceSid string
	From                string // for a Messaging Service send, the pool number picked for it
	To                  string
	Body                string
	MediaURLs           []string
	StatusCallback      string
	Direction           string // "outbound-api" or "inbound"
	Status              string
	NumSegments         int
	Encoding            string // EncodingGSM7 or EncodingUCS2
	ErrorCode           int
	DateCreated         time.Time
	DateUpdated         time.Time
	DateSent            time.Time // zero until sent
}

func (m *Message) clone() Message {
	c := *m
	c.MediaURLs = slices.Clone(m.MediaURLs)
	return c
}

// Callback is one status callback the sim sent, with the app's answer.
type Callback struct {
	URL       string
	Params    url.Values
	Signature string
	Status    int   // the app's HTTP status; 0 when the request failed
	Err       error // transport error, if any
}

type account struct {
	sid   string
	token string
}

type apiKey struct {
	account string
	secret  string
}

type number struct {
	sid     string
	account string
	phone   string
	smsURL  string
	service string // Messaging Service SID, if the number is in a pool

	friendlyName string
	trunk        string // SIP trunk SID, once attached to one
	created      time.Time
}

type service struct {
	sid     string
	account string
	pool    []string          // number SIDs
	next    int               // round-robin position for new recipients
	sticky  map[string]string // recipient -> number SID (Sticky Sender)
}

type outcome struct {
	status string
	code   int
}

type window struct {
	start time.Time
	n     int
}

// Server is the simulated Twilio. Its methods are safe for concurrent use.
type Server struct {
	addr        string
	mediaFiles  mediaStore
	log         *slog.Logger
	now         func() time.Time
	client      *http.Client
	sentDelay   time.Duration
	finalDelay  time.Duration
	rateLimit   int
	optOutWords []string
	optInWords  []string
	helpWords   []string
	handler     http.Handler

	// ctx ends pending status callbacks on Close.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	baseURL   string
	listener  net.Listener
	srv       *http.Server
	accounts  map[string]*account
	keys      map[string]apiKey
	numbers   map[string]*number // by SID
	byPhone   map[string]*number
	services  map[string]*service
	messages  map[string]*Message
	sent      []string // SIDs of messages created through the REST API, in order
	callbacks []Callback
	inbound   map[string]RawRequest // webhook requests by MessageSid, for Redeliver
	outcomes  map[string]outcome    // by recipient; "" is the default
	failNext  []apiError
	throttle  int
	hang      *hang
	windows   map[string]window
	optOuts   map[string]map[string]bool // scope (service SID or phone) -> handset -> opted out
	changes   *simhttp.Changes           // wakes the Wait… calls on every change
	voice     voiceState                 // numbers bought, SIP trunks, credential lists (voice.go)
}

// New returns a simulator with no accounts.
func New(opts ...Option) *Server {
	s := &Server{
		addr:        "127.0.0.1:0",
		log:         slog.Default(),
		now:         time.Now,
		client:      &http.Client{Timeout: 15 * time.Second},
		sentDelay:   10 * time.Millisecond,
		finalDelay:  10 * time.Millisecond,
		optOutWords: slices.Clone(DefaultOptOutKeywords),
		optInWords:  slices.Clone(DefaultOptInKeywords),
		helpWords:   slices.Clone(DefaultHelpKeywords),
		accounts:    make(map[string]*account),
		keys:        make(map[string]apiKey),
		numbers:     make(map[string]*number),
		byPhone:     make(map[string]*number),
		services:    make(map[string]*service),
		messages:    make(map[string]*Message),
		inbound:     make(map[string]RawRequest),
		outcomes:    make(map[string]outcome),
		windows:     make(map[string]window),
		optOuts:     make(map[string]map[string]bool),
	}
	for _, o := range opts {
		o(s)
	}
	s.changes = simhttp.NewChanges(&s.mu)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.handler = s.routes()
	return s
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{AccountSid}/Messages.json", s.handleCreate)
	mux.HandleFunc("GET /2010-04-01/Accounts/{AccountSid}/Messages/{file}", s.handleFetch)
	mux.HandleFunc("GET /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid}", s.handleMedia)
	mux.HandleFunc("GET /2010-04-01/Accounts/{file}", s.handleAccount)
	mux.HandleFunc("GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json", s.handleIncomingNumbers)
	s.voiceRoutes(mux)
	mux.HandleFunc("/", s.handleNotFound)
	return mux
}

// Handler returns the REST API handler, for callers that mount it themselves.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on WithAddr's address (default 127.0.0.1 on a free port), serves the REST API
// and returns its base URL, the value for the Twilio client's API base URL.
func (s *Server) Start() (baseURL string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", errors.New("twiliosim: closed")
	}
	if s.listener != nil {
		return "", errors.New("twiliosim: already started")
	}
	srv, ln, base, err := simhttp.Serve("twiliosim", s.addr, s.handler, s.log)
	if err != nil {
		return "", err
	}
	s.listener, s.srv, s.baseURL = ln, srv, base
	return s.baseURL, nil
}

// Close stops pending status callbacks and the server started by Start. It is safe to call twice.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	srv := s.srv
	s.srv, s.listener = nil, nil
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	if srv != nil {
		if err := srv.Close(); err != nil {
			s.log.Warn("twiliosim: close", "err", err)
		}
	}
}

// URL returns the base URL, or "" before Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// NewSID returns a random Twilio-style SID: the two-letter prefix (AC, SM, MG, PN, SK...)
// followed by 32 hex digits.
func NewSID(prefix string) string {
	b := make([]byte, 16)
	// crypto/rand.Read never returns an error on supported platforms.
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// AddAccount adds or replaces an account and its auth token, which both authenticates REST
// calls and signs the webhooks of the account's numbers.
func (s *Server) AddAccount(sid, authToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[sid] = &account{sid: sid, token: authToken}
}

// AddAPIKey lets keySid:secret authenticate REST calls for an account, like a Twilio API key.
func (s *Server) AddAPIKey(accountSid, keySid, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[keySid] = apiKey{account: accountSid, secret: secret}
}

// AddNumber gives an account an SMS-capable phone number in E.164 and returns its SID (PN...).
// smsURL is the number's incoming message webhook: the exact URL the app is configured with,
// which Inbound posts to and signs. It may be set later with SetSMSURL.
func (s *Server) AddNumber(accountSid, phoneNumber, smsURL string) (string, error) {
	if !e164.MatchString(phoneNumber) {
		return "", fmt.Errorf("twiliosim: %q is not an E.164 phone number", phoneNumber)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accounts[accountSid] == nil {
		return "", fmt.Errorf("twiliosim: unknown account %s", accountSid)
	}
	if s.byPhone[phoneNumber] != nil {
		return "", fmt.Errorf("twiliosim: %s already belongs to an account", phoneNumber)
	}
	n := &number{sid: NewSID("PN"), account: accountSid, phone: phoneNumber, smsURL: smsURL}
	s.numbers[n.sid] = n
	s.byPhone[phoneNumber] = n
	return n.sid, nil
}

// SetSMSURL changes a number's incoming message webhook URL.
func (s *Server) SetSMSURL(numberSid, smsURL string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.numbers[numberSid]
	if n == nil {
		return fmt.Errorf("twiliosim: unknown number %s", numberSid)
	}
	n.smsURL = smsURL
	return nil
}

// AddMessagingService creates a Messaging Service (MG...) whose sender pool holds the given
// numbers of the same account. Sends with MessagingServiceSid pick a pool number, keeping the
// same one for a recipient (Sticky Sender), and opt-outs apply to the whole service.
func (s *Server) AddMessagingService(accountSid string, numberSids ...string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accounts[accountSid] == nil {
		return "", fmt.Errorf("twiliosim: unknown account %s", accountSid)
	}
	for _, sid := range numberSids {
		n := s.numbers[sid]
		switch {
		case n == nil || n.account != accountSid:
			return "", fmt.Errorf("twiliosim: number %s is not in account %s", sid, accountSid)
		case n.service != "":
			return "", fmt.Errorf("twiliosim: number %s is already in service %s", sid, n.service)
		}
	}
	svc := &service{sid: NewSID("MG"), account: accountSid, pool: slices.Clone(numberSids),
		sticky: make(map[string]string)}
	for _, sid := range numberSids {
		s.numbers[sid].service = svc.sid
	}
	s.services[svc.sid] = svc
	return svc.sid, nil
}

// SetOutcome decides how messages to a recipient end: StatusDelivered (the default),
// StatusUndelivered or StatusFailed with a 30xxx error code such as 30003 (unreachable
// handset) or 30007 (carrier filtering), or StatusSent for a carrier that never confirms.
// An empty to sets the outcome for every recipient without one of its own.
func (s *Server) SetOutcome(to, status string, errorCode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes[to] = outcome{status: status, code: errorCode}
}

// SetFailNext makes the next Message creation fail with this Twilio error body and HTTP
// status, after authentication. Calls queue up: each failure is used once.
func (s *Server) SetFailNext(code int, message string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = append(s.failNext, newAPIError(status, code, message))
}

// SetThrottle makes the next n Message creations answer 429 with code 20429, as Twilio does
// when an account exceeds its API concurrency.
func (s *Server) SetThrottle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle = n
}

// SetHangNext makes the next Message creation wait d before it answers, so that a client
// with a shorter timeout gives up. With accept false the message is created only if the
// client is still there after d (a slow answer); with accept true it is created at once and
// its status callbacks are scheduled before the wait: a send whose answer is lost although
// Twilio took it, whose callbacks still come to its StatusCallback URL.
func (s *Server) SetHangNext(d time.Duration, accept bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang = &hang{d: d, accept: accept}
}

// SetCutNext makes the next Message creation take the message, then drop the connection
// without an answer, as a network fault or a proxy between the two does: the client gets a
// reset or an EOF, not a timeout, for a send Twilio took, whose status callbacks still come.
func (s *Server) SetCutNext() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang = &hang{accept: true, cut: true}
}

type hang struct {
	d      time.Duration
	accept bool
	cut    bool // no answer at all: the connection is dropped
}

// takeHang returns the hang due for this creation, if any.
func (s *Server) takeHang() *hang {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hang
	s.hang = nil
	return h
}

// wait pauses d; false when the client went away or the sim closed first.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.ctx.Done():
		return false
	}
}

// Sent returns the messages created through the REST API, oldest first, in their current state.
func (s *Server) Sent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sentLocked()
}

func (s *Server) sentLocked() []Message {
	out := make([]Message, 0, len(s.sent))
	for _, sid := range s.sent {
		out = append(out, s.messages[sid].clone())
	}
	return out
}

// WaitSent waits until at least n messages were created through the REST API and returns them.
func (s *Server) WaitSent(ctx context.Context, n int) ([]Message, error) {
	var out []Message
	err := s.changes.Wait(ctx, func() bool {
		if len(s.sent) < n {
			return false
		}
		out = s.sentLocked()
		return true
	})
	return out, err
}

// Message returns a message by SID, in its current state.
func (s *Server) Message(sid string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.messages[sid]
	if !ok {
		return Message{}, false
	}
	return m.clone(), true
}

// Callbacks returns the status callbacks sent so far, oldest first.
func (s *Server) Callbacks() []Callback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.callbacks)
}

// WaitCallbacks waits until at least n status callbacks were sent and returns them.
func (s *Server) WaitCallbacks(ctx context.Context, n int) ([]Callback, error) {
	var out []Callback
	err := s.changes.Wait(ctx, func() bool {
		if len(s.callbacks) < n {
			return false
		}
		out = slices.Clone(s.callbacks)
		return true
	})
	return out, err
}

// OptedOut reports whether handset has opted out of messages from number, given as a phone
// number, a number SID or a Messaging Service SID.
func (s *Server) OptedOut(number, handset string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	scope := number
	if n := s.numbers[number]; n != nil {
		scope = s.scopeOf(n)
	} else if n := s.byPhone[number]; n != nil {
		scope = s.scopeOf(n)
	}
	return s.optOuts[scope][handset]
}

// scopeOf is where an opt-out sent to n applies: the whole Messaging Service when n is in one,
// as with Advanced Opt-Out, else the number alone. Callers hold s.mu.
func (s *Server) scopeOf(n *number) string {
	if n.service != "" {
		return n.service
	}
	return n.phone
}

// keyword classifies a message body as Twilio's OptOutType: STOP, START, HELP or "".
// Twilio only reacts to a body that is the keyword alone, in any case.
func (s *Server) keyword(body string) string {
	word := strings.Trim(strings.TrimSpace(body), ".!")
	is := func(w string) bool { return strings.EqualFold(w, word) }
	switch {
	case word == "":
		return ""
	case slices.ContainsFunc(s.optOutWords, is):
		return "STOP"
	case slices.ContainsFunc(s.optInWords, is):
		return "START"
	case slices.ContainsFunc(s.helpWords, is):
		return "HELP"
	}
	return ""
}
