package inbox

import (
	"context"

	"masteria/app/model"
)

// Mentions lists the notes that mention the actor, unseen first, in the conversations
// they may open.
func (s *Service) Mentions(ctx context.Context, a model.Actor, limit int) ([]model.NoteMention, error) {
	only, err := s.visibleTo(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.st.NoteMentions(ctx, a.OrgID, a.UserID, only, limit)
}

// Waiting lists the actor's open conversations whose customer wrote last, the longest
// waiting first.
func (s *Service) Waiting(ctx context.Context, a model.Actor, limit int) ([]model.WaitingConversation, error) {
	return s.st.ConversationsWaitingFor(ctx, a.OrgID, a.UserID, limit)
}
