// Package retellsim is a local simulator of Retell AI's REST API and the call webhooks it
// sends, with Retell's payloads, status codes, error bodies and x-retell-signature. Tests and
// `masteria dev` point RETELL_API_URL at it.
//
// REST endpoints (Authorization: Bearer <API key>; errors {"status":"error","message"}):
//
//	POST   /v2/list-agents             paged by ?limit&pagination_key; body only {filter_criteria}
//	GET    /list-agents                the older bare array, paged by the last agent id
//	GET    /get-agent/{agent_id}
//	POST   /import-phone-number        201
//	GET    /v2/list-phone-numbers      paged; GET /list-phone-numbers the older bare array
//	GET    /get-phone-number/{number}  DELETE /delete-phone-number/{number} 204
//	POST   /v2/create-phone-call       201, call_status "registered", metadata and variables echoed
//	GET    /v2/get-call/{call_id}      an unknown id is 422 (404 with WithUnknownCallStatus)
//	DELETE /v2/delete-call/{call_id}   204
//	POST   /v3/list-calls              {items, has_more, pagination_key, total?}; typed filters
//	POST   /v2/list-calls              the older bare array; filters as bare arrays
//	POST   /create-batch-call          201
//	GET    /get-concurrency
//	GET    /recordings/{call_id}.wav   the recording_url of a played call (no auth, like a signed URL)
//
// Webhooks: PlayCall sends a call's events (call_started for connected calls only,
// call_ended without call_analysis, call_analyzed) to the webhook URL as {"event","call"},
// signed with the first API key, each retried up to 3 times on a non-2xx answer or a
// timeout; a failed event does not stop the next. Scripts can send them out of order,
// twice, with a bad signature or an old timestamp, and add the optional events of a call
// (transcript_updated, transfer_started/bridged/cancelled/ended). ReceiveCall plays a call
// someone makes to one of the account's numbers (its inbound agent, or the one its
// inbound_webhook_url names). SetConcurrencyLimit lowered under the calls running ends the
// newest at once with concurrency_limit_reached.
//
// FailNext makes the next requests to a path fail with a status of choice (a numbers
// wizard's import step, a 429 on a call), and Requests, PhoneNumbers, Imports, Calls and
// Deliveries show what the sim received and sent.
package retellsim

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"masteria/app/sim/simhttp"
	"masteria/app/voice/retell"
)

// Option configures a Server.
type Option func(*Server)

// WithAddr sets the address Start listens on; the default is 127.0.0.1:0 (a free port).
func WithAddr(addr string) Option { return func(s *Server) { s.addr = addr } }

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithClock replaces time.Now for timestamps and signatures.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithHTTPClient sets the client that sends webhooks; the default times out after 10 s,
// Retell's webhook timeout.
func WithHTTPClient(c *http.Client) Option { return func(s *Server) { s.client = c } }

// WithAPIKeys sets the accepted API keys; the first signs the webhooks. The default is
// "key_sim".
func WithAPIKeys(keys ...string) Option { return func(s *Server) { s.keys = slices.Clone(keys) } }

// WithOldListsOnly makes the new list endpoints (POST /v2/list-agents, GET
// /v2/list-phone-numbers, POST /v3/list-calls) answer 404, like a server from before them.
func WithOldListsOnly() Option { return func(s *Server) { s.oldOnly = true } }

// WithUnknownCallStatus sets the status of get-call for an unknown id: 422 (the spec, the
// default) or 404.
func WithUnknownCallStatus(code int) Option { return func(s *Server) { s.unknownCall = code } }

// WithRetryDelay sets the wait before each webhook retry (default 20 ms, to keep tests fast).
func WithRetryDelay(d time.Duration) Option { return func(s *Server) { s.retryDelay = d } }

// WithConcurrencyLimit refuses create-phone-call with 429 while limit calls are registered
// or ongoing. Zero, the default, means no limit.
func WithConcurrencyLimit(limit int) Option { return func(s *Server) { s.concurrency = limit } }

// Delivery is one webhook attempt the sim made, with the app's answer.
type Delivery struct {
	URL       string
	Event     string
	CallID    string
	Body      []byte
	Signature string
	Attempt   int // 1 for the first try, up to 4
	Status    int // the app's HTTP status; 0 when the request failed
	Err       error
}

