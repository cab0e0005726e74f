package progression_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"masteria/app/ai/progression"
	"masteria/app/ai/provider"
	"masteria/app/channel/sandbox"
	"masteria/app/crm/board"
	"masteria/app/i18n"
	"masteria/app/inbox"
	"masteria/app/jobs"
	"masteria/app/model"
	"masteria/app/sim/openaisim"
	"masteria/app/store"
	"masteria/app/store/storetest"
	"masteria/app/vault"
)

const simKey = "sk-sim-progression-0123456789"

// env is one database with two orgs, the inbox on a sandbox channel, the board, the AI
// provider pointed at the OpenAI simulator, and real job workers.
type env struct {
	t     *testing.T
	ctx   context.Context
	st    *store.Store
	sim   *openaisim.Server
	inbox *inbox.Service
	board *board.Service
	svc   *progression.Service
	org   orgEnv
	other orgEnv
	seq   atomic.Int64
}

// orgEnv is one org: its owner and agent, channel, default sales pipeline and stages by
// their Portuguese names.
type orgEnv struct {
	owner, agent model.Actor
	ch           model.Channel
	pipeline     model.Pipeline
	stages       map[string]model.Stage
}

func setup(t *testing.T, delay time.Duration) *env {
	t.Helper()
	st, url := storetest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	key, _ := vault.GenerateKey()
	ring, err := vault.ParseKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	sim := openaisim.New(openaisim.WithAPIKey(simKey))
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	ai := provider.New(st, ring)
	bd := board.New(st)
	ib := inbox.New(st, ring)
	ib.Registry().Register(model.KindSandbox, sandbox.New)
	svc := progression.New(st, ai, bd, progression.Options{Delay: delay})
	ib.SetHooks(svc.Hooks())
	reg := jobs.NewRegistry()
	inbox.Register(reg, ib)
	progression.Register(reg, svc)
	q, err := jobs.New(ctx, st.DB().DB, url, reg, jobs.Options{MaxWorkers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = q.Stop(context.Background())
		sim.Close()
	})
	ib.SetJobs(q)
	svc.SetJobs(q)
	e := &env{t: t, ctx: context.Background(), st: st, sim: sim, inbox: ib, board: bd, svc: svc}
	e.org = e.newOrg("Padaria Progresso", ai)
	e.other = e.newOrg("Oficina Vizinha", ai)
	return e
}

