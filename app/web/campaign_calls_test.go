package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/retellsim"
	"masteria/app/store/storetest"
	"masteria/app/voice/retell"
	"masteria/app/web/webtest"
)

// callCampaignOrg is an org with Retell connected (the simulator, over HTTP), a ready voice
// number with an outbound agent, a second agent, two contacts, and another org with its own
// voice number on the same instance.
type callCampaignOrg struct {
	*inboxOrg
	orgID        int64
	sim          *retellsim.Server
	number       model.VoiceNumber
	foreign      model.VoiceNumber
	agent, other retell.Agent
	ana, bia     int64
}

func newCallCampaignOrg(t *testing.T) *callCampaignOrg {
	t.Helper()
	const key = "key_sim_campaign_calls_0123456789"
	sim := retellsim.New(retellsim.WithAPIKeys(key))
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	inst := webtest.StartOn(t, storetest.URL(t), func(c *config.Config) { c.RetellAPIURL = sim.URL() })
	o := &callCampaignOrg{inboxOrg: &inboxOrg{t: t, inst: inst, owner: webtest.NewClient(t, inst.URL), name: "Corretora Ligações"}, sim: sim}
	o.home = o.owner.Signup(o.name, "Paula", uniqueEmail("paula"), strongPassword)
	_, _ = fmt.Sscanf(o.home, "/o/%d", &o.orgID)
	ctx := context.Background()
	st := inst.App.Store
	owner := model.Actor{OrgID: o.orgID, Role: model.RoleOwner}
	acc, err := inst.App.Voice.Connect(ctx, owner, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.App.Voice.SetMaxConcurrent(ctx, owner, 4); err != nil {
		t.Fatal(err)
	}
	sim.SetWebhook(fmt.Sprintf("%s/webhooks/retell/%d", inst.URL, acc.ID))
	o.agent = sim.AddAgent(retell.Agent{AgentName: "Vendas"})
	o.other = sim.AddAgent(retell.Agent{AgentName: "Cobrança"})
	if o.number, err = st.CreateVoiceNumber(ctx, o.orgID, model.VoiceNumber{PhoneNumber: "+551130007000", Source: "linked",
		Step: model.NumberReady, Status: model.NumberReady, OutboundAgentID: o.agent.AgentID}); err != nil {
		t.Fatal(err)
	}
	p, q := "+5511955552001", "+5511955552002"
	if o.ana, err = st.CreateContact(ctx, model.Contact{OrgID: o.orgID, Name: "Ana Lima", Phone: &p}); err != nil {
		t.Fatal(err)
	}
	if o.bia, err = st.CreateContact(ctx, model.Contact{OrgID: o.orgID, Name: "Bia Reis", Phone: &q}); err != nil {
		t.Fatal(err)
	}
	other, err := st.CreateOrg(ctx, "Vizinha Ligações")
	if err != nil {
		t.Fatal(err)
	}
	if o.foreign, err = st.CreateVoiceNumber(ctx, other.ID, model.VoiceNumber{PhoneNumber: "+551130007001", Source: "linked",
		Step: model.NumberReady, Status: model.NumberReady, OutboundAgentID: o.agent.AgentID}); err != nil {
		t.Fatal(err)
	}
	return o
}

func (o *callCampaignOrg) campaign(t *testing.T, id int64) model.Campaign {
	t.Helper()
	c, err := o.inst.App.Store.Campaign(context.Background(), o.orgID, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCallCampaignBuilder builds a call campaign through the pages: the voice number is a
// channel, the message step is the agent and the calling settings, the check speaks of
// calls; and every bad input is refused and changes nothing: another org's number (404), a
// number id that is not one (400), the agent role (403), no CSRF (403), settings out of
// range, an agent Retell does not know (422), NUL bytes and invalid UTF-8 (400), an oversized
// body (413).
func TestCallCampaignBuilder(t *testing.T) {
	t.Parallel()
	o := newCallCampaignOrg(t)
	res := o.owner.Post(o.home+"/campaigns", url.Values{"name": {"Ligações de junho"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	base := strings.TrimSuffix(res.Header.Get("Location"), "/edit?step=channel")
	var id int64
	_, _ = fmt.Sscanf(base, o.home+"/campaigns/%d", &id)

	page := o.owner.Get(base + "/edit?step=channel")
	if page.StatusCode != 200 || !strings.Contains(page.Body, fmt.Sprintf(`data-testid="campaign-voice-%d"`, o.number.ID)) ||
		!strings.Contains(webtest.Text(page.Body), "Call with +551130007000") {
		t.Fatalf("channel step: %d %s", page.StatusCode, webtest.Text(page.Body))
	}
	if strings.Contains(page.Body, "+551130007001") {
		t.Fatal("the channel step lists another org's number")
	}
	for name, tc := range map[string]struct {
		value  string
		status int
	}{
		"another org's number": {fmt.Sprintf("v%d", o.foreign.ID), http.StatusNotFound},
		"unknown number":       {"v999999", http.StatusNotFound},
		"not a number id":      {"vabc", http.StatusBadRequest},
		"empty number id":      {"v", http.StatusBadRequest},
	} {
		if res := o.owner.Post(base+"/edit?step=channel", url.Values{"channel_id": {tc.value}}); res.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", name, res.StatusCode, tc.status)
		}
	}
	if c := o.campaign(t, id); c.VoiceNumberID != nil {
		t.Fatalf("a refused channel was saved: %v", *c.VoiceNumberID)
	}
	agent, _ := o.member(model.RoleAgent)
	if res := agent.Post(base+"/edit?step=channel", url.Values{"channel_id": {fmt.Sprintf("v%d", o.number.ID)}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent role: %d", res.StatusCode)
	}
	if res := o.owner.PostRaw(base+"/edit?step=channel", url.Values{"channel_id": {fmt.Sprintf("v%d", o.number.ID)}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF: %d", res.StatusCode)
	}
	if c := o.campaign(t, id); c.VoiceNumberID != nil {
		t.Fatal("a refused request chose the number")
	}
	if res := o.owner.Post(base+"/edit?step=channel", url.Values{"channel_id": {fmt.Sprintf("v%d", o.number.ID)}}); res.StatusCode != http.StatusSeeOther ||
		!strings.HasSuffix(res.Header.Get("Location"), "step=audience") {
		t.Fatalf("choose the number: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if c := o.campaign(t, id); c.VoiceNumberID == nil || *c.VoiceNumberID != o.number.ID || c.ChannelID != nil || c.Settings.Concurrency != 2 {
		t.Fatalf("after the channel step: %+v", c)
	}
	if res := o.owner.Post(base+"/edit?step=audience", url.Values{"contact_ids": {fmt.Sprint(o.ana), fmt.Sprint(o.bia)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("audience: %d %s", res.StatusCode, webtest.Text(res.Body))
	}

	// The message step: the agents Retell lists, the limit of calls at once.
	page = o.owner.Get(base + "/edit?step=message")
	text := webtest.Text(page.Body)
	if page.StatusCode != 200 || !strings.Contains(text, "Cobrança") || !strings.Contains(text, "outbound agent (Vendas)") ||
		!strings.Contains(text, "From 1 to 4") || strings.Contains(page.Body, `data-testid="campaign-previews"`) {
		t.Fatalf("message step: %d %s", page.StatusCode, text)
	}
	good := url.Values{"agent_id": {o.other.AgentID}, "concurrency": {"3"}, "retry_minutes": {"60"}, "call_attempts": {"4"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = vv
		}
		f.Set(k, v)
		return f
	}
	for name, tc := range map[string]struct {
		form  url.Values
		field string
	}{
		"no calls at once":         {with("concurrency", "0"), "concurrency"},
		"over the org's limit":     {with("concurrency", "5"), "concurrency"},
		"concurrency not a number": {with("concurrency", "dois"), "concurrency"},
		"retry too soon":           {with("retry_minutes", "0"), "retry_minutes"},
		"retry after two days":     {with("retry_minutes", "2880"), "retry_minutes"},
		"no attempt":               {with("call_attempts", "0"), "call_attempts"},
		"six attempts":             {with("call_attempts", "6"), "call_attempts"},
		"unknown agent":            {with("agent_id", "agent_nobody"), "agent_id"},
	} {
		res := o.owner.Post(base+"/edit?step=message", tc.form)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `id="f-`+tc.field) {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
	}
	// NUL bytes and invalid UTF-8 are refused before any handler reads them.
	for name, v := range map[string]string{"NUL byte": "agent_\x00x", "not UTF-8": "agent_\xff\xfe"} {
		if res := o.owner.Post(base+"/edit?step=message", with("agent_id", v)); res.StatusCode != http.StatusBadRequest {
			t.Errorf("agent id with a %s: %d", name, res.StatusCode)
		}
	}
	if res := o.owner.Post(base+"/edit?step=message", with("agent_id", strings.Repeat("a", 3<<20))); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", res.StatusCode)
	}
	if c := o.campaign(t, id); c.Message.AgentID != "" || c.Settings.Concurrency != 2 || c.Settings.RetryMinutes != 120 || c.Settings.CallAttempts != 3 {
		t.Fatalf("refused forms changed the draft: %+v %+v", c.Message, c.Settings)
	}
	if res := o.owner.Post(base+"/edit?step=message", good); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("message: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	c := o.campaign(t, id)
	if c.Message.AgentID != o.other.AgentID || c.Settings.Concurrency != 3 || c.Settings.RetryMinutes != 60 || c.Settings.CallAttempts != 4 {
		t.Fatalf("saved: %+v %+v", c.Message, c.Settings)
	}
	if res := o.owner.Post(base+"/edit?step=schedule", url.Values{"when": {"now"}, "quiet_start": {"0"}, "quiet_end": {"0"},
		"reply_hours": {"72"}, "category": {"marketing"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("schedule: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	check := o.owner.Get(base + "/check")
	if check.StatusCode != 200 || !strings.Contains(check.Body, `data-testid="check-sendable">2<`) ||
		!strings.Contains(check.Body, `data-testid="check-concurrency">3<`) || !strings.Contains(webtest.Text(check.Body), "1 hour · 4 calls") {
		t.Fatalf("check: %d %s", check.StatusCode, webtest.Text(check.Body))
	}
	if list := o.owner.Get(o.home + "/campaigns"); list.StatusCode != 200 || !strings.Contains(webtest.Text(list.Body), "+551130007000 Voice calls") {
		t.Fatalf("list: %d %s", list.StatusCode, webtest.Text(list.Body))
	}
}

// TestAPICallCampaign creates a call campaign through the REST API, and refuses another
// org's number, a number and a channel at once, settings out of range and a bad agent id.
func TestAPICallCampaign(t *testing.T) {
	t.Parallel()
	o := newCallCampaignOrg(t)
	ctx := context.Background()
	key, err := o.inst.App.Account.CreateAPIKeyForOrgName(ctx, o.name, "ERP")
	if err != nil {
		t.Fatal(err)
	}
	count := func() (n int) {
		_ = o.inst.App.Store.DB().Get(&n, `SELECT count(*) FROM campaigns`)
		return n
	}
	before := count()
	chID := func() int64 {
		chs, err := o.inst.App.Inbox.Channels(ctx, o.orgID)
		if err != nil || len(chs) == 0 {
			ch, err := o.inst.App.Inbox.CreateChannel(ctx, model.Actor{OrgID: o.orgID, Role: model.RoleOwner}, model.KindSandbox, "Sandbox", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			return ch.ID
		}
		return chs[0].ID
	}()
	for name, tc := range map[string]struct {
		body   string
		status int
		code   string
	}{
		"another org's number": {fmt.Sprintf(`{"name":"x","voice_number_id":%d}`, o.foreign.ID), 404, "not_found"},
		"number and channel":   {fmt.Sprintf(`{"name":"x","voice_number_id":%d,"channel_id":%d}`, o.number.ID, chID), 422, "invalid"},
		"too many at once":     {fmt.Sprintf(`{"name":"x","voice_number_id":%d,"settings":{"concurrency":50}}`, o.number.ID), 422, "invalid"},
		"retry after 3 days":   {fmt.Sprintf(`{"name":"x","voice_number_id":%d,"settings":{"retry_minutes":4320}}`, o.number.ID), 422, "invalid"},
		"ten attempts":         {fmt.Sprintf(`{"name":"x","voice_number_id":%d,"settings":{"call_attempts":10}}`, o.number.ID), 422, "invalid"},
		"agent with a space":   {fmt.Sprintf(`{"name":"x","voice_number_id":%d,"message":{"agent_id":"a b"}}`, o.number.ID), 422, "invalid"},
		"text on a call":       {fmt.Sprintf(`{"name":"x","voice_number_id":%d,"message":{"variants":[{"text":"oi"}]}}`, o.number.ID), 422, "invalid"},
	} {
		res := apiCall(t, o.owner, key, "POST", "/api/v1/campaigns", tc.body)
		if res.StatusCode != tc.status || apiCode(t, res) != tc.code {
			t.Errorf("%s: %d %s", name, res.StatusCode, res.Body)
		}
	}
	if n := count(); n != before {
		t.Fatalf("refused creates stored %d campaigns", n-before)
	}
	res := apiCall(t, o.owner, key, "POST", "/api/v1/campaigns", fmt.Sprintf(`{"name":"Ligações","voice_number_id":%d,
		"audience":{"contact_ids":[%d,%d]},"message":{"agent_id":%q},"settings":{"concurrency":2,"retry_minutes":30,"call_attempts":2}}`,
		o.number.ID, o.ana, o.bia, o.other.AgentID))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", res.StatusCode, res.Body)
	}
	var out struct {
		Campaign model.Campaign `json:"campaign"`
	}
	if err := json.Unmarshal([]byte(res.Body), &out); err != nil {
		t.Fatal(err)
	}
	c := out.Campaign
	if c.VoiceNumberID == nil || *c.VoiceNumberID != o.number.ID || c.Message.AgentID != o.other.AgentID || c.Settings.Concurrency != 2 ||
		c.Settings.RetryMinutes != 30 || c.Settings.CallAttempts != 2 {
		t.Fatalf("created: %+v", c)
	}
	res = apiCall(t, o.owner, key, "GET", fmt.Sprintf("/api/v1/campaigns/%d/check", c.ID), "")
	if res.StatusCode != 200 || !strings.Contains(res.Body, `"sendable":2`) || !strings.Contains(res.Body, `"channel_kind":"voice"`) {
		t.Fatalf("check: %d %s", res.StatusCode, res.Body)
	}
}
