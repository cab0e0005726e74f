package calls

import (
	"sync"

	"masteria/app/phone"
)

// maxE164 bounds the numbers e164Cache keeps; when full it starts again empty.
const maxE164 = 4096

// e164Cache keeps the callers' numbers read into E.164 (phone.Normalize reads a number
// through libphonenumber's metadata and regular expressions, the dearest part of an event
// in Go): a call's three events, and a caller's next calls, read the same number. A
// number that is not one is kept too, as "".
type e164Cache struct {
	mu sync.RWMutex
	m  map[string]string
}

// normalize is phone.Normalize(raw, "US"), "" for a number that is not one.
func (c *e164Cache) normalize(raw string) string {
	if raw == "" {
		return ""
	}
	c.mu.RLock()
	n, ok := c.m[raw]
	c.mu.RUnlock()
	if ok {
		return n
	}
	n, err := phone.Normalize(raw, "US")
	if err != nil {
		n = ""
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxE164 {
		c.m = make(map[string]string, 64)
	}
	c.m[raw] = n
	c.mu.Unlock()
	return n
}
