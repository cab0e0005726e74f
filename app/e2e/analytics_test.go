package e2e

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"masteria/app/analytics"
	"masteria/app/crm/board"
	"masteria/app/i18n"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/store/storetest"
	"masteria/app/web/webtest"
)

// figureIs waits for a dashboard figure's text.
func figureIs(metric, want string) string {
	return `(document.querySelector('[data-testid="figure-` + metric + `"]')?.dataset.value || "") === ` + jsString(want)
}

// TestAnalyticsDashboardInTheBrowser: a manager signs up and opens the home, which is the
// dashboard; a small known week arrives (four conversations, three on one channel, two
// answered, two leads) and the figures refresh by themselves once the rollups catch up;
// the channel filter and the period change them to the expected ones; a click on a figure
// opens the list behind it, as many rows as the number clicked, and its CSV and the KPIs'
// CSV hold what the screen shows. With MASTERIA_SCREENSHOTS set it writes
// analytics-<page>-<look>.png there (1366 px light English, 390 px dark Portuguese).
func TestAnalyticsDashboardInTheBrowser(t *testing.T) {
	needChromium(t)
	ctx := testContext(t, 2*testTimeout)
	inst := webtest.StartOn(t, storetest.URL(t), nil)
	b := newBrowser(t, ctx, "analytics", inst.URL)
	b.keys = i18nKeys(t)

	const email, password = "marta@numeros.example", "numeros-Certos-42-mesa"
	b.open("/signup", tid("signup-org"))
	b.do("sign up",
		chromedp.SendKeys(tid("signup-org"), "Loja Números"),
		chromedp.SendKeys(tid("signup-name"), "Marta Lima"),
		chromedp.SendKeys(tid("signup-email"), email),
		chromedp.SendKeys(tid("signup-password"), password),
		chromedp.Click(tid("signup-submit")),
	)
	org := b.waitPath("land on the org home", orgPathRE.String())
	b.waitJS("the home is the dashboard", `!!document.querySelector('[data-testid="dashboard"]')`, waitTimeout)
	b.waitJS("the SSE connection is open", sseOpen, waitTimeout)

	// The week arrives while the page is open.
	bg := context.Background()
	var orgID, owner int64
	_, _ = fmt.Sscanf(org, "/o/%d", &orgID)
	if err := inst.App.Store.DB().Get(&owner, `SELECT user_id FROM memberships WHERE org_id = $1`, orgID); err != nil {
		t.Fatal(err)
	}
	a := model.Actor{OrgID: orgID, UserID: owner, Role: model.RoleOwner}
	front, err := inst.App.Inbox.CreateChannel(bg, a, model.KindSandbox, "Atendimento", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sales, err := inst.App.Inbox.CreateChannel(bg, a, model.KindSandbox, "Vendas", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var convs []int64
	for i, p := range []struct {
		ch   model.Channel
		name string
	}{{front, "Ana Souza"}, {front, "Bruno Dias"}, {front, "Carla Reis"}, {sales, "Davi Melo"}} {
		r, err := inst.App.Inbox.Receive(bg, p.ch, inbox.Inbound{From: fmt.Sprintf("+55119876500%02d", i), Name: p.name, Body: "Oi! Vocês entregam?",
			ProviderID: fmt.Sprintf("in.%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		convs = append(convs, r.ConversationID)
	}
	for _, id := range convs[:2] {
		if _, err := inst.App.Inbox.Send(bg, a, id, "Entregamos sim! Qual o seu bairro?"); err != nil {
			t.Fatal(err)
		}
	}
	if err := inst.App.Inbox.AddLabel(bg, a, convs[0], "vip"); err != nil {
		t.Fatal(err)
	}
	ps, err := inst.App.Board.Pipelines(bg, orgID)
	if err != nil || len(ps) == 0 {
		t.Fatalf("pipelines: %v", err)
	}
	stages, err := inst.App.Board.Stages(bg, orgID, ps[0].ID)
	if err != nil || len(stages) == 0 {
		t.Fatalf("stages: %v", err)
	}
	for _, who := range []string{"Ana Souza", "Davi Melo"} {
		if _, err := inst.App.Board.CreateLead(bg, a, board.LeadInput{StageID: stages[0].ID, Title: who, Value: "1500,00", ContactName: who}); err != nil {
			t.Fatal(err)
		}
	}
	// The sandbox reports both replies delivered a moment later: the figures stand still then.
	b.waitJS("the figures refresh by themselves", figureIs("conversations.started", "4")+` && `+figureIs("leads.created", "2")+` && `+
		figureIs("messages.sent", "2")+` && `+figureIs("messages.delivery_rate", "100.0%"), 30*time.Second)
	if n := eval[int](b, `document.querySelectorAll('[data-testid="part-error"]').length`); n != 0 {
		t.Fatalf("%d parts of the dashboard are unavailable", n)
	}

	// The KPIs' CSV holds the figures on the screen.
	kpisOnScreen := eval[map[string]string](b, `Object.fromEntries(Array.from(document.querySelectorAll('[data-part="kpis"][data-col="value"]')).map(e => [e.dataset.row, e.dataset.value]))`)
	kpisCSV := fetchCSV(t, b, `document.querySelector('[data-testid="export-kpis"]').href`, ',')
	for i, k := range append(append([]string{}, analytics.HomeKPIs...), analytics.HomeNow...) {
		if i+1 >= len(kpisCSV) || kpisCSV[i+1][1] != kpisOnScreen[k] {
			t.Fatalf("%s: screen %q, CSV %v", k, kpisOnScreen[k], kpisCSV)
		}
	}

	// A channel, then a period (the page opened again: its channel choices are the ones
	// the org had when it was opened).
	b.open(org, tid("dash-kpis"))
	b.do("filter by the first channel", chromedp.SetValue(tid("filter-channel"), fmt.Sprint(front.ID)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="filter-channel"]').dispatchEvent(new Event("change", {bubbles: true}))`))
	b.waitJS("three conversations on the first channel", figureIs("conversations.started", "3"), waitTimeout)
	if !strings.Contains(b.location(), "channel="+fmt.Sprint(front.ID)) {
		t.Errorf("the filter is not in the URL: %s", b.location())
	}
	b.do("pick yesterday", chromedp.SetValue(tid("filter-period"), "yesterday"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="filter-period"]').dispatchEvent(new Event("change", {bubbles: true}))`))
	b.waitJS("nothing yesterday", figureIs("conversations.started", "0"), waitTimeout)
	b.do("back to the last 7 days", chromedp.SetValue(tid("filter-period"), "7d"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="filter-period"]').dispatchEvent(new Event("change", {bubbles: true}))`))
	b.waitJS("three again", figureIs("conversations.started", "3"), waitTimeout)
	dash := strings.TrimPrefix(b.location(), inst.URL)

	// The list behind the number.
	b.do("open the conversations behind the figure", chromedp.Click(tid("figure-conversations.started")))
	b.waitPath("the drill-down", `/analytics/drill$`)
	b.waitJS("the list", `!!document.querySelector('[data-testid="drill-list"]')`, waitTimeout)
	if total, rows := b.text(tid("drill-total")), eval[int](b, `document.querySelectorAll('[data-testid="drill-item"]').length`); rows != 3 ||
		eval[string](b, `document.querySelector('[data-testid="drill-total"]').dataset.value`) != "3" {
		t.Fatalf("the drill-down says %q and lists %d rows, want 3", total, rows)
	}
	titles := eval[[]string](b, `Array.from(document.querySelectorAll('[data-testid="drill-item-title"]')).map(e => e.textContent.trim())`)
	for _, want := range []string{"Ana Souza", "Bruno Dias", "Carla Reis"} {
		if !strings.Contains(strings.Join(titles, "|"), want) {
			t.Errorf("the drill-down lacks %s: %v", want, titles)
		}
	}
	rows := fetchCSV(t, b, `document.querySelector('[data-testid="drill-export"]').href`, ',')
	if len(rows) != 4 {
		t.Fatalf("the drill-down's CSV has %d rows, want a header and 3: %v", len(rows), rows)
	}
	for i, title := range titles {
		if rows[i+1][0] != title {
			t.Errorf("CSV row %d is %q, the screen says %q", i+1, rows[i+1][0], title)
		}
	}
	drill := strings.TrimPrefix(b.location(), inst.URL)
	b.noConsoleErrors()

	// A label: the figures that do not follow it (the leads') say so in one quiet line, the
	// ones that do (the messages') say nothing.
	b.open(org, tid("dash-kpis"))
	if n := eval[int](b, `document.querySelectorAll('[data-testid="scope-note"]').length`); n != 0 {
		t.Errorf("%d notes without any filter chosen", n)
	}
	b.do("filter by the label", chromedp.SetValue(tid("filter-label"), "vip"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="filter-label"]').dispatchEvent(new Event("change", {bubbles: true}))`))
	b.waitJS("one conversation has the label", figureIs("conversations.started", "1")+` && `+figureIs("messages.sent", "1"), waitTimeout)
	note := i18n.T(i18n.EN, "analytics.scope.ignored", "filters", "label")
	if got := eval[string](b, `(document.querySelector('[data-testid="kpi-leads.created"] [data-testid="scope-note"]') || {}).textContent || ""`); strings.TrimSpace(got) != note {
		t.Errorf("the leads card's note is %q, want %q", got, note)
	}
	if eval[bool](b, `!!document.querySelector('[data-testid="kpi-messages.sent"] [data-testid="scope-note"]')`) {
		t.Error("the messages card, which the label narrows, has a note")
	}
	if !eval[bool](b, `(() => { const e = document.querySelector('[data-testid="kpi-leads.created"] [data-testid="scope-note"]');
		return !!e && e.getBoundingClientRect().height > 0 && getComputedStyle(e).display !== "none"; })()`) {
		t.Error("the leads card's note is not visible")
	}
	dash = strings.TrimPrefix(b.location(), inst.URL)
	b.do("open the leads behind the figure", chromedp.Click(tid("figure-leads.created")))
	b.waitPath("the leads' drill-down", `/analytics/drill$`)
	b.waitJS("the drill-down says the label was left aside", `(document.querySelector('[data-testid="scope-note"]') || {}).textContent?.trim() === `+strconv.Quote(note), waitTimeout)
	scoped := strings.TrimPrefix(b.location(), inst.URL)
	b.noConsoleErrors()

	// The looks.
	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	for i, l := range []look{{name: "1366-light-en", width: 1366, height: 900, theme: "light"},
		{name: "390-dark-pt", width: 390, height: 844, theme: "dark", phone: true}} {
		if i == 1 {
			c := webtest.NewClient(t, inst.URL)
			c.Login(email, password)
			c.Post("/locale", url.Values{"locale": {"pt-BR"}})
		}
		b.setLook(l)
		for _, p := range []struct{ name, path, sel string }{{"dashboard", dash, `[data-testid="dash-kpis"]`}, {"drill", drill, `[data-testid="drill-list"]`},
			{"drill-scoped", scoped, `[data-testid="drill-summary"]`}} {
			b.open(p.path, chromedp.CSS(p.sel))
			if i == 1 && p.name == "dashboard" && !strings.Contains(eval[string](b, `document.body.innerText`), i18n.T(i18n.PTBR, "analytics.export_kpis")) {
				t.Errorf("%s %s: not in Portuguese", p.name, l.name)
			}
			if i == 1 && p.name == "dashboard" && !strings.Contains(eval[string](b, `document.querySelector('[data-testid="kpi-leads.created"]').innerText`),
				i18n.T(i18n.PTBR, "analytics.scope.ignored", "filters", "etiqueta")) {
				t.Errorf("%s %s: the leads card's note is not in Portuguese", p.name, l.name)
			}
			if dir != "" {
				b.save(dir, "analytics-"+p.name+"-"+l.name, l)
				continue
			}
			if w := eval[int64](b, `document.documentElement.scrollWidth`); w > l.width {
				t.Errorf("%s %s: the page is %d px wide on a %d px screen", p.name, l.name, w, l.width)
			}
		}
	}
}

// fetchCSV downloads, in the page (with its session), the CSV at the URL hrefJS evaluates
// to, and reads it.
func fetchCSV(t *testing.T, b *browser, hrefJS string, delim rune) [][]string {
	t.Helper()
	text := eval[string](b, `fetch(`+hrefJS+`, {credentials: "same-origin"}).then(r => r.ok ? r.text() : "HTTP " + r.status)`)
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(text, "\ufeff")))
	r.Comma = delim
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v: %q", err, text)
	}
	return rows
}
