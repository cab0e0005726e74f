package crm

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"masteria/app/crm/csvimport"
	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/phone"
	"masteria/app/store"
)

// MaxImportSize bounds an uploaded CSV. Larger files are refused with a clear message
// (split the file); 20 MB holds about 200,000 typical rows.
const MaxImportSize = 20 << 20

// importBatch is how many rows one upsert writes.
const importBatch = 1000

// Inserter puts jobs in the queue inside a transaction (the River client).
type Inserter interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// ImportArgs is the job that runs one CSV import.
type ImportArgs struct {
	OrgID    int64 `json:"org_id"`
	ImportID int64 `json:"import_id"`
	ActorID  int64 `json:"actor_id"`
}

// Kind is the job's stable name.
func (ImportArgs) Kind() string { return "crm.import" }

// InsertOpts keeps one job per import even if "Import" is pressed twice.
func (ImportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ImportPreview is what the mapping page shows of an uploaded file.
type ImportPreview struct {
	Import    model.ContactImport
	Header    []string
	Sample    [][]string // the first rows
	Mapping   csvimport.Mapping
	Delimiter string
	Encoding  string
}

// Upload stores a CSV and guesses its columns. A file that is not a readable CSV is a
// field error naming why; nothing is stored then.
func (s *Service) Upload(ctx context.Context, a model.Actor, fileName string, data []byte) (int64, error) {
	if len(data) > MaxImportSize {
		return 0, model.FieldError("file", "contacts.import.error.too_large")
	}
	r, err := csvimport.Open(bytes.NewReader(data))
	if err != nil {
		return 0, model.FieldError("file", importErrorKey(err))
	}
	fields, err := s.st.Fields(ctx, a.OrgID)
	if err != nil {
		return 0, err
	}
	m := csvimport.GuessMapping(r.Header(), customFields(fields))
	mb, _ := json.Marshal(m)
	name := strings.TrimSpace(fileName)
	if name == "" {
		name = "contacts.csv"
	}
	return s.st.CreateImport(ctx, a.OrgID, a.UserID, name, data, mb, model.ImportFill, string(r.Delimiter()))
}

func customFields(fs []model.ContactField) []csvimport.CustomField {
	out := make([]csvimport.CustomField, len(fs))
	for i, f := range fs {
		out[i] = csvimport.CustomField{Key: f.Key, Label: f.Label}
	}
	return out
}

func importErrorKey(err error) string {
	switch {
	case errors.Is(err, csvimport.ErrEmpty):
		return "contacts.import.error.empty"
	case errors.Is(err, csvimport.ErrNotCSV):
		return "contacts.import.error.not_csv"
	}
	return "contacts.import.error.unreadable"
}

// Preview reads the header and first rows of a pending import for the mapping page.
func (s *Service) Preview(ctx context.Context, orgID, id int64) (ImportPreview, error) {
	var p ImportPreview
	im, err := s.st.Import(ctx, orgID, id)
	if err != nil {
		return p, err
	}
	p.Import = im
	if err := json.Unmarshal(im.Mapping, &p.Mapping); err != nil {
		return p, errorf("import %d mapping: %w", id, err)
	}
	if im.Status != "pending" {
		return p, nil
	}
	data, err := s.st.ImportData(ctx, orgID, id)
	if err != nil {
		return p, err
	}
	r, err := csvimport.Open(bytes.NewReader(data))
	if err != nil {
		return p, err
	}
	p.Header, p.Delimiter, p.Encoding = r.Header(), string(r.Delimiter()), r.Encoding()
	for len(p.Sample) < 5 {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			continue
		}
		p.Sample = append(p.Sample, rec.Fields)
	}
	return p, nil
}

// StartImport confirms the mapping and queues the job, in one transaction.
func (s *Service) StartImport(ctx context.Context, a model.Actor, id int64, m csvimport.Mapping, onExisting string) error {
	if onExisting == "update" {
		onExisting = model.ImportOverwrite // the name of the choice before fill existed
	}
	if onExisting != model.ImportSkip && onExisting != model.ImportFill && onExisting != model.ImportOverwrite {
		return model.FieldError("on_existing", "contacts.import.error.on_existing")
	}
	if err := m.Validate(); err != nil {
		return model.FieldError("mapping", "contacts.import.error.no_key_column")
	}
	mb, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		ok, err := tx.QueueImport(ctx, a.OrgID, id, mb, onExisting)
		if err != nil {
			return err
		}
		if !ok {
			if _, err := tx.Import(ctx, a.OrgID, id); err != nil {
				return err // not found
			}
			return nil // already queued: pressing twice starts it once
		}
		if s.jobs == nil {
			return errorf("no job queue")
		}
		_, err = s.jobs.InsertTx(ctx, tx.SQLTx(), ImportArgs{OrgID: a.OrgID, ImportID: id, ActorID: a.UserID}, nil)
		return err
	})
}

