package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"masteria/app/sim/oauthsim"
)

const appBase = "https://app.test"

var alice = oauthsim.User{
	Subject:       "108642097531",
	Email:         "alice@example.com",
	EmailVerified: true,
	Name:          "Alice Martins",
	Picture:       "https://img.test/alice.png",
}

type env struct {
	sim    *oauthsim.Server
	simURL string
	cfg    Config
	p      *Providers
}

// setup starts oauthsim over real HTTP with both apps registered and builds Providers against
// it; edit changes the configuration before New.
func setup(t *testing.T, edit func(*Config)) env {
	t.Helper()
	sim := oauthsim.New()
	simURL, err := sim.Start()
	if err != nil {
		t.Fatalf("start oauthsim: %v", err)
	}
	t.Cleanup(sim.Close)
	sim.AddUser(alice)
	sim.RegisterClient("google-client", "google-secret", appBase+"/auth/google/callback")
	sim.RegisterClient("fb-app", "fb-secret", appBase+"/auth/facebook/callback")

	cfg := Config{
		BaseURL:              appBase,
		GoogleClientID:       "google-client",
		GoogleClientSecret:   "google-secret",
		GoogleDiscoveryURL:   simURL + "/.well-known/openid-configuration",
		FacebookClientID:     "fb-app",
		FacebookClientSecret: "fb-secret",
		FacebookBaseURL:      simURL,
	}
	if edit != nil {
		edit(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return env{sim: sim, simURL: simURL, cfg: cfg, p: p}
}

// browse plays the browser: it opens the authorization URL without following the redirect
// back to the app and returns the callback's query.
func browse(t *testing.T, provider, authURL string) url.Values {
	t.Helper()
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatalf("GET %s: %v", authURL, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET %s: status %d", authURL, resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("Location: %v", err)
	}
	if got, want := loc.Scheme+"://"+loc.Host+loc.Path, appBase+"/auth/"+provider+"/callback"; got != want {
		t.Fatalf("redirected to %s, want %s", got, want)
	}
	return loc.Query()
}

// login runs a whole login and returns the identity or the error.
func login(t *testing.T, e env, provider string) (Identity, error) {
	t.Helper()
	authURL, pend, err := e.p.Begin(provider)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	return e.p.Complete(context.Background(), provider, pend, browse(t, provider, authURL))
}

func TestGoogleLogin(t *testing.T) {
	e := setup(t, nil)
	authURL, pend, err := e.p.Begin(Google)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	u, _ := url.Parse(authURL)
	q := u.Query()
	if !strings.HasPrefix(authURL, e.simURL+"/authorize?") || q.Get("client_id") != "google-client" ||
		q.Get("redirect_uri") != appBase+"/auth/google/callback" || q.Get("state") == "" ||
		q.Get("nonce") == "" || q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 ||
		!slices.Contains(strings.Fields(q.Get("scope")), "openid") {
		t.Errorf("authorization URL %s", authURL)
	}

	id, err := e.p.Complete(context.Background(), Google, pend, browse(t, Google, authURL))
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	want := Identity{Provider: Google, Subject: alice.Subject, Email: alice.Email, EmailVerified: true,
		Name: alice.Name, AvatarURL: alice.Picture}
	if id != want {
		t.Errorf("identity %+v, want %+v", id, want)
	}
}

func TestFacebookLogin(t *testing.T) {
	e := setup(t, nil)
	authURL, pend, err := e.p.Begin(Facebook)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	if !strings.HasPrefix(authURL, e.simURL+"/dialog/oauth?") {
		t.Errorf("authorization URL %s not sent to FacebookBaseURL", authURL)
	}
	id, err := e.p.Complete(context.Background(), Facebook, pend, browse(t, Facebook, authURL))
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	want := Identity{Provider: Facebook, Subject: alice.Subject, Email: alice.Email, EmailVerified: true,
		Name: alice.Name, AvatarURL: alice.Picture}
	if id != want {
		t.Errorf("identity %+v, want %+v", id, want)
	}
}

func TestStateMismatch(t *testing.T) {
	e := setup(t, nil)
	for _, provider := range []string{Google, Facebook} {
		t.Run(provider, func(t *testing.T) {
			authURL, pend, err := e.p.Begin(provider)
			if err != nil {
				t.Fatal(err)
			}
			_, otherPend, _ := e.p.Begin(provider)
			other := Google
			if provider == Google {
				other = Facebook
			}
			_, otherProviderPend, _ := e.p.Begin(other)
			query := browse(t, provider, authURL)

			tampered := url.Values{}
			for k, v := range query {
				tampered[k] = v
			}
			tampered.Set("state", "forged")
			noState := url.Values{"code": {query.Get("code")}}

			cases := map[string]struct {
				pending string
				query   url.Values
			}{
				"forged state":             {pend, tampered},
				"missing state":            {pend, noState},
				"another login's pending":  {otherPend, query},
				"another provider pending": {otherProviderPend, query},
				"garbage pending":          {"not-a-pending-blob", query},
				"empty pending":            {"", query},
			}
			for name, tc := range cases {
				if _, err := e.p.Complete(context.Background(), provider, tc.pending, tc.query); !errors.Is(err, ErrStateMismatch) {
					t.Errorf("%s: err = %v, want ErrStateMismatch", name, err)
				}
			}
			// The code was never spent, so the genuine pair still logs in.
			if _, err := e.p.Complete(context.Background(), provider, pend, query); err != nil {
				t.Errorf("genuine callback after rejected ones: %v", err)
			}
		})
	}
}

func TestDenied(t *testing.T) {
	for _, provider := range []string{Google, Facebook} {
		t.Run(provider, func(t *testing.T) {
			e := setup(t, nil)
			e.sim.SetDeny(true)
			if _, err := login(t, e, provider); !errors.Is(err, ErrDenied) {
				t.Errorf("refused consent: err = %v, want ErrDenied", err)
			}
			e.sim.SetDeny(false)
			e.sim.SetNextUser("nobody@example.com")
			if _, err := login(t, e, provider); !errors.Is(err, ErrDenied) {
				t.Errorf("unknown user: err = %v, want ErrDenied", err)
			}
		})
	}
}

func TestCodeReused(t *testing.T) {
	e := setup(t, nil)
	for _, provider := range []string{Google, Facebook} {
		authURL, pend, err := e.p.Begin(provider)
		if err != nil {
			t.Fatal(err)
		}
		query := browse(t, provider, authURL)
		if _, err := e.p.Complete(context.Background(), provider, pend, query); err != nil {
			t.Fatalf("%s: first Complete: %v", provider, err)
		}
		id, err := e.p.Complete(context.Background(), provider, pend, query)
		if err == nil || id != (Identity{}) {
			t.Errorf("%s: replayed callback gave %+v, %v", provider, id, err)
		}
	}
}

func TestUnknownProvider(t *testing.T) {
	e := setup(t, func(c *Config) { c.FacebookClientID = "" })
	for _, name := range []string{"github", Facebook, ""} {
		if _, _, err := e.p.Begin(name); !errors.Is(err, ErrUnknownProvider) {
			t.Errorf("Begin(%q): err = %v", name, err)
		}
		if _, err := e.p.Complete(context.Background(), name, "x", url.Values{}); !errors.Is(err, ErrUnknownProvider) {
			t.Errorf("Complete(%q): err = %v", name, err)
		}
	}
}

func TestEnabled(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"both", nil, []string{Google, Facebook}},
		{"google only", func(c *Config) { c.FacebookClientID = "" }, []string{Google}},
		{"facebook only", func(c *Config) { c.GoogleClientID = "" }, []string{Facebook}},
		{"none", func(c *Config) { c.GoogleClientID, c.FacebookClientID = "", "" }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, tc.edit)
			if got := e.p.Enabled(); !slices.Equal(got, tc.want) {
				t.Errorf("Enabled() = %v, want %v", got, tc.want)
			}
		})
	}
	// With nothing configured, no URL is needed, nothing is fetched and every provider is unknown.
	p, err := New(Config{})
	if err != nil || len(p.Enabled()) != 0 {
		t.Fatalf("New(Config{}) = %v, %v", p, err)
	}
	if _, _, err := p.Begin(Google); !errors.Is(err, ErrUnknownProvider) {
		t.Errorf("Begin with nothing configured: %v", err)
	}
	if _, err := p.Complete(context.Background(), Facebook, "", nil); !errors.Is(err, ErrUnknownProvider) {
		t.Errorf("Complete with nothing configured: %v", err)
	}
}

