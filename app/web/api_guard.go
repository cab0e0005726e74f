package web

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"masteria/app/model"
)

// apiAreas names the scope area of each top-level API path; a route whose area is missing
// here is refused to every scoped key (TestEveryAPIRouteHasAnArea keeps it complete).
var apiAreas = map[string]string{
	"contacts": "contacts", "tags": "contacts", "custom-fields": "contacts", "segments": "contacts",
	"pipelines": "board", "stages": "board", "leads": "board", "suggestions": "board", "ai-moves": "board",
	"conversations": "inbox", "messages": "inbox", "channels": "inbox",
	"campaigns": "campaigns",
	"cadences":  "cadences", "enrolments": "cadences",
	"calls": "voice", "voice-numbers": "voice",
	"personas": "ai", "knowledge-bases": "ai",
	"analytics":         "analytics",
	"webhook-endpoints": "webhooks",
}

// apiArea is the scope area of a route path such as /api/v1/contacts/:id; "" for /me,
// which every key may read.
func apiArea(path string) (area string, known bool) {
	rest := strings.TrimPrefix(path, "/api/v1/")
	first, _, _ := strings.Cut(rest, "/")
	if first == "me" {
		return "", true
	}
	area, known = apiAreas[first]
	return area, known
}

// apiScope refuses a request its key's scope does not allow: reads are GET and HEAD,
// everything else changes something.
func apiScope(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		k := c.Get(ctxAPIKey).(model.APIKey)
		area, known := apiArea(c.Path())
		write := c.Request().Method != http.MethodGet && c.Request().Method != http.MethodHead
		if k.Scope == "" || known && (area == "" || k.Allows(area, write)) {
			return next(c)
		}
		access := "read"
		if write {
			access = "write"
		}
		return c.JSON(http.StatusForbidden, apiError{Error: apiErrorBody{Code: "insufficient_scope",
			Message: "this API key may not " + access + " " + cmp.Or(area, "this resource") + " (its scope: " + k.Scope + ")"}})
	}
}

// apiJSONBody refuses a body sent as something other than JSON (or, to the document
// upload, a multipart form): 415 unsupported_media_type, before anything reads it. A body
// without a Content-Type is read as JSON.
func apiJSONBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		ct := r.Header.Get(echo.HeaderContentType)
		if ct == "" || r.Method == http.MethodGet || r.Method == http.MethodHead {
			return next(c)
		}
		mt, _, _ := strings.Cut(ct, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
		if mt == echo.MIMEApplicationJSON || mt == echo.MIMEMultipartForm && isAPIKBUpload(r.URL.Path) {
			return next(c)
		}
		return c.JSON(http.StatusUnsupportedMediaType, apiError{Error: apiErrorBody{Code: "unsupported_media_type",
			Message: "send the body as Content-Type: application/json"}})
	}
}

// apiLimiter holds each API key to a number of requests a minute, as a token bucket that
// refills evenly (a burst of the whole minute's share, then a steady pace). It is per
// instance: behind a load balancer of n instances a key gets up to n times the limit.
type apiLimiter struct {
	perMinute int
	mu        sync.Mutex
	keys      map[int64]*rate.Limiter
}

func newAPILimiter(perMinute int) *apiLimiter {
	return &apiLimiter{perMinute: perMinute, keys: map[int64]*rate.Limiter{}}
}

// take spends one request of the key's share: whether it may go, what is left, and the
// seconds until the share is whole again (or, refused, until the next request may go).
func (l *apiLimiter) take(keyID int64, now time.Time) (ok bool, remaining, reset int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, found := l.keys[keyID]
	if !found {
		if len(l.keys) > 100_000 { // forget full buckets rather than grow without end
			for id, b := range l.keys {
				if b.TokensAt(now) >= float64(l.perMinute) {
					delete(l.keys, id)
				}
			}
		}
		lim = rate.NewLimiter(rate.Limit(float64(l.perMinute)/60), l.perMinute)
		l.keys[keyID] = lim
	}
	ok = lim.AllowN(now, 1)
	tokens := lim.TokensAt(now)
	perSecond := float64(l.perMinute) / 60
	if !ok {
		return false, 0, int(math.Ceil((1 - tokens) / perSecond))
	}
	return true, int(math.Floor(tokens)), int(math.Ceil((float64(l.perMinute) - tokens) / perSecond))
}