// Import returns an import with its counts.
func (s *Service) Import(ctx context.Context, orgID, id int64) (model.ContactImport, error) {
	return s.st.Import(ctx, orgID, id)
}

// Imports lists an org's latest imports.
func (s *Service) Imports(ctx context.Context, orgID int64) ([]model.ContactImport, error) {
	return s.st.Imports(ctx, orgID, 20)
}

// Rejects returns the rows an import refused, with why.
func (s *Service) Rejects(ctx context.Context, orgID, id int64) ([]model.ImportReject, error) {
	return s.st.ImportRejects(ctx, orgID, id, 1_000_000)
}

// ImportWorker runs ImportArgs.
type ImportWorker struct {
	river.WorkerDefaults[ImportArgs]
	Service *Service
}

// Timeout allows for large files.
func (w *ImportWorker) Timeout(*river.Job[ImportArgs]) time.Duration { return 30 * time.Minute }

// Work reads the stored CSV and upserts its rows in batches, reporting progress as events.
func (w *ImportWorker) Work(ctx context.Context, job *river.Job[ImportArgs]) error {
	return w.Service.runImport(ctx, job.Args)
}

// importRun holds what one run needs: lookups built once, the batch being filled, totals.
type importRun struct {
	s          *Service
	args       ImportArgs
	org        model.Org
	onExisting string
	fileName   string
	mapping    csvimport.Mapping
	fields     map[string]model.ContactField
	tags       map[string]int64   // lower-case name → id
	owners     map[string]int64   // email → user id
	cur        *importChunk       // the chunk the reader fills
	phones     map[string]bool    // phones in cur: one phone twice must not share a batch
	chunks     chan *importChunk  // full chunks on their way to the writer
	counts     store.ImportCounts // kept by the writer
	lastReport time.Time
}

// importChunk is one batch of rows with the rejects and the number of records read since
// the previous one. The reader fills chunks while the writer stores the previous one, so
// parsing and phone checks overlap with the database's work.
type importChunk struct {
	rows      []store.UpsertRow
	rejects   []model.ImportReject
	processed int
}

func (s *Service) runImport(ctx context.Context, args ImportArgs) error {
	ok, err := s.st.StartImport(ctx, args.OrgID, args.ImportID)
	if err != nil || !ok {
		return err // finished already: nothing to do
	}
	run, err := s.newImportRun(ctx, args)
	if err != nil {
		return err
	}
	if err := run.read(ctx); err != nil {
		if ctx.Err() != nil {
			return err // interrupted: River retries, the run starts over
		}
		slog.Warn("import failed", "org", args.OrgID, "import", args.ImportID, "err", err)
		return run.finish(ctx, "failed", err.Error())
	}
	return run.finish(ctx, "done", "")
}

func (s *Service) newImportRun(ctx context.Context, args ImportArgs) (*importRun, error) {
	run := &importRun{s: s, args: args, fields: map[string]model.ContactField{}, tags: map[string]int64{}, owners: map[string]int64{},
		phones: map[string]bool{}, cur: &importChunk{}}
	var err error
	if run.org, err = s.st.Org(ctx, args.OrgID); err != nil {
		return nil, err
	}
	im, err := s.st.Import(ctx, args.OrgID, args.ImportID)
	if err != nil {
		return nil, err
	}
	run.onExisting, run.fileName = im.OnExisting, im.FileName
	if err := json.Unmarshal(im.Mapping, &run.mapping); err != nil {
		return nil, err
	}
	fields, err := s.st.Fields(ctx, args.OrgID)
	if err != nil {
		return nil, err
	}
	for _, f := range fields {
		run.fields[f.Key] = f
	}
	tags, err := s.st.Tags(ctx, args.OrgID)
	if err != nil {
		return nil, err
	}
	for _, t := range tags {
		run.tags[strings.ToLower(t.Name)] = t.ID
	}
	members, err := s.st.Members(ctx, args.OrgID)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		run.owners[m.UserEmail] = m.UserID
	}
	return run, nil
}

