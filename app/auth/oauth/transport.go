package oauth

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// facebookHosts are the hosts goth's facebook provider talks to.
var facebookHosts = map[string]bool{"www.facebook.com": true, "graph.facebook.com": true}

// rewriteTransport sends requests for Facebook's hosts to another base URL (oauthsim in dev and
// tests), since goth's facebook provider has its endpoints built in.
type rewriteTransport struct {
	base *url.URL
	next http.RoundTripper
}

func (t rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != "https" || !facebookHosts[r.URL.Host] {
		return t.next.RoundTrip(r)
	}
	// A RoundTripper must not modify the request it is given.
	r2 := r.Clone(r.Context())
	r2.URL = rewriteURL(t.base, r.URL)
	r2.Host = ""
	return t.next.RoundTrip(r2)
}

// rewriteURL moves u onto base, keeping u's path (after base's own path), query and fragment.
func rewriteURL(base, u *url.URL) *url.URL {
	out := *u
	out.Scheme = base.Scheme
	out.Host = base.Host
	out.Path = strings.TrimRight(base.Path, "/") + u.Path
	out.RawPath = ""
	return &out
}

// contextTransport makes a request also end when ctx does. goth builds its requests without
// a context, so this is how the caller's context reaches them. The request's own context is
// kept too, so an http.Client timeout still applies.
type contextTransport struct {
	ctx  context.Context
	next http.RoundTripper
}

func (t contextTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(r.Context())
	stop := context.AfterFunc(t.ctx, func() { cancel(context.Cause(t.ctx)) })
	release := func() {
		stop()
		cancel(nil)
	}
	resp, err := t.next.RoundTrip(r.WithContext(ctx))
	if err != nil {
		release()
		return nil, err
	}
	// The body is read after RoundTrip returns, so the merged context lives until it is closed.
	resp.Body = &releaseBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

type releaseBody struct {
	io.ReadCloser
	release func()
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}
