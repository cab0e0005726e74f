package e2e

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"masteria/app/inbox"
	"masteria/app/web/webtest"
)

// TestThreadLoadsOlderOnScroll opens a long conversation at its newest message; scrolling
// to the top loads the older pages by themselves, and the message being read stays where it
// was on the screen.
func TestThreadLoadsOlderOnScroll(t *testing.T) {
	ctx := testContext(t, 2*testTimeout)
	s := newInboxSetup(t)
	c := webtest.NewClient(t, s.inst.URL)
	c.Login(s.email, s.password)
	if res := c.Post(s.home+"/settings/channels", url.Values{"kind": {"sandbox"}, "name": {"Loja"}}); res.StatusCode != 303 {
		t.Fatalf("channel: %d", res.StatusCode)
	}
	ch := s.channel(t)
	var r inbox.Received
	start := time.Now().Add(-2 * time.Hour)
	for i := range 120 {
		var err error
		r, err = s.inst.App.Inbox.Receive(context.Background(), ch, inbox.Inbound{From: "+5511987650099", Name: "Vera",
			ProviderID: fmt.Sprintf("long.%d", i), Body: fmt.Sprintf("Mensagem número %d", i), At: start.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t, ctx, "thread", s.inst.URL)
	s.login(b)
	b.open(fmt.Sprintf("%s/inbox/%d", s.home, r.ConversationID), tid("composer-body"))
	count := `document.querySelectorAll('[data-direction="in"]').length`
	b.waitJS("the newest page shows, scrolled to the bottom", `(() => { const t = document.getElementById("inbox-thread");
		return `+count+` === 50 && t.scrollHeight - t.clientHeight - t.scrollTop < 2; })()`, waitTimeout)
	for _, want := range []int{100, 120} {
		// The first message on screen, and where it is, before the older page comes in.
		b.do("scroll to the top", chromedp.Evaluate[chromedp.Void](`(() => {
			const t = document.getElementById("inbox-thread"); t.scrollTop = 0;
			window.__first = [...t.querySelectorAll('[data-direction="in"]')][0];
			window.__top = window.__first.getBoundingClientRect().top; })()`))
		b.waitJS(fmt.Sprintf("%d messages are loaded", want), count+` === `+fmt.Sprint(want), waitTimeout)
		b.waitJS("the message read stays in place", `Math.abs(window.__first.getBoundingClientRect().top - window.__top) < 2`, waitTimeout)
	}
	if eval[bool](b, `!!document.querySelector('[data-testid="thread-older"]')`) {
		t.Error("the oldest page still offers older messages")
	}
	first := eval[string](b, `document.querySelector('[data-direction="in"] [data-testid="msg-body"]').textContent.trim()`)
	if first != "Mensagem número 0" {
		t.Errorf("the thread starts with %q", first)
	}
	b.noConsoleErrors()
}

// TestInboxDetailsOnAPhone: on a phone the contact pane (labels, leads) is hidden until the
// details button opens it as a side sheet; Esc closes it.
func TestInboxDetailsOnAPhone(t *testing.T) {
	ctx := testContext(t, testTimeout)
	s := newInboxSetup(t)
	c := webtest.NewClient(t, s.inst.URL)
	c.Login(s.email, s.password)
	if res := c.Post(s.home+"/settings/channels", url.Values{"kind": {"sandbox"}, "name": {"Loja"}}); res.StatusCode != 303 {
		t.Fatalf("channel: %d", res.StatusCode)
	}
	r := s.receive(t, s.channel(t), "+5511987650077", "Otávio", "Oi")
	b := newBrowser(t, ctx, "details", s.inst.URL)
	s.login(b)
	b.do("hold a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	b.open(fmt.Sprintf("%s/inbox/%d", s.home, r.ConversationID), tid("composer-body"))
	visible := func(sel string) string {
		return `(() => { const e = document.querySelector(` + jsString(sel) + `); return !!e && e.getClientRects().length > 0; })()`
	}
	if eval[bool](b, visible(`[data-testid="inbox-labels"]`)) {
		t.Fatal("the contact pane shows on a phone before it is asked for")
	}
	b.do("open the details", chromedp.Click(tid("inbox-details")))
	b.waitJS("the contact pane opens with the labels", visible(`[data-testid="inbox-labels"]`), waitTimeout)
	if w := eval[float64](b, `document.querySelector('[data-testid="inbox-contact"]').getBoundingClientRect().width`); w > 390 {
		t.Errorf("the side sheet is %.0fpx wide on a 390px screen", w)
	}
	b.do("press Esc", chromedp.KeyEvent("\x1b"))
	b.waitJS("it closes", `!`+visible(`[data-testid="inbox-labels"]`), waitTimeout)
	b.noConsoleErrors()
}

// TestPresenceBetweenTwoMembers: two members open the same conversation; each sees that the
// other is there, and one typing in the composer shows as typing on the other's page.
func TestPresenceBetweenTwoMembers(t *testing.T) {
	ctx := testContext(t, 2*testTimeout)
	s := newInboxSetup(t)
	c := webtest.NewClient(t, s.inst.URL)
	c.Login(s.email, s.password)
	if res := c.Post(s.home+"/settings/channels", url.Values{"kind": {"sandbox"}, "name": {"Loja"}}); res.StatusCode != 303 {
		t.Fatalf("channel: %d", res.StatusCode)
	}
	r := s.receive(t, s.channel(t), "+5511987650088", "Irene", "Oi, tudo bem?")
	const teoEmail, teoPassword = "teo@floricultura.example", "margarida-Azul-2026-vaso"
	if _, err := s.inst.App.Account.CreateUserInOrg(context.Background(), "Floricultura Jardim", "Téo Lima", teoEmail, teoPassword, "manager"); err != nil {
		t.Fatal(err)
	}
	conv := fmt.Sprintf("%s/inbox/%d", s.home, r.ConversationID)

	rita := newBrowser(t, ctx, "rita", s.inst.URL)
	s.login(rita)
	teo := newBrowser(t, ctx, "teo", s.inst.URL)
	teo.open("/login", tid("login-email"))
	teo.do("log in", chromedp.SendKeys(tid("login-email"), teoEmail), chromedp.SendKeys(tid("login-password"), teoPassword), chromedp.Click(tid("login-submit")))
	teo.waitPath("land on the org", orgPathRE.String())

	rita.open(conv, tid("composer-body"))
	rita.waitJS("Rita's page listens", sseOpen, waitTimeout)
	teo.open(conv, tid("composer-body"))
	teo.waitJS("Téo's page listens", sseOpen, waitTimeout)
	presence := `document.querySelector('[data-testid="inbox-presence"]').textContent`
	// Téo announced himself on opening; Rita's next beat (10 s at most) reaches Téo.
	rita.waitJS("Rita sees Téo viewing", presence+`.includes("Téo Lima")`, 2*waitTimeout)
	rita.do("Rita types", chromedp.Click(tid("composer-body")), chromedp.SendKeys(tid("composer-body"), "Bom dia, Irene"))
	teo.waitJS("Téo sees Rita typing", presence+`.includes("Rita Alves") && /typing|digitando/.test(`+presence+`)`, waitTimeout)
	if eval[bool](rita, presence+`.includes("Rita Alves")`) {
		t.Error("Rita sees herself")
	}
	rita.noConsoleErrors()
	teo.noConsoleErrors()
}