func (run *importRun) read(ctx context.Context) error {
	data, err := run.s.st.ImportData(ctx, run.args.OrgID, run.args.ImportID)
	if err != nil {
		return err
	}
	r, err := csvimport.Open(bytes.NewReader(data))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	run.chunks = make(chan *importChunk, 1)
	written := make(chan error, 1)
	go func() {
		var err error
		for c := range run.chunks {
			if err == nil {
				if err = run.write(ctx, c); err != nil {
					cancel() // stop the reader: nothing more will be stored
				}
			}
		}
		written <- err
	}()
	readErr := run.readRecords(ctx, r)
	close(run.chunks)
	if err := <-written; err != nil {
		return err
	}
	return readErr
}

func (run *importRun) readRecords(ctx context.Context, r *csvimport.Reader) error {
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		var re *csvimport.RowError
		if errors.As(err, &re) {
			run.cur.processed++ // a row read and refused: it counts like any other
			run.reject(re.Line, "csv."+re.Reason, re.Raw)
			continue
		}
		if err != nil {
			return err
		}
		run.cur.processed++
		if err := run.add(ctx, rec); err != nil {
			return err
		}
		if len(run.cur.rows) >= importBatch {
			if err := run.send(ctx); err != nil {
				return err
			}
		}
	}
	return run.send(ctx)
}

// send hands the current chunk to the writer and starts a new one.
func (run *importRun) send(ctx context.Context) error {
	if len(run.cur.rows) == 0 && len(run.cur.rejects) == 0 && run.cur.processed == 0 {
		return nil
	}
	select {
	case run.chunks <- run.cur:
	case <-ctx.Done():
		return ctx.Err()
	}
	run.cur = &importChunk{rows: make([]store.UpsertRow, 0, importBatch)}
	clear(run.phones)
	return nil
}

func (run *importRun) reject(line int, reason, raw string) {
	if len(raw) > 2000 {
		raw = raw[:2000]
	}
	run.cur.rejects = append(run.cur.rejects, model.ImportReject{Line: line, Reason: reason, Raw: raw})
}

// add checks one record and puts it in the batch, or rejects it with a reason.
func (run *importRun) add(ctx context.Context, rec csvimport.Record) error {
	row, err := run.mapping.Apply(rec.Fields)
	var re *csvimport.RowError
	if errors.As(err, &re) {
		run.reject(rec.Line, "csv."+re.Reason, rec.Raw)
		return nil
	}
	if err != nil {
		return err
	}
	up := store.UpsertRow{Name: strings.Join(strings.Fields(row.Name), " ")}
	if len([]rune(up.Name)) > maxContactName {
		run.reject(rec.Line, "name_long", rec.Raw)
		return nil
	}
	if strings.TrimSpace(row.Phone) != "" {
		p, err := phone.Normalize(row.Phone, run.org.DefaultCountry)
		if err != nil {
			run.reject(rec.Line, strings.TrimPrefix(phoneErrorKey(err), "contacts.error."), rec.Raw)
			return nil
		}
		up.Phone = p
	}
	if e := model.NormalizeEmail(row.Email); e != "" {
		if !model.ValidEmail(e) {
			run.reject(rec.Line, "invalid_email", rec.Raw)
			return nil
		}
		up.Email = e
	}
	if up.Name == "" && up.Phone == "" && up.Email == "" {
		run.reject(rec.Line, "no_name_or_phone", rec.Raw)
		return nil
	}
	if row.OwnerEmail != "" {
		id, ok := run.owners[model.NormalizeEmail(row.OwnerEmail)]
		if !ok {
			run.reject(rec.Line, "unknown_owner", rec.Raw)
			return nil
		}
		up.OwnerID = id
	}
	if row.OptOut != nil {
		up.OptOut = *row.OptOut
	}
	attrs := map[string]any{}
	for key, raw := range row.Custom {
		f, ok := run.fields[key]
		if !ok || strings.TrimSpace(raw) == "" {
			continue
		}
		v, ok := fieldValue(f, strings.TrimSpace(raw))
		if !ok {
			run.reject(rec.Line, "bad_"+f.Type+":"+key, rec.Raw)
			return nil
		}
		attrs[key] = v
	}
	b, _ := json.Marshal(attrs)
	up.Attributes = string(b)
	ids := make([]string, 0, len(row.Tags))
	for _, name := range row.Tags {
		id, err := run.tag(ctx, name)
		if err != nil {
			return err
		}
		if id != 0 {
			ids = append(ids, strconv.FormatInt(id, 10))
		}
	}
	up.TagIDs = strings.Join(ids, ",")
	if up.Phone != "" && run.phones[up.Phone] {
		if err := run.send(ctx); err != nil { // the same phone again: it merges in the next batch
			return err
		}
	}
	if up.Phone != "" {
		run.phones[up.Phone] = true
	}
	run.cur.rows = append(run.cur.rows, up)
	return nil
}