// limit answers 429 with Retry-After once a key has spent its share, and tells every
// answer where the key stands (RateLimit-Limit, -Remaining, -Reset).
func (l *apiLimiter) limit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		k := c.Get(ctxAPIKey).(model.APIKey)
		ok, remaining, reset := l.take(k.ID, time.Now())
		h := c.Response().Header()
		h.Set("RateLimit-Limit", strconv.Itoa(l.perMinute))
		h.Set("RateLimit-Remaining", strconv.Itoa(remaining))
		h.Set("RateLimit-Reset", strconv.Itoa(reset))
		if !ok {
			h.Set("Retry-After", strconv.Itoa(max(1, reset)))
			return c.JSON(http.StatusTooManyRequests, apiError{Error: apiErrorBody{Code: "rate_limited",
				Message: "this API key sent more than " + strconv.Itoa(l.perMinute) + " requests a minute; retry after " + strconv.Itoa(max(1, reset)) + " s"}})
		}
		return next(c)
	}
}

// maxIdempotencyKey is the longest Idempotency-Key taken.
const maxIdempotencyKey = 255

// idempotencyWait is how long a repeat waits for the first request with its key to finish
// before it answers 409.
var idempotencyWait = 30 * time.Second

// apiIdempotency honours an Idempotency-Key on a POST: the first request with a key runs
// and its answer is kept a day; a repeat (the same key, the same request) answers it
// again, with Idempotent-Replayed: true, and does nothing; a repeat that arrives while the
// first runs waits for it. The same key with another request is a 422; a first request
// that failed on our side (5xx) frees its key for a retry. Keys are the org's, whichever
// of its API keys sends them.
func (s *Server) apiIdempotency(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		key := r.Header.Get("Idempotency-Key")
		if r.Method != http.MethodPost || key == "" {
			return next(c)
		}
		if len(key) > maxIdempotencyKey || strings.IndexFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
			return c.JSON(http.StatusBadRequest, apiError{Error: apiErrorBody{Code: "bad_idempotency_key",
				Message: "Idempotency-Key must be 1 to 255 visible ASCII characters"}})
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.New()
		sum.Write([]byte(r.Method + " " + r.URL.RequestURI() + "\n"))
		sum.Write(body)
		hash := sum.Sum(nil)

		ctx := r.Context()
		org := c.Get(ctxAPIOrg).(model.Org)
		k := c.Get(ctxAPIKey).(model.APIKey)
		deadline := time.Now().Add(idempotencyWait)
		for {
			claimed, err := s.st.ClaimIdempotencyKey(ctx, org.ID, key, k.ID, hash)
			if err != nil {
				return err
			}
			if claimed {
				return s.firstWithKey(c, next, org.ID, key)
			}
			prev, err := s.st.IdempotencyKey(ctx, org.ID, key)
			if errors.Is(err, model.ErrNotFound) {
				continue // the first failed and freed it, or it just expired: claim again
			}
			if err != nil {
				return err
			}
			if !bytes.Equal(prev.RequestHash, hash) {
				return c.JSON(http.StatusUnprocessableEntity, apiError{Error: apiErrorBody{Code: "idempotency_key_reused",
					Message: "this Idempotency-Key was sent with another request in the last 24 hours; use a new key for a new request"}})
			}
			if prev.Status != nil {
				h := c.Response().Header()
				h.Set("Idempotent-Replayed", "true")
				if prev.ContentType != "" {
					h.Set(echo.HeaderContentType, prev.ContentType)
				}
				return c.Blob(*prev.Status, prev.ContentType, prev.Body)
			}
			if time.Now().After(deadline) {
				c.Response().Header().Set("Retry-After", "5")
				return c.JSON(http.StatusConflict, apiError{Error: apiErrorBody{Code: "idempotency_key_in_use",
					Message: "a request with this Idempotency-Key is still running; retry later"}})
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// firstWithKey runs the first request with an Idempotency-Key and keeps its answer; an
// error is written here (not by the server's error handler, later) so that it is kept too.
func (s *Server) firstWithKey(c echo.Context, next echo.HandlerFunc, orgID int64, key string) error {
	rec := &recorder{ResponseWriter: c.Response().Writer}
	c.Response().Writer = rec
	if err := next(c); err != nil {
		c.Error(err)
	}
	ctx := c.Request().Context()
	status := c.Response().Status
	if status >= 500 {
		return s.st.DropIdempotencyKey(context.WithoutCancel(ctx), orgID, key)
	}
	return s.st.FinishIdempotencyKey(context.WithoutCancel(ctx), orgID, key, status,
		c.Response().Header().Get(echo.HeaderContentType), rec.body.Bytes())
}

// recorder keeps a copy of what a handler writes.
type recorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
