package provider_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tmc/langchaingo/llms"

	"masteria/app/ai/provider"
	"masteria/app/model"
	"masteria/app/sim/openaisim"
	"masteria/app/store"
	"masteria/app/store/storetest"
	"masteria/app/vault"
)

const simKey = "sk-sim-provider-0123456789"

type env struct {
	ctx   context.Context
	st    *store.Store
	svc   *provider.Service
	sim   *openaisim.Server
	admin model.Actor
	other model.Actor
}

func setup(t *testing.T, opts ...provider.Option) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
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
	o1, err := st.CreateOrg(ctx, "Padaria Um")
	if err != nil {
		t.Fatal(err)
	}
	o2, _ := st.CreateOrg(ctx, "Padaria Dois")
	return &env{ctx: ctx, st: st, svc: provider.New(st, ring, opts...), sim: sim,
		admin: model.Actor{OrgID: o1.ID, Role: model.RoleAdmin}, other: model.Actor{OrgID: o2.ID, Role: model.RoleOwner}}
}

func (e *env) input() provider.Input {
	return provider.Input{BaseURL: e.sim.URL() + "/v1", Key: simKey, ChatModel: "gpt-4o-mini",
		EmbeddingModel: "text-embedding-3-small", EmbeddingDimensions: 1536}
}

func TestProviderSaveModelsTest(t *testing.T) {
	e := setup(t)
	in := e.input()
	in.BaseURL = e.sim.URL() // /v1 is appended
	if err := e.svc.Save(e.ctx, e.admin, in); err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.Settings(e.ctx, e.admin.OrgID)
	if err != nil || p.BaseURL != e.sim.URL()+"/v1" || p.Status != model.AIUntested {
		t.Fatalf("saved %+v, %v", p, err)
	}
	if strings.Contains(p.KeySealed, simKey) {
		t.Fatal("the key is stored in clear")
	}
	models, err := e.svc.Models(e.ctx, e.admin.OrgID)
	if err != nil || !containsAll(models, "gpt-4o-mini", "text-embedding-3-small") {
		t.Fatalf("models %v, %v", models, err)
	}
	res, err := e.svc.Test(e.ctx, e.admin)
	if err != nil || !res.OK || res.Reply == "" {
		t.Fatalf("test %+v, %v", res, err)
	}
	if p, _ = e.svc.Settings(e.ctx, e.admin.OrgID); p.Status != model.AIOK || p.TestedAt == nil {
		t.Fatalf("after test %+v", p)
	}
	reqs := e.sim.Requests()
	last := reqs[len(reqs)-1]
	if last.Path != "/v1/chat/completions" || last.Model != "gpt-4o-mini" {
		t.Fatalf("last request %+v", last)
	}
	// A blank key keeps the saved one; the other org sees nothing.
	in.Key, in.ChatModel = "", "gpt-4o"
	if err := e.svc.Save(e.ctx, e.admin, in); err != nil {
		t.Fatal(err)
	}
	if p, _ = e.svc.Settings(e.ctx, e.admin.OrgID); p.Status != model.AIOK || p.ChatModel != "gpt-4o" {
		t.Fatalf("kept key changed the status: %+v", p)
	}
	if _, err := e.svc.Settings(e.ctx, e.other.OrgID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("other org: %v", err)
	}
	if _, err := e.svc.Models(e.ctx, e.other.OrgID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("other org models: %v", err)
	}
}

func containsAll(list []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, l := range list {
			found = found || l == w
		}
		if !found {
			return false
		}
	}
	return true
}