func TestNoVerifiedEmail(t *testing.T) {
	for _, provider := range []string{Google, Facebook} {
		t.Run(provider, func(t *testing.T) {
			e := setup(t, nil)
			e.sim.AddUser(oauthsim.User{Email: "unverified@example.com", Name: "Una"})
			e.sim.SetNextUser("unverified@example.com")
			if _, err := login(t, e, provider); !errors.Is(err, ErrNoEmail) {
				t.Errorf("err = %v, want ErrNoEmail", err)
			}
		})
	}
}

// editPending rewrites a field of a pending blob, as an attacker holding the cookie could if it were not signed.
func editPending(t *testing.T, blob string, edit func(*pending)) string {
	t.Helper()
	p := decodePending(t, blob)
	edit(&p)
	b, _ := json.Marshal(p)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestNonceChecked(t *testing.T) {
	e := setup(t, nil)
	authURL, pend, err := e.p.Begin(Google)
	if err != nil {
		t.Fatal(err)
	}
	pend = editPending(t, pend, func(p *pending) { p.Nonce = "another-nonce" })
	_, err = e.p.Complete(context.Background(), Google, pend, browse(t, Google, authURL))
	if err == nil || !strings.Contains(err.Error(), "nonce") {
		t.Errorf("err = %v, want a nonce mismatch", err)
	}
}

func TestPKCEVerifierSent(t *testing.T) {
	e := setup(t, nil)
	authURL, pend, err := e.p.Begin(Google)
	if err != nil {
		t.Fatal(err)
	}
	// With a verifier that does not match the challenge, the provider refuses the code.
	pend = editPending(t, pend, func(p *pending) { p.Verifier = strings.Repeat("x", 43) })
	_, err = e.p.Complete(context.Background(), Google, pend, browse(t, Google, authURL))
	if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("err = %v, want invalid_grant", err)
	}
}

