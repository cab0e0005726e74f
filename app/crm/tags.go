package crm

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"

	"masteria/app/model"
	"masteria/app/store"
)

// Tags lists an org's tags with their counts.
func (s *Service) Tags(ctx context.Context, orgID int64) ([]model.Tag, error) {
	return s.st.Tags(ctx, orgID)
}

// TagsPage returns up to limit of an org's tags with their counts, in the order they were
// made, after afterID when it is not 0.
func (s *Service) TagsPage(ctx context.Context, orgID, afterID int64, limit int) ([]model.Tag, error) {
	return s.st.TagsPage(ctx, orgID, afterID, limit)
}

func cleanTag(name, color string) (string, string, error) {
	name = strings.Join(strings.Fields(name), " ")
	v := model.NewValidationError()
	if name == "" || len([]rune(name)) > 60 {
		v.Add("name", "contacts.error.tag_name")
	}
	if color == "" {
		color = "gray"
	}
	if !slices.Contains(model.TagColors, color) {
		v.Add("color", "contacts.error.color")
	}
	return name, color, v.Err()
}

// CreateTag adds a tag; a name already used is a field error.
func (s *Service) CreateTag(ctx context.Context, a model.Actor, name, color string) (model.Tag, error) {
	name, color, err := cleanTag(name, color)
	if err != nil {
		return model.Tag{}, err
	}
	t, err := s.st.CreateTag(ctx, a.OrgID, name, color)
	if errors.Is(err, model.ErrConflict) {
		return t, model.FieldError("name", "contacts.error.tag_taken")
	}
	return t, err
}

// UpdateTag renames or recolours a tag.
func (s *Service) UpdateTag(ctx context.Context, a model.Actor, id int64, name, color string) error {
	name, color, err := cleanTag(name, color)
	if err != nil {
		return err
	}
	err = s.st.UpdateTag(ctx, a.OrgID, id, name, color)
	if errors.Is(err, model.ErrConflict) {
		return model.FieldError("name", "contacts.error.tag_taken")
	}
	return err
}

// DeleteTag removes a tag from the org and from every contact, in one transaction.
func (s *Service) DeleteTag(ctx context.Context, a model.Actor, id int64) error {
	return s.st.Tx(ctx, func(tx *store.Store) error { return tx.DeleteTag(ctx, a.OrgID, id) })
}

// Fields lists an org's custom fields.
func (s *Service) Fields(ctx context.Context, orgID int64) ([]model.ContactField, error) {
	return s.st.Fields(ctx, orgID)
}

// FieldsPage returns up to limit of an org's custom fields in the order they were made,
// after afterID when it is not 0.
func (s *Service) FieldsPage(ctx context.Context, orgID, afterID int64, limit int) ([]model.ContactField, error) {
	return s.st.FieldsPage(ctx, orgID, afterID, limit)
}

var fieldKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// KeyFor makes a field key from a label: "Data de nascimento" → "data_de_nascimento".
func KeyFor(label string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(foldAccents(label)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "_"):
			b.WriteByte('_')
		}
	}
	k := strings.Trim(b.String(), "_")
	if k == "" || k[0] < 'a' || k[0] > 'z' {
		k = "f_" + k
	}
	if len(k) > 40 {
		k = strings.TrimRight(k[:40], "_")
	}
	return k
}

func foldAccents(s string) string {
	return strings.NewReplacer("á", "a", "à", "a", "â", "a", "ã", "a", "ä", "a", "é", "e", "ê", "e", "è", "e", "í", "i", "ì", "i",
		"ó", "o", "ô", "o", "õ", "o", "ò", "o", "ú", "u", "ù", "u", "ü", "u", "ç", "c", "ñ", "n",
		"Á", "a", "À", "a", "Â", "a", "Ã", "a", "É", "e", "Ê", "e", "Í", "i", "Ó", "o", "Ô", "o", "Õ", "o", "Ú", "u", "Ç", "c").Replace(s)
}

// CreateField adds a custom field. Choices apply to choice fields only.
func (s *Service) CreateField(ctx context.Context, a model.Actor, label, typ string, choices []string) (model.ContactField, error) {
	f := model.ContactField{OrgID: a.OrgID, Label: strings.Join(strings.Fields(label), " "), Type: typ}
	v := model.NewValidationError()
	if f.Label == "" || len([]rune(f.Label)) > 80 {
		v.Add("label", "contacts.error.field_label")
	}
	f.Key = KeyFor(f.Label)
	if !fieldKey.MatchString(f.Key) {
		v.Add("label", "contacts.error.field_label")
	}
	switch typ {
	case model.FieldText, model.FieldNumber, model.FieldDate:
	case model.FieldChoice:
		for _, c := range choices {
			if c = strings.TrimSpace(c); c != "" && !slices.Contains(f.Choices, c) {
				f.Choices = append(f.Choices, c)
			}
		}
		if len(f.Choices) == 0 {
			v.Add("choices", "contacts.error.choices_required")
		}
	default:
		v.Add("type", "contacts.error.field_type")
	}
	if err := v.Err(); err != nil {
		return f, err
	}
	id, err := s.st.CreateField(ctx, f)
	if errors.Is(err, model.ErrConflict) {
		return f, model.FieldError("label", "contacts.error.field_taken")
	}
	f.ID = id
	return f, err
}

// DeleteField removes a custom field and its values.
func (s *Service) DeleteField(ctx context.Context, a model.Actor, id int64) error {
	return s.st.DeleteField(ctx, a.OrgID, id)
}

// Segments lists an org's segments.
func (s *Service) Segments(ctx context.Context, orgID int64) ([]model.Segment, error) {
	return s.st.Segments(ctx, orgID)
}

// SegmentsPage returns up to limit of an org's segments in the order they were made,
// after afterID when it is not 0.
func (s *Service) SegmentsPage(ctx context.Context, orgID, afterID int64, limit int) ([]model.Segment, error) {
	return s.st.SegmentsPage(ctx, orgID, afterID, limit)
}

// Segment returns a segment and its filter.
func (s *Service) Segment(ctx context.Context, orgID, id int64) (model.Segment, model.ContactFilter, error) {
	sg, err := s.st.Segment(ctx, orgID, id)
	if err != nil {
		return sg, model.ContactFilter{}, err
	}
	f, err := SegmentFilter(sg)
	return sg, f, err
}

// SegmentFilter reads a segment's saved filter.
func SegmentFilter(sg model.Segment) (model.ContactFilter, error) {
	var f model.ContactFilter
	if err := json.Unmarshal(sg.Filter, &f); err != nil {
		return f, errorf("segment %d filter: %w", sg.ID, err)
	}
	return f, nil
}

// SaveSegment saves a filter under a name (id 0: a new segment).
func (s *Service) SaveSegment(ctx context.Context, a model.Actor, id int64, name string, f model.ContactFilter) (int64, error) {
	name = strings.Join(strings.Fields(name), " ")
	if name == "" || len([]rune(name)) > 120 {
		return 0, model.FieldError("name", "contacts.error.segment_name")
	}
	b, err := json.Marshal(f)
	if err != nil {
		return 0, err
	}
	if id == 0 {
		return s.st.CreateSegment(ctx, a.OrgID, name, b, a.UserID)
	}
	return id, s.st.UpdateSegment(ctx, a.OrgID, id, name, b)
}

// DeleteSegment removes a segment (the contacts stay).
func (s *Service) DeleteSegment(ctx context.Context, a model.Actor, id int64) error {
	return s.st.DeleteSegment(ctx, a.OrgID, id)
}
