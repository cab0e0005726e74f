package web_test

import (
	"os"
	"testing"
	"time"

	"masteria/app/web"
)

func TestMain(m *testing.M) {
	// A short heartbeat lets a test see a stream end after a logout without waiting 20 s.
	web.SetHeartbeat(300 * time.Millisecond)
	os.Exit(m.Run())
}