// Server is the simulated Retell. Its methods are safe for concurrent use.
type Server struct {
	addr        string
	log         *slog.Logger
	now         func() time.Time
	client      *http.Client
	oldOnly     bool
	unknownCall int
	retryDelay  time.Duration
	concurrency int
	handler     http.Handler

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	closed     bool
	baseURL    string
	listener   net.Listener
	srv        *http.Server
	keys       []string
	webhook    string
	agents     []retell.Agent
	numbers    []retell.PhoneNumber
	imports    []retell.ImportPhoneNumber
	calls      map[string]*retell.Call
	callOrder  []string
	playing    map[string]chan struct{} // calls PlayCall is playing, closed to end them now
	batches    []json.RawMessage
	deliveries []Delivery
	autoPlay   *CallScript
	failures   []failure
	requests   []Request
	changes    *simhttp.Changes
}

// failure is an answer FailNext queued.
type failure struct {
	path    string
	status  int
	message string
	left    int
}

// Request is one REST request the sim received (after auth).
type Request struct {
	Method string
	Path   string
	Status int // what the sim answered
}

// New returns a simulator with no agents, numbers or calls.
func New(opts ...Option) *Server {
	s := &Server{
		addr:        "127.0.0.1:0",
		log:         slog.Default(),
		now:         time.Now,
		client:      &http.Client{Timeout: 10 * time.Second},
		unknownCall: http.StatusUnprocessableEntity,
		retryDelay:  20 * time.Millisecond,
		keys:        []string{"key_sim"},
		calls:       map[string]*retell.Call{},
		playing:     map[string]chan struct{}{},
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
	mux.HandleFunc("POST /v2/list-agents", s.auth(s.handleListAgents))
	mux.HandleFunc("GET /list-agents", s.auth(s.handleListAgentsOld))
	mux.HandleFunc("GET /get-agent/{id}", s.auth(s.handleGetAgent))
	mux.HandleFunc("POST /import-phone-number", s.auth(s.handleImport))
	mux.HandleFunc("GET /v2/list-phone-numbers", s.auth(s.handleListNumbers))
	mux.HandleFunc("GET /list-phone-numbers", s.auth(s.handleListNumbersOld))
	mux.HandleFunc("GET /get-phone-number/{number}", s.auth(s.handleGetNumber))
	mux.HandleFunc("DELETE /delete-phone-number/{number}", s.auth(s.handleDeleteNumber))
	mux.HandleFunc("PATCH /update-phone-number/{number}", s.auth(s.handleUpdateNumber))
	mux.HandleFunc("POST /v2/create-phone-call", s.auth(s.handleCreateCall))
	mux.HandleFunc("GET /v2/get-call/{id}", s.auth(s.handleGetCall))
	mux.HandleFunc("DELETE /v2/delete-call/{id}", s.auth(s.handleDeleteCall))
	mux.HandleFunc("POST /v3/list-calls", s.auth(s.handleListCalls))
	mux.HandleFunc("POST /v2/list-calls", s.auth(s.handleListCallsOld))
	mux.HandleFunc("POST /create-batch-call", s.auth(s.handleBatch))
	mux.HandleFunc("GET /get-concurrency", s.auth(s.handleConcurrency))
	mux.HandleFunc("GET /recordings/{file}", s.handleRecording)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not Found")
	})
	return mux
}

// Handler returns the REST API handler, for callers that mount it themselves.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on WithAddr's address and returns the base URL, the value for RETELL_API_URL.
func (s *Server) Start() (baseURL string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", errors.New("retellsim: closed")
	}
	if s.listener != nil {
		return "", errors.New("retellsim: already started")
	}
	srv, ln, base, err := simhttp.Serve("retellsim", s.addr, s.handler, s.log)
	if err != nil {
		return "", err
	}
	s.listener, s.srv, s.baseURL = ln, srv, base
	return base, nil
}

// Close stops pending deliveries and the server. It is safe to call twice.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	srv := s.srv
	s.srv, s.listener = nil, nil
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	simhttp.Close("retellsim", srv, s.log)
}

// URL returns the base URL, or "" before Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// NewID returns a Retell-style id: prefix followed by 32 alphanumerics.
func NewID(prefix string) string {
	const abc = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = abc[int(b[i])%len(abc)]
	}
	return prefix + string(b)
}

// SetAPIKeys replaces the accepted API keys; the first signs the webhooks.
func (s *Server) SetAPIKeys(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = slices.Clone(keys)
}

// SetWebhook sets the account-level webhook URL the call events go to.
func (s *Server) SetWebhook(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook = url
}

// SetAutoPlay makes every call created through create-phone-call play script (its CallID,
// numbers and metadata taken from the call) in the background; nil stops it.
func (s *Server) SetAutoPlay(script *CallScript) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.autoPlay = script
}

