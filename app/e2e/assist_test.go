package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"masteria/app/ai/provider"
	"masteria/app/model"
	"masteria/app/sim/openaisim"
	"masteria/app/web/webtest"
)

// TestAssistSuggestReply: an agent opens a customer's conversation, asks the composer's AI
// menu for a reply, and sees the box filled with an answer from the knowledge base (the
// OpenAI simulator's default answer quotes the passage that matches the question) and its
// source under it; Undo puts the draft back. Then the same on a 390 px phone. With
// MASTERIA_SCREENSHOTS set it saves the open menu and the filled composer at 1366 and 390 px.
func TestAssistSuggestReply(t *testing.T) {
	t.Parallel()
	needChromium(t)
	ctx := testContext(t, 2*testTimeout)
	sim := openaisim.New(openaisim.WithAPIKey("sk-e2e-assist"))
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	s := newInboxSetup(t)
	c := webtest.NewClient(t, s.inst.URL)
	c.Login(s.email, s.password)
	if res := c.Post(s.home+"/settings/channels", url.Values{"kind": {model.KindSandbox}, "name": {"WhatsApp da loja"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("channel: %d", res.StatusCode)
	}
	owner := model.Actor{OrgID: s.orgID, Role: model.RoleOwner}
	if err := s.inst.App.AI.Save(context.Background(), owner, provider.Input{BaseURL: sim.URL(), Key: "sk-e2e-assist",
		ChatModel: "gpt-4o-mini", EmbeddingModel: "text-embedding-3-small", EmbeddingDimensions: 1536}); err != nil {
		t.Fatal(err)
	}
	base, err := s.inst.App.Knowledge.CreateBase(context.Background(), owner, "Floricultura", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.inst.App.Knowledge.AddText(context.Background(), owner, base.ID, "Entregas",
		"# Entregas\n\nEntregamos buquês em toda a cidade, inclusive aos sábados. A taxa de entrega é de 12 reais.\n\n# Horário\n\nAbrimos às 8 horas."); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the document indexed", func() bool {
		docs, err := s.inst.App.Knowledge.Documents(context.Background(), s.orgID, base.ID)
		return err == nil && len(docs) == 1 && docs[0].Status == model.DocReady
	})
	r := s.receive(t, s.channel(t), "+5511987654321", "Joana Prado", "Vocês entregam no sábado? Qual a taxa de entrega?")
	conv := fmt.Sprintf("%s/inbox/%d", s.home, r.ConversationID)
	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	shot := func(b *browser, name string) {
		t.Helper()
		if dir == "" {
			return
		}
		eval[bool](b, settled)
		png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), png, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	box := `document.querySelector('[data-testid="composer-body"]').value`
	chats := func() int {
		n := 0
		for _, r := range sim.Requests() {
			if r.Path == "/v1/chat/completions" {
				n++
			}
		}
		return n
	}

	for _, l := range []look{
		{name: "1366", width: 1366, height: 900, theme: "light"},
		{name: "390", width: 390, height: 844, theme: "light", phone: true},
	} {
		b := newBrowser(t, ctx, "assist-"+l.name, s.inst.URL)
		b.do("size the screen", l.viewport(l.height))
		s.login(b)
		b.open(conv, tid("composer-body"))
		b.waitJS("the customer's message shows", `[...document.querySelectorAll('[data-direction="in"] [data-testid="msg-body"]')].some(e => e.textContent.includes("sábado"))`, waitTimeout)
		b.do("start a draft", chromedp.SendKeys(tid("composer-body"), "Oi Joana"))
		b.do("open the AI menu", chromedp.Click(tid("assist-toggle")), chromedp.WaitVisible(tid("assist-suggest")))
		if w := eval[int64](b, `document.documentElement.scrollWidth`); w > l.width {
			t.Errorf("%s: the page is %d px wide with the menu open", l.name, w)
		}
		if !eval[bool](b, `(() => { const r = document.querySelector('[data-testid="assist-actions"]').getBoundingClientRect(); return r.left >= 0 && r.right <= innerWidth && r.top >= 0; })()`) {
			t.Errorf("%s: the AI menu does not fit the screen", l.name)
		}
		shot(b, "assist-menu-"+l.name+".png")
		before := chats()
		b.do("ask for a reply", chromedp.Click(tid("assist-suggest")))
		b.waitJS("the composer is filled with the knowledge base's answer", box+`.includes("12 reais")`, waitTimeout)
		b.waitJS("the source shows", `!!document.querySelector('[data-testid="assist-source"]')`, waitTimeout)
		if got := eval[string](b, box); strings.Contains(got, "Oi Joana") || strings.Contains(got, "[1]") {
			t.Errorf("%s: composer %q", l.name, got)
		}
		if eval[bool](b, `document.querySelector('[data-testid="assist-menu"]').open`) {
			t.Errorf("%s: the menu stayed open", l.name)
		}
		if n := chats(); n != before+1 {
			t.Errorf("%s: %d chat requests to the model", l.name, n-before)
		}
		if eval[int](b, `document.querySelectorAll('[data-direction="out"]').length`) != 0 {
			t.Errorf("%s: something was sent", l.name)
		}
		shot(b, "assist-filled-"+l.name+".png")
		b.do("undo", chromedp.Click(tid("assist-undo")))
		b.waitJS("the draft is back", box+` === "Oi Joana"`, waitTimeout)

		// A slow answer shows that the AI is writing, and the menu waits.
		sim.SetDelay(1500 * time.Millisecond)
		sim.Reply("Oi, Joana! Tudo bem?")
		b.do("ask for a shorter text", chromedp.Click(tid("assist-toggle")), chromedp.Click(tid("assist-shorter")))
		b.waitJS("the loading line shows", `getComputedStyle(document.getElementById("assist-loading")).display !== "none" && document.querySelector('[data-testid="assist-toggle"]').classList.contains("htmx-request")`, waitTimeout)
		if !eval[bool](b, `document.querySelector('[data-testid="assist-suggest"]').disabled`) {
			t.Errorf("%s: the menu's entries stay enabled while the AI writes", l.name)
		}
		shot(b, "assist-loading-"+l.name+".png")
		b.waitJS("the rewrite fills the box", box+` === "Oi, Joana! Tudo bem?"`, waitTimeout)
		b.waitJS("the loading line is gone", `getComputedStyle(document.getElementById("assist-loading")).display === "none"`, waitTimeout)
		sim.SetDelay(0)
		b.noConsoleErrors()
	}

	// In the dark, a summary in the panel.
	if dir != "" {
		b := newBrowser(t, ctx, "assist-dark", s.inst.URL)
		s.login(b)
		b.setLook(look{name: "dark", width: 1366, height: 900, theme: "dark"})
		sim.Reply("- Joana quer saber se entregamos no sábado e quanto custa.\n- Nada foi prometido ainda.\n- Em aberto: responder a taxa de entrega.")
		b.open(conv, tid("composer-body"))
		b.do("summarize", chromedp.Click(tid("assist-toggle")), chromedp.Click(tid("assist-summarize")))
		b.waitJS("the summary shows", `!!document.querySelector('[data-testid="assist-summary"] li')`, waitTimeout)
		time.Sleep(100 * time.Millisecond)
		shot(b, "assist-summary-dark.png")
		b.noConsoleErrors()
	}
}
