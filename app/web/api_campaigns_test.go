package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

// TestAPICampaigns runs a campaign through the API from draft to the ledger, and checks
// every bad request: the answer, and that it changed nothing.
func TestAPICampaigns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := newRunOrg(t, "Ana Souza", "Caio Prado")
	key, err := o.inst.App.Account.CreateAPIKeyForOrgName(ctx, o.name, "ERP")
	if err != nil {
		t.Fatal(err)
	}
	// Another org on the same instance, with its own key, channel and contact.
	stranger := newRunOrgOn(t, o, "Loja Vizinha", "Rita")
	otherKey, err := o.inst.App.Account.CreateAPIKeyForOrgName(ctx, "Loja Vizinha", "ERP")
	if err != nil {
		t.Fatal(err)
	}
	api := func(k, method, path, body string) (int, string) {
		t.Helper()
		res := apiCall(t, o.owner, k, method, "/api/v1"+path, body)
		return res.StatusCode, res.Body
	}
	count := func() (n int) {
		_ = o.inst.App.Store.DB().Get(&n, `SELECT (SELECT count(*) FROM campaigns) * 1000 + (SELECT count(*) FROM campaign_recipients)`)
		return n
	}

	// Bad creates store nothing.
	before := count()
	for name, tc := range map[string]struct {
		body   string
		status int
		code   string
	}{
		"not json":          {`{"name":`, 400, "bad_json"},
		"unknown field":     {`{"name":"x","audience":{"segment":1}}`, 400, "bad_json"},
		"unknown setting":   {`{"name":"x","settings":{"quiet":1}}`, 400, "bad_json"},
		"no name":           {`{"name":"  "}`, 422, "invalid"},
		"bad quiet hours":   {`{"name":"x","settings":{"quiet_start":25}}`, 422, "invalid"},
		"four variants":     {`{"name":"x","message":{"variants":[{"text":"a"},{"text":"b"},{"text":"c"},{"text":"d"}]}}`, 422, "invalid"},
		"bad var source":    {`{"name":"x","message":{"variants":[{"text":"a","vars":[{"source":"sql"}]}]}}`, 422, "invalid"},
		"other org channel": {fmt.Sprintf(`{"name":"x","channel_id":%d}`, stranger.ch.ID), 404, "not_found"},
		"other org contact": {fmt.Sprintf(`{"name":"x","audience":{"contact_ids":[%d]}}`, stranger.contacts[0]), 404, "not_found"},
		"unknown tag":       {`{"name":"x","audience":{"tag_ids":[999999]}}`, 404, "not_found"},
		"unknown segment":   {`{"name":"x","audience":{"segment_id":999999}}`, 404, "not_found"},
		"past schedule":     {`{"name":"x","scheduled_at":"2001-01-01T00:00:00Z"}`, 422, "invalid"},
	} {
		status, body := api(key, "POST", "/campaigns", tc.body)
		if status != tc.status || !strings.Contains(body, `"code":"`+tc.code+`"`) {
			t.Errorf("%s: %d %s, want %d %s", name, status, body, tc.status, tc.code)
		}
		if tc.status == 422 && (!strings.Contains(body, `"fields":{`) || strings.Contains(body, "campaigns.")) {
			t.Errorf("%s: a 422 without its fields in English: %s", name, body)
		}
	}
	if count() != before {
		t.Fatalf("refused creates stored campaigns")
	}
	if status, _ := api("", "GET", "/campaigns", ""); status != http.StatusUnauthorized {
		t.Errorf("no key: %d", status)
	}

	// A good one: created, checked, launched once, and it completes.
	status, body := api(key, "POST", "/campaigns", fmt.Sprintf(`{"name":"Fornada","channel_id":%d,"audience":{"contact_ids":[%d,%d]},
		"message":{"variants":[{"text":"Olá {{nome}}, a fornada saiu!"}]},"settings":{"quiet_start":0,"quiet_end":0,"failure_pct":50}}`,
		o.ch.ID, o.contacts[0], o.contacts[1]))
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	var got struct {
		Campaign model.Campaign `json:"campaign"`
	}
	_ = json.Unmarshal([]byte(body), &got)
	c := got.Campaign
	if c.Status != model.CampaignDraft || c.Settings.FailurePct != 50 || c.Settings.ReplyHours != 72 {
		t.Fatalf("created: %+v", c)
	}
	path := fmt.Sprintf("/campaigns/%d", c.ID)
	if status, body := api(key, "GET", path+"/check", ""); status != http.StatusOK || !strings.Contains(body, `"sendable":2`) {
		t.Fatalf("check: %d %s", status, body)
	}
	if status, body := api(key, "POST", path+"/launch", ""); status != http.StatusOK || !strings.Contains(body, `"status":"running"`) {
		t.Fatalf("launch: %d %s", status, body)
	}
	if status, body := api(key, "POST", path+"/launch", ""); status != http.StatusConflict || !strings.Contains(body, `"code":"conflict"`) {
		t.Fatalf("launch twice: %d %s", status, body)
	}
	o.waitCampaign(c.ID, model.CampaignCompleted)
	if status, body := api(key, "GET", path+"/progress", ""); status != http.StatusOK || !strings.Contains(body, `"total":2`) || !strings.Contains(body, `"done":2`) {
		t.Fatalf("progress: %d %s", status, body)
	}
	var n int
	_ = o.inst.App.Store.DB().Get(&n, `SELECT count(*) FROM campaign_recipients WHERE campaign_id = $1`, c.ID)
	if n != 2 {
		t.Fatalf("%d recipients after a launch twice", n)
	}
	// Pause, resume and cancel of a finished campaign: 409, still completed.
	for _, action := range []string{"pause", "resume", "cancel"} {
		if status, body := api(key, "POST", path+"/"+action, ""); status != http.StatusConflict {
			t.Errorf("%s of a finished campaign: %d %s", action, status, body)
		}
	}
	if o.status(c.ID) != model.CampaignCompleted {
		t.Fatalf("a refused control moved the campaign to %s", o.status(c.ID))
	}

	// Recipients: pages, a filter, bad cursors and filters.
	status, body = api(key, "GET", path+"/recipients?limit=1", "")
	var page struct {
		Recipients []model.Recipient `json:"recipients"`
		Next       *string           `json:"next"`
	}
	_ = json.Unmarshal([]byte(body), &page)
	if status != http.StatusOK || len(page.Recipients) != 1 || page.Next == nil || page.Recipients[0].ConversationID == nil {
		t.Fatalf("first page: %d %s", status, body)
	}
	first := page.Recipients[0].ID
	_, body = api(key, "GET", fmt.Sprintf("%s/recipients?limit=1&after=%s", path, url.QueryEscape(*page.Next)), "")
	page.Next = nil
	_ = json.Unmarshal([]byte(body), &page)
	if len(page.Recipients) != 1 || page.Recipients[0].ID <= first || page.Next != nil {
		t.Fatalf("second and last page: %s", body)
	}
	for q, want := range map[string]int{"status=bogus": 422, "status=": 200, "after=abc": 400, "after=-5": 400, "limit=0": 400,
		"limit=5000": 400, "limit=x": 400, "status=skipped": 200} {
		if status, body := api(key, "GET", path+"/recipients?"+q, ""); status != want {
			t.Errorf("recipients?%s: %d %s, want %d", q, status, body, want)
		}
	}

	// The other org's key: every campaign route answers 404 and changes nothing.
	before = count()
	for _, r := range []struct{ method, path string }{
		{"GET", path}, {"GET", path + "/check"}, {"POST", path + "/launch"}, {"POST", path + "/pause"}, {"POST", path + "/resume"},
		{"POST", path + "/cancel"}, {"POST", path + "/retry-failed"}, {"GET", path + "/progress"}, {"GET", path + "/recipients"},
	} {
		if status, body := api(otherKey, r.method, r.path, ""); status != http.StatusNotFound || !strings.Contains(body, `"code":"not_found"`) {
			t.Errorf("other org %s %s: %d %s", r.method, r.path, status, body)
		}
	}
	if status, body := api(otherKey, "GET", "/campaigns", ""); status != http.StatusOK || strings.Contains(body, "Fornada") {
		t.Errorf("other org's list shows this org's campaign: %s", body)
	}
	for _, bad := range []string{"/campaigns/abc", "/campaigns/0", "/campaigns/-1"} {
		if status, _ := api(key, "GET", bad, ""); status != http.StatusNotFound {
			t.Errorf("GET %s: %d", bad, status)
		}
	}
	if count() != before {
		t.Fatalf("another org's requests changed campaigns")
	}

	// A scheduled campaign: pause, pause again, cancel, then nothing more.
	later := time.Now().Add(3 * time.Hour).UTC().Format(time.RFC3339)
	_, body = api(key, "POST", "/campaigns", fmt.Sprintf(`{"name":"Natal","channel_id":%d,"audience":{"contact_ids":[%d]},"message":{"variants":[{"text":"Feliz Natal"}]},"scheduled_at":%q}`,
		o.ch.ID, o.contacts[0], later))
	_ = json.Unmarshal([]byte(body), &got)
	xmas := fmt.Sprintf("/campaigns/%d", got.Campaign.ID)
	for i, step := range []struct {
		action string
		status int
		then   string
	}{
		{"launch", 200, model.CampaignScheduled}, {"resume", 409, model.CampaignScheduled}, {"pause", 200, model.CampaignPaused},
		{"pause", 409, model.CampaignPaused}, {"launch", 409, model.CampaignPaused}, {"cancel", 200, model.CampaignCancelled},
		{"cancel", 409, model.CampaignCancelled}, {"resume", 409, model.CampaignCancelled}, {"retry-failed", 409, model.CampaignCancelled},
	} {
		status, body := api(key, "POST", xmas+"/"+step.action, "")
		if status != step.status || o.status(got.Campaign.ID) != step.then {
			t.Fatalf("step %d %s: %d %s, now %s; want %d, %s", i, step.action, status, body, o.status(got.Campaign.ID), step.status, step.then)
		}
	}
}

