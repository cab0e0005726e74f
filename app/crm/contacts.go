package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/phone"
	"masteria/app/store"
)

// ContactInput is what a contact form or the API sends.
type ContactInput struct {
	Name       string
	Phone      string
	Email      string
	OwnerID    int64 // 0: nobody
	TagIDs     []int64
	Attributes map[string]string // custom field key → value as typed
	OptedOut   []string          // channel kinds
	// Source names where a new contact came from on its timeline ("form" when empty).
	Source string
}

// Limits of contact fields.
const (
	maxContactName = 200
	maxAttrText    = 1000
	// ListLimit is the page size of the contact list.
	ListLimit = 50
)

// normalize checks an input against the org's custom fields and default country and turns
// it into a contact. Field errors carry i18n keys.
func (s *Service) normalize(ctx context.Context, org model.Org, in ContactInput) (model.Contact, error) {
	c := model.Contact{OrgID: org.ID}
	v := model.NewValidationError()
	c.Name = strings.Join(strings.Fields(in.Name), " ")
	if len([]rune(c.Name)) > maxContactName {
		v.Add("name", "contacts.error.name_long")
	}
	if raw := strings.TrimSpace(in.Phone); raw != "" {
		p, err := phone.Normalize(raw, org.DefaultCountry)
		if err != nil {
			v.Add("phone", phoneErrorKey(err))
		} else {
			c.Phone = &p
		}
	}
	if e := model.NormalizeEmail(in.Email); e != "" {
		if !model.ValidEmail(e) {
			v.Add("email", "signup.error.invalid_email")
		} else {
			c.Email = &e
		}
	}
	if c.Name == "" && c.Phone == nil && c.Email == nil && v.Fields["phone"] == "" {
		v.Add("name", "contacts.error.name_or_phone")
	}
	if in.OwnerID != 0 {
		if _, err := s.st.Member(ctx, org.ID, in.OwnerID); err != nil {
			if !errors.Is(err, model.ErrNotFound) {
				return c, err
			}
			v.Add("owner", "contacts.error.owner")
		} else {
			id := in.OwnerID
			c.OwnerID = &id
		}
	}
	if len(in.TagIDs) > 0 {
		tags, err := s.st.Tags(ctx, org.ID)
		if err != nil {
			return c, err
		}
		for _, id := range in.TagIDs {
			if !slices.ContainsFunc(tags, func(t model.Tag) bool { return t.ID == id }) {
				v.Add("tags", "contacts.error.tags")
			} else if !slices.Contains(c.TagIDs, id) {
				c.TagIDs = append(c.TagIDs, id)
			}
		}
	}
	c.TagIDs = nonNil(c.TagIDs)
	for _, k := range in.OptedOut {
		if !slices.Contains(model.ChannelKinds, k) {
			v.Add("opted_out", "contacts.error.opted_out")
		} else if !slices.Contains(c.OptedOut, k) {
			c.OptedOut = append(c.OptedOut, k)
		}
	}
	c.OptedOut = nonNil(c.OptedOut)
	attrs, err := s.attributes(ctx, org.ID, in.Attributes, v)
	if err != nil {
		return c, err
	}
	c.Attributes = attrs
	return c, v.Err()
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// phoneErrorKey turns a phone error into the i18n key of its reason.
func phoneErrorKey(err error) string {
	var pe *phone.Error
	if errors.As(err, &pe) {
		return "contacts.error.phone." + pe.Reason
	}
	return "contacts.error.phone.invalid"
}

// attributes checks custom field values by their type; unknown keys are refused, empty
// values removed.
func (s *Service) attributes(ctx context.Context, orgID int64, in map[string]string, v *model.ValidationError) (json.RawMessage, error) {
	out := map[string]any{}
	if len(in) == 0 {
		return json.RawMessage("{}"), nil
	}
	fields, err := s.st.Fields(ctx, orgID)
	if err != nil {
		return nil, err
	}
	for key, raw := range in {
		raw = strings.TrimSpace(raw)
		i := slices.IndexFunc(fields, func(f model.ContactField) bool { return f.Key == key })
		if i < 0 {
			v.Add("attr."+key, "contacts.error.field_unknown")
			continue
		}
		if raw == "" {
			continue
		}
		val, ok := fieldValue(fields[i], raw)
		if !ok {
			v.Add("attr."+key, fieldErrorKey(fields[i].Type))
			continue
		}
		out[key] = val
	}
	b, err := json.Marshal(out)
	return b, err
}

// fieldErrorKey is the message for a value its field's type does not accept.
func fieldErrorKey(typ string) string {
	switch typ {
	case model.FieldNumber:
		return "contacts.error.bad_number"
	case model.FieldDate:
		return "contacts.error.bad_date"
	case model.FieldChoice:
		return "contacts.error.bad_choice"
	}
	return "contacts.error.text_long"
}

// fieldValue reads a typed value: numbers as JSON numbers, dates as YYYY-MM-DD (also
// accepting the Brazilian DD/MM/YYYY), choices among the field's choices.
func fieldValue(f model.ContactField, raw string) (any, bool) {
	switch f.Type {
	case model.FieldNumber:
		n, err := strconv.ParseFloat(strings.ReplaceAll(raw, ",", "."), 64)
		return n, err == nil
	case model.FieldDate:
		for _, layout := range []string{"2006-01-02", "02/01/2006"} {
			if t, err := time.Parse(layout, raw); err == nil {
				return t.Format("2006-01-02"), true
			}
		}
		return nil, false
	case model.FieldChoice:
		for _, c := range f.Choices {
			if strings.EqualFold(c, raw) {
				return c, true
			}
		}
		return nil, false
	}
	return raw, len([]rune(raw)) <= maxAttrText
}

// Create adds a contact. A phone already in the org is a field error that names it.
func (s *Service) Create(ctx context.Context, a model.Actor, in ContactInput) (model.Contact, error) {
	org, err := s.st.Org(ctx, a.OrgID)
	if err != nil {
		return model.Contact{}, err
	}
	c, err := s.normalize(ctx, org, in)
	if err != nil {
		return c, err
	}
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		id, err := tx.CreateContact(ctx, c)
		if errors.Is(err, model.ErrConflict) {
			return model.FieldError("phone", "contacts.error.phone_taken")
		}
		if err != nil {
			return err
		}
		c.ID = id
		source := in.Source
		if source == "" {
			source = "form"
		}
		if err := tx.AddContactEvent(ctx, a.OrgID, id, "created", a.UserRef(), map[string]any{"source": source}); err != nil {
			return err
		}
		_, err = events.ContactCreated.Publish(ctx, tx, a.OrgID, events.ContactNew{ID: id, Name: c.Name})
		return err
	})
	if err != nil {
		return c, err
	}
	return s.st.Contact(ctx, a.OrgID, c.ID)
}

