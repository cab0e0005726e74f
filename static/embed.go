// Package static holds the browser assets of Master IA (CSS, small scripts,
// vendored libraries, icons, the web app manifest and the service worker) and
// serves them from memory under content-hashed URLs.
//
// Templates link files with Path, which gives a URL that changes whenever the
// file changes, so the browser may cache it forever:
//
//	<link rel="stylesheet" href={ static.Path("css/app.css") }>
//	// → /static/css/app.3f2a9c1b.css
//
// Routes to mount (keep them out of any response-compressing middleware: the
// handlers send their own gzip):
//
//	/static/...           Handler()
//	/sw.js                ServiceWorker()
//	/manifest.webmanifest Manifest()
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

//go:embed css js vendor icons manifest.webmanifest sw.js
var files embed.FS

const (
	prefix      = "/static/"
	hashLen     = 8
	offlineURL  = "/offline"
	cacheHashed = "public, max-age=31536000, immutable"
	cacheNone   = "no-cache"
)

// Files at the root of the package are served at the root of the site, not
// under /static/: the service worker needs scope "/" and the manifest sits
// beside it.
var rootURLs = map[string]string{
	"sw.js":                "/sw.js",
	"manifest.webmanifest": "/manifest.webmanifest",
}

// asset is one response body, ready to send.
type asset struct {
	name  string // path inside the package, e.g. "css/app.css"
	url   string // URL to link, e.g. "/static/css/app.3f2a9c1b.css"
	hash  string // short SHA-256 of body
	ctype string
	body  []byte
	gz    []byte // gzip of body, nil when not worth it
}

func (a *asset) etag() string { return `"` + a.hash + `"` }

type index struct {
	byName   map[string]*asset // "css/app.css"
	byHashed map[string]*asset // "css/app.3f2a9c1b.css"
	names    []string
	sw       *asset
	manifest *asset
}

var load = sync.OnceValue(build)

func build() *index {
	ix := &index{byName: map[string]*asset{}, byHashed: map[string]*asset{}}
	// Walking an embed.FS cannot fail: the files are in the binary.
	_ = fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		a := newAsset(name, body)
		if u, ok := rootURLs[name]; ok {
			a.url = u
		} else {
			a.url = prefix + hashedName(name, a.hash)
			ix.byHashed[hashedName(name, a.hash)] = a
		}
		ix.byName[name] = a
		ix.names = append(ix.names, name)
		return nil
	})
	slices.Sort(ix.names)

	version := ix.version()
	ix.sw = newAsset("sw.js", ix.serviceWorker(version))
	ix.manifest = newAsset("manifest.webmanifest", ix.rewriteManifest())
	return ix
}

func newAsset(name string, body []byte) *asset {
	sum := sha256.Sum256(body)
	a := &asset{
		name:  name,
		hash:  hex.EncodeToString(sum[:])[:hashLen],
		ctype: contentType(name),
		body:  body,
	}
	if compressible(name) {
		a.gz = gzipped(body)
	}
	return a
}

// hashedName puts the hash before the last extension:
// "vendor/x/htmx.min.js" → "vendor/x/htmx.min.3f2a9c1b.js".
func hashedName(name, hash string) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + hash + ext
}

// staleHash matches a name carrying a hash-like segment before its extension
// (or at the end, for a file without one).
var staleHash = regexp.MustCompile(`^(.+)\.[0-9a-f]{8}((?:\.[^./]+)?)$`)

