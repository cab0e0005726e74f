package metasim

import (
	"context"
	"net/http"
	"time"
)

// Meta's limits on business messages, and the failures tests inject, as the sim applies them.
//
// Sources: "Throughput" (developers.facebook.com/documentation/business-messaging/whatsapp/
// throughput: 80 mps per number by default, 1,000 when upgraded, error 130429 past it; a pair
// rate limit per business number and user, error 131056), "Messaging limits" (…/whatsapp/
// messaging-limits: unique users reached outside a customer service window in a moving
// 24 hours, per business portfolio since 2025-10-07, 250 → 2,000 → 10,000 → 100,000 →
// unlimited) and the error-codes page (…/whatsapp/support/error-codes).

// WithPairRate lets one business number send at most n messages to the same user within
// window (on the sim's clock); the next one is refused with 131056 "(Business Account,
// Consumer Account) pair rate limit hit", synchronously, with the throttling HTTP status
// (WithThrottleStatus). Meta gives no figure: about one message per 6 s per user, with short
// bursts tolerated, is what is observed. Refused sends do not count.
func WithPairRate(n int, window time.Duration) Option {
	return func(s *Server) { s.pairN, s.pairWindow = n, window }
}

// DefaultLimitErrorCode is the error a send past the portfolio's messaging limit gets.
//
// Meta's pages (messaging limits, error codes) describe the limit but name no error code for
// crossing it, and none of the mirrors consulted does either. The closest documented code is
// 131048 "Spam rate limit hit": "Message failed to send because there are restrictions on how
// many messages can be sent from this phone number", synchronous, with the advice to check
// the number's quality and limits. 131049 is not it: Meta documents that one as the per-user
// marketing frequency cap, which applies whatever the business's limit. Twilio, which relays
// WhatsApp, files an exceeded WhatsApp messaging limit under its own "rate limit exceeded for
// channel" (63018). So the sim refuses synchronously with 131048 by default, and
// WithMessagingLimitError lets a test choose another code or an asynchronous failure.
const DefaultLimitErrorCode = 131048

// WithMessagingLimitError sets the error of a send past the portfolio's messaging limit
// (SetMessagingLimit): code (default DefaultLimitErrorCode) and, with async, a 200 followed
// by a "failed" status webhook instead of a synchronous refusal.
func WithMessagingLimitError(code int, async bool) Option {
	return func(s *Server) { s.limitCode, s.limitAsync = code, async }
}

// pairRing holds the times of the last pairN sends from one number to one user.
type pairRing struct {
	times []time.Time
	next  int
}

type pairKey struct{ phoneNumberID, user string }

// takePair counts a send against the pair rate; false when it is over. Callers hold s.mu.
// It is O(1): only the oldest of the last n sends is compared with the window.
func (s *Server) takePair(phoneNumberID, user string, commit bool) bool {
	if s.pairN <= 0 || s.pairWindow <= 0 {
		return true
	}
	k := pairKey{phoneNumberID, user}
	r := s.pairs[k]
	now := s.now()
	if r != nil && len(r.times) == s.pairN && now.Sub(r.times[r.next]) < s.pairWindow {
		return false
	}
	if !commit {
		return true
	}
	if r == nil {
		r = &pairRing{times: make([]time.Time, 0, s.pairN)}
		s.pairs[k] = r
	}
	if len(r.times) < s.pairN {
		r.times = append(r.times, now)
	} else {
		r.times[r.next] = now
		r.next = (r.next + 1) % s.pairN
	}
	return true
}

// portfolio is a WABA's business-initiated reach in the moving 24 hours (the sim treats the
// WABA as the business portfolio).
type portfolio struct {
	limit   int                  // -1 unlimited
	reached map[string]time.Time // user → last time reached outside a service window
	order   []reach              // reaches, oldest first, from head on
	head    int
}

type reach struct {
	user string
	at   time.Time
}

// portfolioOf returns a WABA's portfolio, unlimited until SetMessagingLimit. Callers hold s.mu.
func (s *Server) portfolioOf(wabaID string) *portfolio {
	p := s.portfolios[wabaID]
	if p == nil {
		p = &portfolio{limit: -1, reached: map[string]time.Time{}}
		s.portfolios[wabaID] = p
	}
	return p
}

// expire drops the reaches older than 24 hours; amortised O(1) per send.
func (p *portfolio) expire(now time.Time) {
	for p.head < len(p.order) && now.Sub(p.order[p.head].at) >= 24*time.Hour {
		r := p.order[p.head]
		if p.reached[r.user].Equal(r.at) {
			delete(p.reached, r.user)
		}
		p.order[p.head] = reach{}
		p.head++
	}
	if p.head > 1024 && p.head*2 > len(p.order) {
		p.order = append([]reach(nil), p.order[p.head:]...)
		p.head = 0
	}
}

