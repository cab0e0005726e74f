package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/retellsim"
	"masteria/app/sim/twiliosim"
	"masteria/app/voice/retell"
	"masteria/app/web/webtest"
)

// voiceNumbersEnv is an org with a Twilio SMS channel and Retell connected (both on their
// simulators), another org, and an agent of the first.
type voiceNumbersEnv struct {
	inst               *webtest.Instance
	ts                 *twiliosim.Server
	rs                 *retellsim.Server
	c, other, agent    *webtest.Client
	home, otherHome    string
	base               string
	channel            int64
	agentIn, agentOut  string
	retellKey, orgName string
	agentUser          int64
}

func startVoiceNumbers(t *testing.T, org string) *voiceNumbersEnv {
	t.Helper()
	e := &voiceNumbersEnv{ts: twiliosim.New(), retellKey: "key_web_release_0123456789", orgName: org}
	tw, err := e.ts.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.ts.Close)
	e.ts.AddAccount(testAccountSID, voiceToken)
	e.rs = retellsim.New(retellsim.WithAPIKeys(e.retellKey))
	rt, err := e.rs.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.rs.Close)
	e.agentIn = e.rs.AddAgent(retell.Agent{AgentName: "Recepção"}).AgentID
	e.agentOut = e.rs.AddAgent(retell.Agent{AgentName: "Vendas"}).AgentID
	e.inst = webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) { c.TwilioAPIURL, c.TwilioTrunkingURL, c.RetellAPIURL = tw, tw, rt })
	e.c = webtest.NewClient(t, e.inst.URL)
	e.home = e.c.Signup(org, "Vera", uniqueEmail("vera"), strongPassword)
	sms := url.Values{"kind": {model.KindTwilioSMS}, "name": {"SMS " + org}, "account_sid": {testAccountSID}, "auth_token": {voiceToken}, "from": {"+15005550006"}}
	if res := e.c.Post(e.home+"/settings/channels", sms); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("channel: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	e.channel = channelByName(t, e.inst, "SMS "+org).ID
	if res := e.c.Post(e.home+"/settings/voice", url.Values{"key": {e.retellKey}, "max_concurrent": {"5"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("connect Retell: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	e.other = webtest.NewClient(t, e.inst.URL)
	e.otherHome = e.other.Signup("Outra "+org, "Otto", uniqueEmail("otto"), strongPassword)
	o := &inboxOrg{t: t, inst: e.inst, name: org}
	e.agent, e.agentUser = o.member(model.RoleAgent)
	e.base = e.home + "/settings/voice/numbers"
	return e
}

// buy buys phone and answers its row id; it must end ready.
func (e *voiceNumbersEnv) buy(t *testing.T, phone string) int64 {
	t.Helper()
	buy := url.Values{"channel_id": {strconv.FormatInt(e.channel, 10)}, "country": {"US"}, "phone_number": {phone},
		"inbound_agent_id": {e.agentIn}, "outbound_agent_id": {e.agentOut}}
	if res := e.c.Post(e.base+"/buy", buy); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("buy: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	var id int64
	var status string
	if err := e.inst.App.Store.DB().QueryRow(`SELECT id, status FROM voice_numbers WHERE phone_number = $1`, phone).Scan(&id, &status); err != nil || status != "ready" {
		t.Fatalf("bought: %s %v", status, err)
	}
	return id
}

func TestVoiceNumberRelease(t *testing.T) {
	t.Parallel()
	e := startVoiceNumbers(t, "Clínica Libera")
	id := e.buy(t, "+16285550100")
	sid := strconv.FormatInt(id, 10)
	release := e.base + "/" + sid + "/release"

	// The confirmation says what happens, step by step.
	page := e.c.Get(e.base)
	for _, want := range []string{`data-testid="voice-number-release"`, `data-testid="voice-release-dialog"`, "Remove the number from Retell",
		"Give the number back to Twilio", "cannot be undone"} {
		if !strings.Contains(page.Body, want) {
			t.Fatalf("page lacks %q: %s", want, webtest.Text(page.Body))
		}
	}
	if strings.Contains(page.Body, ` open data-testid="voice-release-dialog"`) ||
		!strings.Contains(e.c.Get(e.base+"?release="+sid).Body, ` open data-testid="voice-release-dialog"`) {
		t.Fatal("?release= does not open the dialog (or it is open without it)")
	}

	// Bad input changes nothing: an agent (403), another org (404), no CSRF (403), a bad id
	// (404), NUL or invalid UTF-8 (400), a body too large (413).
	if res := e.agent.Post(release, url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent: %d", res.StatusCode)
	}
	if res := e.other.Post(e.otherHome+"/settings/voice/numbers/"+sid+"/release", url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Errorf("other org: %d", res.StatusCode)
	}
	if res := e.c.PostRaw(release, url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF: %d", res.StatusCode)
	}
	if res := e.c.Post(e.base+"/0x1/release", url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Errorf("bad id: %d", res.StatusCode)
	}
	for name, v := range map[string]string{"nul": "1\x00", "utf8": "\xff"} {
		if res := e.c.Post(release, url.Values{"from_retell": {v}}); res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
	}
	if res := e.c.Post(release, url.Values{"from_retell": {strings.Repeat("a", 3<<20)}}); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("too large: %d", res.StatusCode)
	}
	if len(e.ts.Released()) != 0 || len(e.rs.PhoneNumbers()) != 1 {
		t.Fatal("bad input released the number")
	}

	// Twilio refuses to delete the trunk: the release stops there, says why, offers Continue.
	e.ts.FailNext(twiliosim.OpDeleteTrunk, http.StatusForbidden, 20403, "Permission denied for this trunk")
	res := htmx(e.c, release, url.Values{})
	if kind, msg := toastOf(res); res.StatusCode != http.StatusOK || kind != "error" || !strings.Contains(msg, "Delete the SIP trunk") ||
		!strings.Contains(msg, "Permission denied for this trunk") {
		t.Fatalf("release: %d %s %q", res.StatusCode, kind, msg)
	}
	for _, want := range []string{`data-status="release_failed"`, "Release stopped", "Step: Delete the SIP trunk", "Permission denied for this trunk (code 20403)",
		`data-testid="voice-number-continue"`} {
		if !strings.Contains(res.Body, want) {
			t.Fatalf("row lacks %q: %s", want, webtest.Text(res.Body))
		}
	}
	if strings.Contains(res.Body, `data-testid="voice-number-release"`) || strings.Contains(res.Body, `data-testid="voice-number-agents"`) {
		t.Fatal("a stopped release offers Release or agents")
	}
	if len(e.rs.PhoneNumbers()) != 0 || len(e.ts.Trunks()) != 1 {
		t.Fatalf("after the stop: Retell %d numbers, Twilio %d trunks", len(e.rs.PhoneNumbers()), len(e.ts.Trunks()))
	}
	if res := e.agent.Post(e.base+"/"+sid+"/continue", url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent continue: %d", res.StatusCode)
	}
	// Removing it from Retell again would fail: Continue must not.
	e.rs.FailNext("/delete-phone-number/+16285550100", http.StatusBadRequest, "asked twice", 1)
	res = htmx(e.c, e.base+"/"+sid+"/continue", url.Values{})
	if kind, msg := toastOf(res); res.StatusCode != http.StatusOK || kind != "success" || msg != "+16285550100 was released." {
		t.Fatalf("continue: %d %s %q %s", res.StatusCode, kind, msg, webtest.Text(res.Body))
	}
	if r := e.ts.Released(); len(r) != 1 || r[0].PhoneNumber != "+16285550100" || len(e.ts.Trunks()) != 0 || len(e.ts.CredentialLists()) != 0 {
		t.Fatalf("Twilio after continue: %+v %d trunks", r, len(e.ts.Trunks()))
	}
	if strings.Contains(res.Body, "+16285550100") {
		t.Fatal("the released number is still listed")
	}
}

func TestVoiceNumberUnlink(t *testing.T) {
	t.Parallel()
	e := startVoiceNumbers(t, "Clínica Desvincula")
	const phone = "+14155550123"
	e.rs.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: phone, PhoneNumberType: "retell-twilio"})
	link := func() string {
		t.Helper()
		if res := e.c.Post(e.base+"/link", url.Values{"phone_number": {phone}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("link: %d %s", res.StatusCode, webtest.Text(res.Body))
		}
		var id int64
		_ = e.inst.App.Store.DB().Get(&id, `SELECT id FROM voice_numbers WHERE phone_number = $1`, phone)
		return strconv.FormatInt(id, 10)
	}
	sid := link()
	page := e.c.Get(e.base)
	if !strings.Contains(page.Body, "Unlink "+phone+"?") || !strings.Contains(page.Body, `data-testid="voice-release-retell"`) ||
		!strings.Contains(page.Body, "stays in your Retell account") {
		t.Fatalf("unlink dialog: %s", webtest.Text(page.Body))
	}
	// Unlinked only: Retell keeps it.
	res := htmx(e.c, e.base+"/"+sid+"/release", url.Values{})
	if kind, msg := toastOf(res); kind != "success" || msg != phone+" was unlinked." {
		t.Fatalf("unlink: %s %q", kind, msg)
	}
	if len(e.rs.PhoneNumbers()) != 1 {
		t.Fatal("unlinking removed it from Retell")
	}
	// Linked again, then removed from Retell too.
	sid = link()
	if res := e.c.Post(e.base+"/"+sid+"/release", url.Values{"from_retell": {"1"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("unlink from Retell: %d", res.StatusCode)
	}
	if len(e.rs.PhoneNumbers()) != 0 || len(e.ts.Released()) != 0 {
		t.Fatalf("Retell %+v, Twilio %+v", e.rs.PhoneNumbers(), e.ts.Released())
	}
}
