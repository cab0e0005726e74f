package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/retellsim"
	"masteria/app/sim/twiliosim"
	"masteria/app/voice/numbers"
	"masteria/app/voice/retell"
	"masteria/app/web/webtest"
)

// TestVoiceNumberReleaseScreens shows Settings → Voice → Numbers with a number bought here,
// a linked one and a release that stopped (Twilio refused to delete the trunk), at 1366 and
// 390 px, light and dark, in English and Portuguese: the release dialog lists its steps
// (the linked one's offers to leave Retell too) and fits the screen, the stopped release
// shows its step, reason and Continue, and the page never scrolls sideways. Then, in the
// browser, a release stops at the last step and Continue finishes it. With
// MASTERIA_SCREENSHOTS set it saves each screen.
func TestVoiceNumberReleaseScreens(t *testing.T) {
	t.Parallel()
	needChromium(t)
	ctx := testContext(t, 4*testTimeout)
	ts := twiliosim.New()
	tw, err := ts.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Close)
	const sid, token, key = "AC00112233445566778899aabbccddee01", "voice-e2e-token-0123456789abcdef", "key_e2e_voice_release"
	ts.AddAccount(sid, token)
	rs := retellsim.New(retellsim.WithAPIKeys(key))
	rt, err := rs.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.Close)
	agent := rs.AddAgent(retell.Agent{AgentName: "Recepção"})
	rs.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: "+14155550123", PhoneNumberType: "retell-twilio", Nickname: "Loja"})
	inst := webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) { c.TwilioAPIURL, c.TwilioTrunkingURL, c.RetellAPIURL = tw, tw, rt })
	s := &inboxSetup{inst: inst, email: fmt.Sprintf("vera.%d@clinica.example", time.Now().UnixNano()), password: "girassol-Orquidea-42-vaso"}
	c := webtest.NewClient(t, inst.URL)
	s.home = c.Signup("Clínica Libera", "Vera Lima", s.email, s.password)
	if res := c.Post(s.home+"/settings/channels", url.Values{"kind": {model.KindTwilioSMS}, "name": {"SMS da clínica"},
		"account_sid": {sid}, "auth_token": {token}, "from": {"+15005550006"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("channel: %d", res.StatusCode)
	}
	bg := context.Background()
	owner := model.Actor{OrgID: orgOf(s.home), Role: model.RoleOwner}
	if _, err := inst.App.Voice.Connect(bg, owner, key); err != nil {
		t.Fatal(err)
	}
	var channel int64
	_ = inst.App.Store.DB().Get(&channel, `SELECT id FROM channels WHERE org_id = $1`, owner.OrgID)
	buy := func(phone, nickname string) model.VoiceNumber {
		t.Helper()
		n, err := inst.App.Numbers.Buy(bg, owner, numbers.BuyInput{ChannelID: channel, PhoneNumber: phone, Country: "US",
			InboundAgentID: agent.AgentID, OutboundAgentID: agent.AgentID, Nickname: nickname})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	stopped := buy("+16285550100", "Vendas")
	ts.FailNext(twiliosim.OpDeleteTrunk, http.StatusForbidden, 20403, "Permission denied for this trunk")
	if _, err := inst.App.Numbers.Release(bg, owner, stopped.ID, true); err == nil {
		t.Fatal("the release did not stop")
	}
	ready := buy("+16285550101", "Recepção")
	linked, err := inst.App.Numbers.Link(bg, owner, "+14155550123")
	if err != nil {
		t.Fatal(err)
	}
	row := func(n model.VoiceNumber) string { return `[data-number-id="` + strconv.FormatInt(n.ID, 10) + `"]` }
	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	b := newBrowser(t, ctx, "voice-release", inst.URL)
	b.keys = i18nKeys(t)
	s.login(b)
	for _, lang := range []string{"en", "pt-BR"} {
		if lang != "en" {
			b.open(s.home+"/settings/profile", tid("profile-form"))
			b.do("switch to Portuguese", chromedp.SetValue(tid("profile-locale"), lang), chromedp.Click(tid("profile-save")))
			b.waitJS("the page is in Portuguese", `document.documentElement.lang === "pt-BR"`, waitTimeout)
		}
		words := map[string][2]string{"en": {"Release stopped", "Give the number back to Twilio"},
			"pt-BR": {"Liberação parada", "Devolver o número ao Twilio"}}[lang]
		for _, l := range crmLooks {
			name := lang + "-" + l.name
			b.setLook(l)
			b.open(s.home+"/settings/voice/numbers", tid("voice-numbers-table"))
			b.waitJS(name+": the stopped release shows its step, reason and Continue", fmt.Sprintf(`(function () {
				var r = document.querySelector(%s);
				return r.dataset.status === "release_failed" && r.innerText.includes(%s)
					&& r.querySelector('[data-testid="voice-number-error"]').innerText.includes("code 20403")
					&& r.querySelector('[data-testid="voice-number-continue"]').checkVisibility()
					&& !r.querySelector('[data-testid="voice-number-release"]');
			})()`, jsString(row(stopped)), jsString(words[0])), waitTimeout)
			if w := eval[int64](b, `document.documentElement.scrollWidth`); w > l.width {
				t.Errorf("%s: the page is %d px wide", name, w)
			}
			if dir != "" {
				b.save(dir, "voice-release-stopped-"+name, l)
				b.do("back to the screen's height", l.viewport(l.height))
			}
			for _, n := range []model.VoiceNumber{ready, linked} {
				dlg := "#release-" + strconv.FormatInt(n.ID, 10)
				b.do(name+": open the release dialog", chromedp.Click(chromedp.CSS(row(n)+` [data-testid="voice-number-release"]`)))
				b.waitJS(name+": the dialog is open and fits the screen", fmt.Sprintf(`(function () {
					var d = document.querySelector(%s), r = d.getBoundingClientRect();
					return d.open && r.left >= 0 && r.right <= innerWidth + 0.5;
				})()`, jsString(dlg)), waitTimeout)
				if n.Source == "linked" {
					b.waitJS(name+": the linked number's dialog offers Retell", fmt.Sprintf(`document.querySelector(%s).querySelector('[data-testid="voice-release-retell"]').checkVisibility()`, jsString(dlg)), waitTimeout)
				} else {
					b.waitJS(name+": the dialog lists the six steps", fmt.Sprintf(`(function () {
						var d = document.querySelector(%s);
						return d.querySelectorAll('[data-testid="voice-release-steps"] li').length === 6 && d.innerText.includes(%s);
					})()`, jsString(dlg), jsString(words[1])), waitTimeout)
				}
				if dir != "" {
					b.save(dir, "voice-release-dialog-"+n.Source+"-"+name, l)
					b.do("back to the screen's height", l.viewport(l.height))
				}
				eval[bool](b, settled) // the sheet has slid in
				b.do(name+": cancel", chromedp.Click(chromedp.CSS(dlg+` [data-dialog-close]`)))
				b.waitJS(name+": the dialog is closed", fmt.Sprintf(`!document.querySelector(%s).open`, jsString(dlg)), waitTimeout)
			}
		}
	}

	// In the browser: release the ready number; Twilio refuses to give it back once; the row
	// says so with Continue, which finishes it.
	ts.FailNext(twiliosim.OpReleaseNumber, http.StatusBadRequest, 21606, "The number cannot be released yet")
	b.open(s.home+"/settings/voice/numbers", tid("voice-numbers-table"))
	b.do("open the release dialog", chromedp.Click(chromedp.CSS(row(ready)+` [data-testid="voice-number-release"]`)))
	b.waitJS("the dialog is open", "document.querySelector('#release-"+strconv.FormatInt(ready.ID, 10)+"').open", waitTimeout)
	eval[bool](b, settled)
	b.do("confirm", chromedp.Click(chromedp.CSS("#release-"+strconv.FormatInt(ready.ID, 10)+` [data-testid="voice-release-confirm"]`)))
	b.waitJS("the release stopped at the last step", fmt.Sprintf(`(function () {
		var r = document.querySelector(%s);
		return r && r.dataset.status === "release_failed" && r.innerText.includes("21606");
	})()`, jsString(row(ready))), waitTimeout)
	b.do("continue", chromedp.Click(chromedp.CSS(row(ready)+` [data-testid="voice-number-continue"]`)))
	b.waitJS("the number is gone from the list", fmt.Sprintf(`!document.querySelector(%s)`, jsString(row(ready))), waitTimeout)
	if r := ts.Released(); len(r) != 1 || r[0].PhoneNumber != ready.PhoneNumber {
		t.Fatalf("released in Twilio: %+v", r)
	}
	b.noConsoleErrors()
}
