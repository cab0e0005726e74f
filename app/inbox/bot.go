package inbox

import (
	"context"
	"errors"
	"time"

	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// Bot answers customers in the conversations it owns (app/ai/bot). The inbox tells it of
// each customer message inside the transaction that stored it; it never imports it.
type Bot interface {
	// Inbound: a customer's message was stored. The bot queues its answer when it owns
	// the conversation (in.Owner is model.OwnerBot).
	Inbound(ctx context.Context, tx *store.Store, in BotInbound) error
}

// BotInbound is a customer's message as the bot hears of it.
type BotInbound struct {
	OrgID, ChannelID, ConversationID, ContactID, MessageID int64
	Owner                                                  string
	At                                                     time.Time
}

// SetBot gives the service the bot (set once at start).
func (s *Service) SetBot(b Bot) { s.bot = b }

// ErrNoPersona is a conversation given to the bot when neither it nor its channel has a persona.
var ErrNoPersona = errors.New("inbox: no persona for the bot")

// QueueBotMessage stores a message of the bot to the customer as queued and queues its
// send, in tx. The bot's messages have no sender.
func (s *Service) QueueBotMessage(ctx context.Context, tx *store.Store, orgID, conversationID, channelID int64, body string) (int64, error) {
	m := model.Message{OrgID: orgID, ConversationID: conversationID, ChannelID: channelID, Direction: "out",
		Kind: "text", Body: body, Status: model.StatusQueued, CreatedAt: s.now()}
	m, err := s.queueIn(ctx, tx, model.Actor{OrgID: orgID}, m)
	return m.ID, err
}

// AssignInTurn gives a conversation nobody is on to the next member in rotation, when the
// org hands conversations out in turn (a bot's hand-over).
func (s *Service) AssignInTurn(ctx context.Context, tx *store.Store, orgID, conversationID int64) error {
	set, err := tx.InboxSettings(ctx, orgID)
	if err != nil || !set.RoundRobin {
		return err
	}
	c, err := tx.Conversation(ctx, orgID, conversationID)
	if err != nil || c.AssigneeID != nil {
		return err
	}
	return s.autoAssign(ctx, tx, orgID, conversationID)
}

// TakeOver: an agent takes a conversation from the bot, or from those waiting for a
// person. It is theirs when nobody had it, and the bot stays away from it for good until
// someone gives it back.
func (s *Service) TakeOver(ctx context.Context, a model.Actor, id int64) error {
	c, err := s.Open(ctx, a, id)
	if err != nil {
		return err
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if c.AssigneeID == nil && a.UserID != 0 {
			if err := tx.AssignConversation(ctx, a.OrgID, c.ID, &a.UserID); err != nil {
				return err
			}
		}
		return s.takeOver(ctx, tx, a.OrgID, c)
	})
}

// takeOver makes a person the owner of a conversation the bot had or handed over, in tx.
func (s *Service) takeOver(ctx context.Context, tx *store.Store, orgID int64, c model.Conversation) error {
	if c.Owner != model.OwnerBot && c.Owner != model.OwnerWaiting {
		return nil
	}
	stopped := true
	if err := tx.SetConversationOwner(ctx, orgID, c.ID, model.OwnerHuman, &stopped); err != nil {
		return err
	}
	_, err := events.ConversationChanged.Publish(ctx, tx, orgID, events.ConversationChange{
		ConversationID: c.ID, Change: "taken_over", Owner: model.OwnerHuman})
	return err
}

// GiveToBot gives a conversation back to the bot, with a persona of its own (personaID),
// or the channel's when personaID is 0. Agents may do it on conversations they can open.
func (s *Service) GiveToBot(ctx context.Context, a model.Actor, id, personaID int64) error {
	c, err := s.Open(ctx, a, id)
	if err != nil {
		return err
	}
	ch, err := s.st.Channel(ctx, a.OrgID, c.ChannelID)
	if err != nil {
		return err
	}
	if personaID == 0 && c.PersonaID == nil && ch.PersonaID == nil {
		return model.FieldError("persona_id", "bot.error.no_persona")
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if personaID != 0 {
			if err := tx.SetConversationPersona(ctx, a.OrgID, c.ID, &personaID); err != nil {
				if errors.Is(err, model.ErrNotFound) {
					return model.FieldError("persona_id", "bot.error.persona")
				}
				return err
			}
		}
		stopped := false
		if err := tx.SetConversationOwner(ctx, a.OrgID, c.ID, model.OwnerBot, &stopped); err != nil {
			return err
		}
		_, err := events.ConversationChanged.Publish(ctx, tx, a.OrgID, events.ConversationChange{
			ConversationID: c.ID, Change: "given_to_bot", Owner: model.OwnerBot})
		return err
	})
}
