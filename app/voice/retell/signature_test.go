package retell_test

import (
	"errors"
	"testing"
	"time"

	"masteria/app/voice/retell"
)

// The reference vector of providers.md §1.6.
const (
	vecBody   = `{"event":"call_ended"}`
	vecKey    = "test-api-key"
	vecMS     = 1700000000000
	vecHeader = "v=1700000000000,d=07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e"
)

func TestSignVector(t *testing.T) {
	if got := retell.Sign([]byte(vecBody), vecKey, time.UnixMilli(vecMS)); got != vecHeader {
		t.Fatalf("Sign = %q, want %q", got, vecHeader)
	}
	if err := retell.Verify([]byte(vecBody), vecHeader, vecKey, time.UnixMilli(vecMS)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestVerifyTolerance(t *testing.T) {
	for _, c := range []struct {
		now   int64
		valid bool
	}{{1700000300000, true}, {1700000300001, false}, {1699999700000, true}, {1699999699999, false}} {
		err := retell.Verify([]byte(vecBody), vecHeader, vecKey, time.UnixMilli(c.now))
		if (err == nil) != c.valid {
			t.Errorf("now %d: err %v, want valid %v", c.now, err, c.valid)
		}
		if err != nil && !errors.Is(err, retell.ErrSignature) {
			t.Errorf("now %d: %v is not ErrSignature", c.now, err)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	now := time.UnixMilli(vecMS)
	for _, h := range []string{"", "v=1700000000000", "v=1700000000000,d=not-hex",
		"d=07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e,v=1700000000000",
		"prefix-v=1700000000000,d=07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e",
		"v=1700000000000,d=07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e-suffix",
		"v=1700000000000,d=024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e",
		"v=-1700000000000,d=07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e",
		"v=1700000000000,d=07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e,extra=value",
		// Uppercase hex: the Python SDK (the stricter) refuses it.
		"v=1700000000000,d=07024CABE7DD8F6D1C6E4A8324CA92C812E6AD4A7EE506C04F7E462E3321823E",
	} {
		if err := retell.Verify([]byte(vecBody), h, vecKey, now); !errors.Is(err, retell.ErrSignature) {
			t.Errorf("%q: %v", h, err)
		}
	}
	// A tampered body, another key, an empty key.
	if err := retell.Verify([]byte(`{"event":"call_ended" }`), vecHeader, vecKey, now); err == nil {
		t.Error("tampered body accepted")
	}
	if err := retell.Verify([]byte(vecBody), vecHeader, "other-key", now); err == nil {
		t.Error("another key accepted")
	}
	if err := retell.Verify([]byte(vecBody), vecHeader, "", now); err == nil {
		t.Error("empty key accepted")
	}
}

// Whatever the header, Verify never panics, and what Sign makes Verify accepts.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(vecBody), vecHeader, vecKey, int64(vecMS))
	f.Add([]byte(""), "v=0,d=", "k", int64(0))
	f.Add([]byte("{}"), "v=99999999999999999999999,d=07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e", "k", int64(1))
	f.Fuzz(func(t *testing.T, body []byte, header, key string, ms int64) {
		now := time.UnixMilli(ms)
		_ = retell.Verify(body, header, key, now)
		if key == "" {
			return
		}
		if err := retell.Verify(body, retell.Sign(body, key, now), key, now); ms >= 0 && err != nil {
			t.Fatalf("signed and refused: %v", err)
		}
	})
}
