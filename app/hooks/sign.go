// Package hooks sends an org's events to the endpoints it registered (outgoing webhooks),
// in the Standard Webhooks format: headers webhook-id (the same on every attempt),
// webhook-timestamp (seconds) and webhook-signature ("v1," + base64 HMAC-SHA256 over
// "id.timestamp.body", one entry per valid secret during a rotation).
//
// Delivery follows the events outbox: a River job (the dispatcher) reads the events in
// commit order after its cursor and fans each out to the endpoints that want it, one
// delivery row per (endpoint, event); per-endpoint jobs claim the due deliveries and POST
// them, with a bounded number at once per endpoint, a circuit breaker per endpoint,
// exponential back-off with jitter over about three days, and an SSRF guard checked on
// the address actually dialled.
package hooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every signing secret shown to a member.
const SecretPrefix = "whsec_"

// secretBytes is the length of a new secret's key (Standard Webhooks: 24 to 64 bytes).
const secretBytes = 32

// ErrBadSecret is a secret that is not whsec_ + base64 of at least 24 bytes.
var ErrBadSecret = errors.New("hooks: the secret is not whsec_ followed by base64 of 24 to 64 bytes")

// NewSecret returns a fresh signing secret: whsec_ + base64 of 32 random bytes.
func NewSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // crypto/rand never fails (Go 1.24+)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// SecretKey decodes a secret (with or without its prefix) into its HMAC key.
func SecretKey(secret string) ([]byte, error) {
	s := strings.TrimPrefix(secret, SecretPrefix)
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(key) < 24 || len(key) > 64 {
		return nil, ErrBadSecret
	}
	return key, nil
}

// Sign returns the webhook-signature value of body sent as msgID at ts: one "v1,<base64>"
// entry per key, space-separated.
func Sign(msgID string, ts time.Time, body []byte, keys ...[]byte) string {
	var b strings.Builder
	stamp := strconv.FormatInt(ts.Unix(), 10)
	for i, k := range keys {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(msgID))
		m.Write([]byte{'.'})
		m.Write([]byte(stamp))
		m.Write([]byte{'.'})
		m.Write(body)
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("v1,")
		b.WriteString(base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	return b.String()
}
