package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"masteria/app/ai/provider"
	"masteria/app/config"
	"masteria/app/crm/board"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/sim/openaisim"
	"masteria/app/store/storetest"
	"masteria/app/web/webtest"
)

// startAI runs an instance whose classification jobs wait an hour (the tests classify
// directly, so a job never takes the simulator's scripted answers), and the OpenAI
// simulator.
func startAI(t *testing.T) (*webtest.Instance, *openaisim.Server) {
	t.Helper()
	inst := webtest.StartOn(t, storetest.URL(t), func(c *config.Config) { c.AIProgressionDelay = time.Hour })
	sim := openaisim.New()
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return inst, sim
}

// aiOrg is a board org with a sandbox channel and, once connect is called, an AI provider
// on the simulator.
type aiOrg struct {
	*boardOrg
	orgID int64
	sim   *openaisim.Server
	ch    model.Channel
	phone int
}

func newAIOrg(t *testing.T, inst *webtest.Instance, sim *openaisim.Server, name string) *aiOrg {
	t.Helper()
	o := &aiOrg{boardOrg: newBoardOrg(t, inst, name), sim: sim}
	_, _ = fmt.Sscanf(o.home, "/o/%d", &o.orgID)
	var err error
	if o.ch, err = inst.App.Inbox.CreateChannel(context.Background(), o.actor(), model.KindSandbox, "WhatsApp", nil, nil); err != nil {
		t.Fatal(err)
	}
	return o
}

func (o *aiOrg) actor() model.Actor { return model.Actor{OrgID: o.orgID, Role: model.RoleOwner} }

// connect gives the org the simulator as its AI provider.
func (o *aiOrg) connect() {
	o.t.Helper()
	if err := o.inst.App.AI.Save(context.Background(), o.actor(), provider.Input{BaseURL: o.sim.URL() + "/v1", Key: "sk-web-progression",
		ChatModel: "gpt-4o-mini", EmbeddingModel: "text-embedding-3-small"}); err != nil {
		o.t.Fatal(err)
	}
}

// on turns the pipeline's AI on at a threshold, through the service.
func (o *aiOrg) on(threshold float64) {
	o.t.Helper()
	if _, err := o.inst.App.Progression.SaveSettings(context.Background(), o.actor(), o.pid, true, threshold); err != nil {
		o.t.Fatal(err)
	}
}

// customer is a new customer who wrote msg, with a lead in the first stage.
func (o *aiOrg) customer(name, msg, title string) int64 {
	o.t.Helper()
	o.phone++
	r, err := o.inst.App.Inbox.Receive(context.Background(), o.ch, inbox.Inbound{From: fmt.Sprintf("+55119%08d", o.orgID*1000+int64(o.phone)),
		Name: name, Body: msg, ProviderID: fmt.Sprintf("ai.%d.%d", o.orgID, o.phone)})
	if err != nil {
		o.t.Fatal(err)
	}
	l, err := o.inst.App.Board.CreateLead(context.Background(), o.actor(), board.LeadInput{StageID: o.stages[0], Title: title, ContactID: fmt.Sprint(r.ContactID)})
	if err != nil {
		o.t.Fatal(err)
	}
	return l.ID
}

// classify has the model answer stage with confidence and reason for a lead.
func (o *aiOrg) classify(lead int64, stage string, confidence float64, reason string) {
	o.t.Helper()
	o.sim.ReplyJSON(map[string]any{"stage": stage, "confidence": confidence, "reason": reason})
	if err := o.inst.App.Progression.Classify(context.Background(), o.orgID, lead); err != nil {
		o.t.Fatal(err)
	}
}

// decision is the id of the lead's latest AI decision of kind.
func (o *aiOrg) decision(lead int64, kind string) int64 {
	o.t.Helper()
	var id int64
	if err := o.inst.App.Store.DB().Get(&id, `SELECT id FROM lead_ai_decisions WHERE lead_id = $1 AND kind = $2 ORDER BY id DESC LIMIT 1`, lead, kind); err != nil {
		o.t.Fatalf("no %s for lead %d: %v", kind, lead, err)
	}
	return id
}

func (o *aiOrg) status(decision int64) string {
	o.t.Helper()
	var s string
	if err := o.inst.App.Store.DB().Get(&s, `SELECT status FROM lead_ai_decisions WHERE id = $1`, decision); err != nil {
		o.t.Fatal(err)
	}
	return s
}

