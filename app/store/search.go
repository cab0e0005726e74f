package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"masteria/app/model"
)

// searchQueries are the queries of message text search.
type searchQueries struct {
	ConversationsWithText *sqlx.Stmt `query:"conversations-with-text"`
	ConversationSnippets  *sqlx.Stmt `query:"conversation-snippets"`
}

// searchFirstMax is how many matching contacts a conversation search still starts from;
// textFirstMax is the same for matching messages.
const (
	searchFirstMax = 2000
	textFirstMax   = 1000
)

// conversationSearch is how a conversation list search q is run: the condition it adds to
// the list, and whether message text is part of it (the page then gets snippets).
type conversationSearch struct {
	cond   string
	args   []any
	byText bool
}

// searchConversations decides how to find the conversations whose contact's name, phone or
// email contains q (folded, trigram index) or whose messages match q (full-text search);
// none means nothing can match.
//
// Each side starts from its matches when they are few: the trigram index gives the
// contacts, the GIN index on messages the messages (each read from the table for its
// conversation); then the recent list is read by ids. When one side matches many, the list
// is walked from the newest and each conversation tested instead, which ends after a page
// since matches are dense. The planner cannot make that choice itself: it cannot tell how
// many contacts a LIKE matches, and testing the messages of a few thousand conversations
// for a word a thousand messages hold cost ~90 ms where starting from them costs ~5.
func (s *Store) searchConversations(ctx context.Context, orgID int64, q string) (conversationSearch, bool, error) {
	var conds []string
	var out conversationSearch
	like := "%" + escapeLike(q) + "%"
	var contacts []int64
	if len([]rune(q)) >= 3 {
		if err := s.sel(ctx, s.q.ContactsMatching, &contacts, orgID, like, searchFirstMax+1); err != nil {
			return out, false, err
		}
	}
	switch {
	case len([]rune(q)) < 3 || len(contacts) > searchFirstMax:
		conds, out.args = append(conds, "c.search LIKE fold(?)"), append(out.args, like)
	case len(contacts) > 0:
		conds, out.args = append(conds, "v.contact_id = ANY(?)"), append(out.args, pq.Array(contacts))
	}
	var convs []int64
	if err := s.sel(ctx, s.q.ConversationsWithText, &convs, orgID, q, textFirstMax+1); err != nil {
		return out, false, err
	}
	switch {
	case len(convs) > textFirstMax:
		conds = append(conds, "EXISTS (SELECT 1 FROM messages m WHERE m.org_id = v.org_id AND m.conversation_id = v.id AND m.search @@ search_query(?))")
		out.args, out.byText = append(out.args, q), true
	case len(convs) > 0:
		conds, out.args, out.byText = append(conds, "v.id = ANY(?)"), append(out.args, pq.Array(convs)), true
	}
	if len(conds) == 0 {
		return out, false, nil
	}
	out.cond = "(" + strings.Join(conds, " OR ") + ")"
	return out, true, nil
}

// addSnippets sets the Snippet of each listed conversation that has a message matching q.
func (s *Store) addSnippets(ctx context.Context, orgID int64, q string, list []model.Conversation) error {
	if len(list) == 0 {
		return nil
	}
	ids := make([]int64, len(list))
	for i, c := range list {
		ids[i] = c.ID
	}
	var rows []struct {
		ID      int64  `db:"id"`
		Snippet string `db:"snippet"`
	}
	if err := s.sel(ctx, s.q.ConversationSnippets, &rows, orgID, pq.Array(ids), q); err != nil {
		return fmt.Errorf("store: snippets: %w", err)
	}
	by := make(map[int64]string, len(rows))
	for _, r := range rows {
		by[r.ID] = r.Snippet
	}
	for i := range list {
		list[i].Snippet = by[list[i].ID]
	}
	return nil
}