func TestProviderBadInput(t *testing.T) {
	e := setup(t)
	for name, mut := range map[string]func(*provider.Input){
		"ftp url":     func(in *provider.Input) { in.BaseURL = "ftp://example.com/v1" },
		"no scheme":   func(in *provider.Input) { in.BaseURL = "example.com/v1" },
		"javascript":  func(in *provider.Input) { in.BaseURL = "javascript:alert(1)" },
		"user in url": func(in *provider.Input) { in.BaseURL = "https://u:p@example.com/v1" },
		"no key":      func(in *provider.Input) { in.Key = "" },
		"no model":    func(in *provider.Input) { in.ChatModel = " " },
		"no emb":      func(in *provider.Input) { in.EmbeddingModel = "" },
		"neg budget":  func(in *provider.Input) { in.MonthlyBudget = -1 },
		"dims":        func(in *provider.Input) { in.EmbeddingDimensions = -3 },
	} {
		in := e.input()
		mut(&in)
		if err := e.svc.Save(e.ctx, e.admin, in); !errors.Is(err, model.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := e.svc.Settings(e.ctx, e.admin.OrgID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("bad input saved something: %v", err)
	}
	agent := model.Actor{OrgID: e.admin.OrgID, Role: model.RoleAgent}
	if err := e.svc.Save(e.ctx, agent, e.input()); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("agent save: %v", err)
	}
	if _, err := e.svc.Test(e.ctx, agent); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("agent test: %v", err)
	}
	for in, want := range map[string]string{
		"http://localhost:11434":        "http://localhost:11434/v1",
		"https://api.openai.com/v1/":    "https://api.openai.com/v1",
		"https://openrouter.ai/api":     "https://openrouter.ai/api/v1",
		" https://gw.example.com/v1 ":   "https://gw.example.com/v1",
		"https://gw.example.com/a/v1//": "https://gw.example.com/a/v1",
	} {
		if got, err := provider.NormalizeBaseURL(in); err != nil || got != want {
			t.Errorf("NormalizeBaseURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestProviderWrongKey401(t *testing.T) {
	e := setup(t)
	in := e.input()
	in.Key = "sk-wrong"
	if err := e.svc.Save(e.ctx, e.admin, in); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.Test(e.ctx, e.admin)
	if err != nil || res.OK || !strings.Contains(res.Message, "the key was refused (401)") {
		t.Fatalf("test %+v, %v", res, err)
	}
	p, _ := e.svc.Settings(e.ctx, e.admin.OrgID)
	if p.Status != model.AIError || p.LastError != res.Message {
		t.Fatalf("recorded %+v", p)
	}
	if strings.Contains(res.Message, "sk-wrong") {
		t.Fatal("the key is in the message")
	}
	var pe *provider.Error
	if _, err := e.svc.Models(e.ctx, e.admin.OrgID); !errors.As(err, &pe) || pe.Status != 401 {
		t.Fatalf("models: %v", err)
	}
}

func TestProvider429(t *testing.T) {
	e := setup(t)
	if err := e.svc.Save(e.ctx, e.admin, e.input()); err != nil {
		t.Fatal(err)
	}
	e.sim.SetRateLimited(1, time.Second)
	res, _ := e.svc.Test(e.ctx, e.admin)
	if res.OK || !strings.Contains(res.Message, "rate limited") || !strings.Contains(res.Message, "429") {
		t.Fatalf("rate limited: %+v", res)
	}
	e.sim.SetRateLimited(0, 0)
	e.sim.SetQuotaExceeded(true)
	res, _ = e.svc.Test(e.ctx, e.admin)
	if res.OK || !strings.Contains(res.Message, "quota") {
		t.Fatalf("quota: %+v", res)
	}
	e.sim.SetQuotaExceeded(false)
	// The bot's chat model gives the same words.
	e.sim.SetRateLimited(1, time.Second)
	llm, err := e.svc.Chat(e.ctx, e.admin.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = llms.GenerateFromSinglePrompt(e.ctx, llm, "Oi")
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Status != 429 {
		t.Fatalf("chat 429: %v", err)
	}
}

func TestProviderTimeout(t *testing.T) {
	e := setup(t, provider.WithTimeouts(300*time.Millisecond, 300*time.Millisecond))
	if err := e.svc.Save(e.ctx, e.admin, e.input()); err != nil {
		t.Fatal(err)
	}
	e.sim.SetDelay(2 * time.Second)
	start := time.Now()
	res, err := e.svc.Test(e.ctx, e.admin)
	if err != nil || res.OK || !strings.Contains(res.Message, "did not answer in time") {
		t.Fatalf("timeout: %+v, %v", res, err)
	}
	if time.Since(start) > 1500*time.Millisecond {
		t.Fatalf("waited %v", time.Since(start))
	}
	p, _ := e.svc.Settings(e.ctx, e.admin.OrgID)
	if p.Status != model.AIError {
		t.Fatalf("recorded %+v", p)
	}
	// A chat call that waits past the call timeout, or past its context's deadline, is a
	// timeout too (langchaingo words both its own way).
	llm, err := e.svc.Chat(e.ctx, e.admin.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = llms.GenerateFromSinglePrompt(e.ctx, llm, "Oi")
	var pe *provider.Error
	if !errors.As(err, &pe) || !pe.Timeout {
		t.Fatalf("chat past the call timeout: %v", err)
	}
	short, cancel := context.WithTimeout(e.ctx, 100*time.Millisecond)
	defer cancel()
	_, err = llms.GenerateFromSinglePrompt(short, llm, "Oi")
	if !errors.As(err, &pe) || !pe.Timeout {
		t.Fatalf("chat past its deadline: %v", err)
	}
}

func TestProviderUsageAndBudget(t *testing.T) {
	e := setup(t)
	in := e.input()
	in.MonthlyBudget = 0.01
	if err := e.svc.Save(e.ctx, e.admin, in); err != nil {
		t.Fatal(err)
	}
	llm, err := e.svc.Chat(e.ctx, e.admin.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := llms.GenerateFromSinglePrompt(e.ctx, llm, "Qual o horário da padaria?"); err != nil {
		t.Fatal(err)
	}
	emb, err := e.svc.Embedder(e.ctx, e.admin.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	vecs, err := emb.EmbedDocuments(e.ctx, []string{"pão de queijo", "bolo de cenoura"})
	if err != nil || len(vecs) != 2 || len(vecs[0]) != 1536 {
		t.Fatalf("embed: %d, %v", len(vecs), err)
	}
	spent, err := e.svc.SpentThisMonth(e.ctx, e.admin.OrgID)
	if err != nil || spent <= 0 || spent > 0.001 {
		t.Fatalf("spent %v, %v", spent, err)
	}
	if e.svc.OverBudget(e.ctx, e.admin.OrgID) {
		t.Fatal("over budget after a few tokens")
	}
	if err := e.svc.RecordUsage(e.ctx, e.admin.OrgID, model.AIUsage{Kind: model.AIUsageChat, Model: "gpt-4o", Cost: 0.02}); err != nil {
		t.Fatal(err)
	}
	if !e.svc.OverBudget(e.ctx, e.admin.OrgID) {
		t.Fatal("not over budget")
	}
	if s, _ := e.svc.SpentThisMonth(e.ctx, e.other.OrgID); s != 0 || e.svc.OverBudget(e.ctx, e.other.OrgID) {
		t.Fatalf("other org spent %v", s)
	}
	// Last month's spend does not count this month.
	next := provider.New(e.st, nil, provider.WithClock(func() time.Time { return time.Now().AddDate(0, 1, 0) }))
	if s, _ := next.SpentThisMonth(e.ctx, e.admin.OrgID); s != 0 {
		t.Fatalf("next month spent %v", s)
	}
	if c, known := provider.Cost("mystery-model", 1000, 1000); c != 0 || known {
		t.Fatal("unknown model has a price")
	}
	if c, known := provider.Cost("openai/gpt-4o-mini", 1_000_000, 0); !known || c != 0.15 {
		t.Fatalf("prefixed model cost %v", c)
	}
}
