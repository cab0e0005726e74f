package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"masteria/app/model"
)

// campaignSetup is the linked CRM's org (a Cloud API number with an approved template and
// a contact) with a saved segment of everyone and a second contact without a name, whose
// template variable takes the fallback.
func campaignSetup(t *testing.T, ctx context.Context) (*crmSetup, int64) {
	t.Helper()
	s := newCRMSetup(t, ctx)
	app := s.inst.App
	var userID int64
	_ = app.Store.DB().Get(&userID, `SELECT id FROM users`)
	a := model.Actor{OrgID: s.orgID, UserID: userID, Role: model.RoleOwner}
	p := "+5511987650102"
	if _, err := app.Store.CreateContact(ctx, model.Contact{OrgID: s.orgID, Phone: &p}); err != nil {
		t.Fatal(err)
	}
	seg, err := app.CRM.SaveSegment(ctx, a, 0, "Clientes de São Paulo", model.ContactFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return s, seg
}

// TestCampaignBuild builds a campaign from a saved segment with a template whose variable
// falls back to "cliente", sees the pre-launch check and launches it.
func TestCampaignBuild(t *testing.T) {
	needChromium(t)
	ctx := testContext(t, 2*testTimeout)
	s, seg := campaignSetup(t, ctx)
	b := newBrowser(t, ctx, "campaign-build", s.inst.URL)
	s.login(b)

	b.open(s.home+"/campaigns", tid("campaigns-empty"))
	b.do("start a campaign", chromedp.Click(tid("campaigns-new")), chromedp.WaitVisible(tid("campaign-name")))
	b.do("name it", chromedp.SendKeys(tid("campaign-name"), "Bolo do mês"), chromedp.Click(tid("campaign-next")))
	b.waitPath("the channel step", `/campaigns/\d+/edit$`)
	b.do("choose the channel", chromedp.Click(tid(fmt.Sprintf("campaign-channel-%d", s.ch.ID))), chromedp.Click(tid("campaign-next")))
	b.waitJS("the audience step", `!!document.querySelector('[data-testid="audience-segment"]')`, waitTimeout)
	b.do("choose the segment", choose(tid("audience-segment"), fmt.Sprint(seg)))
	b.waitJS("the live count", `document.querySelector('[data-testid="audience-count"]').textContent.includes("2")`, waitTimeout)
	b.do("next", chromedp.Click(tid("campaign-next")))
	b.waitJS("the message step", `!!document.querySelector('[data-testid="v0-template"]')`, waitTimeout)
	tplID := eval[string](b, `[...document.querySelectorAll('[data-testid="v0-template"] option')].find(o => o.textContent.includes("orcamento_pronto")).value`)
	b.do("choose the template", choose(tid("v0-template"), tplID))
	b.waitJS("its variable is asked", `!!document.querySelector('[data-testid="v0_var0"]')`, waitTimeout)
	b.do("map it to the first name with a fallback", choose(tid("v0_var0"), "field:first_name"),
		chromedp.SendKeys(tid("v0_var0-fallback"), "cliente"), chromedp.Click(tid("campaign-refresh")))
	b.waitJS("the preview shows the fallback", `[...document.querySelectorAll('[data-testid="campaign-preview-text"]')].some(p => p.textContent.includes("Olá cliente,"))`, waitTimeout)
	if got := b.text(tid("campaign-previews")); !strings.Contains(got, "Olá João,") {
		t.Fatalf("the preview lacks the named contact: %s", got)
	}
	b.do("next", chromedp.Click(tid("campaign-next")))
	b.waitJS("the schedule step", `!!document.querySelector('[data-testid="schedule-now"]')`, waitTimeout)
	b.do("review", chromedp.Click(tid("campaign-next")))
	b.waitPath("the check", `/campaigns/\d+/check$`)
	if got := b.text(tid("check-sendable")); got != "2" {
		t.Fatalf("sendable %q, want 2", got)
	}
	b.do("launch", chromedp.Click(tid("campaign-launch")))
	path := b.waitPath("the run page", `/campaigns/\d+$`)
	var id int64
	if _, err := fmt.Sscanf(path[strings.LastIndex(path, "/")+1:], "%d", &id); err != nil {
		t.Fatalf("path %q", path)
	}
	waitFor(t, ctx, "the campaign launched", func() bool {
		var status string
		_ = s.inst.App.Store.DB().Get(&status, `SELECT status FROM campaigns WHERE id = $1`, id)
		return status == model.CampaignRunning || status == model.CampaignCompleted
	})
}

// TestScreenshotsCampaigns writes PNGs of the campaign pages (the list, the builder's
// audience, message and schedule steps, the check, the price table) at 1366 and 390 px,
// light and dark, in English and Portuguese, into MASTERIA_SCREENSHOTS.
func TestScreenshotsCampaigns(t *testing.T) {
	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	if dir == "" {
		t.Skip("set MASTERIA_SCREENSHOTS to a folder to write screenshots of the campaign pages")
	}
	needChromium(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t, 4*testTimeout)
	s, seg := campaignSetup(t, ctx)
	app := s.inst.App
	var userID, tplID int64
	_ = app.Store.DB().Get(&userID, `SELECT id FROM users`)
	_ = app.Store.DB().Get(&tplID, `SELECT id FROM message_templates WHERE org_id = $1`, s.orgID)
	a := model.Actor{OrgID: s.orgID, UserID: userID, Role: model.RoleOwner}
	c, err := app.Campaigns.Create(ctx, a, model.Campaign{Name: "Bolo do mês de maio", ChannelID: &s.ch.ID, Audience: model.Audience{SegmentID: seg},
		Message: model.CampaignMessage{Variants: []model.Variant{{TemplateID: tplID, Vars: []model.VarMap{{Source: "field", Field: "first_name", Fallback: "cliente"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, ctx, "campaign-shots", s.inst.URL)
	b.keys = i18nKeys(t)
	s.login(b)
	base := fmt.Sprintf("%s/campaigns/%d", s.home, c.ID)
	for _, lang := range []string{"en", "ptbr"} {
		if lang == "ptbr" {
			b.open(s.home+"/settings/profile", tid("profile-form"))
			b.do("switch to Portuguese", chromedp.SetValue(tid("profile-locale"), "pt-BR"), chromedp.Click(tid("profile-save")))
			b.waitJS("the page is in Portuguese", `document.documentElement.lang === "pt-BR"`, waitTimeout)
		}
		for _, l := range crmLooks {
			name := func(page string) string { return "campaigns-" + page + "-" + lang + "-" + l.name }
			b.setLook(l)
			b.open(s.home+"/campaigns", tid("campaigns-table"))
			b.save(dir, name("list"), l)
			b.open(base+"/edit?step=audience", tid("audience-segment"))
			b.save(dir, name("audience"), l)
			b.open(base+"/edit?step=message", tid("campaign-previews"))
			b.save(dir, name("message"), l)
			b.open(base+"/edit?step=schedule", tid("schedule-now"))
			b.save(dir, name("schedule"), l)
			b.open(base+"/check", tid("check-report"))
			b.save(dir, name("check"), l)
			b.open(s.home+"/settings/prices", tid("prices-table"))
			b.save(dir, name("prices"), l)
		}
	}
	b.noConsoleErrors()
}