// Update saves a contact and writes what changed to its timeline.
func (s *Service) Update(ctx context.Context, a model.Actor, id int64, in ContactInput) (model.Contact, error) {
	org, err := s.st.Org(ctx, a.OrgID)
	if err != nil {
		return model.Contact{}, err
	}
	old, err := s.st.Contact(ctx, a.OrgID, id)
	if err != nil {
		return old, err
	}
	c, err := s.normalize(ctx, org, in)
	if err != nil {
		return c, err
	}
	c.ID = id
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		err := tx.UpdateContact(ctx, c)
		if errors.Is(err, model.ErrConflict) {
			return model.FieldError("phone", "contacts.error.phone_taken")
		}
		if err != nil {
			return err
		}
		names, err := s.names(ctx, tx, a.OrgID)
		if err != nil {
			return err
		}
		for _, ch := range changes(old, c, names) {
			if err := tx.AddContactEvent(ctx, a.OrgID, id, ch.kind, a.UserRef(), ch.data); err != nil {
				return err
			}
		}
		_, err = events.ContactUpdated.Publish(ctx, tx, a.OrgID, events.ContactRef{ID: id})
		return err
	})
	if err != nil {
		return c, err
	}
	return s.st.Contact(ctx, a.OrgID, id)
}

// names are the tag and member names the timeline writes next to their ids, so a line still
// reads right after the tag is renamed or the member leaves.
type names struct {
	tags  map[int64]string
	users map[int64]string
}

