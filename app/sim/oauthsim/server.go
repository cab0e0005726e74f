// Package oauthsim is a local OAuth 2.0 / OpenID Connect provider that speaks the protocols of
// Google (OIDC authorization code flow) and Facebook (Graph API login) closely enough for the
// app's production login code to run against it unchanged. Tests and `masteria dev` use it so
// that "Continue with Google/Facebook" works end to end without the internet.
//
// There is no login form: the authorize endpoints approve at once, as the user named by the
// login_hint parameter, else the one chosen with SetNextUser, else the first user added.
//
// Google-style endpoints:
//
//	GET  /.well-known/openid-configuration
//	GET  /authorize            (response_type=code, scope must contain openid, PKCE plain/S256)
//	POST /token                (client_secret_basic or client_secret_post)
//	GET  /userinfo             (Authorization: Bearer)
//	GET  /jwks
//
// Facebook-style endpoints, with or without a Graph version prefix such as /v19.0:
//
//	GET  /dialog/oauth
//	GET|POST /oauth/access_token
//	GET  /me?fields=...&access_token=...&appsecret_proof=...
package oauthsim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"masteria/app/sim/simhttp"
)

const (
	codeTTL  = 60 * time.Second
	tokenTTL = time.Hour
)

// User is an account of the simulated provider.
type User struct {
	Subject       string // stable id; derived from Email when empty
	Email         string
	EmailVerified bool
	Name          string
	Picture       string // avatar URL
}

// Option configures a Server.
type Option func(*Server)

// WithBaseURL sets the public base URL (the OIDC issuer). Needed when the handler is mounted by
// the caller, under a path prefix or behind a proxy; Start sets it otherwise.
func WithBaseURL(u string) Option {
	return func(s *Server) { s.baseURL = strings.TrimRight(u, "/") }
}

// WithAddr sets the address Start listens on; the default is 127.0.0.1:0 (a free port).
func WithAddr(addr string) Option { return func(s *Server) { s.addr = addr } }

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithClock replaces time.Now, so tests can make codes and tokens expire.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// Server is the simulated provider. Its methods are safe for concurrent use.
type Server struct {
	addr    string
	log     *slog.Logger
	now     func() time.Time
	handler http.Handler

	key    *rsa.PrivateKey // signs id tokens; nil when key generation failed
	keyErr error
	kid    string

	mu       sync.Mutex
	baseURL  string
	users    map[string]User // by lower-cased email
	first    string          // email of the first user added
	next     string          // email chosen by SetNextUser
	deny     bool
	clients  map[string]client
	codes    map[string]*grant
	tokens   map[string]*accessToken
	listener net.Listener
	srv      *http.Server
}

type client struct {
	secret       string
	redirectURIs []string
}

// flavor tells which protocol issued a code or token, so one cannot be redeemed at the other's endpoints.
type flavor int

const (
	flavorOIDC flavor = iota
	flavorFacebook
)

// grant is an issued authorization code.
type grant struct {
	flavor       flavor
	clientID     string
	redirectURI  string
	email        string
	scopes       []string
	nonce        string
	challenge    string
	method       string
	expires      time.Time
	used         bool
	issuedTokens []string // revoked if the code is replayed
}

type accessToken struct {
	flavor   flavor
	clientID string
	email    string
	scopes   []string
	expires  time.Time
}

// New returns a provider with no users and no clients, and a fresh RSA signing key.
func New(opts ...Option) *Server {
	s := &Server{
		addr:    "127.0.0.1:0",
		log:     slog.Default(),
		now:     time.Now,
		users:   make(map[string]User),
		clients: make(map[string]client),
		codes:   make(map[string]*grant),
		tokens:  make(map[string]*accessToken),
	}
	for _, o := range opts {
		o(s)
	}
	s.key, s.keyErr = rsa.GenerateKey(rand.Reader, 2048)
	if s.keyErr != nil {
		// Without a key the OIDC token endpoint answers server_error; the rest still works.
		s.log.Error("oauthsim: generate signing key", "err", s.keyErr)
	} else {
		s.kid = jwkThumbprint(&s.key.PublicKey)
	}
	s.handler = s.routes()
	return s
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", s.handleDiscovery)
	mux.HandleFunc("GET /authorize", s.handleAuthorize)
	mux.HandleFunc("/token", s.handleToken)
	mux.HandleFunc("GET /userinfo", s.handleUserinfo)
	mux.HandleFunc("POST /userinfo", s.handleUserinfo)
	mux.HandleFunc("GET /jwks", s.handleJWKS)

	mux.HandleFunc("GET /dialog/oauth", s.handleFacebookDialog)
	mux.HandleFunc("/oauth/access_token", s.handleFacebookToken)
	mux.HandleFunc("GET /me", s.handleFacebookMe)
	return stripGraphVersion(mux)
}

