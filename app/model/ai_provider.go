package model

import "time"

// An AI provider's state: untested since its endpoint or key changed, ok, or error with the
// provider's words in LastError.
const (
	AIUntested = "untested"
	AIOK       = "ok"
	AIError    = "error"
)

// What an AI call was, in ai_usage.
const (
	AIUsageChat      = "chat"
	AIUsageEmbedding = "embedding"
)

// AIProvider is an org's OpenAI-compatible endpoint. The key stays sealed here: only
// app/ai/provider opens it, and nothing renders or answers it.
type AIProvider struct {
	OrgID               int64      `db:"org_id" json:"-"`
	BaseURL             string     `db:"base_url" json:"base_url"`
	KeySealed           string     `db:"api_key_sealed" json:"-"`
	ChatModel           string     `db:"chat_model" json:"chat_model"`
	EmbeddingModel      string     `db:"embedding_model" json:"embedding_model"`
	EmbeddingDimensions int        `db:"embedding_dimensions" json:"embedding_dimensions"`
	MonthlyBudget       float64    `db:"monthly_budget" json:"monthly_budget"`
	Status              string     `db:"status" json:"status"`
	LastError           string     `db:"last_error" json:"last_error"`
	TestedAt            *time.Time `db:"tested_at" json:"tested_at"`
	UpdatedAt           time.Time  `db:"updated_at" json:"updated_at"`
}

// AIUsage is one call that spent tokens.
type AIUsage struct {
	Kind             string
	Model            string
	PromptTokens     int
	CompletionTokens int
	Cost             float64 // USD, an estimate
}
