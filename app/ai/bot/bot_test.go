package bot_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"masteria/app/ai/bot"
	"masteria/app/model"
)

// The whole loop: a customer's WhatsApp message comes through the Meta simulator, the bot
// asks the model with the persona's instructions, the passages retrieval found and the
// history, and its reply goes back through the simulator, with citations, model, tokens and
// cost stored; nothing of another org reaches the model.
func TestBotAnswersWithCitations(t *testing.T) {
	e := newEnv(t)
	// Another org whose knowledge shares the question's words: none of it may be used.
	other, err := e.st.CreateOrg(e.ctx, "Outra Padaria")
	if err != nil {
		t.Fatal(err)
	}
	oa := model.Actor{OrgID: other.ID, Role: model.RoleOwner}
	e.connectAI(t, oa, 0)
	e.knowledge(t, oa, "Segredo", "# Domingos\nA padaria da outra empresa abre aos domingos às 5h com pão secreto de abóbora.")

	c := e.customer()
	c.says(t, "Oi! Vocês abrem aos domingos?")
	got := c.waitGot(t, 1)
	reqs := e.chats()
	if len(reqs) != 1 {
		t.Fatalf("%d chat requests, want 1", len(reqs))
	}
	r := reqs[0]
	sys := r.System()
	for _, want := range []string{"Você é a Ana", "Aos domingos abrimos das 7h às 13h", "[1]", "Brazilian Portuguese"} {
		if !strings.Contains(sys, want) {
			t.Errorf("the system prompt lacks %q:\n%s", want, sys)
		}
	}
	if strings.Contains(r.Prompt(), "secreto") || strings.Contains(r.Prompt(), "abóbora") {
		t.Fatalf("another org's knowledge reached the model:\n%s", r.Prompt())
	}
	if r.LastUser() != "Oi! Vocês abrem aos domingos?" {
		t.Fatalf("last user message %q", r.LastUser())
	}
	if _, ok := r.Tool("hand_over"); !ok {
		t.Fatal("the model was not given the hand_over tool")
	}
	if r.Temperature == nil || *r.Temperature != 0.2 {
		t.Fatalf("temperature %v, want the persona's 0.2", r.Temperature)
	}
	// The customer reads no citation marks; agents see the sources.
	if !strings.Contains(got[0], "domingos") || strings.Contains(got[0], "[1]") {
		t.Fatalf("the customer got %q", got[0])
	}
	conv := c.conv(t)
	if conv.Owner != model.OwnerBot || conv.BotTurns != 1 {
		t.Fatalf("owner %s turns %d", conv.Owner, conv.BotTurns)
	}
	replies := e.aiReplies(t, conv.ID)
	if len(replies) != 1 {
		t.Fatalf("%d ai replies", len(replies))
	}
	rep := replies[0]
	if rep.Model != "gpt-4o-mini" || rep.PromptTokens == 0 || rep.CompletionTokens == 0 || rep.Cost <= 0 ||
		rep.PersonaID == nil || *rep.PersonaID != e.persona.ID {
		t.Fatalf("reply %+v", rep)
	}
	if len(rep.Citations) != 1 || rep.Citations[0].N != 1 || !strings.Contains(rep.Citations[0].Text, "domingos") ||
		rep.Citations[0].DocumentID == 0 {
		t.Fatalf("citations %s", mustJSON(rep.Citations))
	}

	// The next question carries the history: the first question and the bot's answer.
	c.says(t, "E vocês fazem entregas?")
	c.waitGot(t, 2)
	reqs = e.chats()
	if len(reqs) != 2 {
		t.Fatalf("%d chat requests, want 2", len(reqs))
	}
	var roles []string
	for _, m := range reqs[1].Messages {
		roles = append(roles, m.Role)
	}
	if !slices.Equal(roles, []string{"system", "user", "assistant", "user"}) || reqs[1].Messages[2].Content != got[0] {
		t.Fatalf("history %v %+v", roles, reqs[1].Messages)
	}
}

