package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

// campaignOrg is an org with a sandbox channel, two contacts and a draft built through the
// pages up to the message step.
type campaignOrg struct {
	*inboxOrg
	orgID int64
	ana   int64
	bia   int64
}

func newCampaignOrg(t *testing.T) *campaignOrg {
	t.Helper()
	o := &campaignOrg{inboxOrg: newInboxOrg(t)}
	o.orgID = o.orgID2()
	ctx := context.Background()
	p, q := "+5511944441001", "+5511944441002"
	var err error
	if o.ana, err = o.inst.App.Store.CreateContact(ctx, model.Contact{OrgID: o.orgID, Name: "Ana Lima", Phone: &p}); err != nil {
		t.Fatal(err)
	}
	if o.bia, err = o.inst.App.Store.CreateContact(ctx, model.Contact{OrgID: o.orgID, Name: "Bia Reis", Phone: &q}); err != nil {
		t.Fatal(err)
	}
	return o
}

func (o *campaignOrg) orgID2() int64 {
	var id int64
	_, _ = fmt.Sscanf(o.home, "/o/%d", &id)
	return id
}

// build creates a draft and walks its steps; it returns the campaign's path.
func (o *campaignOrg) build(t *testing.T, text string) string {
	t.Helper()
	res := o.owner.Post(o.home+"/campaigns", url.Values{"name": {"Promoção de pão"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	loc := res.Header.Get("Location")
	base := strings.TrimSuffix(loc, "/edit?step=channel")
	for _, st := range []struct {
		step string
		form url.Values
	}{
		{"channel", url.Values{"channel_id": {fmt.Sprint(o.ch.ID)}}},
		{"audience", url.Values{"contact_ids": {fmt.Sprint(o.ana), fmt.Sprint(o.bia)}}},
		{"message", url.Values{"v0_text": {text}, "test_pct": {"0"}}},
		{"schedule", url.Values{"when": {"now"}, "quiet_start": {"0"}, "quiet_end": {"0"}, "reply_hours": {"72"}, "category": {"marketing"}}},
	} {
		res := o.owner.Post(base+"/edit?step="+st.step, st.form)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("step %s: %d %s", st.step, res.StatusCode, webtest.Text(res.Body))
		}
	}
	return base
}

func TestCampaignBuildCheckLaunch(t *testing.T) {
	t.Parallel()
	o := newCampaignOrg(t)
	if res := o.owner.Get(o.home + "/campaigns"); res.StatusCode != 200 || !strings.Contains(res.Body, `data-testid="campaigns-empty"`) {
		t.Fatalf("empty list: %d", res.StatusCode)
	}
	base := o.build(t, "{Oi|Olá} {{primeiro_nome|cliente}}, pão quentinho às 17h!")
	// Each step's page shows what was saved.
	if res := o.owner.Get(base + "/edit?step=message"); res.StatusCode != 200 || !strings.Contains(res.Body, "pão quentinho") ||
		!strings.Contains(res.Body, `data-testid="campaign-preview"`) || !strings.Contains(webtest.Text(res.Body), "Ana, pão quentinho") {
		t.Fatalf("message step: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if res := o.owner.Get(base+"/audience/count?contact_ids="+fmt.Sprint(o.ana), "HX-Request", "true"); res.StatusCode != 200 || !strings.Contains(res.Body, "1 contact") {
		t.Fatalf("count: %d %s", res.StatusCode, res.Body)
	}
	res := o.owner.Get(base + "/check")
	if res.StatusCode != 200 || !strings.Contains(res.Body, `data-testid="check-sendable">2<`) || !strings.Contains(res.Body, `data-testid="campaign-launch"`) {
		t.Fatalf("check: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	// Launch without CSRF: refused, nothing changes.
	if res := o.owner.PostRaw(base+"/launch", nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("launch without CSRF: %d", res.StatusCode)
	}
	res = o.owner.Post(base+"/launch", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != base {
		t.Fatalf("launch: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	var status string
	_ = o.inst.App.Store.DB().Get(&status, `SELECT status FROM campaigns WHERE org_id = $1`, o.orgID)
	if status == model.CampaignDraft {
		t.Fatalf("status after launch: %s", status)
	}
	// A second launch: 409, said in words (page and htmx toast), nothing changes.
	res = o.owner.Post(base+"/launch", nil)
	if res.StatusCode != http.StatusConflict || !strings.Contains(webtest.Text(res.Body), "already launched") {
		t.Fatalf("second launch: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	res = o.owner.PostRaw(base+"/launch", nil, "HX-Request", "true", "X-CSRF-Token", o.owner.CSRF())
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.Header.Get("HX-Trigger"), "already launched") {
		t.Fatalf("second launch (htmx): %d %q", res.StatusCode, res.Header.Get("HX-Trigger"))
	}
	// A launched campaign is not edited any more.
	if res := o.owner.Post(base+"/edit?step=name", url.Values{"name": {"Outra"}}); res.StatusCode != http.StatusConflict {
		t.Fatalf("edit after launch: %d", res.StatusCode)
	}
	if res := o.owner.Get(o.home + "/campaigns"); res.StatusCode != 200 || !strings.Contains(res.Body, "Promoção de pão") || !strings.Contains(res.Body, "of 2 sent") {
		t.Fatalf("list: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
}

func TestCampaignPagesRefuse(t *testing.T) {
	t.Parallel()
	o := newCampaignOrg(t)
	base := o.build(t, "Oi {{nome}}")
	fContact, fChannel := foreignIDs(t, o.inst)

	// Agents may not run campaigns: every page and form is 403 and the nav hides them.
	agent, _ := o.member(model.RoleAgent)
	for _, p := range []string{"/campaigns", "/campaigns/new", strings.TrimPrefix(base, o.home) + "/check", "/settings/prices"} {
		if res := agent.Get(o.home + p); res.StatusCode != http.StatusForbidden {
			t.Errorf("agent GET %s: %d", p, res.StatusCode)
		}
	}
	if res := agent.Post(base+"/launch", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent launch: %d", res.StatusCode)
	}
	if res := agent.Get(o.home); strings.Contains(res.Body, o.home+"/campaigns\"") {
		t.Error("the agent's menu shows Campaigns")
	}
	if res := o.owner.Get(o.home); !strings.Contains(res.Body, o.home+"/campaigns\"") {
		t.Error("the owner's menu lacks Campaigns")
	}
	// Managers may; the channel's send settings are for admins.
	manager, _ := o.member(model.RoleManager)
	if res := manager.Get(base + "/check"); res.StatusCode != 200 {
		t.Errorf("manager check: %d", res.StatusCode)
	}
	if res := manager.Get(fmt.Sprintf("%s/settings/channels/%d/sending", o.home, o.ch.ID)); res.StatusCode != http.StatusForbidden {
		t.Errorf("manager sending settings: %d", res.StatusCode)
	}

	// Another org's ids: 404, nothing saved.
	for name, tc := range map[string]struct {
		step string
		form url.Values
	}{
		"foreign channel": {"channel", url.Values{"channel_id": {fmt.Sprint(fChannel)}}},
		"foreign contact": {"audience", url.Values{"contact_ids": {fmt.Sprint(fContact)}}},
		"foreign segment": {"audience", url.Values{"segment_id": {"999999"}}},
	} {
		if res := o.owner.Post(base+"/edit?step="+tc.step, tc.form); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
	}
	outsider := newInboxOrg(t)
	for _, p := range []string{"/edit?step=name", "/check", "/audience/count"} {
		if res := outsider.owner.Get(strings.Replace(base, o.home, outsider.home, 1) + p); res.StatusCode != http.StatusNotFound {
			t.Errorf("another org's campaign %s: %d", p, res.StatusCode)
		}
	}
	if res := outsider.owner.Post(strings.Replace(base, o.home, outsider.home, 1)+"/launch", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("launch another org's campaign: %d", res.StatusCode)
	}
	if res := o.owner.Get(fmt.Sprintf("%s/settings/channels/%d/sending", o.home, fChannel)); res.StatusCode != http.StatusNotFound {
		t.Errorf("another org's channel settings: %d", res.StatusCode)
	}

	// Bad input: 422 with the field, or 400 for ids that are not numbers.
	for name, tc := range map[string]struct {
		step, want string
		form       url.Values
		status     int
	}{
		"empty name":     {"name", "Give the campaign a name", url.Values{"name": {"  "}}, 422},
		"long name":      {"name", "Give the campaign a name", url.Values{"name": {strings.Repeat("a", 121)}}, 422},
		"bad braces":     {"message", "never closed", url.Values{"v0_text": {"Oi {amigo|amiga"}}, 422},
		"quiet hours":    {"schedule", "hours from 0 to 23", url.Values{"quiet_start": {"25"}, "reply_hours": {"72"}}, 422},
		"past date":      {"schedule", "has passed", url.Values{"when": {"later"}, "date": {"2020-01-01"}, "time": {"10:00"}, "reply_hours": {"72"}}, 422},
		"bad date":       {"schedule", "valid date", url.Values{"when": {"later"}, "date": {"amanhã"}, "time": {"10:00"}}, 422},
		"id not numeric": {"audience", "", url.Values{"tag_ids": {"abc"}}, 400},
	} {
		res := o.owner.Post(base+"/edit?step="+tc.step, tc.form)
		if res.StatusCode != tc.status || !strings.Contains(webtest.Text(res.Body), tc.want) {
			t.Errorf("%s: %d %s", name, res.StatusCode, webtest.Text(res.Body))
		}
	}
	// An oversized form is refused before any handler reads it.
	if res := o.owner.Post(base+"/edit?step=message", url.Values{"v0_text": {strings.Repeat("x", 3<<20)}}); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", res.StatusCode)
	}
	var name string
	_ = o.inst.App.Store.DB().Get(&name, `SELECT name FROM campaigns WHERE org_id = $1`, o.orgID)
	if name != "Promoção de pão" {
		t.Errorf("refused input changed the name: %q", name)
	}

	// Send settings and prices refuse what is out of range.
	sending := fmt.Sprintf("%s/settings/channels/%d/sending", o.home, o.ch.ID)
	if res := o.owner.Post(sending, url.Values{"rate": {"5000"}}); res.StatusCode != 422 {
		t.Errorf("rate 5000: %d", res.StatusCode)
	}
	if res := o.owner.Post(sending, url.Values{"rate": {"20"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("rate 20: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if res := o.owner.Post(o.home+"/settings/prices", url.Values{"kind": {model.KindWhatsAppCloud}, "country": {"Brasil"}, "category": {"marketing"}, "price": {"0.05"}, "currency": {"BRL"}}); res.StatusCode != 422 {
		t.Errorf("bad country: %d", res.StatusCode)
	}
	if res := o.owner.Post(o.home+"/settings/prices", url.Values{"kind": {model.KindWhatsAppCloud}, "country": {"br"}, "category": {"marketing"}, "price": {"0,3"}, "currency": {"brl"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("price: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if res := o.owner.Get(o.home + "/settings/prices"); !strings.Contains(res.Body, "0.3") {
		t.Errorf("the saved price is not listed")
	}
}

// TestCampaignTemplateNotApproved: on the Cloud API a template that is no longer approved
// stops the check and the launch with its field (422), and nothing is launched.
func TestCampaignTemplateNotApproved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := newCampaignOrg(t)
	wa, err := o.inst.App.Inbox.CreateChannel(ctx, model.Actor{OrgID: o.orgID, Role: model.RoleOwner}, model.KindWhatsAppCloud, "WhatsApp",
		map[string]string{"phone_number_id": "1"}, map[string]string{"app_secret": "x"})
	if err != nil {
		t.Fatal(err)
	}
	comps, _ := json.Marshal([]map[string]string{{"type": "BODY", "text": "Oi {{1}}, temos pão!"}})
	if err := o.inst.App.Store.ReplaceTemplates(ctx, o.orgID, wa.ID, []model.Template{{OrgID: o.orgID, ChannelID: wa.ID, ProviderID: "t1",
		Name: "pao_quente", Language: "pt_BR", Category: "MARKETING", Status: "APPROVED", Components: comps}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	var tid int64
	_ = o.inst.App.Store.DB().Get(&tid, `SELECT id FROM message_templates WHERE org_id = $1`, o.orgID)
	base := o.build(t, "x")
	for _, st := range []struct {
		step string
		form url.Values
	}{
		{"channel", url.Values{"channel_id": {fmt.Sprint(wa.ID)}}},
		{"message", url.Values{"v0_template_id": {fmt.Sprint(tid)}, "v0_var0": {"field:first_name"}, "v0_var0_fallback": {"cliente"}}},
	} {
		if res := o.owner.Post(base+"/edit?step="+st.step, st.form); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", st.step, res.StatusCode, webtest.Text(res.Body))
		}
	}
	if res := o.owner.Get(base + "/edit?step=message"); !strings.Contains(webtest.Text(res.Body), "Oi Ana, temos pão!") {
		t.Fatalf("template preview: %s", webtest.Text(res.Body))
	}
	if res := o.owner.Get(base + "/check"); !strings.Contains(res.Body, `data-testid="check-report"`) {
		t.Fatalf("check with an approved template: %s", webtest.Text(res.Body))
	}
	if err := o.inst.App.Store.SetTemplateStatus(ctx, o.orgID, wa.ID, "pao_quente", "pt_BR", "PAUSED"); err != nil {
		t.Fatal(err)
	}
	if res := o.owner.Get(base + "/check"); !strings.Contains(res.Body, `data-testid="check-not-ready"`) || !strings.Contains(webtest.Text(res.Body), "not approved anymore") {
		t.Fatalf("check with a paused template: %s", webtest.Text(res.Body))
	}
	res := o.owner.Post(base+"/launch", nil)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(webtest.Text(res.Body), "not approved anymore") {
		t.Fatalf("launch with a paused template: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	var status string
	_ = o.inst.App.Store.DB().Get(&status, `SELECT status FROM campaigns WHERE org_id = $1`, o.orgID)
	if status != model.CampaignDraft {
		t.Fatalf("status %s after a refused launch", status)
	}
}

// TestCampaignCSVAudience: a CSV uploaded for a campaign goes through the contact import;
// its broken rows are reported and left out, the good ones are the audience.
func TestCampaignCSVAudience(t *testing.T) {
	t.Parallel()
	o := newCampaignOrg(t)
	base := o.build(t, "Oi {{nome}}")
	csv := "nome,telefone\nCarla Dias,+5511944442001\nDudu,abc\nEva Nunes,+5511944442003\n"
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("_csrf", o.owner.CSRF())
	fw, _ := w.CreateFormFile("file", "clientes.csv")
	_, _ = fw.Write([]byte(csv))
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, o.inst.URL+base+"/audience/csv", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	res := o.owner.Do(req)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	var importID int64
	deadline := time.Now().Add(20 * time.Second)
	for {
		var status string
		_ = o.inst.App.Store.DB().QueryRow(`SELECT id, status FROM contact_imports WHERE org_id = $1`, o.orgID).Scan(&importID, &status)
		if status == "done" || status == "failed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("import still %q", status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	page := o.owner.Get(base + "/edit?step=audience")
	if !strings.Contains(webtest.Text(page.Body), "2 contacts ready, 1 rows with problems") {
		t.Fatalf("the audience step does not report the import: %s", webtest.Text(page.Body))
	}
	// Only the import now: the two good rows are the audience.
	if res := o.owner.Post(base+"/edit?step=audience", url.Values{"import_id": {fmt.Sprint(importID)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("audience: %d", res.StatusCode)
	}
	if res := o.owner.Get(base + "/check"); !strings.Contains(res.Body, `data-testid="check-sendable">2<`) {
		var aud string
		_ = o.inst.App.Store.DB().Get(&aud, `SELECT audience::text FROM campaigns WHERE org_id = $1`, o.orgID)
		t.Fatalf("check: %s (audience %s)", webtest.Text(res.Body), aud)
	}
}
