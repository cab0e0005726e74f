package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/jmoiron/sqlx"

	"masteria/app/model"
)

// EmbeddingDims is the size of every stored embedding (migration 00015 says why one size).
const EmbeddingDims = 1536

// knowledgeQueries are the queries of knowledge bases, their documents and chunks.
type knowledgeQueries struct {
	KBCreate  *sqlx.Stmt `query:"kb-create"`
	KBs       *sqlx.Stmt `query:"kbs"`
	KBsPage   *sqlx.Stmt `query:"kbs-page"`
	KBByID    *sqlx.Stmt `query:"kb-by-id"`
	KBUpdate  *sqlx.Stmt `query:"kb-update"`
	KBDelete  *sqlx.Stmt `query:"kb-delete"`
	DocCreate *sqlx.Stmt `query:"kb-doc-create"`
	Docs      *sqlx.Stmt `query:"kb-docs"`
	DocsPage  *sqlx.Stmt `query:"kb-docs-page"`
	DocByID   *sqlx.Stmt `query:"kb-doc-by-id"`
	DocUpdate *sqlx.Stmt `query:"kb-doc-update"`
	DocStatus *sqlx.Stmt `query:"kb-doc-set-status"`
	DocDelete *sqlx.Stmt `query:"kb-doc-delete"`
	FileSet   *sqlx.Stmt `query:"kb-doc-file-set"`
	File      *sqlx.Stmt `query:"kb-doc-file"`
	FileDel   *sqlx.Stmt `query:"kb-doc-file-delete"`

	ChunksReplace  *sqlx.Stmt `query:"kb-chunks-replace"`
	ChunksToEmbed  *sqlx.Stmt `query:"kb-chunks-to-embed"`
	ChunksSetEmbed *sqlx.Stmt `query:"kb-chunks-set-embeddings"`
	SearchSettings *sqlx.Stmt `query:"kb-search-settings"`
	Search         *sqlx.Stmt `query:"kb-search"`
}

// CreateKnowledgeBase adds a knowledge base to an org; createdBy may be 0 (the API, a seed).
func (s *Store) CreateKnowledgeBase(ctx context.Context, orgID int64, name, description string, createdBy int64) (model.KnowledgeBase, error) {
	var out model.KnowledgeBase
	var by *int64
	if createdBy != 0 {
		by = &createdBy
	}
	if err := s.get(ctx, s.q.KBCreate, &out, orgID, name, description, by); err != nil {
		return out, fmt.Errorf("store: create knowledge base: %w", err)
	}
	return out, nil
}

// KnowledgeBases lists an org's knowledge bases by name.
func (s *Store) KnowledgeBases(ctx context.Context, orgID int64) ([]model.KnowledgeBase, error) {
	var out []model.KnowledgeBase
	if err := s.sel(ctx, s.q.KBs, &out, orgID); err != nil {
		return nil, fmt.Errorf("store: knowledge bases: %w", err)
	}
	return out, nil
}

// KnowledgeBase returns one of an org's knowledge bases.
func (s *Store) KnowledgeBase(ctx context.Context, orgID, id int64) (model.KnowledgeBase, error) {
	var out model.KnowledgeBase
	if err := s.get(ctx, s.q.KBByID, &out, orgID, id); err != nil {
		return out, fmt.Errorf("store: knowledge base %d: %w", id, err)
	}
	return out, nil
}

// UpdateKnowledgeBase renames and describes a knowledge base.
func (s *Store) UpdateKnowledgeBase(ctx context.Context, orgID, id int64, name, description string) (model.KnowledgeBase, error) {
	var out model.KnowledgeBase
	if err := s.get(ctx, s.q.KBUpdate, &out, orgID, id, name, description); err != nil {
		return out, fmt.Errorf("store: update knowledge base %d: %w", id, err)
	}
	return out, nil
}

// DeleteKnowledgeBase removes a knowledge base with its documents and chunks.
func (s *Store) DeleteKnowledgeBase(ctx context.Context, orgID, id int64) error {
	if _, err := s.exec(ctx, s.q.KBDelete, orgID, id); err != nil {
		return fmt.Errorf("store: delete knowledge base %d: %w", id, err)
	}
	return nil
}

// ContentHash is the hash a document's content is stored with.
func ContentHash(content string) string {
	h := sha256.Sum256([]byte(content))
	return hex.EncodeToString(h[:])
}