// Messages a customer sends in quick succession are answered once, with all of them.
func TestBotDebounce(t *testing.T) {
	e := newEnv(t)
	c := e.customer()
	c.says(t, "Oi")
	c.says(t, "queria saber das entregas")
	c.says(t, "vocês entregam no bairro?")
	c.waitGot(t, 1)
	settle()
	if n := len(c.got()); n != 1 {
		t.Fatalf("%d answers to three quick messages, want 1", n)
	}
	reqs := e.chats()
	if len(reqs) != 1 {
		t.Fatalf("%d chat requests, want 1", len(reqs))
	}
	if last := reqs[0].LastUser(); last != "Oi\nqueria saber das entregas\nvocês entregam no bairro?" {
		t.Fatalf("the model read %q", last)
	}
}

// The model's hand_over call passes the conversation to a person with its reason and
// summary; the customer hears it in the persona's words; the bot says nothing more.
func TestHandOverByToolCall(t *testing.T) {
	e := newEnv(t, func(p *model.Persona) { p.HandoverMessage = "Já chamo a equipe! 🙂" })
	e.ai.ReplyTool("hand_over", `{"reason":"Cliente quer negociar desconto","summary":"Pediu desconto para 100 pães."}`)
	c := e.customer()
	c.says(t, "Quero 100 pães com desconto para a entrega de amanhã")
	conv := c.waitOwner(t, model.OwnerWaiting)
	if conv.HandoverReason != "tool: Cliente quer negociar desconto" || conv.HandoverSummary != "Pediu desconto para 100 pães." ||
		conv.HandoverAt == nil {
		t.Fatalf("hand-over %q %q %v", conv.HandoverReason, conv.HandoverSummary, conv.HandoverAt)
	}
	if got := c.waitGot(t, 1); got[0] != "Já chamo a equipe! 🙂" {
		t.Fatalf("the customer got %q", got[0])
	}
	noMoreBot(t, e, c, 1)
}

// noMoreBot checks that the customer writing again reaches nobody but people.
func noMoreBot(t *testing.T, e *env, c customer, sent int) {
	t.Helper()
	before := len(e.chats())
	c.says(t, "Alô? Tem alguém aí?")
	settle()
	if n := len(e.chats()); n != before {
		t.Fatalf("the model was asked again after the hand-over (%d → %d)", before, n)
	}
	if n := len(c.got()); n != sent {
		t.Fatalf("the customer got %d messages, want %d: %q", n, sent, c.got())
	}
}

// A hand-over keyword passes the conversation at once, without asking the model.
func TestHandOverByKeyword(t *testing.T) {
	e := newEnv(t)
	c := e.customer()
	c.says(t, "Quero falar com um ATENDENTE, por favor")
	conv := c.waitOwner(t, model.OwnerWaiting)
	if conv.HandoverReason != "keyword: atendente" || !strings.Contains(conv.HandoverSummary, "ATENDENTE") {
		t.Fatalf("hand-over %q %q", conv.HandoverReason, conv.HandoverSummary)
	}
	if got := c.waitGot(t, 1); !strings.Contains(got[0], "Vou chamar uma pessoa") {
		t.Fatalf("the customer got %q", got[0])
	}
	if n := len(e.chats()); n != 0 {
		t.Fatalf("%d chat requests for a keyword", n)
	}
	noMoreBot(t, e, c, 1)
}

