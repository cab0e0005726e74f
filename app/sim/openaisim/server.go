// Package openaisim is a local OpenAI-compatible API over real HTTP, answering the way
// github.com/tmc/langchaingo's llms/openai client expects (see the provider reference, §5 on
// the OpenAI-compatible API). Tests and `masteria dev` point a provider's base URL at
// URL()+"/v1".
//
// Endpoints (Authorization: Bearer <key>):
//
//	POST /v1/chat/completions   plain or streamed (SSE) answers, tool calls, JSON output
//	POST /v1/embeddings         deterministic bag-of-words vectors (see Embedding)
//	GET  /v1/models             the configured models
//	GET  /v1/models/{model}     one model
//
// Every success is exactly 200 (langchaingo refuses any other status). Errors carry OpenAI's
// body, {"error":{"message","type","param","code"}}, with all four keys.
//
// A chat answer is, in order of precedence: the next scripted reply (Reply, ReplyTool,
// ReplyJSON, ReplyWith), else what the Responder returns, else a deterministic default (see
// DefaultResponse). Every request is recorded, failed ones included (Requests, WaitRequests),
// so tests can assert what the app sent. SetRateLimited, SetQuotaExceeded, SetFailNext and
// SetDelay make the next requests fail or slow.
//
// Token counts are estimates, not a real tokenizer: a text counts one token per 4 runes,
// rounded up; a chat prompt adds 3 tokens per message and 3 for the reply's priming.
package openaisim

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"masteria/app/sim/simhttp"
)

// Option configures a Server.
type Option func(*Server)

// WithAddr sets the address Start listens on; the default is 127.0.0.1:0 (a free port).
func WithAddr(addr string) Option { return func(s *Server) { s.addr = addr } }

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithClock replaces time.Now for the created timestamps and the recorded times.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithAPIKey adds a key the sim accepts as "Authorization: Bearer <key>". With no key
// configured, any non-empty key is accepted; a missing one is always refused.
func WithAPIKey(key string) Option { return func(s *Server) { s.keys = append(s.keys, key) } }

// WithModels replaces the model list (DefaultModels). Chat and embedding requests for a
// model not in the list are refused with 404 model_not_found, as OpenAI does.
func WithModels(models ...Model) Option {
	return func(s *Server) { s.models = slices.Clone(models) }
}

// WithResponder sets the Responder from the start; see SetResponder.
func WithResponder(f Responder) Option { return func(s *Server) { s.responder = f } }

// Server is the simulated OpenAI-compatible API. Its methods are safe for concurrent use.
type Server struct {
	addr    string
	log     *slog.Logger
	now     func() time.Time
	handler http.Handler

	ctx    context.Context // ends delayed answers on Close
	cancel context.CancelFunc

	mu        sync.Mutex
	keys      []string
	models    []Model
	responder Responder
	replies   []Response // scripted chat answers, first out first
	reqs      []Request
	failures  failures
	baseURL   string
	listener  net.Listener
	srv       *http.Server
	closed    bool
	changes   *simhttp.Changes // wakes WaitRequests
}

// New returns a simulator with DefaultModels and no scripted replies.
func New(opts ...Option) *Server {
	s := &Server{
		addr:   "127.0.0.1:0",
		log:    slog.Default(),
		now:    time.Now,
		models: DefaultModels(),
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
	mux.Handle("POST /v1/chat/completions", s.api(s.handleChat))
	mux.Handle("POST /v1/embeddings", s.api(s.handleEmbeddings))
	mux.Handle("GET /v1/models", s.api(s.handleModels))
	mux.Handle("GET /v1/models/{model...}", s.api(s.handleModel))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, apiError{status: http.StatusNotFound, Type: "invalid_request_error",
			Message: "Invalid URL (" + r.Method + " " + r.URL.Path + ")"})
	})
	return mux
}

// Handler returns the API handler, for callers that mount it themselves (at the root: its
// paths start with /v1).
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on WithAddr's address, serves the API and returns its base URL, without /v1:
// langchaingo's base URL is URL()+"/v1".
func (s *Server) Start() (baseURL string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", errors.New("openaisim: closed")
	}
	if s.listener != nil {
		return "", errors.New("openaisim: already started")
	}
	srv, ln, base, err := simhttp.Serve("openaisim", s.addr, s.handler, s.log)
	if err != nil {
		return "", err
	}
	s.listener, s.srv, s.baseURL = ln, srv, base
	return base, nil
}

