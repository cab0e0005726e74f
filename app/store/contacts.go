package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"masteria/app/model"
)

// contactQueries are the queries of contacts, tags, custom fields, segments and imports.
type contactQueries struct {
	ContactCreate     *sqlx.Stmt `query:"contact-create"`
	ContactUpdate     *sqlx.Stmt `query:"contact-update"`
	ContactDelete     *sqlx.Stmt `query:"contact-delete"`
	ContactIDByPhone  *sqlx.Stmt `query:"contact-id-by-phone"`
	ContactsTag       *sqlx.Stmt `query:"contacts-tag"`
	ContactsUntag     *sqlx.Stmt `query:"contacts-untag"`
	ContactsAssign    *sqlx.Stmt `query:"contacts-assign"`
	ContactsDelete    *sqlx.Stmt `query:"contacts-delete"`
	Tags              *sqlx.Stmt `query:"tags"`
	TagsPage          *sqlx.Stmt `query:"tags-page"`
	TagCreate         *sqlx.Stmt `query:"tag-create"`
	TagByName         *sqlx.Stmt `query:"tag-by-name"`
	TagUpdate         *sqlx.Stmt `query:"tag-update"`
	TagDelete         *sqlx.Stmt `query:"tag-delete"`
	TagStrip          *sqlx.Stmt `query:"tag-strip"`
	Fields            *sqlx.Stmt `query:"fields"`
	FieldsPage        *sqlx.Stmt `query:"fields-page"`
	FieldCreate       *sqlx.Stmt `query:"field-create"`
	FieldDelete       *sqlx.Stmt `query:"field-delete"`
	FieldStrip        *sqlx.Stmt `query:"field-strip"`
	ContactEventAdd   *sqlx.Stmt `query:"contact-event-insert"`
	ContactEventsAdd  *sqlx.Stmt `query:"contact-events-insert-many"`
	ContactEvents     *sqlx.Stmt `query:"contact-events"`
	Segments          *sqlx.Stmt `query:"segments"`
	SegmentsPage      *sqlx.Stmt `query:"segments-page"`
	Segment           *sqlx.Stmt `query:"segment"`
	SegmentCreate     *sqlx.Stmt `query:"segment-create"`
	SegmentUpdate     *sqlx.Stmt `query:"segment-update"`
	SegmentDelete     *sqlx.Stmt `query:"segment-delete"`
	ImportCreate      *sqlx.Stmt `query:"import-create"`
	Import            *sqlx.Stmt `query:"import"`
	Imports           *sqlx.Stmt `query:"imports"`
	ImportData        *sqlx.Stmt `query:"import-data"`
	ImportQueue       *sqlx.Stmt `query:"import-queue"`
	ImportStart       *sqlx.Stmt `query:"import-start"`
	ImportClearReject *sqlx.Stmt `query:"import-clear-rejects"`
	ImportProgress    *sqlx.Stmt `query:"import-progress"`
	ImportFinish      *sqlx.Stmt `query:"import-finish"`
	ImportRejectAdd   *sqlx.Stmt `query:"import-reject-insert"`
	ImportRejects     *sqlx.Stmt `query:"import-rejects"`
	ContactsUpsert    *sqlx.Stmt `query:"contacts-upsert"`
	ContactOptOut     *sqlx.Stmt `query:"contact-opt-out"`
	ContactOptIn      *sqlx.Stmt `query:"contact-opt-in"`
}

// contactRow is a contacts row as scanned, with PostgreSQL arrays.
type contactRow struct {
	model.Contact
	Tags pq.Int64Array  `db:"tag_ids"`
	Opt  pq.StringArray `db:"opted_out"`
}

func (r contactRow) contact() model.Contact {
	c := r.Contact
	c.TagIDs, c.OptedOut = []int64(r.Tags), []string(r.Opt)
	if c.TagIDs == nil {
		c.TagIDs = []int64{}
	}
	if c.OptedOut == nil {
		c.OptedOut = []string{}
	}
	return c
}

// ContactPage is one page of a contact list and the cursor of the next one ("" at the end).
type ContactPage struct {
	Contacts []model.Contact
	Next     string
}

// sortColumns maps a sort to its key expression, matching the keyset indexes of the migration.
var sortColumns = map[string]string{
	"created":  "c.created_at",
	"name":     "lower(c.name)",
	"activity": "c.last_activity_at",
}

