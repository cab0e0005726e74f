package kb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"masteria/app/model"
)

// FetchTimeout bounds the fetch of a web page.
const FetchTimeout = 10 * time.Second

// maxRedirects is how many redirects a fetch follows, each checked like the first address.
const maxRedirects = 3

func invalidURL() error {
	v := model.NewValidationError()
	v.Add("url", "kb.error.url")
	return v.Err()
}

// checkURL parses an http(s) URL and, unless private addresses are allowed, refuses one
// whose host resolves to any private, loopback, link-local or unspecified address.
func (s *Service) checkURL(ctx context.Context, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || len(raw) > 2000 {
		return nil, invalidURL()
	}
	if s.opts.AllowPrivateURLs {
		return u, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname())
	if err != nil || len(addrs) == 0 {
		v := model.NewValidationError()
		v.Add("url", "kb.error.url_host")
		return nil, v.Err()
	}
	for _, a := range addrs {
		if !publicAddr(a) {
			return nil, ErrPrivateURL
		}
	}
	return u, nil
}

// publicAddr tells whether an address is on the public internet.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && !a.IsLoopback() && !a.IsPrivate() && !a.IsLinkLocalUnicast() && !a.IsLinkLocalMulticast() &&
		!a.IsUnspecified() && !a.IsMulticast() && !a.IsInterfaceLocalMulticast() &&
		!netip.MustParsePrefix("100.64.0.0/10").Contains(a) && // carrier-grade NAT
		!netip.MustParsePrefix("0.0.0.0/8").Contains(a)
}

// fetchPage downloads a web page (at most 5 MB, 10 s, 3 redirects) and returns its text.
// Every connection is checked at dial time too, so a name that resolves to a public
// address for the check and a private one for the fetch is refused.
func (s *Service) fetchPage(ctx context.Context, raw string) (string, error) {
	u, err := s.checkURL(ctx, raw)
	if err != nil {
		return "", permanentError{err}
	}
	dialer := &net.Dialer{Timeout: FetchTimeout}
	if !s.opts.AllowPrivateURLs {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !publicAddr(ap.Addr()) {
				return ErrPrivateURL
			}
			return nil
		}
	}
	client := &http.Client{
		Timeout:   FetchTimeout,
		Transport: &http.Transport{DialContext: dialer.DialContext, Proxy: nil, TLSHandshakeTimeout: FetchTimeout, ResponseHeaderTimeout: FetchTimeout},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return permanentError{errors.New("too many redirects")}
			}
			_, err := s.checkURL(req.Context(), req.URL.String())
			return err
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", permanentError{err}
	}
	req.Header.Set("User-Agent", "MasterIA-KnowledgeBase/1.0")
	req.Header.Set("Accept", "text/html, text/plain, text/markdown;q=0.9, */*;q=0.1")
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, ErrPrivateURL) {
			return "", permanentError{ErrPrivateURL}
		}
		return "", fmt.Errorf("fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("fetch: the page answered %s", resp.Status)
		if resp.StatusCode >= 400 && resp.StatusCode < 500 {
			return "", permanentError{err}
		}
		return "", err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxFileBytes+1))
	if err != nil {
		return "", fmt.Errorf("fetch: %w", err)
	}
	if len(body) > MaxFileBytes {
		return "", permanentError{ErrTooLarge}
	}
	name := u.Path
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil {
		switch {
		case strings.Contains(mt, "html"):
			name = "page.html"
		case mt == "text/plain" || mt == "text/markdown":
			name = "page.txt"
		}
	}
	text, err := Extract(name, body)
	if err != nil {
		return "", permanentError{err}
	}
	return text, nil
}
