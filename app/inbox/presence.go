package inbox

import (
	"context"
	"encoding/json"

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
	ev := PresenceEvent{ConversationID: c.ID, UserID: a.UserID, Name: name, State: state}
	if c.AssigneeID != nil {
		set, err := s.st.InboxSettings(ctx, a.OrgID)
		if err != nil {
			return err
		}
		ev.AssigneeID, ev.AgentsRestricted = *c.AssigneeID, set.RestrictAgents
	}
	return events.Signal(ctx, s.st, a.OrgID, ConversationPresence, ev)
}

// PresenceEvent is the payload of ConversationPresence. It says whose conversation it is,
// so that the event stream keeps it from agents who may not open it.
type PresenceEvent struct {
	ConversationID   int64  `json:"conversation_id"`
	UserID           int64  `json:"user_id"`
	Name             string `json:"name"`
	State            string `json:"state"`
	AssigneeID       int64  `json:"assignee_id,omitempty"`
	AgentsRestricted bool   `json:"agents_restricted,omitempty"`
}

// PresenceFor says whether a member may see a presence event: not an agent of an org that
// restricts agents, when the conversation is another agent's.
func PresenceFor(payload []byte, a model.Actor) bool {
	var ev PresenceEvent
	if json.Unmarshal(payload, &ev) != nil {
		return false
	}
	return a.Role != model.RoleAgent || !ev.AgentsRestricted || ev.AssigneeID == 0 || ev.AssigneeID == a.UserID
}
