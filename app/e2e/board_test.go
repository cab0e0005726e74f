package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"masteria/app/web/webtest"
)

// boardSetup is an org with a few leads on its default board, and the login of its owner.
type boardSetup struct {
	inst            *webtest.Instance
	email, password string
	home            string   // /o/{id}
	stages          []string // stage ids of the default pipeline, in order
	leads           []string // lead ids, created in the first stage
}

// newBoardSetup signs up through HTTP (faster than the form), opens the board once (which
// creates the default pipeline) and adds leads to its first stage.
func newBoardSetup(t *testing.T, titles ...string) *boardSetup {
	t.Helper()
	inst := webtest.Start(t)
	s := &boardSetup{inst: inst, email: fmt.Sprintf("ana.%d@doceria.example", time.Now().UnixNano()), password: "trigo-Fermento-42-forno"}
	c := webtest.NewClient(t, inst.URL)
	s.home = c.Signup("Doceria Açúcar", "Ana Souza", s.email, s.password)
	if res := c.Get(s.home + "/board"); res.StatusCode != http.StatusOK {
		t.Fatalf("board: %d", res.StatusCode)
	}
	db := inst.App.Store.DB()
	if err := db.Select(&s.stages, `SELECT id::text FROM stages ORDER BY position, id`); err != nil {
		t.Fatal(err)
	}
	for i, title := range titles {
		res := c.Post(s.home+"/board/leads", url.Values{"stage_id": {s.stages[0]}, "title": {title}, "value": {fmt.Sprintf("%d.500,00", i+1)},
			"contact_name": {"Cliente " + title}, "contact_phone": {fmt.Sprintf("+55119876510%02d", i)}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("lead %s: %d %s", title, res.StatusCode, webtest.Text(res.Body))
		}
		var id string
		if err := db.Get(&id, `SELECT id::text FROM leads WHERE title = $1`, title); err != nil {
			t.Fatal(err)
		}
		s.leads = append(s.leads, id)
	}
	return s
}

// login logs b in through the form and opens the board.
func (s *boardSetup) login(b *browser) {
	b.t.Helper()
	b.open("/login", tid("login-email"))
	b.do("log in",
		chromedp.SendKeys(tid("login-email"), s.email),
		chromedp.SendKeys(tid("login-password"), s.password),
		chromedp.Click(tid("login-submit")),
	)
	b.waitPath("land on the org", orgPathRE.String())
	b.open(s.home+"/board", tid("board-columns"))
	b.waitJS("the SSE connection of the board is open", sseOpen, waitTimeout)
}

// cardIn is a JavaScript test that the lead's card is in the stage's column.
func cardIn(lead, stage string) string {
	return fmt.Sprintf(`(() => { const c = document.getElementById("lead-%s");
		return !!c && !c.hasAttribute("aria-busy") && c.closest("[data-cards]").getAttribute("data-stage-id") === %s })()`, lead, jsString(stage))
}

type point struct{ X, Y float64 }

// centre is the middle of the first element matching css on the screen. The tests'
// screen is wide enough for the first columns: nothing scrolls between measuring and
// dragging.
func (b *browser) centre(css string) point {
	b.t.Helper()
	return eval[point](b, fmt.Sprintf(`(() => { const r = document.querySelector(%s).getBoundingClientRect();
		return {X: r.left + r.width / 2, Y: r.top + r.height / 2} })()`, jsString(css)))
}

// drag presses the left button at from, moves to to in steps, as a hand does, and releases.
func (b *browser) drag(from, to point) {
	b.t.Helper()
	held := func(p *input.DispatchMouseEventParams) { p.Buttons = 1 }
	actions := []chromedp.Action[chromedp.Void]{
		chromedp.MouseEvent(chromedp.MouseMoved, from.X, from.Y),
		chromedp.MouseEvent(chromedp.MousePressed, from.X, from.Y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
	}
	const steps = 12
	for i := 1; i <= steps; i++ {
		x := from.X + (to.X-from.X)*float64(i)/steps
		y := from.Y + (to.Y-from.Y)*float64(i)/steps
		actions = append(actions, chromedp.MouseEvent(chromedp.MouseMoved, x, y, chromedp.ButtonLeft, held), chromedp.Sleep(20*time.Millisecond))
	}
	actions = append(actions,
		chromedp.MouseEvent(chromedp.MouseMoved, to.X, to.Y, chromedp.ButtonLeft, held),
		chromedp.Sleep(60*time.Millisecond),
		chromedp.MouseEvent(chromedp.MouseReleased, to.X, to.Y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
	)
	b.do("drag with the mouse", actions...)
}

// TestBoardDragAndLive: drag a card to another column with the mouse; it stays after a
// reload, and a second browser with the board open sees it move without reloading. Then
// the second browser moves a card with the keyboard menu, and the first one follows.
func TestBoardDragAndLive(t *testing.T) {
	t.Parallel()
	needChromium(t)
	ctx := testContext(t, 2*testTimeout)
	s := newBoardSetup(t, "Bolo de casamento", "Doces finos", "Torta de morango")
	bolo, doces, torta := s.leads[0], s.leads[1], s.leads[2]

	a := newBrowser(t, ctx, "A", s.inst.URL)
	s.login(a)
	bb := newBrowser(t, ctx, "B", s.inst.URL)
	s.login(bb)
	bb.do("mark B's page", chromedp.Evaluate[chromedp.Void](`window.__e2eNoReload = true`))

	// A drags "Doces finos" from the first column into the empty third one.
	from := a.centre(`#lead-` + doces + ` .lead-card-contact`)
	to := a.centre(`#cards-` + s.stages[2])
	a.drag(from, to)
	a.waitJS("A shows the card in the third column", cardIn(doces, s.stages[2]), waitTimeout)
	var stage string
	deadline := time.Now().Add(waitTimeout)
	for stage != s.stages[2] && time.Now().Before(deadline) {
		_ = s.inst.App.Store.DB().Get(&stage, `SELECT stage_id::text FROM leads WHERE id = $1`, doces)
		time.Sleep(50 * time.Millisecond)
	}
	if stage != s.stages[2] {
		t.Fatalf("the drag did not move the lead in the database: stage %s", stage)
	}
	a.waitJS("A's third column counts one lead", textIs(chromedp.CSS(`.board-column[data-stage-id="`+s.stages[2]+`"] [data-count]`), "1"), waitTimeout)

	// B sees it move, without a reload, and its columns' counts follow.
	bb.waitJS("B shows the card in the third column", cardIn(doces, s.stages[2]), waitTimeout)
	bb.waitJS("B's first column counts two leads", textIs(chromedp.CSS(`.board-column[data-stage-id="`+s.stages[0]+`"] [data-count]`), "2"), waitTimeout)
	if !eval[bool](bb, `window.__e2eNoReload === true`) {
		t.Error("browser B reloaded the page; the move must arrive over SSE")
	}

	// A drags "Bolo" into the third column above "Doces finos".
	a.drag(a.centre(`#lead-`+bolo+` .lead-card-contact`), a.centre(`#lead-`+doces+` .lead-card-title`))
	a.waitJS("A shows Bolo in the third column", cardIn(bolo, s.stages[2]), waitTimeout)
	order := `Array.from(document.querySelectorAll("#cards-` + s.stages[2] + ` > .lead-card")).map(c => c.dataset.leadId).join(",")`
	a.waitJS("A's third column reads Bolo, Doces", order+` === `+jsString(bolo+","+doces), waitTimeout)
	bb.waitJS("B's third column reads Bolo, Doces", order+` === `+jsString(bolo+","+doces), waitTimeout)

	// After a reload A still has both there, in that order.
	a.open(s.home+"/board", tid("board-columns"))
	if got := eval[string](a, order); got != bolo+","+doces {
		t.Fatalf("after a reload the third column reads %s, want %s,%s", got, bolo, doces)
	}

	// B, from the keyboard: the card's menu moves "Torta" to the third column.
	bb.do("open Torta's menu",
		chromedp.Click(`#lead-`+torta+` .lead-move > summary`),
		chromedp.WaitVisible(`#lead-`+torta+` [data-testid="lead-move-stage"]`),
		chromedp.SetValue(`#lead-`+torta+` [data-testid="lead-move-stage"]`, s.stages[2]),
		chromedp.Click(`#lead-`+torta+` [data-testid="lead-move-submit"]`),
	)
	bb.waitJS("B shows Torta in the third column", cardIn(torta, s.stages[2]), waitTimeout)
	a.waitJS("A shows Torta in the third column", cardIn(torta, s.stages[2]), waitTimeout)
	// Moved to a stage from the menu, a card goes on top; then "Move down" once. The card may
	// be drawn again by its own lead.moved event at any moment (closing its menu), so the
	// button is looked up when pressed, and the menu opened again until it is there.
	bb.waitJS("move Torta down", `(() => {
		const menu = document.querySelector("#lead-`+torta+` .lead-move");
		const down = menu && menu.querySelector('[data-testid="lead-move-down"]');
		if (down && down.offsetParent !== null) { down.click(); return true; }
		if (menu && !menu.open) menu.open = true; // the toggle loads the menu
		return false;
	})()`, waitTimeout)
	want := bolo + "," + torta + "," + doces
	bb.waitJS("B's third column reads Bolo, Torta, Doces", order+` === `+jsString(want), waitTimeout)
	a.waitJS("A's third column reads Bolo, Torta, Doces", order+` === `+jsString(want), waitTimeout)

	a.noConsoleErrors()
	bb.noConsoleErrors()
}

// TestBoardNewLeadAndDrawer adds a lead from the board's dialog, opens it in the drawer,
// edits it, and sees the card change.
func TestBoardNewLeadAndDrawer(t *testing.T) {
	t.Parallel()
	needChromium(t)
	ctx := testContext(t, testTimeout)
	s := newBoardSetup(t)
	a := newBrowser(t, ctx, "A", s.inst.URL)
	s.login(a)

	a.do("create a lead in the dialog",
		chromedp.Click(tid("lead-new")),
		chromedp.WaitVisible(tid("lead-new-form")),
		chromedp.SendKeys(`#lead-new-panel [data-testid="lead-title"]`, "Festa junina da escola"),
		chromedp.SendKeys(`#lead-new-panel [data-testid="lead-value-input"]`, "2.750,00"),
		chromedp.SendKeys(tid("lead-contact-name"), "Escola Sol"),
		chromedp.SendKeys(tid("lead-contact-phone"), "+55 11 3333-4444"),
		chromedp.Click(tid("lead-new-submit")),
	)
	a.waitJS("the new card is on the board", `[...document.querySelectorAll('[data-testid="lead-card"]')].some(c => c.textContent.includes("Festa junina da escola"))`, waitTimeout)
	a.waitJS("the dialog closed", `!document.getElementById("lead-new").open`, waitTimeout)
	a.waitJS("the first column sums the value", `document.querySelector('.board-column [data-sum]').textContent.includes("2,750.00")`, waitTimeout)

	a.do("open the lead in the drawer",
		chromedp.Click(`[data-testid="lead-card"] [data-testid="lead-open"]`),
		chromedp.WaitVisible(tid("lead-edit-form")),
	)
	a.waitJS("the drawer is open", `document.getElementById("lead-drawer").open`, waitTimeout)
	a.do("rename it",
		chromedp.Clear(`#lead-drawer [data-testid="lead-title"]`),
		chromedp.SendKeys(`#lead-drawer [data-testid="lead-title"]`, "Festa junina — 300 pessoas"),
		chromedp.Click(`#lead-drawer [data-testid="lead-save"]`),
	)
	a.waitJS("the card shows the new title", `!!document.querySelector('[data-testid="lead-card"]') && document.querySelector('[data-testid="lead-card"] .lead-card-title').textContent.includes("300 pessoas")`, waitTimeout)
	a.waitJS("the drawer closed", `!document.getElementById("lead-drawer").open`, waitTimeout)
	a.noConsoleErrors()
}

// TestBoardScreenshots writes PNGs of the board, its drawer and the pipeline page into
// the folder MASTERIA_SCREENSHOTS names, in the light and dark themes and on a phone.
func TestBoardScreenshots(t *testing.T) {
	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	if dir == "" {
		t.Skip("set MASTERIA_SCREENSHOTS to a folder to write screenshots of the board")
	}
	needChromium(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t, 4*testTimeout)
	s := newBoardSetup(t, "Bolo de casamento para 200 convidados", "Doces finos", "Torta de morango", "Coxinhas para o escritório",
		"Cesta de café da manhã", "Kit festa infantil")
	c := webtest.NewClient(t, s.inst.URL)
	c.Login(s.email, s.password)
	for i, l := range s.leads[:4] {
		if res := c.PostRaw(s.home+"/board/leads/"+l+"/move", url.Values{"stage_id": {s.stages[1+i%3]}},
			"HX-Request", "true", "X-CSRF-Token", c.CSRF()); res.StatusCode != http.StatusOK {
			t.Fatalf("move: %d", res.StatusCode)
		}
	}
	var owner string
	_ = s.inst.App.Store.DB().Get(&owner, `SELECT id::text FROM users LIMIT 1`)
	for _, l := range []string{s.leads[0], s.leads[4]} {
		var title string
		_ = s.inst.App.Store.DB().Get(&title, `SELECT title FROM leads WHERE id = $1`, l)
		if res := c.Post(s.home+"/board/leads/"+l, url.Values{"title": {title}, "value": {"4.250,00"}, "owner_id": {owner}, "source": {"Instagram"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("owner: %d", res.StatusCode)
		}
	}
	b := newBrowser(t, ctx, "shots", s.inst.URL)
	b.keys = i18nKeys(t)
	s.login(b)
	for _, l := range looks {
		b.setLook(l)
		b.open(s.home+"/board", tid("board-columns"))
		b.save(dir, "board-"+l.name, l)
		b.open(s.home+"/board", tid("board-columns"))
		b.do("open a card's menu", chromedp.Click(`#lead-`+s.leads[4]+` .lead-move > summary`), chromedp.WaitVisible(`#lead-`+s.leads[4]+` [data-testid="lead-move-submit"]`))
		b.save(dir, "board-menu-"+l.name, l)
		b.open(s.home+"/board", tid("board-columns"))
		b.do("open the drawer", chromedp.Click(`#lead-`+s.leads[0]+` [data-testid="lead-open"]`), chromedp.WaitVisible(tid("lead-edit-form")))
		b.save(dir, "board-drawer-"+l.name, l)
		b.open(s.home+"/board", tid("board-columns"))
		b.do("open the new-lead dialog", chromedp.Click(tid("lead-new")), chromedp.WaitVisible(tid("lead-new-form")))
		b.save(dir, "board-new-"+l.name, l)
		b.open(s.home+"/board/pipelines/"+strings.TrimSpace(pipelineOf(t, s)), tid("stage-list"))
		b.save(dir, "pipeline-"+l.name, l)
	}
	// Portuguese, on a desktop and a phone.
	if _, err := s.inst.App.Store.DB().Exec(`UPDATE users SET locale = 'pt-BR'`); err != nil {
		t.Fatal(err)
	}
	for _, l := range []look{looks[0], looks[2]} {
		b.setLook(l)
		b.open(s.home+"/board?q=a", tid("board-columns"))
		b.save(dir, "board-ptbr-"+l.name, l)
		b.open(s.home+"/board", tid("board-columns"))
		b.do("open the drawer", chromedp.Click(`#lead-`+s.leads[0]+` [data-testid="lead-open"]`), chromedp.WaitVisible(tid("lead-edit-form")))
		b.save(dir, "board-drawer-ptbr-"+l.name, l)
	}
	b.noConsoleErrors()
}

func pipelineOf(t *testing.T, s *boardSetup) string {
	var id string
	if err := s.inst.App.Store.DB().Get(&id, `SELECT id::text FROM pipelines LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestPipelineStageDrag reorders a pipeline's stages by dragging one by its handle; the
// order is saved, and the arrows at the ends follow.
func TestPipelineStageDrag(t *testing.T) {
	t.Parallel()
	needChromium(t)
	ctx := testContext(t, testTimeout)
	s := newBoardSetup(t)
	a := newBrowser(t, ctx, "A", s.inst.URL)
	s.login(a)
	// Every stage with its description in view: the drag starts and ends on screen.
	a.do("a tall screen", chromedp.EmulateViewport(1280, 1800))
	a.open(s.home+"/board/pipelines/"+pipelineOf(t, s), tid("stage-list"))
	last, first := s.stages[len(s.stages)-1], s.stages[0]
	from := a.centre(`[data-stage-id="` + last + `"] .stage-handle`)
	to := a.centre(`[data-stage-id="` + first + `"] .stage-handle`)
	a.drag(from, point{to.X, to.Y - 8})
	var got string
	deadline := time.Now().Add(waitTimeout)
	for got != last && time.Now().Before(deadline) {
		_ = s.inst.App.Store.DB().Get(&got, `SELECT id::text FROM stages ORDER BY position, id LIMIT 1`)
		time.Sleep(50 * time.Millisecond)
	}
	if got != last {
		t.Fatalf("the first stage is %s after the drag, want %s", got, last)
	}
	a.waitJS("the first row's up arrow is off", `document.querySelector('[data-testid="stage-row"] [data-testid="stage-up"]').disabled`, waitTimeout)
	a.noConsoleErrors()
}
