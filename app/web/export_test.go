package web

import "time"

// SetHeartbeat shortens the SSE heartbeat for the tests that wait on it.
func SetHeartbeat(d time.Duration) { heartbeat = d }