// allows reports whether a business-initiated message to user fits the limit: a user
// already reached in the last 24 hours costs nothing more. Callers hold s.mu.
func (p *portfolio) allows(user string, now time.Time) bool {
	p.expire(now)
	if p.limit < 0 {
		return true
	}
	if _, ok := p.reached[user]; ok {
		return true
	}
	return len(p.reached) < p.limit
}

func (p *portfolio) record(user string, now time.Time) {
	p.reached[user] = now
	p.order = append(p.order, reach{user, now})
}

// SetMessagingLimit sets a WABA's messaging limit: how many unique users business-initiated
// messages (templates to users whose 24-hour window is closed) may reach in a moving 24
// hours; -1 is unlimited, the default. Past it a send gets DefaultLimitErrorCode (see
// WithMessagingLimitError). GET /{phone_number_id} shows it as
// whatsapp_business_manager_messaging_limit.
func (s *Server) SetMessagingLimit(wabaID string, limit int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.portfolioOf(wabaID).limit = limit
}

// Reached is how many unique users a WABA's business-initiated messages reached in the last
// 24 hours (on the sim's clock).
func (s *Server) Reached(wabaID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.portfolioOf(wabaID)
	p.expire(s.now())
	return len(p.reached)
}

// SetQuality sets a number's quality_rating: GREEN, YELLOW, RED or UNKNOWN.
func (s *Server) SetQuality(phoneNumberID, rating string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.numbers[phoneNumberID]; n != nil {
		n.QualityRating = rating
	}
}

// SetThroughput sets a number's throughput level as the phone number node shows it:
// STANDARD (80 mps, the default) or HIGH (1,000 mps). It does not change WithRateLimit.
func (s *Server) SetThroughput(phoneNumberID, level string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.numbers[phoneNumberID]; n != nil {
		n.throughput = level
	}
}

// SetFailNextHTTP answers the next times sends (not mark-as-read) with a bare HTTP failure
// of that status, as Graph's front end does when it is overloaded: 429 gets Meta's 130429
// "Rate limit hit" body with HTTP 429; 503 gets Graph's code 2 "Service temporarily
// unavailable"; any other status (500, 502…) gets code 1 "An unknown error occurred". Codes 1
// and 2 are Graph's temporary errors (error-codes page: "API Unknown", "API Service"). The
// sends are not taken.
func (s *Server) SetFailNextHTTP(status, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failHTTPStatus, s.failHTTPTimes = status, times
}

// httpFailure is the answer of SetFailNextHTTP, if one is due. Callers hold s.mu.
func (s *Server) httpFailure() (graphError, bool) {
	if s.failHTTPTimes <= 0 {
		return graphError{}, false
	}
	s.failHTTPTimes--
	switch s.failHTTPStatus {
	case http.StatusTooManyRequests:
		g := s.cloudFailure(CloudError(130429, ""))
		g.status = http.StatusTooManyRequests
		return g, true
	case http.StatusServiceUnavailable:
		return graphError{status: s.failHTTPStatus, typ: "OAuthException", code: 2, transient: true,
			message: "Service temporarily unavailable"}, true
	}
	return graphError{status: s.failHTTPStatus, typ: "OAuthException", code: 1, transient: true,
		message: "An unknown error occurred"}, true
}

// SetHangNext makes the next send wait d before it answers, so that a client with a shorter
// timeout gives up. With accept false the message is taken only if the client is still
// there after d (a slow answer); with accept true it is taken at once and its status
// webhooks are scheduled before the wait: a send whose answer is lost although Meta took it,
// whose statuses then arrive carrying its biz_opaque_callback_data.
func (s *Server) SetHangNext(d time.Duration, accept bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang = &hang{d: d, accept: accept}
}

type hang struct {
	d      time.Duration
	accept bool
}

// takeHang returns the hang due for this send, if any.
func (s *Server) takeHang() *hang {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hang
	s.hang = nil
	return h
}

// wait pauses d of real time; false when the client went away or the sim closed first.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.ctx.Done():
		return false
	}
}

// SetFailDeliveryFor makes the next accepted send to waID (a phone or a user id) fail after
// "sent" through a "failed" status webhook with this code, once: for example 131049, the
// marketing message Meta withheld "to maintain healthy ecosystem engagement", which a later
// send may pass. SetUndeliverable is the lasting kind.
func (s *Server) SetFailDeliveryFor(waID string, code int, title string) {
	key := digits(waID)
	if userIDPattern.MatchString(waID) {
		key = waID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failFor[key] = CloudError(code, title)
}

// SentTo is how many sends to waID (a phone in any format, or a user id) the sim accepted.
func (s *Server) SentTo(waID string) int {
	key := digits(waID)
	if userIDPattern.MatchString(waID) {
		key = waID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sentTo[key]
}

// SentCount is how many sends the sim accepted.
func (s *Server) SentCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}
