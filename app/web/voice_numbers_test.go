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

const voiceToken = "voice-numbers-auth-token-0123456"

func TestVoiceNumbersPage(t *testing.T) {
	t.Parallel()
	ts := twiliosim.New()
	tw, err := ts.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Close)
	const otherSID = "ACfedcba9876543210fedcba9876543210"
	ts.AddAccount(testAccountSID, voiceToken)
	ts.AddAccount(otherSID, voiceToken)
	const retellKey = "key_web_voice_numbers_0123456789"
	rs := retellsim.New(retellsim.WithAPIKeys(retellKey))
	rt, err := rs.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.Close)
	in := rs.AddAgent(retell.Agent{AgentName: "Recepção"})
	out := rs.AddAgent(retell.Agent{AgentName: "Vendas"})
	inst := webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) { c.TwilioAPIURL, c.TwilioTrunkingURL, c.RetellAPIURL = tw, tw, rt })
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Clínica Voz", "Vera", uniqueEmail("vera"), strongPassword)
	sms := url.Values{"kind": {model.KindTwilioSMS}, "name": {"SMS"}, "account_sid": {testAccountSID}, "auth_token": {voiceToken}, "from": {"+15005550006"}}
	if res := c.Post(home+"/settings/channels", formWith(sms, "_csrf", "")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("channel: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	own := channelByName(t, inst, "SMS").ID
	other := webtest.NewClient(t, inst.URL)
	otherHome := other.Signup("Outra Clínica", "Otto", uniqueEmail("otto"), strongPassword)
	if res := other.Post(otherHome+"/settings/channels", formWith(formWith(formWith(sms, "name", "SMS de fora"), "account_sid", otherSID), "_csrf", "")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("foreign channel: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	foreign := channelByName(t, inst, "SMS de fora").ID
	base := home + "/settings/voice/numbers"

	page := c.Get(base)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `data-testid="voice-search-form"`) ||
		!strings.Contains(page.Body, `data-testid="voice-numbers-table"`) {
		t.Fatalf("page: %d %s", page.StatusCode, webtest.Text(page.Body))
	}
	search := url.Values{"channel_id": {strconv.FormatInt(own, 10)}, "country": {"US"}, "area_code": {"628"}}
	res := c.Post(base+"/search", formWith(search, "_csrf", ""))
	if res.StatusCode != http.StatusOK || strings.Count(res.Body, `data-testid="voice-offer"`) != 20 || !strings.Contains(res.Body, "+1628555") {
		t.Fatalf("search: %d %s", res.StatusCode, webtest.Text(res.Body))
	}

	// Bad input: formats (422), NUL bytes and invalid UTF-8 (400), a foreign channel (404),
	// no CSRF (403), a body too large (413).
	for name, f := range map[string]url.Values{
		"area code letters": formWith(search, "area_code", "62a"),
		"area code long":    formWith(search, "area_code", "6281"),
		"country":           formWith(search, "country", "USA"),
	} {
		if res := c.Post(base+"/search", f); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
	}
	for name, f := range map[string]url.Values{"nul": formWith(search, "area_code", "62\x008"), "utf8": formWith(search, "country", "U\xff")} {
		if res := c.Post(base+"/search", f); res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
	}
	if res := c.Post(base+"/search", formWith(search, "channel_id", strconv.FormatInt(foreign, 10))); res.StatusCode != http.StatusNotFound {
		t.Errorf("foreign channel: %d", res.StatusCode)
	}
	if res := c.PostRaw(base+"/search", formWith(search, "_csrf", "")); res.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF: %d", res.StatusCode)
	}
	if res := c.Post(base+"/buy", formWith(search, "nickname", strings.Repeat("a", 3<<20))); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("too large: %d", res.StatusCode)
	}
	buy := url.Values{"channel_id": {strconv.FormatInt(own, 10)}, "country": {"US"}, "phone_number": {"+16285550100"}}
	for _, p := range []string{"16285550100", "+1 628 555 0100", "+0628"} {
		if res := c.Post(base+"/buy", formWith(buy, "phone_number", p)); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("buy %q: %d", p, res.StatusCode)
		}
	}
	if res := c.Post(base+"/buy", formWith(buy, "channel_id", strconv.FormatInt(foreign, 10))); res.StatusCode != http.StatusNotFound {
		t.Errorf("buy with a foreign channel: %d", res.StatusCode)
	}
	// Agents may not open or use it.
	o := &inboxOrg{t: t, inst: inst, name: "Clínica Voz"}
	agent, _ := o.member(model.RoleAgent)
	if res := agent.Get(base); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent page: %d", res.StatusCode)
	}
	if res := agent.Post(base+"/buy", formWith(buy, "_csrf", "")); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent buy: %d", res.StatusCode)
	}
	if n := len(ts.Purchases()); n != 0 {
		t.Fatalf("bad input bought %d numbers", n)
	}

	// Buy: Twilio's steps are done; this instance has no Retell account, so it stops at the
	// import with the reason, and Continue stops there again without buying twice.
	if res := c.Post(base+"/buy", formWith(buy, "_csrf", "")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("buy: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	var id int64
	var step, status, lastError string
	if err := inst.App.Store.DB().QueryRow(`SELECT id, step, status, last_error FROM voice_numbers`).Scan(&id, &step, &status, &lastError); err != nil {
		t.Fatal(err)
	}
	if step != model.NumberImported || status != "failed" || !strings.Contains(lastError, "Retell") {
		t.Fatalf("after buy: %s %s %q", step, status, lastError)
	}
	page = c.Get(base)
	if !strings.Contains(page.Body, `data-testid="voice-number-continue"`) || !strings.Contains(page.Body, "Add the number to Retell") {
		t.Fatalf("page after a failure: %s", webtest.Text(page.Body))
	}
	cont := base + "/" + strconv.FormatInt(id, 10) + "/continue"
	if res := other.Post(otherHome+"/settings/voice/numbers/"+strconv.FormatInt(id, 10)+"/continue", url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Errorf("foreign continue: %d", res.StatusCode)
	}
	if res := agent.Post(cont, url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent continue: %d", res.StatusCode)
	}
	if res := c.Post(cont, url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("continue: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if n, trunks := len(ts.Purchases()), len(ts.Trunks()); n != 1 || trunks != 1 {
		t.Fatalf("after continue: %d purchases, %d trunks", n, trunks)
	}
	if res := other.Post(otherHome+"/settings/voice/numbers/"+strconv.FormatInt(id, 10)+"/agents", url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Errorf("foreign agents: %d", res.StatusCode)
	}
	if res := c.Post(base+"/"+strconv.FormatInt(id, 10)+"/agents", url.Values{"inbound_agent_id": {"bad agent"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad agent: %d", res.StatusCode)
	}
	if res := c.Post(base+"/nope/continue", url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Errorf("bad id: %d", res.StatusCode)
	}

	// Connect Retell: the agents show; choose them on the stopped number, continue, and it
	// is imported into Retell with them, still with one purchase.
	if res := c.Post(home+"/settings/voice", url.Values{"key": {retellKey}, "max_concurrent": {"5"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("connect Retell: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	page = c.Get(base)
	if !strings.Contains(page.Body, "Vendas") || !strings.Contains(page.Body, `data-testid="voice-number-agents"`) {
		t.Fatalf("agents not listed: %s", webtest.Text(page.Body))
	}
	agents := base + "/" + strconv.FormatInt(id, 10) + "/agents"
	if res := c.Post(agents, url.Values{"inbound_agent_id": {in.AgentID}, "outbound_agent_id": {out.AgentID}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("agents: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if res := c.Post(cont, url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("continue with Retell: %d", res.StatusCode)
	}
	if err := inst.App.Store.DB().QueryRow(`SELECT step, status FROM voice_numbers WHERE id = $1`, id).Scan(&step, &status); err != nil ||
		step != model.NumberReady || status != "ready" {
		t.Fatalf("after continue with Retell: %s %s %v", step, status, err)
	}
	imports := rs.Imports()
	if len(imports) != 1 || imports[0].PhoneNumber != "+16285550100" || !strings.HasSuffix(imports[0].TerminationURI, ".pstn.twilio.com") ||
		imports[0].InboundAgents[0].AgentID != in.AgentID || imports[0].OutboundAgents[0].AgentID != out.AgentID {
		t.Fatalf("imports: %+v", imports)
	}
	if n := len(ts.Purchases()); n != 1 {
		t.Fatalf("%d purchases", n)
	}
	// Swap the agents of the ready number: Retell's number changes.
	if res := c.Post(agents, url.Values{"inbound_agent_id": {out.AgentID}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("swap agents: %d", res.StatusCode)
	}
	if p := rs.PhoneNumbers()[0]; len(p.InboundAgents) != 1 || p.InboundAgents[0].AgentID != out.AgentID || len(p.OutboundAgents) != 0 {
		t.Fatalf("Retell's number: %+v", p)
	}
	if page := c.Get(base); !strings.Contains(page.Body, `data-status="ready"`) || strings.Contains(page.Body, `data-testid="voice-number-continue"`) {
		t.Fatalf("page when ready: %s", webtest.Text(page.Body))
	}
}