// Nothing relevant in the knowledge bases: say so and hand over, or hand over silently.
func TestHandOverNothingFound(t *testing.T) {
	t.Run("say", func(t *testing.T) {
		e := newEnv(t)
		c := e.customer()
		c.says(t, "Vocês consertam bicicletas elétricas?")
		conv := c.waitOwner(t, model.OwnerWaiting)
		if conv.HandoverReason != bot.ReasonNothingFound {
			t.Fatalf("reason %q", conv.HandoverReason)
		}
		got := c.waitGot(t, 1)
		if !strings.HasPrefix(got[0], "Não encontrei essa informação") || !strings.Contains(got[0], "Vou chamar uma pessoa") {
			t.Fatalf("the customer got %q", got[0])
		}
		if n := len(e.chats()); n != 0 {
			t.Fatalf("%d chat requests with nothing found", n)
		}
		noMoreBot(t, e, c, 1)
	})
	t.Run("silent", func(t *testing.T) {
		e := newEnv(t, func(p *model.Persona) { p.NothingFound = model.NothingFoundSilent })
		c := e.customer()
		c.says(t, "Vocês consertam bicicletas elétricas?")
		c.waitOwner(t, model.OwnerWaiting)
		settle()
		if got := c.got(); len(got) != 0 {
			t.Fatalf("a silent hand-over said %q", got)
		}
	})
	t.Run("a greeting is answered", func(t *testing.T) {
		e := newEnv(t)
		c := e.customer()
		c.says(t, "Oi, bom dia!")
		c.waitGot(t, 1)
		if conv := c.conv(t); conv.Owner != model.OwnerBot {
			t.Fatalf("a greeting handed over: %s %q", conv.Owner, conv.HandoverReason)
		}
	})
}

// The persona's maximum of bot turns hands over on the next message.
func TestHandOverMaxTurns(t *testing.T) {
	e := newEnv(t, func(p *model.Persona) { p.MaxTurns = 2 })
	c := e.customer()
	c.says(t, "A padaria abre aos domingos?")
	c.waitGot(t, 1)
	c.says(t, "E fazem entregas no bairro?")
	c.waitGot(t, 2)
	c.says(t, "E bolos de aniversário?")
	conv := c.waitOwner(t, model.OwnerWaiting)
	if conv.HandoverReason != "max_turns: 2" || conv.BotTurns != 2 {
		t.Fatalf("reason %q turns %d", conv.HandoverReason, conv.BotTurns)
	}
	if n := len(e.chats()); n != 2 {
		t.Fatalf("%d chat requests, want 2", n)
	}
	c.waitGot(t, 3)
}

// An agent's reply takes the conversation from the bot for good; giving it back lets the
// bot answer what comes next.
func TestAgentReplyStopsTheBot(t *testing.T) {
	e := newEnv(t)
	c := e.customer()
	c.says(t, "A padaria abre aos domingos?")
	c.waitGot(t, 1)
	conv := c.conv(t)
	agent := model.Actor{OrgID: e.a.OrgID, UserID: e.member(t, model.RoleAgent), Role: model.RoleAgent}
	if _, err := e.inst.App.Inbox.Send(e.ctx, agent, conv.ID, "Oi, aqui é a Carla! Abrimos sim."); err != nil {
		t.Fatal(err)
	}
	conv = c.conv(t)
	if conv.Owner != model.OwnerHuman || !conv.BotStopped {
		t.Fatalf("after an agent's reply: owner %s stopped %v", conv.Owner, conv.BotStopped)
	}
	c.waitGot(t, 2)
	noMoreBot(t, e, c, 2)

	// Closed and reopened by the customer, it stays with people.
	if err := e.inst.App.Inbox.SetStatus(e.ctx, e.a, conv.ID, "closed"); err != nil {
		t.Fatal(err)
	}
	if got := c.conv(t); got.Owner != model.OwnerClosed {
		t.Fatalf("closed: owner %s", got.Owner)
	}
	c.says(t, "Obrigado!")
	c.waitOwner(t, model.OwnerHuman)

	// Given back, the bot answers the next message.
	if err := e.inst.App.Inbox.GiveToBot(e.ctx, agent, conv.ID, 0); err != nil {
		t.Fatal(err)
	}
	chats := len(e.chats())
	c.says(t, "Fazem entregas no bairro?")
	c.waitGot(t, 3)
	if n := len(e.chats()); n != chats+1 {
		t.Fatalf("%d chat requests after giving back, want %d", n, chats+1)
	}
}