func (o *aiOrg) answer(c *webtest.Client, lead int64, action string, form url.Values, hx bool) *webtest.Response {
	o.t.Helper()
	path := fmt.Sprintf("%s/board/leads/%d/ai/%s", o.home, lead, action)
	if hx {
		return htmx(c, path, form)
	}
	return c.Post(path, form)
}

// TestProgressionPipelineSettings: a manager turns the AI on with a threshold on the
// pipeline's page; the board says it is on; bad thresholds, agents, foreign pipelines,
// forged and oversized requests change nothing.
func TestProgressionPipelineSettings(t *testing.T) {
	t.Parallel()
	inst, sim := startAI(t)
	o := newAIOrg(t, inst, sim, "Doceria Progresso")
	other := newAIOrg(t, inst, sim, "Oficina Alheia")
	page := o.owner.Get(fmt.Sprintf("%s/board/pipelines/%d", o.home, o.pid))
	for _, want := range []string{`data-testid="pipeline-ai-form"`, `name="threshold"`, `value="80"`, "Connect an AI provider"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the pipeline page lacks %s", want)
		}
	}
	if strings.Contains(page.Body, `data-testid="pipeline-ai-enabled" checked`) {
		t.Error("the AI is on by default")
	}
	o.connect()
	settings := func(org, pid int64) model.PipelineAI {
		s, err := inst.App.Progression.Settings(context.Background(), org, pid)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	path := fmt.Sprintf("%s/board/pipelines/%d/ai", o.home, o.pid)
	res := o.owner.Post(path, url.Values{"enabled": {"on"}, "threshold": {"75"}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), "#pipeline-ai") {
		t.Fatalf("save: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if s := settings(o.orgID, o.pid); !s.Enabled || s.Threshold != 0.75 {
		t.Fatalf("saved %+v", s)
	}
	page = o.owner.Get(fmt.Sprintf("%s/board/pipelines/%d", o.home, o.pid))
	if !strings.Contains(page.Body, `value="75"`) || strings.Contains(page.Body, "Connect an AI provider") {
		t.Errorf("the page after saving: %s", webtest.Text(page.Body))
	}
	if board := o.owner.Get(o.home + "/board"); !strings.Contains(board.Body, `data-testid="board-ai-on"`) ||
		!strings.Contains(board.Body, "sse:lead.suggestion_created") {
		t.Error("the board does not say the AI is on")
	}
	for _, bad := range []string{"30", "101", "abc", "", "NaN", "1e9"} {
		res := o.owner.Post(path, url.Values{"enabled": {"on"}, "threshold": {bad}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Enter a number from 50 to 100.") {
			t.Errorf("threshold %q: %d", bad, res.StatusCode)
		}
	}
	// In Portuguese it says it in Portuguese.
	o.owner.Post("/locale", url.Values{"locale": {"pt-BR"}})
	if res := o.owner.Post(path, url.Values{"threshold": {"20"}}); !strings.Contains(res.Body, "Digite um número de 50 a 100.") {
		t.Errorf("pt-BR error: %s", webtest.Text(res.Body))
	}
	o.owner.Post("/locale", url.Values{"locale": {"en"}})
	agent, _ := o.member(model.RoleAgent)
	refused := []*webtest.Response{
		agent.Post(path, url.Values{"threshold": {"90"}}),                                                         // an agent
		o.owner.PostRaw(path, url.Values{"enabled": {"on"}, "threshold": {"90"}}),                                 // no CSRF
		o.owner.Post(fmt.Sprintf("%s/board/pipelines/%d/ai", o.home, other.pid), url.Values{"threshold": {"90"}}), // another org's pipeline
		o.owner.Post(path, url.Values{"threshold": {"9\x000"}}),                                                   // NUL
		o.owner.Post(path, url.Values{"threshold": {"\xff90"}}),                                                   // not UTF-8
		o.owner.Post(path, url.Values{"threshold": {"90"}, "pad": {strings.Repeat("x", 3<<20)}}),                  // too large
	}
	for i, want := range []int{http.StatusForbidden, http.StatusForbidden, http.StatusNotFound, http.StatusBadRequest, http.StatusBadRequest,
		http.StatusRequestEntityTooLarge} {
		if refused[i].StatusCode != want {
			t.Errorf("refused %d: %d, want %d", i, refused[i].StatusCode, want)
		}
	}
	if s := settings(o.orgID, o.pid); !s.Enabled || s.Threshold != 0.75 {
		t.Fatalf("a refused request changed the settings: %+v", s)
	}
	if s := settings(other.orgID, other.pid); s.Enabled {
		t.Fatal("another org's pipeline was turned on")
	}
	// Off again.
	if res := o.owner.Post(path, url.Values{"threshold": {"75"}}); res.StatusCode != http.StatusSeeOther || settings(o.orgID, o.pid).Enabled {
		t.Fatalf("turn off: %d", res.StatusCode)
	}
}

// TestProgressionOnTheBoard: the card says the AI moved it, with reason and confidence, and
// undoes it; a suggestion is accepted from the card and dismissed without JavaScript; the
// drawer shows both and answers them; a stale answer changes nothing and says so.
func TestProgressionOnTheBoard(t *testing.T) {
	t.Parallel()
	inst, sim := startAI(t)
	o := newAIOrg(t, inst, sim, "Confeitaria Quadro")
	o.connect()
	o.on(0.8)
	c := o.owner

	moved := o.customer("Bia", "Mandaram o orçamento, quero fechar o bolo.", "Bolo de casamento")
	o.classify(moved, "Proposal", 0.87, "She received the quote")
	if o.stageOf(moved) != o.stages[2] {
		t.Fatal("the card did not move")
	}
	boardPage := c.Get(o.home + "/board")
	if text := webtest.Text(boardPage.Body); !strings.Contains(text, "Moved by AI: She received the quote, 87%") {
		t.Fatalf("the board does not say the AI moved the card: %s", text)
	}
	card := c.Get(fmt.Sprintf("%s/board/leads/%d/card", o.home, moved), "HX-Request", "true")
	if !strings.Contains(card.Body, `data-testid="lead-ai-undo"`) || !strings.Contains(card.Body, `data-move-form`) {
		t.Fatalf("the card has no undo: %s", card.Body)
	}
	moveID := o.decision(moved, "move")
	res := o.answer(c, moved, "undo", url.Values{"decision_id": {fmt.Sprint(moveID)}, "view": {"card"}}, true)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, fmt.Sprintf(`data-stage-id="%d"`, o.stages[0])) ||
		strings.Contains(res.Body, "lead-ai-moved") || !strings.Contains(res.Header.Get("HX-Trigger"), "Lead put back.") {
		t.Fatalf("undo: %d %s %s", res.StatusCode, res.Header.Get("HX-Trigger"), res.Body)
	}
	if o.stageOf(moved) != o.stages[0] || o.status(moveID) != model.AIMoveUndone {
		t.Fatal("undo did not put the lead back")
	}
	// Again: stale, nothing changes, the card comes back as it is with the reason.
	res = o.answer(c, moved, "undo", url.Values{"decision_id": {fmt.Sprint(moveID)}, "view": {"card"}}, true)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("HX-Trigger"), "The lead changed meanwhile") || o.stageOf(moved) != o.stages[0] {
		t.Fatalf("undo twice: %d %s", res.StatusCode, res.Header.Get("HX-Trigger"))
	}

	// A suggestion, accepted from the card.
	sugg := o.customer("Caio", "Quanto custam 100 brigadeiros?", "Brigadeiros")
	o.classify(sugg, "Qualified", 0.62, "Asked for a price")
	if o.stageOf(sugg) != o.stages[0] {
		t.Fatal("a card moved below the threshold")
	}
	card = c.Get(fmt.Sprintf("%s/board/leads/%d/card", o.home, sugg), "HX-Request", "true")
	if text := webtest.Text(card.Body); !strings.Contains(text, "AI suggests Qualified · 62%") || !strings.Contains(text, "Asked for a price") ||
		!strings.Contains(card.Body, `data-testid="lead-ai-accept"`) || !strings.Contains(card.Body, `data-testid="lead-ai-dismiss"`) {
		t.Fatalf("the card's suggestion: %s", card.Body)
	}
	sid := o.decision(sugg, "suggestion")
	res = o.answer(c, sugg, "accept", url.Values{"decision_id": {fmt.Sprint(sid)}, "view": {"card"}}, true)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, fmt.Sprintf(`data-stage-id="%d"`, o.stages[1])) || strings.Contains(res.Body, "lead-ai-suggestion") {
		t.Fatalf("accept: %d %s", res.StatusCode, res.Body)
	}
	if o.stageOf(sugg) != o.stages[1] || o.status(sid) != model.AISuggestionAccepted {
		t.Fatal("accepting did not move the lead")
	}

	// Another, dismissed without JavaScript: back to the board.
	dis := o.customer("Duda", "Vocês entregam no sábado?", "Entrega de sábado")
	o.classify(dis, "Negotiation", 0.5, "Wants a delivery day")
	did := o.decision(dis, "suggestion")
	ret := fmt.Sprintf("%s/board?pipeline=%d", o.home, o.pid)
	res = o.answer(c, dis, "dismiss", url.Values{"decision_id": {fmt.Sprint(did)}, "return": {ret}}, false)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != ret+fmt.Sprintf("#lead-%d", dis) {
		t.Fatalf("dismiss: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if o.status(did) != model.AISuggestionDismissed || o.stageOf(dis) != o.stages[0] {
		t.Fatal("dismiss did not close the suggestion, or moved the lead")
	}
	if strings.Contains(c.Get(fmt.Sprintf("%s/board/leads/%d/card", o.home, dis)).Body, "lead-ai-suggestion") {
		t.Fatal("a dismissed suggestion is still on the card")
	}

	// The drawer: the AI's move with an undo, the history says the AI did it; then a
	// suggestion answered in the drawer swaps the panel.
	drawerLead := o.customer("Edu", "Recebi a proposta, posso pagar em duas vezes?", "Festa junina")
	o.classify(drawerLead, "Negotiation", 0.9, "Asks to pay in two parts")
	drawer := c.Get(fmt.Sprintf("%s/board/leads/%d", o.home, drawerLead), "HX-Request", "true")
	text := webtest.Text(drawer.Body)
	for _, want := range []string{"The AI moved it from New to Negotiation: Asks to pay in two parts (90% sure)", "Asks to pay in two parts (90% sure)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the drawer lacks %q: %s", want, text)
		}
	}
	if !strings.Contains(drawer.Body, `data-testid="lead-panel-ai-undo"`) || !strings.Contains(drawer.Body, `data-testid="lead-history-ai"`) {
		t.Error("the drawer has no undo or AI history")
	}
	o.sim.ReplyJSON(map[string]any{"stage": "Won", "confidence": 0.97, "reason": "Paid"})
	if _, err := inst.App.Inbox.Receive(context.Background(), o.ch, inbox.Inbound{From: fmt.Sprintf("+55119%08d", o.orgID*1000+int64(o.phone)),
		Body: "Paguei!", ProviderID: "paid-1"}); err != nil {
		t.Fatal(err)
	}
	if err := inst.App.Progression.Classify(context.Background(), o.orgID, drawerLead); err != nil {
		t.Fatal(err)
	}
	wonID := o.decision(drawerLead, "suggestion")
	res = o.answer(c, drawerLead, "accept", url.Values{"decision_id": {fmt.Sprint(wonID)}, "view": {"panel"},
		"return": {o.home + "/board"}}, true)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="lead-panel"`) || o.stageOf(drawerLead) != o.stages[4] {
		t.Fatalf("accept in the drawer: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if hist := webtest.Text(res.Body); !strings.Contains(hist, "AI suggestion accepted (97% sure)") {
		t.Errorf("the history does not say the suggestion was accepted: %s", hist)
	}

	// The lead page in Portuguese.
	c.Post("/locale", url.Values{"locale": {"pt-BR"}})
	if text := webtest.Text(c.Get(fmt.Sprintf("%s/board/leads/%d", o.home, drawerLead)).Body); !strings.Contains(text, "Sugestão da IA aceita (97% de certeza)") {
		t.Errorf("the Portuguese drawer: %s", text)
	}
}

// TestProgressionAnswersBadInput: answers name a decision of their own lead and org; bad
// forms, forged requests and hostile text change nothing.
func TestProgressionAnswersBadInput(t *testing.T) {
	t.Parallel()
	inst, sim := startAI(t)
	o := newAIOrg(t, inst, sim, "Padaria Atenta")
	other := newAIOrg(t, inst, sim, "Padaria Vizinha")
	for _, x := range []*aiOrg{o, other} {
		x.connect()
		x.on(0.8)
	}
	mine := o.customer("Gabi", "Quero um bolo", "Bolo")
	mine2 := o.customer("Hugo", "Quero pães", "Pães")
	theirs := other.customer("Ivo", "Quero tortas", "Tortas")
	o.classify(mine, "Qualified", 0.6, "Wants a cake")
	o.classify(mine2, "Qualified", 0.6, "Wants bread")
	other.classify(theirs, "Qualified", 0.6, "Wants pies")
	mySugg, theirSugg := o.decision(mine, "suggestion"), other.decision(theirs, "suggestion")
	agent, _ := o.member(model.RoleAgent)
	p := func(lead int64, action string) string {
		return fmt.Sprintf("%s/board/leads/%d/ai/%s", o.home, lead, action)
	}
	form := func(d string) url.Values { return url.Values{"decision_id": {d}, "view": {"card"}} }
	for _, tc := range []struct {
		name string
		res  *webtest.Response
		want int
	}{
		{"another org's suggestion on my lead", o.owner.Post(p(mine, "accept"), form(fmt.Sprint(theirSugg))), http.StatusNotFound},
		{"another org's lead", o.owner.Post(p(theirs, "accept"), form(fmt.Sprint(theirSugg))), http.StatusNotFound},
		{"my suggestion on my other lead", o.owner.Post(p(mine2, "accept"), form(fmt.Sprint(mySugg))), http.StatusNotFound},
		{"a suggestion as a move", o.owner.Post(p(mine, "undo"), form(fmt.Sprint(mySugg))), http.StatusNotFound},
		{"no decision", o.owner.Post(p(mine, "accept"), form("")), http.StatusBadRequest},
		{"a word for a decision", o.owner.Post(p(mine, "accept"), form("abc")), http.StatusBadRequest},
		{"a bad view", o.owner.Post(p(mine, "accept"), url.Values{"decision_id": {fmt.Sprint(mySugg)}, "view": {"page"}}), http.StatusBadRequest},
		{"NUL", o.owner.Post(p(mine, "accept"), form(fmt.Sprint(mySugg)+"\x00")), http.StatusBadRequest},
		{"not UTF-8", o.owner.Post(p(mine, "dismiss"), url.Values{"decision_id": {fmt.Sprint(mySugg)}, "view": {"\xff"}}), http.StatusBadRequest},
		{"no CSRF", o.owner.PostRaw(p(mine, "accept"), form(fmt.Sprint(mySugg))), http.StatusForbidden},
		{"too large", o.owner.Post(p(mine, "accept"), url.Values{"decision_id": {fmt.Sprint(mySugg)}, "pad": {strings.Repeat("x", 3<<20)}}), http.StatusRequestEntityTooLarge},
		{"a logged-out visitor", webtest.NewClient(t, inst.URL).Post(p(mine, "accept"), form(fmt.Sprint(mySugg))), http.StatusSeeOther},
	} {
		if tc.res.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, tc.res.StatusCode, tc.want)
		}
	}
	if o.status(mySugg) != model.AISuggestionOpen || other.status(theirSugg) != model.AISuggestionOpen ||
		o.stageOf(mine) != o.stages[0] || other.stageOf(theirs) != other.stages[0] {
		t.Fatal("a refused answer changed something")
	}
	// An agent works the board: they may answer the AI.
	if res := o.answer(agent, mine, "accept", form(fmt.Sprint(mySugg)), true); res.StatusCode != http.StatusOK || o.stageOf(mine) != o.stages[1] {
		t.Fatalf("an agent's accept: %d", res.StatusCode)
	}
}

// progressionFixture gives an org, through the simulator, a lead with an open suggestion
// and another the AI moved.
type progressionFixture struct {
	pipeline, suggLead, sugg, movedLead, move int64
}

func newProgressionFixture(t *testing.T, inst *webtest.Instance, orgID int64) progressionFixture {
	t.Helper()
	ctx := context.Background()
	sim := openaisim.New()
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	a := model.Actor{OrgID: orgID, Role: model.RoleOwner}
	app := inst.App
	if err := app.AI.Save(ctx, a, provider.Input{BaseURL: sim.URL() + "/v1", Key: "sk-fixture", ChatModel: "gpt-4o-mini",
		EmbeddingModel: "text-embedding-3-small"}); err != nil {
		t.Fatal(err)
	}
	ps, err := app.Board.Pipelines(ctx, orgID)
	if err != nil || len(ps) == 0 {
		t.Fatalf("pipelines %v %v", ps, err)
	}
	stages, err := app.Board.Stages(ctx, orgID, ps[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Progression.SaveSettings(ctx, a, ps[0].ID, true, 0.8); err != nil {
		t.Fatal(err)
	}
	ch, err := app.Inbox.CreateChannel(ctx, a, model.KindSandbox, "IA", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := progressionFixture{pipeline: ps[0].ID}
	for i, answer := range []map[string]any{
		{"stage": stages[1].Name, "confidence": 0.55, "reason": "Asked for prices"},
		{"stage": stages[2].Name, "confidence": 0.95, "reason": "Got the proposal"},
	} {
		r, err := app.Inbox.Receive(ctx, ch, inbox.Inbound{From: fmt.Sprintf("+551197%07d", orgID*10+int64(i)), Body: "Olá", ProviderID: fmt.Sprintf("fx.%d.%d", orgID, i)})
		if err != nil {
			t.Fatal(err)
		}
		l, err := app.Board.CreateLead(ctx, a, board.LeadInput{StageID: stages[0].ID, Title: fmt.Sprintf("Lead IA %d", i), ContactID: fmt.Sprint(r.ContactID)})
		if err != nil {
			t.Fatal(err)
		}
		sim.ReplyJSON(answer)
		if err := app.Progression.Classify(ctx, orgID, l.ID); err != nil {
			t.Fatal(err)
		}
		var id int64
		if err := app.Store.DB().Get(&id, `SELECT id FROM lead_ai_decisions WHERE lead_id = $1`, l.ID); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			f.suggLead, f.sugg = l.ID, id
		} else {
			f.movedLead, f.move = l.ID, id
		}
	}
	return f
}

// TestProgressionAPI: suggestions and AI moves through the API, each answer once, the
// settings within bounds, nothing of another org.
func TestProgressionAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inst := webtest.StartOn(t, storetest.URL(t), func(c *config.Config) { c.AIProgressionDelay = time.Hour })
	mk := func(name string) (int64, string) {
		c := webtest.NewClient(t, inst.URL)
		home := c.Signup(name, "Lia", uniqueEmail("lia"), strongPassword)
		var org int64
		_, _ = fmt.Sscanf(home, "/o/%d", &org)
		key, err := inst.App.Account.CreateAPIKeyForOrgName(ctx, name, "progression")
		if err != nil {
			t.Fatal(err)
		}
		return org, key
	}
	org, key := mk("Loja API IA")
	otherOrg, otherKey := mk("Outra Loja API")
	f := newProgressionFixture(t, inst, org)
	g := newProgressionFixture(t, inst, otherOrg)
	api := func(k, method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, inst.URL+"/api/v1"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+k)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res := webtest.NewClient(t, inst.URL).Do(req)
		return res.StatusCode, res.Body
	}
	var list struct {
		Suggestions []model.LeadAIDecision `json:"suggestions"`
		Moves       []model.LeadAIDecision `json:"ai_moves"`
	}
	code, body := api(key, "GET", fmt.Sprintf("/leads/%d/suggestions", f.suggLead), "")
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || len(list.Suggestions) != 1 || list.Suggestions[0].ID != f.sugg ||
		list.Suggestions[0].Reason != "Asked for prices" {
		t.Fatalf("lead suggestions: %d %s", code, body)
	}
	code, body = api(key, "GET", fmt.Sprintf("/pipelines/%d/suggestions?limit=10", f.pipeline), "")
	if code != 200 || !strings.Contains(body, fmt.Sprintf(`"id":%d`, f.sugg)) || strings.Contains(body, fmt.Sprintf(`"id":%d,`, g.sugg)) {
		t.Fatalf("pipeline suggestions: %d %s", code, body)
	}
	code, body = api(key, "GET", fmt.Sprintf("/leads/%d/ai-moves", f.movedLead), "")
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || len(list.Moves) != 1 || !list.Moves[0].Undoable {
		t.Fatalf("AI moves: %d %s", code, body)
	}
	// Another org's ids, from this org's key: not found, nothing changes.
	for _, c := range [][2]string{
		{"GET", fmt.Sprintf("/leads/%d/suggestions", g.suggLead)}, {"GET", fmt.Sprintf("/leads/%d/ai-moves", g.movedLead)},
		{"GET", fmt.Sprintf("/pipelines/%d/suggestions", g.pipeline)}, {"POST", fmt.Sprintf("/suggestions/%d/accept", g.sugg)},
		{"POST", fmt.Sprintf("/suggestions/%d/dismiss", g.sugg)}, {"POST", fmt.Sprintf("/ai-moves/%d/undo", g.move)},
		{"GET", fmt.Sprintf("/pipelines/%d/ai", g.pipeline)}, {"POST", fmt.Sprintf("/ai-moves/%d/undo", f.sugg)},
		{"POST", fmt.Sprintf("/suggestions/%d/accept", f.move)}, {"GET", "/leads/abc/suggestions"},
	} {
		if code, body := api(key, c[0], c[1], ""); code != 404 || !strings.Contains(body, `"not_found"`) {
			t.Errorf("%s %s: %d %s", c[0], c[1], code, body)
		}
	}
	if code, _ := api(key, "PUT", fmt.Sprintf("/pipelines/%d/ai", g.pipeline), `{"enabled":false}`); code != 404 {
		t.Errorf("PUT another org's pipeline: %d", code)
	}
	// Accept once; a second time is a conflict.
	code, body = api(key, "POST", fmt.Sprintf("/suggestions/%d/accept", f.sugg), "")
	if code != 200 || !strings.Contains(body, `"status":"accepted"`) {
		t.Fatalf("accept: %d %s", code, body)
	}
	if code, body := api(key, "POST", fmt.Sprintf("/suggestions/%d/dismiss", f.sugg), ""); code != 409 || !strings.Contains(body, `"conflict"`) {
		t.Fatalf("dismiss an accepted suggestion: %d %s", code, body)
	}
	code, body = api(key, "POST", fmt.Sprintf("/ai-moves/%d/undo", f.move), "")
	if code != 200 || !strings.Contains(body, `"status":"undone"`) {
		t.Fatalf("undo: %d %s", code, body)
	}
	if code, _ := api(key, "POST", fmt.Sprintf("/ai-moves/%d/undo", f.move), ""); code != 409 {
		t.Fatalf("undo twice: %d", code)
	}
	// Settings.
	code, body = api(key, "PUT", fmt.Sprintf("/pipelines/%d/ai", f.pipeline), `{"threshold":0.9}`)
	if code != 200 || !strings.Contains(body, `"enabled":true`) || !strings.Contains(body, `"threshold":0.9`) {
		t.Fatalf("PUT threshold: %d %s", code, body)
	}
	for _, c := range []struct {
		body string
		want int
	}{{`{"threshold":0.3}`, 422}, {`{"threshold":1.5}`, 422}, {`{"enabled":"yes"}`, 400}, {`{"enabled":`, 400},
		{`{"enabled":true,"pad":"` + strings.Repeat("x", 20<<10) + `"}`, 413}, {`{"enabled":"a\u0000b"}`, 400}} {
		if code, body := api(key, "PUT", fmt.Sprintf("/pipelines/%d/ai", f.pipeline), c.body); code != c.want {
			t.Errorf("PUT %.40s: %d %s, want %d", c.body, code, body, c.want)
		}
	}
	if code, body := api(key, "GET", fmt.Sprintf("/pipelines/%d/ai", f.pipeline), ""); code != 200 || !strings.Contains(body, `"threshold":0.9`) {
		t.Fatalf("a refused PUT changed the settings: %s", body)
	}
	// The other org's own key still sees its suggestion open.
	if code, body := api(otherKey, "GET", fmt.Sprintf("/leads/%d/suggestions", g.suggLead), ""); code != 200 || !strings.Contains(body, `"status":"open"`) {
		t.Fatalf("the other org's suggestion: %d %s", code, body)
	}
}
