// Package kb is the knowledge-base service: knowledge bases and their documents (text,
// files, web pages), indexed by River jobs into the chunks retrieval searches, and the
// search itself, lexical always and hybrid when the org has an embedding model.
package kb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"masteria/app/ai/knowledge"
	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// Embedder turns texts into vectors of store.EmbeddingDims numbers.
type Embedder interface {
	EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error)
	EmbedQuery(ctx context.Context, text string) ([]float32, error)
}

// ModelNamer is an Embedder that says which model it is (stored with each vector, so a
// change of model re-embeds). An Embedder without it is "default".
type ModelNamer interface{ ModelName() string }

// Limits of what a document may be.
const (
	MaxFileBytes = 5 << 20 // an uploaded file or a fetched page
	MaxTextRunes = 2 << 20 // the text of a document, after extraction
	MaxTitleLen  = 200
	MaxQueryLen  = 1000
	embedBatch   = 64
)

// Errors the pages and the API turn into clear messages.
var (
	ErrTooLarge    = errors.New("kb: the file is larger than 5 MB")
	ErrUnsupported = errors.New("kb: this type of file is not supported: use txt, md, html, pdf or docx")
	ErrPrivateURL  = errors.New("kb: the address is private, loopback or link-local")
)

// Jobs inserts River jobs in the caller's transaction.
type Jobs interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Options configure the service.
type Options struct {
	// EmbedderFor returns the org's embedder, or (nil, nil) when it has no embedding model:
	// then indexing and search are lexical only.
	EmbedderFor func(ctx context.Context, orgID int64) (Embedder, error)
	// AllowPrivateURLs lets URL documents reach private, loopback and link-local addresses
	// (tests, a self-hosted intranet).
	AllowPrivateURLs bool
}

// Service manages knowledge bases.
type Service struct {
	st   *store.Store
	opts Options
	jobs Jobs
}

// New builds the service; SetJobs must be called before documents are added.
func New(st *store.Store, opts Options) *Service { return &Service{st: st, opts: opts} }

// SetJobs gives the service its job queue.
func (s *Service) SetJobs(j Jobs) { s.jobs = j }

// SetEmbedderFor replaces how an org's embedder is found (boot wires the providers in).
func (s *Service) SetEmbedderFor(f func(ctx context.Context, orgID int64) (Embedder, error)) {
	s.opts.EmbedderFor = f
}

func may(a model.Actor) error {
	if !a.Role.May(model.ManageKnowledge) {
		return model.ErrForbidden
	}
	return nil
}

func cleanName(name string) (string, bool) {
	name = strings.TrimSpace(knowledge.Clean(name))
	n := utf8.RuneCountInString(name)
	return name, n >= 1 && n <= model.MaxNameLen
}

// Bases lists the org's knowledge bases.
func (s *Service) Bases(ctx context.Context, orgID int64) ([]model.KnowledgeBase, error) {
	return s.st.KnowledgeBases(ctx, orgID)
}

// BasesPage returns up to limit of the org's knowledge bases in the order they were made,
// after afterID when it is not 0.
func (s *Service) BasesPage(ctx context.Context, orgID, afterID int64, limit int) ([]model.KnowledgeBase, error) {
	return s.st.KnowledgeBasesPage(ctx, orgID, afterID, limit)
}

// Base returns one of the org's knowledge bases.
func (s *Service) Base(ctx context.Context, orgID, id int64) (model.KnowledgeBase, error) {
	return s.st.KnowledgeBase(ctx, orgID, id)
}

// CreateBase adds a knowledge base.
func (s *Service) CreateBase(ctx context.Context, a model.Actor, name, description string) (model.KnowledgeBase, error) {
	if err := may(a); err != nil {
		return model.KnowledgeBase{}, err
	}
	name, ok := cleanName(name)
	if !ok {
		v := model.NewValidationError()
		v.Add("name", "kb.error.name")
		return model.KnowledgeBase{}, v.Err()
	}
	by := int64(0)
	if a.UserID != 0 {
		by = a.UserID
	}
	return s.st.CreateKnowledgeBase(ctx, a.OrgID, name, strings.TrimSpace(knowledge.Clean(description)), by)
}

// RenameBase renames and describes a knowledge base.
func (s *Service) RenameBase(ctx context.Context, a model.Actor, id int64, name, description string) (model.KnowledgeBase, error) {
	if err := may(a); err != nil {
		return model.KnowledgeBase{}, err
	}
	name, ok := cleanName(name)
	if !ok {
		v := model.NewValidationError()
		v.Add("name", "kb.error.name")
		return model.KnowledgeBase{}, v.Err()
	}
	return s.st.UpdateKnowledgeBase(ctx, a.OrgID, id, name, strings.TrimSpace(knowledge.Clean(description)))
}

// DeleteBase removes a knowledge base with its documents.
func (s *Service) DeleteBase(ctx context.Context, a model.Actor, id int64) error {
	if err := may(a); err != nil {
		return err
	}
	if _, err := s.st.KnowledgeBase(ctx, a.OrgID, id); err != nil {
		return err
	}
	return s.st.DeleteKnowledgeBase(ctx, a.OrgID, id)
}

