package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"masteria/app/ai/provider"
	"masteria/app/config"
	"masteria/app/model"
	"masteria/app/sim/metasim"
	"masteria/app/sim/openaisim"
	"masteria/app/web/webtest"
)

// TestBotLiveInInbox: a customer writes on WhatsApp (through the Meta simulator) and the
// bot's cited answer shows live in the open inbox; the customer asks for a person and the
// agent sees "waiting for a person" with the reason, then takes the conversation over.
func TestBotLiveInInbox(t *testing.T) {
	ctx := testContext(t, 2*testTimeout)
	ms := metasim.New(metasim.WithStatusDelays(100*time.Millisecond, 200*time.Millisecond, 400*time.Millisecond))
	graph, err := ms.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ms.Close)
	ai := openaisim.New(openaisim.WithAPIKey("sk-e2e"))
	if _, err := ai.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ai.Close)
	inst := webtest.StartAt(t, webtest.FreeBase(t), func(c *config.Config) {
		c.MetaGraphURL = graph
		c.BotDebounce = 300 * time.Millisecond
	})
	s := &inboxSetup{inst: inst, email: fmt.Sprintf("lia.%d@confeitaria.example", time.Now().UnixNano()), password: "brigadeiro-Quente-2026"}
	s.home = webtest.NewClient(t, inst.URL).Signup("Confeitaria Doce Lar", "Lia Souza", s.email, s.password)
	_, _ = fmt.Sscanf(s.home, "/o/%d", &s.orgID)
	owner := model.Actor{OrgID: s.orgID, Role: model.RoleOwner}
	bg := context.Background()
	if err := inst.App.AI.Save(bg, owner, provider.Input{BaseURL: ai.URL() + "/v1", Key: "sk-e2e", ChatModel: "gpt-4o-mini",
		EmbeddingModel: "text-embedding-3-small", EmbeddingDimensions: 1536}); err != nil {
		t.Fatal(err)
	}
	base, err := inst.App.Knowledge.CreateBase(bg, owner, "Confeitaria", "")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := inst.App.Knowledge.AddText(bg, owner, base.ID, "Horários", "# Horário\nAos domingos abrimos das 8h às 13h, só com balcão.\n\n# Entregas\nEntregamos no bairro em pedidos acima de 50 reais.")
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(waitTimeout); ; time.Sleep(50 * time.Millisecond) {
		d, _ := inst.App.Store.Document(bg, s.orgID, doc.ID)
		if d.Status == model.DocReady {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the document was not indexed: %+v", d)
		}
	}
	const phoneID, wabaID, token, secret = "106540352242999", "102290129340999", "EAAG-bot-token", "bot-app-secret"
	ch, err := inst.App.Inbox.CreateChannel(bg, owner, model.KindWhatsAppCloud, "WhatsApp da confeitaria",
		map[string]string{"phone_number_id": phoneID, "waba_id": wabaID},
		map[string]string{"access_token": token, "app_secret": secret, "verify_token": "vt"})
	if err != nil {
		t.Fatal(err)
	}
	ms.AddNumber(metasim.Number{PhoneNumberID: phoneID, WABAID: wabaID, DisplayNumber: "+55 11 4000-0002",
		AccessToken: token, AppSecret: secret, WebhookURL: fmt.Sprintf("%s/webhooks/whatsapp/%d", inst.URL, ch.ID)})
	pid, err := inst.App.Store.CreatePersona(bg, s.orgID, model.Persona{Name: "Lia", Instructions: "Atenda os clientes da confeitaria.",
		Tone: "friendly", Language: "pt-BR", Temperature: 0.3, NothingFound: model.NothingFoundSay, MaxTurns: 10,
		HandoverKeywords: model.Labels{"atendente", "humano"}, KnowledgeBases: model.IDs{base.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.App.Store.SetChannelPersona(bg, s.orgID, ch.ID, &pid); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, ctx, "bot", inst.URL)
	s.login(b)
	b.open(s.home+"/inbox", tid("inbox-list"))
	b.waitJS("the SSE connection is open", sseOpen, waitTimeout)
	marta := metasim.Sender{WaID: "5511987650042", Name: "Dona Marta"}
	if _, status, err := ms.InboundText(ctx, phoneID, marta, "Vocês abrem aos domingos?"); err != nil || status != 200 {
		t.Fatalf("inbound: %d %v", status, err)
	}
	item := `[data-testid="inbox-item"]`
	b.waitJS("the conversation shows with the bot's badge", `[...document.querySelectorAll(`+jsString(item)+`)].some(e => e.textContent.includes("Dona Marta") && e.querySelector('[data-owner="bot"]'))`, waitTimeout)
	b.do("open it", chromedp.Click(item))
	b.waitJS("the bot's answer shows live, with its source", `[...document.querySelectorAll('[data-direction="out"] [data-testid="msg-body"]')].some(e => e.textContent.includes("domingos")) && !!document.querySelector('[data-testid="msg-sources"]')`, waitTimeout)
	b.waitJS("the strip says the bot answers", `!!document.querySelector('[data-testid="inbox-bot-answering"]')`, waitTimeout)
	if got := b.text(tid("msg-sources")); !strings.Contains(got, "1 source") || !strings.Contains(got, "gpt-4o-mini") {
		t.Fatalf("sources %q", got)
	}

	if _, status, err := ms.InboundText(ctx, phoneID, marta, "Quero falar com um atendente, por favor"); err != nil || status != 200 {
		t.Fatalf("inbound: %d %v", status, err)
	}
	b.waitJS("the agent sees the conversation waiting for a person, with the reason", `(() => { const w = document.querySelector('[data-testid="inbox-waiting"]'); return !!w && w.textContent.includes("atendente"); })()`, waitTimeout)
	if dir := os.Getenv("MASTERIA_SCREENSHOTS"); dir != "" {
		b.keys = i18nKeys(t)
		page := fmt.Sprintf("%s/inbox/%d", s.home, s.conversationWith(t, "+5511987650042").ID)
		for _, l := range []look{{name: "desktop", width: 1366, height: 800, theme: "light"}, {name: "dark", width: 1366, height: 800, theme: "dark"},
			{name: "phone", width: 390, height: 844, theme: "light", phone: true}} {
			b.setLook(l)
			b.open(page, tid("inbox-waiting"))
			b.save(dir, "bot-waiting-"+l.name, l)
		}
		// And in Portuguese, light and dark.
		b.open(s.home+"/settings/profile", tid("profile-form"))
		b.do("switch to Portuguese", chromedp.SetValue(tid("profile-locale"), "pt-BR"), chromedp.Click(tid("profile-save")))
		b.waitJS("the page is in Portuguese", `document.documentElement.lang === "pt-BR"`, waitTimeout)
		for _, l := range []look{{name: "pt-desktop", width: 1366, height: 800, theme: "light"}, {name: "pt-dark", width: 1366, height: 800, theme: "dark"},
			{name: "pt-phone", width: 390, height: 844, theme: "light", phone: true}} {
			b.setLook(l)
			b.open(page, tid("inbox-waiting"))
			b.save(dir, "bot-waiting-"+l.name, l)
		}
		b.open(s.home+"/settings/profile", tid("profile-form"))
		b.do("back to English", chromedp.SetValue(tid("profile-locale"), "en"), chromedp.Click(tid("profile-save")))
		b.waitJS("the page is in English", `document.documentElement.lang === "en"`, waitTimeout)
		b.setLook(look{name: "light", width: 1366, height: 800, theme: "light"})
		b.open(page, tid("inbox-waiting"))
		b.waitJS("the SSE connection is open", sseOpen, waitTimeout)
	}
	b.do("take it over", chromedp.Click(tid("inbox-take-over")))
	b.waitJS("the strip goes: a person has it", `!document.querySelector('[data-testid="inbox-botbar"] > *')`, waitTimeout)
	conv := s.conversationWith(t, "+5511987650042")
	if conv.Owner != model.OwnerHuman || !conv.BotStopped || conv.AssigneeID == nil {
		t.Fatalf("after take over: %+v", conv)
	}
	b.noConsoleErrors()
}

// conversationWith is the org's conversation with a phone.
func (s *inboxSetup) conversationWith(t *testing.T, phone string) model.Conversation {
	t.Helper()
	var id int64
	if err := s.inst.App.Store.DB().Get(&id, `SELECT v.id FROM conversations v JOIN contacts c ON c.id = v.contact_id WHERE v.org_id = $1 AND c.phone = $2`, s.orgID, phone); err != nil {
		t.Fatal(err)
	}
	c, err := s.inst.App.Inbox.Conversation(context.Background(), s.orgID, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
