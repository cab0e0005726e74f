// Package oauth signs users in with Google (OpenID Connect) and Facebook through goth's
// providers, without gothic and its global cookie store: Begin hands the caller an opaque
// pending blob to keep in a short-lived cookie of its own, and Complete checks the callback
// against it and returns who the user is. The app creates its own session afterwards.
//
// Beyond what goth checks, Google logins use PKCE (S256) and a nonce, and the id_token's
// signature is verified against the provider's JWKS.
package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/markbates/goth"
	"github.com/markbates/goth/providers/facebook"
	"github.com/markbates/goth/providers/openidConnect"
	"golang.org/x/oauth2"
)

// Provider names, as they appear in Enabled and in callback paths.
const (
	Google   = "google"
	Facebook = "facebook"
)

// DefaultGoogleDiscoveryURL is Google's OpenID Connect discovery document.
const DefaultGoogleDiscoveryURL = "https://accounts.google.com/.well-known/openid-configuration"

// PendingTTL is how long a pending login may wait for its callback. The cookie holding the
// pending blob should not outlive it.
const PendingTTL = 10 * time.Minute

// Scopes and profile fields asked for: enough for an email, a name and an avatar.
var (
	googleScopes   = []string{"email", "profile"} // goth adds openid
	facebookFields = []string{"id", "name", "email", "first_name", "last_name", "picture"}
)

var (
	ErrUnknownProvider = errors.New("oauth: unknown or disabled provider")
	ErrStateMismatch   = errors.New("oauth: login state does not match")
	ErrDenied          = errors.New("oauth: the user denied access")
	ErrNoEmail         = errors.New("oauth: the account has no verified email")
)

// Config holds the app's client credentials. A provider is enabled when its client id is set.
type Config struct {
	BaseURL string // the app's public URL, callbacks are BaseURL + "/auth/{provider}/callback"

	GoogleClientID, GoogleClientSecret string
	// GoogleDiscoveryURL defaults to DefaultGoogleDiscoveryURL; tests and `dev` point it at oauthsim.
	GoogleDiscoveryURL string

	FacebookClientID, FacebookClientSecret string
	// FacebookBaseURL, when set (dev, tests), replaces https://www.facebook.com and
	// https://graph.facebook.com, both in the browser redirect and in server-side requests.
	FacebookBaseURL string

	// HTTPClient makes the server-side requests; nil means a client with a 15 s timeout.
	HTTPClient *http.Client
}

// Identity is who the provider says the user is.
type Identity struct {
	Provider      string // Google or Facebook
	Subject       string // the provider's stable user id
	Email         string
	EmailVerified bool
	Name          string
	AvatarURL     string
}

// Providers runs the logins of the configured providers. It is safe for concurrent use.
type Providers struct {
	baseURL  string
	client   *http.Client
	google   *googleProvider
	facebook *facebookProvider
	enabled  []string
	now      func() time.Time
}

type googleProvider struct {
	clientID, secret string
	meta             discovery
	keys             *keySet
}

type facebookProvider struct {
	clientID, secret string
	base             *url.URL // nil: Facebook itself
}

// New checks the configuration and, when Google is enabled, fetches its discovery document.
func New(cfg Config) (*Providers, error) {
	p := &Providers{baseURL: strings.TrimRight(cfg.BaseURL, "/"), now: time.Now}
	if cfg.GoogleClientID == "" && cfg.FacebookClientID == "" {
		return p, nil
	}
	if u, err := url.Parse(p.baseURL); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("oauth: BaseURL %q must be an absolute URL", cfg.BaseURL)
	}

	// Copy the client so the caller's is never modified.
	client := &http.Client{Timeout: 15 * time.Second}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		client = &c
	}
	if client.Transport == nil {
		client.Transport = http.DefaultTransport
	}

	if cfg.FacebookClientID != "" {
		if cfg.FacebookClientSecret == "" {
			return nil, errors.New("oauth: facebook: client secret is required")
		}
		fb := &facebookProvider{clientID: cfg.FacebookClientID, secret: cfg.FacebookClientSecret}
		if cfg.FacebookBaseURL != "" {
			u, err := url.Parse(strings.TrimRight(cfg.FacebookBaseURL, "/"))
			if err != nil || u.Scheme == "" || u.Host == "" {
				return nil, fmt.Errorf("oauth: FacebookBaseURL %q must be an absolute URL", cfg.FacebookBaseURL)
			}
			fb.base = u
			client.Transport = rewriteTransport{base: u, next: client.Transport}
		}
		p.facebook = fb
	}
	p.client = client

	if cfg.GoogleClientID != "" {
		if cfg.GoogleClientSecret == "" {
			return nil, errors.New("oauth: google: client secret is required")
		}
		discoveryURL := cfg.GoogleDiscoveryURL
		if discoveryURL == "" {
			discoveryURL = DefaultGoogleDiscoveryURL
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		meta, err := discover(ctx, client, discoveryURL)
		if err != nil {
			return nil, fmt.Errorf("oauth: google: %w", err)
		}
		p.google = &googleProvider{
			clientID: cfg.GoogleClientID,
			secret:   cfg.GoogleClientSecret,
			meta:     meta,
			keys:     &keySet{url: meta.JWKSURI},
		}
		p.enabled = append(p.enabled, Google)
	}
	if p.facebook != nil {
		p.enabled = append(p.enabled, Facebook)
	}
	return p, nil
}