// Documents lists a knowledge base's documents (ErrNotFound when it is not the org's).
func (s *Service) Documents(ctx context.Context, orgID, kbID int64) ([]model.KBDocument, error) {
	if _, err := s.st.KnowledgeBase(ctx, orgID, kbID); err != nil {
		return nil, err
	}
	return s.st.Documents(ctx, orgID, kbID)
}

// DocumentsPage returns up to limit of a knowledge base's documents, newest first, older
// than beforeID when it is not 0 (ErrNotFound when the knowledge base is not the org's).
func (s *Service) DocumentsPage(ctx context.Context, orgID, kbID, beforeID int64, limit int) ([]model.KBDocument, error) {
	if _, err := s.st.KnowledgeBase(ctx, orgID, kbID); err != nil {
		return nil, err
	}
	return s.st.DocumentsPage(ctx, orgID, kbID, beforeID, limit)
}

// Document returns one of the org's documents.
func (s *Service) Document(ctx context.Context, orgID, id int64) (model.KBDocument, error) {
	return s.st.Document(ctx, orgID, id)
}

func cleanTitle(title, fallback string) string {
	title = strings.Join(strings.Fields(knowledge.Clean(title)), " ")
	if title == "" {
		title = fallback
	}
	if utf8.RuneCountInString(title) > MaxTitleLen {
		title = string([]rune(title)[:MaxTitleLen])
	}
	return title
}

func checkText(text string) (string, error) {
	text = strings.TrimSpace(knowledge.Clean(text))
	v := model.NewValidationError()
	switch {
	case text == "":
		v.Add("text", "kb.error.text_empty")
	case utf8.RuneCountInString(text) > MaxTextRunes:
		v.Add("text", "kb.error.text_long")
	}
	return text, v.Err()
}

// AddText adds a document written or pasted as text; it is indexed by a job.
func (s *Service) AddText(ctx context.Context, a model.Actor, kbID int64, title, text string) (model.KBDocument, error) {
	if err := may(a); err != nil {
		return model.KBDocument{}, err
	}
	text, err := checkText(text)
	if err != nil {
		return model.KBDocument{}, err
	}
	return s.add(ctx, a.OrgID, model.KBDocument{KnowledgeBaseID: kbID, Title: cleanTitle(title, firstLine(text)), Source: model.DocSourceText, Content: text}, nil)
}

// AddFile adds an uploaded file (txt, md, html, pdf, docx; at most 5 MB). A PDF is kept
// as it is and read by the index job (ExtractPDF), which leaves the document failed with
// the reason when the file is damaged, protected or has no text; a file that does not even
// start as a PDF is refused at once (ErrBrokenPDF).
func (s *Service) AddFile(ctx context.Context, a model.Actor, kbID int64, title, fileName string, data []byte) (model.KBDocument, error) {
	if err := may(a); err != nil {
		return model.KBDocument{}, err
	}
	if len(data) > MaxFileBytes {
		return model.KBDocument{}, ErrTooLarge
	}
	if isPDF(fileName) {
		if !looksLikePDF(data) {
			return model.KBDocument{}, ErrBrokenPDF
		}
		fileName = cleanTitle(fileName, "file.pdf")
		return s.add(ctx, a.OrgID, model.KBDocument{KnowledgeBaseID: kbID, Title: cleanTitle(title, fileName), Source: model.DocSourceFile, FileName: fileName}, data)
	}
	text, err := Extract(fileName, data)
	if err != nil {
		return model.KBDocument{}, err
	}
	if text, err = checkText(text); err != nil {
		return model.KBDocument{}, err
	}
	fileName = cleanTitle(fileName, "file")
	return s.add(ctx, a.OrgID, model.KBDocument{KnowledgeBaseID: kbID, Title: cleanTitle(title, fileName), Source: model.DocSourceFile, FileName: fileName, Content: text}, nil)
}

// AddURL adds a web page, fetched by a job (the address is checked now and at fetch time).
func (s *Service) AddURL(ctx context.Context, a model.Actor, kbID int64, title, rawURL string) (model.KBDocument, error) {
	if err := may(a); err != nil {
		return model.KBDocument{}, err
	}
	u, err := s.checkURL(ctx, strings.TrimSpace(rawURL))
	if err != nil {
		return model.KBDocument{}, err
	}
	return s.add(ctx, a.OrgID, model.KBDocument{KnowledgeBaseID: kbID, Title: cleanTitle(title, u.Host), Source: model.DocSourceURL, SourceURL: u.String()}, nil)
}

