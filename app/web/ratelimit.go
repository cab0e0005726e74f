package web

import (
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// ipLimiter allows each client IP a burst of requests that refills slowly. It guards login
// and sign-up against guessing from one address; the per-email limit lives in the database
// (account.Service) so it holds across instances.
type ipLimiter struct {
	mu      sync.Mutex
	every   time.Duration
	burst   int
	clients map[string]*ipEntry
}

type ipEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

func newIPLimiter(every time.Duration, burst int) *ipLimiter {
	return &ipLimiter{every: every, burst: burst, clients: map[string]*ipEntry{}}
}

func (l *ipLimiter) allow(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	e, ok := l.clients[ip]
	if !ok {
		if len(l.clients) > 100_000 { // forget idle clients rather than grow without end
			for k, v := range l.clients {
				if now.Sub(v.seen) > 10*time.Minute {
					delete(l.clients, k)
				}
			}
		}
		e = &ipEntry{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.clients[ip] = e
	}
	e.seen = now
	return e.lim.Allow()
}

// limitPOST applies the limiter to POSTs only: looking at the login page costs nothing.
func (l *ipLimiter) limitPOST(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method == http.MethodPost && !l.allow(c.RealIP()) {
			c.Response().Header().Set("Retry-After", "60")
			return echo.NewHTTPError(http.StatusTooManyRequests, "too many requests")
		}
		return next(c)
	}
}