// Take over: the agent owns the conversation, it is assigned to them, the bot stops.
func TestTakeOver(t *testing.T) {
	e := newEnv(t)
	c := e.customer()
	c.says(t, "Quero falar com um humano")
	conv := c.waitOwner(t, model.OwnerWaiting)
	uid := e.member(t, model.RoleAgent)
	agent := model.Actor{OrgID: e.a.OrgID, UserID: uid, Role: model.RoleAgent}
	if err := e.inst.App.Inbox.TakeOver(e.ctx, agent, conv.ID); err != nil {
		t.Fatal(err)
	}
	conv = c.conv(t)
	if conv.Owner != model.OwnerHuman || !conv.BotStopped || conv.AssigneeID == nil || *conv.AssigneeID != uid {
		t.Fatalf("taken over: %+v", conv)
	}
	c.waitGot(t, 1)
	noMoreBot(t, e, c, 1)
	// Another org's agent cannot take it, nor give it to the bot.
	other, _ := e.st.CreateOrg(e.ctx, "Outra")
	foreign := model.Actor{OrgID: other.ID, Role: model.RoleOwner}
	if err := e.inst.App.Inbox.TakeOver(e.ctx, foreign, conv.ID); err == nil {
		t.Fatal("a foreign org took a conversation over")
	}
	if err := e.inst.App.Inbox.GiveToBot(e.ctx, foreign, conv.ID, 0); err == nil {
		t.Fatal("a foreign org gave a conversation to its bot")
	}
}

// The provider failing (401, 429, a timeout) hands over: the customer is never left
// without an answer.
func TestHandOverWhenProviderFails(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name  string
		setup func()
		want  string
	}{
		{"401", func() { e.ai.SetAPIKeys("another-key") }, "HTTP 401"},
		{"429", func() { e.ai.SetAPIKeys(simKey); e.ai.SetRateLimited(5, time.Minute) }, "HTTP 429"},
		{"timeout", func() { e.ai.SetRateLimited(0, 0); e.ai.SetDelay(5 * time.Second) }, "timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			c := e.customer()
			c.says(t, "A padaria abre aos domingos?")
			conv := c.waitOwner(t, model.OwnerWaiting)
			if !strings.HasPrefix(conv.HandoverReason, "provider: ") || !strings.Contains(conv.HandoverReason, tc.want) {
				t.Fatalf("reason %q, want %q…", conv.HandoverReason, tc.want)
			}
			if got := c.waitGot(t, 1); !strings.Contains(got[0], "Vou chamar uma pessoa") {
				t.Fatalf("the customer got %q", got[0])
			}
		})
	}
}

// A spent monthly budget hands over instead of answering, and managers are told once.
func TestBudgetCap(t *testing.T) {
	e := newEnv(t)
	e.connectAI(t, e.a, 0.01)
	if err := e.inst.App.AI.RecordUsage(e.ctx, e.a.OrgID, model.AIUsage{Kind: model.AIUsageChat, Model: "gpt-4o-mini",
		PromptTokens: 100000, CompletionTokens: 1000, Cost: 0.02}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		c := e.customer()
		c.says(t, "A padaria abre aos domingos?")
		conv := c.waitOwner(t, model.OwnerWaiting)
		if conv.HandoverReason != bot.ReasonBudget {
			t.Fatalf("customer %d: reason %q", i, conv.HandoverReason)
		}
		c.waitGot(t, 1)
	}
	if n := len(e.chats()); n != 0 {
		t.Fatalf("%d chat requests over budget", n)
	}
	var alerts int
	if err := e.st.DB().GetContext(e.ctx, &alerts, `SELECT count(*) FROM events WHERE org_id = $1 AND type = 'ai.budget_spent'`, e.a.OrgID); err != nil {
		t.Fatal(err)
	}
	if alerts != 1 {
		t.Fatalf("%d budget alerts, want 1", alerts)
	}
}

