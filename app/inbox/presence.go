package inbox

import (
	"context"

	"masteria/app/events"
	"masteria/app/model"
)

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
	ev := events.Presence{ConversationID: c.ID, UserID: a.UserID, Name: name, State: state}
	if c.AssigneeID != nil {
		set, err := s.st.InboxSettings(ctx, a.OrgID)
		if err != nil {
			return err
		}
		ev.AssigneeID, ev.AgentsRestricted = *c.AssigneeID, set.RestrictAgents
	}
	return events.ConversationPresence.Signal(ctx, s.st, a.OrgID, ev)
}
