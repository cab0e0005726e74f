// Package provider connects an org to its OpenAI-compatible AI endpoint (OpenAI, a gateway,
// Ollama, vLLM, OpenRouter): its settings with the key sealed by app/vault, the models it
// lists, a Test, the langchaingo chat and embedding clients the bot and the knowledge bases
// use, and what the calls cost against the org's monthly budget.
//
// The base URL is the API root that langchaingo appends "/chat/completions" to, so it ends
// in /v1. Save accepts it either way: "http://localhost:11434" or ".../v1/" are stored as
// ".../v1" (a path that already ends in /v1 is kept, anything else gets /v1 appended). A
// gateway whose API root does not end in /v1 is not supported.
//
// Nothing is read from the environment: every client gets its base URL, key, models and an
// HTTP client with a timeout explicitly. Costs are estimates from the Prices table.
package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tmc/langchaingo/embeddings"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"

	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/vault"
)

// Limits of the settings.
const (
	MaxModelLen   = 200
	MaxURLLen     = 500
	MaxKeyLen     = 500
	MaxDimensions = 8192
	MaxBudget     = 1_000_000
)

// Service keeps the org's provider settings and builds its clients.
type Service struct {
	st          *store.Store
	ring        *vault.Ring
	timeout     time.Duration // listing models and Test
	callTimeout time.Duration // the bot's chat and embedding calls
	now         func() time.Time
}

// Option configures a Service.
type Option func(*Service)

// WithTimeouts sets how long listing models and Test wait (default 10 s) and how long a
// chat or embedding call waits (default 60 s).
func WithTimeouts(test, call time.Duration) Option {
	return func(s *Service) { s.timeout, s.callTimeout = test, call }
}

// WithClock replaces time.Now, for the month of the spend.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// New returns the provider service.
func New(st *store.Store, ring *vault.Ring, opts ...Option) *Service {
	s := &Service{st: st, ring: ring, timeout: 10 * time.Second, callTimeout: 60 * time.Second, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// KeyAD binds a sealed key to its org: copied to another org's row, it does not open.
func KeyAD(orgID int64) []byte { return fmt.Appendf(nil, "org:%d:ai-provider:key", orgID) }

// Input is what an admin saves. A blank Key keeps the saved one.
type Input struct {
	BaseURL             string
	Key                 string
	ChatModel           string
	EmbeddingModel      string
	EmbeddingDimensions int
	MonthlyBudget       float64
}

// Settings returns the org's provider (its key stays sealed), or model.ErrNotFound.
func (s *Service) Settings(ctx context.Context, orgID int64) (model.AIProvider, error) {
	return s.st.AIProvider(ctx, orgID)
}

// NormalizeBaseURL checks an endpoint's URL and returns it ending in /v1 (see the package
// doc). The error is an i18n key.
func NormalizeBaseURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("form.error.required")
	}
	u, err := url.Parse(raw)
	if err != nil || len(raw) > MaxURLLen || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(raw, " \t\r\n") {
		return "", errors.New("ai.provider.error.base_url")
	}
	path := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(path, "/v1") {
		path += "/v1"
	}
	u.Path, u.RawPath = path, ""
	return u.String(), nil
}

// Save validates and stores the settings; only those who may manage the org may.
func (s *Service) Save(ctx context.Context, a model.Actor, in Input) error {
	if !a.Role.May(model.ManageOrg) {
		return model.ErrForbidden
	}
	v := model.NewValidationError()
	base, err := NormalizeBaseURL(in.BaseURL)
	if err != nil {
		v.Add("base_url", err.Error())
	}
	key := strings.TrimSpace(in.Key)
	if len(key) > MaxKeyLen || strings.ContainsAny(key, " \t\r\n") || !utf8.ValidString(key) {
		v.Add("key", "ai.provider.error.key")
	}
	old, err := s.st.AIProvider(ctx, a.OrgID)
	switch {
	case errors.Is(err, model.ErrNotFound):
		if key == "" {
			v.Add("key", "form.error.required")
		}
	case err != nil:
		return err
	}
	chat, emb := strings.TrimSpace(in.ChatModel), strings.TrimSpace(in.EmbeddingModel)
	for field, m := range map[string]string{"chat_model": chat, "embedding_model": emb} {
		switch {
		case m == "":
			v.Add(field, "form.error.required")
		case utf8.RuneCountInString(m) > MaxModelLen || strings.ContainsAny(m, " \t\r\n"):
			v.Add(field, "ai.provider.error.model")
		}
	}
	if in.EmbeddingDimensions < 0 || in.EmbeddingDimensions > MaxDimensions {
		v.Add("embedding_dimensions", "ai.provider.error.dimensions")
	}
	if math.IsNaN(in.MonthlyBudget) || in.MonthlyBudget < 0 || in.MonthlyBudget > MaxBudget {
		v.Add("monthly_budget", "ai.provider.error.budget")
	}
	if err := v.Err(); err != nil {
		return err
	}
	sealed := old.KeySealed
	if key != "" {
		if sealed, err = s.ring.Seal([]byte(key), KeyAD(a.OrgID)); err != nil {
			return err
		}
	}
	return s.st.PutAIProvider(ctx, a.OrgID, model.AIProvider{BaseURL: base, KeySealed: sealed, ChatModel: chat,
		EmbeddingModel: emb, EmbeddingDimensions: in.EmbeddingDimensions, MonthlyBudget: math.Round(in.MonthlyBudget*100) / 100})
}

