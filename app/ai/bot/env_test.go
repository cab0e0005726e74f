package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"masteria/app/ai/provider"
	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/metasim"
	"masteria/app/sim/openaisim"
	"masteria/app/store"
	"masteria/app/store/storetest"
	"masteria/app/web/webtest"
)

// env is a running Master IA (web server, job workers, the bot) whose Cloud API channel
// talks to the Meta simulator and whose AI provider is the OpenAI-compatible simulator,
// both over real HTTP.
type env struct {
	ctx     context.Context
	inst    *webtest.Instance
	st      *store.Store
	ms      *metasim.Server
	ai      *openaisim.Server
	a       model.Actor // the org's owner
	ch      model.Channel
	kbID    int64
	persona model.Persona
}

const (
	pnid   = "777"
	waba   = "888"
	simKey = "sk-bot-test"
)

// bakery is the demo knowledge base the bot answers from.
const bakery = `# Horário
A padaria abre de segunda a sábado, das 7h às 20h. Aos domingos abrimos das 7h às 13h.

# Entregas
Fazemos entregas no bairro para pedidos acima de 50 reais, sem taxa de entrega.

# Encomendas
Bolos de aniversário devem ser encomendados com dois dias de antecedência, pelo WhatsApp.`

var waIDs atomic.Int64

func newEnv(t testing.TB, edit ...func(*model.Persona)) *env {
	t.Helper()
	return newEnvWith(t, nil, edit...)
}

// newEnvWith is newEnv with a change to the instance's configuration.
func newEnvWith(t testing.TB, cfg func(*config.Config), edit ...func(*model.Persona)) *env {
	t.Helper()
	ms := metasim.New(metasim.WithStatusDelays(0, 10*time.Millisecond, 10*time.Millisecond))
	graph, err := ms.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ms.Close)
	ai := openaisim.New(openaisim.WithAPIKey(simKey))
	if _, err := ai.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ai.Close)
	inst := webtest.StartOn(t, storetest.URL(t), func(c *config.Config) {
		c.MetaGraphURL = graph
		c.BotDebounce = 300 * time.Millisecond
		c.AITimeout = 2 * time.Second
		if cfg != nil {
			cfg(c)
		}
	})
	e := &env{ctx: context.Background(), inst: inst, st: inst.App.Store, ms: ms, ai: ai}
	org, err := e.st.CreateOrg(e.ctx, "Padaria Pão Quente")
	if err != nil {
		t.Fatal(err)
	}
	e.a = model.Actor{OrgID: org.ID, Role: model.RoleOwner}
	e.connectAI(t, e.a, 0)
	e.kbID = e.knowledge(t, e.a, "Padaria", bakery)
	ch, err := inst.App.Inbox.CreateChannel(e.ctx, e.a, model.KindWhatsAppCloud, "WhatsApp Padaria",
		map[string]string{"phone_number_id": pnid, "waba_id": waba},
		map[string]string{"app_secret": "meta-secret", "verify_token": "vt", "access_token": "EAAbot"})
	if err != nil {
		t.Fatal(err)
	}
	ms.AddNumber(metasim.Number{PhoneNumberID: pnid, WABAID: waba, DisplayNumber: "5511900000777", AccessToken: "EAAbot",
		AppSecret: "meta-secret", WebhookURL: fmt.Sprintf("%s/webhooks/whatsapp/%d", inst.URL, ch.ID)})
	p := model.Persona{Name: "Ana", Instructions: "Você é a Ana, atendente virtual da Padaria Pão Quente.",
		Tone: "friendly", Language: "pt-BR", Temperature: 0.2, NothingFound: model.NothingFoundSay, MaxTurns: 10,
		HandoverKeywords: model.Labels{"atendente", "humano"}, KnowledgeBases: model.IDs{e.kbID}}
	for _, f := range edit {
		f(&p)
	}
	if p.ID, err = e.st.CreatePersona(e.ctx, org.ID, p); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetChannelPersona(e.ctx, org.ID, ch.ID, &p.ID); err != nil {
		t.Fatal(err)
	}
	if e.ch, err = e.st.Channel(e.ctx, org.ID, ch.ID); err != nil {
		t.Fatal(err)
	}
	e.persona = p
	return e
}