// CreateDocument adds a pending document to one of the org's knowledge bases (ErrNotFound
// when the knowledge base is not the org's).
func (s *Store) CreateDocument(ctx context.Context, orgID int64, d model.KBDocument) (model.KBDocument, error) {
	var out model.KBDocument
	if d.Source == "" {
		d.Source = model.DocSourceText
	}
	err := s.get(ctx, s.q.DocCreate, &out, orgID, d.KnowledgeBaseID, d.Title, d.Source, d.SourceURL, d.FileName,
		d.Content, ContentHash(d.Content))
	if err != nil {
		return out, fmt.Errorf("store: create document: %w", err)
	}
	return out, nil
}

// Documents lists a knowledge base's documents, newest first, without their content.
func (s *Store) Documents(ctx context.Context, orgID, kbID int64) ([]model.KBDocument, error) {
	var out []model.KBDocument
	if err := s.sel(ctx, s.q.Docs, &out, orgID, kbID); err != nil {
		return nil, fmt.Errorf("store: documents: %w", err)
	}
	return out, nil
}

// KnowledgeBasesPage returns up to limit of an org's knowledge bases in the order they
// were made, after afterID when it is not 0.
func (s *Store) KnowledgeBasesPage(ctx context.Context, orgID, afterID int64, limit int) ([]model.KnowledgeBase, error) {
	var out []model.KnowledgeBase
	if err := s.sel(ctx, s.q.KBsPage, &out, orgID, afterID, limit); err != nil {
		return nil, fmt.Errorf("store: knowledge bases page: %w", err)
	}
	return out, nil
}

// DocumentsPage returns up to limit of a knowledge base's documents, newest first, older
// than beforeID when it is not 0, without their content.
func (s *Store) DocumentsPage(ctx context.Context, orgID, kbID, beforeID int64, limit int) ([]model.KBDocument, error) {
	var out []model.KBDocument
	if err := s.sel(ctx, s.q.DocsPage, &out, orgID, kbID, beforeID, limit); err != nil {
		return nil, fmt.Errorf("store: documents page: %w", err)
	}
	return out, nil
}

// Document returns one of an org's documents with its content.
func (s *Store) Document(ctx context.Context, orgID, id int64) (model.KBDocument, error) {
	var out model.KBDocument
	if err := s.get(ctx, s.q.DocByID, &out, orgID, id); err != nil {
		return out, fmt.Errorf("store: document %d: %w", id, err)
	}
	return out, nil
}

// UpdateDocument sets a document's title and content; it waits to be indexed again.
func (s *Store) UpdateDocument(ctx context.Context, orgID, id int64, title, content string) error {
	n, err := s.exec(ctx, s.q.DocUpdate, orgID, id, title, content, ContentHash(content))
	if err != nil {
		return fmt.Errorf("store: update document %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: update document %d: %w", id, model.ErrNotFound)
	}
	return nil
}

// SetDocumentStatus records a document's indexing status, and why it failed.
func (s *Store) SetDocumentStatus(ctx context.Context, orgID, id int64, status, errText string) error {
	if _, err := s.exec(ctx, s.q.DocStatus, orgID, id, status, errText); err != nil {
		return fmt.Errorf("store: document %d status: %w", id, err)
	}
	return nil
}

// DeleteDocument removes a document and its chunks.
func (s *Store) DeleteDocument(ctx context.Context, orgID, id int64) error {
	if _, err := s.exec(ctx, s.q.DocDelete, orgID, id); err != nil {
		return fmt.Errorf("store: delete document %d: %w", id, err)
	}
	return nil
}

// SetDocumentFile keeps the uploaded file of one of the org's documents until its text is
// read (ErrNotFound when the document is not the org's).
func (s *Store) SetDocumentFile(ctx context.Context, orgID, docID int64, data []byte) error {
	n, err := s.exec(ctx, s.q.FileSet, orgID, docID, data)
	if err != nil {
		return fmt.Errorf("store: document %d file: %w", docID, err)
	}
	if n == 0 {
		return fmt.Errorf("store: document %d file: %w", docID, model.ErrNotFound)
	}
	return nil
}

// DocumentFile returns a document's uploaded file whose text is still to be read
// (ErrNotFound when there is none).
func (s *Store) DocumentFile(ctx context.Context, orgID, docID int64) ([]byte, error) {
	var data []byte
	if err := s.get(ctx, s.q.File, &data, orgID, docID); err != nil {
		return nil, fmt.Errorf("store: document %d file: %w", docID, err)
	}
	return data, nil
}

// DeleteDocumentFile drops a document's uploaded file once its text is read.
func (s *Store) DeleteDocumentFile(ctx context.Context, orgID, docID int64) error {
	if _, err := s.exec(ctx, s.q.FileDel, orgID, docID); err != nil {
		return fmt.Errorf("store: delete document %d file: %w", docID, err)
	}
	return nil
}
