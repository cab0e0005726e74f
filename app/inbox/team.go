package inbox

import (
	"context"
	"slices"
	"strings"

	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// Settings returns the org's inbox settings.
func (s *Service) Settings(ctx context.Context, orgID int64) (model.InboxSettings, error) {
	return s.st.InboxSettings(ctx, orgID)
}

// visibleTo is the user an actor's view is limited to (0: none): an agent, when the org
// restricts agents to their own and unassigned conversations.
func (s *Service) visibleTo(ctx context.Context, a model.Actor) (int64, error) {
	only := agentOnly(a)
	if only == 0 {
		return 0, nil
	}
	set, err := s.st.InboxSettings(ctx, a.OrgID)
	if err != nil || !set.RestrictAgents {
		return 0, err
	}
	return only, nil
}

// Rotation lists the org's members with whether round-robin assigns to them.
func (s *Service) Rotation(ctx context.Context, orgID int64) ([]model.RotationMember, error) {
	return s.st.RotationMembers(ctx, orgID)
}

// SaveSettings stores the org's inbox settings and who is in the round-robin rotation.
// Only admins and owners change them; every id of rotation must be a member.
func (s *Service) SaveSettings(ctx context.Context, a model.Actor, in model.InboxSettings, rotation []int64) error {
	if !a.Role.May(model.ManageInbox) {
		return model.ErrForbidden
	}
	if err := in.BusinessHours.Validate(); err != nil {
		return err
	}
	if in.ResponseTarget < 0 || in.ResponseTarget > model.MaxResponseTarget {
		return model.FieldError("response_target", "inbox_settings.error.target")
	}
	members, err := s.st.RotationMembers(ctx, a.OrgID)
	if err != nil {
		return err
	}
	for _, id := range rotation {
		if !slices.ContainsFunc(members, func(m model.RotationMember) bool { return m.UserID == id }) {
			return model.FieldError("rotation", "inbox_settings.error.member")
		}
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SaveInboxSettings(ctx, a.OrgID, in); err != nil {
			return err
		}
		if err := tx.SetRotation(ctx, a.OrgID, rotation); err != nil {
			return err
		}
		if err := tx.Audit(ctx, model.AuditEntry{OrgID: a.OrgID, UserID: a.UserRef(), Action: "inbox.settings_saved", IP: a.IP, UserAgent: a.UserAgent}); err != nil {
			return err
		}
		_, err := events.InboxSettingsChanged.Publish(ctx, tx, a.OrgID, in)
		return err
	})
}

// autoAssign gives a conversation that has nobody to the next member of the round-robin
// rotation, when the org asks for it. It runs in the transaction of the inbound message that
// created or reopened the conversation; the org's turn is held until that transaction ends,
// so concurrent messages are dealt one at a time, in turn.
func (s *Service) autoAssign(ctx context.Context, tx *store.Store, orgID, conversationID int64) error {
	userID, err := tx.NextInRotation(ctx, orgID, conversationID)
	if err != nil || userID == 0 {
		return err
	}
	if ok, err := tx.AssignIfFree(ctx, orgID, conversationID, userID); err != nil || !ok {
		return err
	}
	_, err = events.ConversationChanged.Publish(ctx, tx, orgID, events.ConversationChange{
		ConversationID: conversationID, Change: "assigned", AssigneeID: userID, Auto: true})
	return err
}

// CleanLabel is a label as stored: trimmed, inner spaces collapsed. It is refused when
// empty or longer than model.MaxLabelLen characters.
func CleanLabel(label string) (string, error) {
	label = strings.Join(strings.Fields(label), " ")
	if label == "" {
		return "", model.FieldError("label", "inbox.labels.error.empty")
	}
	if len([]rune(label)) > model.MaxLabelLen {
		return "", model.FieldError("label", "inbox.labels.error.too_long")
	}
	return label, nil
}

// AddLabel puts a label on a conversation the actor may see; one it already has is fine.
func (s *Service) AddLabel(ctx context.Context, a model.Actor, id int64, label string) error {
	label, err := CleanLabel(label)
	if err != nil {
		return err
	}
	c, err := s.Open(ctx, a, id)
	if err != nil {
		return err
	}
	if slices.Contains(c.Labels, label) {
		return nil
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		added, err := tx.AddLabel(ctx, a.OrgID, c.ID, label, model.MaxLabels)
		if err != nil {
			return err
		}
		if !added { // full, or added meanwhile: tell which
			now, err := tx.Conversation(ctx, a.OrgID, c.ID)
			if err != nil || slices.Contains(now.Labels, label) {
				return err
			}
			return model.FieldError("label", "inbox.labels.error.too_many")
		}
		return s.changed(ctx, tx, a.OrgID, c.ID, "labels")
	})
}

// RemoveLabel takes a label off a conversation the actor may see; one it lacks is fine.
func (s *Service) RemoveLabel(ctx context.Context, a model.Actor, id int64, label string) error {
	label = strings.Join(strings.Fields(label), " ")
	c, err := s.Open(ctx, a, id)
	if err != nil {
		return err
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		removed, err := tx.RemoveLabel(ctx, a.OrgID, c.ID, label)
		if err != nil || !removed {
			return err
		}
		return s.changed(ctx, tx, a.OrgID, c.ID, "labels")
	})
}

// Labels lists the labels in use in the org, for the filter and the suggestions.
func (s *Service) Labels(ctx context.Context, orgID int64) ([]string, error) {
	return s.st.LabelsInUse(ctx, orgID)
}

// ContactLeads lists a contact's leads with their pipeline and stage.
func (s *Service) ContactLeads(ctx context.Context, orgID, contactID int64) ([]model.ContactLead, error) {
	return s.st.ContactLeads(ctx, orgID, contactID)
}
