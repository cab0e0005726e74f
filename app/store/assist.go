package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// assistQueries are the queries of the composer's agent assist.
type assistQueries struct {
	AssistPersonaKBs *sqlx.Stmt `query:"assist-persona-kbs"`
}

// PersonaKnowledgeBases returns the ids of the knowledge bases the persona of a conversation
// reads (its own persona, else its channel's); none when it has no persona, or a persona
// without knowledge bases.
func (s *Store) PersonaKnowledgeBases(ctx context.Context, orgID, conversationID int64) ([]int64, error) {
	var ids []int64
	if err := s.sel(ctx, s.q.AssistPersonaKBs, &ids, orgID, conversationID); err != nil {
		return nil, fmt.Errorf("store: persona knowledge bases of conversation %d: %w", conversationID, err)
	}
	return ids, nil
}
