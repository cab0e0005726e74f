package twiliosim

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/url"
	"slices"
	"strings"
)

// Signature computes X-Twilio-Signature as documented in
// https://www.twilio.com/docs/usage/webhooks/webhooks-security: the full URL Twilio requests
// (scheme, host, path and query exactly as configured), then each POST parameter name
// followed by its value, sorted by name, HMAC-SHA1 keyed with the account's auth token,
// base64-encoded. A repeated parameter contributes name+value once per value, values sorted,
// as Twilio's helper libraries do.
func Signature(authToken, rawURL string, params url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	_, _ = io.WriteString(mac, rawURL)
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		values := slices.Clone(params[name])
		slices.Sort(values)
		for _, v := range values {
			_, _ = io.WriteString(mac, name)
			_, _ = io.WriteString(mac, v)
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ValidSignature reports whether signature is what Twilio would send for this URL and these
// POST parameters. It is the reference the app's own verifier is tested against; like it, it
// compares in constant time and refuses an empty signature.
func ValidSignature(authToken, rawURL string, params url.Values, signature string) bool {
	signature = strings.TrimSpace(signature)
	if signature == "" {
		return false
	}
	return hmac.Equal([]byte(Signature(authToken, rawURL, params)), []byte(signature))
}
