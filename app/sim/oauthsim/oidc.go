package oauthsim

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// oauthError is the RFC 6749 section 5.2 error body.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, oauthError{Error: code, Description: desc})
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	iss := s.issuer(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/authorize",
		"token_endpoint":                        iss + "/token",
		"userinfo_endpoint":                     iss + "/userinfo",
		"jwks_uri":                              iss + "/jwks",
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"claims_supported": []string{"aud", "email", "email_verified", "exp", "family_name",
			"given_name", "iat", "iss", "name", "nonce", "picture", "sub"},
		"code_challenge_methods_supported": []string{"plain", "S256"},
	})
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	keys := []jwk{}
	if s.key != nil {
		keys = append(keys, publicJWK(&s.key.PublicKey, s.kid))
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

// authRequest is what both authorize endpoints have in common once the client is known.
type authRequest struct {
	flavor      flavor
	clientID    string
	redirectURI string
	state       string
	scopes      []string
	nonce       string
	challenge   string
	method      string
	loginHint   string
}

// checkClient validates client_id and redirect_uri. Per RFC 6749 4.1.2.1 these errors are shown to
// the user and never redirected, since the redirect URI itself cannot be trusted.
func (s *Server) checkClient(w http.ResponseWriter, q url.Values) bool {
	s.mu.Lock()
	c, ok := s.clients[q.Get("client_id")]
	s.mu.Unlock()
	if !ok {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "unknown client_id")
		return false
	}
	if !slices.Contains(c.redirectURIs, q.Get("redirect_uri")) {
		writeOAuthError(w, http.StatusBadRequest, "redirect_uri_mismatch",
			"redirect_uri is not registered for this client")
		return false
	}
	return true
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !s.checkClient(w, q) {
		return
	}
	req := authRequest{
		flavor:      flavorOIDC,
		clientID:    q.Get("client_id"),
		redirectURI: q.Get("redirect_uri"),
		state:       q.Get("state"),
		scopes:      strings.Fields(q.Get("scope")),
		nonce:       q.Get("nonce"),
		challenge:   q.Get("code_challenge"),
		method:      q.Get("code_challenge_method"),
		loginHint:   q.Get("login_hint"),
	}
	switch {
	case q.Get("response_type") != "code":
		s.redirectError(w, r, req, "unsupported_response_type", "only response_type=code is supported")
		return
	case !hasScope(req.scopes, "openid"):
		s.redirectError(w, r, req, "invalid_scope", "scope must contain openid")
		return
	}
	if req.challenge != "" {
		if req.method == "" {
			req.method = "plain"
		}
		if req.method != "plain" && req.method != "S256" {
			s.redirectError(w, r, req, "invalid_request", "unsupported code_challenge_method")
			return
		}
		if n := len(req.challenge); n < 43 || n > 128 {
			s.redirectError(w, r, req, "invalid_request", "code_challenge must be 43 to 128 characters")
			return
		}
	} else if req.method != "" {
		s.redirectError(w, r, req, "invalid_request", "code_challenge_method without code_challenge")
		return
	}
	s.approve(w, r, req)
}

// approve issues a code for the logged-in user and redirects back, or redirects with
// access_denied when consent is refused or there is no such user.
func (s *Server) approve(w http.ResponseWriter, r *http.Request, req authRequest) {
	now := s.now()
	s.mu.Lock()
	u, ok := s.loginUser(req.loginHint)
	deny := s.deny
	code := randomToken()
	if ok && !deny {
		s.prune(now)
		s.codes[code] = &grant{
			flavor:      req.flavor,
			clientID:    req.clientID,
			redirectURI: req.redirectURI,
			email:       strings.ToLower(u.Email),
			scopes:      req.scopes,
			nonce:       req.nonce,
			challenge:   req.challenge,
			method:      req.method,
			expires:     now.Add(codeTTL),
		}
	}
	s.mu.Unlock()

	if deny || !ok {
		s.log.Debug("oauthsim: access denied", "client", req.clientID, "deny", deny, "user_found", ok)
		s.redirectError(w, r, req, "access_denied", "the user denied access")
		return
	}
	s.log.Debug("oauthsim: code issued", "client", req.clientID, "sub", u.Subject)
	params := url.Values{"code": {code}}
	if req.state != "" {
		params.Set("state", req.state)
	}
	fragment := ""
	if req.flavor == flavorFacebook {
		// Facebook appends this fragment to every login redirect.
		fragment = "#_=_"
	}
	http.Redirect(w, r, withQuery(req.redirectURI, params)+fragment, http.StatusFound)
}