// An automatic reply (another bot, an away message) is not answered: a person takes over.
func TestNoAnswerToAutomatedSenders(t *testing.T) {
	e := newEnv(t)
	c := e.customer()
	c.says(t, "Esta é uma mensagem automática. Retornaremos em breve.")
	conv := c.waitOwner(t, model.OwnerWaiting)
	if conv.HandoverReason != bot.ReasonAutomated {
		t.Fatalf("reason %q", conv.HandoverReason)
	}
	settle()
	if len(c.got()) != 0 || len(e.chats()) != 0 {
		t.Fatalf("answered an automated sender: %q, %d chats", c.got(), len(e.chats()))
	}
}

// member adds a member to the env's org and returns their user id.
func (e *env) member(t testing.TB, role model.Role) int64 {
	t.Helper()
	u, err := e.st.CreateUser(e.ctx, strings.ToLower(string(role))+time.Now().Format("150405.000000")+"@padaria.test", "Carla", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.AddMember(e.ctx, e.a.OrgID, u.ID, role); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// With round-robin on, a bot conversation is assigned to nobody until the hand-over, which
// gives it to the next member in turn.
func TestHandOverAssignsInTurn(t *testing.T) {
	e := newEnv(t)
	uid := e.member(t, model.RoleAgent)
	if err := e.inst.App.Inbox.SaveSettings(e.ctx, e.a, model.InboxSettings{RoundRobin: true}, []int64{uid}); err != nil {
		t.Fatal(err)
	}
	c := e.customer()
	c.says(t, "Vocês abrem aos domingos?")
	c.waitGot(t, 1)
	if conv := c.conv(t); conv.AssigneeID != nil {
		t.Fatalf("the bot's conversation was assigned to %d", *conv.AssigneeID)
	}
	c.says(t, "Quero falar com um humano")
	conv := c.waitOwner(t, model.OwnerWaiting)
	if conv.AssigneeID == nil || *conv.AssigneeID != uid {
		t.Fatalf("handed over to %v, want %d", conv.AssigneeID, uid)
	}
}

// More than five bot replies in a minute is a loop (another bot on the other side): a
// person takes over.
func TestHandOverOnRateLimit(t *testing.T) {
	e := newEnv(t)
	c := e.customer()
	for i := range 5 {
		c.says(t, fmt.Sprintf("Vocês abrem aos domingos? (%d)", i))
		c.waitGot(t, i+1)
	}
	c.says(t, "Vocês abrem aos domingos? (5)")
	conv := c.waitOwner(t, model.OwnerWaiting)
	if conv.HandoverReason != bot.ReasonRateLimit || conv.BotTurns != 5 {
		t.Fatalf("reason %q turns %d", conv.HandoverReason, conv.BotTurns)
	}
}

// Past WhatsApp's 24-hour window the bot sends nothing (the Cloud API would refuse free
// text): a person takes over, silently.
func TestNoAnswerOutsideTheWindow(t *testing.T) {
	e := newEnv(t)
	c := e.customer()
	c.says(t, "Vocês abrem aos domingos?")
	// The reply waits for the debounce: the window closes meanwhile.
	if _, err := e.st.DB().Exec(`UPDATE conversations SET last_inbound_at = now() - interval '25 hours' WHERE org_id = $1`, e.a.OrgID); err != nil {
		t.Fatal(err)
	}
	conv := c.waitOwner(t, model.OwnerWaiting)
	if conv.HandoverReason != bot.ReasonWindow {
		t.Fatalf("reason %q", conv.HandoverReason)
	}
	settle()
	if len(c.got()) != 0 || len(e.chats()) != 0 {
		t.Fatalf("sent %q after the window, %d chats", c.got(), len(e.chats()))
	}
}
