package static

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, url string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func embedded(t *testing.T, name string) []byte {
	t.Helper()
	b, err := files.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var hashedURL = regexp.MustCompile(`^/static/css/app\.[0-9a-f]{8}\.css$`)

func TestPathIsHashedAndServedImmutable(t *testing.T) {
	url := Path("css/app.css")
	if !hashedURL.MatchString(url) {
		t.Fatalf("Path(css/app.css) = %q, want /static/css/app.<hash>.css", url)
	}
	if Path("/css/app.css") != url {
		t.Errorf("a leading slash changes the URL: %q", Path("/css/app.css"))
	}
	res := get(t, Handler(), url)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", url, res.StatusCode)
	}
	if got := res.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control = %q", got)
	}
	if got := res.Header.Get("Content-Type"); got != "text/css; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if !bytes.Equal(body(t, res), embedded(t, "css/app.css")) {
		t.Error("body differs from the embedded file")
	}
}

func TestContentTypes(t *testing.T) {
	for name, want := range map[string]string{
		"js/app.js":                  "text/javascript; charset=utf-8",
		"icons/icon.svg":             "image/svg+xml",
		"icons/icon-192.png":         "image/png",
		"vendor/README.md":           "text/markdown; charset=utf-8",
		"js/theme.js":                "text/javascript; charset=utf-8",
		"icons/favicon-32.png":       "image/png",
		"icons/icon-512.png":         "image/png",
		"icons/apple-touch-icon.png": "image/png",
	} {
		res := get(t, Handler(), Path(name))
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != want {
			t.Errorf("%s: status %d, Content-Type %q, want %q", name, res.StatusCode, res.Header.Get("Content-Type"), want)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff header", name)
		}
	}
}

func TestHashedNameForDottedFiles(t *testing.T) {
	url := Path("vendor/htmx.org-2.0.11/htmx.min.js")
	if !regexp.MustCompile(`^/static/vendor/htmx\.org-2\.0\.11/htmx\.min\.[0-9a-f]{8}\.js$`).MatchString(url) {
		t.Fatalf("Path = %q", url)
	}
	if res := get(t, Handler(), url); res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", url, res.StatusCode)
	}
}

func TestPlainNameIsServedWithoutLongCaching(t *testing.T) {
	res := get(t, Handler(), "/static/css/app.css")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if got := res.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache", got)
	}
	// A hash from an earlier deploy still finds the file, but is not cached.
	res = get(t, Handler(), "/static/css/app.00000000.css")
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("stale hash: status %d, Cache-Control %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
}

func TestHandlerWithPrefixStripped(t *testing.T) {
	h := http.StripPrefix("/static", Handler())
	if res := get(t, h, Path("js/app.js")); res.StatusCode != http.StatusOK {
		t.Errorf("status %d", res.StatusCode)
	}
}

func TestGzip(t *testing.T) {
	url := Path("js/app.js")
	res := get(t, Handler(), url, "Accept-Encoding", "br, gzip;q=0.8")
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", res.Header.Get("Content-Encoding"))
	}
	if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary = %q", res.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain, embedded(t, "js/app.js")) {
		t.Error("gunzipped body differs from the embedded file")
	}

	for _, ae := range []string{"", "identity", "gzip;q=0", "br"} {
		res := get(t, Handler(), url, "Accept-Encoding", ae)
		if res.Header.Get("Content-Encoding") != "" {
			t.Errorf("Accept-Encoding %q: got Content-Encoding %q", ae, res.Header.Get("Content-Encoding"))
		}
		if !bytes.Equal(body(t, res), embedded(t, "js/app.js")) {
			t.Errorf("Accept-Encoding %q: body differs", ae)
		}
	}
	// PNG is already compressed: never gzipped, no Vary.
	res = get(t, Handler(), Path("icons/icon-512.png"), "Accept-Encoding", "gzip")
	if res.Header.Get("Content-Encoding") != "" || res.Header.Get("Vary") != "" {
		t.Errorf("png: Content-Encoding %q, Vary %q", res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
	}
}

func TestETag(t *testing.T) {
	url := Path("css/app.css")
	res := get(t, Handler(), url)
	etag := res.Header.Get("ETag")
	hash := strings.Split(path.Base(url), ".")[1]
	if etag != `"`+hash+`"` {
		t.Fatalf("ETag = %q, want the hash %q", etag, hash)
	}
	for _, inm := range []string{etag, "W/" + etag, `"nope", ` + etag, "*"} {
		res := get(t, Handler(), url, "If-None-Match", inm)
		if res.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match %s: status %d, want 304", inm, res.StatusCode)
		}
		if len(body(t, res)) != 0 {
			t.Errorf("If-None-Match %s: 304 with a body", inm)
		}
	}
	if res := get(t, Handler(), url, "If-None-Match", `"00000000"`); res.StatusCode != http.StatusOK {
		t.Errorf("other ETag: status %d, want 200", res.StatusCode)
	}
}

func TestNotFound(t *testing.T) {
	for _, url := range []string{
		"/static/nope.css",
		"/static/css/nope.3f2a9c1b.css",
		Path("css/missing.css"),
		"/static/",
		"/static/css",
		"/static/css/",
		"/static/vendor/",
		"/static/icons",
		"/static/../embed.go",
		"/static/embed.go",
		"/static/sw.js",
		"/static/manifest.webmanifest",
	} {
		if res := get(t, Handler(), url); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", url, res.StatusCode)
		}
	}
	if got := Path("css/missing.css"); got != "/static/css/missing.css" {
		t.Errorf("Path of an unknown name = %q", got)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, Path("css/app.css"), nil)
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", rec.Code)
	}
	req = httptest.NewRequest(http.MethodHead, Path("css/app.css"), nil)
	rec = httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: status %d, body %d bytes, Content-Length %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
}

