package oauthsim_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"masteria/app/sim/oauthsim"
)

func facebookParams(extra ...string) url.Values {
	v := url.Values{
		"client_id":    {clientID},
		"redirect_uri": {redirectURI},
		"scope":        {"email"},
		"state":        {"st-123"},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

func facebookCode(t *testing.T, base string, params url.Values) string {
	t.Helper()
	resp, err := noRedirect.Get(base + "/dialog/oauth?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("dialog: %d %v", resp.StatusCode, err)
	}
	if loc.Fragment != "_=_" {
		t.Errorf("fragment %q, want Facebook's _=_", loc.Fragment)
	}
	q := loc.Query()
	if q.Get("state") != "st-123" || q.Get("code") == "" {
		t.Fatalf("dialog redirect query %v", q)
	}
	return q.Get("code")
}

// facebookToken exchanges a code the way goth does: GET-able parameters, here sent as a POST form.
func facebookToken(t *testing.T, base, code, secret string) (int, map[string]any) {
	t.Helper()
	form := url.Values{
		"client_id": {clientID}, "client_secret": {secret}, "code": {code},
		"redirect_uri": {redirectURI}, "grant_type": {"authorization_code"},
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth/access_token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return getJSON(t, req)
}

func proof(token, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(token))
	return hex.EncodeToString(mac.Sum(nil))
}

func me(t *testing.T, base, fields, token, appsecretProof string) (int, map[string]any) {
	t.Helper()
	q := url.Values{"access_token": {token}}
	if fields != "" {
		q.Set("fields", fields)
	}
	if appsecretProof != "" {
		q.Set("appsecret_proof", appsecretProof)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/me?"+q.Encode(), nil)
	return getJSON(t, req)
}

func graphCode(body map[string]any) (code, subcode float64) {
	e, _ := body["error"].(map[string]any)
	code, _ = e["code"].(float64)
	subcode, _ = e["error_subcode"].(float64)
	return code, subcode
}

func TestFacebookFlow(t *testing.T) {
	_, base := newSim(t)
	status, tok := facebookToken(t, base, facebookCode(t, base, facebookParams()), clientSecret)
	if status != http.StatusOK {
		t.Fatalf("access_token: %d %v", status, tok)
	}
	access, _ := tok["access_token"].(string)
	if access == "" || tok["token_type"] != "bearer" || tok["expires_in"].(float64) <= 0 {
		t.Fatalf("access_token answer %v", tok)
	}
	if _, ok := tok["id_token"]; ok {
		t.Error("Facebook's token answer has no id_token")
	}

	status, user := me(t, base, "id,name,email,first_name,last_name,picture", access, proof(access, clientSecret))
	if status != http.StatusOK {
		t.Fatalf("me: %d %v", status, user)
	}
	pic, _ := user["picture"].(map[string]any)
	data, _ := pic["data"].(map[string]any)
	if user["id"] != alice.Subject || user["email"] != alice.Email || user["name"] != alice.Name ||
		user["first_name"] != "Alice" || user["last_name"] != "Martins" || data["url"] != alice.Picture {
		t.Errorf("me: %v", user)
	}

	// Without fields Graph answers id and name only.
	_, user = me(t, base, "", access, proof(access, clientSecret))
	if len(user) != 2 || user["id"] != alice.Subject {
		t.Errorf("me without fields: %v", user)
	}
	// A pinned Graph version reaches the same endpoint.
	req, _ := http.NewRequest(http.MethodGet, base+"/v19.0/me?fields=email&access_token="+url.QueryEscape(access)+
		"&appsecret_proof="+proof(access, clientSecret), nil)
	if status, user := getJSON(t, req); status != http.StatusOK || user["email"] != alice.Email {
		t.Errorf("versioned me: %d %v", status, user)
	}
}

func TestFacebookAppSecretProof(t *testing.T) {
	_, base := newSim(t)
	_, tok := facebookToken(t, base, facebookCode(t, base, facebookParams()), clientSecret)
	access := tok["access_token"].(string)
	for name, p := range map[string]string{"missing": "", "wrong secret": proof(access, "other"), "other token": proof("x", clientSecret)} {
		status, body := me(t, base, "id", access, p)
		if code, _ := graphCode(body); status != http.StatusBadRequest || code != 100 {
			t.Errorf("%s proof: %d %v", name, status, body)
		}
	}
	status, body := me(t, base, "id", "bogus", proof("bogus", clientSecret))
	if code, _ := graphCode(body); status != http.StatusBadRequest || code != 190 {
		t.Errorf("bad token: %d %v", status, body)
	}
}

func TestFacebookTokenErrors(t *testing.T) {
	_, base := newSim(t)
	c := facebookCode(t, base, facebookParams())
	if status, body := facebookToken(t, base, c, "wrong"); status != http.StatusBadRequest || body["error"] == nil {
		t.Errorf("wrong secret: %d %v", status, body)
	}
	if status, _ := facebookToken(t, base, c, clientSecret); status != http.StatusOK {
		t.Fatalf("first exchange: %d", status)
	}
	status, body := facebookToken(t, base, c, clientSecret)
	if _, sub := graphCode(body); status != http.StatusBadRequest || sub != 36009 {
		t.Errorf("reused code: %d %v", status, body)
	}
}

func TestFacebookEmailOnlyWhenConfirmedAndGranted(t *testing.T) {
	s, base := newSim(t)
	s.AddUser(oauthsim.User{Email: "unconfirmed@example.com", Name: "Una"})

	_, tok := facebookToken(t, base, facebookCode(t, base, facebookParams("login_hint", "unconfirmed@example.com")), clientSecret)
	access := tok["access_token"].(string)
	if _, user := me(t, base, "id,email", access, proof(access, clientSecret)); user["email"] != nil {
		t.Errorf("unconfirmed email returned: %v", user)
	}

	_, tok = facebookToken(t, base, facebookCode(t, base, facebookParams("scope", "public_profile")), clientSecret)
	access = tok["access_token"].(string)
	if _, user := me(t, base, "id,email", access, proof(access, clientSecret)); user["email"] != nil {
		t.Errorf("email returned without the email permission: %v", user)
	}

	if status, body := me(t, base, "id,about", access, proof(access, clientSecret)); status != http.StatusBadRequest {
		t.Errorf("nonexisting field: %d %v", status, body)
	}
}

func TestFacebookDenied(t *testing.T) {
	s, base := newSim(t)
	s.SetDeny(true)
	resp, err := noRedirect.Get(base + "/dialog/oauth?" + facebookParams().Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if q.Get("error") != "access_denied" || q.Get("error_reason") != "user_denied" || q.Get("state") != "st-123" {
		t.Errorf("denied redirect %v", q)
	}
}

// Codes from one protocol are not redeemable at the other's token endpoint.
func TestFlavorsDoNotMix(t *testing.T) {
	_, base := newSim(t)
	if tok := exchange(t, base, codeForm(facebookCode(t, base, facebookParams())), clientSecret, true); tok.status != http.StatusBadRequest {
		t.Errorf("Facebook code at /token: %d %v", tok.status, tok.body)
	}
	if status, body := facebookToken(t, base, code(t, base, authorizeParams()), clientSecret); status != http.StatusBadRequest {
		t.Errorf("OIDC code at /oauth/access_token: %d %v", status, body)
	}
}
