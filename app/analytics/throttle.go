package analytics

import (
	"context"
	"sync"
	"time"
)

// Throttled calls send for an org at most once every interval: the first change at once,
// the ones that follow within the interval as one call at its end, so the last change is
// never left unsent. It is what Service.OnChange is set to, so an org whose rows change
// every second refreshes its open dashboards every few seconds rather than each second.
func Throttled(every time.Duration, send func(ctx context.Context, orgID int64)) func(ctx context.Context, orgID int64) {
	var mu sync.Mutex
	last := map[int64]time.Time{}
	pending := map[int64]bool{}
	return func(_ context.Context, orgID int64) {
		mu.Lock()
		defer mu.Unlock()
		if pending[orgID] {
			return // the call at the end of the interval will carry this change
		}
		wait := every - time.Since(last[orgID])
		if wait <= 0 {
			last[orgID] = time.Now()
			go send(context.Background(), orgID)
			return
		}
		pending[orgID] = true
		time.AfterFunc(wait, func() {
			mu.Lock()
			delete(pending, orgID)
			last[orgID] = time.Now()
			mu.Unlock()
			send(context.Background(), orgID)
		})
	}
}
