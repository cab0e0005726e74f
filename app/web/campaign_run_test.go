package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"masteria/app/crm"
	"masteria/app/model"
	"masteria/app/web/webtest"
)

// runOrg is an inbox org with contacts and a way to make campaigns on its sandbox channel.
type runOrg struct {
	*inboxOrg
	a        model.Actor
	contacts []int64
}

func newRunOrg(t *testing.T, names ...string) *runOrg {
	t.Helper()
	o := &runOrg{inboxOrg: newInboxOrg(t)}
	var ownerID int64
	if err := o.inst.App.Store.DB().Get(&ownerID, `SELECT user_id FROM memberships WHERE org_id = $1`, o.orgID()); err != nil {
		t.Fatal(err)
	}
	o.a = model.Actor{OrgID: o.orgID(), UserID: ownerID, Role: model.RoleOwner}
	for i, n := range names {
		ct, err := o.inst.App.CRM.Create(context.Background(), o.a, crm.ContactInput{Name: n, Phone: fmt.Sprintf("+55119876500%02d", i+10)})
		if err != nil {
			t.Fatal(err)
		}
		o.contacts = append(o.contacts, ct.ID)
	}
	return o
}

// campaign creates a text campaign to every contact and launches it (at once, or at a time).
func (o *runOrg) campaign(name string, at *time.Time, variants ...string) model.Campaign {
	o.t.Helper()
	ctx := context.Background()
	if len(variants) == 0 {
		variants = []string{"Olá {{nome}}, a fornada de hoje saiu!"}
	}
	c := model.Campaign{Name: name, ChannelID: &o.ch.ID, Audience: model.Audience{ContactIDs: o.contacts}, ScheduledAt: at,
		Settings: model.DefaultCampaignSettings()}
	c.Settings.QuietStart, c.Settings.QuietEnd = 0, 0 // no quiet hours: the test runs at any hour
	for _, v := range variants {
		c.Message.Variants = append(c.Message.Variants, model.Variant{Text: v})
	}
	if len(variants) > 1 {
		c.Settings.TestPct, c.Settings.AutoWinner = 50, false
	}
	c, err := o.inst.App.Campaigns.Create(ctx, o.a, c)
	if err != nil {
		o.t.Fatal(err)
	}
	if c, err = o.inst.App.Campaigns.Launch(ctx, o.a, c.ID); err != nil {
		o.t.Fatal(err)
	}
	return c
}

func (o *runOrg) status(id int64) string {
	c, err := o.inst.App.Campaigns.Campaign(context.Background(), o.a, id)
	if err != nil {
		o.t.Fatal(err)
	}
	return c.Status
}

