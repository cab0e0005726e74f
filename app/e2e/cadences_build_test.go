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

// cadenceSetup is the linked CRM's org (a Cloud API number with an approved template and
// a contact) with a Twilio SMS number too.
func cadenceSetup(t *testing.T, ctx context.Context) (*crmSetup, model.Channel) {
	t.Helper()
	s := newCRMSetup(t, ctx)
	sms, err := s.inst.App.Store.CreateChannel(ctx, model.Channel{OrgID: s.orgID, Kind: model.KindTwilioSMS, Name: "SMS da loja", Rate: 1})
	if err != nil {
		t.Fatal(err)
	}
	return s, sms
}

// TestCadenceBuild builds the ready-made cadence in the browser — WhatsApp (a template
// with its variable mapped); if it is not delivered in 10 minutes, an SMS; wait a day; an
// AI call — adds a step at the end in place (htmx), and saves it.
func TestCadenceBuild(t *testing.T) {
	needChromium(t)
	ctx := testContext(t, 2*testTimeout)
	s, sms := cadenceSetup(t, ctx)
	b := newBrowser(t, ctx, "cadence-build", s.inst.URL)
	s.login(b)

	b.open(s.home+"/cadences", tid("cadences-empty"))
	b.do("start from the ready-made cadence", chromedp.Click(tid("cadences-ready")), chromedp.WaitVisible(tid("cadence-form")))
	b.waitJS("five steps", `document.querySelectorAll('[data-testid="cadence-step"]').length === 5`, waitTimeout)
	if got := eval[string](b, `document.querySelector('[data-testid="st2_channel"]').value`); got != fmt.Sprint(sms.ID) {
		t.Fatalf("the SMS step's channel is %q, want the SMS number %d", got, sms.ID)
	}
	tplID := eval[string](b, `[...document.querySelectorAll('[data-testid="st0_template"] option')].find(o => o.textContent.includes("orcamento_pronto")).value`)
	b.do("choose the template", choose(tid("st0_template"), tplID))
	b.waitJS("its variable is asked", `!!document.querySelector('[data-testid="st0_var0"]')`, waitTimeout)
	b.do("map it to the first name with a fallback", choose(tid("st0_var0"), "field:first_name"),
		chromedp.SendKeys(`#st0_var0_fallback`, "cliente"))
	b.do("add a step at the end: the AI classifies the lead",
		chromedp.SetValue(`#add_kind_5`, model.StepClassify), chromedp.Click(`[data-step-id="s5"] [data-testid="step-add-button"]`))
	b.waitJS("six steps, in place", `document.querySelectorAll('[data-testid="cadence-step"]').length === 6`, waitTimeout)
	if got := eval[string](b, `document.querySelector('#st0_var0_fallback').value`); got != "cliente" {
		t.Fatalf("what was typed stays when a step is added: %q", got)
	}
	b.do("save", chromedp.Click(tid("cadence-save")))
	path := b.waitPath("the cadence's page", `/cadences/\d+$`)
	b.waitJS("saved", `!!document.querySelector('[data-testid="cadence-page-version"]')`, waitTimeout)
	var id int64
	if _, err := fmt.Sscanf(path[strings.LastIndex(path, "/")+1:], "%d", &id); err != nil {
		t.Fatalf("path %q", path)
	}
	c, err := s.inst.App.Cadences.Definition(ctx, s.orgID, id)
	if err != nil {
		t.Fatal(err)
	}
	st := c.Steps
	if len(st) != 6 || st[0].Kind != model.StepWhatsApp || st[0].ChannelID != s.ch.ID || st[0].Message.Template != "orcamento_pronto" ||
		len(st[0].Message.Vars) != 1 || st[0].Message.Vars[0].Fallback != "cliente" ||
		st[1].Kind != model.StepAwait || st[1].WithinMinutes != 10 || st[1].Otherwise != "s3" || st[1].Branches[0].Next != "s4" ||
		st[2].Kind != model.StepSMS || st[2].ChannelID != sms.ID || st[3].WaitMinutes != 24*60 || st[4].Kind != model.StepCall ||
		st[4].Next != st[5].ID || st[5].Kind != model.StepClassify {
		t.Fatalf("saved steps: %+v", st)
	}
	b.noConsoleErrors()
}

// TestScreenshotsCadences writes PNGs of the cadence list and builder at 1366 and 390 px,
// light and dark, in English and Portuguese, into MASTERIA_SCREENSHOTS.
func TestScreenshotsCadences(t *testing.T) {
	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	if dir == "" {
		t.Skip("set MASTERIA_SCREENSHOTS to a folder to write screenshots of the cadence pages")
	}
	needChromium(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t, 4*testTimeout)
	s, _ := cadenceSetup(t, ctx)
	b := newBrowser(t, ctx, "cadence-shots", s.inst.URL)
	b.keys = i18nKeys(t)
	s.login(b)
	for _, lang := range []string{"en", "ptbr"} {
		if lang == "ptbr" {
			b.open(s.home+"/settings/profile", tid("profile-form"))
			b.do("switch to Portuguese", chromedp.SetValue(tid("profile-locale"), "pt-BR"), chromedp.Click(tid("profile-save")))
			b.waitJS("the page is in Portuguese", `document.documentElement.lang === "pt-BR"`, waitTimeout)
		}
		for _, l := range crmLooks {
			name := func(page string) string { return "cadences-" + page + "-" + lang + "-" + l.name }
			b.setLook(l)
			if lang == "en" && l.name == "1366" {
				b.open(s.home+"/cadences", tid("cadences-empty"))
				b.save(dir, name("empty"), l)
			}
			b.open(s.home+"/cadences/new?from=ready", tid("cadence-form"))
			b.save(dir, name("builder"), l)
			if lang == "en" && l.name == "1366" {
				b.do("save with no name and an SMS with no channel", chromedp.Evaluate[chromedp.Void](`(() => {
					const n = document.querySelector('[data-testid="cadence-name"]'); n.removeAttribute("required"); n.value = "";
					document.querySelector('#st2_channel').value = ""; })()`), chromedp.Click(tid("cadence-save")))
				b.waitJS("the errors show", `!!document.querySelector('[data-step-id="s3"] .field-error, [data-step-id="s3"] [role="alert"]')`, waitTimeout)
				b.save(dir, name("errors"), l)
				b.open(s.home+"/cadences/new?from=ready", tid("cadence-form"))
				b.do("save", chromedp.Click(tid("cadence-save")))
				b.waitPath("saved", `/cadences/\d+$`)
			}
			b.open(s.home+"/cadences", tid("cadences-table"))
			b.save(dir, name("list"), l)
		}
	}
	// The form sent with mistakes answers 422, which the console reports; nothing else.
	b.flushConsole()
	for _, e := range b.consoleErrors() {
		if !strings.Contains(e, "status of 422") || !strings.Contains(e, s.home+"/cadences:") {
			t.Errorf("console: %s", e)
		}
	}
}
