package assist_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"masteria/app/ai/assist"
	"masteria/app/ai/kb"
	"masteria/app/ai/provider"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/sim/openaisim"
	"masteria/app/store"
	"masteria/app/store/storetest"
	"masteria/app/vault"
)

const simKey = "sk-sim-assist-0123456789"

// env is two orgs on one database, each with a sandbox channel and a knowledge base, the
// first with an AI provider pointed at the OpenAI simulator.
type env struct {
	t     *testing.T
	ctx   context.Context
	st    *store.Store
	sim   *openaisim.Server
	ai    *provider.Service
	kb    *kb.Service
	inbox *inbox.Service
	svc   *assist.Service
	a, b  org
}

type org struct {
	admin model.Actor
	ch    model.Channel
	kbID  int64
}

func setup(t *testing.T, opts assist.Options) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	st, _ := storetest.New(t)
	key, _ := vault.GenerateKey()
	ring, err := vault.ParseKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	sim := openaisim.New(openaisim.WithAPIKey(simKey))
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	e := &env{t: t, ctx: ctx, st: st, sim: sim, ai: provider.New(st, ring), kb: kb.New(st, kb.Options{}), inbox: inbox.New(st, ring)}
	e.svc = assist.New(st, e.inbox, e.ai, e.kb, opts)
	e.a = e.org("Padaria Pão Quente", "Padaria", map[string]string{
		"Entregas": "# Entregas\n\nEntregamos bolos e pães em toda a cidade, de terça a domingo, inclusive aos sábados. A taxa de entrega é de 8 reais.",
		"Horário":  "# Horário\n\nAbrimos às 7 horas e fechamos às 19 horas, todos os dias.",
	})
	e.b = e.org("Clínica Sorriso", "Clínica", map[string]string{
		"Consultas": "# Consultas\n\nA consulta de avaliação custa 300 reais; a entrega de exames é feita pelo portal ZEBRA-CLINICA.",
	})
	if err := e.ai.Save(ctx, e.a.admin, provider.Input{BaseURL: sim.URL(), Key: simKey, ChatModel: "gpt-4o-mini",
		EmbeddingModel: "text-embedding-3-small", EmbeddingDimensions: 1536}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) org(name, kbName string, docs map[string]string) org {
	e.t.Helper()
	o, err := e.st.CreateOrg(e.ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	ch, err := e.st.CreateChannel(e.ctx, model.Channel{OrgID: o.ID, Kind: model.KindSandbox, Name: "Atendimento", Rate: 20})
	if err != nil {
		e.t.Fatal(err)
	}
	out := org{admin: model.Actor{OrgID: o.ID, Role: model.RoleAdmin}, ch: ch}
	out.kbID = e.base(o.ID, kbName, docs)
	return out
}

// base adds an indexed knowledge base to an org.
func (e *env) base(orgID int64, name string, docs map[string]string) int64 {
	e.t.Helper()
	b, err := e.st.CreateKnowledgeBase(e.ctx, orgID, name, "", 0)
	if err != nil {
		e.t.Fatal(err)
	}
	for title, text := range docs {
		d, err := e.st.CreateDocument(e.ctx, orgID, model.KBDocument{KnowledgeBaseID: b.ID, Title: title, Source: model.DocSourceText, Content: text})
		if err != nil {
			e.t.Fatal(err)
		}
		if err := e.kb.Index(e.ctx, orgID, d.ID); err != nil {
			e.t.Fatal(err)
		}
	}
	return b.ID
}

// conversation stores a conversation of o with a customer and its messages, oldest first:
// "in:…" from the customer, "out:…" from an agent, "bot:…" sent automatically, "note:…".
func (e *env) conversation(o org, phone string, msgs ...string) int64 {
	e.t.Helper()
	contact, err := e.st.CreateContact(e.ctx, model.Contact{OrgID: o.admin.OrgID, Name: "Marina", Phone: &phone})
	if err != nil {
		e.t.Fatal(err)
	}
	conv, err := e.st.OpenConversation(e.ctx, o.admin.OrgID, o.ch.ID, contact)
	if err != nil {
		e.t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour)
	agent := int64(0)
	for i, m := range msgs {
		dir, body, _ := strings.Cut(m, ":")
		msg := model.Message{OrgID: o.admin.OrgID, ConversationID: conv, ChannelID: o.ch.ID, Direction: dir, Kind: "text",
			Body: body, Status: model.StatusReceived, CreatedAt: at.Add(time.Duration(i) * time.Minute)}
		switch dir {
		case "out", "note":
			if agent == 0 {
				u, err := e.st.CreateUser(e.ctx, fmt.Sprintf("agente.%d@example.com", time.Now().UnixNano()), "Agente", nil, nil)
				if err != nil {
					e.t.Fatal(err)
				}
				agent = u.ID
			}
			msg.SenderID, msg.Status = &agent, model.StatusSent
		case "bot":
			msg.Direction, msg.Status = "out", model.StatusSent
		}
		if msg.Direction == "note" {
			msg.Status = model.StatusReceived
		}
		if _, _, err := e.st.InsertMessage(e.ctx, msg); err != nil {
			e.t.Fatal(err)
		}
	}
	return conv
}

// chats are the chat requests the simulator received (embeddings left out).
func (e *env) chats() []openaisim.Request {
	var out []openaisim.Request
	for _, r := range e.sim.Requests() {
		if r.Path == "/v1/chat/completions" {
			out = append(out, r)
		}
	}
	return out
}

func TestAssistSuggestFromTheKnowledgeBase(t *testing.T) {
	t.Parallel()
	e := setup(t, assist.Options{})
	conv := e.conversation(e.a, "+5511987650001",
		"in:Oi! Bom dia.",
		"out:Bom dia, Marina! Como posso ajudar?",
		"note:cliente VIP, desconto combinado por telefone",
		"in:Vocês entregam no sábado?",
		"in:E quanto custa a entrega? Que horas vocês abrem?")
	e.sim.Reply("Entregamos sim aos sábados [1], e a taxa de entrega é de 8 reais [1]. Abrimos às 7 horas [2].")

	sug, err := e.svc.Suggest(e.ctx, e.a.admin, conv)
	if err != nil {
		t.Fatal(err)
	}
	if sug.NothingFound || sug.Text != "Entregamos sim aos sábados, e a taxa de entrega é de 8 reais. Abrimos às 7 horas." {
		t.Fatalf("suggestion %+v", sug)
	}
	if len(sug.Sources) != 2 || sug.Sources[0].N != 1 || sug.Sources[1].N != 2 {
		t.Fatalf("sources %+v", sug.Sources)
	}
	titles := []string{sug.Sources[0].Title, sug.Sources[1].Title}
	slices.Sort(titles)
	if !slices.Equal(titles, []string{"Entregas", "Horário"}) {
		t.Fatalf("sources %+v", sug.Sources)
	}

	chats := e.chats()
	if len(chats) != 1 {
		t.Fatalf("%d chat requests", len(chats))
	}
	r := chats[0]
	sys := r.System()
	if r.Model != "gpt-4o-mini" || !strings.Contains(sys, "] Entregas\n") || !strings.Contains(sys, "A taxa de entrega é de 8 reais.") ||
		!strings.Contains(sys, "Abrimos às 7 horas") {
		t.Errorf("the passages were not sent:\n%s", sys)
	}
	if !strings.Contains(sys, "only the facts in the numbered passages") {
		t.Errorf("no grounding instruction:\n%s", sys)
	}
	// The history as chat turns, the customer's last ones last; the note is not for the model.
	if got := r.LastUser(); got != "Vocês entregam no sábado?\nE quanto custa a entrega? Que horas vocês abrem?" {
		t.Errorf("last user message %q", got)
	}
	roles := []string{}
	for _, m := range r.Messages {
		roles = append(roles, m.Role)
	}
	if !slices.Equal(roles, []string{"system", "user", "assistant", "user"}) {
		t.Errorf("roles %v", roles)
	}
	p := r.Prompt()
	if strings.Contains(p, "desconto combinado") {
		t.Error("an internal note went to the model")
	}
	if strings.Contains(p, "300 reais") || strings.Contains(p, "ZEBRA") {
		t.Error("another org's knowledge reached the model")
	}
	// The call was paid for by the org.
	if spent, err := e.ai.SpentThisMonth(e.ctx, e.a.admin.OrgID); err != nil || spent <= 0 {
		t.Errorf("spent %v, %v", spent, err)
	}

	// A reply that cites nothing shows every passage it was given.
	e.sim.Reply("Entregamos aos sábados.")
	if sug, err = e.svc.Suggest(e.ctx, e.a.admin, conv); err != nil || len(sug.Sources) != 2 || sug.Text != "Entregamos aos sábados." {
		t.Fatalf("uncited %+v, %v", sug, err)
	}

	// Another org cannot use the conversation: not found, and nothing reaches the model.
	before := len(e.sim.Requests())
	if _, err := e.svc.Suggest(e.ctx, e.b.admin, conv); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("other org: %v", err)
	}
	if _, err := e.svc.Summarize(e.ctx, e.b.admin, conv, "en"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("other org summary: %v", err)
	}
	if _, err := e.svc.Rewrite(e.ctx, e.b.admin, conv, "Olá", assist.StyleShorter, ""); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("other org rewrite: %v", err)
	}
	if n := len(e.sim.Requests()); n != before {
		t.Errorf("%d requests for another org's conversation", n-before)
	}
}

