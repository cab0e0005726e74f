package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// claimBatch is how many due deliveries of an endpoint one round claims (sent
// Concurrency at once, recorded together).
const claimBatch = 256

// MaxLoggedBody is how much of a receiver's answer the log keeps.
const MaxLoggedBody = 2 << 10

// UserAgent is sent with every delivery.
const UserAgent = "MasterIA-Webhooks/1.0"

var cgnat, thisNet = netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("0.0.0.0/8")

// publicAddr tells whether an address is on the public internet.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && !a.IsLoopback() && !a.IsPrivate() && !a.IsLinkLocalUnicast() && !a.IsLinkLocalMulticast() &&
		!a.IsUnspecified() && !a.IsMulticast() && !a.IsInterfaceLocalMulticast() && !cgnat.Contains(a) && !thisNet.Contains(a) &&
		a != netip.MustParseAddr("255.255.255.255")
}

// newClient is the delivery client: it never follows a redirect (a 3xx is a failure),
// uses no proxy, and, unless private addresses are allowed, refuses to connect to any
// address that is not public, checked on the address actually dialled (after DNS).
func newClient(o Options) *http.Client {
	dialer := &net.Dialer{Timeout: min(o.Timeout, 10*time.Second), KeepAlive: 30 * time.Second}
	if !o.AllowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !publicAddr(ap.Addr()) {
				return ErrPrivateAddress
			}
			return nil
		}
	}
	return &http.Client{
		Timeout: o.Timeout,
		Transport: &http.Transport{DialContext: dialer.DialContext, Proxy: nil, ForceAttemptHTTP2: true,
			MaxIdleConns: 512, MaxIdleConnsPerHost: o.Concurrency, IdleConnTimeout: 90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: o.Timeout},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Body is a delivery's JSON body: {"type":…,"timestamp":…,"data":{…}}.
func Body(d model.WebhookDelivery) []byte {
	var b bytes.Buffer
	b.Grow(len(d.Payload) + 96)
	b.WriteString(`{"type":`)
	t, _ := json.Marshal(d.EventType)
	b.Write(t)
	b.WriteString(`,"timestamp":"`)
	b.WriteString(d.EventAt.UTC().Format(time.RFC3339Nano))
	b.WriteString(`","data":`)
	if len(d.Payload) == 0 {
		b.WriteString("{}")
	} else {
		b.Write(d.Payload)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// result is one attempt and what the response asks of the next.
type result struct {
	store.WebhookResult
	gone       bool          // 410: disable the endpoint
	retryAfter time.Duration // 429/502/504 with Retry-After
}

// attempt POSTs one delivery, signed with every key.
func (s *Service) attempt(ctx context.Context, rawURL string, keys [][]byte, d model.WebhookDelivery) result {
	body := Body(d)
	start := time.Now()
	r := result{WebhookResult: store.WebhookResult{DeliveryID: d.ID, At: start}}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		r.Error = "bad request: " + err.Error()
		return r
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("webhook-id", d.MsgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(start.Unix(), 10))
	req.Header.Set("webhook-signature", Sign(d.MsgID, start, body, keys...))
	resp, err := s.client.Do(req)
	r.Duration = time.Since(start)
	if err != nil {
		r.Error = describe(err)
		return r
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, MaxLoggedBody))
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10) // let the connection be reused
	r.Duration = time.Since(start)
	r.Status = resp.StatusCode
	r.Body = clean(head)
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		r.OK = true
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		r.Error = "redirect not followed: " + clean([]byte(resp.Header.Get("Location")))
	case resp.StatusCode == http.StatusGone:
		r.gone = true
		r.Error = "the receiver answered 410 Gone: endpoint disabled"
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusGatewayTimeout:
		r.retryAfter = retryAfter(resp.Header.Get("Retry-After"), start)
	}
	return r
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), at most a day.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), 24*time.Hour)
}

