package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"masteria/app/model"
	"masteria/app/web/webtest"
)

// TestBrowserPersonaOnChannel: a manager creates a persona with a knowledge base, a
// hand-over keyword and business hours, and puts it on a channel. Screenshots of the pages
// (1366 px light and dark, 390 px; English and Portuguese) go to MASTERIA_SCREENSHOTS when
// it is set.
func TestBrowserPersonaOnChannel(t *testing.T) {
	t.Parallel()
	needChromium(t)
	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	inst := webtest.Start(t)
	email, password := fmt.Sprintf("bot.%d@padaria.example", time.Now().UnixNano()), "trigo-Fermento-42-forno"
	c := webtest.NewClient(t, inst.URL)
	home := c.Signup("Padaria Pão Quente", "Ana Souza", email, password)
	var orgID int64
	_, _ = fmt.Sscanf(home, "/o/%d", &orgID)
	bg := context.Background()
	owner := model.Actor{OrgID: orgID, Role: model.RoleOwner}
	base, err := inst.App.Knowledge.CreateBase(bg, owner, "Cardápio e encomendas", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inst.App.Knowledge.CreateBase(bg, owner, "Horários e entregas", ""); err != nil {
		t.Fatal(err)
	}
	ch, err := inst.App.Inbox.CreateChannel(bg, owner, model.KindSandbox, "WhatsApp da loja", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A manager does it: the role the bot switch is for.
	mEmail := fmt.Sprintf("gerente.%d@padaria.example", time.Now().UnixNano())
	if _, err := inst.App.Account.CreateUserInOrg(bg, "Padaria Pão Quente", "Bruno Lima", mEmail, password, model.RoleManager); err != nil {
		t.Fatal(err)
	}

	ctx := testContext(t, 4*testTimeout)
	b := newBrowser(t, ctx, "manager", inst.URL)
	b.keys = i18nKeys(t)
	b.open("/login", tid("login-email"))
	b.do("log in",
		chromedp.SendKeys(tid("login-email"), mEmail),
		chromedp.SendKeys(tid("login-password"), password),
		chromedp.Click(tid("login-submit")),
	)
	b.waitPath("land on the org", orgPathRE.String())

	// From the sidebar to the empty list, then the form.
	b.do("open Personas from the sidebar", chromedp.Click(`.sidebar-nav a[href="`+home+`/personas"]`))
	b.do("see the empty state", chromedp.WaitVisible(tid("persona-empty")))
	if dir != "" {
		wide := look{name: "1366", width: 1366, height: 900, theme: "light"}
		b.setLook(wide)
		b.open(home+"/personas", tid("persona-empty"))
		b.save(dir, "personas-empty-en-1366", wide)
	}
	b.do("open the form", chromedp.Click(in("persona-empty", `[data-testid="persona-new"]`)), chromedp.WaitVisible(tid("persona-form")))
	b.do("fill the persona",
		chromedp.SendKeys(tid("persona-name"), "Ana da Padaria"),
		chromedp.SendKeys(tid("persona-instructions"), "Você é a Ana, da Padaria Pão Quente. Responda sobre pães, bolos e encomendas."),
		chromedp.SetValue(tid("persona-tone"), "casual"),
		chromedp.Click(tid(fmt.Sprintf("persona-kb-%d", base.ID))),
		chromedp.Click(tid("persona-nothing-found-silent")),
		chromedp.Clear(tid("persona-keywords")),
		chromedp.SendKeys(tid("persona-keywords"), "atendente, humano, Humano, pessoa, gerente"),
		chromedp.Click(tid("persona-hours-always")), // off: the days show
		chromedp.WaitVisible(tid("persona-hours-mon")),
		chromedp.SendKeys(tid("persona-hours-mon"), "8:00-12:00, 13:00-18:00"),
		chromedp.SendKeys(tid("persona-hours-sat"), "08:00-12:00"),
		chromedp.Click(tid("persona-save")),
	)
	b.waitPath("back on the list", `^/o/\d+/personas$`)
	b.do("see the persona", chromedp.WaitVisible(tid("persona-row")))
	ps, err := inst.App.Personas.Personas(bg, orgID)
	if err != nil || len(ps) != 1 {
		t.Fatalf("personas: %v %v", ps, err)
	}
	p := ps[0]
	if p.Tone != "casual" || p.NothingFound != model.NothingFoundSilent || len(p.KnowledgeBases) != 1 || p.KnowledgeBases[0] != base.ID ||
		len(p.HandoverKeywords) != 4 || string(p.BusinessHours) != `{"mon": [["08:00", "12:00"], ["13:00", "18:00"]], "sat": [["08:00", "12:00"]]}` {
		t.Fatalf("saved: %+v hours %s", p, p.BusinessHours)
	}

	// The channel's bot, from the list.
	b.do("open the channel's bot", chromedp.Click(in("persona-bots", `[data-testid="persona-bot-change"]`)), chromedp.WaitVisible(tid("bot-form")))
	b.do("choose the persona and save",
		chromedp.Click(tid(fmt.Sprintf("bot-persona-%d", p.ID))),
		chromedp.Click(tid("bot-save")),
	)
	b.waitJS("the toast says the bot answers", `[...document.querySelectorAll(".toast")].some(t => t.textContent.includes("The bot now answers this channel."))`, waitTimeout)
	got, err := inst.App.Inbox.Channel(bg, orgID, ch.ID)
	if err != nil || got.PersonaID == nil || *got.PersonaID != p.ID {
		t.Fatalf("channel persona: %v %v", got.PersonaID, err)
	}
	b.open(home+"/personas", tid("persona-row"))
	if s := b.text(tid("persona-channels")); s != "WhatsApp da loja" {
		t.Errorf("the list says the persona answers on %q", s)
	}
	b.noConsoleErrors()

	if dir == "" {
		return
	}
	looks := []look{
		{name: "1366", width: 1366, height: 900, theme: "light"},
		{name: "1366-dark", width: 1366, height: 900, theme: "dark"},
		{name: "390", width: 390, height: 844, theme: "light", phone: true},
	}
	edit := fmt.Sprintf("%s/personas/%d", home, p.ID)
	botPage := fmt.Sprintf("%s/settings/channels/%d/bot", home, ch.ID)
	shoot := func(lang string, ls []look) {
		for _, l := range ls {
			b.setLook(l)
			b.open(home+"/personas", tid("persona-table"))
			b.save(dir, "personas-"+lang+"-"+l.name, l)
			b.open(edit, tid("persona-form"))
			b.save(dir, "persona-form-"+lang+"-"+l.name, l)
			b.open(home+"/personas/new", tid("persona-form"))
			b.do("send a form with mistakes",
				chromedp.SetAttributeValue(tid("persona-max-turns"), "min", "0"),
				chromedp.SetValue(tid("persona-max-turns"), "0"),
				chromedp.Click(tid("persona-hours-always")),
				chromedp.SendKeys(tid("persona-hours-tue"), "18:00-08:00"),
				chromedp.SendKeys(tid("persona-name"), "Bia"),
				chromedp.Click(tid("persona-save")),
				chromedp.WaitVisible(`.field-error`),
			)
			b.save(dir, "persona-errors-"+lang+"-"+l.name, l)
			b.open(botPage, tid("bot-form"))
			b.save(dir, "persona-bot-"+lang+"-"+l.name, l)
		}
	}
	shoot("en", looks)
	if _, err := inst.App.Store.DB().Exec(`UPDATE users SET locale = 'pt-BR'`); err != nil {
		t.Fatal(err)
	}
	shoot("pt", []look{looks[0], looks[2]})
	// The form sent with mistakes answers 422, which the console reports; nothing else.
	b.flushConsole()
	for _, e := range b.consoleErrors() {
		if !strings.Contains(e, "status of 422") || !strings.Contains(e, home+"/personas:") {
			t.Errorf("console: %s", e)
		}
	}
}
