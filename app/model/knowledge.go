package model

import "time"

// KnowledgeBase is an org's set of documents the bot answers from.
type KnowledgeBase struct {
	ID          int64     `db:"id" json:"id"`
	OrgID       int64     `db:"org_id" json:"-"`
	Name        string    `db:"name" json:"name"`
	Description string    `db:"description" json:"description"`
	CreatedBy   *int64    `db:"created_by" json:"-"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
	UpdatedAt   time.Time `db:"updated_at" json:"updated_at"`
}

// Where a document's text came from.
const (
	DocSourceText = "text"
	DocSourceFile = "file"
	DocSourceURL  = "url"
)

// A document's indexing status: pending → indexing → ready, or failed with its error.
const (
	DocPending  = "pending"
	DocIndexing = "indexing"
	DocReady    = "ready"
	DocFailed   = "failed"
)

// KBDocument is one document of a knowledge base.
type KBDocument struct {
	ID              int64     `db:"id" json:"id"`
	OrgID           int64     `db:"org_id" json:"-"`
	KnowledgeBaseID int64     `db:"knowledge_base_id" json:"knowledge_base_id"`
	Title           string    `db:"title" json:"title"`
	Source          string    `db:"source" json:"source"`
	SourceURL       string    `db:"source_url" json:"source_url,omitempty"`
	FileName        string    `db:"file_name" json:"file_name,omitempty"`
	Content         string    `db:"content" json:"-"`
	ContentHash     string    `db:"content_hash" json:"-"`
	Status          string    `db:"status" json:"status"`
	Error           string    `db:"error" json:"error,omitempty"`
	Chunks          int       `db:"chunks" json:"chunks"`
	CreatedAt       time.Time `db:"created_at" json:"created_at"`
	UpdatedAt       time.Time `db:"updated_at" json:"updated_at"`
}

// ChunkText is a piece of a document as the chunker cut it: its heading path and text.
type ChunkText struct {
	Heading string
	Text    string
}

// ChunkHit is a chunk a search found, with how each retrieval ranked it.
type ChunkHit struct {
	ChunkID    int64  `db:"id" json:"chunk_id"`
	DocumentID int64  `db:"document_id" json:"document_id"`
	Title      string `db:"title" json:"title"`
	Heading    string `db:"heading" json:"heading"`
	Text       string `db:"text" json:"text"`
	// LexicalRank is the full-text score (0: the words did not match).
	LexicalRank float64 `db:"lexical_rank" json:"lexical_rank"`
	// VectorDistance is the cosine distance to the question (nil: not among the nearest, or
	// no vector search).
	VectorDistance *float64 `db:"vector_distance" json:"vector_distance,omitempty"`
	// Score is the fused rank, higher is better.
	Score float64 `db:"score" json:"score"`
}
