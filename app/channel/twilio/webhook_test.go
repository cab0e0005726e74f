package twilio

import (
	"net/url"
	"testing"
)

// TestSignatureVector is the fixed example Twilio's own request validators are tested
// with: this URL, these parameters and this auth token give this signature.
func TestSignatureVector(t *testing.T) {
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+14158675309"},
		"Digits":  {"1234"},
		"From":    {"+14158675309"},
		"To":      {"+18005551212"},
	}
	const token = "12345"
	const u = "https://mycompany.com/myapp.php?foo=1&bar=2"
	const want = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
	if got := Signature(token, u, params); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if !VerifySignature(token, u, params, want) {
		t.Fatal("the documented signature is refused")
	}
	params.Set("Digits", "1235")
	if VerifySignature(token, u, params, want) {
		t.Fatal("a changed parameter passes")
	}
	if VerifySignature("", u, params, Signature("", u, params)) {
		t.Fatal("an empty token passes")
	}
}

// TestSignatureDocsVector is the example on Twilio's "Webhooks security" page.
func TestSignatureDocsVector(t *testing.T) {
	params := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"}, "From": {"+12349013030"}, "To": {"+18005551212"}}
	if got := Signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params); got != "0/KCTR6DLpKmkAf8muzZqo1nDgQ=" {
		t.Fatalf("got %s", got)
	}
}

func TestParse(t *testing.T) {
	in, st, err := Parse(url.Values{"MessageSid": {"SM1"}, "SmsStatus": {"received"}, "AccountSid": {"AC1"},
		"From": {"+5511987654321"}, "To": {"+5511900000000"}, "Body": {"Oi"}, "NumMedia": {"1"},
		"MediaUrl0": {"https://api.twilio.com/x"}, "MediaContentType0": {"image/jpeg"}})
	if err != nil || st != nil || in.From != "+5511987654321" || in.Body != "Oi" || len(in.Media) != 1 {
		t.Fatalf("%+v %+v %v", in, st, err)
	}
	in, st, err = Parse(url.Values{"MessageSid": {"SM2"}, "MessageStatus": {"undelivered"}, "AccountSid": {"AC1"}, "ErrorCode": {"30003"}})
	if err != nil || in != nil || st.Status != "undelivered" || st.ErrorCode != "30003" || Status(st.Status) != "failed" {
		t.Fatalf("%+v %+v %v", in, st, err)
	}
	for _, bad := range []url.Values{{}, {"MessageSid": {"SM"}}, {"MessageSid": {"SM"}, "SmsStatus": {"received"}, "AccountSid": {"AC"}, "From": {"abc"}}} {
		if _, _, err := Parse(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestKeyword(t *testing.T) {
	for body, want := range map[string]string{"STOP": "stop", " sair ": "stop", "Parar.": "stop", "VOLTAR": "start", "start": "start", "stop please": "", "oi": ""} {
		if got := Keyword(body); got != want {
			t.Errorf("%q: %q, want %q", body, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("SM1", "received", "AC1", "+5511987654321", "Oi", "1")
	f.Add("SM2", "failed", "AC1", "", "", "0")
	f.Fuzz(func(t *testing.T, sid, status, account, from, body, numMedia string) {
		in, st, err := Parse(url.Values{"MessageSid": {sid}, "SmsStatus": {status}, "AccountSid": {account}, "From": {from}, "Body": {body}, "NumMedia": {numMedia}})
		if err != nil {
			return
		}
		if (in == nil) == (st == nil) {
			t.Fatal("exactly one of inbound and status must come back")
		}
		if in != nil && (in.SID == "" || len(in.Media) > 10) {
			t.Fatalf("%+v", in)
		}
	})
}