// applyFilter adds the conditions of f to b. meID resolves the "me" owner.
func applyFilter(b *builder, f model.ContactFilter, meID int64) {
	if q := model.CleanSearch(f.Query); q != "" {
		// Digits typed in any format find the phone ("(11) 9876" matches +55119876…).
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, q)
		// The search column holds the phone's digits too, so one trigram-indexed LIKE serves both.
		if len(digits) >= 4 && len(digits)*2 >= len(strings.ReplaceAll(q, " ", "")) {
			q = digits
		}
		// The column is folded (lower-case, no accents: migration 00012), so is the pattern.
		b.where("c.search LIKE fold(?)", "%"+escapeLike(q)+"%")
	}
	if len(f.TagIDs) > 0 {
		b.where("c.tag_ids @> ?::bigint[]", pq.Array(f.TagIDs))
	}
	switch f.Owner {
	case "":
	case "none":
		b.where("c.owner_id IS NULL")
	case "me":
		b.where("c.owner_id = ?", meID)
	default:
		if id, err := strconv.ParseInt(f.Owner, 10, 64); err == nil {
			b.where("c.owner_id = ?", id)
		}
	}
	switch f.OptedOut {
	case "":
	case "any":
		b.where("c.opted_out <> '{}'")
	case "none":
		b.where("c.opted_out = '{}'")
	default:
		b.where("? = ANY(c.opted_out)", f.OptedOut)
	}
	if f.CreatedFrom != nil {
		b.where("c.created_at >= ?", *f.CreatedFrom)
	}
	if f.CreatedTo != nil {
		b.where("c.created_at < ?", f.CreatedTo.Add(24*time.Hour))
	}
	if f.ActiveSince != nil {
		b.where("c.last_activity_at >= ?", *f.ActiveSince)
	}
	if f.ActiveUntil != nil {
		b.where("c.last_activity_at < ?", *f.ActiveUntil)
	}
	if len(f.StageIDs) > 0 {
		b.where("EXISTS (SELECT 1 FROM leads l WHERE l.org_id = c.org_id AND l.contact_id = c.id AND l.stage_id = ANY(?::bigint[]))", pq.Array(f.StageIDs))
	}
	for _, a := range f.Attrs {
		switch a.Op {
		case "eq":
			b.where("c.attributes ->> ? = ?", a.Key, a.Value)
		case "ne":
			b.where("c.attributes ->> ? IS DISTINCT FROM ?", a.Key, a.Value)
		case "contains":
			b.where("fold_contains(c.attributes ->> ?, ?)", a.Key, a.Value)
		case "gt", "lt":
			op := map[string]string{"gt": ">", "lt": "<"}[a.Op]
			if _, err := strconv.ParseFloat(a.Value, 64); err == nil {
				// Numbers compare as numbers; a value that is not one never matches.
				b.where("(CASE WHEN c.attributes ->> ? ~ '^-?[0-9]+(\\.[0-9]+)?$' THEN (c.attributes ->> ?)::numeric END) "+op+" ?::numeric", a.Key, a.Key, a.Value)
			} else {
				b.where("(c.attributes ->> ?) "+op+" ?", a.Key, a.Value) // ISO dates compare as text
			}
		case "set":
			b.where("c.attributes ->> ? IS NOT NULL", a.Key)
		case "unset":
			b.where("c.attributes ->> ? IS NULL", a.Key)
		}
	}
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Contacts returns one page of an org's contacts matching f, in sort order, after the
// cursor `after` (from a previous page's Next). Keyset pagination: any page costs the same.
func (s *Store) Contacts(ctx context.Context, orgID, meID int64, f model.ContactFilter, sort model.ContactSort, after string, limit int) (ContactPage, error) {
	var page ContactPage
	col, ok := sortColumns[sort.By]
	if !ok {
		col = sortColumns["created"]
	}
	b := newBuilder(s.fragment("contact-columns"), orgID)
	applyFilter(b, f, meID)
	cmp, dir := ">", "ASC"
	if sort.Desc {
		cmp, dir = "<", "DESC"
	}
	if after != "" {
		key, id, err := decodeCursor(after)
		if err != nil {
			return page, fmt.Errorf("store: contacts: %w", model.FieldError("after", "contacts.error.filter"))
		}
		if col == "lower(c.name)" {
			b.where("("+col+", c.id) "+cmp+" (?, ?)", key, id)
		} else {
			t, err := time.Parse(time.RFC3339Nano, key)
			if err != nil {
				return page, fmt.Errorf("store: contacts: %w", model.FieldError("after", "contacts.error.filter"))
			}
			b.where("("+col+", c.id) "+cmp+" (?, ?)", t, id)
		}
	}
	b.add(" ORDER BY ", col+" "+dir+", c.id "+dir+" LIMIT ?", limit+1)
	var rows []contactRow
	if err := sqlx.SelectContext(ctx, s.queryer(), &rows, b.String(), b.args...); err != nil {
		return page, fmt.Errorf("store: contacts: %w", err)
	}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1].Contact
		switch col {
		case "lower(c.name)":
			page.Next = encodeCursor(strings.ToLower(last.Name), last.ID)
		case "c.last_activity_at":
			page.Next = encodeCursor(last.LastActivityAt.Format(time.RFC3339Nano), last.ID)
		default:
			page.Next = encodeCursor(last.CreatedAt.Format(time.RFC3339Nano), last.ID)
		}
	}
	page.Contacts = make([]model.Contact, len(rows))
	for i, r := range rows {
		page.Contacts[i] = r.contact()
	}
	return page, nil
}