// Enabled returns the names of the configured providers, Google first, for the login buttons.
func (p *Providers) Enabled() []string {
	return append([]string(nil), p.enabled...)
}

// CallbackURL is the redirect URI to register with the provider: BaseURL/auth/{provider}/callback.
func (p *Providers) CallbackURL(provider string) string {
	return p.baseURL + "/auth/" + provider + "/callback"
}

// gothProvider builds a goth provider whose requests run under ctx. Building one per login is
// cheap (no I/O), keeps goth's shared state out of concurrent logins, and lets the caller's
// context cancel the requests goth makes without one.
func (p *Providers) gothProvider(ctx context.Context, name string) (goth.Provider, error) {
	var client *http.Client
	if p.client != nil {
		c := *p.client
		c.Transport = contextTransport{ctx: ctx, next: p.client.Transport}
		client = &c
	}
	switch {
	case name == Google && p.google != nil:
		g := p.google
		gp, err := openidConnect.NewCustomisedURL(g.clientID, g.secret, p.CallbackURL(Google),
			g.meta.AuthorizationEndpoint, g.meta.TokenEndpoint, g.meta.Issuer, g.meta.UserinfoEndpoint, "",
			googleScopes...)
		if err != nil {
			return nil, fmt.Errorf("oauth: google: %w", err)
		}
		gp.SetName(Google)
		gp.HTTPClient = client
		return gp, nil
	case name == Facebook && p.facebook != nil:
		fp := facebook.New(p.facebook.clientID, p.facebook.secret, p.CallbackURL(Facebook))
		fp.SetCustomFields(facebookFields)
		fp.HTTPClient = client
		return fp, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownProvider, name)
}

// pending is what Begin hands out and Complete takes back, JSON then base64url.
type pending struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Nonce    string `json:"n,omitempty"`
	Verifier string `json:"v,omitempty"` // PKCE code_verifier
	Session  string `json:"g"`           // goth session, marshalled
	Created  int64  `json:"t"`           // unix seconds
}

// Begin starts a login: it returns the URL to redirect the browser to, and an opaque blob the
// caller must keep (in a short-lived, signed, HttpOnly cookie) and hand back to Complete.
func (p *Providers) Begin(provider string) (authURL string, pendingBlob string, err error) {
	gp, err := p.gothProvider(context.Background(), provider)
	if err != nil {
		return "", "", err
	}
	pend := pending{Provider: provider, State: randomString(), Created: p.now().Unix()}
	sess, err := gp.BeginAuth(pend.State)
	if err != nil {
		return "", "", fmt.Errorf("oauth: %s: begin: %w", provider, err)
	}
	raw, err := sess.GetAuthURL()
	if err != nil {
		return "", "", fmt.Errorf("oauth: %s: begin: %w", provider, err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("oauth: %s: authorization URL: %w", provider, err)
	}
	switch provider {
	case Google:
		// goth sets authorization parameters per provider, not per login; add the per-login ones here.
		pend.Nonce = randomString()
		pend.Verifier = oauth2.GenerateVerifier()
		q := u.Query()
		q.Set("nonce", pend.Nonce)
		q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(pend.Verifier))
		q.Set("code_challenge_method", "S256")
		u.RawQuery = q.Encode()
	case Facebook:
		if p.facebook.base != nil {
			u = rewriteURL(p.facebook.base, u)
		}
	}
	pend.Session = sess.Marshal()
	b, err := json.Marshal(pend)
	if err != nil {
		return "", "", fmt.Errorf("oauth: %s: encode pending login: %w", provider, err)
	}
	return u.String(), base64.RawURLEncoding.EncodeToString(b), nil
}

