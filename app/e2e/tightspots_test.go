package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"

	"github.com/chromedp/chromedp"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

// TestScreenshotsTightSpots checks the places where long Portuguese text and a phone's
// narrow screen pushed things out of their boxes, in English and Portuguese, at 1366 px
// (a common laptop) and 390 px (a phone): the webhook URL stays in its card, the composer
// keeps room to type beside its buttons, a toast never covers Send, a long lead title stays
// inside the contact pane and the lead drawer, and settings tabs cut off by the screen show
// that there are more. It measures each one (and fails), and writes PNGs to the folder
// MASTERIA_SCREENSHOTS names, when it is set, for people to look at.
func TestScreenshotsTightSpots(t *testing.T) {
	needChromium(t)
	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx := testContext(t, 4*testTimeout)
	s := newInboxSetup(t)
	bg := context.Background()
	a := model.Actor{OrgID: s.orgID, Role: model.RoleOwner}
	wa, err := s.inst.App.Inbox.CreateChannel(bg, a, model.KindWhatsAppCloud, "WhatsApp da floricultura",
		map[string]string{"phone_number_id": "106540352242922", "waba_id": "102290129340398"}, map[string]string{"app_secret": "x", "access_token": "t"})
	if err != nil {
		t.Fatal(err)
	}
	r := s.receive(t, wa, "+5511987650123", "Maria Aparecida dos Santos Figueiredo", "Bom dia! Vocês entregam buquê de girassóis amanhã cedo?")
	const longTitle = "Casamento no sítio em Atibaia — decoração completa com girassóis, orquídeas e arranjos de mesa para 250 convidados"
	c := webtest.NewClient(t, s.inst.URL)
	c.Login(s.email, s.password)
	if res := c.Get(s.home + "/board"); res.StatusCode != 200 {
		t.Fatalf("board: %d", res.StatusCode)
	}
	var stage string
	_ = s.inst.App.Store.DB().Get(&stage, `SELECT id::text FROM stages ORDER BY position, id LIMIT 1`)
	if res := c.Post(s.home+"/board/leads", url.Values{"stage_id": {stage}, "title": {longTitle}, "value": {"18.500,00"},
		"contact_name": {"Maria"}, "contact_phone": {"+5511987650123"}}); res.StatusCode != 303 {
		t.Fatalf("lead: %d", res.StatusCode)
	}
	var contactID, leadID int64
	_ = s.inst.App.Store.DB().Get(&contactID, `SELECT contact_id FROM conversations WHERE id = $1`, r.ConversationID)
	_ = s.inst.App.Store.DB().Get(&leadID, `SELECT id FROM leads`)
	_, _ = s.inst.App.Store.DB().Exec(`UPDATE leads SET contact_id = $1`, contactID)

	b := newBrowser(t, ctx, "tight", s.inst.URL)
	b.keys = i18nKeys(t)
	s.login(b)
	conv := fmt.Sprintf("%s/inbox/%d", s.home, r.ConversationID)

	// inside is JavaScript: the element a lies within the content box of b, its closest
	// ancestor matching the selector (1 px of rounding); "" when it does.
	inside := func(a, b string) string {
		return fmt.Sprintf(`(() => { const a = document.querySelector(%s), b = a && a.parentElement.closest(%s);
			if (!a || !b) return "missing";
			const x = a.getBoundingClientRect(), y = b.getBoundingClientRect(), st = getComputedStyle(b);
			const left = y.left + parseFloat(st.paddingLeft) + parseFloat(st.borderLeftWidth), right = y.right - parseFloat(st.paddingRight) - parseFloat(st.borderRightWidth);
			const within = x.left >= Math.max(0, left) - 1 && x.right <= Math.min(window.innerWidth, right) + 1;
			return within ? "" : "from " + Math.round(x.left) + " to " + Math.round(x.right) + " in " + Math.round(left) + " to " + Math.round(right); })()`,
			jsString(a), jsString(b))
	}
	check := func(name, what, expr string) {
		t.Helper()
		if msg := eval[string](b, expr); msg != "" {
			t.Errorf("%s: %s (%s)", name, what, msg)
		}
	}
	for _, lang := range []string{"en", "pt-BR"} {
		if _, err := s.inst.App.Store.DB().Exec(`UPDATE users SET locale = $1`, lang); err != nil {
			t.Fatal(err)
		}
		for _, l := range []look{{name: "laptop", width: 1366, height: 768, theme: "light"}, {name: "phone", width: 390, height: 844, theme: "light", phone: true}} {
			b.setLook(l)
			name := func(page string) string { return page + "-" + lang + "-" + l.name }
			shot := func(page string) {
				t.Helper()
				if dir != "" {
					b.save(dir, name(page), l)
				}
			}

			// The channels page: each webhook URL inside its row's card.
			b.open(s.home+"/settings/channels", tid("channel-webhook"))
			check(name("channels"), "the webhook URL leaves its cell", inside(`.secret:has([data-testid="channel-webhook"])`, `td`))
			check(name("channels"), "the webhook URL leaves its row", inside(`.secret:has([data-testid="channel-webhook"])`, `tr`))
			shot("channels")

			// Settings tabs cut off by the screen say there are more.
			check(name("settings-tabs"), "tabs are cut off with no sign of more", `(() => { const n = document.querySelector('[data-testid="settings-tabs"]');
				return n.scrollWidth <= n.clientWidth + 1 || n.classList.contains("has-more-end") ? "" : n.scrollWidth + " > " + n.clientWidth; })()`)

			// The composer: room to type beside Attach, Template and Send.
			b.open(conv, tid("composer-body"))
			check(name("composer"), "the message box is a sliver", `(() => { const w = document.querySelector('[data-testid="composer-body"]').getBoundingClientRect().width;
				return w >= Math.min(240, window.innerWidth * 0.55) ? "" : Math.round(w) + "px wide"; })()`)
			check(name("composer"), "Send leaves the composer", inside(`[data-testid="composer-send"]`, `form`))
			// A toast never covers Send.
			b.do("show a toast", chromedp.Evaluate[chromedp.Void](`masteria.toast("Mensagem enviada com sucesso para Maria Aparecida dos Santos Figueiredo", "success")`))
			eval[bool](b, settled)
			check(name("composer-toast"), "a toast covers Send", `(() => { const t = document.querySelector(".toast").getBoundingClientRect(),
				s = document.querySelector('[data-testid="composer-send"]').getBoundingClientRect();
				const apart = t.right <= s.left || s.right <= t.left || t.bottom <= s.top || s.bottom <= t.top;
				return apart ? "" : "toast " + Math.round(t.top) + "-" + Math.round(t.bottom) + ", Send " + Math.round(s.top) + "-" + Math.round(s.bottom); })()`)
			shot("composer")
			b.do("dismiss the toast", chromedp.Evaluate[chromedp.Void](`document.querySelectorAll(".toast").forEach(t => t.remove())`))

			// The contact pane: a long lead title stays inside it.
			if l.phone {
				b.do("open the details", chromedp.Click(tid("inbox-details")))
				b.waitJS("the contact pane opens", `document.querySelector('[data-testid="inbox-contact-lead"]').getClientRects().length > 0`, waitTimeout)
				eval[bool](b, settled)
			}
			check(name("contact-pane"), "the lead's title leaves the pane", inside(`[data-testid="inbox-contact-lead"] span`, `[data-testid="inbox-contact"]`))
			check(name("contact-pane"), "the lead's stage leaves the pane", inside(`[data-testid="inbox-lead-stage"]`, `[data-testid="inbox-contact"]`))
			check(name("contact-pane"), "the pane scrolls sideways", `(() => { const p = document.querySelector('[data-testid="inbox-contact"]'); return p.scrollWidth <= p.clientWidth + 1 ? "" : p.scrollWidth + " > " + p.clientWidth; })()`)
			shot("contact-pane")

			// The lead drawer on the board.
			b.open(s.home+"/board", tid("board-columns"))
			b.do("open the lead", chromedp.Click(`[data-testid="lead-card"] [data-testid="lead-open"]`), chromedp.WaitVisible(tid("lead-edit-form")))
			eval[bool](b, settled)
			check(name("lead-drawer"), "the lead's title leaves the drawer", inside(`#lead-drawer [data-testid="lead-title"]`, `#lead-drawer`))
			shot("lead-drawer")
		}
	}
	b.noConsoleErrors()
}
