package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium, which the Taskfile installs. Elsewhere the first
// chromium or chromium-browser on PATH stands in.
const chromiumPath = "/usr/bin/chromium"

// testTimeout bounds each browser test, browser start included. It is generous on purpose:
// the suite runs on small machines next to other tests.
const testTimeout = 60 * time.Second

// waitTimeout bounds one wait for the page to reach a state.
const waitTimeout = 20 * time.Second

// findChromium is the browser to run, or "" when there is none.
func findChromium() string {
	if _, err := os.Stat(chromiumPath); err == nil {
		return chromiumPath
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// needChromium returns the browser to run. Without one it skips the test, except in CI,
// where the browser is part of the setup and its absence is a failure.
func needChromium(t *testing.T) string {
	t.Helper()
	p := findChromium()
	if p == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("e2e: no browser at %s or on PATH; CI installs chromium (go tool task setup)", chromiumPath)
		}
		t.Skipf("e2e: no browser at %s or on PATH; install chromium (go tool task setup) to run the browser tests", chromiumPath)
	}
	return p
}

// testContext is the context of one test: it ends at testTimeout or with the test.
func testContext(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// syncBuffer collects the browser's own output for the failure log.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// browser is one Chromium with its own profile (so its own cookies and storage) and one tab.
type browser struct {
	t    *testing.T
	name string
	base string
	ctx  context.Context

	keys *regexp.Regexp // message keys, for the screenshots' check

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// newBrowser starts a headless Chromium for the app at base. It lives until ctx ends or
// the test ends. Every console message of its tab is recorded (see consoleErrors).
func newBrowser(t *testing.T, ctx context.Context, name, base string) *browser {
	t.Helper()
	exe := needChromium(t)
	dir := t.TempDir() // removed after the browser is gone: cleanups run last-in first-out
	out := &syncBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(out),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	b := &browser{t: t, name: name, base: base, ctx: tabCtx}
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit
		if t.Failed() {
			if s := strings.TrimSpace(out.String()); s != "" {
				t.Logf("browser %s output:\n%s", name, lastLines(s, 40))
			}
		}
	})
	// Start the browser and open the tab now, so a failure to start reads clearly, and
	// subscribe to the console before the first page loads.
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("browser %s: start %s: %v\n%s", name, exe, err, lastLines(out.String(), 40))
	}
	messages := chromedp.Console(tabCtx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	return b
}

// lastLines is the end of the browser's output, without the noise of a machine with no
// D-Bus.
func lastLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, "dbus") {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// consoleErrors are the console errors, uncaught exceptions and browser log errors (a
// CSP violation, a failed request) the tab has seen so far.
func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var errs []string
	for _, m := range b.console {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			where := m.URL
			if where != "" {
				where = fmt.Sprintf(" (%s:%d)", where, m.Line+1)
			}
			src := ""
			if m.Source != "" {
				src = "[" + m.Source + "] "
			}
			errs = append(errs, src+m.String()+where)
		}
	}
	return errs
}

// noConsoleErrors fails the test when the tab logged an error. With -v it also logs the
// other messages (warnings, logs), which tell a lot when a page misbehaves.
func (b *browser) noConsoleErrors() {
	b.t.Helper()
	b.flushConsole()
	if testing.Verbose() {
		b.mu.Lock()
		for _, m := range b.console {
			// Chromium says at each page that the app keeps the install prompt for its own
			// button: that is by design.
			if m.Type != chromedp.ConsoleError && !m.IsException() && m.Text != consoleMark &&
				!strings.HasPrefix(m.Text, "Banner not shown: beforeinstallpromptevent.preventDefault()") {
				b.t.Logf("browser %s console: [%s] %s (%s:%d)", b.name, m.Source, m, m.URL, m.Line+1)
			}
		}
		b.mu.Unlock()
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		b.t.Errorf("browser %s logged %d console error(s):\n  %s", b.name, len(errs), strings.Join(errs, "\n  "))
	}
}

// consoleMark is the message flushConsole writes.
const consoleMark = "e2e: console flushed"