func TestAssistSuggestReadsThePersonasKnowledge(t *testing.T) {
	t.Parallel()
	e := setup(t, assist.Options{})
	events := e.base(e.a.admin.OrgID, "Eventos", map[string]string{
		"Festas": "# Festas\n\nAlugamos o salão para festas de aniversário por 500 reais a tarde, com entrega de salgados incluída.",
	})
	conv := e.conversation(e.a, "+5511987650002", "in:Quanto custa o salão para festa? E a taxa de entrega?")
	// The channel runs a persona that reads only the events base.
	var persona int64
	if err := e.st.DB().Get(&persona, `INSERT INTO personas (org_id, name) VALUES ($1, 'Eventos') RETURNING id`, e.a.admin.OrgID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DB().Exec(`INSERT INTO persona_knowledge_bases (org_id, persona_id, knowledge_base_id) VALUES ($1, $2, $3)`,
		e.a.admin.OrgID, persona, events); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DB().Exec(`UPDATE channels SET persona_id = $1 WHERE id = $2`, persona, e.a.ch.ID); err != nil {
		t.Fatal(err)
	}
	sug, err := e.svc.Suggest(e.ctx, e.a.admin, conv)
	if err != nil {
		t.Fatal(err)
	}
	sys := e.chats()[0].System()
	if !strings.Contains(sys, "500 reais") || strings.Contains(sys, "8 reais") {
		t.Fatalf("with the channel's persona the passages are:\n%s", sys)
	}
	for _, s := range sug.Sources {
		if s.Title != "Festas" {
			t.Errorf("source %+v is not of the persona's base", s)
		}
	}
	// The conversation's own persona comes first; one without knowledge bases reads them all.
	var bare int64
	if err := e.st.DB().Get(&bare, `INSERT INTO personas (org_id, name) VALUES ($1, 'Geral') RETURNING id`, e.a.admin.OrgID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DB().Exec(`UPDATE conversations SET persona_id = $1 WHERE id = $2`, bare, conv); err != nil {
		t.Fatal(err)
	}
	e.sim.Reset()
	if _, err := e.svc.Suggest(e.ctx, e.a.admin, conv); err != nil {
		t.Fatal(err)
	}
	if sys := e.chats()[0].System(); !strings.Contains(sys, "500 reais") || !strings.Contains(sys, "8 reais") {
		t.Fatalf("a persona without bases should read all of the org's:\n%s", sys)
	}
}

func TestAssistSuggestNothingFoundAsksNoModel(t *testing.T) {
	t.Parallel()
	e := setup(t, assist.Options{})
	conv := e.conversation(e.a, "+5511987650003", "in:Vocês consertam xilofones quânticos?")
	sug, err := e.svc.Suggest(e.ctx, e.a.admin, conv)
	if err != nil || !sug.NothingFound || sug.Text != "" || len(sug.Sources) != 0 {
		t.Fatalf("%+v, %v", sug, err)
	}
	if n := len(e.chats()); n != 0 {
		t.Errorf("%d chat requests with nothing found", n)
	}
	// Only the business wrote: there is nothing to answer.
	quiet := e.conversation(e.a, "+5511987650004", "bot:Olá! Temos pão de queijo hoje.", "note:ligar amanhã")
	if _, err := e.svc.Suggest(e.ctx, e.a.admin, quiet); !errors.Is(err, model.ErrInvalid) {
		t.Errorf("no customer message: %v", err)
	}
}

func TestAssistSummary(t *testing.T) {
	t.Parallel()
	e := setup(t, assist.Options{MaxMessages: 5, MaxChars: 400})
	conv := e.conversation(e.a, "+5511987650005",
		"in:mensagem antiga que não cabe",
		"in:Quero encomendar um bolo de chocolate para sábado.",
		"out:Claro! Entregamos no sábado de manhã.",
		"note:confirmar o endereço com a cliente",
		"bot:Seu pedido foi registrado.",
		"in:Ótimo, obrigada! Falta o endereço, mando depois.")
	e.sim.Reply("- A cliente quer um bolo de chocolate para sábado.\n\n* **Prometido:** entrega no sábado de manhã.\n3. Em aberto: o endereço.")
	sum, err := e.svc.Summarize(e.ctx, e.a.admin, conv, "pt-BR")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A cliente quer um bolo de chocolate para sábado.", "Prometido: entrega no sábado de manhã.", "Em aberto: o endereço."}
	if !slices.Equal(sum.Bullets, want) || sum.Messages != 5 {
		t.Fatalf("summary %+v", sum)
	}
	r := e.chats()[0]
	if !strings.Contains(r.System(), "Brazilian Portuguese") || !strings.Contains(r.System(), "what is still open") {
		t.Errorf("system:\n%s", r.System())
	}
	u := r.LastUser()
	// The newest five messages, oldest first, each with its author; the oldest left out.
	order := []string{"Customer: Quero encomendar", "Agent: Claro!", "Internal note by an agent: confirmar", "Business (automatic): Seu pedido", "Customer: Ótimo"}
	at := 0
	for _, w := range order {
		i := strings.Index(u[at:], w)
		if i < 0 {
			t.Fatalf("%q missing or out of order in:\n%s", w, u)
		}
		at += i
	}
	if strings.Contains(u, "antiga") {
		t.Error("a message beyond MaxMessages was sent")
	}

	// MaxChars: a newest message longer than the cap is cut to its end, and alone.
	long := e.conversation(e.a, "+5511987650006", "in:primeira mensagem", "in:"+strings.Repeat("a", 1000)+" FIM")
	e.sim.Reply("- ok")
	if _, err := e.svc.Summarize(e.ctx, e.a.admin, long, "en"); err != nil {
		t.Fatal(err)
	}
	u = e.chats()[1].LastUser()
	if strings.Contains(u, "primeira") || !strings.Contains(u, "FIM") || strings.Count(u, "a") > 420 {
		t.Errorf("the cap was not applied (%d chars):\n%.200s", len(u), u)
	}
	if !strings.Contains(e.chats()[1].System(), "in English") {
		t.Error("the summary language is not English")
	}

	// Bad input asks nothing.
	before := len(e.sim.Requests())
	if _, err := e.svc.Summarize(e.ctx, e.a.admin, conv, "klingon"); !errors.Is(err, model.ErrInvalid) {
		t.Errorf("unknown language: %v", err)
	}
	empty := e.conversation(e.a, "+5511987650007")
	if _, err := e.svc.Summarize(e.ctx, e.a.admin, empty, "en"); !errors.Is(err, model.ErrInvalid) {
		t.Errorf("no messages: %v", err)
	}
	if _, err := e.svc.Summarize(e.ctx, e.a.admin, 999999, "en"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("unknown conversation: %v", err)
	}
	if n := len(e.sim.Requests()); n != before {
		t.Errorf("%d requests for bad input", n-before)
	}
	// A model that answers nothing is said so.
	e.sim.Reply("  \n ")
	if _, err := e.svc.Summarize(e.ctx, e.a.admin, conv, "en"); !errors.Is(err, assist.ErrEmptyAnswer) {
		t.Errorf("empty answer: %v", err)
	}
}

func TestAssistRewrite(t *testing.T) {
	t.Parallel()
	e := setup(t, assist.Options{})
	conv := e.conversation(e.a, "+5511987650008", "in:Oi")
	draft := "Ola, o seu pedido sai amanha as 10h, o valor e de R$ 45,90. Qualquer coisa e so chamar."
	for _, c := range []struct{ style, to, task, reply, want string }{
		{assist.StyleShorter, "", "shorter", "Seu pedido sai amanhã às 10h, R$ 45,90.", "Seu pedido sai amanhã às 10h, R$ 45,90."},
		{assist.StyleFriendlier, "", "friendlier", `"Oi! Seu pedido sai amanhã às 10h 😊"`, "Oi! Seu pedido sai amanhã às 10h 😊"},
		{assist.StyleGrammar, "", "grammar", "Olá, o seu pedido sai amanhã às 10h.", "Olá, o seu pedido sai amanhã às 10h."},
		{assist.StyleTranslate, "es", "Spanish", "Hola, su pedido sale mañana a las 10h.", "Hola, su pedido sale mañana a las 10h."},
		{assist.StyleTranslate, "en", "English", "Hi, your order leaves tomorrow at 10am.", "Hi, your order leaves tomorrow at 10am."},
	} {
		e.sim.Reset()
		e.sim.Reply(c.reply)
		got, err := e.svc.Rewrite(e.ctx, e.a.admin, conv, "  "+draft+"\n", c.style, c.to)
		if err != nil || got != c.want {
			t.Errorf("%s %s: %q, %v", c.style, c.to, got, err)
			continue
		}
		r := e.chats()[0]
		if r.LastUser() != draft || !strings.Contains(r.System(), c.task) || !strings.Contains(r.System(), "numbers, prices, dates and links exactly") {
			t.Errorf("%s: sent %q\n%s", c.style, r.LastUser(), r.System())
		}
		if c.style == assist.StyleGrammar && (r.Temperature == nil || *r.Temperature != 0) {
			t.Errorf("grammar temperature %v", r.Temperature)
		}
		if strings.Contains(r.Prompt(), "Oi\n") {
			t.Error("the conversation went with a rewrite")
		}
	}

	e.sim.Reset()
	for name, c := range map[string]struct{ draft, style, to string }{
		"empty":          {" \n ", assist.StyleShorter, ""},
		"too long":       {strings.Repeat("é", assist.MaxDraftRunes+1), assist.StyleShorter, ""},
		"unknown style":  {draft, "pirate", ""},
		"no language":    {draft, assist.StyleTranslate, ""},
		"other language": {draft, assist.StyleTranslate, "fr"},
	} {
		if _, err := e.svc.Rewrite(e.ctx, e.a.admin, conv, c.draft, c.style, c.to); !errors.Is(err, model.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := len(e.sim.Requests()); n != 0 {
		t.Errorf("%d requests for bad input", n)
	}
	// The longest draft passes, and an answer longer than the composer takes is cut.
	e.sim.Reply(strings.Repeat("b", assist.MaxDraftRunes+50))
	got, err := e.svc.Rewrite(e.ctx, e.a.admin, conv, strings.Repeat("é", assist.MaxDraftRunes), assist.StyleGrammar, "")
	if err != nil || len([]rune(got)) != assist.MaxDraftRunes {
		t.Errorf("longest draft: %d runes, %v", len([]rune(got)), err)
	}
}

func TestAssistRefusals(t *testing.T) {
	t.Parallel()
	e := setup(t, assist.Options{Timeout: 400 * time.Millisecond})
	conv := e.conversation(e.a, "+5511987650009", "in:Qual a taxa de entrega?")

	// No provider: said so before anything is sent.
	convB := e.conversation(e.b, "+5511987650010", "in:Quanto custa a consulta?")
	if _, err := e.svc.Suggest(e.ctx, e.b.admin, convB); !errors.Is(err, assist.ErrNotConfigured) {
		t.Errorf("no provider: %v", err)
	}
	if _, err := e.svc.Rewrite(e.ctx, e.b.admin, convB, "Olá", assist.StyleShorter, ""); !errors.Is(err, assist.ErrNotConfigured) {
		t.Errorf("no provider rewrite: %v", err)
	}

	provErr := func(err error) *provider.Error {
		t.Helper()
		var pe *provider.Error
		if !errors.As(err, &pe) {
			t.Fatalf("want a provider error, got %v", err)
		}
		return pe
	}
	// A refused key.
	e.sim.SetAPIKeys("sk-another-key")
	_, err := e.svc.Summarize(e.ctx, e.a.admin, conv, "en")
	if pe := provErr(err); pe.Status != 401 {
		t.Errorf("401: %+v", pe)
	}
	e.sim.SetAPIKeys(simKey)
	// Rate limited, and out of quota.
	e.sim.SetRateLimited(1, time.Second)
	_, err = e.svc.Rewrite(e.ctx, e.a.admin, conv, "Olá", assist.StyleShorter, "")
	if pe := provErr(err); pe.Status != 429 || pe.Code == "insufficient_quota" {
		t.Errorf("429: %+v", pe)
	}
	e.sim.SetQuotaExceeded(true)
	_, err = e.svc.Suggest(e.ctx, e.a.admin, conv)
	if pe := provErr(err); pe.Status != 429 || pe.Code != "insufficient_quota" {
		t.Errorf("quota: %+v", pe)
	}
	e.sim.SetQuotaExceeded(false)
	// Too slow: the assist gives up at its timeout.
	e.sim.SetDelay(5 * time.Second)
	start := time.Now()
	_, err = e.svc.Rewrite(e.ctx, e.a.admin, conv, "Olá", assist.StyleShorter, "")
	if pe := provErr(err); !pe.Timeout {
		t.Errorf("timeout: %+v", pe)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("gave up after %s", d)
	}
	e.sim.SetDelay(0)

	// The budget spent: nothing more is asked.
	if err := e.ai.Save(e.ctx, e.a.admin, provider.Input{BaseURL: e.sim.URL(), ChatModel: "gpt-4o-mini",
		EmbeddingModel: "text-embedding-3-small", EmbeddingDimensions: 1536, MonthlyBudget: 1}); err != nil {
		t.Fatal(err)
	}
	if err := e.ai.RecordUsage(e.ctx, e.a.admin.OrgID, model.AIUsage{Kind: model.AIUsageChat, Model: "gpt-4o", Cost: 1.5}); err != nil {
		t.Fatal(err)
	}
	before := len(e.sim.Requests())
	if _, err := e.svc.Summarize(e.ctx, e.a.admin, conv, "en"); !errors.Is(err, assist.ErrOverBudget) {
		t.Errorf("over budget: %v", err)
	}
	if n := len(e.sim.Requests()); n != before {
		t.Errorf("%d requests over budget", n-before)
	}
}

func TestAssistBullets(t *testing.T) {
	if got := assist.Bullets("Resumo:\n- um\n  * dois\n• três\n1) quatro\n\n"); !slices.Equal(got, []string{"Resumo:", "um", "dois", "três", "quatro"}) {
		t.Errorf("bullets %q", got)
	}
}
