package openaisim

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// failures are the failure modes a test turned on. They apply to every authenticated
// request, whatever the endpoint, in this order: quota, rate limit, SetFailNext.
type failures struct {
	quota      bool
	rateN      int
	retryAfter time.Duration
	failStatus int
	failN      int
	delay      time.Duration
}

// SetRateLimited makes the next n requests answer 429 with code rate_limit_exceeded, a
// Retry-After header in whole seconds (at least 1), retry-after-ms, and x-ratelimit-* headers
// saying no request is left until retryAfter has passed.
func (s *Server) SetRateLimited(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures.rateN, s.failures.retryAfter = n, retryAfter
}

// SetQuotaExceeded makes every request answer 429 with type and code insufficient_quota, as
// OpenAI does when the account's credit is spent (no Retry-After: waiting does not help),
// until SetQuotaExceeded(false).
func (s *Server) SetQuotaExceeded(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures.quota = on
}

// SetFailNext makes the next times requests answer status (such as 500 or 503) with
// OpenAI's error object for it.
func (s *Server) SetFailNext(status int, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures.failStatus, s.failures.failN = status, times
}

// SetDelay makes every answer wait d before it starts, so that clients with a shorter timeout
// give up; 0 turns it off. A client that goes away ends the wait.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures.delay = d
}

// wait applies SetDelay; false when the client went away or the sim closed first.
func (s *Server) wait(ctx context.Context) bool {
	s.mu.Lock()
	d := s.failures.delay
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
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

// takeFailure returns the error this request gets from the failure modes, if any, and sets
// the headers that go with it.
func (s *Server) takeFailure(w http.ResponseWriter, model string) (apiError, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &s.failures
	if model == "" {
		model = "gpt-4o-mini"
	}
	switch {
	case f.quota:
		return apiError{status: http.StatusTooManyRequests, Type: "insufficient_quota", Code: "insufficient_quota",
			Message: "You exceeded your current quota, please check your plan and billing details. For more " +
				"information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."}, true
	case f.rateN > 0:
		f.rateN--
		wait := max(f.retryAfter, 0)
		h := w.Header()
		h.Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
		h.Set("retry-after-ms", strconv.FormatInt(wait.Milliseconds(), 10))
		h.Set("x-ratelimit-limit-requests", "3")
		h.Set("x-ratelimit-remaining-requests", "0")
		h.Set("x-ratelimit-reset-requests", resetString(wait))
		h.Set("x-ratelimit-limit-tokens", "40000")
		h.Set("x-ratelimit-remaining-tokens", "40000")
		h.Set("x-ratelimit-reset-tokens", "0s")
		return apiError{status: http.StatusTooManyRequests, Type: "requests", Code: "rate_limit_exceeded",
			Message: fmt.Sprintf("Rate limit reached for %s in organization org-sim on requests per min (RPM): "+
				"Limit 3, Used 3, Requested 1. Please try again in %s. Visit "+
				"https://platform.openai.com/account/rate-limits to learn more.", model, resetString(wait))}, true
	case f.failN > 0:
		f.failN--
		return serverError(f.failStatus), true
	}
	return apiError{}, false
}

// resetString writes a wait the way the x-ratelimit-reset-* headers do: "6ms", "1.146s".
func resetString(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

// serverError is OpenAI's error object for an HTTP status a test asked SetFailNext for.
func serverError(status int) apiError {
	switch status {
	case http.StatusServiceUnavailable:
		return apiError{status: status, Type: "server_error",
			Message: "The engine is currently overloaded, please try again later."}
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return apiError{status: status, Type: "server_error", Message: "Bad gateway."}
	case http.StatusBadRequest:
		return invalidRequest("", "Invalid request.")
	case http.StatusUnauthorized:
		return apiError{status: status, Type: "invalid_request_error", Code: "invalid_api_key",
			Message: "Incorrect API key provided."}
	case http.StatusForbidden:
		return apiError{status: status, Type: "invalid_request_error", Code: "unsupported_country_region_territory",
			Message: "Country, region, or territory not supported."}
	case http.StatusTooManyRequests:
		return apiError{status: status, Type: "requests", Code: "rate_limit_exceeded", Message: "Rate limit reached."}
	}
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	return apiError{status: status, Type: "server_error",
		Message: "The server had an error while processing your request. Sorry about that!"}
}