// describe says why an attempt got no answer, in a few words.
func describe(err error) string {
	switch {
	case errors.Is(err, ErrPrivateAddress):
		return "refused: the address is private, loopback, link-local or not public"
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout"):
		return "timed out"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "DNS: " + dnsErr.Err
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return clean([]byte(msg))
}

// clean makes bytes fit a text column: valid UTF-8, no NUL.
func clean(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if strings.ContainsRune(s, 0) {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

// backoff is the delay before the attempt after the n-th (1-based) one, with ±10 % jitter;
// false when the schedule is over.
func (s *Service) backoff(n int) (time.Duration, bool) {
	if n >= len(s.opts.Schedule) {
		return 0, false
	}
	d := s.opts.Schedule[n]
	if d > 0 {
		d += time.Duration((rand.Float64()*0.2 - 0.1) * float64(d))
	}
	return d, true
}

// lane lets one worker of this process send to an endpoint at a time (its requests are
// still sent Concurrency at once); false when another holds it.
func (s *Service) lane(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lanes[id] {
		return false
	}
	s.lanes[id] = true
	return true
}

func (s *Service) unlane(id int64) {
	s.mu.Lock()
	delete(s.lanes, id)
	s.mu.Unlock()
}

// Drain sends an endpoint's due deliveries until none is due, then schedules a job for the
// next one. Another worker of this process sending to the endpoint already makes it return.
func (s *Service) Drain(ctx context.Context, orgID, endpointID int64) error {
	for {
		if !s.lane(endpointID) {
			return nil
		}
		err := s.drain(ctx, orgID, endpointID)
		s.unlane(endpointID)
		if err != nil {
			return err
		}
		// What came due while the lane was held and no one else took it.
		next, err := s.st.NextWebhookDue(ctx, orgID, endpointID)
		if err != nil {
			return err
		}
		if next.IsZero() {
			return nil
		}
		if next.After(time.Now()) {
			return s.wakeAt(ctx, orgID, endpointID, next)
		}
		e, err := s.st.WebhookEndpoint(ctx, orgID, endpointID)
		if err != nil || !e.Enabled || (e.OpenUntil != nil && e.OpenUntil.After(time.Now())) {
			return ignoreNotFound(err)
		}
	}
}

func ignoreNotFound(err error) error {
	if errors.Is(err, model.ErrNotFound) {
		return nil
	}
	return err
}

func (s *Service) drain(ctx context.Context, orgID, endpointID int64) error {
	e, err := s.st.WebhookEndpoint(ctx, orgID, endpointID)
	if err != nil || !e.Enabled {
		return ignoreNotFound(err)
	}
	keys, err := s.keys(ctx, orgID, endpointID)
	if err != nil {
		return err
	}
	keysAt := time.Now()
	lease := 2*s.opts.Timeout + 30*time.Second
	// While a round is sent, the next is claimed: the database's part and the receiver's
	// overlap. A round that stops sending gives the prefetched one back.
	type claimed struct {
		ds  []model.WebhookDelivery
		err error
	}
	var next chan claimed
	giveBack := func(at time.Time) error {
		if next == nil {
			return nil
		}
		c := <-next
		next = nil
		if c.err != nil || len(c.ds) == 0 {
			return c.err
		}
		ids := make([]int64, len(c.ds))
		for i, d := range c.ds {
			ids[i] = d.ID
		}
		return s.st.ReleaseWebhookDeliveries(ctx, orgID, endpointID, ids, at)
	}
	for {
		now := time.Now()
		if e.OpenUntil != nil && e.OpenUntil.After(now) {
			if err := giveBack(*e.OpenUntil); err != nil {
				return err
			}
			return s.wakeAt(ctx, orgID, endpointID, *e.OpenUntil)
		}
		if now.Sub(keysAt) > time.Minute { // a rotation meanwhile
			if keys, err = s.keys(ctx, orgID, endpointID); err != nil {
				return err
			}
			keysAt = now
		}
		var ds []model.WebhookDelivery
		if next != nil {
			c := <-next
			next, ds, err = nil, c.ds, c.err
		} else {
			limit := claimBatch
			if e.OpenUntil != nil { // the cool-down is over: one delivery probes the receiver
				limit = 1
			}
			ds, err = s.st.ClaimWebhookDeliveries(ctx, orgID, endpointID, limit, lease)
		}
		if err != nil || len(ds) == 0 {
			return err
		}
		if len(ds) == claimBatch && e.OpenUntil == nil {
			next = make(chan claimed, 1)
			go func() {
				ds, err := s.st.ClaimWebhookDeliveries(ctx, orgID, endpointID, claimBatch, lease)
				next <- claimed{ds, err}
			}()
		}
		stop, err := s.send(ctx, &e, keys, ds)
		if err != nil || stop {
			at := time.Now()
			if e.OpenUntil != nil {
				at = *e.OpenUntil
			}
			return errors.Join(err, giveBack(at))
		}
	}
}

// send makes one attempt of each delivery, Concurrency at once, and records them. Once
// the failures in a row reach the breaker's threshold (or the attempts without an answer
// reach its own) it sends no more: the circuit opens, the rest wait for the cool-down. It reports whether sending to the endpoint must stop.
func (s *Service) send(ctx context.Context, e *model.WebhookEndpoint, keys [][]byte, ds []model.WebhookDelivery) (bool, error) {
	var (
		mu       sync.Mutex
		results  = make([]result, 0, len(ds))
		failures = e.Failures
		silent   int // attempts in a row without an answer
		since    = e.FailingSince
		open     bool
		gone     bool
		sent     = map[int64]bool{}
	)
	sem := make(chan struct{}, s.opts.Concurrency)
	var wg sync.WaitGroup
	for _, d := range ds {
		mu.Lock()
		halt := open || gone
		mu.Unlock()
		if halt {
			break
		}
		sem <- struct{}{}
		mu.Lock()
		halt = open || gone
		if !halt {
			sent[d.ID] = true
		}
		mu.Unlock()
		if halt {
			<-sem
			break
		}
		wg.Add(1)
		go func(d model.WebhookDelivery) {
			defer wg.Done()
			defer func() { <-sem }()
			r := s.attempt(ctx, e.URL, keys, d)
			s.settle(&r, d)
			mu.Lock()
			defer mu.Unlock()
			results = append(results, r)
			if r.OK {
				failures, silent, since = 0, 0, nil
				return
			}
			failures++
			if r.Status == 0 {
				silent++
			} else {
				silent = 0
			}
			if since == nil {
				at := r.At
				since = &at
			}
			if r.gone {
				gone = true
			}
			if failures >= s.opts.BreakerThreshold || silent >= s.opts.BreakerTimeouts {
				open = true
			}
		}(d)
	}
	wg.Wait()

	now := time.Now()
	var openUntil *time.Time
	if open && !gone {
		t := now.Add(s.opts.BreakerCooldown)
		openUntil = &t
	}
	failingTooLong := since != nil && failures > 0 && now.Sub(*since) >= s.opts.DisableAfter
	rs := make([]store.WebhookResult, len(results))
	for i, r := range results {
		rs[i] = r.WebhookResult
	}
	if err := s.st.RecordWebhookAttempts(ctx, e.OrgID, e.ID, rs); err != nil {
		return true, err
	}
	if failures != e.Failures || !sameTime(since, e.FailingSince) || !sameTime(openUntil, e.OpenUntil) {
		if err := s.st.SetWebhookEndpointHealth(ctx, e.OrgID, e.ID, failures, since, openUntil); err != nil {
			return true, err
		}
	}
	e.Failures, e.FailingSince, e.OpenUntil = failures, since, openUntil
	var unsent []int64
	for _, d := range ds {
		if !sent[d.ID] {
			unsent = append(unsent, d.ID)
		}
	}
	switch {
	case gone:
		return true, s.disable(ctx, *e, "gone")
	case failingTooLong:
		return true, s.disable(ctx, *e, "failing")
	case open:
		if err := s.st.ReleaseWebhookDeliveries(ctx, e.OrgID, e.ID, unsent, *openUntil); err != nil {
			return true, err
		}
		return true, s.wakeAt(ctx, e.OrgID, e.ID, *openUntil)
	}
	if err := s.st.ReleaseWebhookDeliveries(ctx, e.OrgID, e.ID, unsent, now); err != nil {
		return true, err
	}
	// Retries: one job at the soonest; each job schedules the next.
	var soonest time.Time
	for _, r := range results {
		if r.State == "pending" && (soonest.IsZero() || r.NextAt.Before(soonest)) {
			soonest = r.NextAt
		}
	}
	if !soonest.IsZero() {
		if err := s.wakeAt(ctx, e.OrgID, e.ID, soonest); err != nil {
			return true, err
		}
	}
	return false, nil
}

// settle decides where a delivery goes after an attempt.
func (s *Service) settle(r *result, d model.WebhookDelivery) {
	switch {
	case r.OK:
		r.State, r.NextAt = "delivered", r.At
		return
	case r.gone:
		r.State, r.NextAt = "failed", r.At
		return
	}
	delay, more := s.backoff(d.Attempts + 1)
	if !more {
		r.State, r.NextAt = "failed", r.At
		return
	}
	if r.retryAfter > delay {
		delay = r.retryAfter
	}
	r.State, r.NextAt = "pending", time.Now().Add(delay)
}

// disable turns an endpoint off (the receiver is gone, or has failed for days) and tells
// the org's admins with an event.
func (s *Service) disable(ctx context.Context, e model.WebhookEndpoint, reason string) error {
	changed, err := s.st.SetWebhookEndpointEnabled(ctx, e.OrgID, e.ID, false, reason)
	if err != nil || !changed {
		return err
	}
	slog.Info("hooks: endpoint disabled", "org", e.OrgID, "endpoint", e.ID, "reason", reason)
	return s.st.Tx(ctx, func(tx *store.Store) error {
		_, err := events.WebhookEndpointDisabled.Publish(ctx, tx, e.OrgID, events.WebhookEndpointRef{EndpointID: e.ID, URL: e.URL, Reason: reason})
		return err
	})
}

// wake makes a job send an endpoint's due deliveries now.
func (s *Service) wake(ctx context.Context, orgID, endpointID int64) {
	if err := s.wakeAt(ctx, orgID, endpointID, time.Now()); err != nil {
		slog.Warn("hooks: wake", "endpoint", endpointID, "err", err)
	}
}

// wakeAt schedules a delivery job of the endpoint at at, unless one is due sooner.
func (s *Service) wakeAt(ctx context.Context, orgID, endpointID int64, at time.Time) error {
	if s.jobs == nil {
		return nil
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		ok, err := tx.ClaimWebhookWake(ctx, orgID, endpointID, at)
		if err != nil || !ok {
			return err
		}
		_, err = s.jobs.InsertTx(ctx, tx.SQLTx(), DeliverArgs{OrgID: orgID, EndpointID: endpointID}, deliverOpts(at))
		if err != nil {
			return fmt.Errorf("hooks: schedule delivery: %w", err)
		}
		return nil
	})
}

func sameTime(a, b *time.Time) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && a.Equal(*b))
}
