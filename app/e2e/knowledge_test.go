package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"masteria/app/ai/provider"
	"masteria/app/model"
	"masteria/app/sim/openaisim"
	"masteria/app/web/webtest"
)

// TestBrowserKnowledgePlayground: an owner adds a text to a knowledge base, sees it become
// ready live, asks the playground and sees the chunk that answers, and the answer the bot
// would give with its numbered citation (the org's AI provider is the OpenAI simulator).
func TestBrowserKnowledgePlayground(t *testing.T) {
	t.Parallel()
	needChromium(t)
	inst := webtest.Start(t)
	email, password := fmt.Sprintf("kb.%d@doceria.example", time.Now().UnixNano()), "trigo-Fermento-42-forno"
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Doceria Saber", "Ana Souza", email, password)
	res := c.Post(home+"/knowledge", url.Values{"name": {"Doceria"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create knowledge base: %d", res.StatusCode)
	}
	kbPath := res.Header.Get("Location")
	sim := openaisim.New(openaisim.WithAPIKey("sk-kb"))
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	var orgID int64
	_, _ = fmt.Sscanf(home, "/o/%d", &orgID)
	if err := inst.App.AI.Save(context.Background(), model.Actor{OrgID: orgID, Role: model.RoleOwner}, provider.Input{
		BaseURL: sim.URL() + "/v1", Key: "sk-kb", ChatModel: "gpt-4o-mini", EmbeddingModel: "text-embedding-3-small", EmbeddingDimensions: 1536}); err != nil {
		t.Fatal(err)
	}

	ctx := testContext(t, 2*time.Minute)
	b := newBrowser(t, ctx, "owner", inst.URL)
	b.open("/login", tid("login-email"))
	b.do("log in",
		chromedp.SendKeys(tid("login-email"), email),
		chromedp.SendKeys(tid("login-password"), password),
		chromedp.Click(tid("login-submit")),
	)
	b.waitPath("land on the org", orgPathRE.String())
	b.open(kbPath, tid("kb-text-form"))
	b.do("add a text",
		chromedp.SendKeys(tid("kb-doc-title"), "Encomendas"),
		chromedp.SendKeys(tid("kb-doc-text"), "Bolos de aniversário são encomendados com três dias de antecedência pelo WhatsApp."),
		chromedp.Click(tid("kb-text-submit")),
	)
	b.waitJS("the document is ready", `!!document.querySelector('[data-testid="kb-doc-status"][data-status="ready"]')`, waitTimeout)
	b.do("ask the playground",
		chromedp.SendKeys(tid("kb-question"), "como encomendar bolo de aniversário?"),
		chromedp.Click(tid("kb-ask")),
	)
	b.waitJS("the chunk is found", `(() => { const h = document.querySelector('[data-testid="kb-hit"]');
		return !!h && h.textContent.includes("três dias de antecedência") && h.textContent.includes("[1]") })()`, waitTimeout)
	b.waitJS("the answer cites the passage", `(() => { const a = document.querySelector('[data-testid="kb-answer-text"]');
		const c = document.querySelector('[data-testid="kb-citation"]');
		return !!a && a.textContent.includes("[1]") && a.textContent.includes("antecedência") && !!c && c.textContent.includes("Encomendas") })()`, waitTimeout)
	if dir := os.Getenv("MASTERIA_SCREENSHOTS"); dir != "" {
		b.keys = i18nKeys(t)
		page := kbPath + "/search?q=" + url.QueryEscape("como encomendar bolo de aniversário?")
		for _, l := range []look{{name: "desktop", width: 1366, height: 800, theme: "light"}, {name: "phone", width: 390, height: 844, theme: "light", phone: true}} {
			b.setLook(l)
			b.open(page, tid("kb-answer"))
			b.save(dir, "kb-playground-"+l.name, l)
		}
	}
	b.noConsoleErrors()
}
