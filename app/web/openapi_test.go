package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"masteria/app/ai/provider"
	"masteria/app/config"
	"masteria/app/crm"
	"masteria/app/inbox"
	"masteria/app/model"
	"masteria/app/sim/openaisim"
	"masteria/app/sim/retellsim"
	"masteria/app/store/storetest"
	"masteria/app/voice/retell"
	"masteria/app/web/webtest"
)

// TestAPIAnswersMatchOpenAPI validates openapi.yaml with an independent OpenAPI library,
// then calls every documented operation for real and checks each answer (successes and
// errors) against the schema the document gives for its status.
func TestAPIAnswersMatchOpenAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rsim := retellsim.New()
	if _, err := rsim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rsim.Close)
	inst := webtest.StartOn(t, storetest.URL(t), func(c *config.Config) {
		c.RetellAPIURL = rsim.URL()
		c.WebhooksAllowPrivate = true // the webhook endpoint below is a local receiver
	})
	c := webtest.NewClient(t, inst.URL)

	raw := c.Get("/api/v1/openapi.yaml")
	if raw.StatusCode != http.StatusOK {
		t.Fatalf("openapi.yaml: %d", raw.StatusCode)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData([]byte(raw.Body))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	// The document's server is relative; the router needs the test server's address.
	doc.Servers = openapi3.Servers{{URL: inst.URL + "/api/v1"}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}

	c.Signup("Loja Contrato", "Lia", uniqueEmail("lia"), strongPassword)
	key, err := inst.App.Account.CreateAPIKeyForOrgName(ctx, "Loja Contrato", "contract")
	if err != nil {
		t.Fatal(err)
	}
	var orgID int64
	_ = inst.App.Store.DB().Get(&orgID, `SELECT id FROM orgs`)
	a := model.Actor{OrgID: orgID, Role: model.RoleOwner}
	sbx, err := inst.App.Inbox.CreateChannel(ctx, a, model.KindSandbox, "Demo", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	wa, err := inst.App.Inbox.CreateChannel(ctx, a, model.KindWhatsAppCloud, "WhatsApp", map[string]string{"phone_number_id": "1"}, map[string]string{"app_secret": "x"})
	if err != nil {
		t.Fatal(err)
	}
	comps := json.RawMessage(`[{"type":"BODY","text":"Olá {{1}}, seu pedido saiu."}]`)
	if err := inst.App.Store.ReplaceTemplates(ctx, orgID, wa.ID, []model.Template{{ProviderID: "t1", Name: "pedido", Language: "pt_BR",
		Category: "UTILITY", Status: "APPROVED", Components: comps}}, time.Now()); err != nil {
		t.Fatal(err)
	}

	called := map[string]bool{} // "GET /channels/{id}" of every operation called
	call := func(method, path, body, k string, want int, checkRequest bool) string {
		t.Helper()
		req, _ := http.NewRequest(method, inst.URL+"/api/v1"+path, strings.NewReader(body))
		if k != "" {
			req.Header.Set("Authorization", "Bearer "+k)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Errorf("%s %s is not a documented operation: %v", method, path, err)
			return ""
		}
		called[method+" "+route.Path] = true
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		if checkRequest {
			if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
				t.Errorf("%s %s: the test's own request does not fit the document: %v", method, path, err)
			}
			req.Body = io.NopCloser(strings.NewReader(body))
		}
		res := c.Do(req)
		if res.StatusCode != want {
			t.Errorf("%s %s: %d %s, want %d", method, path, res.StatusCode, res.Body, want)
		}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
			Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		out.SetBodyBytes([]byte(res.Body))
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			t.Errorf("%s %s → %d does not match the document: %v\n%s", method, path, res.StatusCode, err, res.Body)
		}
		return res.Body
	}

	call("GET", "/me", "", key, 200, true)
	call("GET", "/me", "", "", 401, false)
	call("GET", "/channels", "", key, 200, true)
	call("GET", "/channels", "", "mia_wrongwrongwrongwrongwrong", 401, false)
	call("POST", "/channels", `{"kind":"twilio_sms","name":"SMS Loja","config":{"account_sid":"AC0123456789abcdef0123456789abcdef","auth_token":"tok","from":"+5511900000000"}}`, key, 201, true)
	call("POST", "/channels", `{"kind":"sandbox","name":"Teste"}`, key, 201, true)
	call("POST", "/channels", `{"kind":`, key, 400, false)
	call("POST", "/channels", `{"kind":"sandbox","name":" "}`, key, 422, false)
	call("GET", fmt.Sprintf("/channels/%d", wa.ID), "", key, 200, true)
	call("GET", fmt.Sprintf("/channels/%d", sbx.ID), "", key, 200, true)
	call("GET", "/channels/999999", "", key, 404, true)
	call("GET", fmt.Sprintf("/channels/%d/templates", wa.ID), "", key, 200, true)
	call("GET", "/channels/999999/templates", "", key, 404, true)

	call("POST", "/messages", fmt.Sprintf(`{"channel_id":%d,"to":"+5511987654321","text":"Seu pedido saiu"}`, sbx.ID), key, 202, true)
	call("POST", "/messages", fmt.Sprintf(`{"channel_id":%d,"to":"+5511987650000","template":{"name":"pedido","language":"pt_BR","params":["Ana"]}}`, wa.ID), key, 202, true)
	call("POST", "/messages", `{"channel_id":`, key, 400, false)
	call("POST", "/messages", `{"channel_id":999999,"to":"+5511987654321","text":"x"}`, key, 404, true)
	call("POST", "/messages", fmt.Sprintf(`{"channel_id":%d,"to":"123","text":"x"}`, sbx.ID), key, 422, true)
	empty := call("POST", "/messages", fmt.Sprintf(`{"channel_id":%d,"to":"+5511987654321","text":"  "}`, sbx.ID), key, 422, true)
	if strings.Contains(empty, "inbox.") || strings.Contains(empty, ".error.") {
		t.Errorf("the API answered a translation key: %s", empty)
	}
	call("POST", "/messages", fmt.Sprintf(`{"channel_id":%d,"to":"+5511987654321","text":"x"}`, wa.ID), key, 422, true)
	call("POST", "/messages", fmt.Sprintf(`{"channel_id":%d,"to":"+5511987650000","template":{"name":"nada","language":"pt_BR"}}`, wa.ID), key, 422, true)
	call("POST", "/messages", fmt.Sprintf(`{"channel_id":%d,"to":"+5511987650000","template":{"name":"pedido","language":"pt_BR"}}`, wa.ID), key, 422, true)

	call("POST", "/conversations", fmt.Sprintf(`{"channel_id":%d,"to":"+5511987651111","text":"Olá! Seu orçamento está pronto."}`, sbx.ID), key, 201, true)
	call("POST", "/conversations", `{"channel_id":`, key, 400, false)
	call("POST", "/conversations", fmt.Sprintf(`{"channel_id":%d,"contact_id":999999,"text":"Olá"}`, sbx.ID), key, 404, true)
	call("POST", "/conversations", fmt.Sprintf(`{"channel_id":%d,"to":"+5511987651111","text":"   "}`, sbx.ID), key, 422, true)
	call("POST", "/conversations", fmt.Sprintf(`{"channel_id":%d,"to":"+5511987652222","text":"Olá"}`, wa.ID), key, 422, true)
	if _, err := inst.App.Store.DB().Exec(`UPDATE contacts SET opted_out = ARRAY['whatsapp', 'sms', 'voice'] WHERE phone = '+5511987651111'`); err != nil {
		t.Fatal(err)
	}
	call("POST", "/conversations", fmt.Sprintf(`{"channel_id":%d,"to":"+5511987651111","text":"Promoção!"}`, sbx.ID), key, 422, true)
	call("POST", "/conversations", fmt.Sprintf(`{"channel_id":%d,"to":"+5511987650001","template":{"name":"pedido","language":"pt_BR","params":["Bia"]}}`, wa.ID), key, 201, true)
	call("POST", "/conversations", fmt.Sprintf(`{"channel_id":%d,"to":"+5511987650001","text":"Oi"}`, wa.ID), key, 422, true)
	call("POST", "/conversations", `{"channel_id":999999,"to":"+5511987654321","text":"x"}`, key, 404, true)
	p := "+5511987650077"
	ana, err := inst.App.Store.CreateContact(ctx, model.Contact{OrgID: orgID, Name: "Ana", Phone: &p})
	if err != nil {
		t.Fatal(err)
	}
	call("POST", "/conversations", fmt.Sprintf(`{"channel_id":%d,"contact_id":%d,"text":"Olá Ana"}`, sbx.ID, ana), key, 201, true)
	call("POST", "/conversations", fmt.Sprintf(`{"channel_id":%d,"to":"+5511987650078","template":{"name":"pedido","language":"pt_BR","params":["Bia"]}}`, wa.ID), key, 201, true)
	call("POST", "/conversations", fmt.Sprintf(`{"channel_id":%d,"contact_id":999999,"text":"x"}`, sbx.ID), key, 404, true)
	call("POST", "/conversations", fmt.Sprintf(`{"channel_id":%d,"contact_id":%d,"text":"x"}`, wa.ID, ana), key, 422, true)

	list := call("GET", "/conversations", "", key, 200, true)
	call("GET", "/conversations?status=open&q=5511", "", key, 200, true)
	call("GET", "/conversations?after=forged", "", key, 400, true)
	var convs struct {
		Conversations []model.Conversation `json:"conversations"`
	}
	_ = json.Unmarshal([]byte(list), &convs)
	if len(convs.Conversations) == 0 {
		t.Fatalf("no conversations: %s", list)
	}
	for _, cv := range convs.Conversations {
		call("GET", fmt.Sprintf("/conversations/%d/messages", cv.ID), "", key, 200, true)
	}
	call("GET", "/conversations?limit=1", "", key, 200, true)
	call("GET", fmt.Sprintf("/conversations/%d/messages?limit=1", convs.Conversations[0].ID), "", key, 200, true)
	call("GET", fmt.Sprintf("/conversations/%d/messages?after=x", convs.Conversations[0].ID), "", key, 400, true)
	call("GET", "/conversations/999999/messages", "", key, 404, true)
	botPersona, err := inst.App.Store.CreatePersona(ctx, orgID, model.Persona{Name: "Ana", Tone: "friendly", Language: "pt-BR",
		NothingFound: model.NothingFoundSay, MaxTurns: 5})
	if err != nil {
		t.Fatal(err)
	}
	botPath := fmt.Sprintf("/conversations/%d/bot", convs.Conversations[0].ID)
	call("PUT", botPath, fmt.Sprintf(`{"on":true,"persona_id":%d}`, botPersona), key, 200, true)
	call("PUT", botPath, `{"on":false}`, key, 200, true)
	call("PUT", botPath, `{"on":true,"persona_id":999999}`, key, 422, true)
	call("PUT", botPath, `{"persona_id":1}`, key, 400, false)
	call("PUT", "/conversations/999999/bot", `{"on":false}`, key, 404, true)

	kept, err := inst.App.CRM.Create(ctx, a, crm.ContactInput{Name: "Ana", TagIDs: []int64{}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := inst.App.CRM.Create(ctx, a, crm.ContactInput{Name: "Ana Souza", Phone: "+5511987650900", OptedOut: []string{model.ChannelSMS}})
	if err != nil {
		t.Fatal(err)
	}
	merge := fmt.Sprintf("/contacts/%d/merge", kept.ID)
	call("POST", merge, fmt.Sprintf(`{"other_id":%d}`, kept.ID), key, 422, true)
	call("POST", merge, `{"other_id":999999}`, key, 404, true)
	call("POST", merge, `{"other_id":`, key, 400, false)
	call("POST", merge, fmt.Sprintf(`{"other_id":%d}`, other.ID), key, 200, true)

	// Campaigns: a draft, its check, a launch (twice), the controls and the ledger.
	var created struct {
		Campaign model.Campaign `json:"campaign"`
	}
	body := call("POST", "/campaigns", fmt.Sprintf(`{"name":"Fornada","channel_id":%d,"audience":{"contact_ids":[%d]},"message":{"variants":[{"text":"Olá {{nome}}!"}]},"settings":{"quiet_start":0,"quiet_end":0}}`, sbx.ID, ana), key, 201, true)
	_ = json.Unmarshal([]byte(body), &created)
	camp := fmt.Sprintf("/campaigns/%d", created.Campaign.ID)
	call("POST", "/campaigns", `{"name":`, key, 400, false)
	call("POST", "/campaigns", `{"name":"x","settings":{"nope":1}}`, key, 400, false)
	if res := call("POST", "/campaigns", `{"name":" "}`, key, 422, true); strings.Contains(res, ".error.") {
		t.Errorf("the API answered a translation key: %s", res)
	}
	call("POST", "/campaigns", `{"name":"Outra","channel_id":999999}`, key, 404, true)
	call("GET", "/campaigns", "", key, 200, true)
	call("GET", "/campaigns?after=x", "", key, 400, true)
	call("GET", "/campaigns?before=1", "", key, 400, false)
	call("GET", camp, "", key, 200, true)
	call("GET", "/campaigns/999999", "", key, 404, true)
	// Cadences: create, read, list, edit; bad bodies, another org's ids, a loop.
	cadenceBody := fmt.Sprintf(`{"name":"Boas-vindas","steps":[{"id":"s1","kind":"whatsapp","channel_id":%d,"message":{"text":"Olá {{nome}}"},"next":"s2"},{"id":"s2","kind":"wait","wait_minutes":60}]}`, wa.ID)
	body = call("POST", "/cadences", cadenceBody, key, 201, true)
	var cad struct{ Cadence model.Cadence }
	_ = json.Unmarshal([]byte(body), &cad)
	cadPath := fmt.Sprintf("/cadences/%d", cad.Cadence.ID)
	call("POST", "/cadences", `{"name":`, key, 400, false)
	call("POST", "/cadences", `{"name":"x","steps":[],"loop":true}`, key, 400, false)
	call("POST", "/cadences", `{"name":"x","steps":[]}`, key, 422, true)
	call("POST", "/cadences", `{"name":"x","steps":[{"id":"s1","kind":"sms","channel_id":999999,"message":{"text":"oi"}}]}`, key, 404, true)
	call("GET", "/cadences", "", key, 200, true)
	call("GET", "/cadences?after=x", "", key, 400, true)
	call("GET", "/cadences?limit=1", "", key, 200, true)
	call("GET", cadPath, "", key, 200, true)
	call("GET", "/cadences/999999", "", key, 404, true)
	call("PUT", cadPath, strings.Replace(cadenceBody, "Boas-vindas", "Boas-vindas 2", 1), key, 200, true)
	call("PUT", cadPath, `{"name":`, key, 400, false)
	call("PUT", cadPath, fmt.Sprintf(`{"name":"x","steps":[{"id":"s1","kind":"wait","wait_minutes":5,"next":"s2"},{"id":"s2","kind":"wait","wait_minutes":5,"next":"s1"}]}`), key, 422, true)
	call("PUT", "/cadences/999999", cadenceBody, key, 404, true)
	if _, err := inst.App.Cadences.Archive(ctx, a, cad.Cadence.ID); err != nil {
		t.Fatal(err)
	}
	call("PUT", cadPath, cadenceBody, key, 409, true)
	call("GET", camp+"/check", "", key, 200, true)
	call("GET", "/campaigns/999999/check", "", key, 404, true)
	body = call("POST", "/campaigns", `{"name":"Sem mensagem"}`, key, 201, true)
	_ = json.Unmarshal([]byte(body), &created)
	bare := fmt.Sprintf("/campaigns/%d", created.Campaign.ID)
	call("GET", bare+"/check", "", key, 422, true)
	call("POST", bare+"/launch", "", key, 422, true)
	call("POST", camp+"/launch", "", key, 200, true)
	call("POST", camp+"/launch", "", key, 409, true)
	call("POST", "/campaigns/999999/launch", "", key, 404, true)
	call("GET", camp+"/progress", "", key, 200, true)
	call("GET", "/campaigns/999999/progress", "", key, 404, true)
	call("GET", camp+"/recipients?limit=10", "", key, 200, true)
	call("GET", camp+"/recipients?status=bogus", "", key, 422, false)
	call("GET", camp+"/recipients?after=x", "", key, 400, false)
	call("GET", "/campaigns/999999/recipients", "", key, 404, true)
	call("POST", camp+"/retry-failed", "", key, 200, true)
	call("POST", "/campaigns/999999/retry-failed", "", key, 404, true)
	later := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	body = call("POST", "/campaigns", fmt.Sprintf(`{"name":"Natal","channel_id":%d,"audience":{"contact_ids":[%d]},"message":{"variants":[{"text":"Feliz Natal"}]},"scheduled_at":%q}`, sbx.ID, ana, later), key, 201, true)
	_ = json.Unmarshal([]byte(body), &created)
	xmas := fmt.Sprintf("/campaigns/%d", created.Campaign.ID)
	call("POST", xmas+"/launch", "", key, 200, true)
	call("POST", xmas+"/resume", "", key, 409, true)
	call("POST", xmas+"/pause", "", key, 200, true)
	call("POST", xmas+"/pause", "", key, 409, true)
	call("POST", "/campaigns/999999/pause", "", key, 404, true)
	call("POST", xmas+"/cancel", "", key, 200, true)
	call("POST", xmas+"/cancel", "", key, 409, true)
	call("POST", xmas+"/resume", "", key, 409, true)
	call("POST", xmas+"/retry-failed", "", key, 409, true)
	call("POST", "/campaigns/999999/resume", "", key, 404, true)
	call("POST", "/campaigns/999999/cancel", "", key, 404, true)
	body = call("POST", "/campaigns", fmt.Sprintf(`{"name":"Páscoa","channel_id":%d,"audience":{"contact_ids":[%d]},"message":{"variants":[{"text":"Feliz Páscoa"}]},"scheduled_at":%q}`, sbx.ID, ana, later), key, 201, true)
	_ = json.Unmarshal([]byte(body), &created)
	easter := fmt.Sprintf("/campaigns/%d", created.Campaign.ID)
	call("POST", easter+"/launch", "", key, 200, true)
	call("POST", easter+"/pause", "", key, 200, true)
	call("POST", easter+"/resume", "", key, 200, true)

	var kbOut struct {
		KnowledgeBase struct{ ID int64 } `json:"knowledge_base"`
	}
	_ = json.Unmarshal([]byte(call("POST", "/knowledge-bases", `{"name":"Cardápio"}`, key, 201, true)), &kbOut)
	call("POST", "/knowledge-bases", `{"name":""}`, key, 422, false)
	call("POST", "/knowledge-bases", `{"name":`, key, 400, false)
	kbp := fmt.Sprintf("/knowledge-bases/%d", kbOut.KnowledgeBase.ID)
	var docOut struct {
		Document struct{ ID int64 } `json:"document"`
	}
	_ = json.Unmarshal([]byte(call("POST", kbp+"/documents", `{"title":"Bolos","text":"Bolo de fubá sai do forno às 15 horas."}`, key, 202, true)), &docOut)
	call("POST", kbp+"/documents", `{"url":"http://127.0.0.1/x"}`, key, 422, true)
	call("POST", kbp+"/documents", `{"title":"x"}`, key, 400, false)
	call("POST", "/knowledge-bases/999999/documents", `{"text":"x"}`, key, 404, true)
	call("GET", fmt.Sprintf("%s/documents/%d", kbp, docOut.Document.ID), "", key, 200, true)
	call("GET", "/knowledge-bases", "", key, 200, true)
	call("GET", "/knowledge-bases?limit=1", "", key, 200, true)
	call("GET", "/knowledge-bases?after=x", "", key, 400, true)
	call("GET", kbp, "", key, 200, true)
	call("GET", "/knowledge-bases/999999", "", key, 404, true)
	call("PATCH", kbp, `{"description":"Bolos e tortas"}`, key, 200, true)
	call("PATCH", kbp, `{"name":" "}`, key, 422, true)
	call("PATCH", kbp, `{"colour":"red"}`, key, 400, false)
	call("PATCH", "/knowledge-bases/999999", `{"name":"x"}`, key, 404, true)
	call("GET", kbp+"/documents", "", key, 200, true)
	call("GET", kbp+"/documents?limit=1", "", key, 200, true)
	call("GET", "/knowledge-bases/999999/documents", "", key, 404, true)
	var spare struct {
		Document struct{ ID int64 } `json:"document"`
	}
	_ = json.Unmarshal([]byte(call("POST", kbp+"/documents", `{"title":"Rascunho","text":"Apagar"}`, key, 202, true)), &spare)
	call("DELETE", fmt.Sprintf("/knowledge-bases/999999/documents/%d", spare.Document.ID), "", key, 404, true)
	call("DELETE", fmt.Sprintf("%s/documents/%d", kbp, spare.Document.ID), "", key, 204, true)
	var gone struct {
		KnowledgeBase struct{ ID int64 } `json:"knowledge_base"`
	}
	_ = json.Unmarshal([]byte(call("POST", "/knowledge-bases", `{"name":"Velha"}`, key, 201, true)), &gone)
	call("DELETE", fmt.Sprintf("/knowledge-bases/%d", gone.KnowledgeBase.ID), "", key, 204, true)
	call("DELETE", fmt.Sprintf("/knowledge-bases/%d", gone.KnowledgeBase.ID), "", key, 404, true)
	call("GET", fmt.Sprintf("/knowledge-bases/999999/documents/%d", docOut.Document.ID), "", key, 404, true)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if d, err := inst.App.Knowledge.Document(ctx, orgID, docOut.Document.ID); err == nil && d.Status == model.DocReady {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the document was not indexed in 30 s")
		}
	}
	if body := call("GET", kbp+"/search?q=fub%C3%A1&k=3", "", key, 200, true); !strings.Contains(body, "15 horas") {
		t.Errorf("API search: %s", body)
	}
	call("GET", kbp+"/search?q=x&k=0", "", key, 422, false)
	call("GET", "/knowledge-bases/999999/search?q=x", "", key, 404, true)

	// The agent assist: refused without a provider, then answered by the OpenAI simulator.
	got, err := inst.App.Inbox.Receive(ctx, sbx, inbox.Inbound{From: "+5511987650555", Name: "Rui", Body: "Que horas sai o bolo de fubá?", ProviderID: "in.contract.1"})
	if err != nil {
		t.Fatal(err)
	}
	assistPath := fmt.Sprintf("/conversations/%d/assist/", got.ConversationID)
	call("POST", assistPath+"suggest", "", key, 409, true)
	call("POST", assistPath+"summary", `{"language":"pt-BR"}`, key, 409, true)
	sim := openaisim.New()
	if _, err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	if err := inst.App.AI.Save(ctx, a, provider.Input{BaseURL: sim.URL(), Key: "sk-contract", ChatModel: "gpt-4o-mini", EmbeddingModel: "text-embedding-3-small", EmbeddingDimensions: 1536}); err != nil {
		t.Fatal(err)
	}
	if body := call("POST", assistPath+"suggest", "", key, 200, true); !strings.Contains(body, "15 horas") || !strings.Contains(body, `"nothing_found":false`) {
		t.Errorf("suggest: %s", body)
	}
	call("POST", assistPath+"suggest", `{}`, key, 200, true)
	call("POST", assistPath+"suggest", `[`, key, 400, false)
	call("POST", "/conversations/999999/assist/suggest", "", key, 404, true)
	sim.Reply("- O cliente quer saber quando sai o bolo de fubá.\n- Nada foi prometido.\n- Em aberto: o horário.")
	call("POST", assistPath+"summary", `{"language":"pt-BR"}`, key, 200, true)
	call("POST", assistPath+"summary", `{"language":"tlh"}`, key, 422, false)
	call("POST", "/conversations/999999/assist/summary", "", key, 404, true)
	sim.Reply("Seu bolo sai às 15 horas.")
	call("POST", assistPath+"rewrite", `{"text":"o bolo sai as 15 horas","style":"grammar"}`, key, 200, true)
	call("POST", assistPath+"rewrite", `{"text":"Olá","style":"translate","language":"es"}`, key, 200, true)
	call("POST", assistPath+"rewrite", `{"text":" ","style":"shorter"}`, key, 422, true)
	call("POST", assistPath+"rewrite", `{"text":"x","style":`, key, 400, false)
	call("POST", "/conversations/999999/assist/rewrite", `{"text":"x","style":"shorter"}`, key, 404, true)
	sim.SetAPIKeys("sk-another")
	call("POST", assistPath+"rewrite", `{"text":"Olá","style":"shorter"}`, key, 502, true)
	sim.SetAPIKeys()
	sim.SetRateLimited(1, time.Second)
	call("POST", assistPath+"rewrite", `{"text":"Olá","style":"shorter"}`, key, 503, true)

	// Personas and the bot of a channel.
	var pOut struct {
		Persona struct{ ID int64 } `json:"persona"`
	}
	_ = json.Unmarshal([]byte(call("POST", "/personas", fmt.Sprintf(`{"name":"Ana","instructions":"Responda sobre bolos.","knowledge_base_ids":[%d],"business_hours":{"mon":[["08:00","18:00"]]}}`, kbOut.KnowledgeBase.ID), key, 201, true)), &pOut)
	call("POST", "/personas", `{"name":""}`, key, 422, true)
	call("POST", "/personas", `{"name":"x","knowledge_base_ids":[999999]}`, key, 422, true)
	call("POST", "/personas", `{"name":`, key, 400, false)
	call("POST", "/personas", `{"name":"x","mood":"happy"}`, key, 400, false)
	call("POST", "/personas", `{"name":"x","instructions":"`+strings.Repeat("a", 300<<10)+`"}`, key, 413, false)
	call("GET", "/personas", "", key, 200, true)
	pp := fmt.Sprintf("/personas/%d", pOut.Persona.ID)
	call("GET", pp, "", key, 200, true)
	call("GET", "/personas/999999", "", key, 404, true)
	call("PUT", pp, `{"tone":"formal","business_hours":{}}`, key, 200, true)
	call("PUT", pp, `{"tone":"rude"}`, key, 422, true)
	call("PUT", pp, `{"tone":`, key, 400, false)
	call("PUT", "/personas/999999", `{"tone":"formal"}`, key, 404, true)
	call("PUT", pp, `{"name":"x","instructions":"`+strings.Repeat("a", 300<<10)+`"}`, key, 413, false)
	bot := fmt.Sprintf("/channels/%d/bot", sbx.ID)
	call("PUT", bot, fmt.Sprintf(`{"persona_id":%d}`, pOut.Persona.ID), key, 200, true)
	call("PUT", bot, `{"persona_id":999999}`, key, 404, true)
	call("PUT", "/channels/999999/bot", `{"persona_id":null}`, key, 404, true)
	call("PUT", bot, `{}`, key, 400, false)
	call("DELETE", pp, "", key, 409, true)
	call("DELETE", pp+"?confirm=maybe", "", key, 400, false)
	call("DELETE", pp+"?confirm=true", "", key, 204, true)
	call("DELETE", pp+"?confirm=true", "", key, 404, true)
	call("PUT", bot, `{"persona_id":null}`, key, 200, true)
	// Lead progression: a suggestion and an AI move made through the simulator.
	fx := newProgressionFixture(t, inst, orgID)
	call("GET", fmt.Sprintf("/leads/%d/suggestions", fx.suggLead), "", key, 200, true)
	call("GET", "/leads/999999/suggestions", "", key, 404, true)
	call("GET", fmt.Sprintf("/leads/%d/ai-moves", fx.movedLead), "", key, 200, true)
	call("GET", "/leads/999999/ai-moves", "", key, 404, true)
	call("GET", fmt.Sprintf("/pipelines/%d/suggestions?limit=5", fx.pipeline), "", key, 200, true)
	call("GET", fmt.Sprintf("/pipelines/%d/suggestions?limit=500", fx.pipeline), "", key, 400, false)
	call("GET", "/pipelines/999999/suggestions", "", key, 404, true)
	call("POST", fmt.Sprintf("/suggestions/%d/accept", fx.sugg), "", key, 200, true)
	call("POST", fmt.Sprintf("/suggestions/%d/dismiss", fx.sugg), "", key, 409, true)
	call("POST", fmt.Sprintf("/suggestions/%d/accept", fx.sugg), "", key, 409, true)
	call("POST", "/suggestions/999999/dismiss", "", key, 404, true)
	call("POST", fmt.Sprintf("/ai-moves/%d/undo", fx.move), "", key, 200, true)
	call("POST", fmt.Sprintf("/ai-moves/%d/undo", fx.move), "", key, 409, true)
	call("POST", "/ai-moves/999999/undo", "", key, 404, true)
	call("GET", fmt.Sprintf("/pipelines/%d/ai", fx.pipeline), "", key, 200, true)
	call("GET", "/pipelines/999999/ai", "", key, 404, true)
	call("PUT", fmt.Sprintf("/pipelines/%d/ai", fx.pipeline), `{"enabled":true,"threshold":0.85}`, key, 200, true)
	call("PUT", fmt.Sprintf("/pipelines/%d/ai", fx.pipeline), `{"threshold":0.2}`, key, 422, false)
	call("PUT", fmt.Sprintf("/pipelines/%d/ai", fx.pipeline), `{"enabled":`, key, 400, false)
	call("PUT", "/pipelines/999999/ai", `{"enabled":false}`, key, 404, true)

	callID := callFixture(t, inst, orgID)
	call("GET", "/calls", "", key, 200, true)
	call("GET", "/calls?status=ended&direction=inbound&from=2020-01-01&limit=5", "", key, 200, true)
	call("GET", "/calls?status=nope", "", key, 400, false)
	call("GET", "/calls?contact=-1", "", key, 400, false)
	call("GET", fmt.Sprintf("/calls/%d", callID), "", key, 200, true)
	call("GET", "/calls/999999", "", key, 404, true)
	// Calling the fixture call's contact back, through the simulated Retell.
	rsim.SetAPIKeys(fmt.Sprintf("fixture_key_%d", orgID))
	rsim.AddAgent(retell.Agent{AgentID: "agent_vendas", AgentName: "Vendas"})
	rsim.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: "+551130001000", OutboundAgents: []retell.AgentWeight{{AgentID: "agent_vendas", Weight: 1}}})
	if _, err := inst.App.Store.DB().Exec(`INSERT INTO voice_numbers (org_id, phone_number, source, step, status, outbound_agent_id)
		VALUES ($1, '+551130001000', 'linked', 'ready', 'ready', 'agent_vendas')`, orgID); err != nil {
		t.Fatal(err)
	}
	if _, err := inst.App.Store.DB().Exec(`UPDATE voice_accounts SET call_hours_start = 0, call_hours_end = 24, call_days = 127 WHERE org_id = $1`, orgID); err != nil {
		t.Fatal(err)
	}
	var caller int64
	_ = inst.App.Store.DB().Get(&caller, `SELECT contact_id FROM calls WHERE id = $1`, callID)
	call("POST", "/calls", fmt.Sprintf(`{"contact_id":%d,"variables":{"pedido":"1234"}}`, caller), key, 201, true)
	call("POST", "/calls", `{}`, key, 422, true)
	call("POST", "/calls", `{"contact_id":999999}`, key, 404, true)
	call("POST", "/calls", `{"contact_id":`, key, 400, false)

	// Voice numbers: the calls that need no provider but the simulated Retell (the voice
	// numbers API test runs the rest against the Twilio and Retell simulators). A set-up that stopped before buying
	// anything, whose Twilio channel is gone: continue stops again (502), release has
	// nothing to undo.
	vn, err := inst.App.Store.CreateVoiceNumber(ctx, orgID, model.VoiceNumber{PhoneNumber: "+14155550177", Source: "twilio",
		Country: "US", Step: model.NumberBought, Status: "failed"})
	if err != nil {
		t.Fatal(err)
	}
	call("GET", "/voice-numbers", "", key, 200, true)
	call("GET", fmt.Sprintf("/voice-numbers/%d", vn.ID), "", key, 200, true)
	call("GET", "/voice-numbers/999999", "", key, 404, true)
	call("GET", "/voice-numbers/available?channel_id=999999&country=US", "", key, 404, true)
	call("GET", "/voice-numbers/available?channel_id=1&country=USA", "", key, 400, false)
	call("POST", "/voice-numbers", `{"channel_id":999999,"phone_number":"+14155550100"}`, key, 404, true)
	call("POST", "/voice-numbers", `{"channel_id":1,"phone_number":"4155550100"}`, key, 400, true)
	call("POST", "/voice-numbers", `{"channel_id":1,"phone":"+14155550100"}`, key, 400, false)
	call("POST", "/voice-numbers/link", `{"phone_number":"+14155550100"}`, key, 422, true)
	rsim.AddPhoneNumber(retell.PhoneNumber{PhoneNumber: "+14155550188", PhoneNumberType: "retell-twilio"})
	call("POST", "/voice-numbers/link", `{"phone_number":"+14155550188"}`, key, 201, true)
	call("POST", "/voice-numbers/link", `{"phone_number":"+14155550188"}`, key, 409, true)
	call("PUT", fmt.Sprintf("/voice-numbers/%d/agents", vn.ID), `{"inbound_agent_id":"agent_1"}`, key, 200, true)
	call("POST", fmt.Sprintf("/voice-numbers/%d/continue", vn.ID), "", key, 502, true)
	call("DELETE", fmt.Sprintf("/voice-numbers/%d", vn.ID), "", key, 200, true)
	call("DELETE", fmt.Sprintf("/voice-numbers/%d", vn.ID), "", key, 404, true)
	call("POST", "/voice-numbers/999999/continue", "", key, 404, true)

	// Cadences: enrol, read, remove (a cadence that only waits, so nothing is sent).
	var cadenceID, enrolContact int64
	if err := inst.App.Store.DB().Get(&cadenceID, `INSERT INTO cadences (org_id, name, status) VALUES ($1, 'Boas-vindas', 'active') RETURNING id`, orgID); err != nil {
		t.Fatal(err)
	}
	if _, err := inst.App.Store.DB().Exec(`INSERT INTO cadence_versions (org_id, cadence_id, version, steps)
		VALUES ($1, $2, 1, '[{"id":"s1","kind":"wait","wait_minutes":600}]')`, orgID, cadenceID); err != nil {
		t.Fatal(err)
	}
	if err := inst.App.Store.DB().Get(&enrolContact, `INSERT INTO contacts (org_id, name, phone) VALUES ($1, 'Cadência', '+5511911112222') RETURNING id`, orgID); err != nil {
		t.Fatal(err)
	}
	enrolBody := fmt.Sprintf(`{"contact_ids":[%d, 999999]}`, enrolContact)
	var enrolled struct {
		IDs []int64 `json:"enrolment_ids"`
	}
	_ = json.Unmarshal([]byte(call("POST", fmt.Sprintf("/cadences/%d/enrolments", cadenceID), enrolBody, key, 200, true)), &enrolled)
	if len(enrolled.IDs) != 1 {
		t.Fatalf("enrolments: %v", enrolled.IDs)
	}
	call("POST", fmt.Sprintf("/cadences/%d/enrolments", cadenceID), enrolBody, key, 200, true)
	call("POST", fmt.Sprintf("/cadences/%d/enrolments", cadenceID), `{"contact_ids":[]}`, key, 422, true)
	call("POST", fmt.Sprintf("/cadences/%d/enrolments", cadenceID), `{"contacts":[1]}`, key, 400, false)
	call("POST", "/cadences/999999/enrolments", enrolBody, key, 404, true)
	call("GET", fmt.Sprintf("/enrolments/%d", enrolled.IDs[0]), "", key, 200, true)
	call("GET", "/enrolments/999999", "", key, 404, true)
	call("DELETE", fmt.Sprintf("/cadences/999999/enrolments/%d", enrolled.IDs[0]), "", key, 404, true)
	call("DELETE", fmt.Sprintf("/cadences/%d/enrolments/%d", cadenceID, enrolled.IDs[0]), "", key, 204, true)
	call("GET", fmt.Sprintf("/enrolments/%d", enrolled.IDs[0]), "", key, 200, true)

	// Webhook endpoints: a local receiver that answers 204.
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(receiver.Close)
	var hook struct {
		Endpoint struct {
			ID int64 `json:"id"`
		} `json:"webhook_endpoint"`
	}
	_ = json.Unmarshal([]byte(call("POST", "/webhook-endpoints", fmt.Sprintf(`{"url":%q,"event_types":["contact.created"],"description":"ERP"}`, receiver.URL), key, 201, true)), &hook)
	hp := fmt.Sprintf("/webhook-endpoints/%d", hook.Endpoint.ID)
	call("POST", "/webhook-endpoints", `{"url":"ftp://x","all_events":true}`, key, 422, true)
	call("POST", "/webhook-endpoints", `{"url":`, key, 400, false)
	call("POST", "/webhook-endpoints", `{"url":"https://a.example","all_events":true,"description":"`+strings.Repeat("x", 17<<10)+`"}`, key, 413, false)
	call("GET", "/webhook-endpoints", "", key, 200, true)
	call("GET", "/webhook-endpoints?after=x", "", key, 400, false)
	call("GET", hp, "", key, 200, true)
	call("GET", "/webhook-endpoints/999999", "", key, 404, true)
	call("PATCH", hp, `{"description":"ERP novo","all_events":true}`, key, 200, true)
	call("PATCH", hp, `{"event_types":["no.such.event"]}`, key, 422, true)
	call("PATCH", hp, `{"colour":"red"}`, key, 400, false)
	call("PATCH", "/webhook-endpoints/999999", `{"enabled":false}`, key, 404, true)
	var ping struct {
		Delivery struct {
			ID    int64  `json:"id"`
			State string `json:"state"`
		} `json:"delivery"`
	}
	_ = json.Unmarshal([]byte(call("POST", hp+"/test", "", key, 200, true)), &ping)
	if ping.Delivery.State != "delivered" {
		t.Errorf("test ping: %+v", ping)
	}
	call("POST", "/webhook-endpoints/999999/test", "", key, 404, true)
	call("GET", hp+"/deliveries", "", key, 200, true)
	call("GET", hp+"/deliveries?status=delivered&event_type=webhook.test&limit=10", "", key, 200, true)
	call("GET", hp+"/deliveries?status=lost", "", key, 422, false)
	call("GET", hp+"/deliveries?after=-1", "", key, 400, true)
	call("GET", "/webhook-endpoints/999999/deliveries", "", key, 404, true)
	call("POST", fmt.Sprintf("%s/deliveries/%d/replay", hp, ping.Delivery.ID), "", key, 202, true)
	call("POST", hp+"/deliveries/999999/replay", "", key, 404, true)
	call("POST", hp+"/replay", `{"from":"2020-01-01T00:00:00Z","to":"2099-01-01T00:00:00Z"}`, key, 202, true)
	call("POST", hp+"/replay", `{"from":"2099-01-01T00:00:00Z","to":"2020-01-01T00:00:00Z"}`, key, 422, true)
	call("POST", hp+"/replay", `{"from":1}`, key, 400, false)
	call("POST", "/webhook-endpoints/999999/replay", `{"from":"2020-01-01T00:00:00Z","to":"2099-01-01T00:00:00Z"}`, key, 404, true)
	call("POST", hp+"/rotate", `{"overlap_hours":1}`, key, 200, true)
	call("POST", hp+"/rotate", "", key, 200, true)
	call("POST", hp+"/rotate", `{"overlap_hours":1000}`, key, 422, false)
	call("POST", hp+"/rotate", `{"overlap":1}`, key, 400, false)
	call("POST", "/webhook-endpoints/999999/rotate", "", key, 404, true)
	call("PATCH", hp, `{"enabled":false}`, key, 200, true)
	call("POST", fmt.Sprintf("%s/deliveries/%d/replay", hp, ping.Delivery.ID), "", key, 409, true)
	call("POST", hp+"/replay", `{"from":"2020-01-01T00:00:00Z","to":"2099-01-01T00:00:00Z"}`, key, 409, true)
	call("DELETE", hp, "", key, 204, true)
	call("DELETE", hp, "", key, 404, true)

	crmContract(t, inst, orgID, key, call)
	boardContract(t, inst, orgID, key, call)
	tagContract(t, inst, orgID, key, call)
	analyticsContract(t, inst, orgID, key, call)

	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !called[method+" "+path] {
				t.Errorf("%s %s is documented but the test never called it", method, path)
			}
		}
	}
}

// TestQueuedMessageHasNoStatusTime: a queued message has not been sent, so its status time
// is null in JSON, not year 1.
func TestQueuedMessageHasNoStatusTime(t *testing.T) {
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(model.Message{ID: 1, Status: model.StatusQueued})
	var m map[string]any
	_ = json.Unmarshal(buf.Bytes(), &m)
	if v, ok := m["status_at"]; !ok || v != nil {
		t.Fatalf("status_at = %v (present %v), want null: %s", v, ok, buf.String())
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	b, _ := json.Marshal(model.Message{ID: 1, Status: model.StatusSent, StatusAt: at})
	if !strings.Contains(string(b), `"status_at":"2026-03-01T12:00:00Z"`) {
		t.Fatalf("sent: %s", b)
	}
}