func (e *env) newOrg(name string, ai *provider.Service) orgEnv {
	t := e.t
	o, err := e.st.CreateOrg(e.ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	var out orgEnv
	for _, r := range []model.Role{model.RoleOwner, model.RoleAgent} {
		u, err := e.st.CreateUser(e.ctx, fmt.Sprintf("%s-%d@%s.test", r, o.ID, strings.ToLower(strings.Fields(name)[0])), string(r)+" "+name, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.AddMember(e.ctx, o.ID, u.ID, r); err != nil {
			t.Fatal(err)
		}
		a := model.Actor{OrgID: o.ID, UserID: u.ID, Role: r}
		if r == model.RoleOwner {
			out.owner = a
		} else {
			out.agent = a
		}
	}
	if err := ai.Save(e.ctx, out.owner, provider.Input{BaseURL: e.sim.URL() + "/v1", Key: simKey, ChatModel: "gpt-4o-mini",
		EmbeddingModel: "text-embedding-3-small"}); err != nil {
		t.Fatal(err)
	}
	if out.ch, err = e.inbox.CreateChannel(e.ctx, out.owner, model.KindSandbox, "WhatsApp", nil, nil); err != nil {
		t.Fatal(err)
	}
	if out.pipeline, err = e.board.EnsurePipeline(e.ctx, out.owner, i18n.PTBR); err != nil {
		t.Fatal(err)
	}
	stages, err := e.board.Stages(e.ctx, o.ID, out.pipeline.ID)
	if err != nil {
		t.Fatal(err)
	}
	out.stages = map[string]model.Stage{}
	for _, st := range stages {
		out.stages[st.Name] = st
	}
	return out
}

// on turns progression on for an org's pipeline at a threshold.
func (e *env) on(o orgEnv, threshold float64) {
	e.t.Helper()
	if _, err := e.svc.SaveSettings(e.ctx, o.owner, o.pipeline.ID, true, threshold); err != nil {
		e.t.Fatal(err)
	}
}

// write stores a customer's message from phone on the org's channel.
func (e *env) write(o orgEnv, phone, name, body string) inbox.Received {
	e.t.Helper()
	r, err := e.inbox.Receive(e.ctx, o.ch, inbox.Inbound{From: phone, Name: name, Body: body,
		ProviderID: fmt.Sprintf("wamid.%d", e.seq.Add(1))})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// lead puts the contact on the org's board in the "Novo" stage.
func (e *env) lead(o orgEnv, contactID int64, title string) model.Lead {
	e.t.Helper()
	l, err := e.board.CreateLead(e.ctx, o.owner, board.LeadInput{StageID: o.stages["Novo"].ID, Title: title, ContactID: fmt.Sprint(contactID)})
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

// customer writes a first message and gets a lead, with no classification yet (progression
// is still off when it is called first).
func (e *env) customer(o orgEnv, phone, name, first, title string) (model.Lead, inbox.Received) {
	r := e.write(o, phone, name, first)
	return e.lead(o, r.ContactID, title), r
}

func (e *env) stageOf(orgID, leadID int64) int64 {
	e.t.Helper()
	l, err := e.st.Lead(e.ctx, orgID, leadID)
	if err != nil {
		e.t.Fatal(err)
	}
	return l.StageID
}

// verdict queues the simulator's next structured answer.
func (e *env) verdict(stage string, confidence float64, reason string) {
	e.sim.ReplyJSON(map[string]any{"stage": stage, "confidence": confidence, "reason": reason})
}

func (e *env) chatRequests() []openaisim.Request {
	var out []openaisim.Request
	for _, r := range e.sim.Requests() {
		if r.Path == "/v1/chat/completions" {
			out = append(out, r)
		}
	}
	return out
}

// waitFor polls cond until it holds (10 s at most).
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// jobsOf counts the classification jobs of a lead, and those not finished.
func (e *env) jobsOf(leadID int64) (all, pending int) {
	e.t.Helper()
	err := e.st.DB().QueryRow(`SELECT count(*), count(*) FILTER (WHERE state NOT IN ('completed', 'discarded', 'cancelled'))
		FROM river_job WHERE kind = 'ai.progression.classify' AND (args->>'lead_id')::bigint = $1`, leadID).Scan(&all, &pending)
	if err != nil {
		e.t.Fatal(err)
	}
	return all, pending
}

func (e *env) decisions(orgID, leadID int64) []model.LeadAIDecision {
	e.t.Helper()
	var ds []model.LeadAIDecision
	err := e.st.DB().Select(&ds, `SELECT id, org_id, lead_id, pipeline_id, kind, status, from_stage_id, to_stage_id, from_name, to_name,
		confidence::float8 AS confidence, reason, model, lead_move_id, decided_by, decided_at, created_at, false AS undoable
		FROM lead_ai_decisions WHERE org_id = $1 AND lead_id = $2 ORDER BY id`, orgID, leadID)
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

// TestProgressionMovesACardAboveTheThreshold: a customer's messages, through the inbox's
// hook and the real queue, make one request (debounced); the model's answer above the
// threshold moves the card, recorded as an AI move with reason and confidence; what the
// simulator received is the pipeline's stages with their descriptions, the current stage,
// the conversation and a JSON schema, and nothing of the other org.
func TestProgressionMovesACardAboveTheThreshold(t *testing.T) {
	t.Parallel()
	e := setup(t, 400*time.Millisecond)
	// The other org has its own customer and lead, with progression on too.
	olead, _ := e.customer(e.other, "+5511911110000", "Otávio", "Segredo da oficina: o motor do Fusca bate pino", "Revisão do Fusca")
	e.on(e.other, 0.8)

	l, _ := e.customer(e.org, "+5511922220000", "Beatriz", "Oi! Vocês fazem bolo para 40 pessoas?", "Bolo de casamento")
	e.on(e.org, 0.8)
	e.verdict("Proposta", 0.87, "Pediu o orçamento do bolo e recebeu o valor.")
	// Three quick messages: one classification.
	e.write(e.org, "+5511922220000", "Beatriz", "Quero de chocolate com morango.")
	e.write(e.org, "+5511922220000", "Beatriz", "Pode me mandar o orçamento?")
	e.write(e.org, "+5511922220000", "Beatriz", "Recebi o valor, vou pensar e te falo.")
	e.waitFor("the AI move", func() bool { return e.stageOf(e.org.owner.OrgID, l.ID) == e.org.stages["Proposta"].ID })
	e.waitFor("the job to finish", func() bool { _, pending := e.jobsOf(l.ID); return pending == 0 })
	if all, _ := e.jobsOf(l.ID); all != 1 {
		t.Fatalf("three messages made %d classification jobs, want 1", all)
	}
	reqs := e.chatRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d model requests, want 1", len(reqs))
	}
	req := reqs[0]
	if req.ResponseFormat == nil || req.ResponseFormat.Type != "json_schema" || req.ResponseFormat.Name != "lead_stage" {
		t.Fatalf("response format %+v", req.ResponseFormat)
	}
	var schema struct {
		Properties map[string]struct {
			Enum []string `json:"enum"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	if err := json.Unmarshal(req.ResponseFormat.Schema, &schema); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(schema.Properties["stage"].Enum, ","); got != "Novo,Qualificado,Proposta,Negociação,Ganho,Perdido" {
		t.Errorf("stage enum %q", got)
	}
	if strings.Join(schema.Required, ",") != "stage,confidence,reason" {
		t.Errorf("required %v", schema.Required)
	}
	sys, user := req.System(), req.LastUser()
	for _, want := range []string{"Recebeu orçamento ou proposta e está avaliando.", "Negociando preço, prazo ou detalhes",
		`The lead is now in stage "Novo"`, `"Ganho" (closes the lead as won)`} {
		if !strings.Contains(sys, want) {
			t.Errorf("the system prompt lacks %q:\n%s", want, sys)
		}
	}
	for _, want := range []string{"Bolo de casamento", "Customer: Oi! Vocês fazem bolo para 40 pessoas?", "Customer: Pode me mandar o orçamento?",
		"Customer: Recebi o valor, vou pensar e te falo."} {
		if !strings.Contains(user, want) {
			t.Errorf("the conversation lacks %q:\n%s", want, user)
		}
	}
	if p := req.Prompt(); strings.Contains(p, "Fusca") || strings.Contains(p, "Oficina") || strings.Contains(p, "Otávio") {
		t.Errorf("the other org's data reached the model:\n%s", p)
	}
	ds := e.decisions(e.org.owner.OrgID, l.ID)
	if len(ds) != 1 || ds[0].Kind != model.AIDecisionMove || ds[0].Status != model.AIMoveApplied || ds[0].Percent() != 87 ||
		ds[0].Reason != "Pediu o orçamento do bolo e recebeu o valor." || ds[0].ToName != "Proposta" || ds[0].FromName != "Novo" ||
		ds[0].Model != "gpt-4o-mini" || ds[0].LeadMoveID == nil {
		t.Fatalf("decisions %+v", ds)
	}
	// The board's history says the AI moved it, with its reason.
	moves, err := e.board.LeadMoves(e.ctx, e.org.owner.OrgID, l.ID)
	if err != nil || len(moves) != 1 || moves[0].ActorName != nil || moves[0].AIKind == nil || *moves[0].AIKind != "move" ||
		moves[0].AIReason == nil || math.Abs(*moves[0].AIConfidence-0.87) > 0.001 {
		t.Fatalf("moves %+v, %v", moves, err)
	}
	mark, err := e.svc.Mark(e.ctx, e.org.owner.OrgID, l.ID)
	if err != nil || mark.Move == nil || mark.Move.ID != ds[0].ID || !mark.Move.Undoable || mark.Suggestion != nil {
		t.Fatalf("mark %+v, %v", mark, err)
	}
	var evs int
	if err := e.st.DB().Get(&evs, `SELECT count(*) FROM events WHERE org_id = $1 AND type = 'lead.ai_moved'`, e.org.owner.OrgID); err != nil {
		t.Fatal(err)
	}
	if evs != 1 {
		t.Errorf("%d lead.ai_moved events", evs)
	}
	// The other org's lead was not touched, and its customer was never classified.
	if e.stageOf(e.other.owner.OrgID, olead.ID) != e.other.stages["Novo"].ID {
		t.Error("the other org's lead moved")
	}
}

// TestProgressionSuggestsBelowTheThreshold: below the threshold the card stays and shows a
// suggestion; accepting moves it; a dismissed stage is not proposed again right away;
// a newer suggestion replaces an older one.
func TestProgressionSuggestsBelowTheThreshold(t *testing.T) {
	t.Parallel()
	e := setup(t, time.Hour) // the hook's jobs never run here: Classify is called directly
	o := e.org
	org := o.owner.OrgID
	e.on(o, 0.8)
	l, _ := e.customer(o, "+5511933330000", "Carla", "Queria saber o preço dos doces para festa.", "Doces da festa")

	e.verdict("Qualificado", 0.62, "Tem uma festa e quer comprar doces.")
	if err := e.svc.Classify(e.ctx, org, l.ID); err != nil {
		t.Fatal(err)
	}
	if e.stageOf(org, l.ID) != o.stages["Novo"].ID {
		t.Fatal("a card moved below the threshold")
	}
	sugg, err := e.svc.LeadSuggestions(e.ctx, org, l.ID)
	if err != nil || len(sugg) != 1 || sugg[0].ToName != "Qualificado" || sugg[0].Percent() != 62 || sugg[0].Status != model.AISuggestionOpen {
		t.Fatalf("suggestions %+v, %v", sugg, err)
	}
	// Asking again without a new message asks the model nothing.
	if err := e.svc.Classify(e.ctx, org, l.ID); err != nil || len(e.chatRequests()) != 1 {
		t.Fatalf("a second classification with nothing new: %d requests, %v", len(e.chatRequests()), err)
	}
	// The pipeline lists it; an agent accepts it: the card moves and the suggestion closes.
	ps, err := e.svc.PipelineSuggestions(e.ctx, org, o.pipeline.ID, 0, 0)
	if err != nil || len(ps) != 1 || ps[0].ID != sugg[0].ID {
		t.Fatalf("pipeline suggestions %+v, %v", ps, err)
	}
	d, err := e.svc.Accept(e.ctx, o.agent, sugg[0].ID)
	if err != nil || d.Status != model.AISuggestionAccepted {
		t.Fatalf("accept: %+v, %v", d, err)
	}
	if e.stageOf(org, l.ID) != o.stages["Qualificado"].ID {
		t.Fatal("accepting did not move the card")
	}
	if _, err := e.svc.Accept(e.ctx, o.agent, sugg[0].ID); !errors.Is(err, progression.ErrStale) {
		t.Fatalf("accepting twice: %v", err)
	}
	moves, _ := e.board.LeadMoves(e.ctx, org, l.ID)
	if len(moves) != 1 || moves[0].ActorName == nil || moves[0].AIKind == nil || *moves[0].AIKind != "suggestion" {
		t.Fatalf("the accepted move's history: %+v", moves)
	}

	// A new message; the model suggests Negociação; the owner dismisses it.
	e.write(o, "+5511933330000", "Carla", "Consegue fazer um desconto se eu levar 200 doces?")
	e.verdict("Negociação", 0.55, "Pediu desconto.")
	if err := e.svc.Classify(e.ctx, org, l.ID); err != nil {
		t.Fatal(err)
	}
	sugg, _ = e.svc.LeadSuggestions(e.ctx, org, l.ID)
	if len(sugg) != 1 || sugg[0].ToName != "Negociação" {
		t.Fatalf("second suggestion %+v", sugg)
	}
	if _, err := e.svc.Dismiss(e.ctx, o.owner, sugg[0].ID); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.svc.LeadSuggestions(e.ctx, org, l.ID); len(s) != 0 || e.stageOf(org, l.ID) != o.stages["Qualificado"].ID {
		t.Fatalf("after dismiss: %+v", s)
	}
	// The same stage again, even sure enough to move: not proposed, not moved.
	e.write(o, "+5511933330000", "Carla", "E se eu pagar à vista?")
	e.verdict("Negociação", 0.95, "Negociando pagamento.")
	if err := e.svc.Classify(e.ctx, org, l.ID); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.svc.LeadSuggestions(e.ctx, org, l.ID); len(s) != 0 || e.stageOf(org, l.ID) != o.stages["Qualificado"].ID {
		t.Fatalf("a dismissed stage came back at once: %+v", s)
	}
	// After the cooldown it may.
	e.svc.SetClock(func() time.Time { return time.Now().Add(progression.DefaultCooldown + time.Hour) })
	e.write(o, "+5511933330000", "Carla", "Fechado então, manda o pix.")
	e.verdict("Negociação", 0.6, "Combinando pagamento.")
	if err := e.svc.Classify(e.ctx, org, l.ID); err != nil {
		t.Fatal(err)
	}
	first, _ := e.svc.LeadSuggestions(e.ctx, org, l.ID)
	if len(first) != 1 || first[0].ToName != "Negociação" {
		t.Fatalf("after the cooldown: %+v", first)
	}
	// A newer, different suggestion replaces it; a won stage is only ever suggested.
	e.write(o, "+5511933330000", "Carla", "Paguei! Segue o comprovante.")
	e.verdict("Ganho", 0.99, "Pagou.")
	if err := e.svc.Classify(e.ctx, org, l.ID); err != nil {
		t.Fatal(err)
	}
	now, _ := e.svc.LeadSuggestions(e.ctx, org, l.ID)
	if len(now) != 1 || now[0].ToName != "Ganho" || e.stageOf(org, l.ID) != o.stages["Qualificado"].ID {
		t.Fatalf("won is a suggestion: %+v", now)
	}
	if old, _ := e.st.AIDecision(e.ctx, org, first[0].ID); old.Status != model.AISuggestionSuperseded {
		t.Fatalf("the older suggestion is %s", old.Status)
	}
	// The lead moves by hand: the suggestion (made from Qualificado) no longer applies.
	if _, err := e.board.MoveLead(e.ctx, o.owner, l.ID, board.MoveInput{StageID: o.stages["Proposta"].ID}); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.svc.LeadSuggestions(e.ctx, org, l.ID); len(s) != 0 {
		t.Fatalf("a suggestion from another stage is shown: %+v", s)
	}
	if _, err := e.svc.Accept(e.ctx, o.owner, now[0].ID); !errors.Is(err, progression.ErrStale) {
		t.Fatalf("accepting a suggestion made from another stage: %v", err)
	}
	if d, _ := e.st.AIDecision(e.ctx, org, now[0].ID); d.Status != model.AISuggestionSuperseded || e.stageOf(org, l.ID) != o.stages["Proposta"].ID {
		t.Fatalf("the stale suggestion is %s", d.Status)
	}
}

// TestProgressionUndo puts an AI move back, only while it is the lead's latest move; an
// undone stage is not proposed again right away.
func TestProgressionUndo(t *testing.T) {
	t.Parallel()
	e := setup(t, time.Hour)
	o := e.org
	org := o.owner.OrgID
	e.on(o, 0.7)
	l, _ := e.customer(o, "+5511944440000", "Davi", "Gostei da proposta, vamos negociar o prazo?", "Coffee break")
	e.verdict("Negociação", 0.9, "Quer negociar o prazo.")
	if err := e.svc.Classify(e.ctx, org, l.ID); err != nil {
		t.Fatal(err)
	}
	moves, err := e.svc.LeadMoves(e.ctx, org, l.ID)
	if err != nil || len(moves) != 1 || !moves[0].Undoable || e.stageOf(org, l.ID) != o.stages["Negociação"].ID {
		t.Fatalf("AI moves %+v, %v", moves, err)
	}
	d, err := e.svc.Undo(e.ctx, o.agent, moves[0].ID)
	if err != nil || d.Status != model.AIMoveUndone || e.stageOf(org, l.ID) != o.stages["Novo"].ID {
		t.Fatalf("undo: %+v, %v", d, err)
	}
	if _, err := e.svc.Undo(e.ctx, o.agent, moves[0].ID); !errors.Is(err, progression.ErrStale) {
		t.Fatalf("undo twice: %v", err)
	}
	if m, _ := e.svc.Mark(e.ctx, org, l.ID); !m.Empty() {
		t.Fatalf("the card still shows %+v", m)
	}
	// The undone stage is not taken again at once.
	e.write(o, "+5511944440000", "Davi", "Então, e o prazo?")
	e.verdict("Negociação", 0.95, "Ainda quer negociar.")
	if err := e.svc.Classify(e.ctx, org, l.ID); err != nil {
		t.Fatal(err)
	}
	if e.stageOf(org, l.ID) != o.stages["Novo"].ID {
		t.Fatal("the AI moved the lead back where a person had just taken it from")
	}
	// Another AI move, then a person moves the lead: the AI move can no longer be undone.
	e.write(o, "+5511944440000", "Davi", "Pode mandar a proposta por escrito?")
	e.verdict("Proposta", 0.92, "Pediu a proposta.")
	if err := e.svc.Classify(e.ctx, org, l.ID); err != nil {
		t.Fatal(err)
	}
	moves, _ = e.svc.LeadMoves(e.ctx, org, l.ID)
	if len(moves) != 2 || moves[0].ToName != "Proposta" || !moves[0].Undoable || moves[1].Undoable {
		t.Fatalf("AI moves %+v", moves)
	}
	if _, err := e.board.MoveLead(e.ctx, o.owner, l.ID, board.MoveInput{StageID: o.stages["Qualificado"].ID}); err != nil {
		t.Fatal(err)
	}
	if moves, _ = e.svc.LeadMoves(e.ctx, org, l.ID); moves[0].Undoable {
		t.Fatal("an AI move is undoable after a person moved the lead")
	}
	if _, err := e.svc.Undo(e.ctx, o.owner, moves[0].ID); !errors.Is(err, progression.ErrStale) || e.stageOf(org, l.ID) != o.stages["Qualificado"].ID {
		t.Fatalf("undo after a person's move: %v", err)
	}
}

// TestProgressionIgnoresWhatItShould: AI off asks nothing (and queues nothing); an unknown
// stage or another pipeline's stage changes nothing; a closed lead, an org over its budget
// ask nothing; a failing provider moves nothing.
func TestProgressionIgnoresWhatItShould(t *testing.T) {
	t.Parallel()
	e := setup(t, time.Hour) // jobs the hook queues wait: Classify is called directly
	o := e.org
	org := o.owner.OrgID
	l, r := e.customer(o, "+5511955550000", "Eva", "Oi, tudo bem?", "Torta")

	// Off: a message queues no job and the model hears nothing, even asked directly.
	e.write(o, "+5511955550000", "Eva", "Quero uma torta de limão.")
	if all, _ := e.jobsOf(l.ID); all != 0 {
		t.Fatalf("AI off queued %d jobs", all)
	}
	if err := e.svc.Classify(e.ctx, org, l.ID); err != nil || len(e.chatRequests()) != 0 {
		t.Fatalf("AI off: %d requests, %v", len(e.chatRequests()), err)
	}

	// On, with a second pipeline whose stage names are its own.
	e.on(o, 0.8)
	p2, err := e.board.CreatePipeline(e.ctx, o.owner, board.PipelineInput{Name: "Pós-venda"}, i18n.PTBR)
	if err != nil {
		t.Fatal(err)
	}
	st2, err := e.board.CreateStage(e.ctx, o.owner, p2.ID, board.StageInput{Name: "Reclamação", Description: "Reclamou de algo."})
	if err != nil {
		t.Fatal(err)
	}
	for i, answer := range []map[string]any{
		{"stage": "Entregue", "confidence": 0.99, "reason": "?"},       // no such stage
		{"stage": st2.Name, "confidence": 0.99, "reason": "?"},         // another pipeline's
		{"stage": "Proposta", "confidence": 1.7, "reason": "certeza"},  // out of range
		{"stage": "Proposta", "confidence": "alta", "reason": "texto"}, // not a number
	} {
		e.write(o, "+5511955550000", "Eva", fmt.Sprintf("Mensagem %d", i))
		e.sim.ReplyJSON(answer)
		if err := e.svc.Classify(e.ctx, org, l.ID); err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if e.stageOf(org, l.ID) != o.stages["Novo"].ID || len(e.decisions(org, l.ID)) != 0 {
			t.Fatalf("answer %v changed the lead", answer)
		}
	}
	// The provider fails: nothing moves, the job does not fail.
	e.write(o, "+5511955550000", "Eva", "Alô?")
	e.sim.SetFailNext(500, 1)
	if err := e.svc.Classify(e.ctx, org, l.ID); err != nil || len(e.decisions(org, l.ID)) != 0 {
		t.Fatalf("a failing provider: %v", err)
	}
	// Over budget: no request.
	if _, err := e.st.DB().Exec(`UPDATE ai_providers SET monthly_budget = 0.01 WHERE org_id = $1`, org); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DB().Exec(`INSERT INTO ai_usage (org_id, kind, model, cost) VALUES ($1, 'chat', 'gpt-4o-mini', 1)`, org); err != nil {
		t.Fatal(err)
	}
	before := len(e.chatRequests())
	if err := e.svc.Classify(e.ctx, org, l.ID); err != nil || len(e.chatRequests()) != before {
		t.Fatalf("over budget: %d requests, %v", len(e.chatRequests())-before, err)
	}
	if _, err := e.st.DB().Exec(`DELETE FROM ai_usage WHERE org_id = $1`, org); err != nil {
		t.Fatal(err)
	}
	// A closed (lost) lead: no request, and its messages queue nothing.
	if _, err := e.board.MoveLead(e.ctx, o.owner, l.ID, board.MoveInput{StageID: o.stages["Perdido"].ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DB().Exec(`DELETE FROM river_job WHERE kind = 'ai.progression.classify'`); err != nil {
		t.Fatal(err)
	}
	e.write(o, "+5511955550000", "Eva", "Mudei de ideia!")
	if err := e.svc.Classify(e.ctx, org, l.ID); err != nil || len(e.chatRequests()) != before {
		t.Fatalf("closed lead: %d requests, %v", len(e.chatRequests())-before, err)
	}
	if all, _ := e.jobsOf(l.ID); all != 0 {
		t.Fatal("a closed lead's message queued a classification")
	}
	if ids, err := e.st.AIFollowedLeadsOfContact(e.ctx, org, r.ContactID); err != nil || len(ids) != 0 {
		t.Fatalf("a closed lead is followed: %v, %v", ids, err)
	}
	// A lead deleted before its job runs: nothing, no error.
	if err := e.board.DeleteLead(e.ctx, o.owner, l.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Classify(e.ctx, org, l.ID); err != nil {
		t.Fatal(err)
	}
}

// TestProgressionAgentReplyTriggers: a member's reply that reaches the customer is new
// activity too; a message that comes while the job runs makes it run again.
func TestProgressionAgentReplyTriggers(t *testing.T) {
	t.Parallel()
	e := setup(t, 300*time.Millisecond)
	o := e.org
	org := o.owner.OrgID
	l, r := e.customer(o, "+5511966660000", "Fábio", "Oi", "Salgados")
	e.on(o, 0.8)
	before := len(e.chatRequests())
	e.verdict("Proposta", 0.9, "Recebeu a proposta.")
	if _, err := e.inbox.Send(e.ctx, o.agent, r.ConversationID, "Segue a proposta: 100 salgados por R$ 80."); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the AI move after the agent's reply", func() bool { return e.stageOf(org, l.ID) == o.stages["Proposta"].ID })
	reqs := e.chatRequests()
	if len(reqs) <= before || !strings.Contains(reqs[len(reqs)-1].LastUser(), "Business: Segue a proposta: 100 salgados por R$ 80.") {
		t.Fatalf("the agent's reply is not in the conversation sent")
	}

	// A slow model: a message written while the job waits for it runs the job once more.
	e.waitFor("jobs to settle", func() bool { _, p := e.jobsOf(l.ID); return p == 0 })
	n := len(e.chatRequests())
	e.sim.SetDelay(800 * time.Millisecond)
	e.verdict("Proposta", 0.5, "Ainda avaliando.")
	e.verdict("Negociação", 0.95, "Pediu desconto.")
	e.write(o, "+5511966660000", "Fábio", "Recebi, obrigado.")
	e.waitFor("the model to be asked", func() bool { return len(e.chatRequests()) > n })
	e.write(o, "+5511966660000", "Fábio", "Faz por R$ 70?")
	e.waitFor("the second pass", func() bool { return e.stageOf(org, l.ID) == o.stages["Negociação"].ID })
	last := e.chatRequests()[len(e.chatRequests())-1]
	if !strings.Contains(last.LastUser(), "Faz por R$ 70?") {
		t.Fatal("the message written while the model thought was not read")
	}
}

// TestProgressionSettingsAndTenancy: only managers and above change a pipeline's settings,
// within bounds; nothing crosses orgs.
func TestProgressionSettingsAndTenancy(t *testing.T) {
	t.Parallel()
	e := setup(t, time.Hour)
	o, other := e.org, e.other
	org := o.owner.OrgID
	s, err := e.svc.Settings(e.ctx, org, o.pipeline.ID)
	if err != nil || s.Enabled || s.Threshold != model.DefaultAIThreshold {
		t.Fatalf("defaults %+v, %v", s, err)
	}
	if _, err := e.svc.SaveSettings(e.ctx, o.agent, o.pipeline.ID, true, 0.8); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("an agent turned it on: %v", err)
	}
	for _, bad := range []float64{0.49, 1.01, -1, math.NaN(), math.Inf(1)} {
		if _, err := e.svc.SaveSettings(e.ctx, o.owner, o.pipeline.ID, true, bad); !errors.Is(err, model.ErrInvalid) {
			t.Errorf("threshold %v: %v", bad, err)
		}
	}
	if _, err := e.svc.SaveSettings(e.ctx, o.owner, other.pipeline.ID, true, 0.8); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("another org's pipeline: %v", err)
	}
	if s, _ := e.svc.Settings(e.ctx, other.owner.OrgID, other.pipeline.ID); s.Enabled {
		t.Fatal("the other org's pipeline was turned on")
	}
	mgr := model.Actor{OrgID: org, UserID: o.owner.UserID, Role: model.RoleManager}
	if s, err = e.svc.SaveSettings(e.ctx, mgr, o.pipeline.ID, true, 0.756); err != nil || !s.Enabled || s.Threshold != 0.76 {
		t.Fatalf("a manager: %+v, %v", s, err)
	}
	// Another org's suggestion and move are not found from this org.
	e.on(other, 0.8)
	ol, _ := e.customer(other, "+5511977770000", "Gil", "Quero trocar o óleo", "Troca de óleo")
	e.verdict("Qualificado", 0.5, "Quer o serviço.")
	if err := e.svc.Classify(e.ctx, other.owner.OrgID, ol.ID); err != nil {
		t.Fatal(err)
	}
	sugg, _ := e.svc.LeadSuggestions(e.ctx, other.owner.OrgID, ol.ID)
	if len(sugg) != 1 {
		t.Fatalf("the other org's suggestion: %+v", sugg)
	}
	for name, err := range map[string]error{
		"accept":  second(e.svc.Accept(e.ctx, o.owner, sugg[0].ID)),
		"dismiss": second(e.svc.Dismiss(e.ctx, o.owner, sugg[0].ID)),
		"undo":    second(e.svc.Undo(e.ctx, o.owner, sugg[0].ID)),
		"list":    second(e.svc.LeadSuggestions(e.ctx, org, ol.ID)),
		"moves":   second(e.svc.LeadMoves(e.ctx, org, ol.ID)),
		"plist":   second(e.svc.PipelineSuggestions(e.ctx, org, other.pipeline.ID, 10, 0)),
	} {
		if !errors.Is(err, model.ErrNotFound) {
			t.Errorf("%s across orgs: %v", name, err)
		}
	}
	if m, _ := e.svc.Marks(e.ctx, org, []int64{ol.ID}); len(m) != 0 {
		t.Errorf("marks across orgs: %+v", m)
	}
	// A suggestion is not a move: undoing it is not found; accepting a move neither.
	if _, err := e.svc.Undo(e.ctx, other.owner, sugg[0].ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("undo a suggestion: %v", err)
	}
	if d, _ := e.st.AIDecision(e.ctx, other.owner.OrgID, sugg[0].ID); d.Status != model.AISuggestionOpen {
		t.Errorf("the other org's suggestion is %s", d.Status)
	}
}

func second[T any](_ T, err error) error { return err }

func TestParseVerdict(t *testing.T) {
	v, err := progression.ParseVerdict("```json\n{\"stage\":\"Proposta\",\"confidence\":0.7,\"reason\":\"ok\\u0000 \\n fim\"}\n```")
	if err != nil || v.Stage != "Proposta" || v.Confidence != 0.7 || v.Reason != "ok fim" {
		t.Fatalf("%+v, %v", v, err)
	}
	for _, bad := range []string{"", "sim", `{"stage":"x","confidence":-0.1}`, `{"stage":"x","confidence":2}`} {
		if _, err := progression.ParseVerdict(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	long := strings.Repeat("á", 1000)
	v, _ = progression.ParseVerdict(`{"stage":"x","confidence":0.5,"reason":"` + long + `"}`)
	if n := len([]rune(v.Reason)); n != model.MaxAIReason {
		t.Errorf("a long reason kept %d runes", n)
	}
}
