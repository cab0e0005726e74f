package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"masteria/app/ai/provider"
	"masteria/app/model"
	"masteria/app/sim/openaisim"
	"masteria/app/web/webtest"
)

// personaOrg is an org with a sandbox channel and a knowledge base, as its owner sees it.
type personaOrg struct {
	t     *testing.T
	inst  *webtest.Instance
	owner *webtest.Client
	home  string
	name  string
	id    int64
	ch    model.Channel
	kb    model.KnowledgeBase
}

func newPersonaOrg(t *testing.T, inst *webtest.Instance, name string) *personaOrg {
	t.Helper()
	o := &personaOrg{t: t, inst: inst, owner: webtest.NewClient(t, inst.URL), name: fmt.Sprintf("%s %d", name, time.Now().UnixNano())}
	o.home = o.owner.Signup(o.name, "Paula", uniqueEmail("paula"), strongPassword)
	_, _ = fmt.Sscanf(o.home, "/o/%d", &o.id)
	if res := o.owner.Post(o.home+"/settings/channels", url.Values{"kind": {model.KindSandbox}, "name": {"WhatsApp " + name}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create channel: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	ctx := context.Background()
	chs, err := inst.App.Inbox.Channels(ctx, o.id)
	if err != nil || len(chs) != 1 {
		t.Fatalf("channels: %v %d", err, len(chs))
	}
	o.ch = chs[0]
	if o.kb, err = inst.App.Knowledge.CreateBase(ctx, model.Actor{OrgID: o.id, Role: model.RoleOwner}, "Cardápio "+name, ""); err != nil {
		t.Fatal(err)
	}
	return o
}

func (o *personaOrg) member(role model.Role) *webtest.Client {
	o.t.Helper()
	email := uniqueEmail(string(role))
	if _, err := o.inst.App.Account.CreateUserInOrg(context.Background(), o.name, string(role), email, strongPassword, role); err != nil {
		o.t.Fatal(err)
	}
	c := webtest.NewClient(o.t, o.inst.URL)
	c.Login(email, strongPassword)
	return c
}

func (o *personaOrg) personas() []model.Persona {
	o.t.Helper()
	ps, err := o.inst.App.Personas.Personas(context.Background(), o.id)
	if err != nil {
		o.t.Fatal(err)
	}
	return ps
}

func (o *personaOrg) channelPersona() *int64 {
	o.t.Helper()
	ch, err := o.inst.App.Inbox.Channel(context.Background(), o.id, o.ch.ID)
	if err != nil {
		o.t.Fatal(err)
	}
	return ch.PersonaID
}

// personaForm is a complete, valid form of the persona page.
func personaForm(kbID int64) url.Values {
	return url.Values{
		"name": {"Ana da Padaria"}, "instructions": {"Você é a Ana. Responda sobre pães, bolos e encomendas."},
		"tone": {"friendly"}, "language": {"pt-BR"}, "model": {""}, "temperature": {"0,4"},
		"knowledge_base_ids": {fmt.Sprint(kbID)}, "nothing_found": {"say"}, "max_turns": {"8"},
		"handover_keywords": {"atendente, Humano, humano, falar com alguém"}, "handover_message": {"Já chamo alguém!"},
		"hours_mon": {"8:00-12:00, 13h-18h"}, "hours_tue": {"08:00-18:00"}, "hours_sat": {"08:00-12:00"},
	}
}

func with(f url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range f {
		out[k] = slices.Clone(v)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// TestPersonaPages: an owner creates a persona with a knowledge base and business hours,
// edits it, puts it on a channel, and deletes it (told which channel loses its bot).
func TestPersonaPages(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	o := newPersonaOrg(t, inst, "Padaria")
	c := o.owner

	list := c.Get(o.home + "/personas")
	if list.StatusCode != http.StatusOK || !strings.Contains(list.Body, `data-testid="persona-empty"`) ||
		!strings.Contains(list.Body, `href="`+o.home+`/personas"`) || !strings.Contains(list.Body, "WhatsApp Padaria") {
		t.Fatalf("empty list: %d %s", list.StatusCode, webtest.Text(list.Body))
	}
	form := c.Get(o.home + "/personas/new")
	if form.StatusCode != http.StatusOK || !strings.Contains(form.Body, `data-testid="persona-kb-`+fmt.Sprint(o.kb.ID)+`"`) ||
		!strings.Contains(form.Body, "(org default)") || !strings.Contains(form.Body, `value="atendente, humano, pessoa"`) {
		t.Fatalf("new form: %d %s", form.StatusCode, webtest.Text(form.Body))
	}

	res := c.Post(o.home+"/personas", personaForm(o.kb.ID))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != o.home+"/personas" {
		t.Fatalf("create: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	ps := o.personas()
	if len(ps) != 1 {
		t.Fatalf("%d personas", len(ps))
	}
	p := ps[0]
	if p.Name != "Ana da Padaria" || p.Temperature != 0.4 || p.MaxTurns != 8 || !slices.Equal(p.KnowledgeBases, model.IDs{o.kb.ID}) ||
		!slices.Equal(p.HandoverKeywords, model.Labels{"atendente", "Humano", "falar com alguém"}) || p.HandoverMessage != "Já chamo alguém!" {
		t.Fatalf("created: %+v", p)
	}
	var hours map[string][][2]string
	_ = json.Unmarshal(p.BusinessHours, &hours)
	if len(hours) != 3 || hours["mon"][1] != [2]string{"13:00", "18:00"} || hours["sat"][0] != [2]string{"08:00", "12:00"} {
		t.Fatalf("hours: %s", p.BusinessHours)
	}
	page := c.Get(fmt.Sprintf("%s/personas/%d", o.home, p.ID))
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `value="08:00-12:00, 13:00-18:00"`) ||
		!strings.Contains(page.Body, `data-testid="persona-save"`) || strings.Contains(page.Body, "<fieldset class=\"fieldset stack-lg\" disabled") {
		t.Fatalf("edit page: %d %s", page.StatusCode, webtest.Text(page.Body))
	}

	// Refused: each field's error under it, what was typed kept, nothing saved.
	for name, tc := range map[string]struct {
		form  url.Values
		shows string
	}{
		"no name":          {with(personaForm(o.kb.ID), "name", " "), "Enter a name of up to 80 characters."},
		"temperature word": {with(personaForm(o.kb.ID), "temperature", "warm"), "Enter a number from 0 to 2."},
		"temperature 3":    {with(personaForm(o.kb.ID), "temperature", "3"), "Enter a number from 0 to 2."},
		"turns 0":          {with(personaForm(o.kb.ID), "max_turns", "0"), "Enter a whole number from 1 to 100."},
		"hours backwards":  {with(personaForm(o.kb.ID), "hours_wed", "18:00-08:00"), "start before it ends"},
		"hours words":      {with(personaForm(o.kb.ID), "hours_wed", "de manhã"), "Write the hours like 08:00-12:00"},
		"no day open":      {with(personaForm(o.kb.ID), "hours_mon", "", "hours_tue", "", "hours_sat", ""), "Give the hours of at least one day"},
		"tone":             {with(personaForm(o.kb.ID), "tone", "rude"), "Choose a tone."},
		"kb not a number":  {with(personaForm(o.kb.ID), "knowledge_base_ids", "x"), "Choose knowledge bases of this organization."},
	} {
		res := c.Post(fmt.Sprintf("%s/personas/%d", o.home, p.ID), with(tc.form, "instructions", "Texto novo "+name))
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(webtest.Text(res.Body), tc.shows) ||
			!strings.Contains(res.Body, "Texto novo "+name) {
			t.Errorf("%s: %d %s", name, res.StatusCode, webtest.Text(res.Body))
		}
	}
	if got := o.personas()[0]; got.Instructions != p.Instructions {
		t.Fatalf("a refused form changed the persona: %q", got.Instructions)
	}
	// "Always" ignores the days, even one badly written.
	res = c.Post(fmt.Sprintf("%s/personas/%d", o.home, p.ID), with(personaForm(o.kb.ID), "hours_always", "1", "hours_wed", "nunca", "tone", "concise"))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save always: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if got := o.personas()[0]; string(got.BusinessHours) != "{}" || got.Tone != "concise" {
		t.Fatalf("saved: %+v (hours %s)", got, got.BusinessHours)
	}

	// The bot of the channel: from the channels page and the personas page.
	chans := c.Get(o.home + "/settings/channels")
	botURL := fmt.Sprintf("%s/settings/channels/%d/bot", o.home, o.ch.ID)
	if !strings.Contains(chans.Body, `href="`+botURL+`"`) || !strings.Contains(chans.Body, "Bot: off") {
		t.Fatalf("channels page: %s", webtest.Text(chans.Body))
	}
	bot := c.Get(botURL)
	if bot.StatusCode != http.StatusOK || !strings.Contains(bot.Body, fmt.Sprintf(`data-testid="bot-persona-%d"`, p.ID)) ||
		!strings.Contains(bot.Body, `value="" checked`) {
		t.Fatalf("bot page: %d %s", bot.StatusCode, webtest.Text(bot.Body))
	}
	if res := c.Post(botURL, url.Values{"persona_id": {fmt.Sprint(p.ID)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bot on: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if got := o.channelPersona(); got == nil || *got != p.ID {
		t.Fatalf("channel persona: %v", got)
	}
	if chans := c.Get(o.home + "/settings/channels"); !strings.Contains(chans.Body, "Bot: on") {
		t.Errorf("channels page after: %s", webtest.Text(chans.Body))
	}
	if list := c.Get(o.home + "/personas"); !strings.Contains(list.Body, `data-testid="persona-row"`) ||
		!strings.Contains(webtest.Text(list.Body), "WhatsApp Padaria Ana da Padaria") {
		t.Errorf("list after: %s", webtest.Text(list.Body))
	}

	// Delete: the page names the channel and sends its confirmation; a page drawn before
	// the channel took the persona sends none, and is told.
	page = c.Get(fmt.Sprintf("%s/personas/%d", o.home, p.ID))
	if !strings.Contains(page.Body, "It answers on WhatsApp Padaria: they will have no bot.") || !strings.Contains(page.Body, `name="confirm" value="1"`) {
		t.Fatalf("delete button: %s", page.Body)
	}
	del := fmt.Sprintf("%s/personas/%d/delete", o.home, p.ID)
	res = c.Post(del, nil)
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.Body, `data-testid="persona-in-use"`) || !strings.Contains(webtest.Text(res.Body), "This persona answers on WhatsApp Padaria") {
		t.Fatalf("unconfirmed delete: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	if len(o.personas()) != 1 {
		t.Fatal("an unconfirmed delete removed the persona")
	}
	if res := c.Post(del, url.Values{"confirm": {"1"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	if len(o.personas()) != 0 || o.channelPersona() != nil {
		t.Fatalf("after delete: %v %v", o.personas(), o.channelPersona())
	}
	if res := c.Get(fmt.Sprintf("%s/personas/%d", o.home, p.ID)); res.StatusCode != http.StatusNotFound {
		t.Errorf("a deleted persona: %d", res.StatusCode)
	}
}

// TestPersonaModelsFromProvider: with a provider, the model select offers "(org default:
// its chat model)" and the endpoint's chat models, not its embedding models.
func TestPersonaModelsFromProvider(t *testing.T) {
	t.Parallel()
	sim := openaisim.New(openaisim.WithAPIKey(aiKey))
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	o := newPersonaOrg(t, webtest.Start(t), "Modelos")
	if page := o.owner.Get(o.home + "/personas/new"); !strings.Contains(page.Body, "No AI provider is set yet") {
		t.Errorf("no provider: %s", webtest.Text(page.Body))
	}
	if err := o.inst.App.AI.Save(context.Background(), model.Actor{OrgID: o.id, Role: model.RoleOwner}, provider.Input{
		BaseURL: sim.URL(), Key: aiKey, ChatModel: "gpt-4o-mini", EmbeddingModel: "text-embedding-3-small"}); err != nil {
		t.Fatal(err)
	}
	page := o.owner.Get(o.home + "/personas/new")
	if !strings.Contains(page.Body, "(org default: gpt-4o-mini)") || !strings.Contains(page.Body, `<option value="gpt-4.1-mini">`) ||
		strings.Contains(page.Body, `<option value="text-embedding-3-small">`) {
		t.Fatalf("models: %s", page.Body)
	}
	if res := o.owner.Post(o.home+"/personas", with(personaForm(o.kb.ID), "model", "gpt-4.1-mini")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create with a model: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	p := o.personas()[0]
	if p.Model != "gpt-4.1-mini" {
		t.Fatalf("model %q", p.Model)
	}
	// A provider that fails: the page still opens, says why, and keeps the saved model.
	sim.SetFailNext(http.StatusUnauthorized, 1)
	page = o.owner.Get(fmt.Sprintf("%s/personas/%d", o.home, p.ID))
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "Could not load the models") ||
		!strings.Contains(page.Body, `<option value="gpt-4.1-mini" selected>`) {
		t.Fatalf("failing provider: %d %s", page.StatusCode, page.Body)
	}
}

// TestPersonaRolesAndBadInput: agents read personas but change nothing; managers do all;
// no CSRF, oversized bodies, NUL bytes and invalid UTF-8 are refused with nothing saved.
func TestPersonaRolesAndBadInput(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	o := newPersonaOrg(t, inst, "Papéis")
	manager, agent := o.member(model.RoleManager), o.member(model.RoleAgent)
	if res := manager.Post(o.home+"/personas", personaForm(o.kb.ID)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("manager creates: %d %s", res.StatusCode, webtest.Text(res.Body))
	}
	p := o.personas()[0]
	edit := fmt.Sprintf("%s/personas/%d", o.home, p.ID)
	botURL := fmt.Sprintf("%s/settings/channels/%d/bot", o.home, o.ch.ID)
	if res := manager.Post(botURL, url.Values{"persona_id": {fmt.Sprint(p.ID)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("manager sets the bot: %d", res.StatusCode)
	}
	if list := manager.Get(o.home + "/personas"); !strings.Contains(list.Body, `href="`+botURL+`"`) {
		t.Error("the manager, who has no channels tab, is not offered the bot of the channel")
	}

	// The agent: reads the list and the persona, read-only; changes nothing.
	if list := agent.Get(o.home + "/personas"); list.StatusCode != http.StatusOK || !strings.Contains(list.Body, "Ana da Padaria") ||
		strings.Contains(list.Body, `data-testid="persona-new"`) || strings.Contains(list.Body, `data-testid="persona-bot-change"`) {
		t.Errorf("agent list: %d %s", list.StatusCode, webtest.Text(list.Body))
	}
	if page := agent.Get(edit); page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `<fieldset class="fieldset stack-lg" disabled>`) ||
		strings.Contains(page.Body, `data-testid="persona-save"`) || strings.Contains(page.Body, `data-testid="persona-delete"`) {
		t.Errorf("agent page: %d %s", page.StatusCode, page.Body)
	}
	for _, path := range []string{o.home + "/personas/new", botURL} {
		if res := agent.Get(path); res.StatusCode != http.StatusForbidden {
			t.Errorf("agent GET %s: %d", path, res.StatusCode)
		}
	}
	for path, form := range map[string]url.Values{
		o.home + "/personas": personaForm(o.kb.ID), edit: with(personaForm(o.kb.ID), "name", "Tomada"),
		edit + "/delete": {"confirm": {"1"}}, botURL: {"persona_id": {""}},
	} {
		if res := agent.Post(path, form); res.StatusCode != http.StatusForbidden {
			t.Errorf("agent POST %s: %d", path, res.StatusCode)
		}
	}

	// No CSRF token; oversized; hostile text.
	if res := o.owner.PostRaw(o.home+"/personas", personaForm(o.kb.ID)); res.StatusCode != http.StatusForbidden {
		t.Errorf("create without CSRF: %d", res.StatusCode)
	}
	if res := o.owner.PostRaw(edit+"/delete", url.Values{"confirm": {"1"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("delete without CSRF: %d", res.StatusCode)
	}
	if res := o.owner.PostRaw(botURL, url.Values{"persona_id": {""}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("bot without CSRF: %d", res.StatusCode)
	}
	if res := o.owner.Post(o.home+"/personas", with(personaForm(o.kb.ID), "instructions", strings.Repeat("a", 3<<20))); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 3 MB form: %d", res.StatusCode)
	}
	if res := o.owner.Post(o.home+"/personas", with(personaForm(o.kb.ID), "instructions", strings.Repeat("a", 8001))); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(webtest.Text(res.Body), "up to 8,000 characters") {
		t.Errorf("8,001 characters of instructions: %d", res.StatusCode)
	}
	for _, field := range []string{"name", "instructions", "handover_keywords", "handover_message", "hours_mon", "model"} {
		for _, bad := range []string{"a\x00b", "ol\xe1 \xff"} {
			if res := o.owner.Post(o.home+"/personas", with(personaForm(o.kb.ID), field, bad)); res.StatusCode != http.StatusBadRequest {
				t.Errorf("%s %q: %d", field, bad, res.StatusCode)
			}
		}
	}
	if res := o.owner.Post(botURL, url.Values{"persona_id": {"abc"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("bot with a persona id that is not a number: %d", res.StatusCode)
	}
	if ps := o.personas(); len(ps) != 1 || ps[0].Name != "Ana da Padaria" {
		t.Errorf("refused posts changed the personas: %+v", ps)
	}
	if got := o.channelPersona(); got == nil || *got != p.ID {
		t.Errorf("refused posts changed the channel's bot: %v", got)
	}
	// The manager takes the bot off and deletes the persona.
	if res := manager.Post(botURL, url.Values{"persona_id": {""}}); res.StatusCode != http.StatusSeeOther || o.channelPersona() != nil {
		t.Errorf("bot off: %d %v", res.StatusCode, o.channelPersona())
	}
	if res := manager.Post(edit+"/delete", nil); res.StatusCode != http.StatusSeeOther || len(o.personas()) != 0 {
		t.Errorf("manager deletes: %d", res.StatusCode)
	}
}

// TestPersonaTenancy: another org's persona, channel and knowledge base are not found,
// through the pages and the API, and nothing of theirs changes.
func TestPersonaTenancy(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	a := newPersonaOrg(t, inst, "A")
	b := newPersonaOrg(t, inst, "B")
	if res := a.owner.Post(a.home+"/personas", personaForm(a.kb.ID)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", res.StatusCode)
	}
	pa := a.personas()[0]
	if res := a.owner.Post(fmt.Sprintf("%s/settings/channels/%d/bot", a.home, a.ch.ID), url.Values{"persona_id": {fmt.Sprint(pa.ID)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bot: %d", res.StatusCode)
	}

	// B's owner, with A's ids under B's org.
	other := fmt.Sprintf("%s/personas/%d", b.home, pa.ID)
	aBot := fmt.Sprintf("%s/settings/channels/%d/bot", b.home, a.ch.ID)
	for _, p := range []string{other, aBot} {
		if res := b.owner.Get(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s from another org: %d", p, res.StatusCode)
		}
	}
	for p, f := range map[string]url.Values{other: personaForm(b.kb.ID), other + "/delete": {"confirm": {"1"}}, aBot: {"persona_id": {""}}} {
		if res := b.owner.Post(p, f); res.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s from another org: %d", p, res.StatusCode)
		}
	}
	// A's persona on B's own channel; A's knowledge base in B's persona.
	if res := b.owner.Post(fmt.Sprintf("%s/settings/channels/%d/bot", b.home, b.ch.ID), url.Values{"persona_id": {fmt.Sprint(pa.ID)}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("A's persona on B's channel: %d", res.StatusCode)
	}
	if res := b.owner.Post(b.home+"/personas", personaForm(a.kb.ID)); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(webtest.Text(res.Body), "Choose knowledge bases of this organization.") {
		t.Errorf("A's knowledge base in B's persona: %d", res.StatusCode)
	}
	if page := b.owner.Get(b.home + "/personas"); strings.Contains(page.Body, "Ana da Padaria") || strings.Contains(page.Body, "WhatsApp A") {
		t.Error("B's list shows A's persona or channel")
	}
	if page := b.owner.Get(b.home + "/personas/new"); strings.Contains(page.Body, "Cardápio A") {
		t.Error("B's form offers A's knowledge base")
	}

	// The API with B's key.
	key, err := inst.App.Account.CreateAPIKeyForOrgName(context.Background(), b.name, "b")
	if err != nil {
		t.Fatal(err)
	}
	api := webtest.NewClient(t, inst.URL)
	for _, tc := range []struct{ method, path, body string }{
		{"GET", fmt.Sprintf("/api/v1/personas/%d", pa.ID), ""},
		{"PUT", fmt.Sprintf("/api/v1/personas/%d", pa.ID), `{"name":"Tomada"}`},
		{"DELETE", fmt.Sprintf("/api/v1/personas/%d?confirm=true", pa.ID), ""},
		{"PUT", fmt.Sprintf("/api/v1/channels/%d/bot", a.ch.ID), `{"persona_id":null}`},
		{"PUT", fmt.Sprintf("/api/v1/channels/%d/bot", b.ch.ID), fmt.Sprintf(`{"persona_id":%d}`, pa.ID)},
	} {
		if res := apiCall(t, api, key, tc.method, tc.path, tc.body); res.StatusCode != http.StatusNotFound || apiCode(t, res) != "not_found" {
			t.Errorf("API %s %s with another org's key: %d %s", tc.method, tc.path, res.StatusCode, res.Body)
		}
	}
	if res := apiCall(t, api, key, "POST", "/api/v1/personas", fmt.Sprintf(`{"name":"Bia","knowledge_base_ids":[%d]}`, a.kb.ID)); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.Body, `"knowledge_base_ids"`) {
		t.Errorf("API: A's knowledge base in B's persona: %d %s", res.StatusCode, res.Body)
	}
	if res := apiCall(t, api, key, "GET", "/api/v1/personas", ""); res.StatusCode != http.StatusOK || res.Body != `{"next":null,"personas":[]}`+"\n" {
		t.Errorf("API: B's list: %d %s", res.StatusCode, res.Body)
	}

	// A's persona and channel are as they were.
	if ps := a.personas(); len(ps) != 1 || ps[0].Name != "Ana da Padaria" {
		t.Errorf("A's personas: %+v", ps)
	}
	if got := a.channelPersona(); got == nil || *got != pa.ID {
		t.Errorf("A's channel: %v", got)
	}
	if got := b.channelPersona(); got != nil {
		t.Errorf("B's channel runs %d", *got)
	}
}

// TestPersonaAPI: a persona's round trip through the REST API, and its bad input.
func TestPersonaAPI(t *testing.T) {
	t.Parallel()
	inst := webtest.Start(t)
	o := newPersonaOrg(t, inst, "API")
	key, err := inst.App.Account.CreateAPIKeyForOrgName(context.Background(), o.name, "n8n")
	if err != nil {
		t.Fatal(err)
	}
	c := webtest.NewClient(t, inst.URL)
	res := apiCall(t, c, key, "POST", "/api/v1/personas", fmt.Sprintf(`{"name":"Ana","instructions":"Seja breve.","language":"en",
		"handover_keywords":["Humano","humano","gerente"],"knowledge_base_ids":[%d,%d],"business_hours":{"fri":[["13:00","18:00"],["08:00","12:00"]]}}`, o.kb.ID, o.kb.ID))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", res.StatusCode, res.Body)
	}
	var out struct {
		Persona  model.Persona `json:"persona"`
		Channels []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"channels"`
	}
	_ = json.Unmarshal([]byte(res.Body), &out)
	p := out.Persona
	if p.ID == 0 || p.Tone != "friendly" || p.Language != "en" || p.MaxTurns != 10 || !slices.Equal(p.HandoverKeywords, model.Labels{"Humano", "gerente"}) ||
		!slices.Equal(p.KnowledgeBases, model.IDs{o.kb.ID}) || !strings.Contains(res.Body, `"business_hours":{"fri":[["08:00","12:00"],["13:00","18:00"]]}`) {
		t.Fatalf("created: %s", res.Body)
	}
	path := fmt.Sprintf("/api/v1/personas/%d", p.ID)

	// PUT changes what it sends; the rest stays.
	res = apiCall(t, c, key, "PUT", path, `{"tone":"formal","temperature":1.5,"knowledge_base_ids":[],"business_hours":null,"id":999,"created_at":"2000-01-01T00:00:00Z"}`)
	out.Persona = model.Persona{}
	_ = json.Unmarshal([]byte(res.Body), &out)
	if res.StatusCode != http.StatusOK || out.Persona.ID != p.ID || out.Persona.Tone != "formal" || out.Persona.Temperature != 1.5 ||
		out.Persona.Name != "Ana" || len(out.Persona.KnowledgeBases) != 0 || string(out.Persona.BusinessHours) != "{}" || out.Persona.CreatedAt.Year() == 2000 {
		t.Fatalf("update: %d %s", res.StatusCode, res.Body)
	}

	// On the channel; GET names it; a delete is refused until confirmed.
	bot := fmt.Sprintf("/api/v1/channels/%d/bot", o.ch.ID)
	if res := apiCall(t, c, key, "PUT", bot, fmt.Sprintf(`{"persona_id":%d}`, p.ID)); res.StatusCode != http.StatusOK ||
		res.Body != fmt.Sprintf(`{"channel_id":%d,"persona_id":%d}`+"\n", o.ch.ID, p.ID) {
		t.Fatalf("bot on: %d %s", res.StatusCode, res.Body)
	}
	res = apiCall(t, c, key, "GET", path, "")
	_ = json.Unmarshal([]byte(res.Body), &out)
	if res.StatusCode != http.StatusOK || len(out.Channels) != 1 || out.Channels[0].ID != o.ch.ID {
		t.Fatalf("get: %d %s", res.StatusCode, res.Body)
	}
	if res := apiCall(t, c, key, "DELETE", path, ""); res.StatusCode != http.StatusConflict ||
		!strings.Contains(res.Body, fmt.Sprintf(`"channels":[{"id":%d,"name":"WhatsApp API"}]`, o.ch.ID)) {
		t.Fatalf("unconfirmed delete: %d %s", res.StatusCode, res.Body)
	}

	// Bad input: each refused with its code, nothing changed.
	for name, tc := range map[string]struct {
		method, path, body string
		status             int
		code               string
	}{
		"not json":          {"POST", "/api/v1/personas", `{"name":`, 400, "bad_json"},
		"two values":        {"POST", "/api/v1/personas", `{"name":"a"} {"name":"b"}`, 400, "bad_json"},
		"unknown field":     {"POST", "/api/v1/personas", `{"name":"a","org_id":2}`, 400, "bad_json"},
		"wrong type":        {"PUT", path, `{"temperature":"hot"}`, 400, "bad_json"},
		"NUL":               {"PUT", path, `{"name":"a\u0000b"}`, 400, "bad_request"},
		"invalid UTF-8":     {"PUT", path, "{\"name\":\"ol\xe1\"}", 400, "bad_request"},
		"too large":         {"PUT", path, `{"instructions":"` + strings.Repeat("a", 300<<10) + `"}`, 413, "too_large"},
		"over 2 MB":         {"PUT", path, `{"instructions":"` + strings.Repeat("a", 3<<20) + `"}`, 413, "too_large"},
		"invalid":           {"PUT", path, `{"max_turns":0,"language":"fr"}`, 422, "invalid"},
		"id not a number":   {"GET", "/api/v1/personas/abc", "", 404, "not_found"},
		"bot without field": {"PUT", bot, `{"persona":1}`, 400, "bad_json"},
		"bot not json":      {"PUT", bot, `[`, 400, "bad_json"},
		"bot negative":      {"PUT", bot, `{"persona_id":-1}`, 404, "not_found"},
		"bot too large":     {"PUT", bot, `{"persona_id":null,"x":"` + strings.Repeat("a", 5000) + `"}`, 413, "too_large"},
		"confirm garbage":   {"DELETE", path + "?confirm=sim", "", 400, "bad_request"},
	} {
		res := apiCall(t, c, key, tc.method, tc.path, tc.body)
		if res.StatusCode != tc.status || apiCode(t, res) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", name, res.StatusCode, res.Body, tc.status, tc.code)
		}
	}
	if res := apiCall(t, c, key, "PUT", path, `{"max_turns":0}`); !strings.Contains(res.Body, `"fields":{"max_turns":"Enter a whole number from 1 to 100."}`) {
		t.Errorf("invalid fields in English: %s", res.Body)
	}
	if got, _ := inst.App.Personas.Persona(context.Background(), o.id, p.ID); got.Name != "Ana" || got.MaxTurns != 10 || got.Tone != "formal" {
		t.Errorf("bad input changed the persona: %+v", got)
	}
	if ps := o.personas(); len(ps) != 1 {
		t.Errorf("%d personas after refused creates", len(ps))
	}

	if res := apiCall(t, c, key, "DELETE", path+"?confirm=true", ""); res.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", res.StatusCode, res.Body)
	}
	if o.channelPersona() != nil {
		t.Error("the channel still has the deleted persona")
	}
	if res := apiCall(t, c, key, "GET", path, ""); res.StatusCode != http.StatusNotFound {
		t.Errorf("deleted: %d", res.StatusCode)
	}
}