// newRunOrgOn signs up a second org on o's instance with a sandbox channel and contacts.
func newRunOrgOn(t *testing.T, o *runOrg, org string, names ...string) *runOrg {
	t.Helper()
	ctx := context.Background()
	other := &runOrg{inboxOrg: &inboxOrg{t: t, inst: o.inst, name: org}}
	c := webtest.NewClient(t, o.inst.URL)
	other.owner = c
	other.home = c.Signup(org, "Rui", uniqueEmail("rui"), strongPassword)
	var orgID, userID int64
	_, _ = fmt.Sscanf(other.home, "/o/%d", &orgID)
	if err := o.inst.App.Store.DB().Get(&userID, `SELECT user_id FROM memberships WHERE org_id = $1`, orgID); err != nil {
		t.Fatal(err)
	}
	other.a = model.Actor{OrgID: orgID, UserID: userID, Role: model.RoleOwner}
	ch, err := o.inst.App.Inbox.CreateChannel(ctx, other.a, model.KindSandbox, "Loja", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	other.ch = ch
	for i, n := range names {
		p := fmt.Sprintf("+55219876500%02d", i+10)
		id, err := o.inst.App.Store.CreateContact(ctx, model.Contact{OrgID: orgID, Name: n, Phone: &p})
		if err != nil {
			t.Fatal(err)
		}
		other.contacts = append(other.contacts, id)
	}
	return other
}