// tag finds a tag by name, creating it the first time the file names it.
func (run *importRun) tag(ctx context.Context, name string) (int64, error) {
	name = strings.Join(strings.Fields(name), " ")
	if name == "" || len([]rune(name)) > 60 {
		return 0, nil
	}
	if id, ok := run.tags[strings.ToLower(name)]; ok {
		return id, nil
	}
	t, err := run.s.st.CreateTag(ctx, run.args.OrgID, name, "gray")
	if errors.Is(err, model.ErrConflict) {
		t, err = run.s.st.TagByName(ctx, run.args.OrgID, name)
	}
	if err != nil {
		return 0, err
	}
	run.tags[strings.ToLower(name)] = t.ID
	return t.ID, nil
}

// write stores a chunk: its rows, their timeline lines and the rejects in one
// transaction, then reports progress.
func (run *importRun) write(ctx context.Context, c *importChunk) error {
	actor := &run.args.ActorID
	if run.args.ActorID == 0 {
		actor = nil
	}
	counts := run.counts
	counts.Processed += c.processed
	counts.Rejected += len(c.rejects)
	err := run.s.st.Tx(ctx, func(tx *store.Store) error {
		if len(c.rows) > 0 {
			res, err := tx.UpsertContacts(ctx, run.args.OrgID, c.rows, run.onExisting)
			if err != nil {
				return err
			}
			var created, updated []int64
			for _, r := range res {
				if r.Inserted {
					created = append(created, r.ID)
				} else {
					updated = append(updated, r.ID)
				}
			}
			counts.Imported += len(created)
			counts.Updated += len(updated)
			counts.Skipped += len(c.rows) - len(res)
			data := map[string]any{"import_id": run.args.ImportID, "file_name": run.fileName}
			if err := tx.AddContactEvents(ctx, run.args.OrgID, created, "imported", actor, data); err != nil {
				return err
			}
			if err := tx.AddContactEvents(ctx, run.args.OrgID, updated, "import_updated", actor, data); err != nil {
				return err
			}
		}
		if err := tx.AddImportRejects(ctx, run.args.OrgID, run.args.ImportID, c.rejects); err != nil {
			return err
		}
		if err := tx.ImportProgress(ctx, run.args.OrgID, run.args.ImportID, counts); err != nil {
			return err
		}
		if time.Since(run.lastReport) < 300*time.Millisecond {
			return nil // progress events at most a few a second
		}
		run.lastReport = time.Now()
		_, err := events.ImportProgress.Publish(ctx, tx, run.args.OrgID, progress(run.args.ImportID, "running", counts))
		return err
	})
	if err != nil {
		return fmt.Errorf("crm: import %d: %w", run.args.ImportID, err)
	}
	run.counts = counts
	return nil
}

func progress(importID int64, status string, c store.ImportCounts) events.Import {
	return events.Import{ImportID: importID, Status: status, Processed: c.Processed,
		Imported: c.Imported, Updated: c.Updated, Skipped: c.Skipped, Rejected: c.Rejected}
}

func (run *importRun) finish(ctx context.Context, status, errText string) error {
	return run.s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.FinishImport(ctx, run.args.OrgID, run.args.ImportID, status, run.counts, errText); err != nil {
			return err
		}
		_, err := events.ImportProgress.Publish(ctx, tx, run.args.OrgID, progress(run.args.ImportID, status, run.counts))
		return err
	})
}
