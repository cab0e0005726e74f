package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"masteria/app/model"
	"masteria/app/sim/metasim"
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

// mediaTemplate adds an approved template with an image header to the setup's channel and
// stores a photo for it; it returns the template's and the photo's ids.
func mediaTemplate(t *testing.T, ctx context.Context, s *crmSetup) (int64, int64) {
	t.Helper()
	app := s.inst.App
	raw := []map[string]any{{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "Olá {{1}}, o bolo do mês chegou! Peça o seu."}}
	// At the simulator too: a template sync keeps it.
	s.ms.AddTemplate(crmWABA, metasim.Template{Name: "bolo_do_mes_foto", Language: "pt_BR", Status: metasim.TemplateApproved,
		Category: metasim.CategoryMarketing, Components: raw})
	comps, _ := json.Marshal(raw)
	list, err := app.Store.Templates(ctx, s.orgID, s.ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	list = append(list, model.Template{ProviderID: "bolo_foto", Name: "bolo_do_mes_foto", Language: "pt_BR", Category: "MARKETING", Status: "APPROVED", Components: comps})
	if err := app.Store.ReplaceTemplates(ctx, s.orgID, s.ch.ID, list, time.Now()); err != nil {
		t.Fatal(err)
	}
	tpl, err := app.Store.TemplateByName(ctx, s.orgID, s.ch.ID, "bolo_do_mes_foto", "pt_BR")
	if err != nil {
		t.Fatal(err)
	}
	// A warm gradient, like a photo of a cake under a lamp.
	img := image.NewRGBA(image.Rect(0, 0, 320, 200))
	for y := range 200 {
		for x := range 320 {
			img.Set(x, y, color.RGBA{R: uint8(200 + x/8), G: uint8(120 + y/4), B: uint8(60 + (x+y)/10), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	m, err := app.Inbox.Media().Put(ctx, s.orgID, &buf, "image/png", "bolo-do-mes.png")
	if err != nil {
		t.Fatal(err)
	}
	return tpl.ID, m.ID
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
	var userID int64
	_ = app.Store.DB().Get(&userID, `SELECT id FROM users`)
	a := model.Actor{OrgID: s.orgID, UserID: userID, Role: model.RoleOwner}
	// The message step shows a template with an image header and its uploaded image.
	photoTpl, photo := mediaTemplate(t, ctx, s)
	c, err := app.Campaigns.Create(ctx, a, model.Campaign{Name: "Bolo do mês de maio", ChannelID: &s.ch.ID, Audience: model.Audience{SegmentID: seg},
		Message: model.CampaignMessage{Variants: []model.Variant{{TemplateID: photoTpl, MediaID: photo,
			Vars: []model.VarMap{{Source: "field", Field: "first_name", Fallback: "cliente"}}}}}})
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
