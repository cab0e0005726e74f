package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"masteria/app/ai/provider"
	"masteria/app/model"
	"masteria/app/web/webtest"
)

// The bot's routes in the inbox: the strip shows who has the conversation and why; take
// over and give back work for those who may open it, and refuse forged posts, foreign ids
// and personas of another org.
func TestInboxBotRoutes(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	ctx := context.Background()
	org := o.orgID()
	pid, err := o.inst.App.Store.CreatePersona(ctx, org, model.Persona{Name: "Ana", Tone: "friendly", Language: "pt-BR",
		NothingFound: model.NothingFoundSay, MaxTurns: 5, Temperature: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	r := o.receive("+5511955550101", "Rita", "Quero falar com um atendente")
	conv := fmt.Sprintf("%s/inbox/%d", o.home, r.ConversationID)
	// A conversation handed over by the bot shows the reason and summary.
	if _, err := o.inst.App.Store.DB().Exec(`UPDATE conversations SET owner = 'waiting',
		handover_reason = 'keyword: atendente', handover_summary = 'Quer um atendente.' WHERE id = $1`, r.ConversationID); err != nil {
		t.Fatal(err)
	}
	res := o.owner.Get(conv)
	for _, want := range []string{`data-testid="inbox-waiting"`, "The customer asked for a person (“atendente”).", "Quer um atendente.", `data-testid="inbox-take-over"`} {
		if !strings.Contains(res.Body, want) && !strings.Contains(webtest.Text(res.Body), want) {
			t.Fatalf("page lacks %q: %s", want, webtest.Text(res.Body))
		}
	}
	if res := o.owner.Get(o.home + "/inbox?view=waiting"); !strings.Contains(res.Body, fmt.Sprintf(`data-conversation-id="%d"`, r.ConversationID)) {
		t.Fatalf("the waiting view lacks the conversation: %s", webtest.Text(res.Body))
	}

	// Forged (no CSRF) and foreign posts change nothing.
	if res := o.owner.PostRaw(conv+"/take-over", url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("take over without CSRF: %d", res.StatusCode)
	}
	other := newInboxOrg(t)
	if res := other.owner.Post(fmt.Sprintf("%s/inbox/%d/take-over", other.home, r.ConversationID), nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another org takes over: %d", res.StatusCode)
	}
	if c, _ := o.inst.App.Inbox.Conversation(ctx, org, r.ConversationID); c.Owner != model.OwnerWaiting {
		t.Fatalf("refused posts changed the owner to %s", c.Owner)
	}

	agent, agentID := o.member(model.RoleAgent)
	if res := agent.Post(conv+"/take-over", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("take over: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	c, _ := o.inst.App.Inbox.Conversation(ctx, org, r.ConversationID)
	if c.Owner != model.OwnerHuman || !c.BotStopped || c.AssigneeID == nil || *c.AssigneeID != agentID {
		t.Fatalf("after take over: %+v", c)
	}

	// Giving it back needs a persona of this org.
	stranger, err := o.inst.App.Store.CreateOrg(ctx, "Outra Padaria")
	if err != nil {
		t.Fatal(err)
	}
	otherPersona, _ := o.inst.App.Store.CreatePersona(ctx, stranger.ID, model.Persona{Name: "Zé", Tone: "friendly",
		Language: "pt-BR", NothingFound: "say", MaxTurns: 5})
	for name, form := range map[string]url.Values{
		"no persona anywhere": {},
		"not a number":        {"persona_id": {"abc"}},
		"negative":            {"persona_id": {"-1"}},
		"another org's":       {"persona_id": {fmt.Sprint(otherPersona)}},
	} {
		if res := agent.Post(conv+"/bot", form); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%s: %d %s", name, res.StatusCode, webtest.Text(res.Body))
		}
	}
	if res := agent.Post(conv+"/bot", url.Values{"persona_id": {"1\x00"}}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("NUL byte: %d", res.StatusCode)
	}
	if res := agent.Post(conv+"/bot", url.Values{"persona_id": {fmt.Sprint(pid)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("give to bot: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	c, _ = o.inst.App.Inbox.Conversation(ctx, org, r.ConversationID)
	if c.Owner != model.OwnerBot || c.BotStopped || c.PersonaID == nil || *c.PersonaID != pid {
		t.Fatalf("after give to bot: %+v", c)
	}
	res = o.owner.Get(conv)
	if !strings.Contains(webtest.Text(res.Body), "Ana (bot) is answering this conversation.") {
		t.Fatalf("the strip does not say the bot answers: %s", webtest.Text(res.Body))
	}
	if res := o.owner.Get(conv + "/botbar"); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `data-testid="inbox-bot-answering"`) {
		t.Fatalf("botbar: %d", res.StatusCode)
	}
	// An agent's reply takes it back from the bot.
	if res := agent.Post(conv+"/messages", url.Values{"body": {"Oi Rita, aqui é a Carla"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if c, _ := o.inst.App.Inbox.Conversation(ctx, org, r.ConversationID); c.Owner != model.OwnerHuman || !c.BotStopped {
		t.Fatalf("after an agent's reply: %s stopped %v", c.Owner, c.BotStopped)
	}

	// A spent AI budget is shown to the owner in the inbox, not to agents.
	if err := o.inst.App.AI.Save(ctx, model.Actor{OrgID: org, Role: model.RoleOwner}, provider.Input{BaseURL: "http://127.0.0.1:9/v1",
		Key: "sk-x", ChatModel: "gpt-4o-mini", EmbeddingModel: "text-embedding-3-small", MonthlyBudget: 1}); err != nil {
		t.Fatal(err)
	}
	if res := o.owner.Get(o.home + "/inbox"); strings.Contains(res.Body, `data-testid="inbox-budget-spent"`) {
		t.Fatal("a budget not spent shows as spent")
	}
	if err := o.inst.App.AI.RecordUsage(ctx, org, model.AIUsage{Kind: model.AIUsageChat, Model: "gpt-4o-mini", Cost: 1.5}); err != nil {
		t.Fatal(err)
	}
	if res := o.owner.Get(o.home + "/inbox"); !strings.Contains(res.Body, `data-testid="inbox-budget-spent"`) {
		t.Fatal("the owner is not told the budget is spent")
	}
	if res := agent.Get(o.home + "/inbox"); strings.Contains(res.Body, `data-testid="inbox-budget-spent"`) {
		t.Fatal("an agent is told of the budget")
	}
}

// PUT /api/v1/conversations/{id}/bot turns the bot on and off; bad bodies and foreign ids
// are refused.
func TestAPIConversationBot(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	ctx := context.Background()
	key, err := o.inst.App.Account.CreateAPIKeyForOrgName(ctx, o.name, "ERP")
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := o.inst.App.Store.CreatePersona(ctx, o.orgID(), model.Persona{Name: "Ana", Tone: "friendly", Language: "pt-BR",
		NothingFound: "say", MaxTurns: 5})
	r := o.receive("+5511955550102", "Rita", "Oi")
	path := fmt.Sprintf("/api/v1/conversations/%d/bot", r.ConversationID)
	res := apiCall(t, o.owner, key, "PUT", path, fmt.Sprintf(`{"on":true,"persona_id":%d}`, pid))
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `"owner":"bot"`) || !strings.Contains(res.Body, fmt.Sprintf(`"persona_id":%d`, pid)) {
		t.Fatalf("on: %d %s", res.StatusCode, res.Body)
	}
	res = apiCall(t, o.owner, key, "PUT", path, `{"on":false}`)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `"owner":"human"`) || !strings.Contains(res.Body, `"bot_stopped":true`) {
		t.Fatalf("off: %d %s", res.StatusCode, res.Body)
	}
	for name, tc := range map[string]struct {
		path, body, code string
	}{
		"no on":           {path, `{"persona_id":1}`, "bad_request"},
		"not JSON":        {path, `on=true`, "bad_request"},
		"oversized":       {path, `{"on":true,"x":"` + strings.Repeat("a", 5000) + `"}`, "bad_request"},
		"zero persona":    {path, `{"on":true,"persona_id":0}`, "invalid"},
		"foreign persona": {path, `{"on":true,"persona_id":999999}`, "invalid"},
		"foreign conv":    {"/api/v1/conversations/999999/bot", `{"on":true}`, "not_found"},
		"bad id":          {"/api/v1/conversations/abc/bot", `{"on":true}`, "not_found"},
	} {
		if res := apiCall(t, o.owner, key, "PUT", tc.path, tc.body); apiCode(t, res) != tc.code {
			t.Fatalf("%s: %d %s", name, res.StatusCode, res.Body)
		}
	}
}
