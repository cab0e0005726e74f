// Package webtest runs whole Master IA instances for tests: a fresh database, the real
// handler chain on a loopback HTTP server, the event broker and the job workers, and a
// browser-like client that keeps cookies and sends the CSRF token the way pages do.
package webtest

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"masteria/app/boot"
	"masteria/app/config"
	"masteria/app/store/storetest"
	"masteria/app/vault"
)

// Instance is one running app.
type Instance struct {
	App    *boot.App
	Server *httptest.Server
	URL    string
}

// Config returns a test configuration for the database at dbURL.
func Config(t testing.TB, dbURL string) config.Config {
	t.Helper()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.DatabaseURL = dbURL
	cfg.DataDir = t.TempDir()
	cfg.Workers = 4
	cfg.WhatsAppQR = false // tests never dial WhatsApp
	return cfg
}

// Start runs an instance on a new database.
func Start(t testing.TB) *Instance {
	t.Helper()
	return StartOn(t, storetest.URL(t), nil)
}

// StartOn runs an instance on the database at dbURL (several instances may share one);
// edit may change the configuration first.
func StartOn(t testing.TB, dbURL string, edit func(*config.Config)) *Instance {
	t.Helper()
	return start(t, dbURL, "", edit)
}

// StartAt runs an instance on a new database, listening at base ("http://127.0.0.1:PORT"),
// for tests that must know the app's URL before it starts (OAuth callbacks).
func StartAt(t testing.TB, base string, edit func(*config.Config)) *Instance {
	t.Helper()
	return start(t, storetest.URL(t), base, edit)
}

// StartOnAt runs an instance on the database at dbURL listening at base, for tests that run
// an instance again at the same address (a restart after a crash).
// ring seals the channels' secrets (nil: a new key), so a restarted instance can read
// what an earlier one stored.
func StartOnAt(t testing.TB, dbURL, base string, edit func(*config.Config), ring *vault.Ring) *Instance {
	t.Helper()
	return startWith(t, dbURL, base, edit, ring)
}

// FreeBase returns the URL of a loopback port kept for the instance that starts there: its
// listener stays open until then, so that no other connection of a busy machine (an
// outgoing one takes its port from the same range) gets the port in between.
func FreeBase(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	reserved.Store(base, ln)
	t.Cleanup(func() {
		if l, ok := reserved.LoadAndDelete(base); ok {
			_ = l.(net.Listener).Close()
		}
	})
	return base
}

// ReleaseBase gives up the port FreeBase kept at base, for a test whose instances run in
// other processes (a crash test's children), which must listen there themselves.
func ReleaseBase(base string) {
	if l, ok := reserved.LoadAndDelete(base); ok {
		_ = l.(net.Listener).Close()
	}
}

// reserved holds FreeBase's listeners (base URL → net.Listener) until an instance takes one.
var reserved sync.Map

// listen takes the listener FreeBase kept at base, or listens there.
func listen(base string) (net.Listener, error) {
	if l, ok := reserved.LoadAndDelete(base); ok {
		return l.(net.Listener), nil
	}
	return net.Listen("tcp", strings.TrimPrefix(base, "http://"))
}

func start(t testing.TB, dbURL, base string, edit func(*config.Config)) *Instance {
	return startWith(t, dbURL, base, edit, nil)
}

func startWith(t testing.TB, dbURL, base string, edit func(*config.Config), ring *vault.Ring) *Instance {
	cfg := Config(t, dbURL)
	if base != "" {
		cfg.BaseURL = base
	}
	if edit != nil {
		edit(&cfg)
	}
	if ring == nil {
		key, err := vault.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		if ring, err = vault.ParseKeyRing(key); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	app, err := boot.Open(ctx, cfg, ring, boot.Options{Workers: true, Web: true})
	if err != nil {
		cancel()
		t.Fatalf("webtest: open: %v", err)
	}
	if err := app.Background(ctx); err != nil {
		cancel()
		t.Fatalf("webtest: background: %v", err)
	}
	srv := httptest.NewUnstartedServer(app.Web.Handler())
	if base != "" {
		ln, err := listen(base)
		if err != nil {
			cancel()
			app.Close()
			t.Fatalf("webtest: listen at %s: %v", base, err)
		}
		srv.Listener.Close()
		srv.Listener = ln
	}
	srv.Start()
	t.Cleanup(func() {
		cancel()
		srv.CloseClientConnections()
		srv.Close()
		app.Close()
	})
	return &Instance{App: app, Server: srv, URL: srv.URL}
}

// Client is a browser without JavaScript: it keeps cookies and fills the CSRF field.
type Client struct {
	T    testing.TB
	Base string
	HTTP *http.Client
	// Lang is sent as Accept-Language.
	Lang string
}

// NewClient returns a client of instance base URL that does not follow redirects, so tests
// can see them.
func NewClient(t testing.TB, base string) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{T: t, Base: base, Lang: "en", HTTP: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Response is a read response.
type Response struct {
	*http.Response
	Body string
}

// Do sends a request and reads the whole answer.
func (c *Client) Do(req *http.Request) *Response {
	c.T.Helper()
	if req.Header.Get("Accept-Language") == "" {
		req.Header.Set("Accept-Language", c.Lang)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		c.T.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &Response{Response: res, Body: string(b)}
}

// Get fetches path.
func (c *Client) Get(path string, header ...string) *Response {
	c.T.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.Base+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.Do(req)
}

// CSRF is the token a page would carry: the value of the CSRF cookie, fetched first if needed.
func (c *Client) CSRF() string {
	c.T.Helper()
	u, _ := url.Parse(c.Base)
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == "masteria_csrf" {
			return ck.Value
		}
	}
	c.Get("/login")
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == "masteria_csrf" {
			return ck.Value
		}
	}
	c.T.Fatal("no CSRF cookie")
	return ""
}

// Post submits a form as a page would, with the CSRF field.
func (c *Client) Post(path string, form url.Values) *Response {
	c.T.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", c.CSRF())
	}
	return c.PostRaw(path, form)
}

// PostRaw submits a form exactly as given: no CSRF field is added.
func (c *Client) PostRaw(path string, form url.Values, header ...string) *Response {
	c.T.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.Base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.Do(req)
}

// Signup creates an account and its org, logs this client in, and returns the org's path.
func (c *Client) Signup(org, name, email, password string) string {
	c.T.Helper()
	res := c.Post("/signup", url.Values{"org": {org}, "name": {name}, "email": {email}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther {
		c.T.Fatalf("signup %s: status %d: %s", email, res.StatusCode, snippet(res.Body))
	}
	return res.Header.Get("Location")
}

// Login logs this client in and returns where it was sent.
func (c *Client) Login(email, password string) string {
	c.T.Helper()
	res := c.Post("/login", url.Values{"email": {email}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther {
		c.T.Fatalf("login %s: status %d: %s", email, res.StatusCode, snippet(res.Body))
	}
	return res.Header.Get("Location")
}

var tags = regexp.MustCompile(`<[^>]+>`)

// Text is a page's text without tags and with spaces folded, for "the page says …" checks.
func Text(html string) string {
	return strings.Join(strings.Fields(tags.ReplaceAllString(html, " ")), " ")
}

func snippet(s string) string {
	s = Text(s)
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}