func TestPendingExpires(t *testing.T) {
	e := setup(t, nil)
	authURL, pend, err := e.p.Begin(Google)
	if err != nil {
		t.Fatal(err)
	}
	query := browse(t, Google, authURL)
	e.p.now = func() time.Time { return time.Now().Add(PendingTTL + time.Minute) }
	if _, err := e.p.Complete(context.Background(), Google, pend, query); !errors.Is(err, ErrStateMismatch) {
		t.Errorf("err = %v, want ErrStateMismatch", err)
	}
}

func TestWrongClientSecret(t *testing.T) {
	for _, provider := range []string{Google, Facebook} {
		e := setup(t, func(c *Config) { c.GoogleClientSecret, c.FacebookClientSecret = "wrong", "wrong" })
		if _, err := login(t, e, provider); err == nil {
			t.Errorf("%s: login with a wrong client secret succeeded", provider)
		}
	}
}

func TestContextCancelled(t *testing.T) {
	e := setup(t, nil)
	authURL, pend, err := e.p.Begin(Facebook)
	if err != nil {
		t.Fatal(err)
	}
	query := browse(t, Facebook, authURL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.p.Complete(ctx, Facebook, pend, query); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestNewErrors(t *testing.T) {
	// A provider whose discovery document names another issuer than the URL it was fetched from.
	elsewhere := httptest.NewServer(oauthsim.New(oauthsim.WithBaseURL("https://issuer.test")).Handler())
	t.Cleanup(elsewhere.Close)

	cases := map[string]Config{
		"no base URL":      {GoogleClientID: "g", GoogleClientSecret: "s"},
		"no google secret": {BaseURL: appBase, GoogleClientID: "g"},
		"no fb secret":     {BaseURL: appBase, FacebookClientID: "f"},
		"bad fb base":      {BaseURL: appBase, FacebookClientID: "f", FacebookClientSecret: "s", FacebookBaseURL: "not a url"},
		"discovery down": {BaseURL: appBase, GoogleClientID: "g", GoogleClientSecret: "s",
			GoogleDiscoveryURL: "http://127.0.0.1:1/.well-known/openid-configuration"},
		"issuer mismatch": {BaseURL: appBase, GoogleClientID: "g", GoogleClientSecret: "s",
			GoogleDiscoveryURL: elsewhere.URL + "/.well-known/openid-configuration"},
	}
	for name, cfg := range cases {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// rawIDToken runs a Google login by hand up to the token response and returns its id_token
// with the nonce it must carry.
func rawIDToken(t *testing.T, e env) (idToken, nonce string) {
	t.Helper()
	authURL, blob, err := e.p.Begin(Google)
	if err != nil {
		t.Fatal(err)
	}
	pend := decodePending(t, blob)
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {browse(t, Google, authURL).Get("code")},
		"redirect_uri":  {appBase + "/auth/google/callback"},
		"code_verifier": {pend.Verifier},
		"client_id":     {"google-client"},
		"client_secret": {"google-secret"},
	}
	resp, err := http.PostForm(e.simURL+"/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		IDToken string `json:"id_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.IDToken == "" {
		t.Fatalf("token response: %d %v", resp.StatusCode, err)
	}
	return tok.IDToken, pend.Nonce
}

func TestIDTokenVerification(t *testing.T) {
	e := setup(t, nil)
	raw, nonce := rawIDToken(t, e)
	ctx := context.Background()
	now := time.Now()
	if err := e.p.google.verifyIDToken(ctx, e.p.client, raw, nonce, now); err != nil {
		t.Fatalf("genuine id_token: %v", err)
	}

	parts := strings.Split(raw, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := strings.Replace(string(payload), alice.Email, "mallory@example.com", 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]

	otherClient := *e.p.google
	otherClient.clientID = "someone-else"
	otherIssuer := *e.p.google
	otherIssuer.meta.Issuer = "https://issuer.test"

	// A second provider has its own key: its JWKS does not hold the key that signed raw.
	other := setup(t, nil)
	foreignKeys := *e.p.google
	foreignKeys.keys = other.p.google.keys

	cases := []struct {
		name  string
		g     *googleProvider
		token string
		nonce string
		now   time.Time
	}{
		{"tampered payload", e.p.google, tampered, nonce, now},
		{"wrong nonce", e.p.google, raw, "other", now},
		{"no nonce expected", e.p.google, raw, "", now},
		{"expired", e.p.google, raw, nonce, now.Add(2 * time.Hour)},
		{"issued in the future", e.p.google, raw, nonce, now.Add(-time.Hour)},
		{"another audience", &otherClient, raw, nonce, now},
		{"another issuer", &otherIssuer, raw, nonce, now},
		{"unknown signing key", &foreignKeys, raw, nonce, now},
		{"not a JWT", e.p.google, "abc.def", nonce, now},
		{"missing", e.p.google, "", nonce, now},
	}
	for _, tc := range cases {
		if err := tc.g.verifyIDToken(ctx, e.p.client, tc.token, tc.nonce, tc.now); err == nil {
			t.Errorf("%s: id_token accepted", tc.name)
		}
	}
}

func decodePending(t *testing.T, blob string) pending {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(blob)
	if err != nil {
		t.Fatal(err)
	}
	var p pending
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p
}