// AddAgent adds an agent; a blank AgentID gets a new one ("agent_…"), a zero version 1.
func (s *Server) AddAgent(a retell.Agent) retell.Agent {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.AgentID == "" {
		a.AgentID = NewID("agent_")
	}
	if a.Channel == "" {
		a.Channel = "voice"
	}
	if a.VoiceID == "" {
		a.VoiceID = "11labs-Adrian"
	}
	ms := s.now().UnixMilli()
	if a.LastModification == 0 {
		a.LastModification = ms
	}
	if a.UserModified == 0 {
		a.UserModified = ms
	}
	s.agents = append(s.agents, a)
	s.changes.Notify()
	return a
}

// AddPhoneNumber adds a number as if already in the account (a number to call from).
func (s *Server) AddPhoneNumber(p retell.PhoneNumber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.PhoneNumberType == "" {
		p.PhoneNumberType = "custom"
	}
	if p.LastModification == 0 {
		p.LastModification = s.now().UnixMilli()
	}
	s.numbers = append(s.numbers, p)
	s.changes.Notify()
}

// AddCall adds a call as if Retell had it already (a blank CallID gets a new one), for
// lists and reads; no webhook is sent.
func (s *Server) AddCall(c retell.Call) retell.Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.CallID == "" {
		c.CallID = NewID("call_")
	}
	if c.CallType == "" {
		c.CallType = "phone_call"
	}
	if _, ok := s.calls[c.CallID]; !ok {
		s.callOrder = append(s.callOrder, c.CallID)
	}
	s.calls[c.CallID] = &c
	s.changes.Notify()
	return c
}

// Agents returns the agents.
func (s *Server) Agents() []retell.Agent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.agents)
}

// PhoneNumbers returns the numbers of the account, in the order they came.
func (s *Server) PhoneNumbers() []retell.PhoneNumber {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.numbers)
}

// Imports returns the import-phone-number requests received, as sent (with the password).
func (s *Server) Imports() []retell.ImportPhoneNumber {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.imports)
}

// Calls returns the calls, in the order they were created or played.
func (s *Server) Calls() []retell.Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]retell.Call, 0, len(s.callOrder))
	for _, id := range s.callOrder {
		if c, ok := s.calls[id]; ok {
			out = append(out, *c)
		}
	}
	return out
}

// Call returns one call.
func (s *Server) Call(id string) (retell.Call, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls[id]
	if !ok {
		return retell.Call{}, false
	}
	return *c, true
}

// Deliveries returns every webhook attempt, in order.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliveries)
}

// WaitCalls blocks until n calls exist or ctx ends.
func (s *Server) WaitCalls(ctx context.Context, n int) error {
	return s.changes.Wait(ctx, func() bool { return len(s.callOrder) >= n })
}

// WaitDeliveries blocks until n webhook attempts were answered with a 2xx, or ctx ends.
func (s *Server) WaitDeliveries(ctx context.Context, n int) error {
	return s.changes.Wait(ctx, func() bool {
		ok := 0
		for _, d := range s.deliveries {
			if d.Status >= 200 && d.Status < 300 {
				ok++
			}
		}
		return ok >= n
	})
}

// FailNext makes the next n requests to path (like "/import-phone-number"; "" for any)
// answer status with Retell's error body and message, before doing anything.
func (s *Server) FailNext(path string, status int, message string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{path: path, status: status, message: message, left: n})
}

// Requests returns the REST requests received with a valid key, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// auth refuses a request without one of the API keys as its Bearer token, then answers a
// failure FailNext queued for its path, if any, and records it.
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		good := ok && tok != "" && slices.Contains(s.keys, tok)
		var fail *failure
		if good {
			for i := range s.failures {
				if f := &s.failures[i]; f.left > 0 && (f.path == "" || f.path == r.URL.Path) {
					f.left--
					fail = &failure{status: f.status, message: f.message}
					break
				}
			}
		}
		s.mu.Unlock()
		if !good {
			writeError(w, http.StatusUnauthorized, "Invalid API Key")
			return
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		if fail != nil {
			writeError(sw, fail.status, fail.message)
		} else {
			h(sw, r)
		}
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Status: sw.status})
		s.changes.Notify()
		s.mu.Unlock()
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"status": "error", "message": msg})
}

// decode reads a JSON object body of at most 1 MB, refusing unknown fields when strict.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid request body: "+err.Error())
		return false
	}
	return true
}

// limitOf reads ?limit (default def, 1..1000).
func limitOf(r *http.Request, def int) (int, bool) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, false
	}
	return n, true
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
