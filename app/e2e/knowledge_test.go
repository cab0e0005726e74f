package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"masteria/app/web/webtest"
)

// TestBrowserKnowledgePlayground: an owner adds a text to a knowledge base, sees it become
// ready live, asks the playground and sees the chunk that answers.
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
	b.noConsoleErrors()
}