var precacheLine = regexp.MustCompile(`^const PRECACHE = (\[.*\]);\nconst VERSION = "([0-9a-f]+)";\n`)

func TestServiceWorker(t *testing.T) {
	res := get(t, ServiceWorker(), "/sw.js")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	for k, want := range map[string]string{
		"Cache-Control":          "no-cache",
		"Service-Worker-Allowed": "/",
		"Content-Type":           "text/javascript; charset=utf-8",
	} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	b := body(t, res)
	m := precacheLine.FindSubmatch(b)
	if m == nil {
		t.Fatalf("sw.js does not start with PRECACHE and VERSION:\n%.300s", b)
	}
	if !bytes.HasSuffix(b, embedded(t, "sw.js")) {
		t.Error("sw.js body is not appended after the constants")
	}
	var urls []string
	if err := json.Unmarshal(m[1], &urls); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		Path("css/app.css"):                              true,
		Path("js/app.js"):                                true,
		Path("js/theme.js"):                              true,
		Path("vendor/htmx.org-2.0.11/htmx.min.js"):       true,
		Path("vendor/htmx-ext-sse-2.2.4/sse.js"):         true,
		Path("vendor/sortablejs-1.15.7/Sortable.min.js"): true,
		Path("icons/icon-192.png"):                       true,
		Path("icons/icon.svg"):                           true,
		"/offline":                                       true,
		"/manifest.webmanifest":                          true,
	}
	for _, u := range urls {
		delete(want, u)
		if u == "/offline" || u == "/manifest.webmanifest" { // served by the app, not Handler
			continue
		}
		if !regexp.MustCompile(`\.[0-9a-f]{8}\.[a-z]+$`).MatchString(u) {
			t.Errorf("precache URL %q is not hashed", u)
		}
		if res := get(t, Handler(), u); res.StatusCode != http.StatusOK {
			t.Errorf("precache URL %s: status %d", u, res.StatusCode)
		}
	}
	for u := range want {
		t.Errorf("precache list misses %s", u)
	}

	// The ETag allows a cheap revalidation on every page load.
	etag := res.Header.Get("ETag")
	if res := get(t, ServiceWorker(), "/sw.js", "If-None-Match", etag); res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", res.StatusCode)
	}
}

func TestManifest(t *testing.T) {
	res := get(t, Manifest(), "/manifest.webmanifest")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if got := res.Header.Get("Content-Type"); got != "application/manifest+json" {
		t.Errorf("Content-Type = %q", got)
	}
	var m struct {
		Name      string `json:"name"`
		ShortName string `json:"short_name"`
		StartURL  string `json:"start_url"`
		Scope     string `json:"scope"`
		Display   string `json:"display"`
		Icons     []struct {
			Src     string `json:"src"`
			Sizes   string `json:"sizes"`
			Type    string `json:"type"`
			Purpose string `json:"purpose"`
		} `json:"icons"`
	}
	if err := json.Unmarshal(body(t, res), &m); err != nil {
		t.Fatal(err)
	}
	if m.Name != "Master IA" || m.ShortName != "Master IA" || m.StartURL != "/" || m.Scope != "/" || m.Display != "standalone" {
		t.Errorf("manifest = %+v", m)
	}
	sizes := map[string]bool{}
	maskable := false
	for _, icon := range m.Icons {
		sizes[icon.Sizes] = true
		maskable = maskable || icon.Purpose == "maskable"
		res := get(t, Handler(), icon.Src)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != icon.Type {
			t.Errorf("icon %s: status %d, Content-Type %q, want %q", icon.Src, res.StatusCode, res.Header.Get("Content-Type"), icon.Type)
		}
		if res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("icon %s is not a hashed URL", icon.Src)
		}
	}
	if !sizes["192x192"] || !sizes["512x512"] || !sizes["any"] || !maskable {
		t.Errorf("icons: sizes %v, maskable %v", sizes, maskable)
	}
	if Path("manifest.webmanifest") != "/manifest.webmanifest" || Path("sw.js") != "/sw.js" {
		t.Errorf("root files: %q, %q", Path("manifest.webmanifest"), Path("sw.js"))
	}
}

func TestVendoredFilesHaveLicence(t *testing.T) {
	names := Names()
	has := map[string]bool{}
	for _, n := range names {
		has[n] = true
	}
	vendored := 0
	for _, n := range names {
		if !strings.HasPrefix(n, "vendor/") || path.Dir(n) == "vendor" {
			continue
		}
		vendored++
		if !has[path.Dir(n)+"/LICENSE"] {
			t.Errorf("%s has no LICENSE beside it", n)
		}
	}
	if vendored == 0 {
		t.Fatal("no vendored files found")
	}
	for _, n := range []string{
		"vendor/htmx.org-2.0.11/htmx.min.js",
		"vendor/htmx-ext-sse-2.2.4/sse.js",
		"vendor/sortablejs-1.15.7/Sortable.min.js",
	} {
		if !has[n] {
			t.Errorf("%s is not embedded", n)
		}
	}
	readme := string(embedded(t, "vendor/README.md"))
	for _, v := range []string{"2.0.11", "2.2.4", "1.15.7"} {
		if !strings.Contains(readme, v) {
			t.Errorf("vendor/README.md does not mention version %s", v)
		}
	}
}

func TestNamesAreAllServed(t *testing.T) {
	for _, n := range Names() {
		h := Handler()
		switch n {
		case "sw.js":
			h = ServiceWorker()
		case "manifest.webmanifest":
			h = Manifest()
		}
		if res := get(t, h, Path(n)); res.StatusCode != http.StatusOK {
			t.Errorf("%s at %s: status %d", n, Path(n), res.StatusCode)
		}
	}
}
