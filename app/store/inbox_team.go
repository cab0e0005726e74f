package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"masteria/app/model"
)

// inboxTeamQueries are the queries of the inbox's team features: settings, round-robin,
// labels, quick replies and the contact panel's leads.
type inboxTeamQueries struct {
	InboxSettings          *sqlx.Stmt `query:"inbox-settings"`
	InboxSettingsSave      *sqlx.Stmt `query:"inbox-settings-save"`
	RotationMembers        *sqlx.Stmt `query:"rotation-members"`
	RotationSet            *sqlx.Stmt `query:"rotation-set"`
	RoundRobinLock         *sqlx.Stmt `query:"round-robin-lock"`
	RoundRobinNext         *sqlx.Stmt `query:"round-robin-next"`
	ConversationAssignFree *sqlx.Stmt `query:"conversation-assign-if-free"`
	ConversationLabelAdd   *sqlx.Stmt `query:"conversation-label-add"`
	ConversationLabelDel   *sqlx.Stmt `query:"conversation-label-remove"`
	LabelsInUse            *sqlx.Stmt `query:"labels-in-use"`
	LabelsDeleteUnused     *sqlx.Stmt `query:"labels-delete-unused"`
	ContactLeads           *sqlx.Stmt `query:"contact-leads"`

	QuickReplies       *sqlx.Stmt `query:"quick-replies"`
	QuickRepliesPrefix *sqlx.Stmt `query:"quick-replies-prefix"`
	QuickReply         *sqlx.Stmt `query:"quick-reply"`
	QuickReplyCreate   *sqlx.Stmt `query:"quick-reply-create"`
	QuickReplyUpdate   *sqlx.Stmt `query:"quick-reply-update"`
	QuickReplyDelete   *sqlx.Stmt `query:"quick-reply-delete"`
}

// InboxSettings returns an org's inbox settings, the defaults when it never saved any.
func (s *Store) InboxSettings(ctx context.Context, orgID int64) (model.InboxSettings, error) {
	out := model.DefaultInboxSettings
	err := s.get(ctx, s.q.InboxSettings, &out, orgID)
	if err != nil && !errors.Is(err, model.ErrNotFound) {
		return out, fmt.Errorf("store: inbox settings: %w", err)
	}
	return out, nil
}

// SaveInboxSettings stores an org's inbox settings.
func (s *Store) SaveInboxSettings(ctx context.Context, orgID int64, in model.InboxSettings) error {
	if _, err := s.exec(ctx, s.q.InboxSettingsSave, orgID, in.RestrictAgents, in.RoundRobin, in.BusinessHours, in.ResponseTarget); err != nil {
		return fmt.Errorf("store: save inbox settings: %w", err)
	}
	return nil
}

// RotationMembers lists an org's members with whether round-robin assigns to them.
func (s *Store) RotationMembers(ctx context.Context, orgID int64) ([]model.RotationMember, error) {
	var out []model.RotationMember
	if err := s.sel(ctx, s.q.RotationMembers, &out, orgID); err != nil {
		return nil, fmt.Errorf("store: rotation members: %w", err)
	}
	return out, nil
}

// SetRotation puts exactly these members of an org in the round-robin rotation.
func (s *Store) SetRotation(ctx context.Context, orgID int64, userIDs []int64) error {
	if userIDs == nil {
		userIDs = []int64{}
	}
	if _, err := s.exec(ctx, s.q.RotationSet, orgID, pq.Array(userIDs)); err != nil {
		return fmt.Errorf("store: set rotation: %w", err)
	}
	return nil
}

