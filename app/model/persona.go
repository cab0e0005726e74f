package model

import (
	"encoding/json"
	"time"
)

// Conversation owners: who answers a conversation now (migration 00017).
const (
	OwnerBot     = "bot"
	OwnerWaiting = "waiting" // the bot handed over; nobody has taken it yet
	OwnerHuman   = "human"
	OwnerClosed  = "closed"
)

// What a persona does when its knowledge bases hold nothing relevant to a question.
const (
	NothingFoundSay    = "say"    // tell the customer, then hand over
	NothingFoundSilent = "silent" // hand over without a word
)

// Persona is how an org's bot speaks, what it knows and when it hands over.
type Persona struct {
	ID           int64   `db:"id" json:"id"`
	OrgID        int64   `db:"org_id" json:"-"`
	Name         string  `db:"name" json:"name"`
	Instructions string  `db:"instructions" json:"instructions"`
	Tone         string  `db:"tone" json:"tone"`         // friendly, formal, casual, concise
	Language     string  `db:"language" json:"language"` // a BCP 47 tag: pt-BR, en, es
	Model        string  `db:"model" json:"model"`       // "" is the org's chat model
	Temperature  float64 `db:"temperature" json:"temperature"`
	NothingFound string  `db:"nothing_found" json:"nothing_found"`
	MaxTurns     int     `db:"max_turns" json:"max_turns"`
	// HandoverKeywords hand the conversation over at once when a customer writes one
	// (as a word, whatever its case and accents).
	HandoverKeywords Labels `db:"handover_keywords" json:"handover_keywords"`
	// HandoverMessage is what the customer is told at a hand-over ("" : the default words).
	HandoverMessage string `db:"handover_message" json:"handover_message"`
	// BusinessHours: {"mon":[["08:00","18:00"]], …} in the org's time zone; empty is always.
	BusinessHours  json.RawMessage `db:"business_hours" json:"business_hours"`
	KnowledgeBases IDs             `db:"knowledge_base_ids" json:"knowledge_base_ids"`
	CreatedAt      time.Time       `db:"created_at" json:"created_at"`
	UpdatedAt      time.Time       `db:"updated_at" json:"updated_at"`
}

// Citation is a passage a bot reply drew on, numbered as the reply cites it.
type Citation struct {
	N          int    `json:"n"`
	DocumentID int64  `json:"document_id"`
	ChunkID    int64  `json:"chunk_id"`
	Title      string `json:"title"`
	Text       string `json:"text"`
}

// AIReply is what a bot reply was built from: shown under the message to agents.
type AIReply struct {
	MessageID        int64     `db:"message_id" json:"message_id"`
	PersonaID        *int64    `db:"persona_id" json:"persona_id"`
	Model            string    `db:"model" json:"model"`
	PromptTokens     int       `db:"prompt_tokens" json:"prompt_tokens"`
	CompletionTokens int       `db:"completion_tokens" json:"completion_tokens"`
	Cost             float64   `db:"cost" json:"cost"`
	Citations        Citations `db:"citations" json:"citations"`
	CreatedAt        time.Time `db:"created_at" json:"created_at"`
}

// IDs is a list of ids the store reads as JSON (to_json of a bigint[]).
type IDs []int64

// Scan reads a JSON array of numbers.
func (l *IDs) Scan(src any) error { return scanJSON(src, (*[]int64)(l)) }

// MarshalJSON writes no ids as [], not null.
func (l IDs) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]int64(l))
}

// Citations are a bot reply's numbered sources, stored as JSON.
type Citations []Citation

// Scan reads the JSON column.
func (c *Citations) Scan(src any) error { return scanJSON(src, (*[]Citation)(c)) }
