package twiliosim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"masteria/app/sim/twiliosim"
)

// call sends one request as the Twilio client does: form body, Basic auth.
func call(t *testing.T, method, u, user, pass string, form url.Values) (int, map[string]any) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(res.Body)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: not JSON: %s", method, u, b)
		}
	}
	return res.StatusCode, out
}

func errCode(m map[string]any) int {
	f, _ := m["code"].(float64)
	return int(f)
}

var sidRE = regexp.MustCompile(`^[A-Z]{2}[0-9a-f]{32}$`)

func TestVoiceSetUp(t *testing.T) {
	sim := twiliosim.New()
	base, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.AddAccount(accountSid, authToken)
	sim.AddAccount(otherSid, otherToken)
	api := base + "/2010-04-01/Accounts/" + accountSid
	do := func(method, u string, form url.Values) (int, map[string]any) {
		return call(t, method, u, accountSid, authToken, form)
	}

	// Search: by country and area code, 404 for a country without numbers, 400 for a bad area code.
	st, res := do("GET", api+"/AvailablePhoneNumbers/US/Local.json?AreaCode=628&PageSize=5", nil)
	list, _ := res["available_phone_numbers"].([]any)
	if st != 200 || len(list) != 5 {
		t.Fatalf("search: %d %v", st, res)
	}
	first := list[0].(map[string]any)
	phone := first["phone_number"].(string)
	if !strings.HasPrefix(phone, "+1628") || first["iso_country"] != "US" || first["friendly_name"] == "" {
		t.Fatalf("offer: %v", first)
	}
	if st, res := do("GET", api+"/AvailablePhoneNumbers/ZZ/Local.json", nil); st != 404 || errCode(res) != 20404 {
		t.Fatalf("unknown country: %d %v", st, res)
	}
	if st, _ := do("GET", api+"/AvailablePhoneNumbers/US/Local.json?AreaCode=6a8", nil); st != 400 {
		t.Fatalf("bad area code: %d", st)
	}
	if st, _ := do("GET", api+"/AvailablePhoneNumbers/BR/Local.json?AreaCode=11", nil); st != 200 {
		t.Fatalf("BR: %d", st)
	}

	// Auth: a wrong token is 401 with code 20003, on both hosts.
	for _, u := range []string{api + "/AvailablePhoneNumbers/US/Local.json", base + "/v1/Trunks"} {
		if st, res := call(t, "GET", u, accountSid, "wrong", nil); st != 401 || errCode(res) != 20003 {
			t.Fatalf("%s wrong token: %d %v", u, st, res)
		}
		if st, _ := call(t, "GET", u, "", "", nil); st != 401 {
			t.Fatalf("%s no auth: %d", u, st)
		}
	}

	// Buy: 201, PN sid, in-use, RFC-2822 dates; twice is 21422; a bad number 21421.
	st, num := do("POST", api+"/IncomingPhoneNumbers.json", url.Values{"PhoneNumber": {phone}})
	if st != 201 || !sidRE.MatchString(num["sid"].(string)) || num["status"] != "in-use" || num["trunk_sid"] != nil {
		t.Fatalf("buy: %d %v", st, num)
	}
	if _, err := time.Parse(time.RFC1123Z, num["date_created"].(string)); err != nil {
		t.Fatalf("date_created %v: %v", num["date_created"], err)
	}
	if st, res := do("POST", api+"/IncomingPhoneNumbers.json", url.Values{"PhoneNumber": {phone}}); st != 400 || errCode(res) != 21422 {
		t.Fatalf("buy twice: %d %v", st, res)
	}
	if st, res := do("POST", api+"/IncomingPhoneNumbers.json", url.Values{"PhoneNumber": {"628555"}}); st != 400 || errCode(res) != 21421 {
		t.Fatalf("bad number: %d %v", st, res)
	}
	if st, res := do("GET", api+"/IncomingPhoneNumbers.json?PhoneNumber="+url.QueryEscape(phone), nil); st != 200 ||
		len(res["incoming_phone_numbers"].([]any)) != 1 {
		t.Fatalf("list numbers: %d %v", st, res)
	}
	// The other account does not see it.
	if _, res := call(t, "GET", base+"/2010-04-01/Accounts/"+otherSid+"/IncomingPhoneNumbers.json", otherSid, otherToken, nil); len(res["incoming_phone_numbers"].([]any)) != 0 {
		t.Fatalf("other account sees: %v", res)
	}

	// Trunk: DomainName must end in pstn.twilio.com and be unique; ISO-8601 dates.
	if st, _ := do("POST", base+"/v1/Trunks", url.Values{"DomainName": {"shop.example.com"}}); st != 400 {
		t.Fatalf("bad domain: %d", st)
	}
	if st, _ := do("POST", base+"/v1/Trunks", url.Values{"FriendlyName": {strings.Repeat("x", 65)}}); st != 400 {
		t.Fatalf("long name: %d", st)
	}
	st, trunk := do("POST", base+"/v1/Trunks", url.Values{"FriendlyName": {"Shop"}, "DomainName": {"shop-1.pstn.twilio.com"}})
	if st != 201 || !strings.HasPrefix(trunk["sid"].(string), "TK") || trunk["domain_name"] != "shop-1.pstn.twilio.com" {
		t.Fatalf("trunk: %d %v", st, trunk)
	}
	if _, err := time.Parse(time.RFC3339, trunk["date_created"].(string)); err != nil {
		t.Fatalf("trunk date: %v", err)
	}
	if st, _ := do("POST", base+"/v1/Trunks", url.Values{"DomainName": {"shop-1.pstn.twilio.com"}}); st != 400 {
		t.Fatalf("domain twice: %d", st)
	}
	tk := base + "/v1/Trunks/" + trunk["sid"].(string)
	if st, res := do("GET", base+"/v1/Trunks", nil); st != 200 || len(res["trunks"].([]any)) != 1 || res["meta"].(map[string]any)["key"] != "trunks" {
		t.Fatalf("trunk list: %d %v", st, res)
	}
	if st, _ := call(t, "GET", tk, otherSid, otherToken, nil); st != 404 {
		t.Fatalf("other account's trunk: %d", st)
	}

	// Origination URL: every field required.
	orig := url.Values{"FriendlyName": {"Retell"}, "SipUrl": {"sip:sip.retellai.com;transport=tcp"}, "Weight": {"1"}, "Priority": {"1"}, "Enabled": {"true"}}
	for _, missing := range []string{"FriendlyName", "SipUrl", "Weight", "Priority", "Enabled"} {
		f := url.Values{}
		for k, v := range orig {
			if k != missing {
				f[k] = v
			}
		}
		if st, _ := do("POST", tk+"/OriginationUrls", f); st != 400 {
			t.Fatalf("origination without %s: %d", missing, st)
		}
	}
	if st, res := do("POST", tk+"/OriginationUrls", orig); st != 201 || !strings.HasPrefix(res["sid"].(string), "OU") || res["sip_url"] != orig.Get("SipUrl") {
		t.Fatalf("origination: %d %v", st, res)
	}

	// Credentials: list, password rules, attach to the trunk once.
	st, cl := do("POST", api+"/SIP/CredentialLists.json", url.Values{"FriendlyName": {"Shop"}})
	if st != 201 || !strings.HasPrefix(cl["sid"].(string), "CL") {
		t.Fatalf("credential list: %d %v", st, cl)
	}
	creds := api + "/SIP/CredentialLists/" + cl["sid"].(string) + "/Credentials.json"
	for _, weak := range []string{"short1A", "alllowercase123", "ALLUPPERCASE123", "NoDigitsAtAllHere"} {
		if st, _ := do("POST", creds, url.Values{"Username": {"shop"}, "Password": {weak}}); st != 400 {
			t.Fatalf("weak password %q: %d", weak, st)
		}
	}
	if st, res := do("POST", creds, url.Values{"Username": {"shop"}, "Password": {"Strong1Password"}}); st != 201 || res["password"] != nil {
		t.Fatalf("credential: %d %v", st, res)
	}
	if st, res := do("POST", tk+"/CredentialLists", url.Values{"CredentialListSid": {cl["sid"].(string)}}); st != 201 || res["trunk_sid"] != trunk["sid"] {
		t.Fatalf("attach list: %d %v", st, res)
	}
	if st, _ := do("GET", tk+"/CredentialLists/"+cl["sid"].(string), nil); st != 200 {
		t.Fatalf("fetch attached list: %d", st)
	}
	if st, _ := do("POST", tk+"/CredentialLists", url.Values{"CredentialListSid": {cl["sid"].(string)}}); st != 400 {
		t.Fatalf("attach list twice: %d", st)
	}

	// The number on the trunk.
	pn := num["sid"].(string)
	if st, _ := do("GET", tk+"/PhoneNumbers/"+pn, nil); st != 404 {
		t.Fatalf("number not yet on trunk: %d", st)
	}
	if st, res := do("POST", tk+"/PhoneNumbers", url.Values{"PhoneNumberSid": {pn}}); st != 201 || res["trunk_sid"] != trunk["sid"] {
		t.Fatalf("attach number: %d %v", st, res)
	}
	if st, _ := do("GET", tk+"/PhoneNumbers/"+pn, nil); st != 200 {
		t.Fatalf("number on trunk: %d", st)
	}
	got := sim.Trunks()[0]
	if len(got.OriginationURLs) != 1 || len(got.CredentialLists) != 1 || len(got.PhoneNumbers) != 1 || sim.Purchases()[0].TrunkSid != got.Sid {
		t.Fatalf("sim state: %+v %+v", got, sim.Purchases())
	}

	// FailNext: the next call of that operation only fails, with the error asked for.
	sim.FailNext(twiliosim.OpCreateTrunk, 429, 20429, "Too Many Requests")
	if st, res := do("POST", base+"/v1/Trunks", nil); st != 429 || errCode(res) != 20429 {
		t.Fatalf("forced failure: %d %v", st, res)
	}
	if st, _ := do("POST", base+"/v1/Trunks", nil); st != 201 {
		t.Fatalf("after the forced failure: %d", st)
	}
	if st, _ := do("DELETE", tk, nil); st != 204 {
		t.Fatalf("delete trunk: %d", st)
	}
	if st, res := do("GET", tk, nil); st != 404 || errCode(res) != 20404 {
		t.Fatalf("deleted trunk: %d %v", st, res)
	}
}