// NextInRotation takes round-robin's turn for a conversation that has nobody on it and
// returns the member whose turn it is; 0 when round-robin is off, the conversation needs
// nobody, or nobody is in the rotation. It must run in a transaction: the turn is held
// until it ends.
func (s *Store) NextInRotation(ctx context.Context, orgID, conversationID int64) (int64, error) {
	if s.tx == nil {
		return 0, fmt.Errorf("store: next in rotation outside a transaction")
	}
	var locked []int64
	if err := s.sel(ctx, s.q.RoundRobinLock, &locked, orgID, conversationID); err != nil {
		return 0, fmt.Errorf("store: round-robin lock: %w", err)
	}
	if len(locked) == 0 {
		return 0, nil
	}
	var ids []int64
	if err := s.sel(ctx, s.q.RoundRobinNext, &ids, orgID); err != nil {
		return 0, fmt.Errorf("store: round-robin next: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return ids[0], nil
}

// AssignIfFree gives a conversation to a member unless someone has it; false when someone had.
func (s *Store) AssignIfFree(ctx context.Context, orgID, id, userID int64) (bool, error) {
	n, err := s.exec(ctx, s.q.ConversationAssignFree, orgID, id, userID)
	if err != nil {
		return false, fmt.Errorf("store: assign if free: %w", err)
	}
	return n == 1, nil
}

// AddLabel adds a label to a conversation that has fewer than max; false when it already
// had the label or had max.
func (s *Store) AddLabel(ctx context.Context, orgID, id int64, label string, max int) (bool, error) {
	var n int64
	if err := s.get(ctx, s.q.ConversationLabelAdd, &n, orgID, id, label, max); err != nil {
		return false, fmt.Errorf("store: add label: %w", err)
	}
	return n == 1, nil
}

// RemoveLabel takes a label off a conversation; false when it did not have it.
func (s *Store) RemoveLabel(ctx context.Context, orgID, id int64, label string) (bool, error) {
	var n int64
	if err := s.get(ctx, s.q.ConversationLabelDel, &n, orgID, id, label); err != nil {
		return false, fmt.Errorf("store: remove label: %w", err)
	}
	return n == 1, nil
}

// LabelsInUse lists the labels the org's conversations have, sorted.
func (s *Store) LabelsInUse(ctx context.Context, orgID int64) ([]string, error) {
	var out []string
	if err := s.sel(ctx, s.q.LabelsInUse, &out, orgID); err != nil {
		return nil, fmt.Errorf("store: labels in use: %w", err)
	}
	return out, nil
}

// ContactLeads lists a contact's leads, most recently changed first.
func (s *Store) ContactLeads(ctx context.Context, orgID, contactID int64) ([]model.ContactLead, error) {
	var out []model.ContactLead
	if err := s.sel(ctx, s.q.ContactLeads, &out, orgID, contactID); err != nil {
		return nil, fmt.Errorf("store: contact leads: %w", err)
	}
	return out, nil
}

// QuickReplies lists an org's quick replies by shortcut.
func (s *Store) QuickReplies(ctx context.Context, orgID int64) ([]model.QuickReply, error) {
	var out []model.QuickReply
	if err := s.sel(ctx, s.q.QuickReplies, &out, orgID); err != nil {
		return nil, fmt.Errorf("store: quick replies: %w", err)
	}
	return out, nil
}

// QuickRepliesPrefix lists up to limit quick replies whose shortcut or a word of whose
// title starts with prefix, accents and case aside.
func (s *Store) QuickRepliesPrefix(ctx context.Context, orgID int64, prefix string, limit int) ([]model.QuickReply, error) {
	var out []model.QuickReply
	if err := s.sel(ctx, s.q.QuickRepliesPrefix, &out, orgID, escapeLike(model.CleanSearch(prefix)), limit); err != nil {
		return nil, fmt.Errorf("store: quick replies: %w", err)
	}
	return out, nil
}

// QuickReply returns one quick reply of an org.
func (s *Store) QuickReply(ctx context.Context, orgID, id int64) (model.QuickReply, error) {
	var q model.QuickReply
	if err := s.get(ctx, s.q.QuickReply, &q, orgID, id); err != nil {
		return q, fmt.Errorf("store: quick reply %d: %w", id, err)
	}
	return q, nil
}

// CreateQuickReply stores a quick reply; model.ErrConflict when its shortcut is taken.
func (s *Store) CreateQuickReply(ctx context.Context, q model.QuickReply) (model.QuickReply, error) {
	var out model.QuickReply
	err := s.get(ctx, s.q.QuickReplyCreate, &out, q.OrgID, q.Shortcut, q.Title, q.Body, q.CreatedBy)
	if isUnique(err) {
		return out, fmt.Errorf("store: create quick reply: %w", model.ErrConflict)
	}
	if err != nil {
		return out, fmt.Errorf("store: create quick reply: %w", err)
	}
	return out, nil
}

// UpdateQuickReply changes a quick reply; model.ErrConflict when its new shortcut is taken.
func (s *Store) UpdateQuickReply(ctx context.Context, q model.QuickReply) (model.QuickReply, error) {
	var out model.QuickReply
	err := s.get(ctx, s.q.QuickReplyUpdate, &out, q.OrgID, q.ID, q.Shortcut, q.Title, q.Body)
	if isUnique(err) {
		return out, fmt.Errorf("store: update quick reply: %w", model.ErrConflict)
	}
	if err != nil {
		return out, fmt.Errorf("store: update quick reply %d: %w", q.ID, err)
	}
	return out, nil
}

// DeleteQuickReply removes a quick reply of an org.
func (s *Store) DeleteQuickReply(ctx context.Context, orgID, id int64) error {
	n, err := s.exec(ctx, s.q.QuickReplyDelete, orgID, id)
	if err != nil {
		return fmt.Errorf("store: delete quick reply: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: delete quick reply %d: %w", id, model.ErrNotFound)
	}
	return nil
}

// DeleteUnusedLabels drops, in every org, the labels no conversation has any more.
func (s *Store) DeleteUnusedLabels(ctx context.Context) (int64, error) {
	n, err := s.exec(ctx, s.q.LabelsDeleteUnused)
	if err != nil {
		return 0, fmt.Errorf("store: delete unused labels: %w", err)
	}
	return n, nil
}
