package twiliosim_test

import (
	"net/url"
	"testing"

	"masteria/app/sim/twiliosim"
)

// The worked example of https://www.twilio.com/docs/usage/webhooks/webhooks-security:
// auth token 12345, this URL and these parameters sign to 0/KCTR6DLpKmkAf8muzZqo1nDgQ=.
var (
	docToken  = "12345"
	docURL    = "https://mycompany.com/myapp.php?foo=1&bar=2"
	docParams = url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+12349013030"},
		"Digits":  {"1234"},
		"From":    {"+12349013030"},
		"To":      {"+18005551212"},
	}
	docSignature = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
)

func TestSignatureDocumentedExample(t *testing.T) {
	if got := twiliosim.Signature(docToken, docURL, docParams); got != docSignature {
		t.Fatalf("Signature = %q, want Twilio's %q", got, docSignature)
	}
	if !twiliosim.ValidSignature(docToken, docURL, docParams, docSignature) {
		t.Error("ValidSignature refuses Twilio's example")
	}
}

func TestValidSignatureRefuses(t *testing.T) {
	tampered := url.Values{}
	for k, v := range docParams {
		tampered[k] = v
	}
	tampered.Set("Digits", "9999")
	extra := url.Values{"Extra": {""}}
	for k, v := range docParams {
		extra[k] = v
	}
	cases := map[string]struct {
		token, url string
		params     url.Values
		sig        string
	}{
		"other token":       {"54321", docURL, docParams, docSignature},
		"other query":       {docToken, "https://mycompany.com/myapp.php?foo=1&bar=3", docParams, docSignature},
		"query left out":    {docToken, "https://mycompany.com/myapp.php", docParams, docSignature},
		"tampered param":    {docToken, docURL, tampered, docSignature},
		"added empty param": {docToken, docURL, extra, docSignature},
		"empty signature":   {docToken, docURL, docParams, ""},
		"truncated":         {docToken, docURL, docParams, docSignature[:len(docSignature)-1]},
	}
	for name, c := range cases {
		if twiliosim.ValidSignature(c.token, c.url, c.params, c.sig) {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A repeated parameter (MediaUrl in a REST request) signs each value in order, so the order
// the values arrive in does not matter.
func TestSignatureRepeatedParams(t *testing.T) {
	a := url.Values{"MediaUrl": {"https://a.test/1", "https://a.test/2"}, "To": {"+15005550006"}}
	b := url.Values{"To": {"+15005550006"}, "MediaUrl": {"https://a.test/2", "https://a.test/1"}}
	if twiliosim.Signature("t", "https://x.test/", a) != twiliosim.Signature("t", "https://x.test/", b) {
		t.Error("value order changes the signature")
	}
	one := url.Values{"MediaUrl": {"https://a.test/1"}, "To": {"+15005550006"}}
	if twiliosim.Signature("t", "https://x.test/", a) == twiliosim.Signature("t", "https://x.test/", one) {
		t.Error("a dropped value keeps the signature")
	}
}
