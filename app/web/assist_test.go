package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"masteria/app/ai/provider"
	"masteria/app/config"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/sim/openaisim"
	"masteria/app/store/storetest"
	"masteria/app/web/webtest"
	"masteria/static"
)

const assistKey = "sk-web-assist-0123456789"

// assistOrg is an inbox org whose AI provider is the OpenAI simulator, once connected.
type assistOrg struct {
	*inboxOrg
	sim   *openaisim.Server
	orgID int64
}

func newAssistOrg(t *testing.T, edit func(*config.Config)) *assistOrg {
	t.Helper()
	sim := openaisim.New(openaisim.WithAPIKey(assistKey))
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	inst := webtest.StartOn(t, storetest.URL(t), edit)
	o := &inboxOrg{t: t, inst: inst, owner: webtest.NewClient(t, inst.URL), name: "Padaria Pão Quente"}
	o.home = o.owner.Signup(o.name, "Paula", uniqueEmail("paula"), strongPassword)
	if res := o.owner.Post(o.home+"/settings/channels", url.Values{"kind": {model.KindSandbox}, "name": {"Atendimento"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create channel: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	a := &assistOrg{inboxOrg: o, sim: sim}
	_, _ = fmt.Sscanf(o.home, "/o/%d", &a.orgID)
	chs, err := inst.App.Inbox.Channels(context.Background(), a.orgID)
	if err != nil || len(chs) != 1 {
		t.Fatalf("channels: %v %d", err, len(chs))
	}
	o.ch = chs[0]
	return a
}

func (o *assistOrg) admin() model.Actor { return model.Actor{OrgID: o.orgID, Role: model.RoleOwner} }

// connect saves the simulator as the org's AI provider (lexical search only: no embedding
// model), with a monthly budget (0: none).
func (o *assistOrg) connect(budget float64) {
	o.t.Helper()
	if err := o.inst.App.AI.Save(context.Background(), o.admin(), provider.Input{BaseURL: o.sim.URL(), Key: assistKey,
		ChatModel: "gpt-4o-mini", EmbeddingModel: "text-embedding-3-small", EmbeddingDimensions: 512, MonthlyBudget: budget}); err != nil {
		o.t.Fatal(err)
	}
}

// knowledge adds a knowledge base with two documents and waits for them to be indexed.
func (o *assistOrg) knowledge() {
	o.t.Helper()
	ctx := context.Background()
	b, err := o.inst.App.Knowledge.CreateBase(ctx, o.admin(), "Padaria", "")
	if err != nil {
		o.t.Fatal(err)
	}
	for title, text := range map[string]string{
		"Entregas": "# Entregas\n\nEntregamos bolos em toda a cidade de terça a domingo, inclusive aos sábados. A taxa de entrega é de 8 reais.",
		"Horário":  "# Horário\n\nAbrimos às 7 horas e fechamos às 19 horas.",
	} {
		if _, err := o.inst.App.Knowledge.AddText(ctx, o.admin(), b.ID, title, text); err != nil {
			o.t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		docs, err := o.inst.App.Knowledge.Documents(ctx, o.orgID, b.ID)
		if err != nil {
			o.t.Fatal(err)
		}
		ready := 0
		for _, d := range docs {
			if d.Status == model.DocReady {
				ready++
			}
		}
		if ready == len(docs) {
			return
		}
		if time.Now().After(deadline) {
			o.t.Fatalf("documents not indexed: %+v", docs)
		}
	}
}

// assist posts to one of the assist's endpoints as the composer does: with htmx, the draft
// in body, the CSRF token in its header.
func assist(c *webtest.Client, home string, conv int64, action string, form url.Values, htmx bool) *webtest.Response {
	c.T.Helper()
	path := fmt.Sprintf("%s/inbox/%d/assist/%s", home, conv, action)
	form = cloneValues(form)
	if !htmx {
		return c.Post(path, form)
	}
	return c.PostRaw(path, form, "HX-Request", "true", "X-CSRF-Token", c.CSRF())
}

// cloneValues copies a form, so a post's CSRF field stays out of the caller's.
func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// chats are the chat requests the simulator received.
func (o *assistOrg) chats() []openaisim.Request {
	var out []openaisim.Request
	for _, r := range o.sim.Requests() {
		if r.Path == "/v1/chat/completions" {
			out = append(out, r)
		}
	}
	return out
}

func TestAssistComposer(t *testing.T) {
	t.Parallel()
	o := newAssistOrg(t, nil)
	o.connect(0)
	o.knowledge()
	r := o.receive("+5511987650001", "Marina Lopes", "Vocês entregam no sábado? Qual a taxa de entrega?")
	conv := r.ConversationID

	page := o.owner.Get(fmt.Sprintf("%s/inbox/%d", o.home, conv))
	for _, id := range []string{"assist-toggle", "assist-suggest", "assist-summarize", "assist-shorter", "assist-friendlier", "assist-grammar",
		"assist-translate-en", "assist-translate-pt", "assist-translate-es", "assist-panel", "assist-loading"} {
		if !strings.Contains(page.Body, `data-testid="`+id+`"`) {
			t.Errorf("the composer has no %s", id)
		}
	}
	if !strings.Contains(page.Body, static.Path("js/assist.js")) {
		t.Error("the inbox page does not load assist.js")
	}

	// Suggest: the passages go to the model, the reply comes back without their numbers,
	// with its sources and the draft it replaces.
	o.sim.Reply("Entregamos aos sábados, e a taxa é de 8 reais [1].")
	res := assist(o.owner, o.home, conv, "suggest", url.Values{"body": {"meu rascunho"}}, true)
	if res.StatusCode != http.StatusOK || strings.Contains(res.Body, "<html") {
		t.Fatalf("suggest: %d %s", res.StatusCode, res.Body)
	}
	if !strings.Contains(res.Body, "<template data-assist-fill>Entregamos aos sábados, e a taxa é de 8 reais.</template>") {
		t.Errorf("the suggestion does not fill the box: %s", res.Body)
	}
	if !strings.Contains(res.Body, `data-testid="assist-source"`) || !strings.Contains(res.Body, "Entregas") || !strings.Contains(res.Body, "meu rascunho") {
		t.Errorf("no sources or earlier text: %s", webtest.Text(res.Body))
	}
	chats := o.chats()
	if len(chats) != 1 || !strings.Contains(chats[0].System(), "A taxa de entrega é de 8 reais.") ||
		chats[0].LastUser() != "Vocês entregam no sábado? Qual a taxa de entrega?" {
		t.Fatalf("the model received %d requests: %+v", len(chats), chats)
	}
	if strings.Contains(chats[0].Prompt(), "meu rascunho") {
		t.Error("the draft went with a suggestion")
	}

	// Summary, in the reader's language.
	o.sim.Reply("- Quer saber se entregamos no sábado\n- Nada foi prometido\n- Em aberto: a taxa")
	res = assist(o.owner, o.home, conv, "summary", nil, true)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "<li>Quer saber se entregamos no sábado</li>") ||
		!strings.Contains(res.Body, "From the last message.") {
		t.Fatalf("summary: %d %s", res.StatusCode, res.Body)
	}
	if sys := o.chats()[1].System(); !strings.Contains(sys, "in English") {
		t.Errorf("summary language:\n%s", sys)
	}
	o.owner.Post("/locale", url.Values{"locale": {"pt-BR"}})
	o.sim.Reply("- Quer saber da entrega")
	res = assist(o.owner, o.home, conv, "summary", nil, true)
	if !strings.Contains(res.Body, "Resumo") || !strings.Contains(res.Body, "Com base na última mensagem.") ||
		!strings.Contains(o.chats()[2].System(), "Brazilian Portuguese") {
		t.Errorf("a Portuguese reader: %s", webtest.Text(res.Body))
	}
	o.owner.Post("/locale", url.Values{"locale": {"en"}})

	// Rewrite: the draft goes alone; translate says into what.
	o.sim.Reply("Olá! Seu pedido sai amanhã às 10h.")
	res = assist(o.owner, o.home, conv, "rewrite", url.Values{"body": {"ola seu pedido sai amanha as 10h"}, "style": {"friendlier"}}, true)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "<template data-assist-fill>Olá! Seu pedido sai amanhã às 10h.</template>") {
		t.Fatalf("rewrite: %d %s", res.StatusCode, res.Body)
	}
	rw := o.chats()[3]
	if rw.LastUser() != "ola seu pedido sai amanha as 10h" || !strings.Contains(rw.System(), "friendlier") || strings.Contains(rw.Prompt(), "Marina") {
		t.Errorf("rewrite request:\n%s", rw.Prompt())
	}
	o.sim.Reply("Hola, su pedido sale mañana.")
	res = assist(o.owner, o.home, conv, "rewrite", url.Values{"body": {"Olá, seu pedido sai amanhã."}, "style": {"translate-es"}}, true)
	if res.StatusCode != http.StatusOK || !strings.Contains(o.chats()[4].System(), "Translate it into Spanish") {
		t.Errorf("translate: %d %s", res.StatusCode, res.Body)
	}
	// What the model writes is text, never markup.
	o.sim.Reply(`<img src=x onerror=alert(1)> & "aspas"`)
	res = assist(o.owner, o.home, conv, "rewrite", url.Values{"body": {"oi"}, "style": {"shorter"}}, true)
	if strings.Contains(res.Body, "<img") || !strings.Contains(res.Body, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Errorf("unescaped model text: %s", res.Body)
	}

	// Without JavaScript the page comes back whole, the suggestion in the message box.
	o.sim.Reply("Sim, entregamos aos sábados [1].")
	res = assist(o.owner, o.home, conv, "suggest", url.Values{"body": {"rascunho"}}, false)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "<html") ||
		!strings.Contains(res.Body, ">Sim, entregamos aos sábados.</textarea>") || !strings.Contains(res.Body, `data-testid="assist-result"`) {
		t.Fatalf("page suggest: %d %s", res.StatusCode, webtest.Text(res.Body))
	}

	// An agent may use it on an unassigned conversation.
	agent, _ := o.member(model.RoleAgent)
	o.sim.Reply("Claro!")
	if res := assist(agent, o.home, conv, "rewrite", url.Values{"body": {"claro"}, "style": {"grammar"}}, true); res.StatusCode != http.StatusOK {
		t.Errorf("agent: %d %s", res.StatusCode, res.Body)
	}
}

func TestAssistBadInput(t *testing.T) {
	t.Parallel()
	o := newAssistOrg(t, nil)
	o.connect(0)
	o.knowledge()
	conv := o.receive("+5511987650002", "Marina Lopes", "Qual a taxa de entrega?").ConversationID

	// Another org on the same server, with its own conversation.
	other := webtest.NewClient(t, o.inst.URL)
	otherHome := other.Signup("Clínica Sorriso", "Clara", uniqueEmail("clara"), strongPassword)
	var otherOrg int64
	_, _ = fmt.Sscanf(otherHome, "/o/%d", &otherOrg)
	ch, err := o.inst.App.Inbox.CreateChannel(context.Background(), model.Actor{OrgID: otherOrg, Role: model.RoleOwner}, model.KindSandbox, "Recepção", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	otherConv, err := o.inst.App.Inbox.Receive(context.Background(), ch, inbox.Inbound{From: "+5511987650004", Name: "Beto",
		Body: "Quanto custa a consulta?", ProviderID: "in.other.1"})
	if err != nil {
		t.Fatal(err)
	}

	before := len(o.sim.Requests())
	draft := url.Values{"body": {"Olá, tudo bem?"}, "style": {"shorter"}}
	for _, action := range []string{"summary", "suggest", "rewrite"} {
		// Another org's conversation under this org: not found, htmx or not.
		for _, htmx := range []bool{true, false} {
			if res := assist(o.owner, o.home, otherConv.ConversationID, action, draft, htmx); res.StatusCode != http.StatusNotFound {
				t.Errorf("%s of another org's conversation (htmx %v): %d", action, htmx, res.StatusCode)
			}
		}
		// This conversation under the other org's path: not a member there.
		if res := assist(o.owner, otherHome, conv, action, draft, true); res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden {
			t.Errorf("%s under another org: %d", action, res.StatusCode)
		}
		// No CSRF token.
		if res := o.owner.PostRaw(fmt.Sprintf("%s/inbox/%d/assist/%s", o.home, conv, action), draft, "HX-Request", "true"); res.StatusCode != http.StatusForbidden {
			t.Errorf("%s without CSRF: %d", action, res.StatusCode)
		}
		// NUL bytes and invalid UTF-8.
		for name, bad := range map[string]string{"nul": "a\x00b", "utf8": "ol\xe1 \xff"} {
			if res := assist(o.owner, o.home, conv, action, url.Values{"body": {bad}, "style": {"shorter"}}, true); res.StatusCode != http.StatusBadRequest {
				t.Errorf("%s with %s: %d", action, name, res.StatusCode)
			}
		}
		// A body over the 2 MB limit.
		if res := assist(o.owner, o.home, conv, action, url.Values{"body": {strings.Repeat("a", 2<<20+1)}}, true); res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s oversized: %d", action, res.StatusCode)
		}
		// Not an id.
		if res := o.owner.PostRaw(o.home+"/inbox/abc/assist/"+action, url.Values{}, "HX-Request", "true", "X-CSRF-Token", o.owner.CSRF()); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s of a non-id: %d", action, res.StatusCode)
		}
	}
	// A draft to rewrite: empty, too long, an unknown style or language. Each explains itself
	// in the panel and asks nothing.
	for name, c := range map[string]struct {
		form url.Values
		says string
	}{
		"empty":    {url.Values{"body": {"  \n "}, "style": {"shorter"}}, "Write something in the message box first."},
		"too long": {url.Values{"body": {strings.Repeat("é", 4097)}, "style": {"shorter"}}, "The text is too long to rewrite"},
		"style":    {url.Values{"body": {"Olá"}, "style": {"pirate"}}, "Choose how to rewrite the text."},
		"no style": {url.Values{"body": {"Olá"}}, "Choose how to rewrite the text."},
		"language": {url.Values{"body": {"Olá"}, "style": {"translate-fr"}}, "Choose a language"},
	} {
		res := assist(o.owner, o.home, conv, "rewrite", c.form, true)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `data-testid="assist-error"`) ||
			!strings.Contains(res.Body, c.says) || strings.Contains(res.Body, "data-assist-fill") {
			t.Errorf("%s: %d %s", name, res.StatusCode, webtest.Text(res.Body))
		}
	}
	// Without JavaScript a refused rewrite keeps the draft in the box.
	long := strings.Repeat("é", 4097)
	res := assist(o.owner, o.home, conv, "rewrite", url.Values{"body": {long}, "style": {"shorter"}}, false)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, long+"</textarea>") {
		t.Errorf("page refusal lost the draft: %d", res.StatusCode)
	}
	if n := len(o.sim.Requests()); n != before {
		t.Errorf("bad input reached the model %d times", n-before)
	}

	// Agents see their own and unassigned conversations: another agent's is not found.
	agent, _ := o.member(model.RoleAgent)
	_, otherAgent := o.member(model.RoleAgent)
	if err := o.inst.App.Inbox.Assign(context.Background(), o.admin(), conv, otherAgent); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"summary", "suggest", "rewrite"} {
		if res := assist(agent, o.home, conv, action, draft, true); res.StatusCode != http.StatusNotFound {
			t.Errorf("agent, %s of another agent's conversation: %d", action, res.StatusCode)
		}
	}
	if n := len(o.sim.Requests()); n != before {
		t.Errorf("refused requests reached the model %d times", n-before)
	}
}

