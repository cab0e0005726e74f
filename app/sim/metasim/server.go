// Package metasim is a local WhatsApp Business Cloud API (Meta Graph API) that speaks Meta's
// request, response and webhook formats closely enough for the app's production WhatsApp Cloud
// channel to run against it unchanged. Tests and `masteria dev` point the channel's Graph base
// URL at it.
//
// Graph endpoints, with or without a version prefix such as /v21.0:
//
//	POST   /{phone_number_id}/messages         send a message, or mark one as read
//	POST   /{phone_number_id}/media            multipart upload → {"id"}
//	GET    /{media_id}                         media URL, mime_type, sha256, file_size
//	DELETE /{media_id}
//	GET    /{waba_id}/message_templates        fields, limit, before/after cursors, filters
//	GET    /{phone_number_id}                  display_phone_number, verified_name, quality_rating,
//	                                           throughput, whatsapp_business_manager_messaging_limit
//	GET    /whatsapp_business/attachments/?mid= the media bytes (Bearer token required)
//
// Every Graph call needs "Authorization: Bearer <token>" (or access_token=) matching the
// registered number's token. Accepted sends are recorded (Sent, WaitSent) and followed by
// status webhooks; the Inbound… helpers post what a WhatsApp user sends. Webhooks carry
// X-Hub-Signature-256 computed with the number's app secret.
//
// Meta documentation followed (cited again next to each handler):
//   - Messages: developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
//   - Mark as read: developers.facebook.com/documentation/business-messaging/whatsapp/messages/mark-message-as-read/
//   - Media: developers.facebook.com/docs/whatsapp/cloud-api/reference/media
//   - Templates: developers.facebook.com/docs/graph-api/reference/whats-app-business-account/message_templates/
//   - Webhooks: developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
//     (and its /status and /unsupported pages), plus the "Webhook notification payload examples"
//   - Error codes: developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes
//   - Verification and X-Hub-Signature-256: developers.facebook.com/docs/graph-api/webhooks/getting-started
package metasim

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"masteria/app/sim/simhttp"
)

// Template statuses and categories as the message_templates edge spells them.
const (
	TemplateApproved = "APPROVED"
	TemplatePending  = "PENDING"
	TemplateRejected = "REJECTED"
	TemplatePaused   = "PAUSED"   // sends get 132015
	TemplateDisabled = "DISABLED" // sends get 132016

	CategoryMarketing      = "MARKETING"
	CategoryUtility        = "UTILITY"
	CategoryAuthentication = "AUTHENTICATION"
)

// Message statuses of the status webhook.
const (
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusFailed    = "failed"
)

// Number is a business phone number registered with the sim.
type Number struct {
	PhoneNumberID string
	WABAID        string
	DisplayNumber string // as GET /{phone_number_id} shows it, e.g. "+1 555-078-3881"
	VerifiedName  string // defaults to "Master IA"
	QualityRating string // GREEN (default), YELLOW, RED or UNKNOWN
	AccessToken   string
	AppSecret     string // signs the webhooks
	WebhookURL    string // where webhooks go; none are sent when empty
	// AllowedRecipients, when set, restricts sends like Meta's test numbers do: any other
	// recipient gets error 131030.
	AllowedRecipients []string
}

// Template is a message template of a WhatsApp Business Account.
type Template struct {
	ID         string // generated when empty
	Name       string
	Language   string // e.g. "en_US", "pt_BR"
	Status     string // APPROVED, PENDING or REJECTED
	Category   string // MARKETING, UTILITY or AUTHENTICATION
	Components []map[string]any
}

// Option configures a Server.
type Option func(*Server)

// WithBaseURL sets the public base URL, used in media download URLs. Needed when the handler is
// mounted by the caller behind a prefix or a proxy; Start sets it otherwise.
func WithBaseURL(u string) Option { return func(s *Server) { s.baseURL = strings.TrimRight(u, "/") } }

// WithAddr sets the address Start listens on; the default is 127.0.0.1:0 (a free port).
func WithAddr(addr string) Option { return func(s *Server) { s.addr = addr } }

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithClock replaces time.Now for timestamps, the 24-hour window and the rate window, so tests
// can move time forward.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithHTTPClient sets the client that posts webhooks; the default has a 10 s timeout.
func WithHTTPClient(c *http.Client) Option { return func(s *Server) { s.client = c } }

// WithStatusDelays sets the real-time pause before each automatic status webhook after an
// accepted send: sent after the send, delivered after sent, read after delivered. Default 0.
func WithStatusDelays(sent, delivered, read time.Duration) Option {
	return func(s *Server) { s.delays = [3]time.Duration{sent, delivered, read} }
}

