// Package e2e holds the browser tests of Master IA: each test starts a whole instance
// (webtest.Start) and drives it with headless Chromium through chromedp, the way a user
// does, with cookies, JavaScript, htmx, server-sent events and the service worker.
//
// The tests need Debian's chromium at /usr/bin/chromium (or a chromium on PATH). Without
// it they skip, unless the variable CI is set: there a missing browser is a failure. TestScreenshots runs only when
// MASTERIA_SCREENSHOTS names a folder, and writes its PNGs there.
package e2e