// unhash undoes hashedName: "css/app.00000000.css" → "css/app.css", true.
func unhash(name string) (string, bool) {
	m := staleHash.FindStringSubmatch(name)
	if m == nil {
		return "", false
	}
	return m[1] + m[2], true
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".webmanifest":
		return "application/manifest+json"
	case ".json", ".map":
		return "application/json"
	case ".md":
		return "text/markdown; charset=utf-8"
	case "", ".txt":
		return "text/plain; charset=utf-8" // LICENSE files
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(name string) bool {
	switch path.Ext(name) {
	case ".css", ".js", ".mjs", ".svg", ".webmanifest", ".json", ".map":
		return true
	}
	return false
}

// gzipped returns body compressed, or nil when that saves nothing.
func gzipped(body []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	if _, err := zw.Write(body); err != nil {
		return nil
	}
	if err := zw.Close(); err != nil {
		return nil
	}
	if buf.Len() >= len(body) {
		return nil
	}
	return buf.Bytes()
}

// version is a hash of every embedded file.
func (ix *index) version() string {
	h := sha256.New()
	for _, name := range ix.names {
		h.Write([]byte(name + "\x00" + ix.byName[name].hash + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// precache lists the URLs the service worker stores on install: the app's
// stylesheets, scripts and icons, plus the offline page.
func (ix *index) precache() []string {
	var urls []string
	for _, name := range ix.names {
		a := ix.byName[name]
		if _, root := rootURLs[name]; root {
			continue
		}
		switch path.Ext(name) {
		case ".css", ".js", ".png", ".svg":
			urls = append(urls, a.url)
		}
	}
	// The offline page links the manifest: cached too, it loads with no network at all.
	return append(urls, offlineURL, "/manifest.webmanifest")
}

func (ix *index) serviceWorker(version string) []byte {
	list, _ := json.Marshal(ix.precache()) // a []string always marshals
	var b bytes.Buffer
	b.WriteString("const PRECACHE = " + string(list) + ";\n")
	b.WriteString("const VERSION = " + strconv.Quote(version) + ";\n")
	b.Write(ix.byName["sw.js"].body)
	return b.Bytes()
}

// rewriteManifest replaces each quoted "/static/<name>" with its hashed URL.
func (ix *index) rewriteManifest() []byte {
	body := ix.byName["manifest.webmanifest"].body
	for _, name := range ix.names {
		a := ix.byName[name]
		if a.url == prefix+name {
			continue
		}
		body = bytes.ReplaceAll(body, []byte(`"`+prefix+name+`"`), []byte(`"`+a.url+`"`))
	}
	return body
}

// Path returns the URL of a static file under a content-hashed name, e.g.
// Path("css/app.css") = "/static/css/app.3f2a9c1b.css". An unknown name gives
// "/static/" + name, so a typo shows up as a 404 in the browser and in tests.
// The service worker and the manifest live at the site root: Path("sw.js") =
// "/sw.js", Path("manifest.webmanifest") = "/manifest.webmanifest".
func Path(name string) string {
	name = strings.TrimPrefix(name, "/")
	if a, ok := load().byName[name]; ok {
		return a.url
	}
	return prefix + name
}

// Names returns every embedded file name, sorted, e.g. "css/app.css".
func Names() []string {
	return slices.Clone(load().names)
}

// Handler serves /static/... from memory. A hashed URL (from Path) is cached
// for a year as immutable; the plain name ("/static/css/app.css") and a hash
// that is no longer current are served with no-cache. It sends gzip when the
// client accepts it, answers If-None-Match with 304, never lists directories
// and gives 404 for anything unknown. It works mounted at "/static/" with or
// without the prefix stripped.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ix := load()
		name := strings.TrimPrefix(r.URL.Path, prefix)
		name = strings.TrimPrefix(name, "/")
		if a, ok := ix.byHashed[name]; ok {
			serve(w, r, a, cacheHashed)
			return
		}
		if _, root := rootURLs[name]; !root {
			if a, ok := ix.byName[name]; ok {
				serve(w, r, a, cacheNone)
				return
			}
			// An old hash, e.g. a page rendered by the previous deploy.
			if plain, ok := unhash(name); ok {
				if a, ok := ix.byName[plain]; ok && rootURLs[plain] == "" {
					serve(w, r, a, cacheNone)
					return
				}
			}
		}
		http.NotFound(w, r)
	})
}

// ServiceWorker serves /sw.js: sw.js with `const PRECACHE = [...]` (every
// hashed css, js and icon URL plus "/offline") and `const VERSION = "..."` (a
// hash of all assets) prepended, with Cache-Control: no-cache and
// Service-Worker-Allowed: /.
func ServiceWorker() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Service-Worker-Allowed", "/")
		serve(w, r, load().sw, cacheNone)
	})
}

// Manifest serves /manifest.webmanifest with the icon URLs rewritten to their
// hashed form, as application/manifest+json with Cache-Control: no-cache.
func Manifest() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, load().manifest, cacheNone)
	})
}

func serve(w http.ResponseWriter, r *http.Request, a *asset, cacheControl string) {
	h := w.Header()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", a.etag())
	h.Set("X-Content-Type-Options", "nosniff")
	if a.gz != nil {
		h.Add("Vary", "Accept-Encoding")
	}
	if etagMatches(r.Header.Get("If-None-Match"), a.etag()) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if a.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// etagMatches applies the weak comparison of If-None-Match.
func etagMatches(header, etag string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip
// (explicitly or through "*"), honouring q=0.
func acceptsGzip(header string) bool {
	gz, star := -1.0, -1.0
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		q := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = f
			}
		}
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip", "x-gzip":
			gz = q
		case "*":
			star = q
		}
	}
	if gz >= 0 {
		return gz > 0
	}
	return star > 0
}
