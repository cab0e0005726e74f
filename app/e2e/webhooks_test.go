package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"masteria/app/config"
	"masteria/app/crm"
	"masteria/app/model"
	"masteria/app/store/storetest"
	"masteria/app/web/webtest"
)

// TestWebhooksInTheBrowser: an admin adds an endpoint in Settings → Webhooks, sees its
// secret once, sends a test ping (the receiver gets it, the log shows it), replays it (the
// same webhook-id arrives again), and the pages fit 1366 px light English and 390 px dark
// Portuguese. With MASTERIA_SCREENSHOTS set it writes webhooks-<page>-<look>.png there.
func TestWebhooksInTheBrowser(t *testing.T) {
	needChromium(t)
	ctx := testContext(t, 2*testTimeout)
	var mu sync.Mutex
	var ids []string
	gone := false
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ids = append(ids, r.Header.Get("webhook-id"))
		g := gone
		mu.Unlock()
		if g {
			w.WriteHeader(http.StatusGone)
			return
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"received":true}`))
	}))
	t.Cleanup(rc.Close)
	received := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), ids...)
	}
	inst := webtest.StartOn(t, storetest.URL(t), func(c *config.Config) { c.WebhooksAllowPrivate = true })
	b := newBrowser(t, ctx, "webhooks", inst.URL)
	b.keys = i18nKeys(t)

	const email, password = "gil@ganchos.example", "gancho-Forte-42-porta"
	b.open("/signup", tid("signup-org"))
	b.do("sign up",
		chromedp.SendKeys(tid("signup-org"), "Loja Ganchos"),
		chromedp.SendKeys(tid("signup-name"), "Gil Souza"),
		chromedp.SendKeys(tid("signup-email"), email),
		chromedp.SendKeys(tid("signup-password"), password),
		chromedp.Click(tid("signup-submit")),
	)
	org := b.waitPath("land on the org home", orgPathRE.String())

	b.open(org+"/settings/webhooks", tid("webhooks-empty"))
	b.do("add an endpoint",
		chromedp.Click(tid("webhook-new")+" > summary"),
		chromedp.SendKeys(tid("webhook-url"), rc.URL+"/hooks"),
		chromedp.SendKeys(tid("webhook-description"), "ERP da loja"),
		chromedp.Click(tid("webhook-area-contacts")+" > summary"),
		chromedp.Click(tid("webhook-event-contact.created")),
		chromedp.Click(tid("webhook-submit")),
	)
	b.waitJS("the secret shows once", `/^whsec_[A-Za-z0-9+\/=]{40,}$/.test(document.querySelector('[data-testid="webhook-secret"]')?.textContent.trim() || "")`, waitTimeout)
	secret := b.text(tid("webhook-secret"))
	b.do("open the endpoint", chromedp.Click(tid("webhook-open-new")))
	b.waitJS("the endpoint page", `!!document.querySelector('[data-testid="webhook-page"]')`, waitTimeout)
	if strings.Contains(eval[string](b, `document.body.innerText`), secret) {
		t.Fatal("the secret shows again on the endpoint's page")
	}
	endpoint := strings.TrimPrefix(b.location(), inst.URL)

	b.do("send a test ping", chromedp.Click(tid("webhook-test")))
	b.waitJS("the test result", `!!document.querySelector('[data-testid="webhook-test-result"] .alert-success, [data-testid="webhook-test-result"]')`, waitTimeout)
	b.waitJS("the ping in the log", `document.querySelectorAll('[data-testid="webhook-delivery"][data-state="delivered"]').length === 1`, waitTimeout)
	if got := received(); len(got) != 1 || !strings.HasPrefix(got[0], "msg_") {
		t.Fatalf("the receiver got %v", got)
	}

	b.do("replay the ping",
		chromedp.Click(tid("webhook-delivery")+" summary"),
		chromedp.Click(tid("webhook-replay")),
	)
	for i := 0; i < 200 && len(received()) < 2; i++ {
		eval[bool](b, `new Promise(r => setTimeout(() => r(true), 100))`)
	}
	if got := received(); len(got) != 2 || got[1] != got[0] {
		t.Fatalf("the replay sent %v: want the ping's webhook-id twice", got)
	}
	b.open(endpoint, tid("webhook-page"))
	b.waitJS("two attempts in the log", `document.querySelectorAll('[data-testid="webhook-attempt"]').length === 2`, waitTimeout)

	// The looks: 1366 px light English, 390 px dark Portuguese.
	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	pages := []struct{ name, path, sel string }{
		{"list", org + "/settings/webhooks?new=1", `[data-testid="webhooks-table"]`},
		{"endpoint", endpoint, `[data-testid="webhook-log"]`},
	}
	for i, l := range []look{{name: "1366-light-en", width: 1366, height: 900, theme: "light"},
		{name: "390-dark-pt", width: 390, height: 844, theme: "dark", phone: true}} {
		if i == 1 {
			c := webtest.NewClient(t, inst.URL)
			c.Login(email, password)
			c.Post("/locale", url.Values{"locale": {"pt-BR"}})
		}
		b.setLook(l)
		for _, p := range pages {
			b.open(p.path, chromedp.CSS(p.sel))
			if i == 1 && !strings.Contains(eval[string](b, `document.body.innerText`), "Histórico de entregas") && p.name == "endpoint" {
				t.Errorf("%s %s: not in Portuguese", p.name, l.name)
			}
			if p.name == "endpoint" {
				b.do("open a delivery", chromedp.Click(tid("webhook-delivery")+" summary"))
			}
			if dir != "" {
				b.save(dir, "webhooks-"+p.name+"-"+l.name, l)
				continue
			}
			b.waitJS("the page shows the "+l.theme+" theme", `document.documentElement.dataset.theme === `+jsString(l.theme), waitTimeout)
			if w := eval[int64](b, `document.documentElement.scrollWidth`); w > l.width {
				t.Errorf("%s %s: the page is %d px wide on a %d px screen", p.name, l.name, w, l.width)
			}
			// Event names (in code and in the filter's options) are names, not message keys.
			if k := b.keys.FindString(eval[string](b, `(() => { const c = document.body.cloneNode(true); c.querySelectorAll("select, code").forEach(e => e.remove()); return c.textContent; })()`)); k != "" {
				t.Errorf("%s %s: the message key %q shows", p.name, l.name, k)
			}
		}
	}
	if regexp.MustCompile(`whsec_`).MatchString(eval[string](b, `document.body.innerText`)) {
		t.Fatal("a secret shows on the endpoint's page")
	}

	// The receiver goes away (410): the open list tells the admin at once, over SSE.
	b.setLook(looks[0])
	b.open(org+"/settings/webhooks", tid("webhooks-table"))
	b.waitJS("the SSE connection is open", sseOpen, waitTimeout)
	mu.Lock()
	gone = true
	mu.Unlock()
	var orgID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	if _, err := inst.App.CRM.Create(context.Background(), model.Actor{OrgID: orgID, Role: model.RoleOwner}, crm.ContactInput{Name: "Rita", Phone: "+5511987650001"}); err != nil {
		t.Fatal(err)
	}
	b.waitJS("the notice that the endpoint was disabled", `!!document.querySelector('[data-testid="webhook-disabled-notice"]')`, 30*time.Second)
}
