package oauthsim_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"masteria/app/sim/oauthsim"
)

const (
	clientID     = "web-client"
	clientSecret = "s3cret+/="
	redirectURI  = "http://app.test/auth/google/callback"
)

var alice = oauthsim.User{
	Subject:       "111222333",
	Email:         "alice@example.com",
	EmailVerified: true,
	Name:          "Alice Martins",
	Picture:       "http://img.test/alice.png",
}

// newSim starts a provider with one client and one user over real HTTP.
func newSim(t *testing.T, opts ...oauthsim.Option) (*oauthsim.Server, string) {
	t.Helper()
	s := oauthsim.New(opts...)
	base, err := s.Start()
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(s.Close)
	s.RegisterClient(clientID, clientSecret, redirectURI)
	s.AddUser(alice)
	return s, base
}

// noRedirect is a client that shows redirects instead of following them, like a test browser would.
var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func authorizeParams(extra ...string) url.Values {
	v := url.Values{
		"client_id":     {clientID},
		"redirect_uri":  {redirectURI},
		"response_type": {"code"},
		"scope":         {"openid email profile"},
		"state":         {"st-123"},
		"nonce":         {"n-456"},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

// authorize calls an authorize endpoint and returns the status and, for a redirect, its query.
func authorize(t *testing.T, endpoint string, params url.Values) (int, url.Values) {
	t.Helper()
	resp, err := noRedirect.Get(endpoint + "?" + params.Encode())
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return resp.StatusCode, nil
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("location: %v", err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI && !strings.HasPrefix(redirectURI, got) {
		t.Fatalf("redirected to %s, want %s", got, redirectURI)
	}
	return resp.StatusCode, loc.Query()
}

func code(t *testing.T, base string, params url.Values) string {
	t.Helper()
	status, q := authorize(t, base+"/authorize", params)
	if status != http.StatusFound || q.Get("code") == "" {
		t.Fatalf("authorize: status %d, query %v", status, q)
	}
	if q.Get("state") != params.Get("state") {
		t.Fatalf("state %q, want %q", q.Get("state"), params.Get("state"))
	}
	return q.Get("code")
}

type tokenAnswer struct {
	status int
	header http.Header
	body   map[string]any
}

// exchange posts to the token endpoint, authenticating with Basic when basic is true and
// with client_secret_post otherwise.
func exchange(t *testing.T, base string, form url.Values, secret string, basic bool) tokenAnswer {
	t.Helper()
	if !basic {
		form.Set("client_id", clientID)
		form.Set("client_secret", secret)
	}
	req, err := http.NewRequest(http.MethodPost, base+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("token body: %v", err)
	}
	return tokenAnswer{resp.StatusCode, resp.Header, body}
}

func codeForm(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
}

func getJSON(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s: decode: %v", req.URL.Path, err)
	}
	return resp.StatusCode, body
}

func TestDiscovery(t *testing.T) {
	_, base := newSim(t)
	resp, err := http.Get(base + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content type %q", ct)
	}
	var doc struct {
		Issuer        string   `json:"issuer"`
		Authorization string   `json:"authorization_endpoint"`
		Token         string   `json:"token_endpoint"`
		Userinfo      string   `json:"userinfo_endpoint"`
		JWKS          string   `json:"jwks_uri"`
		ResponseTypes []string `json:"response_types_supported"`
		Algs          []string `json:"id_token_signing_alg_values_supported"`
		AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
		PKCE          []string `json:"code_challenge_methods_supported"`
		Subjects      []string `json:"subject_types_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Issuer != base {
		t.Errorf("issuer %q, want %q", doc.Issuer, base)
	}
	for name, got := range map[string]string{
		"/authorize": doc.Authorization, "/token": doc.Token, "/userinfo": doc.Userinfo, "/jwks": doc.JWKS,
	} {
		if got != base+name {
			t.Errorf("endpoint %q, want %q", got, base+name)
		}
	}
	want := map[string][]string{
		"response_types": {"code"},
		"algs":           {"RS256"},
		"auth methods":   {"client_secret_post", "client_secret_basic"},
		"pkce":           {"plain", "S256"},
		"subject_types":  {"public"},
	}
	got := map[string][]string{
		"response_types": doc.ResponseTypes, "algs": doc.Algs, "auth methods": doc.AuthMethods,
		"pkce": doc.PKCE, "subject_types": doc.Subjects,
	}
	for k, w := range want {
		if strings.Join(got[k], " ") != strings.Join(w, " ") {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
}

// TestCodeFlow walks the whole flow and checks the id_token with an independent JOSE library.
func TestCodeFlow(t *testing.T) {
	_, base := newSim(t)
	c := code(t, base, authorizeParams())

	tok := exchange(t, base, codeForm(c), clientSecret, true)
	if tok.status != http.StatusOK {
		t.Fatalf("token: %d %v", tok.status, tok.body)
	}
	if tok.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", tok.header.Get("Cache-Control"))
	}
	if tok.body["token_type"] != "Bearer" || tok.body["expires_in"].(float64) <= 0 {
		t.Errorf("token answer %v", tok.body)
	}
	access, _ := tok.body["access_token"].(string)
	rawID, _ := tok.body["id_token"].(string)
	if access == "" || rawID == "" {
		t.Fatalf("token answer lacks tokens: %v", tok.body)
	}

	// Verify the signature against /jwks.
	resp, err := http.Get(base + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	var jwks jose.JSONWebKeySet
	err = json.NewDecoder(resp.Body).Decode(&jwks)
	resp.Body.Close()
	if err != nil || len(jwks.Keys) != 1 {
		t.Fatalf("jwks: %v, %d keys", err, len(jwks.Keys))
	}
	parsed, err := jwt.ParseSigned(rawID, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("parse id_token: %v", err)
	}
	if kid := parsed.Headers[0].KeyID; kid != jwks.Keys[0].KeyID {
		t.Errorf("kid %q, jwks kid %q", kid, jwks.Keys[0].KeyID)
	}
	var std jwt.Claims
	var extra struct {
		Nonce         string `json:"nonce"`
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
		Name          string `json:"name"`
		Picture       string `json:"picture"`
		AtHash        string `json:"at_hash"`
	}
	if err := parsed.Claims(jwks, &std, &extra); err != nil {
		t.Fatalf("id_token signature: %v", err)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: base, AnyAudience: jwt.Audience{clientID}}, 0); err != nil {
		t.Errorf("id_token claims: %v", err)
	}
	if std.Subject != alice.Subject || std.IssuedAt == nil || std.Expiry == nil {
		t.Errorf("claims %+v", std)
	}
	if extra.Nonce != "n-456" || extra.Email != alice.Email || !extra.EmailVerified ||
		extra.Name != alice.Name || extra.Picture != alice.Picture {
		t.Errorf("claims %+v", extra)
	}
	sum := sha256.Sum256([]byte(access))
	if extra.AtHash != base64.RawURLEncoding.EncodeToString(sum[:16]) {
		t.Errorf("at_hash %q", extra.AtHash)
	}

	req, _ := http.NewRequest(http.MethodGet, base+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	status, info := getJSON(t, req)
	if status != http.StatusOK || info["sub"] != alice.Subject || info["email"] != alice.Email ||
		info["email_verified"] != true || info["name"] != alice.Name {
		t.Errorf("userinfo: %d %v", status, info)
	}
}

func TestClientSecretPost(t *testing.T) {
	_, base := newSim(t)
	tok := exchange(t, base, codeForm(code(t, base, authorizeParams())), clientSecret, false)
	if tok.status != http.StatusOK {
		t.Fatalf("token: %d %v", tok.status, tok.body)
	}
}

func TestBothClientAuthMethodsRefused(t *testing.T) {
	_, base := newSim(t)
	form := codeForm(code(t, base, authorizeParams()))
	form.Set("client_secret", clientSecret)
	tok := exchange(t, base, form, clientSecret, true)
	if tok.status != http.StatusBadRequest || tok.body["error"] != "invalid_request" {
		t.Fatalf("token: %d %v", tok.status, tok.body)
	}
}

func TestCodeSingleUse(t *testing.T) {
	_, base := newSim(t)
	c := code(t, base, authorizeParams())
	first := exchange(t, base, codeForm(c), clientSecret, true)
	if first.status != http.StatusOK {
		t.Fatalf("first exchange: %d %v", first.status, first.body)
	}
	second := exchange(t, base, codeForm(c), clientSecret, true)
	if second.status != http.StatusBadRequest || second.body["error"] != "invalid_grant" {
		t.Fatalf("second exchange: %d %v", second.status, second.body)
	}
	// A replayed code revokes what it issued.
	req, _ := http.NewRequest(http.MethodGet, base+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+first.body["access_token"].(string))
	if status, body := getJSON(t, req); status != http.StatusUnauthorized || body["error"] != "invalid_token" {
		t.Errorf("userinfo after replay: %d %v", status, body)
	}
}

func TestCodeExpires(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	_, base := newSim(t, oauthsim.WithClock(clock))
	c := code(t, base, authorizeParams())
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	tok := exchange(t, base, codeForm(c), clientSecret, true)
	if tok.status != http.StatusBadRequest || tok.body["error"] != "invalid_grant" {
		t.Fatalf("expired code: %d %v", tok.status, tok.body)
	}
}

func TestWrongSecret(t *testing.T) {
	_, base := newSim(t)
	for _, basic := range []bool{true, false} {
		tok := exchange(t, base, codeForm(code(t, base, authorizeParams())), "wrong", basic)
		if tok.status != http.StatusUnauthorized || tok.body["error"] != "invalid_client" {
			t.Errorf("basic=%v: %d %v", basic, tok.status, tok.body)
		}
		if basic && !strings.HasPrefix(tok.header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("WWW-Authenticate %q", tok.header.Get("WWW-Authenticate"))
		}
	}
}

func TestWrongRedirectURI(t *testing.T) {
	_, base := newSim(t)
	// At the authorize endpoint the error is shown, never redirected to the unregistered URI.
	status, q := authorize(t, base+"/authorize", authorizeParams("redirect_uri", "http://evil.test/cb"))
	if status != http.StatusBadRequest || q != nil {
		t.Errorf("authorize with a foreign redirect_uri: %d %v", status, q)
	}
	status, _ = authorize(t, base+"/authorize", authorizeParams("client_id", "nobody"))
	if status != http.StatusUnauthorized {
		t.Errorf("authorize with an unknown client: %d", status)
	}

	// At the token endpoint it must repeat the authorization request's URI.
	form := codeForm(code(t, base, authorizeParams()))
	form.Set("redirect_uri", "http://app.test/other")
	tok := exchange(t, base, form, clientSecret, true)
	if tok.status != http.StatusBadRequest || tok.body["error"] != "invalid_grant" {
		t.Errorf("token with another redirect_uri: %d %v", tok.status, tok.body)
	}
}

func TestAuthorizeErrorsRedirect(t *testing.T) {
	s, base := newSim(t)
	cases := []struct {
		name   string
		params url.Values
		setup  func()
		want   string
	}{
		{"no openid scope", authorizeParams("scope", "email"), nil, "invalid_scope"},
		{"implicit flow", authorizeParams("response_type", "token"), nil, "unsupported_response_type"},
		{"bad pkce method", authorizeParams("code_challenge", strings.Repeat("a", 43), "code_challenge_method", "S512"), nil, "invalid_request"},
		{"unknown login_hint", authorizeParams("login_hint", "bob@example.com"), nil, "access_denied"},
		{"unknown next user", authorizeParams(), func() { s.SetNextUser("carol@example.com") }, "access_denied"},
		{"denied", authorizeParams(), func() { s.SetNextUser(""); s.SetDeny(true) }, "access_denied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			status, q := authorize(t, base+"/authorize", tc.params)
			if status != http.StatusFound || q.Get("error") != tc.want || q.Get("state") != "st-123" || q.Has("code") {
				t.Errorf("got %d %v, want a redirect with error=%s", status, q, tc.want)
			}
		})
	}
}

func TestLoginHintAndNextUser(t *testing.T) {
	s, base := newSim(t)
	s.AddUser(oauthsim.User{Email: "bob@example.com", EmailVerified: true, Name: "Bob"})
	whoAmI := func(params url.Values) map[string]any {
		tok := exchange(t, base, codeForm(code(t, base, params)), clientSecret, true)
		req, _ := http.NewRequest(http.MethodGet, base+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok.body["access_token"].(string))
		_, info := getJSON(t, req)
		return info
	}
	if got := whoAmI(authorizeParams())["email"]; got != alice.Email {
		t.Errorf("default user %v, want the first one added", got)
	}
	s.SetNextUser("Bob@Example.com")
	info := whoAmI(authorizeParams())
	if info["email"] != "bob@example.com" || info["sub"] == "" || info["sub"] == alice.Subject {
		t.Errorf("next user: %v", info)
	}
	if got := whoAmI(authorizeParams("login_hint", alice.Email))["email"]; got != alice.Email {
		t.Errorf("login_hint user %v", got)
	}
}

func TestPKCE(t *testing.T) {
	_, base := newSim(t)
	verifier := strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	params := authorizeParams("code_challenge", challenge, "code_challenge_method", "S256")

	for _, tc := range []struct {
		verifier string
		status   int
	}{
		{"", http.StatusBadRequest},
		{strings.Repeat("w", 50), http.StatusBadRequest},
		{verifier, http.StatusOK},
	} {
		form := codeForm(code(t, base, params))
		if tc.verifier != "" {
			form.Set("code_verifier", tc.verifier)
		}
		if tok := exchange(t, base, form, clientSecret, true); tok.status != tc.status {
			t.Errorf("verifier %q: %d %v", tc.verifier, tok.status, tok.body)
		}
	}

	// A verifier for a code issued without a challenge is a downgrade and is refused.
	form := codeForm(code(t, base, authorizeParams()))
	form.Set("code_verifier", verifier)
	if tok := exchange(t, base, form, clientSecret, true); tok.status != http.StatusBadRequest {
		t.Errorf("verifier without challenge: %d %v", tok.status, tok.body)
	}
}

func TestScopesLimitClaims(t *testing.T) {
	_, base := newSim(t)
	tok := exchange(t, base, codeForm(code(t, base, authorizeParams("scope", "openid"))), clientSecret, true)
	req, _ := http.NewRequest(http.MethodGet, base+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.body["access_token"].(string))
	_, info := getJSON(t, req)
	if _, ok := info["email"]; ok || info["sub"] != alice.Subject {
		t.Errorf("userinfo for scope openid: %v", info)
	}
}

func TestTokenEndpointRejects(t *testing.T) {
	_, base := newSim(t)
	resp, err := http.Get(base + "/token")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /token: %d", resp.StatusCode)
	}

	form := codeForm(code(t, base, authorizeParams()))
	form.Set("grant_type", "password")
	if tok := exchange(t, base, form, clientSecret, true); tok.status != http.StatusBadRequest || tok.body["error"] != "unsupported_grant_type" {
		t.Errorf("password grant: %d %v", tok.status, tok.body)
	}
	if tok := exchange(t, base, codeForm("made-up"), clientSecret, true); tok.status != http.StatusBadRequest || tok.body["error"] != "invalid_grant" {
		t.Errorf("unknown code: %d %v", tok.status, tok.body)
	}

	req, _ := http.NewRequest(http.MethodGet, base+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer nope")
	if status, body := getJSON(t, req); status != http.StatusUnauthorized || body["error"] != "invalid_token" {
		t.Errorf("userinfo with a bad token: %d %v", status, body)
	}
}

func TestMountedHandler(t *testing.T) {
	s := oauthsim.New(oauthsim.WithBaseURL("http://localhost:8080/sim/oauth/"))
	mux := http.NewServeMux()
	mux.Handle("/sim/oauth/", http.StripPrefix("/sim/oauth", s.Handler()))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/sim/oauth/.well-known/openid-configuration", nil))
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("%d %s: %v", rec.Code, rec.Body.String(), err)
	}
	if doc["issuer"] != "http://localhost:8080/sim/oauth" || doc["token_endpoint"] != "http://localhost:8080/sim/oauth/token" {
		t.Errorf("discovery behind a prefix: %v", doc)
	}
}