func (s *Service) names(ctx context.Context, tx *store.Store, orgID int64) (names, error) {
	n := names{tags: map[int64]string{}, users: map[int64]string{}}
	tags, err := tx.Tags(ctx, orgID)
	if err != nil {
		return n, err
	}
	for _, t := range tags {
		n.tags[t.ID] = t.Name
	}
	ms, err := tx.Members(ctx, orgID)
	if err != nil {
		return n, err
	}
	for _, m := range ms {
		n.users[m.UserID] = m.UserName
	}
	return n, nil
}

type change struct {
	kind string
	data map[string]any
}

// changes lists the timeline lines an edit makes: the plain fields changed, tags added and
// removed, a new owner, opt-outs and opt-ins.
func changes(old, c model.Contact, n names) []change {
	var out []change
	var fields []string
	if old.Name != c.Name {
		fields = append(fields, "name")
	}
	if deref(old.Phone) != deref(c.Phone) {
		fields = append(fields, "phone")
	}
	if deref(old.Email) != deref(c.Email) {
		fields = append(fields, "email")
	}
	if !jsonEqual(old.Attributes, c.Attributes) {
		fields = append(fields, "attributes")
	}
	if len(fields) > 0 {
		out = append(out, change{"updated", map[string]any{"fields": fields}})
	}
	for _, id := range c.TagIDs {
		if !slices.Contains(old.TagIDs, id) {
			out = append(out, change{"tagged", map[string]any{"tag_id": id, "tag_name": n.tags[id]}})
		}
	}
	for _, id := range old.TagIDs {
		if !slices.Contains(c.TagIDs, id) {
			out = append(out, change{"untagged", map[string]any{"tag_id": id, "tag_name": n.tags[id]}})
		}
	}
	if derefID(old.OwnerID) != derefID(c.OwnerID) {
		out = append(out, change{"owner_changed", map[string]any{"owner_id": c.OwnerID, "owner_name": n.users[derefID(c.OwnerID)]}})
	}
	for _, k := range c.OptedOut {
		if !slices.Contains(old.OptedOut, k) {
			out = append(out, change{"opted_out", map[string]any{"channel": k}})
		}
	}
	for _, k := range old.OptedOut {
		if !slices.Contains(c.OptedOut, k) {
			out = append(out, change{"opted_in", map[string]any{"channel": k}})
		}
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefID(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	_ = json.Unmarshal(orEmpty(a), &x)
	_ = json.Unmarshal(orEmpty(b), &y)
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

func orEmpty(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("{}")
	}
	return b
}

// Delete removes a contact and its timeline.
func (s *Service) Delete(ctx context.Context, a model.Actor, id int64) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.DeleteContact(ctx, a.OrgID, id); err != nil {
			return err
		}
		_, err := events.ContactsDeleted.Publish(ctx, tx, a.OrgID, events.ContactIDs{IDs: []int64{id}})
		return err
	})
}

// Contact returns one contact.
func (s *Service) Contact(ctx context.Context, orgID, id int64) (model.Contact, error) {
	return s.st.Contact(ctx, orgID, id)
}