// CountContacts counts an org's contacts matching f (a segment's live count).
func (s *Store) CountContacts(ctx context.Context, orgID, meID int64, f model.ContactFilter) (int64, error) {
	b := newBuilder(s.fragment("contact-count"), orgID)
	applyFilter(b, f, meID)
	var n int64
	if err := sqlx.GetContext(ctx, s.queryer(), &n, b.String(), b.args...); err != nil {
		return 0, fmt.Errorf("store: count contacts: %w", err)
	}
	return n, nil
}

// CountContactsEach counts the contacts matching each filter, in one statement (a segment
// list asks for many counts at once; one round trip however many there are).
func (s *Store) CountContactsEach(ctx context.Context, orgID, meID int64, fs []model.ContactFilter) ([]int64, error) {
	if len(fs) == 0 {
		return nil, nil
	}
	b := newBuilder("SELECT ARRAY[", orgID)
	for i, f := range fs {
		if i > 0 {
			b.add(", ", "")
		}
		b.add("(", s.fragment("contact-count"))
		applyFilter(b, f, meID)
		b.add(")", "")
	}
	b.add("", "]::bigint[]")
	var n pq.Int64Array
	if err := sqlx.GetContext(ctx, s.queryer(), &n, b.String(), b.args...); err != nil {
		return nil, fmt.Errorf("store: count contacts: %w", err)
	}
	return n, nil
}

// ContactIDs returns the ids of every contact matching f (bulk actions on "all results").
func (s *Store) ContactIDs(ctx context.Context, orgID, meID int64, f model.ContactFilter, limit int) ([]int64, error) {
	b := newBuilder(strings.Replace(s.fragment("contact-count"), "count(*)", "c.id", 1), orgID)
	applyFilter(b, f, meID)
	b.add(" ORDER BY ", "c.id LIMIT ?", limit)
	var ids []int64
	if err := sqlx.SelectContext(ctx, s.queryer(), &ids, b.String(), b.args...); err != nil {
		return nil, fmt.Errorf("store: contact ids: %w", err)
	}
	return ids, nil
}

// EachContact streams every contact matching f in id order to fn, a page at a time, for
// exports of any size without holding them all.
func (s *Store) EachContact(ctx context.Context, orgID, meID int64, f model.ContactFilter, fn func(model.Contact) error) error {
	after := ""
	for {
		page, err := s.Contacts(ctx, orgID, meID, f, model.ContactSort{By: "created"}, after, 1000)
		if err != nil {
			return err
		}
		for _, c := range page.Contacts {
			if err := fn(c); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		after = page.Next
	}
}

func encodeCursor(key string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10) + "|" + key))
}

func decodeCursor(c string) (string, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", 0, err
	}
	idStr, key, ok := strings.Cut(string(b), "|")
	if !ok {
		return "", 0, fmt.Errorf("bad cursor")
	}
	id, err := strconv.ParseInt(idStr, 10, 64)
	return key, id, err
}

// Contact returns one contact of an org.
func (s *Store) Contact(ctx context.Context, orgID, id int64) (model.Contact, error) {
	b := newBuilder(s.fragment("contact-columns"), orgID)
	b.where("c.id = ?", id)
	var r contactRow
	if err := notFound(sqlx.GetContext(ctx, s.queryer(), &r, b.String(), b.args...)); err != nil {
		return model.Contact{}, fmt.Errorf("store: contact %d: %w", id, err)
	}
	return r.contact(), nil
}

// ContactIDByPhone finds the contact with an E.164 phone.
func (s *Store) ContactIDByPhone(ctx context.Context, orgID int64, phone string) (int64, error) {
	var id int64
	if err := s.get(ctx, s.q.ContactIDByPhone, &id, orgID, phone); err != nil {
		return 0, fmt.Errorf("store: contact by phone: %w", err)
	}
	return id, nil
}

// arrays returns a contact's tag ids and opt-outs never nil: pq sends a nil slice as NULL
// and the columns are NOT NULL.
func arrays(c model.Contact) (any, any) {
	tags, opts := c.TagIDs, c.OptedOut
	if tags == nil {
		tags = []int64{}
	}
	if opts == nil {
		opts = []string{}
	}
	return pq.Array(tags), pq.Array(opts)
}

func attrs(c model.Contact) []byte {
	if len(c.Attributes) == 0 {
		return []byte("{}")
	}
	return c.Attributes
}