// flushConsole writes a mark to the console and waits until the recorder has it: the
// messages come in order, so every message logged before is recorded too.
func (b *browser) flushConsole() {
	b.t.Helper()
	b.do("write a mark to the console", chromedp.Evaluate[chromedp.Void](`console.debug(`+jsString(consoleMark)+`)`))
	deadline := time.Now().Add(waitTimeout)
	for {
		b.mu.Lock()
		seen := false
		for _, m := range b.console {
			seen = seen || m.Text == consoleMark
		}
		b.mu.Unlock()
		if seen {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("browser %s: the console mark did not arrive within %s", b.name, waitTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tid selects the element with this data-testid.
func tid(id string) chromedp.CSS {
	return chromedp.CSS(`[data-testid="` + id + `"]`)
}

// in selects the element matching css inside the element with data-testid parent.
func in(parent, css string) chromedp.CSS {
	return chromedp.CSS(`[data-testid="` + parent + `"] ` + css)
}

// do runs actions with a deadline of waitTimeout, and fails the test on an error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser %s: %s: %v (at %s)", b.name, what, err, b.location())
	}
}

// clickLive clicks the first element matching css inside a live region, looking it up
// at the moment of the click: a region that reloads itself (an event, or its catch-up
// when the event stream opens) can replace the node chromedp looked up a moment before
// ("Could not find node with given id").
func (b *browser) clickLive(what string, css chromedp.CSS) {
	b.t.Helper()
	b.waitJS(what, fmt.Sprintf(`(() => { const el = document.querySelector(%s); if (!el) return false; el.click(); return true })()`,
		jsString(string(css))), waitTimeout)
}

// open loads a path of the app and waits until the element sel is visible.
func (b *browser) open(path string, sel chromedp.CSS) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitVisible(sel))
}

// location is the tab's URL, or a note on why it is unknown.
func (b *browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "unknown location: " + err.Error()
	}
	return loc
}

// eval evaluates a JavaScript expression, awaiting a promise, and decodes its value.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("browser %s: evaluate %s: %v (at %s)", b.name, expr, err, b.location())
	}
	return v
}

// waitJS waits until the expression is true. It evaluates it again and again until the
// deadline, so it rides over navigations (an evaluation in a page that goes away fails,
// and the next one runs in the new page). It never sleeps longer than a poll interval.
func (b *browser) waitJS(what, expr string, timeout time.Duration) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	var lastErr error
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			msg := fmt.Sprintf("browser %s: %s: not true after %s", b.name, what, timeout)
			if lastErr != nil {
				msg += fmt.Sprintf(" (last error: %v)", lastErr)
			}
			b.t.Fatalf("%s (at %s)\npage: %s\nthe page loaded again: %s", msg, b.location(), b.pageState(), b.freshVerdict(expr))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	j, _ := json.Marshal(s)
	return string(j)
}

// textIs is a JavaScript test that the first element matching css has exactly this
// text, without the spaces around it.
func textIs(css chromedp.CSS, want string) string {
	return fmt.Sprintf(`(() => { const el = document.querySelector(%s); return !!el && el.textContent.trim() === %s })()`,
		jsString(string(css)), jsString(want))
}

// text is the trimmed text of the first element matching css, or "" when there is none.
func (b *browser) text(css chromedp.CSS) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(() => { const el = document.querySelector(%s); return el ? el.textContent.trim() : "" })()`,
		jsString(string(css))))
}

// waitPath waits until the tab's path (without query) matches re, and returns the path.
func (b *browser) waitPath(what, re string) string {
	b.t.Helper()
	b.waitJS(what, fmt.Sprintf(`new RegExp(%s).test(location.pathname) && document.readyState !== "loading"`, jsString(re)), waitTimeout)
	return eval[string](b, `location.pathname`)
}

// sseOpen is a JavaScript test that the page's htmx SSE connection (on <body>) is open.
const sseOpen = `(() => {
	const d = document.body && document.body["htmx-internal-data"];
	return !!(d && d.sseEventSource && d.sseEventSource.readyState === EventSource.OPEN);
})()`

// pageState is what a failed wait saw: whether the event stream is open, htmx requests in
// flight and the end of the page's text, to tell a missed event from a slow one.
// freshVerdict evaluates expr on the page as the server gives it now (fetched, not shown):
// when it is true there, the page on screen missed an update; when false, the server
// never got there.
func (b *browser) freshVerdict(expr string) string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const res = await fetch(location.href, {credentials: "same-origin"});
		const doc = new DOMParser().parseFromString(await res.text(), "text/html");
		try { return String(((document) => (`+expr+`))(doc)); }
		catch (e) { return "unreadable: " + e; }
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return v
}

func (b *browser) pageState() string {
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const sse = document.querySelector("[sse-connect]");
		const src = sse && sse["htmx-internal-data"] && sse["htmx-internal-data"].sseEventSource;
		const busy = document.querySelectorAll(".htmx-request").length;
		const text = document.body.innerText.replace(/\s+/g, " ");
		return "sse=" + (src ? src.readyState : "none") + " in-flight=" + busy + " text=…" + text.slice(-700);
	})()`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return state
}