// connectAI points an org at the AI simulator, with a monthly budget (0: none).
func (e *env) connectAI(t testing.TB, a model.Actor, budget float64) {
	t.Helper()
	if err := e.inst.App.AI.Save(e.ctx, a, provider.Input{BaseURL: e.ai.URL() + "/v1", Key: simKey,
		ChatModel: "gpt-4o-mini", EmbeddingModel: "text-embedding-3-small", EmbeddingDimensions: 1536,
		MonthlyBudget: budget}); err != nil {
		t.Fatal(err)
	}
}

// knowledge makes a knowledge base with one document and waits until it is indexed.
func (e *env) knowledge(t testing.TB, a model.Actor, name, text string) int64 {
	t.Helper()
	b, err := e.inst.App.Knowledge.CreateBase(e.ctx, a, name, "")
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.inst.App.Knowledge.AddText(e.ctx, a, b.ID, name, text)
	if err != nil {
		t.Fatal(err)
	}
	wait(t, 20*time.Second, "the document to be indexed", func() bool {
		got, err := e.st.Document(e.ctx, a.OrgID, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == model.DocFailed {
			t.Fatalf("indexing failed: %s", got.Error)
		}
		return got.Status == model.DocReady
	})
	return b.ID
}

// customer is a WhatsApp user writing to the bakery.
type customer struct {
	e *env
	s metasim.Sender
}

func (e *env) customer() customer {
	n := waIDs.Add(1)
	return customer{e: e, s: metasim.Sender{WaID: fmt.Sprintf("55119%08d", n), Name: fmt.Sprintf("Cliente %d", n)}}
}

// says sends a text to the bakery through the Meta simulator's signed webhook.
func (c customer) says(t testing.TB, text string) {
	t.Helper()
	if _, status, err := c.e.ms.InboundText(c.e.ctx, pnid, c.s, text); err != nil || status != 200 {
		t.Fatalf("inbound %q: %d %v", text, status, err)
	}
}

// got is what the bakery sent this customer through the simulator, oldest first.
func (c customer) got() []string {
	var out []string
	for _, m := range c.e.ms.Sent() {
		if m.WaID == c.s.WaID || m.To == c.s.WaID || m.To == "+"+c.s.WaID {
			out = append(out, m.Text)
		}
	}
	return out
}

// waitGot waits until the customer has received n messages and returns them.
func (c customer) waitGot(t testing.TB, n int) []string {
	t.Helper()
	wait(t, 15*time.Second, fmt.Sprintf("%d messages to %s", n, c.s.WaID), func() bool { return len(c.got()) >= n })
	return c.got()
}

// conv is the customer's conversation as stored.
func (c customer) conv(t testing.TB) model.Conversation {
	t.Helper()
	var id int64
	wait(t, 10*time.Second, "the conversation", func() bool {
		err := c.e.st.DB().GetContext(c.e.ctx, &id, `SELECT v.id FROM conversations v JOIN contacts k ON k.id = v.contact_id
			WHERE v.org_id = $1 AND k.phone = $2`, c.e.a.OrgID, "+"+c.s.WaID)
		return err == nil
	})
	conv, err := c.e.st.Conversation(c.e.ctx, c.e.a.OrgID, id)
	if err != nil {
		t.Fatal(err)
	}
	return conv
}

// waitOwner waits until the conversation has an owner.
func (c customer) waitOwner(t testing.TB, owner string) model.Conversation {
	t.Helper()
	var conv model.Conversation
	wait(t, 15*time.Second, "owner "+owner, func() bool {
		conv = c.conv(t)
		return conv.Owner == owner
	})
	return conv
}

// chats are the chat completions the AI simulator received.
func (e *env) chats() []openaisim.Request {
	var out []openaisim.Request
	for _, r := range e.ai.Requests() {
		if strings.HasSuffix(r.Path, "/chat/completions") {
			out = append(out, r)
		}
	}
	return out
}

// settle waits long enough for a debounced reply that should not come to have come.
func settle() { time.Sleep(1500 * time.Millisecond) }

func wait(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// aiReplies are the stored bot replies of a conversation.
func (e *env) aiReplies(t testing.TB, convID int64) []model.AIReply {
	t.Helper()
	var ids []int64
	if err := e.st.DB().SelectContext(e.ctx, &ids, `SELECT message_id FROM ai_replies WHERE org_id = $1 AND conversation_id = $2 ORDER BY message_id`,
		e.a.OrgID, convID); err != nil {
		t.Fatal(err)
	}
	m, err := e.st.AIRepliesOf(e.ctx, e.a.OrgID, ids)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]model.AIReply, 0, len(ids))
	for _, id := range ids {
		out = append(out, m[id])
	}
	return out
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
