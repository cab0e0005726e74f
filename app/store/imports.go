package store

import (
	"context"
	"fmt"

	"github.com/lib/pq"

	"masteria/app/model"
)

// CreateImport stores an uploaded CSV and how to read it; the job reads it from here.
func (s *Store) CreateImport(ctx context.Context, orgID, by int64, fileName string, data, mapping []byte, onExisting, delimiter string) (int64, error) {
	var id int64
	if err := s.get(ctx, s.q.ImportCreate, &id, orgID, by, fileName, data, mapping, onExisting, delimiter); err != nil {
		return 0, fmt.Errorf("store: create import: %w", err)
	}
	return id, nil
}

// Import returns an import and its counts.
func (s *Store) Import(ctx context.Context, orgID, id int64) (model.ContactImport, error) {
	var im model.ContactImport
	if err := s.get(ctx, s.q.Import, &im, orgID, id); err != nil {
		return im, fmt.Errorf("store: import %d: %w", id, err)
	}
	return im, nil
}

// Imports lists an org's latest imports.
func (s *Store) Imports(ctx context.Context, orgID int64, limit int) ([]model.ContactImport, error) {
	var ims []model.ContactImport
	if err := s.sel(ctx, s.q.Imports, &ims, orgID, limit); err != nil {
		return nil, fmt.Errorf("store: imports: %w", err)
	}
	return ims, nil
}

// ImportData returns the uploaded file of an import not yet finished.
func (s *Store) ImportData(ctx context.Context, orgID, id int64) ([]byte, error) {
	var b []byte
	if err := s.get(ctx, s.q.ImportData, &b, orgID, id); err != nil {
		return nil, fmt.Errorf("store: import data: %w", err)
	}
	return b, nil
}

// QueueImport confirms an import's mapping and marks it queued; false when it was not
// pending any more (already started).
func (s *Store) QueueImport(ctx context.Context, orgID, id int64, mapping []byte, onExisting string) (bool, error) {
	n, err := s.exec(ctx, s.q.ImportQueue, orgID, id, mapping, onExisting)
	return n == 1, err
}

// StartImport claims an import for running (again, after a crash) and clears old rejects.
// It answers false when the import is already finished.
func (s *Store) StartImport(ctx context.Context, orgID, id int64) (bool, error) {
	n, err := s.exec(ctx, s.q.ImportStart, orgID, id)
	if err != nil || n == 0 {
		return false, err
	}
	_, err = s.exec(ctx, s.q.ImportClearReject, orgID, id)
	return err == nil, err
}

// ImportCounts are the running totals of an import.
type ImportCounts struct {
	Processed, Imported, Updated, Skipped, Rejected int
}

// ImportProgress saves the running totals.
func (s *Store) ImportProgress(ctx context.Context, orgID, id int64, c ImportCounts) error {
	_, err := s.exec(ctx, s.q.ImportProgress, orgID, id, c.Processed, c.Imported, c.Updated, c.Skipped, c.Rejected)
	return err
}

// FinishImport records the final totals (status done or failed) and drops the file.
func (s *Store) FinishImport(ctx context.Context, orgID, id int64, status string, c ImportCounts, errText string) error {
	_, err := s.exec(ctx, s.q.ImportFinish, orgID, id, status, c.Processed, c.Imported, c.Updated, c.Skipped, c.Rejected, errText)
	return err
}

// AddImportRejects records rejected rows.
func (s *Store) AddImportRejects(ctx context.Context, orgID, id int64, rs []model.ImportReject) error {
	if len(rs) == 0 {
		return nil
	}
	lines, reasons, raws := make([]int64, len(rs)), make([]string, len(rs)), make([]string, len(rs))
	for i, r := range rs {
		lines[i], reasons[i], raws[i] = int64(r.Line), r.Reason, r.Raw
	}
	_, err := s.exec(ctx, s.q.ImportRejectAdd, orgID, id, pq.Array(lines), pq.Array(reasons), pq.Array(raws))
	return err
}

// ImportRejects lists the rejected rows of an import by line.
func (s *Store) ImportRejects(ctx context.Context, orgID, id int64, limit int) ([]model.ImportReject, error) {
	var rs []model.ImportReject
	if err := s.sel(ctx, s.q.ImportRejects, &rs, orgID, id, limit); err != nil {
		return nil, fmt.Errorf("store: import rejects: %w", err)
	}
	return rs, nil
}

// UpsertRow is one import row ready for the database.
type UpsertRow struct {
	Name, Phone, Email string
	OwnerID            int64
	TagIDs             string // comma-separated ids
	Attributes         string // JSON object
	OptOut             bool
}

// Upserted is what happened to one row of a batch.
type Upserted struct {
	ID       int64   `db:"id"`
	Phone    *string `db:"phone"`
	Inserted bool    `db:"inserted"`
}

// UpsertContacts writes a batch of rows in one statement. Rows with a phone already in the
// org are merged into that contact (onExisting "fill" or "overwrite") or left alone ("skip": they are
// missing from the result). A batch must not hold one phone twice.
func (s *Store) UpsertContacts(ctx context.Context, orgID int64, rows []UpsertRow, onExisting string) ([]Upserted, error) {
	n := len(rows)
	names, phones, emails := make([]string, n), make([]string, n), make([]string, n)
	owners, tags, attrs := make([]int64, n), make([]string, n), make([]string, n)
	opts, ord := make([]bool, n), make([]int64, n)
	for i, r := range rows {
		names[i], phones[i], emails[i], owners[i], tags[i], opts[i], ord[i] = r.Name, r.Phone, r.Email, r.OwnerID, r.TagIDs, r.OptOut, int64(i)
		attrs[i] = r.Attributes
		if attrs[i] == "" {
			attrs[i] = "{}"
		}
	}
	var out []Upserted
	err := s.sel(ctx, s.q.ContactsUpsert, &out, orgID, pq.Array(names), pq.Array(phones), pq.Array(emails),
		pq.Array(owners), pq.Array(tags), pq.Array(attrs), pq.Array(opts), pq.Array(ord), onExisting)
	if err != nil {
		return nil, fmt.Errorf("store: upsert contacts: %w", err)
	}
	return out, nil
}
