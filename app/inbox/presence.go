package inbox

import (
	"context"

	"masteria/app/events"
	"masteria/app/model"
)

// ConversationPresence is the transient event of a member viewing or typing in a
// conversation. It is not stored: pages show it for a few seconds and forget it.
const ConversationPresence = "conversation.presence"

// Presence states.
const (
	PresenceViewing = "viewing"
	PresenceTyping  = "typing"
)

// Presence tells the other members, on every instance, that the actor is viewing or typing
// in a conversation they may see. name is how the others see the actor.
func (s *Service) Presence(ctx context.Context, a model.Actor, conversationID int64, name, state string) error {
	if state != PresenceViewing && state != PresenceTyping {
		return model.FieldError("state", "inbox.presence.error.state")
	}
	c, err := s.Open(ctx, a, conversationID)
	if err != nil {
		return err
	}
	return events.Signal(ctx, s.st, a.OrgID, ConversationPresence, map[string]any{
		"conversation_id": c.ID, "user_id": a.UserID, "name": name, "state": state})
}