// open returns the org's settings and its key in clear.
func (s *Service) open(ctx context.Context, orgID int64) (model.AIProvider, string, error) {
	p, err := s.st.AIProvider(ctx, orgID)
	if err != nil {
		return p, "", err
	}
	key, err := s.ring.Open(p.KeySealed, KeyAD(orgID))
	if err != nil {
		return p, "", fmt.Errorf("provider: open the key of org %d: %w", orgID, err)
	}
	return p, string(key), nil
}

// Error is what the endpoint answered, in words an admin can act on.
type Error struct {
	Status  int    // HTTP status; 0 for a timeout or a network error
	Code    string // OpenAI's error code, when given
	Message string // the provider's own message
	Timeout bool
	err     error
}

func (e *Error) Error() string {
	var what string
	switch {
	case e.Timeout:
		what = "the endpoint did not answer in time"
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		what = "the key was refused"
	case e.Status == http.StatusTooManyRequests && (e.Code == "insufficient_quota" || strings.Contains(e.Message, "quota")):
		what = "the account's quota is used up"
	case e.Status == http.StatusTooManyRequests:
		what = "rate limited: too many requests"
	case e.Status == http.StatusNotFound:
		what = "not found (check the base URL and the model)"
	case e.Status >= 500:
		what = "the endpoint failed"
	case e.Status != 0:
		what = "the endpoint refused the request"
	default:
		what = "the endpoint could not be reached"
	}
	if e.Status != 0 {
		what += " (" + strconv.Itoa(e.Status) + ")"
	}
	if e.Message != "" {
		what += ": " + e.Message
	}
	return what
}

func (e *Error) Unwrap() error { return e.err }

var statusInText = regexp.MustCompile(`status code: (\d{3})(?::\s*(.*))?`)

// classify turns a client error into an *Error with the provider's words.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	var ne net.Error
	// langchaingo's client replaces a deadline or a network timeout by its own plain error
	// ("request timeout: …"), which wraps neither.
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) || strings.Contains(err.Error(), "request timeout: ") {
		return &Error{Timeout: true, err: err}
	}
	if m := statusInText.FindStringSubmatch(err.Error()); m != nil {
		st, _ := strconv.Atoi(m[1])
		e := &Error{Status: st, Message: clip(m[2]), err: err}
		if strings.Contains(m[2], "quota") {
			e.Code = "insufficient_quota"
		}
		return e
	}
	return &Error{Message: clip(err.Error()), err: err}
}

// clip keeps a provider's message short and printable.
func clip(s string) string {
	s = strings.ToValidUTF8(strings.TrimSpace(s), "")
	if utf8.RuneCountInString(s) > 300 {
		s = string([]rune(s)[:300]) + "…"
	}
	return s
}

// ModelsFor lists the models of an endpoint given by the settings form: a blank key uses the
// saved one. The base URL is normalized like Save does.
func (s *Service) ModelsFor(ctx context.Context, a model.Actor, baseURL, key string) ([]string, error) {
	if !a.Role.May(model.ManageOrg) {
		return nil, model.ErrForbidden
	}
	base, err := NormalizeBaseURL(baseURL)
	if err != nil {
		return nil, model.FieldError("base_url", err.Error())
	}
	if key = strings.TrimSpace(key); key == "" {
		_, saved, err := s.open(ctx, a.OrgID)
		if errors.Is(err, model.ErrNotFound) {
			return nil, model.FieldError("key", "form.error.required")
		} else if err != nil {
			return nil, err
		}
		key = saved
	}
	return s.listModels(ctx, base, key)
}