// WithRateLimit lets each phone number send at most n messages per window; the next ones get
// error 130429 "Rate limit hit" until the window (measured on the sim's clock) is over.
func WithRateLimit(n int, window time.Duration) Option {
	return func(s *Server) { s.rateN, s.rateWindow = n, window }
}

// WithThrottleStatus sets the HTTP status of throttling errors (130429, 131056). The default is
// 429; Meta's error table lists 400 for them, so WithThrottleStatus(400) checks that a client
// backs off on the error code rather than on the HTTP status.
func WithThrottleStatus(status int) Option { return func(s *Server) { s.throttleStatus = status } }

// WithAsyncReengagement makes sends outside the 24-hour window succeed and then fail through a
// "failed" status webhook with code 131047, which is how the Cloud API reports it in practice.
// By default the sim refuses them synchronously with the same code.
func WithAsyncReengagement() Option { return func(s *Server) { s.asyncWindow = true } }

// Server is the simulated Cloud API. Its methods are safe for concurrent use.
type Server struct {
	addr           string
	log            *slog.Logger
	now            func() time.Time
	client         *http.Client
	delays         [3]time.Duration
	rateN          int
	rateWindow     time.Duration
	throttleStatus int
	asyncWindow    bool
	noStatuses     bool
	workers        int
	handler        http.Handler

	// The status webhook queue (statusq.go): a timer heap feeding a pool of workers.
	startWorkers sync.Once
	qmu          sync.Mutex
	queue        jobHeap
	work         chan *statusJob
	wake         chan struct{}

	ctx    context.Context // cancelled by Close; pending status webhooks stop
	cancel context.CancelFunc

	mu           sync.Mutex
	baseURL      string
	numbers      map[string]*number    // by phone number id
	templates    map[string][]Template // by WABA id, in registration order
	media        map[string]*mediaFile // by media id
	lastInbound  map[conversationKey]time.Time
	inbound      map[string]string // inbound wamid → phone number id, for mark-as-read
	sent         []SentMessage
	sentByID     map[string]int // wamid → index in sent
	markedRead   []string
	autoStatuses []string
	failNext     *Error // next send is refused with this error
	failDelivery *Error // next accepted send fails through a webhook
	undeliver    map[string]Error
	pending      int // messages whose status webhooks are not all posted
	// limits.go
	pairN          int
	pairWindow     time.Duration
	pairs          map[pairKey]*pairRing
	portfolios     map[string]*portfolio // by WABA id
	limitCode      int
	limitAsync     bool
	failHTTPStatus int
	failHTTPTimes  int
	hang           *hang
	failFor        map[string]Error // one failed delivery per recipient key
	sentTo         map[string]int   // accepted sends per recipient key
	tplPauses      map[string]int   // pauses per template (WABA/name/language)
	changes        *simhttp.Changes // wakes the Wait… calls on every change
	listener       net.Listener
	srv            *http.Server
}

type number struct {
	Number
	windowStart time.Time // rate window
	windowCount int
	throughput  string // STANDARD (when empty) or HIGH
}

type conversationKey struct{ phoneNumberID, waID string }

// New returns a sim with no numbers and no templates. Accepted sends are followed by sent,
// delivered and read webhooks until SetAutoStatuses says otherwise.
func New(opts ...Option) *Server {
	s := &Server{
		addr:           "127.0.0.1:0",
		log:            slog.Default(),
		now:            time.Now,
		client:         defaultClient(),
		workers:        DefaultStatusWorkers,
		throttleStatus: http.StatusTooManyRequests,
		numbers:        make(map[string]*number),
		templates:      make(map[string][]Template),
		media:          make(map[string]*mediaFile),
		lastInbound:    make(map[conversationKey]time.Time),
		inbound:        make(map[string]string),
		sentByID:       make(map[string]int),
		undeliver:      make(map[string]Error),
		pairs:          make(map[pairKey]*pairRing),
		portfolios:     make(map[string]*portfolio),
		limitCode:      DefaultLimitErrorCode,
		failFor:        make(map[string]Error),
		sentTo:         make(map[string]int),
		tplPauses:      make(map[string]int),
		autoStatuses:   []string{StatusSent, StatusDelivered, StatusRead},
	}
	for _, o := range opts {
		o(s)
	}
	s.changes = simhttp.NewChanges(&s.mu)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.handler = s.routes()
	return s
}

// Handler returns the sim's HTTP handler, for callers that mount it themselves.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on WithAddr's address (default 127.0.0.1 on a free port), serves the handler
// and returns the base URL to use as the Graph base URL.
func (s *Server) Start() (baseURL string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener != nil {
		return "", errors.New("metasim: already started")
	}
	srv, ln, base, err := simhttp.Serve("metasim", s.addr, s.handler, s.log)
	if err != nil {
		return "", err
	}
	s.listener, s.srv = ln, srv
	if s.baseURL == "" {
		s.baseURL = base
	}
	return s.baseURL, nil
}

