package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"masteria/app/model"
)

// botQueries are the queries of personas, conversation owners and bot replies.
type botQueries struct {
	Personas            *sqlx.Stmt `query:"personas"`
	PersonasPage        *sqlx.Stmt `query:"personas-page"`
	Persona             *sqlx.Stmt `query:"persona"`
	PersonaCreate       *sqlx.Stmt `query:"persona-create"`
	PersonaUpdate       *sqlx.Stmt `query:"persona-update"`
	PersonaDelete       *sqlx.Stmt `query:"persona-delete"`
	PersonaKBsSet       *sqlx.Stmt `query:"persona-kbs-set"`
	ChannelSetPersona   *sqlx.Stmt `query:"channel-set-persona"`
	ConversationOwner   *sqlx.Stmt `query:"conversation-set-owner"`
	ConversationPersona *sqlx.Stmt `query:"conversation-set-persona"`
	ConversationBotDone *sqlx.Stmt `query:"conversation-bot-done"`
	AIReplyAdd          *sqlx.Stmt `query:"ai-reply-add"`
	AIRepliesOf         *sqlx.Stmt `query:"ai-replies-of"`
	BotPending          *sqlx.Stmt `query:"bot-pending"`
	BotHistory          *sqlx.Stmt `query:"bot-history"`
	BotRecentReplies    *sqlx.Stmt `query:"bot-recent-replies"`
	AIBudgetAlert       *sqlx.Stmt `query:"ai-budget-alert"`
}

// Personas lists an org's personas by name.
func (s *Store) Personas(ctx context.Context, orgID int64) ([]model.Persona, error) {
	var out []model.Persona
	if err := s.sel(ctx, s.q.Personas, &out, orgID); err != nil {
		return nil, fmt.Errorf("store: personas: %w", err)
	}
	return out, nil
}

// PersonasPage returns up to limit of an org's personas in the order they were made,
// after afterID when it is not 0.
func (s *Store) PersonasPage(ctx context.Context, orgID, afterID int64, limit int) ([]model.Persona, error) {
	var out []model.Persona
	if err := s.sel(ctx, s.q.PersonasPage, &out, orgID, afterID, limit); err != nil {
		return nil, fmt.Errorf("store: personas page: %w", err)
	}
	return out, nil
}

// Persona returns one of an org's personas, or model.ErrNotFound.
func (s *Store) Persona(ctx context.Context, orgID, id int64) (model.Persona, error) {
	var p model.Persona
	if err := s.get(ctx, s.q.Persona, &p, orgID, id); err != nil {
		return p, fmt.Errorf("store: persona %d: %w", id, err)
	}
	return p, nil
}

func personaArgs(p model.Persona) []any {
	hours := p.BusinessHours
	if len(hours) == 0 {
		hours = json.RawMessage("{}")
	}
	kw := p.HandoverKeywords
	if kw == nil {
		kw = model.Labels{}
	}
	return []any{p.Name, p.Instructions, p.Tone, p.Language, p.Model, p.Temperature, p.NothingFound,
		p.MaxTurns, pq.Array([]string(kw)), p.HandoverMessage, hours}
}

// CreatePersona stores a persona with its knowledge bases and returns its id.
func (s *Store) CreatePersona(ctx context.Context, orgID int64, p model.Persona) (int64, error) {
	var id int64
	if err := s.get(ctx, s.q.PersonaCreate, &id, append([]any{orgID}, personaArgs(p)...)...); err != nil {
		return 0, fmt.Errorf("store: create persona: %w", err)
	}
	return id, s.SetPersonaKnowledgeBases(ctx, orgID, id, p.KnowledgeBases)
}

// UpdatePersona saves a persona and its knowledge bases.
func (s *Store) UpdatePersona(ctx context.Context, orgID int64, p model.Persona) error {
	n, err := s.exec(ctx, s.q.PersonaUpdate, append([]any{orgID, p.ID}, personaArgs(p)...)...)
	if err != nil {
		return fmt.Errorf("store: update persona %d: %w", p.ID, err)
	}
	if n == 0 {
		return model.ErrNotFound
	}
	return s.SetPersonaKnowledgeBases(ctx, orgID, p.ID, p.KnowledgeBases)
}

// DeletePersona removes a persona; channels and conversations that ran it have no bot.
func (s *Store) DeletePersona(ctx context.Context, orgID, id int64) error {
	n, err := s.exec(ctx, s.q.PersonaDelete, orgID, id)
	if err != nil {
		return fmt.Errorf("store: delete persona %d: %w", id, err)
	}
	if n == 0 {
		return model.ErrNotFound
	}
	return nil
}

// SetPersonaKnowledgeBases makes the persona's knowledge bases exactly ids (those of the org).
func (s *Store) SetPersonaKnowledgeBases(ctx context.Context, orgID, personaID int64, ids []int64) error {
	if ids == nil {
		ids = []int64{}
	}
	if _, err := s.exec(ctx, s.q.PersonaKBsSet, orgID, personaID, pq.Array(ids)); err != nil {
		return fmt.Errorf("store: persona %d knowledge bases: %w", personaID, err)
	}
	return nil
}

