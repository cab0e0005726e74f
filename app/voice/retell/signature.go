package retell

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strconv"
	"time"
)

// SignatureHeader is the header Retell signs its webhooks with.
const SignatureHeader = "x-retell-signature"

// Tolerance is how far a webhook's timestamp may be from now, either way (inclusive).
const Tolerance = 5 * time.Minute

// ErrSignature is a webhook whose x-retell-signature is missing, malformed, wrong or out of
// the five-minute tolerance.
var ErrSignature = errors.New("retell: bad webhook signature")

// sigRE is the header's exact form: the SDKs accept nothing around it.
var sigRE = regexp.MustCompile(`^v=(\d+),d=([0-9a-f]{64})$`)

// digest is lowercase hex of HMAC-SHA256 keyed with the API key over body || decimal(ms).
func digest(body []byte, apiKey string, ms int64) string {
	m := hmac.New(sha256.New, []byte(apiKey))
	m.Write(body)
	m.Write([]byte(strconv.FormatInt(ms, 10)))
	return hex.EncodeToString(m.Sum(nil))
}

// Sign returns the x-retell-signature value of a webhook body sent at now:
// "v=<unix ms>,d=<hex HMAC-SHA256(apiKey, body || ms)>".
func Sign(body []byte, apiKey string, now time.Time) string {
	ms := now.UnixMilli()
	return "v=" + strconv.FormatInt(ms, 10) + ",d=" + digest(body, apiKey, ms)
}

// Verify checks a webhook's x-retell-signature against the raw body and the account's API
// key: the header's exact form, the digest (constant-time) and |now - v| <= 5 minutes.
func Verify(body []byte, header, apiKey string, now time.Time) error {
	m := sigRE.FindStringSubmatch(header)
	if m == nil || apiKey == "" {
		return ErrSignature
	}
	ms, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return ErrSignature
	}
	d := now.UnixMilli() - ms
	if d < 0 {
		d = -d
	}
	if d > Tolerance.Milliseconds() {
		return ErrSignature
	}
	if !hmac.Equal([]byte(digest(body, apiKey, ms)), []byte(m[2])) {
		return ErrSignature
	}
	return nil
}
