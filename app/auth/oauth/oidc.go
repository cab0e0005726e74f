package oauth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// clockLeeway tolerates small clock differences with the provider when checking exp and iat.
const clockLeeway = time.Minute

// discovery is the part of an OpenID Provider's metadata the login needs.
type discovery struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	UserinfoEndpoint      string `json:"userinfo_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
}

// discover fetches the discovery document with the app's own client (goth's would fetch it
// with http.DefaultClient) and checks what the login relies on.
func discover(ctx context.Context, client *http.Client, discoveryURL string) (discovery, error) {
	var d discovery
	if err := getJSON(ctx, client, discoveryURL, &d); err != nil {
		return discovery{}, fmt.Errorf("discovery: %w", err)
	}
	if d.Issuer == "" || d.AuthorizationEndpoint == "" || d.TokenEndpoint == "" || d.JWKSURI == "" {
		return discovery{}, fmt.Errorf("discovery: %s lacks issuer, an endpoint or jwks_uri", discoveryURL)
	}
	// OpenID Connect Discovery 4.3: the issuer must be the URL the document was fetched from.
	if want := strings.TrimRight(d.Issuer, "/") + "/.well-known/openid-configuration"; want != discoveryURL {
		return discovery{}, fmt.Errorf("discovery: issuer %q does not match %s", d.Issuer, discoveryURL)
	}
	return d, nil
}

func getJSON(ctx context.Context, client *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

// keySet caches the provider's signing keys and fetches them again when a token names a key
// it does not hold, which is how key rotation shows up.
type keySet struct {
	url string

	mu   sync.Mutex
	keys jose.JSONWebKeySet
}

func (k *keySet) forKeyID(ctx context.Context, client *http.Client, kid string) (jose.JSONWebKeySet, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.keys.Key(kid)) > 0 {
		return k.keys, nil
	}
	var fresh jose.JSONWebKeySet
	if err := getJSON(ctx, client, k.url, &fresh); err != nil {
		return jose.JSONWebKeySet{}, fmt.Errorf("jwks: %w", err)
	}
	k.keys = fresh
	if len(fresh.Key(kid)) == 0 {
		return jose.JSONWebKeySet{}, fmt.Errorf("jwks: no key %q", kid)
	}
	return fresh, nil
}

// verifyIDToken checks the id_token as OpenID Connect Core 3.1.3.7 asks: signature by one of
// the issuer's keys, iss, aud (and azp when there are several audiences), exp, iat and nonce.
func (g *googleProvider) verifyIDToken(ctx context.Context, client *http.Client, raw, nonce string, now time.Time) error {
	if raw == "" {
		return errors.New("token response has no id_token")
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return fmt.Errorf("id_token: %w", err)
	}
	keys, err := g.keys.forKeyID(ctx, client, tok.Headers[0].KeyID)
	if err != nil {
		return fmt.Errorf("id_token: %w", err)
	}
	var std jwt.Claims
	var extra struct {
		Nonce string `json:"nonce"`
		AZP   string `json:"azp"`
	}
	if err := tok.Claims(keys, &std, &extra); err != nil {
		return fmt.Errorf("id_token signature: %w", err)
	}
	if std.Expiry == nil || std.IssuedAt == nil || std.Subject == "" {
		return errors.New("id_token lacks exp, iat or sub")
	}
	expected := jwt.Expected{Issuer: g.meta.Issuer, AnyAudience: jwt.Audience{g.clientID}, Time: now}
	if err := std.ValidateWithLeeway(expected, clockLeeway); err != nil {
		return fmt.Errorf("id_token: %w", err)
	}
	if len(std.Audience) > 1 && extra.AZP != g.clientID {
		return errors.New("id_token: azp is not this client")
	}
	if nonce == "" || subtle.ConstantTimeCompare([]byte(extra.Nonce), []byte(nonce)) != 1 {
		return errors.New("id_token: nonce does not match")
	}
	return nil
}