// UpdateDocument changes a document's title and text; it is indexed again.
func (s *Service) UpdateDocument(ctx context.Context, a model.Actor, id int64, title, text string) error {
	if err := may(a); err != nil {
		return err
	}
	d, err := s.st.Document(ctx, a.OrgID, id)
	if err != nil {
		return err
	}
	if text, err = checkText(text); err != nil {
		return err
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.UpdateDocument(ctx, a.OrgID, id, cleanTitle(title, d.Title), text); err != nil {
			return err
		}
		// The text written now wins over a file still to be read.
		if err := tx.DeleteDocumentFile(ctx, a.OrgID, id); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, a.OrgID, d.KnowledgeBaseID, id)
	})
}

// Reindex indexes a document again; a web page is fetched again (an edited page's text is
// kept until then).
func (s *Service) Reindex(ctx context.Context, a model.Actor, id int64) error {
	if err := may(a); err != nil {
		return err
	}
	d, err := s.st.Document(ctx, a.OrgID, id)
	if err != nil {
		return err
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		if d.Source == model.DocSourceURL {
			err = tx.UpdateDocument(ctx, a.OrgID, id, d.Title, "") // no text: the job fetches the page again
		} else {
			err = tx.SetDocumentStatus(ctx, a.OrgID, id, model.DocPending, "")
		}
		if err != nil {
			return err
		}
		return s.enqueue(ctx, tx, a.OrgID, d.KnowledgeBaseID, id)
	})
}

// DeleteDocument removes a document and its chunks.
func (s *Service) DeleteDocument(ctx context.Context, a model.Actor, id int64) (model.KBDocument, error) {
	if err := may(a); err != nil {
		return model.KBDocument{}, err
	}
	d, err := s.st.Document(ctx, a.OrgID, id)
	if err != nil {
		return d, err
	}
	return d, s.st.DeleteDocument(ctx, a.OrgID, id)
}

// add stores a document (with the file whose text the job reads, if any) and queues its
// indexing, in one transaction.
func (s *Service) add(ctx context.Context, orgID int64, d model.KBDocument, file []byte) (model.KBDocument, error) {
	var out model.KBDocument
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		if out, err = tx.CreateDocument(ctx, orgID, d); err != nil {
			return err
		}
		if file != nil {
			if err := tx.SetDocumentFile(ctx, orgID, out.ID, file); err != nil {
				return err
			}
		}
		return s.enqueue(ctx, tx, orgID, out.KnowledgeBaseID, out.ID)
	})
	return out, err
}

func (s *Service) enqueue(ctx context.Context, tx *store.Store, orgID, kbID, docID int64) error {
	if s.jobs == nil {
		return errors.New("kb: no job queue")
	}
	if _, err := s.jobs.InsertTx(ctx, tx.SQLTx(), IndexArgs{OrgID: orgID, DocumentID: docID}, &river.InsertOpts{MaxAttempts: 3}); err != nil {
		return fmt.Errorf("kb: queue indexing: %w", err)
	}
	_, err := events.KBDocumentStatus.Publish(ctx, tx, orgID, events.KBDocState{KnowledgeBaseID: kbID, DocumentID: docID, Status: model.DocPending})
	return err
}

func firstLine(text string) string {
	line, _, _ := strings.Cut(text, "\n")
	return strings.TrimLeft(line, "# ")
}

// Search returns the chunks of knowledge bases kbIDs (all the org's when nil) that best
// answer query, best first: lexical always, fused with vector search when the org has an
// embedder. An embedder that fails leaves the search lexical (and says so in vectorErr).
func (s *Service) Search(ctx context.Context, orgID int64, kbIDs []int64, query string, k int) (hits []model.ChunkHit, vectorErr error, err error) {
	query = strings.TrimSpace(knowledge.Clean(query))
	if utf8.RuneCountInString(query) > MaxQueryLen {
		query = string([]rune(query)[:MaxQueryLen])
	}
	if query == "" {
		return nil, nil, nil
	}
	if k < 1 || k > 50 {
		k = 5
	}
	var vec []float32
	if emb, eerr := s.embedder(ctx, orgID); eerr != nil {
		vectorErr = eerr
	} else if emb != nil {
		if v, qerr := emb.EmbedQuery(ctx, query); qerr != nil {
			vectorErr = qerr
		} else if len(v) != store.EmbeddingDims {
			vectorErr = fmt.Errorf("kb: the embedding model answers vectors of %d numbers, want %d", len(v), store.EmbeddingDims)
		} else {
			vec = v
		}
	}
	hits, err = s.st.SearchChunks(ctx, orgID, kbIDs, query, vec, k)
	return hits, vectorErr, err
}

func (s *Service) embedder(ctx context.Context, orgID int64) (Embedder, error) {
	if s.opts.EmbedderFor == nil {
		return nil, nil
	}
	return s.opts.EmbedderFor(ctx, orgID)
}

func modelName(e Embedder) string {
	if m, ok := e.(ModelNamer); ok && m.ModelName() != "" {
		return m.ModelName()
	}
	return "default"
}

// VectorOn tells whether the org's searches are hybrid (it has an embedding model).
func (s *Service) VectorOn(ctx context.Context, orgID int64) bool {
	e, err := s.embedder(ctx, orgID)
	return err == nil && e != nil
}