// Close ends delayed answers and stops the server started by Start. It is safe to call twice.
func (s *Server) Close() {
	s.cancel()
	s.mu.Lock()
	s.closed = true
	srv := s.srv
	s.srv, s.listener = nil, nil
	s.mu.Unlock()
	simhttp.Close("openaisim", srv, s.log)
}

// URL returns the base URL (without /v1), or "" before Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// SetAPIKeys replaces the accepted keys; none means any non-empty key is accepted.
func (s *Server) SetAPIKeys(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = slices.Clone(keys)
}

// api wraps an endpoint: it records the request, checks the key, waits SetDelay, applies the
// failure modes and stamps OpenAI's response headers.
func (s *Server) api(h func(w http.ResponseWriter, r *http.Request, rec *Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec, idx, perr := s.record(r)
		sw := &statusWriter{ResponseWriter: w, s: s, idx: idx}
		sw.Header().Set("x-request-id", "req_"+randomString(hexDigits, 32))
		sw.Header().Set("openai-version", "2020-10-01")
		sw.Header().Set("openai-organization", "org-sim")
		sw.start = start
		if e, ok := s.authenticate(r); !ok {
			s.log.Debug("openaisim: refused key", "path", r.URL.Path)
			writeError(sw, e)
			return
		}
		if !s.wait(r.Context()) {
			return
		}
		if e, ok := s.takeFailure(sw, rec.Model); ok {
			s.log.Debug("openaisim: injected failure", "path", r.URL.Path, "status", e.status, "code", e.Code)
			writeError(sw, e)
			return
		}
		if perr != nil {
			writeError(sw, *perr)
			return
		}
		h(sw, r, &rec)
	})
}

func (s *Server) authenticate(r *http.Request) (apiError, bool) {
	auth := r.Header.Get("Authorization")
	key, ok := cutPrefixFold(auth, "Bearer ")
	if !ok || key == "" {
		return apiError{status: http.StatusUnauthorized, Type: "invalid_request_error",
			Message: "You didn't provide an API key. You need to provide your API key in an Authorization header " +
				"using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."}, false
	}
	s.mu.Lock()
	keys := s.keys
	s.mu.Unlock()
	if len(keys) == 0 || slices.Contains(keys, key) {
		return apiError{}, true
	}
	return apiError{status: http.StatusUnauthorized, Type: "invalid_request_error", Code: "invalid_api_key",
		Message: "Incorrect API key provided: " + maskKey(key) +
			". You can find your API key at https://platform.openai.com/account/api-keys."}, false
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !equalFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// maskKey shows a key the way OpenAI's 401 message does: its start and its last 4 characters.
func maskKey(k string) string {
	if len(k) <= 8 {
		return "****"
	}
	return k[:3] + "*****" + k[len(k)-4:]
}

// statusWriter stores the answer's status in the request's record before the client can see
// it, and keeps Flush for streaming.
type statusWriter struct {
	http.ResponseWriter
	s       *Server
	idx     int
	start   time.Time
	written bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.written {
		return
	}
	w.written = true
	w.Header().Set("openai-processing-ms", strconv.FormatInt(time.Since(w.start).Milliseconds(), 10))
	w.s.setStatus(w.idx, code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// apiError is OpenAI's error object and the HTTP status it comes with.
type apiError struct {
	status  int
	Message string
	Type    string
	Param   string
	Code    string
}

func (e apiError) MarshalJSON() ([]byte, error) {
	null := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	return json.Marshal(map[string]any{"error": map[string]any{
		"message": e.Message, "type": e.Type, "param": null(e.Param), "code": null(e.Code),
	}})
}

func writeError(w http.ResponseWriter, e apiError) { writeJSON(w, e.status, e) }

func invalidRequest(param, msg string) apiError {
	return apiError{status: http.StatusBadRequest, Type: "invalid_request_error", Param: param, Message: msg}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"message":"openaisim: cannot encode the answer","type":"server_error","param":null,"code":null}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

const (
	hexDigits = "0123456789abcdef"
	alnum     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// randomString returns n random characters of alphabet.
func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	// crypto/rand.Read never returns an error on supported platforms.
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// newChatID returns an id like OpenAI's: "chatcmpl-" and 29 letters and digits.
func newChatID() string { return "chatcmpl-" + randomString(alnum, 29) }

// newCallID returns a tool call id like OpenAI's: "call_" and 24 letters and digits.
func newCallID() string { return "call_" + randomString(alnum, 24) }
