package oauthsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
)

// graphError writes an error the way the Graph API does:
// {"error":{"message","type","code","error_subcode","fbtrace_id"}}.
func graphError(w http.ResponseWriter, status int, typ string, code, subcode int, msg string) {
	e := map[string]any{
		"message":    msg,
		"type":       typ,
		"code":       code,
		"fbtrace_id": randomToken()[:11],
	}
	if subcode != 0 {
		e["error_subcode"] = subcode
	}
	if code == 190 {
		w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "invalid_token" "`+msg+`"`)
	}
	writeJSON(w, status, map[string]any{"error": e})
}

// handleFacebookDialog is the login dialog. Scopes are comma or space separated and
// response_type defaults to code, as on Facebook.
func (s *Server) handleFacebookDialog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !s.checkClient(w, q) {
		return
	}
	req := authRequest{
		flavor:      flavorFacebook,
		clientID:    q.Get("client_id"),
		redirectURI: q.Get("redirect_uri"),
		state:       q.Get("state"),
		scopes:      strings.FieldsFunc(q.Get("scope"), func(r rune) bool { return r == ',' || r == ' ' }),
		challenge:   q.Get("code_challenge"),
		method:      q.Get("code_challenge_method"),
		loginHint:   q.Get("login_hint"),
	}
	if rt := q.Get("response_type"); rt != "" && rt != "code" {
		s.redirectError(w, r, req, "unsupported_response_type", "only response_type=code is supported")
		return
	}
	if req.challenge != "" && req.method == "" {
		req.method = "plain"
	}
	// public_profile is always granted on Facebook.
	if !hasScope(req.scopes, "public_profile") {
		req.scopes = append(req.scopes, "public_profile")
	}
	s.approve(w, r, req)
}

// handleFacebookToken exchanges a code; Facebook accepts the parameters in the query or the form.
func (s *Server) handleFacebookToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		graphError(w, http.StatusMethodNotAllowed, "OAuthException", 100, 0, "Unsupported method")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		graphError(w, http.StatusBadRequest, "OAuthException", 100, 0, "Malformed request body")
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		// Basic credentials are form-encoded before base64 (RFC 6749 2.3.1).
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
	}
	s.mu.Lock()
	c, known := s.clients[id]
	s.mu.Unlock()
	switch {
	case id == "":
		graphError(w, http.StatusBadRequest, "OAuthException", 101, 0, "Missing client_id parameter.")
		return
	case !known:
		graphError(w, http.StatusBadRequest, "OAuthException", 101, 0, "Error validating application. Invalid application ID.")
		return
	case !hmac.Equal([]byte(secret), []byte(c.secret)):
		graphError(w, http.StatusBadRequest, "OAuthException", 1, 0, "Error validating client secret.")
		return
	case r.Form.Get("code") == "":
		graphError(w, http.StatusBadRequest, "OAuthException", 100, 0, "Missing code parameter.")
		return
	}
	_, token, rerr := s.redeem(flavorFacebook, id, r.Form.Get("code"), r.Form.Get("redirect_uri"), r.Form.Get("code_verifier"))
	if rerr != nil {
		msg, sub := rerr.desc, 0
		switch rerr {
		case errCodeUnknown, errCodeOtherClient:
			msg = "Invalid verification code format."
		case errCodeUsed:
			msg, sub = "This authorization code has been used.", 36009
		case errCodeExpired:
			msg, sub = "This authorization code has expired.", 36007
		case errCodeRedirect:
			msg, sub = "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request", 36008
		}
		graphError(w, http.StatusBadRequest, "OAuthException", 100, sub, msg)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": token,
		"token_type":   "bearer",
		"expires_in":   int(tokenTTL.Seconds()),
	})
}

// Fields of the User node the sim knows. Those needing a permission that the sim never grants
// (user_link, user_location, ...) are known but left out of answers, as Facebook does.
var facebookFields = map[string]bool{
	"id": true, "name": true, "email": true, "first_name": true, "last_name": true,
	"middle_name": true, "short_name": true, "name_format": true, "picture": true,
	"link": false, "location": false, "birthday": false, "gender": false, "hometown": false,
}

// handleFacebookMe answers /me for a user access token. Every call must carry an appsecret_proof,
// as for an app with "Require App Secret" on (goth always sends one).
func (s *Server) handleFacebookMe(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token := q.Get("access_token")
	if token == "" {
		if h := r.Header.Get("Authorization"); h != "" {
			token, _ = strings.CutPrefix(strings.TrimPrefix(h, "Bearer "), "OAuth ")
		}
	}
	if token == "" {
		graphError(w, http.StatusBadRequest, "OAuthException", 2500, 0, "An active access token must be used to query information about the current user.")
		return
	}
	t, u, ok := s.lookupToken(flavorFacebook, token)
	if !ok {
		graphError(w, http.StatusBadRequest, "OAuthException", 190, 0, "Invalid OAuth access token - Cannot parse access token")
		return
	}
	s.mu.Lock()
	c := s.clients[t.clientID]
	s.mu.Unlock()
	proof := q.Get("appsecret_proof")
	if proof == "" {
		graphError(w, http.StatusBadRequest, "GraphMethodException", 100, 0, "API calls from the server require an appsecret_proof argument")
		return
	}
	mac := hmac.New(sha256.New, []byte(c.secret))
	mac.Write([]byte(token))
	if !hmac.Equal([]byte(strings.ToLower(proof)), []byte(hex.EncodeToString(mac.Sum(nil)))) {
		graphError(w, http.StatusBadRequest, "GraphMethodException", 100, 0, "Invalid appsecret_proof provided in the API argument")
		return
	}

	fields := []string{"id", "name"} // Graph's default for /me
	if f := q.Get("fields"); f != "" {
		fields = strings.Split(f, ",")
	}
	first, last := splitName(u.Name)
	out := map[string]any{"id": u.Subject}
	for _, f := range fields {
		// picture.type(large) and picture{url} name the same field.
		name := strings.TrimSpace(f)
		if i := strings.IndexAny(name, ".{"); i >= 0 {
			name = name[:i]
		}
		served, known := facebookFields[name]
		if !known {
			graphError(w, http.StatusBadRequest, "OAuthException", 100, 0,
				"(#100) Tried accessing nonexisting field ("+name+") on node type (User)")
			return
		}
		if !served {
			continue
		}
		switch name {
		case "name":
			out["name"] = u.Name
		case "first_name":
			out["first_name"] = first
		case "last_name":
			out["last_name"] = last
		case "short_name":
			out["short_name"] = first
		case "middle_name":
			// Sim users have none; Facebook omits empty fields.
		case "name_format":
			out["name_format"] = "{first} {last}"
		case "email":
			// Only a confirmed email is ever returned, and only with the email permission.
			if hasScope(t.scopes, "email") && u.EmailVerified && u.Email != "" {
				out["email"] = u.Email
			}
		case "picture":
			out["picture"] = map[string]any{"data": map[string]any{
				"height": 50, "width": 50, "is_silhouette": u.Picture == "", "url": u.Picture,
			}}
		}
	}
	writeJSON(w, http.StatusOK, out)
}
