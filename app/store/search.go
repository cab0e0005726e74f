package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"masteria/app/model"
)

// searchQueries are the queries of message text search.
type searchQueries struct {
	SearchWords          *sqlx.Stmt `query:"search-words"`
	ConversationSnippets *sqlx.Stmt `query:"conversation-snippets"`
}

// searchFirstMax is how many matching contacts a conversation search still starts from;
// textFirstMax is the same for conversations whose messages match, as the planner
// estimates them.
const (
	searchFirstMax = 2000
	textFirstMax   = 2000
)

// conversationSearch is how a conversation list search is run: the condition it adds to
// the list, whether message text is part of it (the page then gets snippets), and whether
// the list should start from the matches rather than walk the recent conversations.
type conversationSearch struct {
	cond        string
	args        []any
	byText      bool
	fromMatches bool
}

// searchConversations decides how to find the conversations whose contact's name, phone or
// email contains q (folded, trigram index) or whose messages used the words of q
// (conversations.search, GIN index); none means nothing can match.
//
// When both sides match few conversations the list starts from them (the indexes, then a
// sort of a few hundred rows); when either matches many it walks the recent list and tests
// each conversation, which ends after a page since matches are dense. The planner cannot
// make that choice itself: it cannot tell how many contacts a LIKE matches, and for a word
// in 1% of the conversations it still walks (reading ~3,700 rows for a page, 3 times as
// long as starting from the ~900 matches; BenchmarkInboxList "text medium").
func (s *Store) searchConversations(ctx context.Context, orgID int64, q string) (conversationSearch, bool, error) {
	var conds []string
	out := conversationSearch{fromMatches: true}
	like := "%" + escapeLike(q) + "%"
	var contacts []int64
	if len([]rune(q)) >= 3 {
		if err := s.sel(ctx, s.q.ContactsMatching, &contacts, orgID, like, searchFirstMax+1); err != nil {
			return out, false, err
		}
	}
	switch {
	case len([]rune(q)) < 3 || len(contacts) > searchFirstMax:
		conds, out.args, out.fromMatches = append(conds, "c.search LIKE fold(?)"), append(out.args, like), false
	case len(contacts) > 0:
		conds, out.args = append(conds, "v.contact_id = ANY(?)"), append(out.args, pq.Array(contacts))
	}
	var words string
	if err := s.get(ctx, s.q.SearchWords, &words, q); err != nil {
		return out, false, err
	}
	if words != "" {
		if out.fromMatches { // only worth asking when the matches could still lead
			n, err := s.estimate(ctx, "SELECT 1 FROM conversations WHERE org_id = $1 AND search @@ search_query_words($2)", orgID, q)
			if err != nil {
				return out, false, err
			}
			out.fromMatches = n <= textFirstMax
		}
		conds, out.args, out.byText = append(conds, "v.search @@ search_query_words(?)"), append(out.args, q), true
	}
	if len(conds) == 0 {
		return out, false, nil
	}
	out.cond = "(" + strings.Join(conds, " OR ") + ")"
	return out, true, nil
}

// estimate is the planner's guess of how many rows a query returns (from the column
// statistics: for a text search, how common its words are), read without running it.
func (s *Store) estimate(ctx context.Context, query string, args ...any) (float64, error) {
	var raw []byte
	if err := sqlx.GetContext(ctx, s.queryer(), &raw, "EXPLAIN (FORMAT JSON) "+query, args...); err != nil {
		return 0, fmt.Errorf("store: estimate: %w", err)
	}
	var plan []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &plan); err != nil || len(plan) == 0 {
		return 0, fmt.Errorf("store: estimate: %q: %v", raw, err)
	}
	return plan[0].Plan.Rows, nil
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