// waitCampaign waits until the campaign is in status (the engine runs in the background).
func (o *runOrg) waitCampaign(id int64, status string) {
	o.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for o.status(id) != status {
		if time.Now().After(deadline) {
			p, _ := o.inst.App.Campaigns.Progress(context.Background(), o.a, id)
			o.t.Fatalf("campaign %d is %s after 30 s, want %s; recipients %v", id, o.status(id), status, p.ByStatus)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCampaignRunPage(t *testing.T) {
	t.Parallel()
	o := newRunOrg(t, "Ana Souza", "=HYPERLINK(\"http://x\")", "Caio Prado")
	c := o.campaign("Fornada de sexta", nil)
	o.waitCampaign(c.ID, model.CampaignCompleted)
	base := fmt.Sprintf("%s/campaigns/%d", o.home, c.ID)

	res := o.owner.Get(base)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="campaign-run"`) ||
		!strings.Contains(res.Body, "Fornada de sexta") || !strings.Contains(res.Body, `data-testid="campaign-progress"`) ||
		!strings.Contains(res.Body, `data-campaign-id="`+fmt.Sprint(c.ID)+`"`) {
		t.Fatalf("run page: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if n := strings.Count(res.Body, `data-testid="campaign-recipient"`); n != 3 {
		t.Fatalf("%d recipient rows, want 3", n)
	}
	if !strings.Contains(res.Body, `data-testid="recipient-conversation"`) || !strings.Contains(res.Body, `href="`+o.home+`/inbox/`) {
		t.Errorf("a recipient does not link to its conversation: %s", webtest.Text(res.Body))
	}
	// A finished campaign offers no pause, resume or cancel.
	for _, b := range []string{"campaign-pause", "campaign-resume", "campaign-cancel"} {
		if strings.Contains(res.Body, `data-testid="`+b+`"`) {
			t.Errorf("a finished campaign shows %s", b)
		}
	}
	if live := o.owner.Get(base+"/live", "HX-Request", "true"); live.StatusCode != http.StatusOK || !strings.Contains(live.Body, `id="campaign-live"`) ||
		strings.Contains(live.Body, "<html") {
		t.Fatalf("live part: %d %s", live.StatusCode, live.Body)
	}

	// The table: a filter, paging, bad input.
	rows := o.owner.Get(base+"/recipients?status=skipped", "HX-Request", "true")
	if rows.StatusCode != http.StatusOK || strings.Contains(rows.Body, `data-testid="campaign-recipient"`) {
		t.Fatalf("skipped filter: %d %s", rows.StatusCode, webtest.Text(rows.Body))
	}
	page := o.owner.Get(base+"/recipients?limit=2", "HX-Request", "true")
	if n := strings.Count(page.Body, `data-testid="campaign-recipient"`); page.StatusCode != http.StatusOK || n != 2 ||
		!strings.Contains(page.Body, `data-testid="campaign-recipients-more"`) {
		t.Fatalf("first page of 2: %d, %d rows", page.StatusCode, n)
	}
	var first, second int64
	_ = o.inst.App.Store.DB().QueryRow(`SELECT min(id), (SELECT id FROM campaign_recipients WHERE campaign_id = $1 ORDER BY id OFFSET 1 LIMIT 1)
		FROM campaign_recipients WHERE campaign_id = $1`, c.ID).Scan(&first, &second)
	more := o.owner.Get(fmt.Sprintf("%s/recipients?after=%d&limit=2", base, second), "HX-Request", "true")
	if n := strings.Count(more.Body, `data-testid="campaign-recipient"`); more.StatusCode != http.StatusOK || n != 1 ||
		strings.Contains(more.Body, `data-testid="campaign-recipients-more"`) || strings.Contains(more.Body, "campaign-tab-") {
		t.Fatalf("the page after: %d, %d rows: %s", more.StatusCode, n, more.Body)
	}
	for q, want := range map[string]int{
		"status=bogus": http.StatusUnprocessableEntity, "status=SENT": http.StatusUnprocessableEntity,
		"after=x": http.StatusBadRequest, "after=-1": http.StatusBadRequest, "limit=0": http.StatusBadRequest, "limit=abc": http.StatusBadRequest,
	} {
		if res := o.owner.Get(base+"/recipients?"+q, "HX-Request", "true"); res.StatusCode != want {
			t.Errorf("recipients?%s: %d, want %d", q, res.StatusCode, want)
		}
	}
	if res := o.owner.Get(base + "?status=bogus"); res.StatusCode != http.StatusUnprocessableEntity ||
		strings.Count(res.Body, `data-testid="campaign-recipient"`) != 3 {
		t.Errorf("the page with a bad filter: %d", res.StatusCode)
	}

	// The CSV: one row per recipient, formulas defused, times in UTC.
	csvRes := o.owner.Get(base + "/export")
	if csvRes.StatusCode != http.StatusOK || !strings.HasPrefix(csvRes.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(csvRes.Body, "\ufeffname,address,status,skip_reason,error_code,error,sent_at,delivered_at,read_at,replied_at,failed_at,variant\n") {
		t.Fatalf("export: %d %q", csvRes.StatusCode, csvRes.Body)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(csvRes.Body, "\ufeff"))).ReadAll()
	if err != nil || len(recs) != 4 {
		t.Fatalf("export rows: %v %d\n%s", err, len(recs), csvRes.Body)
	}
	if !strings.Contains(csvRes.Body, `'=HYPERLINK(""http://x"")`) || !strings.Contains(csvRes.Body, ",+5511987650010,") {
		t.Errorf("export cells:\n%s", csvRes.Body)
	}
	for _, r := range recs[1:] {
		if r[6] == "" || !strings.HasSuffix(r[6], "Z") {
			t.Errorf("a sent recipient without its sent time in UTC: %v", r)
		}
	}

	// Controls that do not apply to a finished campaign: 409, nothing changes.
	for _, action := range []string{"pause", "resume", "cancel"} {
		if res := o.owner.Post(base+"/"+action, nil); res.StatusCode != http.StatusConflict {
			t.Errorf("%s of a finished campaign: %d, want 409", action, res.StatusCode)
		}
	}
	if res := o.owner.Post(base+"/retry-failed", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("retry with nothing failed: %d", res.StatusCode)
	}
	if s := o.status(c.ID); s != model.CampaignCompleted {
		t.Fatalf("a refused control moved the campaign to %s", s)
	}
	// A campaign with one variant has no winner to choose.
	if res := o.owner.Post(base+"/winner", url.Values{"variant": {"1"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("winner of a variant that does not exist: %d", res.StatusCode)
	}
	if res := o.owner.Get(fmt.Sprintf("%s/campaigns/999999", o.home)); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown campaign: %d", res.StatusCode)
	}
}

func TestCampaignRunControls(t *testing.T) {
	t.Parallel()
	o := newRunOrg(t, "Ana Souza", "Caio Prado")
	later := time.Now().Add(2 * time.Hour)
	c := o.campaign("Natal", &later)
	if c.Status != model.CampaignScheduled {
		t.Fatalf("status %s, want scheduled", c.Status)
	}
	base := fmt.Sprintf("%s/campaigns/%d", o.home, c.ID)
	page := o.owner.Get(base)
	if !strings.Contains(page.Body, `data-testid="campaign-pause"`) || !strings.Contains(page.Body, `data-testid="campaign-cancel"`) ||
		strings.Contains(page.Body, `data-testid="campaign-resume"`) {
		t.Fatalf("a scheduled campaign's buttons: %s", webtest.Text(page.Body))
	}

	// Without the CSRF token: 403, nothing changes.
	if res := o.owner.PostRaw(base+"/pause", nil); res.StatusCode != http.StatusForbidden || o.status(c.ID) != model.CampaignScheduled {
		t.Fatalf("pause without CSRF: %d, %s", res.StatusCode, o.status(c.ID))
	}
	// Agents may not run campaigns: 403 on the page and on every control.
	agent, _ := o.member(model.RoleAgent)
	if res := agent.Get(base); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent page: %d", res.StatusCode)
	}
	for _, p := range []string{"/live", "/recipients", "/export"} {
		if res := agent.Get(base + p); res.StatusCode != http.StatusForbidden {
			t.Errorf("agent GET %s: %d", p, res.StatusCode)
		}
	}
	for _, action := range []string{"pause", "resume", "cancel", "retry-failed", "winner"} {
		if res := agent.Post(base+"/"+action, url.Values{"variant": {"0"}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("agent %s: %d", action, res.StatusCode)
		}
	}
	// Another org sees no such campaign, through its own org or this one.
	other := newRunOrgOn(t, o, "Loja Vizinha")
	for _, p := range []string{"", "/live", "/recipients", "/export"} {
		if res := other.owner.Get(fmt.Sprintf("%s/campaigns/%d%s", other.home, c.ID, p)); res.StatusCode != http.StatusNotFound {
			t.Errorf("other org GET %s: %d", p, res.StatusCode)
		}
		if res := other.owner.Get(base + p); res.StatusCode != http.StatusNotFound {
			t.Errorf("other org GET this org's %s: %d", p, res.StatusCode)
		}
	}
	for _, action := range []string{"pause", "resume", "cancel", "retry-failed", "winner"} {
		if res := other.owner.Post(fmt.Sprintf("%s/campaigns/%d/%s", other.home, c.ID, action), url.Values{"variant": {"0"}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("other org %s: %d", action, res.StatusCode)
		}
	}
	if o.status(c.ID) != model.CampaignScheduled {
		t.Fatalf("refused requests moved the campaign to %s", o.status(c.ID))
	}

	// Pause (htmx: the live part comes back with Resume), pause again 409, cancel, then nothing.
	res := o.owner.PostRaw(base+"/pause", url.Values{"_csrf": {o.owner.CSRF()}}, "HX-Request", "true")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="campaign-resume"`) || strings.Contains(res.Body, "<html") ||
		!strings.Contains(res.Header.Get("HX-Trigger"), "toast") {
		t.Fatalf("pause: %d %s", res.StatusCode, res.Body)
	}
	if s := o.status(c.ID); s != model.CampaignPaused {
		t.Fatalf("after pause: %s", s)
	}
	if res := o.owner.Post(base+"/pause", nil); res.StatusCode != http.StatusConflict {
		t.Errorf("pause twice: %d", res.StatusCode)
	}
	if res := o.owner.Post(base+"/cancel", nil); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != base {
		t.Fatalf("cancel: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	for _, action := range []string{"pause", "resume", "cancel", "retry-failed"} {
		if res := o.owner.Post(base+"/"+action, nil); res.StatusCode != http.StatusConflict {
			t.Errorf("%s of a cancelled campaign: %d, want 409", action, res.StatusCode)
		}
	}
	if s := o.status(c.ID); s != model.CampaignCancelled {
		t.Fatalf("after cancel: %s", s)
	}

}

// TestCampaignResumeAfterScheduledPause: a scheduled campaign paused, then resumed from its
// page, starts now and sends to its audience.
func TestCampaignResumeAfterScheduledPause(t *testing.T) {
	t.Parallel()
	o := newRunOrg(t, "Ana Souza", "Caio Prado")
	later := time.Now().Add(2 * time.Hour)
	c := o.campaign("Páscoa", &later)
	base := fmt.Sprintf("%s/campaigns/%d", o.home, c.ID)
	if res := o.owner.Post(base+"/pause", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("pause: %d", res.StatusCode)
	}
	if res := o.owner.Post(base+"/resume", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("resume: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	o.waitCampaign(c.ID, model.CampaignCompleted)
	// Scheduling sets launched_at, so campaign.Resume takes the paused-while-running path and
	// starts runners without taking the audience's snapshot: it completes with nobody.
	if p, _ := o.inst.App.Campaigns.Progress(context.Background(), o.a, c.ID); p.Total != 2 {
		t.Errorf("resumed after a pause while scheduled: %d recipients, want 2 (campaign.Resume skips the snapshot)", p.Total)
	}
}

// TestCampaignRunSelfPaused: a campaign that paused by itself says why in plain words.
func TestCampaignRunSelfPaused(t *testing.T) {
	t.Parallel()
	o := newRunOrg(t, "Ana Souza")
	later := time.Now().Add(2 * time.Hour)
	c := o.campaign("Promoção", &later, "Oi {{nome}}", "Olá {{nome}}")
	if _, err := o.inst.App.Store.DB().Exec(`UPDATE campaigns SET status = 'paused', pause_reason = 'failure_rate', pause_detail = '12/50' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	res := o.owner.Get(fmt.Sprintf("%s/campaigns/%d", o.home, c.ID))
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="campaign-pause-reason"`) ||
		!strings.Contains(res.Body, "Too many of the last messages failed.") || !strings.Contains(res.Body, "12 of the last 50 messages failed.") {
		t.Fatalf("self-paused: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if !strings.Contains(res.Body, `data-testid="campaign-variants"`) {
		t.Errorf("an A/B campaign without its variants: %s", webtest.Text(res.Body))
	}
	// A draft has no run page yet: it goes to its editor.
	d, err := o.inst.App.Campaigns.Create(context.Background(), o.a, model.Campaign{Name: "Rascunho"})
	if err != nil {
		t.Fatal(err)
	}
	if res := o.owner.Get(fmt.Sprintf("%s/campaigns/%d", o.home, d.ID)); res.StatusCode != http.StatusSeeOther ||
		res.Header.Get("Location") != fmt.Sprintf("%s/campaigns/%d/edit", o.home, d.ID) {
		t.Errorf("draft: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}