// CreateContact stores a new contact; a phone already in the org is model.ErrConflict.
func (s *Store) CreateContact(ctx context.Context, c model.Contact) (int64, error) {
	var id int64
	tags, opts := arrays(c)
	err := s.get(ctx, s.q.ContactCreate, &id, c.OrgID, c.Name, c.Phone, c.Email, c.OwnerID, tags, attrs(c), opts)
	if isUnique(err) {
		return 0, fmt.Errorf("store: create contact: %w", model.ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("store: create contact: %w", err)
	}
	return id, nil
}

// UpdateContact saves every field of c; a phone taken by another contact is model.ErrConflict.
func (s *Store) UpdateContact(ctx context.Context, c model.Contact) error {
	tags, opts := arrays(c)
	n, err := s.exec(ctx, s.q.ContactUpdate, c.OrgID, c.ID, c.Name, c.Phone, c.Email, c.OwnerID, tags, attrs(c), opts)
	if isUnique(err) {
		return fmt.Errorf("store: update contact: %w", model.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: update contact: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: update contact: %w", model.ErrNotFound)
	}
	return nil
}

// DeleteContact removes a contact and its timeline.
func (s *Store) DeleteContact(ctx context.Context, orgID, id int64) error {
	n, err := s.exec(ctx, s.q.ContactDelete, orgID, id)
	if err != nil {
		return fmt.Errorf("store: delete contact: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: delete contact: %w", model.ErrNotFound)
	}
	return nil
}

// ids runs a bulk statement that returns the ids it changed.
func (s *Store) ids(ctx context.Context, st *sqlx.Stmt, args ...any) ([]int64, error) {
	var out []int64
	if err := s.sel(ctx, st, &out, args...); err != nil {
		return nil, err
	}
	return out, nil
}

// TagContacts adds a tag to contacts and returns those that did not have it.
func (s *Store) TagContacts(ctx context.Context, orgID int64, ids []int64, tagID int64) ([]int64, error) {
	return s.ids(ctx, s.q.ContactsTag, orgID, pq.Array(ids), tagID)
}

// UntagContacts removes a tag from contacts and returns those that had it.
func (s *Store) UntagContacts(ctx context.Context, orgID int64, ids []int64, tagID int64) ([]int64, error) {
	return s.ids(ctx, s.q.ContactsUntag, orgID, pq.Array(ids), tagID)
}

// AssignContacts sets the owner of contacts (nil: nobody) and returns those that changed.
func (s *Store) AssignContacts(ctx context.Context, orgID int64, ids []int64, ownerID *int64) ([]int64, error) {
	return s.ids(ctx, s.q.ContactsAssign, orgID, pq.Array(ids), ownerID)
}

// DeleteContacts removes contacts and returns those that existed.
func (s *Store) DeleteContacts(ctx context.Context, orgID int64, ids []int64) ([]int64, error) {
	return s.ids(ctx, s.q.ContactsDelete, orgID, pq.Array(ids))
}

// AddContactEvent writes one line of a contact's timeline.
func (s *Store) AddContactEvent(ctx context.Context, orgID, contactID int64, kind string, actorID *int64, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if _, err := s.exec(ctx, s.q.ContactEventAdd, orgID, contactID, kind, actorID, b); err != nil {
		return fmt.Errorf("store: contact event %s: %w", kind, err)
	}
	return nil
}

// AddContactEvents writes the same timeline line for many contacts.
func (s *Store) AddContactEvents(ctx context.Context, orgID int64, ids []int64, kind string, actorID *int64, data any) error {
	if len(ids) == 0 {
		return nil
	}
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if _, err := s.exec(ctx, s.q.ContactEventsAdd, orgID, pq.Array(ids), kind, actorID, b); err != nil {
		return fmt.Errorf("store: contact events %s: %w", kind, err)
	}
	return nil
}

// ContactEvents returns a contact's timeline, newest first, before beforeID when not 0.
func (s *Store) ContactEvents(ctx context.Context, orgID, contactID, beforeID int64, limit int) ([]model.ContactEvent, error) {
	var es []model.ContactEvent
	if err := s.sel(ctx, s.q.ContactEvents, &es, orgID, contactID, beforeID, limit); err != nil {
		return nil, fmt.Errorf("store: contact events: %w", err)
	}
	return es, nil
}

// SetOptOut opts a contact out of (on) or back into a channel kind; false when nothing changed.
func (s *Store) SetOptOut(ctx context.Context, orgID, contactID int64, kind string, on bool) (bool, error) {
	st := s.q.ContactOptIn
	if on {
		st = s.q.ContactOptOut
	}
	n, err := s.exec(ctx, st, orgID, contactID, kind)
	if err != nil {
		return false, fmt.Errorf("store: opt-out: %w", err)
	}
	return n == 1, nil
}