// SetChannelPersona puts the bot with a persona on a channel (nil: no bot). A persona of
// another org is model.ErrNotFound.
func (s *Store) SetChannelPersona(ctx context.Context, orgID, channelID int64, personaID *int64) error {
	n, err := s.exec(ctx, s.q.ChannelSetPersona, orgID, channelID, personaID)
	if err != nil {
		return fmt.Errorf("store: channel %d persona: %w", channelID, err)
	}
	if n == 0 {
		return model.ErrNotFound
	}
	return nil
}

// SetConversationPersona puts the bot with a persona on one conversation (nil: the channel's).
func (s *Store) SetConversationPersona(ctx context.Context, orgID, conversationID int64, personaID *int64) error {
	n, err := s.exec(ctx, s.q.ConversationPersona, orgID, conversationID, personaID)
	if err != nil {
		return fmt.Errorf("store: conversation %d persona: %w", conversationID, err)
	}
	if n == 0 {
		return model.ErrNotFound
	}
	return nil
}

// SetConversationOwner changes who answers a conversation; stopped, when not nil, sets
// whether the bot stays away from it for good.
func (s *Store) SetConversationOwner(ctx context.Context, orgID, conversationID int64, owner string, stopped *bool) error {
	var got string
	if err := s.get(ctx, s.q.ConversationOwner, &got, orgID, conversationID, owner, stopped); err != nil {
		return fmt.Errorf("store: conversation %d owner: %w", conversationID, err)
	}
	return nil
}

// BotDone records that the bot dealt with the customer's messages up to upTo, having read
// them when bot_read_to was readFrom: owner model.OwnerBot for an answer (one more turn),
// model.OwnerWaiting for a hand-over with its reason and summary. False when the
// conversation moved meanwhile (an agent took it, the customer wrote again): the bot then
// drops what it was about to send.
func (s *Store) BotDone(ctx context.Context, orgID, conversationID, readFrom, upTo int64, owner, reason, summary string, at time.Time) (bool, error) {
	var id int64
	err := s.get(ctx, s.q.ConversationBotDone, &id, orgID, conversationID, readFrom, upTo, owner, reason, summary, at)
	if errors.Is(err, model.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: bot done %d: %w", conversationID, err)
	}
	return true, nil
}

// AddAIReply records what a bot reply was built from.
func (s *Store) AddAIReply(ctx context.Context, orgID, conversationID int64, r model.AIReply) error {
	cites := r.Citations
	if cites == nil {
		cites = model.Citations{}
	}
	b, err := json.Marshal(cites)
	if err != nil {
		return err
	}
	if _, err := s.exec(ctx, s.q.AIReplyAdd, r.MessageID, orgID, conversationID, r.PersonaID, r.Model,
		r.PromptTokens, r.CompletionTokens, r.Cost, b); err != nil {
		return fmt.Errorf("store: ai reply of message %d: %w", r.MessageID, err)
	}
	return nil
}

// AIRepliesOf returns the bot replies among messages, by message id.
func (s *Store) AIRepliesOf(ctx context.Context, orgID int64, messageIDs []int64) (map[int64]model.AIReply, error) {
	var rows []model.AIReply
	if err := s.sel(ctx, s.q.AIRepliesOf, &rows, orgID, pq.Array(messageIDs)); err != nil {
		return nil, fmt.Errorf("store: ai replies: %w", err)
	}
	out := make(map[int64]model.AIReply, len(rows))
	for _, r := range rows {
		out[r.MessageID] = r
	}
	return out, nil
}

// BotMessage is a message the bot reads: the customer's to answer, or the history.
type BotMessage struct {
	ID        int64     `db:"id"`
	Direction string    `db:"direction"`
	Kind      string    `db:"kind"`
	Body      string    `db:"body"`
	CreatedAt time.Time `db:"created_at"`
}

// BotPending is what the customer wrote after a message id (bot_read_to), oldest first.
func (s *Store) BotPending(ctx context.Context, orgID, conversationID, after int64) ([]BotMessage, error) {
	var out []BotMessage
	if err := s.sel(ctx, s.q.BotPending, &out, orgID, conversationID, after); err != nil {
		return nil, fmt.Errorf("store: bot pending %d: %w", conversationID, err)
	}
	for i := range out {
		out[i].Direction = "in"
	}
	return out, nil
}

// BotHistory is a conversation's latest n messages, oldest first.
func (s *Store) BotHistory(ctx context.Context, orgID, conversationID int64, n int) ([]BotMessage, error) {
	var out []BotMessage
	if err := s.sel(ctx, s.q.BotHistory, &out, orgID, conversationID, n); err != nil {
		return nil, fmt.Errorf("store: bot history %d: %w", conversationID, err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// BotRepliesSince counts the bot's replies in a conversation since a time.
func (s *Store) BotRepliesSince(ctx context.Context, orgID, conversationID int64, since time.Time) (int, error) {
	var n int
	if err := s.get(ctx, s.q.BotRecentReplies, &n, orgID, conversationID, since); err != nil {
		return 0, fmt.Errorf("store: bot replies %d: %w", conversationID, err)
	}
	return n, nil
}

// AIBudgetAlert marks that the org's managers are told its monthly AI budget is spent;
// false when they were told already this month (since monthStart).
func (s *Store) AIBudgetAlert(ctx context.Context, orgID int64, monthStart time.Time) (bool, error) {
	var first bool
	err := s.get(ctx, s.q.AIBudgetAlert, &first, orgID, monthStart)
	if errors.Is(err, model.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: ai budget alert: %w", err)
	}
	return first, nil
}