// Identities lists how channels know a contact besides its phone (WhatsApp user id,
// username, QR ids), the most trusted first.
func (s *Service) Identities(ctx context.Context, orgID, id int64) ([]model.Identity, error) {
	ids, err := s.st.Identities(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	out := ids[:0]
	for _, i := range ids {
		if i.Kind != model.IdentityPhone { // the phone has its own line
			out = append(out, i)
		}
	}
	return out, nil
}

// List returns a page of contacts.
func (s *Service) List(ctx context.Context, a model.Actor, f model.ContactFilter, sort model.ContactSort, after string) (store.ContactPage, error) {
	return s.st.Contacts(ctx, a.OrgID, a.UserID, f, sort, after, ListLimit)
}

// Page returns a page of up to limit contacts (the API's pages, whose size the caller picks).
func (s *Service) Page(ctx context.Context, a model.Actor, f model.ContactFilter, sort model.ContactSort, after string, limit int) (store.ContactPage, error) {
	return s.st.Contacts(ctx, a.OrgID, a.UserID, f, sort, after, limit)
}

// Count counts the contacts a filter selects.
func (s *Service) Count(ctx context.Context, a model.Actor, f model.ContactFilter) (int64, error) {
	return s.st.CountContacts(ctx, a.OrgID, a.UserID, f)
}

// CountEach counts the contacts matching each filter, in one query.
func (s *Service) CountEach(ctx context.Context, a model.Actor, fs []model.ContactFilter) ([]int64, error) {
	return s.st.CountContactsEach(ctx, a.OrgID, a.UserID, fs)
}

// Timeline returns a contact's history, newest first.
func (s *Service) Timeline(ctx context.Context, orgID, id, beforeID int64) ([]model.ContactEvent, error) {
	return s.st.ContactEvents(ctx, orgID, id, beforeID, 50)
}

// Bulk actions on a selection.
const (
	BulkTag    = "tag"
	BulkUntag  = "untag"
	BulkAssign = "assign"
	BulkDelete = "delete"
)

// maxBulk bounds one bulk action; a larger selection is refused with a clear message.
const maxBulk = 100_000

// Bulk applies an action to contacts: ids, or every contact matching f when ids is empty
// and all is set. arg is the tag id (tag, untag) or the owner id (assign; 0 = nobody).
// It returns how many contacts changed.
func (s *Service) Bulk(ctx context.Context, a model.Actor, action string, ids []int64, all bool, f model.ContactFilter, arg int64) (int, error) {
	if all {
		var err error
		if ids, err = s.st.ContactIDs(ctx, a.OrgID, a.UserID, f, maxBulk+1); err != nil {
			return 0, err
		}
	}
	if len(ids) == 0 {
		return 0, model.FieldError("ids", "contacts.error.bulk_none")
	}
	if len(ids) > maxBulk {
		return 0, model.FieldError("ids", "contacts.error.too_many")
	}
	if action == BulkDelete && !a.Role.May(model.ManageContacts) {
		return 0, model.ErrForbidden
	}
	var changed []int64
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		var kind string
		data := map[string]any{}
		switch action {
		case BulkTag, BulkUntag:
			if err := s.checkTag(ctx, tx, a.OrgID, arg); err != nil {
				return err
			}
			if action == BulkTag {
				changed, err = tx.TagContacts(ctx, a.OrgID, ids, arg)
				kind = "tagged"
			} else {
				changed, err = tx.UntagContacts(ctx, a.OrgID, ids, arg)
				kind = "untagged"
			}
			data["tag_id"] = arg
			if n, err := s.names(ctx, tx, a.OrgID); err == nil {
				data["tag_name"] = n.tags[arg]
			}
		case BulkAssign:
			var owner *int64
			if arg != 0 {
				if _, err := tx.Member(ctx, a.OrgID, arg); err != nil {
					if errors.Is(err, model.ErrNotFound) {
						return model.FieldError("owner", "contacts.error.owner")
					}
					return err
				}
				owner = &arg
			}
			changed, err = tx.AssignContacts(ctx, a.OrgID, ids, owner)
			kind, data["owner_id"] = "owner_changed", owner
			if n, nerr := s.names(ctx, tx, a.OrgID); nerr == nil && owner != nil {
				data["owner_name"] = n.users[*owner]
			}
		case BulkDelete:
			changed, err = tx.DeleteContacts(ctx, a.OrgID, ids)
			if err != nil {
				return err
			}
			_, err = events.ContactsDeleted.Publish(ctx, tx, a.OrgID, events.ContactIDs{IDs: changed})
			return err
		default:
			return model.FieldError("action", "contacts.error.action")
		}
		if err != nil {
			return err
		}
		if err := tx.AddContactEvents(ctx, a.OrgID, changed, kind, a.UserRef(), data); err != nil {
			return err
		}
		_, err = events.ContactsChanged.Publish(ctx, tx, a.OrgID, events.ContactsBulk{Action: action, Count: len(changed)})
		return err
	})
	return len(changed), err
}

func (s *Service) checkTag(ctx context.Context, tx *store.Store, orgID, tagID int64) error {
	tags, err := tx.Tags(ctx, orgID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(tags, func(t model.Tag) bool { return t.ID == tagID }) {
		return model.FieldError("tag", "contacts.error.tags")
	}
	return nil
}

// errorf wraps an error of this package.
func errorf(format string, args ...any) error { return fmt.Errorf("crm: "+format, args...) }