// redirectError sends the user back to the client with an RFC 6749 4.1.2.1 error, in the
// flavor's own words.
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, req authRequest, code, desc string) {
	params := url.Values{"error": {code}, "error_description": {desc}}
	if req.flavor == flavorFacebook && code == "access_denied" {
		params.Set("error_code", "200")
		params.Set("error_description", "Permissions error")
		params.Set("error_reason", "user_denied")
	}
	if req.state != "" {
		params.Set("state", req.state)
	}
	http.Redirect(w, r, withQuery(req.redirectURI, params), http.StatusFound)
}

// withQuery adds params to a URL that may already have a query of its own.
func withQuery(raw string, params url.Values) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// tokenRequest is a token request whose client has been authenticated.
type tokenRequest struct {
	clientID string
	basic    bool // the client authenticated with HTTP Basic
}

// authenticateClient implements client_secret_basic and client_secret_post (RFC 6749 2.3.1).
// It writes the error itself and returns ok=false on failure.
func (s *Server) authenticateClient(w http.ResponseWriter, r *http.Request) (tokenRequest, bool) {
	id, secret, basic := r.BasicAuth()
	if basic {
		// Basic credentials are form-encoded before base64 (RFC 6749 2.3.1).
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			s.clientError(w, true, "malformed client credentials")
			return tokenRequest{}, false
		}
		if r.PostForm.Has("client_secret") {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request",
				"client authenticated with more than one method")
			return tokenRequest{}, false
		}
		if formID := r.PostForm.Get("client_id"); formID != "" && formID != id {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "client_id does not match the credentials")
			return tokenRequest{}, false
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" {
		s.clientError(w, basic, "client authentication is required")
		return tokenRequest{}, false
	}
	s.mu.Lock()
	c, ok := s.clients[id]
	s.mu.Unlock()
	if !ok || subtle.ConstantTimeCompare([]byte(secret), []byte(c.secret)) != 1 {
		s.clientError(w, basic, "client authentication failed")
		return tokenRequest{}, false
	}
	return tokenRequest{clientID: id, basic: basic}, true
}

