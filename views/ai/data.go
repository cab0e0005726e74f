// Package ai holds the pages of the AI layer: knowledge bases and the retrieval playground.
package ai

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/views/ui"
)

// BaseRow is a knowledge base in the list, with how many documents it holds.
type BaseRow struct {
	Base      model.KnowledgeBase
	Documents int
}

// ListData is the knowledge bases page.
type ListData struct {
	Rows  []BaseRow
	Name  string
	Error string // i18n key of the create form's error
}

// BaseData is one knowledge base's page.
type BaseData struct {
	Base      model.KnowledgeBase
	Documents []model.KBDocument
	// The add forms: which one failed (text, file, url), its values and error key.
	Form      string
	Title     string
	Text      string
	URL       string
	Error     string
	MaxFileMB int
	// The rename form, when it failed.
	Rename      string
	RenameError string
	Playground  PlaygroundData
}

// PlaygroundData is the retrieval playground: a question and the chunks found.
type PlaygroundData struct {
	BaseID   int64
	Query    string
	Asked    bool
	Hits     []model.ChunkHit
	VectorOn bool   // the org has an embedding model
	Warning  string // the vector search failed: lexical only
	Answer   *PlaygroundAnswer
}

// PlaygroundAnswer is what the bot would answer the playground's question.
type PlaygroundAnswer struct {
	Text         string // with its citation marks, [1]
	Citations    []model.Citation
	Model        string
	Tokens       int
	Cost         float64
	HandOver     string // the model would hand over, for this reason
	NothingFound bool   // nothing relevant: the bot would hand over
	Error        string // the provider failed, in its words
}

// DocumentData is a document's page: its text to edit.
type DocumentData struct {
	Base     model.KnowledgeBase
	Document model.KBDocument
	Error    string
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

func score(f float64) string { return strconv.FormatFloat(f, 'f', 4, 64) }

func distance(f *float64) string {
	if f == nil {
		return "—"
	}
	return strconv.FormatFloat(*f, 'f', 4, 64)
}

// statusKind is a document status's badge colour.
func statusKind(status string) string {
	switch status {
	case model.DocReady:
		return "success"
	case model.DocFailed:
		return "danger"
	case model.DocIndexing:
		return "info"
	}
	return "neutral"
}

// docsPoll says whether the documents list asks itself again a second after it was drawn:
// while a document is still being indexed.
func docsPoll(docs []model.KBDocument) bool {
	for _, d := range docs {
		if d.Status == model.DocPending || d.Status == model.DocIndexing {
			return true
		}
	}
	return false
}

func basePath(kbID int64, rest string) string { return fmt.Sprintf("/knowledge/%d%s", kbID, rest) }

// docError is why a document failed: a reason the knowledge base knows (a damaged or
// protected PDF, one without text) is kept as its message key and shown in the reader's
// language; anything else (a provider's answer) as it was said.
func docError(ctx context.Context, e string, mb int) string {
	if strings.HasPrefix(e, "kb.error.") && i18n.Has(ui.From(ctx).Locale, e) {
		return ui.T(ctx, e, "mb", id(int64(mb)))
	}
	return e
}
