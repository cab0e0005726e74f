package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"masteria/app/ai/provider"
	"masteria/app/config"
	"masteria/app/crm/board"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/sim/openaisim"
	"masteria/app/store/storetest"
	"masteria/app/web/webtest"
)

// progressionLooks are the screens the lead progression test is photographed on.
var progressionLooks = []look{
	{name: "desktop", width: 1366, height: 900, theme: "light"},
	{name: "desktop-dark", width: 1366, height: 900, theme: "dark"},
	{name: "phone", width: 390, height: 844, theme: "light", phone: true},
}

// TestProgressionOnTheBoard: a manager turns the AI on in the pipeline's settings; a
// customer's message on the sandbox channel, through the inbox's hook and the queue, makes
// the AI move a card on the open board live, with its reason and confidence; another
// customer's lead gets a suggestion, live too; accept moves that card, undo puts the first
// one back.
// Screenshots at 1366 px (light and dark) and 390 px go to MASTERIA_SCREENSHOTS, or to a
// temporary folder.
func TestProgressionOnTheBoard(t *testing.T) {
	t.Parallel()
	needChromium(t)
	ctx := testContext(t, 3*testTimeout)
	dir := os.Getenv("MASTERIA_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	inst := webtest.StartOn(t, storetest.URL(t), func(c *config.Config) { c.AIProgressionDelay = 300 * time.Millisecond })
	sim := openaisim.New()
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	app := inst.App
	bg := context.Background()

	s := &boardSetup{inst: inst, email: fmt.Sprintf("rita.%d@doceria.example", time.Now().UnixNano()), password: "trigo-Fermento-42-forno"}
	c := webtest.NewClient(t, inst.URL)
	s.home = c.Signup("Doceria Progresso", "Rita Lima", s.email, s.password)
	var orgID int64
	_, _ = fmt.Sscanf(s.home, "/o/%d", &orgID)
	owner := model.Actor{OrgID: orgID, Role: model.RoleOwner}
	if err := app.AI.Save(bg, owner, provider.Input{BaseURL: sim.URL() + "/v1", Key: "sk-e2e-progression", ChatModel: "gpt-4o-mini",
		EmbeddingModel: "text-embedding-3-small"}); err != nil {
		t.Fatal(err)
	}
	ch, err := app.Inbox.CreateChannel(bg, owner, model.KindSandbox, "WhatsApp", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := app.Board.Pipelines(bg, orgID)
	if err != nil || len(ps) == 0 {
		t.Fatalf("pipelines: %v", err)
	}
	stages, err := app.Board.Stages(bg, orgID, ps[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range stages {
		s.stages = append(s.stages, fmt.Sprint(st.ID))
	}
	seq := 0
	write := func(phone, name, body string) inbox.Received {
		t.Helper()
		seq++
		r, err := app.Inbox.Receive(bg, ch, inbox.Inbound{From: phone, Name: name, Body: body, ProviderID: fmt.Sprintf("wamid.e2e.%d", seq)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, cust := range []struct{ phone, name, first, title string }{
		{"+5511987650101", "Bia Costa", "Oi! Vocês fazem bolo de casamento?", "Bolo de casamento para 200 convidados"},
		{"+5511987650102", "Caio Dias", "Boa tarde, vi o cardápio de doces.", "Doces finos"},
		{"+5511987650103", "Duda Reis", "Oi", "Coxinhas para o escritório"},
	} {
		r := write(cust.phone, cust.name, cust.first)
		l, err := app.Board.CreateLead(bg, owner, board.LeadInput{StageID: stages[0].ID, Title: cust.title, ContactID: fmt.Sprint(r.ContactID), Value: "1.500,00"})
		if err != nil {
			t.Fatal(err)
		}
		s.leads = append(s.leads, fmt.Sprint(l.ID))
	}
	bolo, doces := s.leads[0], s.leads[1]

	b := newBrowser(t, ctx, "A", inst.URL)
	b.keys = i18nKeys(t)
	s.login(b)
	b.setLook(progressionLooks[0])

	// The manager turns the AI on in the pipeline's settings.
	b.open(s.home+"/board/pipelines/"+fmt.Sprint(ps[0].ID), tid("pipeline-ai-form"))
	b.do("turn the AI on at 80%",
		chromedp.Click(tid("pipeline-ai-enabled")),
		chromedp.SetValue(tid("pipeline-ai-threshold"), "80"),
		chromedp.Click(tid("pipeline-ai-save")),
	)
	b.waitJS("the settings are saved", `!!document.querySelector('[data-testid="pipeline-ai-enabled"]') && document.querySelector('[data-testid="pipeline-ai-enabled"]').checked && location.hash === "#pipeline-ai"`, waitTimeout)
	if set, err := app.Progression.Settings(bg, orgID, ps[0].ID); err != nil || !set.Enabled || set.Threshold != 0.8 {
		t.Fatalf("settings %+v, %v", set, err)
	}
	b.save(dir, "progression-settings-desktop", progressionLooks[0])

	// The board is open; customers write; the AI moves one card and suggests for another.
	b.open(s.home+"/board", tid("board-columns"))
	b.waitJS("the SSE connection of the board is open", sseOpen, waitTimeout)
	b.do("see that the AI is on", chromedp.WaitVisible(tid("board-ai-on")))
	sim.ReplyJSON(map[string]any{"stage": stages[2].Name, "confidence": 0.87, "reason": "Received the quote for 200 guests and wants to book the date"})
	write("+5511987650101", "Bia Costa", "Recebi o orçamento, quero reservar a data!")
	b.waitJS("the AI moved the card live", cardIn(bolo, s.stages[2]), waitTimeout)
	b.waitJS("the card says why", `(() => { const m = document.querySelector('#lead-`+bolo+` [data-testid="lead-ai-moved"]');
		return !!m && m.textContent.includes("Moved by AI") && m.textContent.includes("87%") })()`, waitTimeout)
	if reqs := sim.Requests(); len(reqs) != 1 || reqs[0].ResponseFormat == nil || reqs[0].ResponseFormat.Type != "json_schema" {
		t.Fatalf("the model got %d requests", len(reqs))
	}
	sim.ReplyJSON(map[string]any{"stage": stages[1].Name, "confidence": 0.62, "reason": "Asked about sweets for a party of 80"})
	write("+5511987650102", "Caio Dias", "Quanto sai 300 docinhos para uma festa de 80 pessoas?")
	b.waitJS("the suggestion shows live", `!!document.querySelector('#lead-`+doces+` [data-testid="lead-ai-suggestion"]')`, waitTimeout)
	if got := b.text(chromedp.CSS(`#lead-` + doces + ` [data-testid="lead-ai-suggestion"] .strong`)); got != "AI suggests "+stages[1].Name+" · 62%" {
		t.Errorf("the suggestion says %q", got)
	}
	for _, l := range progressionLooks {
		b.setLook(l)
		b.open(s.home+"/board", tid("board-columns"))
		b.save(dir, "progression-board-"+l.name, l)
		b.open(s.home+"/board", tid("board-columns"))
		b.do("open the moved lead's drawer", chromedp.Click(`#lead-`+bolo+` [data-testid="lead-open"]`), chromedp.WaitVisible(tid("lead-panel-ai-moved")))
		b.save(dir, "progression-drawer-"+l.name, l)
	}
	b.setLook(progressionLooks[2])
	b.open(s.home+"/board/pipelines/"+fmt.Sprint(ps[0].ID), tid("pipeline-ai-form"))
	b.save(dir, "progression-settings-phone", progressionLooks[2])

	// Accept the suggestion and undo the move, from the cards, on the phone.
	b.open(s.home+"/board", tid("board-columns"))
	b.waitJS("the SSE connection of the board is open", sseOpen, waitTimeout)
	b.tapSettled("accept the suggestion", `#lead-`+doces+` [data-testid="lead-ai-accept"]`)
	b.waitJS("the card moved to the suggested stage", cardIn(doces, s.stages[1]), waitTimeout)
	b.waitJS("the suggestion is gone", `!document.querySelector('#lead-`+doces+` [data-testid="lead-ai-suggestion"]')`, waitTimeout)
	b.tapSettled("undo the AI's move", `#lead-`+bolo+` [data-testid="lead-ai-undo"]`)
	b.waitJS("the card is back in the first stage", cardIn(bolo, s.stages[0]), waitTimeout)
	b.waitJS("the badge is gone", `!document.querySelector('#lead-`+bolo+` [data-testid="lead-ai-moved"]')`, waitTimeout)
	for lead, want := range map[string]string{bolo: s.stages[0], doces: s.stages[1]} {
		var got string
		if err := app.Store.DB().Get(&got, `SELECT stage_id::text FROM leads WHERE id = $1`, lead); err != nil || got != want {
			t.Errorf("lead %s is in stage %s, want %s (%v)", lead, got, want, err)
		}
	}
	// A reload shows the same.
	b.open(s.home+"/board", tid("board-columns"))
	b.waitJS("after a reload", cardIn(bolo, s.stages[0])+" && "+cardIn(doces, s.stages[1]), waitTimeout)
	if res := c.Get(s.home + "/board"); res.StatusCode != http.StatusOK {
		t.Fatalf("board: %d", res.StatusCode)
	}
	b.noConsoleErrors()
}

// tapSettled brings css's column into view as a finger swipes to it (the board's columns
// snap to their start), waits until it stays in place (two frames in the same place), and
// clicks it.
func (b *browser) tapSettled(what, css string) {
	b.t.Helper()
	b.do(what+": swipe to its column", chromedp.Evaluate[chromedp.Void](`(() => { const el = document.querySelector(`+jsString(css)+`);
		(el.closest(".board-column") || el).scrollIntoView({inline: "start", block: "center"}) })()`))
	still := `new Promise(r => { const el = document.querySelector(` + jsString(css) + `);
		const at = () => { const x = el.getBoundingClientRect(); return x.left + "," + x.top };
		const a = at(); setTimeout(() => requestAnimationFrame(() => r(at() === a)), 150) })`
	for i := 0; !eval[bool](b, still); i++ {
		if i == 50 {
			b.t.Fatalf("%s: it keeps moving", what)
		}
	}
	b.do(what, chromedp.Click(css))
}
