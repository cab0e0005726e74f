package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"masteria/app/model"
)

// myDayQueries are the queries of the agent's "my day": the conversations waiting for
// them and the internal notes that mention them.
type myDayQueries struct {
	ConversationsWaitingFor *sqlx.Stmt `query:"conversations-waiting-for"`
	NoteMentionsAdd         *sqlx.Stmt `query:"note-mentions-add"`
	NoteMentionsOfUser      *sqlx.Stmt `query:"note-mentions-of-user"`
	NoteMentionsUnseen      *sqlx.Stmt `query:"note-mentions-unseen"`
	NoteMentionsSeen        *sqlx.Stmt `query:"note-mentions-seen"`
}

// ConversationsWaitingFor lists the open conversations assigned to userID whose customer
// wrote last, the longest waiting first.
func (s *Store) ConversationsWaitingFor(ctx context.Context, orgID, userID int64, limit int) ([]model.WaitingConversation, error) {
	var out []model.WaitingConversation
	if err := s.sel(ctx, s.q.ConversationsWaitingFor, &out, orgID, userID, limit); err != nil {
		return nil, fmt.Errorf("store: conversations waiting for %d: %w", userID, err)
	}
	return out, nil
}

// AddNoteMentions stores that a note mentions these users; users who are not members of
// the org are left out. It returns how many mentions were stored.
func (s *Store) AddNoteMentions(ctx context.Context, orgID, messageID int64, userIDs []int64) (int64, error) {
	if len(userIDs) == 0 {
		return 0, nil
	}
	n, err := s.exec(ctx, s.q.NoteMentionsAdd, orgID, messageID, pq.Array(userIDs))
	if err != nil {
		return 0, fmt.Errorf("store: add note mentions: %w", err)
	}
	return n, nil
}

// NoteMentions lists a member's mentions, unseen first, then newest first; only > 0 keeps
// the conversations assigned to that user or to nobody.
func (s *Store) NoteMentions(ctx context.Context, orgID, userID, only int64, limit int) ([]model.NoteMention, error) {
	var out []model.NoteMention
	if err := s.sel(ctx, s.q.NoteMentionsOfUser, &out, orgID, userID, only, limit); err != nil {
		return nil, fmt.Errorf("store: note mentions: %w", err)
	}
	return out, nil
}

// UnseenNoteMentions counts a member's unseen mentions in a conversation (0: in all).
func (s *Store) UnseenNoteMentions(ctx context.Context, orgID, userID, conversationID int64) (int64, error) {
	var n int64
	if err := s.get(ctx, s.q.NoteMentionsUnseen, &n, orgID, userID, conversationID); err != nil {
		return 0, fmt.Errorf("store: unseen note mentions: %w", err)
	}
	return n, nil
}

// SeeNoteMentions marks a member's mentions in a conversation seen.
func (s *Store) SeeNoteMentions(ctx context.Context, orgID, userID, conversationID int64) (int64, error) {
	n, err := s.exec(ctx, s.q.NoteMentionsSeen, orgID, userID, conversationID)
	if err != nil {
		return 0, fmt.Errorf("store: see note mentions: %w", err)
	}
	return n, nil
}
