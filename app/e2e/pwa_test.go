package e2e

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"masteria/app/web/webtest"
)

// TestPWAInstallable checks what Chromium needs to offer "Install app": a valid manifest,
// an active service worker, and no installability errors; and that the worker keeps the
// offline page, which it shows when the server cannot be reached.
func TestPWAInstallable(t *testing.T) {
	t.Parallel()
	needChromium(t)
	ctx := testContext(t, testTimeout)
	inst := webtest.Start(t)

	// The manifest as served.
	res, err := http.Get(inst.URL + "/manifest.webmanifest")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /manifest.webmanifest: status %d", res.StatusCode)
	}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "application/manifest+json" {
		t.Errorf("manifest Content-Type = %q, want application/manifest+json", res.Header.Get("Content-Type"))
	}
	if !json.Valid(body) {
		t.Errorf("the manifest is not valid JSON: %s", body)
	}

	b := newBrowser(t, ctx, "pwa", inst.URL)
	b.open("/login", tid("login-form"))

	// The service worker registers (app.js does it on load) and becomes active.
	if !eval[bool](b, `navigator.serviceWorker.ready.then(r => !!r.active)`) {
		t.Fatal("navigator.serviceWorker.ready resolved without an active worker")
	}
	if got := eval[string](b, `navigator.serviceWorker.ready.then(r => new URL(r.active.scriptURL).pathname + " " + r.scope)`); got != "/sw.js "+inst.URL+"/" {
		t.Errorf("active worker = %q, want %q", got, "/sw.js "+inst.URL+"/")
	}
	// The worker takes the open page over (clients.claim), so it serves its fetches.
	b.waitJS("the service worker controls the page", `!!navigator.serviceWorker.controller`, waitTimeout)

	// The manifest as Chromium read it.
	man := call(t, b, page.GetAppManifest, page.GetAppManifestParams{})
	if !strings.HasSuffix(man.URL, "/manifest.webmanifest") {
		t.Errorf("manifest URL = %q, want …/manifest.webmanifest", man.URL)
	}
	for _, e := range man.Errors {
		t.Errorf("manifest error (line %d, critical %d): %s", e.Line, e.Critical, e.Message)
	}
	if man.Data == "" || !json.Valid([]byte(man.Data)) {
		t.Errorf("the browser's copy of the manifest is not valid JSON: %q", man.Data)
	}
	if m := man.Manifest; m == nil {
		t.Error("the browser parsed no manifest")
	} else {
		// Chromium names the display mode after its own enum: kStandalone.
		if display := strings.ToLower(strings.TrimPrefix(m.Display, "k")); m.Name != "Master IA" || display != "standalone" {
			t.Errorf("manifest name %q, display %q; want Master IA, standalone", m.Name, m.Display)
		}
		sizes := map[string]bool{}
		for _, ic := range m.Icons {
			sizes[ic.Sizes] = true
		}
		if !sizes["192x192"] || !sizes["512x512"] {
			t.Errorf("manifest icons lack 192x192 or 512x512: %v", sizes)
		}
	}

	// Chromium's own verdict.
	verdict := call(t, b, page.GetInstallabilityErrors, cdp.Empty{})
	for _, e := range verdict.InstallabilityErrors {
		var args []string
		for _, a := range e.ErrorArguments {
			args = append(args, a.Name+"="+a.Value)
		}
		t.Errorf("installability error %s %v", e.ErrorID, args)
	}

	// The worker precached the offline page.
	keys := eval[[]string](b, `caches.keys()`)
	found := false
	for _, k := range keys {
		found = found || strings.HasPrefix(k, "masteria-")
	}
	if !found {
		t.Errorf("cache names = %v, want one named masteria-…", keys)
	}
	if !eval[bool](b, `caches.match("/offline").then(r => !!r && r.ok)`) {
		t.Error(`caches.match("/offline") found no page`)
	}

	// Everything so far ran without a console error. What follows logs failed requests
	// on purpose.
	b.noConsoleErrors()

	// With the server gone, a navigation gets the cached offline page from the worker.
	inst.Server.CloseClientConnections()
	inst.Server.Close()
	b.do("navigate while the server is down", chromedp.Navigate(inst.URL+"/login"))
	b.do("see the offline page", chromedp.WaitVisible(tid("offline")))
	b.do("see its retry button", chromedp.WaitVisible(tid("offline-retry")))
}

// call sends a protocol command to the tab of b and fails the test on an error.
func call[P, R any](t *testing.T, b *browser, cmd cdp.Command[P, R], params P) R {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	r, err := chromedp.Call(ctx, cmd, params)
	if err != nil {
		t.Fatalf("%s: %v", cmd.Method, err)
	}
	return r
}