func (s *Server) clientError(w http.ResponseWriter, basic bool, desc string) {
	if basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="oauthsim"`)
	}
	writeOAuthError(w, http.StatusUnauthorized, "invalid_client", desc)
}

// redeemError is why a code could not be redeemed, in RFC 6749 terms.
type redeemError struct {
	code, desc string
}

// The reasons a code is refused; the Facebook endpoint tells them apart to word them its own way.
var (
	errCodeUnknown     = &redeemError{"invalid_grant", "unknown authorization code"}
	errCodeUsed        = &redeemError{"invalid_grant", "authorization code already used"}
	errCodeExpired     = &redeemError{"invalid_grant", "authorization code expired"}
	errCodeOtherClient = &redeemError{"invalid_grant", "authorization code was issued to another client"}
	errCodeRedirect    = &redeemError{"invalid_grant", "redirect_uri does not match the authorization request"}
)

// redeem checks a code against the request and, if it is good, marks it used and issues an
// access token. A replayed code revokes the tokens it issued (RFC 6749 4.1.2).
func (s *Server) redeem(fl flavor, clientID, code, redirectURI, verifier string) (*grant, string, *redeemError) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.codes[code]
	switch {
	case !ok || g.flavor != fl:
		return nil, "", errCodeUnknown
	case g.used:
		for _, t := range g.issuedTokens {
			delete(s.tokens, t)
		}
		g.issuedTokens = nil
		return nil, "", errCodeUsed
	case now.After(g.expires):
		delete(s.codes, code)
		return nil, "", errCodeExpired
	case g.clientID != clientID:
		return nil, "", errCodeOtherClient
	case g.redirectURI != redirectURI:
		return nil, "", errCodeRedirect
	}
	if e := checkVerifier(g, verifier); e != nil {
		return nil, "", e
	}
	g.used = true
	token := randomToken()
	s.tokens[token] = &accessToken{
		flavor:   fl,
		clientID: clientID,
		email:    g.email,
		scopes:   g.scopes,
		expires:  now.Add(tokenTTL),
	}
	g.issuedTokens = append(g.issuedTokens, token)
	return g, token, nil
}

// checkVerifier applies PKCE (RFC 7636). A verifier for a code that had no challenge is refused
// too, so a PKCE downgrade cannot go unnoticed.
func checkVerifier(g *grant, verifier string) *redeemError {
	if g.challenge == "" {
		if verifier != "" {
			return &redeemError{"invalid_grant", "code_verifier sent but no code_challenge was given"}
		}
		return nil
	}
	if verifier == "" {
		return &redeemError{"invalid_grant", "code_verifier is required"}
	}
	want := verifier
	if g.method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		want = b64.EncodeToString(sum[:])
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(g.challenge)) != 1 {
		return &redeemError{"invalid_grant", "code_verifier does not match code_challenge"}
	}
	return nil
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "the token endpoint takes POST")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
		return
	}
	treq, ok := s.authenticateClient(w, r)
	if !ok {
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "authorization_code" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code is supported")
		return
	}
	code := r.PostForm.Get("code")
	if code == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "code is required")
		return
	}
	if s.key == nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "no signing key: "+s.keyErr.Error())
		return
	}
	g, token, rerr := s.redeem(flavorOIDC, treq.clientID, code, r.PostForm.Get("redirect_uri"), r.PostForm.Get("code_verifier"))
	if rerr != nil {
		writeOAuthError(w, http.StatusBadRequest, rerr.code, rerr.desc)
		return
	}
	u, ok := s.userByEmail(g.email)
	if !ok {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "the user no longer exists")
		return
	}

	now := s.now()
	claims := map[string]any{
		"iss":     s.issuer(r),
		"sub":     u.Subject,
		"aud":     treq.clientID,
		"azp":     treq.clientID,
		"iat":     now.Unix(),
		"exp":     now.Add(tokenTTL).Unix(),
		"at_hash": halfHash(token),
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	for k, v := range userClaims(u, g.scopes) {
		claims[k] = v
	}
	idToken, err := signJWT(s.key, s.kid, claims)
	if err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": token,
		"token_type":   "Bearer",
		"expires_in":   int(tokenTTL.Seconds()) - 1,
		"scope":        strings.Join(g.scopes, " "),
		"id_token":     idToken,
	})
}

// userClaims are the standard claims the granted scopes allow (OIDC Core 5.4).
func userClaims(u User, scopes []string) map[string]any {
	c := map[string]any{"sub": u.Subject}
	if hasScope(scopes, "email") {
		c["email"] = u.Email
		c["email_verified"] = u.EmailVerified
	}
	if hasScope(scopes, "profile") {
		first, last := splitName(u.Name)
		c["name"] = u.Name
		c["given_name"] = first
		if last != "" {
			c["family_name"] = last
		}
		if u.Picture != "" {
			c["picture"] = u.Picture
		}
	}
	return c
}

func (s *Server) userByEmail(email string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[email]
	return u, ok
}

// lookupToken returns a live access token of the given flavor.
func (s *Server) lookupToken(fl flavor, token string) (*accessToken, User, bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[token]
	if !ok || t.flavor != fl || now.After(t.expires) {
		return nil, User{}, false
	}
	u, ok := s.users[t.email]
	return t, u, ok
}

func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="oauthsim"`)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_request", "a Bearer token is required")
		return
	}
	t, u, ok := s.lookupToken(flavorOIDC, token)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="oauthsim", error="invalid_token"`)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid or expired")
		return
	}
	writeJSON(w, http.StatusOK, userClaims(u, t.scopes))
}
