package crm

import (
	"context"

	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// MergePreview says what a merge moves to the kept contact.
type MergePreview = store.MergePreview

// PreviewMerge tells what merging otherID into keepID would move; both must be the org's.
func (s *Service) PreviewMerge(ctx context.Context, a model.Actor, keepID, otherID int64) (MergePreview, error) {
	if err := checkMerge(a, keepID, otherID); err != nil {
		return MergePreview{}, err
	}
	return s.st.PreviewMerge(ctx, a.OrgID, keepID, otherID)
}

func checkMerge(a model.Actor, keepID, otherID int64) error {
	if !a.Role.May(model.ManageContacts) { // like deleting a contact, it cannot be undone
		return model.ErrForbidden
	}
	if keepID == otherID {
		return model.FieldError("other_id", "contacts.merge.error.same")
	}
	return nil
}

// Merge makes one contact of two, in one transaction: the other contact's conversations
// (their messages join the kept one's conversation on the same channel), leads,
// identities, timeline, tags, opt-outs and the custom fields the kept one lacks move to
// keepID; the other is deleted, the merge is written on the timeline and published.
func (s *Service) Merge(ctx context.Context, a model.Actor, keepID, otherID int64) (MergePreview, error) {
	if err := checkMerge(a, keepID, otherID); err != nil {
		return MergePreview{}, err
	}
	var moved MergePreview
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		var other store.MergedAway
		var err error
		if moved, other, err = tx.MergeContacts(ctx, a.OrgID, keepID, otherID); err != nil {
			return err
		}
		data := map[string]any{"other_id": otherID, "other_name": other.Name, "moved": moved}
		if other.Phone != nil {
			data["other_phone"] = *other.Phone
		}
		if err := tx.AddContactEvent(ctx, a.OrgID, keepID, "merged", a.UserRef(), data); err != nil {
			return err
		}
		_, err = events.ContactMerged.Publish(ctx, tx, a.OrgID, events.ContactMerge{KeptID: keepID, RemovedID: otherID})
		return err
	})
	return moved, err
}