// Close stops the server started by Start and abandons status webhooks not yet posted.
func (s *Server) Close() {
	s.cancel()
	s.mu.Lock()
	srv := s.srv
	s.srv, s.listener = nil, nil
	s.pending = 0 // abandoned with the queue
	s.changes.Notify()
	s.mu.Unlock()
	simhttp.Close("metasim", srv, s.log)
}

// URL returns the base URL, or "" before Start when WithBaseURL was not given.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// AddNumber registers or replaces a business phone number.
func (s *Server) AddNumber(n Number) {
	if n.VerifiedName == "" {
		n.VerifiedName = "Master IA"
	}
	if n.QualityRating == "" {
		n.QualityRating = "GREEN"
	}
	n.AllowedRecipients = append([]string(nil), n.AllowedRecipients...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.numbers[n.PhoneNumberID] = &number{Number: n}
}

// SetWebhookURL changes where a number's webhooks go, for apps that learn their port late.
func (s *Server) SetWebhookURL(phoneNumberID, url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.numbers[phoneNumberID]; n != nil {
		n.WebhookURL = url
	}
}

// AddTemplate registers a template under a WABA, replacing one with the same name and
// language, and returns its id.
func (s *Server) AddTemplate(wabaID string, t Template) string {
	if t.ID == "" {
		t.ID = numericID(15)
	}
	if t.Status == "" {
		t.Status = TemplateApproved
	}
	if t.Category == "" {
		t.Category = CategoryUtility
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.templates[wabaID]
	for i, old := range list {
		if old.Name == t.Name && old.Language == t.Language {
			list[i] = t
			return t.ID
		}
	}
	s.templates[wabaID] = append(list, t)
	return t.ID
}

// SetFailNext makes the next POST /messages (a send, not a mark-as-read) fail with this Graph
// error code. An empty title takes Meta's title for the code.
func (s *Server) SetFailNext(code int, title string) {
	e := CloudError(code, title)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = &e
}

// SetFailNextDelivery makes the next accepted send fail after "sent", through a "failed"
// status webhook with this code (for example 131026, Message undeliverable).
func (s *Server) SetFailNextDelivery(code int, title string) {
	e := CloudError(code, title)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failDelivery = &e
}

// SetUndeliverable makes every send to waID fail after "sent" with this code, until it is
// called again with code 0.
func (s *Server) SetUndeliverable(waID string, code int, title string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		delete(s.undeliver, digits(waID))
		return
	}
	s.undeliver[digits(waID)] = CloudError(code, title)
}

// SetAutoStatuses chooses which status webhooks follow an accepted send, in the order given
// (any of "sent", "delivered", "read"). With none, sends get no status webhooks.
func (s *Server) SetAutoStatuses(statuses ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.autoStatuses = append([]string(nil), statuses...)
}

// SetLastInbound sets when waID last wrote to the number, which opens or closes the 24-hour
// customer service window. A zero time closes it.
func (s *Server) SetLastInbound(phoneNumberID, waID string, at time.Time) {
	k := conversationKey{phoneNumberID, digits(waID)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if at.IsZero() {
		delete(s.lastInbound, k)
		return
	}
	s.lastInbound[k] = at
}

// WaitDeliveries waits until every automatic status webhook scheduled so far has been posted.
func (s *Server) WaitDeliveries(ctx context.Context) error {
	return s.changes.Wait(ctx, func() bool { return s.pending == 0 })
}

// base returns the public base URL; when the handler is mounted without WithBaseURL it is taken
// from the request.
func (s *Server) base(r *http.Request) string {
	s.mu.Lock()
	b := s.baseURL
	s.mu.Unlock()
	if b != "" {
		return b
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// numericID returns n random decimal digits not starting with 0, like Graph object ids.
func numericID(n int) string {
	b := make([]byte, n)
	b[0] = byte('1' + rand.IntN(9))
	for i := 1; i < n; i++ {
		b[i] = byte('0' + rand.IntN(10))
	}
	return string(b)
}

// digits keeps only the digits of a phone number: "+55 (11) 9999-0000" → "551199990000".
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// randomString returns n characters drawn from chars; ids only, not secrets.
func randomString(chars string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[rand.IntN(len(chars))]
	}
	return string(b)
}

// newWAMID returns a message id shaped like Meta's: "wamid." and base64.
func newWAMID() string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	return "wamid.HBgM" + randomString(chars, 46) + "A=="
}