// Complete finishes a login from the callback's query: it checks the state against the pending
// blob from Begin, exchanges the code, fetches the user and returns who they are. The pending
// blob is single-use: the caller should delete its cookie whatever the outcome.
func (p *Providers) Complete(ctx context.Context, provider string, pendingBlob string, query url.Values) (Identity, error) {
	gp, err := p.gothProvider(ctx, provider)
	if err != nil {
		return Identity{}, err
	}
	pend, err := p.checkState(provider, pendingBlob, query.Get("state"))
	if err != nil {
		return Identity{}, err
	}
	if e := query.Get("error"); e != "" {
		if e == "access_denied" {
			return Identity{}, fmt.Errorf("%w (%s)", ErrDenied, provider)
		}
		return Identity{}, fmt.Errorf("oauth: %s answered %s: %s", provider, e, query.Get("error_description"))
	}
	code := query.Get("code")
	if code == "" {
		return Identity{}, fmt.Errorf("oauth: %s: callback without code", provider)
	}

	sess, err := gp.UnmarshalSession(pend.Session)
	if err != nil {
		return Identity{}, fmt.Errorf("oauth: %s: pending session: %w", provider, err)
	}
	// Only our own values reach goth: a callback query could otherwise set redirect_uri or code_verifier.
	params := url.Values{"code": {code}}
	if pend.Verifier != "" {
		params.Set("code_verifier", pend.Verifier)
	}
	if _, err := sess.Authorize(gp, params); err != nil {
		return Identity{}, fmt.Errorf("oauth: %s: exchange code: %w", provider, err)
	}

	if provider == Google {
		// goth reads the id_token without checking its signature or nonce; do both before trusting it.
		oidcSess, ok := sess.(*openidConnect.Session)
		if !ok {
			return Identity{}, fmt.Errorf("oauth: google: unexpected session type %T", sess)
		}
		if err := p.google.verifyIDToken(ctx, p.client, oidcSess.IDToken, pend.Nonce, p.now()); err != nil {
			return Identity{}, fmt.Errorf("oauth: google: %w", err)
		}
	}
	user, err := gp.FetchUser(sess)
	if err != nil {
		return Identity{}, fmt.Errorf("oauth: %s: fetch user: %w", provider, err)
	}
	var verified bool
	switch provider {
	case Google:
		verified = claimTrue(user.RawData["email_verified"])
	case Facebook:
		// The Graph API returns only a confirmed email, and none at all otherwise.
		verified = user.Email != ""
	}
	if user.UserID == "" {
		return Identity{}, fmt.Errorf("oauth: %s: the user has no id", provider)
	}
	id := Identity{
		Provider:      provider,
		Subject:       user.UserID,
		Email:         strings.TrimSpace(user.Email),
		EmailVerified: verified,
		Name:          strings.TrimSpace(user.Name),
		AvatarURL:     user.AvatarURL,
	}
	if id.Email == "" || !id.EmailVerified {
		return Identity{}, fmt.Errorf("%w (%s)", ErrNoEmail, provider)
	}
	return id, nil
}

// checkState decodes the pending blob and checks it belongs to this provider, is fresh, and
// carries the state the provider sent back.
func (p *Providers) checkState(provider, blob, state string) (pending, error) {
	var pend pending
	b, err := base64.RawURLEncoding.DecodeString(blob)
	if err != nil || json.Unmarshal(b, &pend) != nil {
		return pending{}, fmt.Errorf("%w: unreadable pending login", ErrStateMismatch)
	}
	if pend.Provider != provider {
		return pending{}, fmt.Errorf("%w: login was started with %q", ErrStateMismatch, pend.Provider)
	}
	if age := p.now().Sub(time.Unix(pend.Created, 0)); age > PendingTTL || age < -time.Minute {
		return pending{}, fmt.Errorf("%w: login expired", ErrStateMismatch)
	}
	if state == "" || pend.State == "" || subtle.ConstantTimeCompare([]byte(state), []byte(pend.State)) != 1 {
		return pending{}, ErrStateMismatch
	}
	return pend, nil
}

// claimTrue reads a boolean claim; some providers send "true" as a string.
func claimTrue(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return b == "true"
	}
	return false
}

// randomString returns 32 random bytes, base64url encoded.
func randomString() string {
	b := make([]byte, 32)
	// crypto/rand.Read never returns an error on supported platforms.
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
