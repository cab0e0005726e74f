package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"

	"masteria/app/store"
	"masteria/app/web/webtest"
)

// checkDevNumbers buys a number on the running `masteria dev` at base as the demo user:
// the Twilio simulator serves the trunking API too and Retell's is connected, so the whole
// set-up ends ready.
func checkDevNumbers(t *testing.T, st *store.Store, base string) {
	t.Helper()
	c := webtest.NewClient(t, base)
	home := regexp.MustCompile(`^/o/\d+`).FindString(c.Login(demoEmail, demoPassword))
	var channel int64
	if err := st.DB().Get(&channel, `SELECT id FROM channels WHERE kind = 'twilio_sms' LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	search := c.Post(home+"/settings/voice/numbers/search", url.Values{"channel_id": {strconv.FormatInt(channel, 10)},
		"country": {"US"}, "area_code": {"415"}})
	m := regexp.MustCompile(`name="phone_number" value="(\+1415[0-9]{7})"`).FindStringSubmatch(search.Body)
	if search.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("dev numbers search: %d %s", search.StatusCode, webtest.Text(search.Body))
	}
	res := c.Post(home+"/settings/voice/numbers/buy", url.Values{"channel_id": {strconv.FormatInt(channel, 10)}, "country": {"US"},
		"phone_number": {m[1]}, "outbound_agent_id": {"agent_demo_sales"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("dev numbers buy: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	var status, lastError string
	_ = st.DB().QueryRow(`SELECT status, last_error FROM voice_numbers WHERE phone_number = $1`, m[1]).Scan(&status, &lastError)
	if status != "ready" {
		t.Fatalf("dev number %s: %s %q", m[1], status, lastError)
	}
}