var graphVersion = regexp.MustCompile(`^/v[0-9]+\.[0-9]+/`)

// stripGraphVersion lets Facebook clients that pin a Graph version (/v19.0/me) reach the same handlers.
func stripGraphVersion(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if loc := graphVersion.FindStringIndex(r.URL.Path); loc != nil {
			r2 := r.Clone(r.Context())
			r2.URL.Path = r.URL.Path[loc[1]-1:]
			r2.URL.RawPath = ""
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}

// Handler returns the provider's HTTP handler, for callers that mount it themselves.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on WithAddr's address (default 127.0.0.1 on a free port), serves the handler
// and returns the base URL, which is also the issuer unless WithBaseURL set one.
func (s *Server) Start() (baseURL string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener != nil {
		return "", errors.New("oauthsim: already started")
	}
	srv, ln, base, err := simhttp.Serve("oauthsim", s.addr, s.handler, s.log)
	if err != nil {
		return "", err
	}
	s.listener, s.srv = ln, srv
	if s.baseURL == "" {
		s.baseURL = base
	}
	return s.baseURL, nil
}

// Close stops the server started by Start and closes its connections.
func (s *Server) Close() {
	s.mu.Lock()
	srv := s.srv
	s.srv, s.listener = nil, nil
	s.mu.Unlock()
	simhttp.Close("oauthsim", srv, s.log)
}

// URL returns the base URL, or "" before Start when WithBaseURL was not given.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// AddUser adds or replaces a user, keyed by email.
func (s *Server) AddUser(u User) {
	if u.Subject == "" {
		u.Subject = subjectFor(u.Email)
	}
	key := strings.ToLower(u.Email)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.users) == 0 {
		s.first = key
	}
	s.users[key] = u
}

// SetNextUser chooses the user the authorize endpoints log in as from now on, unless a request
// carries a login_hint. An email that was never added makes them deny access.
func (s *Server) SetNextUser(email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next = strings.ToLower(email)
}

// SetDeny makes the authorize endpoints answer as if the user refused consent.
func (s *Server) SetDeny(deny bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deny = deny
}

// RegisterClient adds or replaces an OAuth client with its exact redirect URIs.
func (s *Server) RegisterClient(id, secret string, redirectURIs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[id] = client{secret: secret, redirectURIs: append([]string(nil), redirectURIs...)}
}

// issuer returns the base URL; when the handler is mounted without WithBaseURL it is taken from
// the request, which is right as long as nothing strips a path prefix in front of it.
func (s *Server) issuer(r *http.Request) string {
	s.mu.Lock()
	base := s.baseURL
	s.mu.Unlock()
	if base != "" {
		return base
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// loginUser picks who the authorize endpoint logs in as; ok is false when that user does not exist.
// Callers hold s.mu.
func (s *Server) loginUser(hint string) (User, bool) {
	email := strings.ToLower(strings.TrimSpace(hint))
	if email == "" {
		email = s.next
	}
	if email == "" {
		email = s.first
	}
	u, ok := s.users[email]
	return u, ok
}

// prune drops expired codes and tokens so a long-running dev server does not grow. Callers hold s.mu.
func (s *Server) prune(now time.Time) {
	for k, g := range s.codes {
		if now.After(g.expires.Add(codeTTL)) {
			delete(s.codes, k)
		}
	}
	for k, t := range s.tokens {
		if now.After(t.expires) {
			delete(s.tokens, k)
		}
	}
}

// subjectFor derives a stable numeric id from an email, like the long decimal ids Google and Facebook use.
func subjectFor(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	return fmt.Sprintf("10%019d", binary.BigEndian.Uint64(sum[:8])%1e19)
}

func hasScope(scopes []string, want string) bool {
	for _, s := range scopes {
		if s == want {
			return true
		}
	}
	return false
}

func splitName(name string) (first, last string) {
	first, last, _ = strings.Cut(strings.TrimSpace(name), " ")
	return first, strings.TrimSpace(last)
}