func TestAssistProviderFailures(t *testing.T) {
	t.Parallel()
	o := newAssistOrg(t, func(c *config.Config) { c.AITimeout = 500 * time.Millisecond })
	conv := o.receive("+5511987650005", "Marina Lopes", "Qual a taxa de entrega?").ConversationID
	agent, _ := o.member(model.RoleAgent)
	key, err := o.inst.App.Account.CreateAPIKeyForOrgName(context.Background(), o.name, "assist")
	if err != nil {
		t.Fatal(err)
	}
	api := func(path, body string) *webtest.Response {
		req, _ := http.NewRequest(http.MethodPost, o.inst.URL+"/api/v1"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		return o.owner.Do(req)
	}
	apiPath := fmt.Sprintf("/conversations/%d/assist/", conv)
	draft := url.Values{"body": {"meu texto"}, "style": {"shorter"}}
	refused := func(who *webtest.Client, action, says string, link bool) {
		t.Helper()
		res := assist(who, o.home, conv, action, draft, true)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, says) || strings.Contains(res.Body, "data-assist-fill") {
			t.Errorf("%s: %d, want %q: %s", action, res.StatusCode, says, webtest.Text(res.Body))
		}
		if got := strings.Contains(res.Body, `data-testid="assist-settings-link"`); got != link {
			t.Errorf("%s: settings link %v, want %v", action, got, link)
		}
	}

	// No provider yet: managers get a link to Settings → AI, agents the words only.
	for _, action := range []string{"summary", "suggest", "rewrite"} {
		refused(o.owner, action, "No AI provider is connected yet.", true)
		refused(agent, action, "No AI provider is connected yet.", false)
	}
	if res := api(apiPath+"suggest", ""); res.StatusCode != http.StatusConflict || !strings.Contains(res.Body, `"ai_not_configured"`) {
		t.Errorf("API without provider: %d %s", res.StatusCode, res.Body)
	}

	o.connect(0)
	o.knowledge()
	// A refused key.
	o.sim.SetAPIKeys("sk-another")
	refused(o.owner, "rewrite", "The AI provider refused the key.", true)
	if res := api(apiPath+"summary", `{}`); res.StatusCode != http.StatusBadGateway || !strings.Contains(res.Body, `"ai_provider_error"`) {
		t.Errorf("API 401: %d %s", res.StatusCode, res.Body)
	}
	o.sim.SetAPIKeys(assistKey)
	// Rate limited, then out of credit.
	o.sim.SetRateLimited(2, time.Second)
	refused(o.owner, "summary", "The AI provider is busy right now.", false)
	if res := api(apiPath+"rewrite", `{"text":"oi","style":"shorter"}`); res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(res.Body, `"ai_rate_limited"`) {
		t.Errorf("API 429: %d %s", res.StatusCode, res.Body)
	}
	o.sim.SetQuotaExceeded(true)
	refused(agent, "suggest", "The AI provider account has no credit left.", false)
	o.sim.SetQuotaExceeded(false)
	// Too slow.
	o.sim.SetDelay(5 * time.Second)
	start := time.Now()
	refused(o.owner, "suggest", "The AI took too long to answer.", false)
	if res := api(apiPath+"rewrite", `{"text":"oi","style":"grammar"}`); res.StatusCode != http.StatusGatewayTimeout || !strings.Contains(res.Body, `"ai_timeout"`) {
		t.Errorf("API timeout: %d %s", res.StatusCode, res.Body)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("the timeouts took %s", d)
	}
	o.sim.SetDelay(0)
	// Without JavaScript a failure keeps the draft in the box.
	o.sim.SetAPIKeys("sk-another")
	res := assist(o.owner, o.home, conv, "rewrite", url.Values{"body": {"meu texto de antes"}, "style": {"shorter"}}, false)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, ">meu texto de antes</textarea>") ||
		!strings.Contains(res.Body, "The AI provider refused the key.") {
		t.Errorf("page failure: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	o.sim.SetAPIKeys(assistKey)

	// The month's budget spent: nothing more is asked.
	o.connect(1)
	if err := o.inst.App.AI.RecordUsage(context.Background(), o.orgID, model.AIUsage{Kind: model.AIUsageChat, Model: "gpt-4o", Cost: 2}); err != nil {
		t.Fatal(err)
	}
	before := len(o.sim.Requests())
	refused(o.owner, "suggest", "AI budget is spent.", true)
	if res := api(apiPath+"summary", ""); res.StatusCode != http.StatusConflict || !strings.Contains(res.Body, `"ai_budget_spent"`) {
		t.Errorf("API budget: %d %s", res.StatusCode, res.Body)
	}
	if n := len(o.sim.Requests()); n != before {
		t.Errorf("%d requests over budget", n-before)
	}

	// API bad input.
	for name, c := range map[string]struct {
		path, body string
		status     int
	}{
		"foreign":   {"/conversations/999999/assist/summary", "", http.StatusNotFound},
		"not an id": {"/conversations/x/assist/summary", "", http.StatusNotFound},
		"bad json":  {apiPath + "rewrite", `{"text":`, http.StatusBadRequest},
		"nul":       {apiPath + "rewrite", `{"text":"a\u0000b","style":"shorter"}`, http.StatusBadRequest},
		"empty":     {apiPath + "rewrite", `{"text":"","style":"shorter"}`, http.StatusUnprocessableEntity},
		"style":     {apiPath + "rewrite", `{"text":"oi","style":"pirate"}`, http.StatusUnprocessableEntity},
		"huge":      {apiPath + "rewrite", `{"text":"` + strings.Repeat("a", 2<<20) + `"}`, http.StatusRequestEntityTooLarge},
	} {
		if res := api(c.path, c.body); res.StatusCode != c.status {
			t.Errorf("API %s: %d, want %d: %.200s", name, res.StatusCode, c.status, res.Body)
		}
	}
}