// Models lists the models the org's saved endpoint offers.
func (s *Service) Models(ctx context.Context, orgID int64) ([]string, error) {
	p, key, err := s.open(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return s.listModels(ctx, p.BaseURL, key)
}

// listModels is GET {base}/models with the key.
func (s *Service) listModels(ctx context.Context, base, key string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/models", nil)
	if err != nil {
		return nil, &Error{Message: "bad base URL", err: err}
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Accept", "application/json")
	resp, err := (&http.Client{Timeout: s.timeout}).Do(req)
	if err != nil {
		return nil, classify(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, classify(err)
	}
	if resp.StatusCode != http.StatusOK {
		var eb struct {
			Error struct {
				Message string `json:"message"`
				Code    any    `json:"code"`
			} `json:"error"`
		}
		_ = json.Unmarshal(body, &eb)
		code, _ := eb.Error.Code.(string)
		return nil, &Error{Status: resp.StatusCode, Code: code, Message: clip(eb.Error.Message)}
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, &Error{Status: resp.StatusCode, Message: "the model list is not OpenAI's JSON"}
	}
	var out []string
	for _, m := range list.Data {
		if id := clip(m.ID); id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

// TestResult is what Test found.
type TestResult struct {
	OK      bool
	Message string // the provider's words on failure
	Models  []string
	Reply   string // the chat model's answer
}

// Test lists the endpoint's models and runs a tiny chat completion with the chat model, and
// records the outcome (ok, or error with the provider's words) on the settings.
func (s *Service) Test(ctx context.Context, a model.Actor) (TestResult, error) {
	if !a.Role.May(model.ManageOrg) {
		return TestResult{}, model.ErrForbidden
	}
	p, key, err := s.open(ctx, a.OrgID)
	if err != nil {
		return TestResult{}, err
	}
	res := TestResult{}
	res.Models, err = s.listModels(ctx, p.BaseURL, key)
	if err == nil {
		tctx, cancel := context.WithTimeout(ctx, s.timeout)
		var llm llms.Model
		if llm, err = s.chat(p, key, s.timeout); err == nil {
			llm = &metered{Model: llm, s: s, orgID: a.OrgID, model: p.ChatModel}
			res.Reply, err = llms.GenerateFromSinglePrompt(tctx, llm, "Reply with the word OK.",
				llms.WithMaxTokens(5), llms.WithTemperature(0))
		}
		cancel()
	}
	if err != nil {
		res.Message = classify(err).Error()
		if serr := s.st.SetAIProviderStatus(ctx, a.OrgID, model.AIError, res.Message); serr != nil {
			return res, serr
		}
		return res, nil
	}
	res.OK = true
	return res, s.st.SetAIProviderStatus(ctx, a.OrgID, model.AIOK, "")
}

func (s *Service) client(timeout time.Duration) *http.Client { return &http.Client{Timeout: timeout} }

// chat builds the langchaingo client of a provider's chat model, with extra options (a
// response format).
func (s *Service) chat(p model.AIProvider, key string, timeout time.Duration, extra ...openai.Option) (*openai.LLM, error) {
	return openai.New(append([]openai.Option{
		openai.WithBaseURL(p.BaseURL),
		openai.WithToken(key),
		openai.WithOrganization(""),
		openai.WithModel(p.ChatModel),
		openai.WithEmbeddingModel(p.EmbeddingModel),
		openai.WithEmbeddingDimensions(p.EmbeddingDimensions),
		openai.WithHTTPClient(s.client(timeout)),
	}, extra...)...)
}

// Chat returns the org's chat model; every answer's tokens and cost are recorded.
func (s *Service) Chat(ctx context.Context, orgID int64) (llms.Model, error) {
	llm, _, err := s.ChatAs(ctx, orgID, "")
	return llm, err
}

// ChatAs returns another model of the org's endpoint (a persona's; "" is the chat model),
// and the model's name; every answer's tokens and cost are recorded against that name.
func (s *Service) ChatAs(ctx context.Context, orgID int64, name string) (llms.Model, string, error) {
	p, key, err := s.open(ctx, orgID)
	if err != nil {
		return nil, "", err
	}
	if name != "" {
		p.ChatModel = name
	}
	llm, err := s.chat(p, key, s.callTimeout)
	if err != nil {
		return nil, "", err
	}
	return &metered{Model: llm, s: s, orgID: orgID, model: p.ChatModel}, p.ChatModel, nil
}

// Embedder returns the org's embedding model; each call's estimated tokens are recorded
// (OpenAI-compatible endpoints report them, but langchaingo does not pass them on).
func (s *Service) Embedder(ctx context.Context, orgID int64) (embeddings.Embedder, error) {
	p, key, err := s.open(ctx, orgID)
	if err != nil {
		return nil, err
	}
	llm, err := s.chat(p, key, s.callTimeout)
	if err != nil {
		return nil, err
	}
	return embeddings.NewEmbedder(embeddings.EmbedderClientFunc(func(ctx context.Context, texts []string) ([][]float32, error) {
		out, err := llm.CreateEmbedding(ctx, texts)
		if err != nil {
			return nil, classify(err)
		}
		tokens := 0
		for _, t := range texts {
			tokens += (utf8.RuneCountInString(t) + 3) / 4
		}
		s.record(ctx, orgID, model.AIUsageEmbedding, p.EmbeddingModel, tokens, 0)
		return out, nil
	}))
}

// metered records the usage of every answer of a chat model.
type metered struct {
	llms.Model
	s     *Service
	orgID int64
	model string
}

func (m *metered) GenerateContent(ctx context.Context, msgs []llms.MessageContent, opts ...llms.CallOption) (*llms.ContentResponse, error) {
	resp, err := m.Model.GenerateContent(ctx, msgs, opts...)
	if err != nil {
		return resp, classify(err)
	}
	prompt, completion := Tokens(resp)
	m.s.record(ctx, m.orgID, model.AIUsageChat, m.model, prompt, completion)
	return resp, nil
}

// Tokens is what an answer spent: its prompt's tokens and those of all its choices.
func Tokens(resp *llms.ContentResponse) (prompt, completion int) {
	for _, c := range resp.Choices {
		prompt = max(prompt, intOf(c.GenerationInfo["PromptTokens"]))
		completion += intOf(c.GenerationInfo["CompletionTokens"])
	}
	return prompt, completion
}

func (m *metered) Call(ctx context.Context, prompt string, opts ...llms.CallOption) (string, error) {
	return llms.GenerateFromSinglePrompt(ctx, m, prompt, opts...)
}

func intOf(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	}
	return 0
}

// record stores a call's usage; a failure to record is logged, the answer is still given.
func (s *Service) record(ctx context.Context, orgID int64, kind, mdl string, prompt, completion int) {
	cost, _ := Cost(mdl, prompt, completion)
	if err := s.RecordUsage(context.WithoutCancel(ctx), orgID, model.AIUsage{Kind: kind, Model: mdl,
		PromptTokens: prompt, CompletionTokens: completion, Cost: cost}); err != nil {
		slog.Warn("provider: record usage", "org", orgID, "err", err)
	}
}

// RecordUsage stores one call's tokens and cost.
func (s *Service) RecordUsage(ctx context.Context, orgID int64, u model.AIUsage) error {
	return s.st.AddAIUsage(ctx, orgID, u)
}

// monthStart is the first instant of now's month, in UTC.
func (s *Service) monthStart() time.Time {
	n := s.now().UTC()
	return time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// SpentThisMonth is what the org's AI calls cost this month (UTC), in US dollars.
func (s *Service) SpentThisMonth(ctx context.Context, orgID int64) (float64, error) {
	return s.st.AISpentSince(ctx, orgID, s.monthStart())
}

// OverBudget reports whether the org has spent its monthly budget. No budget (0) or no
// provider is never over; when the spend cannot be read it says over, so the bot hands over
// rather than spending without a check.
func (s *Service) OverBudget(ctx context.Context, orgID int64) bool {
	p, err := s.st.AIProvider(ctx, orgID)
	if errors.Is(err, model.ErrNotFound) {
		return false
	}
	if err != nil {
		slog.Warn("provider: budget", "org", orgID, "err", err)
		return true
	}
	if p.MonthlyBudget <= 0 {
		return false
	}
	spent, err := s.SpentThisMonth(ctx, orgID)
	if err != nil {
		slog.Warn("provider: budget", "org", orgID, "err", err)
		return true
	}
	return spent >= p.MonthlyBudget
}
