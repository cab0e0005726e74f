package kb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"masteria/app/ai/knowledge"
	"masteria/app/events"
	"masteria/app/jobs"
	"masteria/app/model"
	"masteria/app/store"
)

// IndexArgs is the job that (fetches and) chunks and embeds one document.
type IndexArgs struct {
	OrgID      int64 `json:"org_id"`
	DocumentID int64 `json:"document_id"`
}

// Kind names the job.
func (IndexArgs) Kind() string { return "kb.index" }

// IndexWorker runs IndexArgs.
type IndexWorker struct {
	river.WorkerDefaults[IndexArgs]
	Service *Service
}

// Timeout bounds one run: a fetch, and the embedding of a large document.
func (w *IndexWorker) Timeout(*river.Job[IndexArgs]) time.Duration { return 5 * time.Minute }

// Work indexes the document; a failure is recorded on it, and retried only when it may pass.
func (w *IndexWorker) Work(ctx context.Context, job *river.Job[IndexArgs]) error {
	err := w.Service.Index(ctx, job.Args.OrgID, job.Args.DocumentID)
	if errors.Is(err, model.ErrNotFound) {
		return nil // deleted meanwhile
	}
	if err != nil && job.Attempt < job.MaxAttempts && !permanent(err) {
		return err
	}
	return nil
}

// Register adds the service's workers.
func Register(reg *jobs.Registry, s *Service) {
	river.AddWorker(reg.Workers, &IndexWorker{Service: s})
}

// errStale is a document edited while it was being indexed.
var errStale = errors.New("kb: the document changed while it was indexed")

type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

func permanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

func (s *Service) status(ctx context.Context, orgID int64, d model.KBDocument, status, errText string) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SetDocumentStatus(ctx, orgID, d.ID, status, errText); err != nil {
			return err
		}
		_, err := events.KBDocumentStatus.Publish(ctx, tx, orgID, events.KBDocState{KnowledgeBaseID: d.KnowledgeBaseID, DocumentID: d.ID, Status: status, Error: errText})
		return err
	})
}

// Index (fetches a web page that has no text yet, then) chunks a document, stores its chunks so lexical
// search finds them at once, then embeds them in batches when the org has an embedder.
// The document goes indexing → ready, or failed with the error (also returned).
func (s *Service) Index(ctx context.Context, orgID, docID int64) error {
	d, err := s.st.Document(ctx, orgID, docID)
	if err != nil {
		return err
	}
	if err := s.status(ctx, orgID, d, model.DocIndexing, ""); err != nil {
		return err
	}
	err = s.index(ctx, orgID, d)
	if errors.Is(err, errStale) {
		return nil
	}
	if err != nil {
		if serr := s.status(context.WithoutCancel(ctx), orgID, d, model.DocFailed, failureText(err)); serr != nil {
			return errors.Join(err, serr)
		}
		return err
	}
	return s.status(ctx, orgID, d, model.DocReady, "")
}

// readFile reads the text of a document's uploaded file (a PDF) and makes it the document's
// content, dropping the file; a file that cannot be read is kept (indexing again tries it
// again) and its reason returned, for good unless the job itself was stopped.
func (s *Service) readFile(ctx context.Context, orgID int64, d model.KBDocument) (string, error) {
	data, err := s.st.DocumentFile(ctx, orgID, d.ID)
	if errors.Is(err, model.ErrNotFound) {
		return "", nil // edited meanwhile: the edit's own job indexes its text
	}
	if err != nil {
		return "", err
	}
	text, err := ExtractPDF(ctx, data)
	if err != nil {
		if ctx.Err() != nil {
			return "", err
		}
		return "", permanentError{err}
	}
	if text, err = checkText(text); err != nil {
		return "", permanentError{err}
	}
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.UpdateDocument(ctx, orgID, d.ID, d.Title, text); err != nil {
			return err
		}
		return tx.DeleteDocumentFile(ctx, orgID, d.ID)
	})
	return text, err
}

func (s *Service) index(ctx context.Context, orgID int64, d model.KBDocument) error {
	if d.Source == model.DocSourceURL && d.Content == "" { // not fetched yet, or to fetch again
		text, err := s.fetchPage(ctx, d.SourceURL)
		if err != nil {
			return err
		}
		if text, err = checkText(text); err != nil {
			return permanentError{fmt.Errorf("the page has no text")}
		}
		if err := s.st.UpdateDocument(ctx, orgID, d.ID, d.Title, text); err != nil {
			return err
		}
		d.Content = text
	}
	if d.Source == model.DocSourceFile && d.Content == "" { // a PDF whose text is still to be read
		text, err := s.readFile(ctx, orgID, d)
		if err != nil {
			return err
		}
		d.Content = text
	}
	chunks := knowledge.Split(d.Content)
	// Edited meanwhile: the edit's own job indexes the new text; this one must not put the
	// old chunks back after it.
	if now, err := s.st.Document(ctx, orgID, d.ID); err != nil {
		return err
	} else if now.ContentHash != store.ContentHash(d.Content) {
		return errStale
	}
	if _, err := s.st.ReplaceChunks(ctx, orgID, d.ID, chunks); err != nil {
		return err
	}
	emb, err := s.embedder(ctx, orgID)
	if err != nil || emb == nil {
		return err
	}
	name := modelName(emb)
	todo, err := s.st.ChunksToEmbed(ctx, orgID, d.ID, name)
	if err != nil {
		return err
	}
	for start := 0; start < len(todo); start += embedBatch {
		batch := todo[start:min(start+embedBatch, len(todo))]
		ids, texts := make([]int64, len(batch)), make([]string, len(batch))
		for i, c := range batch {
			ids[i] = c.ID
			texts[i] = c.Text
			if c.Heading != "" {
				texts[i] = c.Heading + "\n\n" + c.Text
			}
		}
		vecs, err := emb.EmbedDocuments(ctx, texts)
		if err != nil {
			return fmt.Errorf("embedding: %w", err)
		}
		if err := s.st.SetEmbeddings(ctx, orgID, ids, vecs, name); err != nil {
			return permanentError{err}
		}
	}
	return nil
}
