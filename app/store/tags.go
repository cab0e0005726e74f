package store

import (
	"context"
	"fmt"

	"github.com/lib/pq"

	"masteria/app/model"
)

// Tags lists an org's tags with how many contacts carry each.
func (s *Store) Tags(ctx context.Context, orgID int64) ([]model.Tag, error) {
	var ts []model.Tag
	if err := s.sel(ctx, s.q.Tags, &ts, orgID); err != nil {
		return nil, fmt.Errorf("store: tags: %w", err)
	}
	return ts, nil
}

// TagsPage returns up to limit of an org's tags in the order they were made, after
// afterID when it is not 0, with how many contacts carry each.
func (s *Store) TagsPage(ctx context.Context, orgID, afterID int64, limit int) ([]model.Tag, error) {
	var ts []model.Tag
	if err := s.sel(ctx, s.q.TagsPage, &ts, orgID, afterID, limit); err != nil {
		return nil, fmt.Errorf("store: tags page: %w", err)
	}
	return ts, nil
}

// CreateTag adds a tag; a name already used (any case) is model.ErrConflict.
func (s *Store) CreateTag(ctx context.Context, orgID int64, name, color string) (model.Tag, error) {
	var t model.Tag
	err := s.get(ctx, s.q.TagCreate, &t, orgID, name, color)
	if isUnique(err) {
		return t, fmt.Errorf("store: create tag: %w", model.ErrConflict)
	}
	if err != nil {
		return t, fmt.Errorf("store: create tag: %w", err)
	}
	return t, nil
}

// TagByName finds a tag by name, ignoring case.
func (s *Store) TagByName(ctx context.Context, orgID int64, name string) (model.Tag, error) {
	var t model.Tag
	if err := s.get(ctx, s.q.TagByName, &t, orgID, name); err != nil {
		return t, fmt.Errorf("store: tag %q: %w", name, err)
	}
	return t, nil
}

// UpdateTag renames or recolours a tag.
func (s *Store) UpdateTag(ctx context.Context, orgID, id int64, name, color string) error {
	n, err := s.exec(ctx, s.q.TagUpdate, orgID, id, name, color)
	if isUnique(err) {
		return fmt.Errorf("store: update tag: %w", model.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: update tag: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: update tag: %w", model.ErrNotFound)
	}
	return nil
}

// DeleteTag removes a tag and takes it off every contact.
func (s *Store) DeleteTag(ctx context.Context, orgID, id int64) error {
	n, err := s.exec(ctx, s.q.TagDelete, orgID, id)
	if err != nil {
		return fmt.Errorf("store: delete tag: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: delete tag: %w", model.ErrNotFound)
	}
	if _, err := s.exec(ctx, s.q.TagStrip, orgID, id); err != nil {
		return fmt.Errorf("store: strip tag: %w", err)
	}
	return nil
}

type fieldRow struct {
	model.ContactField
	Choices pq.StringArray `db:"choices"`
}

// Fields lists an org's custom contact fields in order.
func (s *Store) Fields(ctx context.Context, orgID int64) ([]model.ContactField, error) {
	var rows []fieldRow
	if err := s.sel(ctx, s.q.Fields, &rows, orgID); err != nil {
		return nil, fmt.Errorf("store: fields: %w", err)
	}
	return fieldsOf(rows), nil
}

// FieldsPage returns up to limit of an org's custom contact fields in the order they were
// made, after afterID when it is not 0.
func (s *Store) FieldsPage(ctx context.Context, orgID, afterID int64, limit int) ([]model.ContactField, error) {
	var rows []fieldRow
	if err := s.sel(ctx, s.q.FieldsPage, &rows, orgID, afterID, limit); err != nil {
		return nil, fmt.Errorf("store: fields page: %w", err)
	}
	return fieldsOf(rows), nil
}

func fieldsOf(rows []fieldRow) []model.ContactField {
	out := make([]model.ContactField, len(rows))
	for i, r := range rows {
		out[i] = r.ContactField
		out[i].Choices = append([]string{}, r.Choices...)
	}
	return out
}

// CreateField adds a custom field; a key already used is model.ErrConflict.
func (s *Store) CreateField(ctx context.Context, f model.ContactField) (int64, error) {
	var id int64
	if f.Choices == nil {
		f.Choices = []string{} // the column is NOT NULL; pq sends a nil slice as NULL
	}
	err := s.get(ctx, s.q.FieldCreate, &id, f.OrgID, f.Key, f.Label, f.Type, pq.Array(f.Choices))
	if isUnique(err) {
		return 0, fmt.Errorf("store: create field: %w", model.ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("store: create field: %w", err)
	}
	return id, nil
}

// DeleteField removes a field and its values from every contact.
func (s *Store) DeleteField(ctx context.Context, orgID, id int64) error {
	var key string
	if err := s.get(ctx, s.q.FieldDelete, &key, orgID, id); err != nil {
		return fmt.Errorf("store: delete field: %w", err)
	}
	if _, err := s.exec(ctx, s.q.FieldStrip, orgID, key); err != nil {
		return fmt.Errorf("store: strip field: %w", err)
	}
	return nil
}

// Segments lists an org's saved segments.
func (s *Store) Segments(ctx context.Context, orgID int64) ([]model.Segment, error) {
	var ss []model.Segment
	if err := s.sel(ctx, s.q.Segments, &ss, orgID); err != nil {
		return nil, fmt.Errorf("store: segments: %w", err)
	}
	return ss, nil
}

// SegmentsPage returns up to limit of an org's saved segments in the order they were made,
// after afterID when it is not 0.
func (s *Store) SegmentsPage(ctx context.Context, orgID, afterID int64, limit int) ([]model.Segment, error) {
	var ss []model.Segment
	if err := s.sel(ctx, s.q.SegmentsPage, &ss, orgID, afterID, limit); err != nil {
		return nil, fmt.Errorf("store: segments page: %w", err)
	}
	return ss, nil
}

// Segment returns one segment.
func (s *Store) Segment(ctx context.Context, orgID, id int64) (model.Segment, error) {
	var sg model.Segment
	if err := s.get(ctx, s.q.Segment, &sg, orgID, id); err != nil {
		return sg, fmt.Errorf("store: segment %d: %w", id, err)
	}
	return sg, nil
}

// CreateSegment saves a filter under a name.
func (s *Store) CreateSegment(ctx context.Context, orgID int64, name string, filter []byte, by int64) (int64, error) {
	var id int64
	if err := s.get(ctx, s.q.SegmentCreate, &id, orgID, name, filter, by); err != nil {
		return 0, fmt.Errorf("store: create segment: %w", err)
	}
	return id, nil
}

// UpdateSegment renames a segment or changes its filter.
func (s *Store) UpdateSegment(ctx context.Context, orgID, id int64, name string, filter []byte) error {
	n, err := s.exec(ctx, s.q.SegmentUpdate, orgID, id, name, filter)
	if err != nil {
		return fmt.Errorf("store: update segment: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: update segment: %w", model.ErrNotFound)
	}
	return nil
}

// DeleteSegment removes a segment.
func (s *Store) DeleteSegment(ctx context.Context, orgID, id int64) error {
	n, err := s.exec(ctx, s.q.SegmentDelete, orgID, id)
	if err != nil {
		return fmt.Errorf("store: delete segment: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: delete segment: %w", model.ErrNotFound)
	}
	return nil
}
