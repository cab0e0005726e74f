package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"masteria/app/model"
)

// inboxQueries are the queries of channels, conversations and messages.
type inboxQueries struct {
	ChannelCreate         *sqlx.Stmt `query:"channel-create"`
	ChannelSecrets        *sqlx.Stmt `query:"channel-set-secrets"`
	Channel               *sqlx.Stmt `query:"channel"`
	ChannelForWebhook     *sqlx.Stmt `query:"channel-for-webhook"`
	Channels              *sqlx.Stmt `query:"channels"`
	ChannelsPage          *sqlx.Stmt `query:"channels-page"`
	ConversationOpen      *sqlx.Stmt `query:"conversation-open"`
	ConversationTouch     *sqlx.Stmt `query:"conversation-touch"`
	Conversation          *sqlx.Stmt `query:"conversation"`
	MessageInsert         *sqlx.Stmt `query:"message-insert"`
	Message               *sqlx.Stmt `query:"message"`
	Messages              *sqlx.Stmt `query:"messages"`
	MessageSent           *sqlx.Stmt `query:"message-sent"`
	MessageFailed         *sqlx.Stmt `query:"message-failed"`
	MessageStatus         *sqlx.Stmt `query:"message-status"`
	ConversationAssign    *sqlx.Stmt `query:"conversation-assign"`
	ConversationStatus    *sqlx.Stmt `query:"conversation-set-status"`
	ConversationRead      *sqlx.Stmt `query:"conversation-read"`
	ConversationsUnread   *sqlx.Stmt `query:"conversations-unread"`
	ConversationOfContact *sqlx.Stmt `query:"conversation-of-contact"`
	LastInboundID         *sqlx.Stmt `query:"last-inbound-provider-id"`
	EarlyStatusesTake     *sqlx.Stmt `query:"early-statuses-take"`
	EarlyStatusesDelete   *sqlx.Stmt `query:"early-statuses-delete-old"`
	InboundReceive        *sqlx.Stmt `query:"inbound-receive"`
	ContactsMatching      *sqlx.Stmt `query:"contacts-matching"`
	ConversationsOpenMany *sqlx.Stmt `query:"conversations-open-many"`
	MessagesQueueMany     *sqlx.Stmt `query:"messages-queue-many"`
	MessagesSentMany      *sqlx.Stmt `query:"messages-sent-many"`
	MessagesFailedMany    *sqlx.Stmt `query:"messages-failed-many"`
	ConversationsTouch    *sqlx.Stmt `query:"conversations-touch-many"`
	MessagesUnknown       *sqlx.Stmt `query:"messages-unknown"`
	MessagesByRefMany     *sqlx.Stmt `query:"messages-by-ref-many"`
	MessagesStatusMany    *sqlx.Stmt `query:"messages-status-many"`
	StatusesLock          *sqlx.Stmt `query:"statuses-lock"`
	EarlyStatusesMany     *sqlx.Stmt `query:"early-statuses-insert-many"`
}

// CreateChannel stores a channel; its secrets are sealed and saved with SetChannelSecrets,
// since they are bound to the row's id.
func (s *Store) CreateChannel(ctx context.Context, c model.Channel) (model.Channel, error) {
	var out model.Channel
	cfg := c.Config
	if len(cfg) == 0 {
		cfg = json.RawMessage("{}")
	}
	if err := s.get(ctx, s.q.ChannelCreate, &out, c.OrgID, c.Kind, c.Name, []byte(cfg), c.Rate); err != nil {
		return out, fmt.Errorf("store: create channel: %w", err)
	}
	return out, nil
}

// SetChannelSecrets saves a channel's sealed secrets.
func (s *Store) SetChannelSecrets(ctx context.Context, orgID, id int64, sealed string) error {
	if _, err := s.exec(ctx, s.q.ChannelSecrets, orgID, id, sealed); err != nil {
		return fmt.Errorf("store: channel secrets: %w", err)
	}
	return nil
}

// Channel returns one channel of an org.
func (s *Store) Channel(ctx context.Context, orgID, id int64) (model.Channel, error) {
	var c model.Channel
	if err := s.get(ctx, s.q.Channel, &c, orgID, id); err != nil {
		return c, fmt.Errorf("store: channel %d: %w", id, err)
	}
	return c, nil
}

// ChannelForWebhook returns the channel a provider webhook names, whatever its org; the
// caller must check the webhook's signature with the channel's secret before trusting it.
func (s *Store) ChannelForWebhook(ctx context.Context, id int64) (model.Channel, error) {
	var c model.Channel
	if err := s.get(ctx, s.q.ChannelForWebhook, &c, id); err != nil {
		return c, fmt.Errorf("store: channel %d: %w", id, err)
	}
	return c, nil
}

// Channels lists an org's channels.
func (s *Store) Channels(ctx context.Context, orgID int64) ([]model.Channel, error) {
	var cs []model.Channel
	if err := s.sel(ctx, s.q.Channels, &cs, orgID); err != nil {
		return nil, fmt.Errorf("store: channels: %w", err)
	}
	return cs, nil
}

// ChannelsPage returns up to limit of an org's channels in the order they were made,
// after afterID when it is not 0.
func (s *Store) ChannelsPage(ctx context.Context, orgID, afterID int64, limit int) ([]model.Channel, error) {
	var cs []model.Channel
	if err := s.sel(ctx, s.q.ChannelsPage, &cs, orgID, afterID, limit); err != nil {
		return nil, fmt.Errorf("store: channels page: %w", err)
	}
	return cs, nil
}

// OpenConversation returns the id of the conversation of a contact on a channel, creating
// it (or reopening a closed one).
func (s *Store) OpenConversation(ctx context.Context, orgID, channelID, contactID int64) (int64, error) {
	var id int64
	if err := s.get(ctx, s.q.ConversationOpen, &id, orgID, channelID, contactID); err != nil {
		return 0, fmt.Errorf("store: open conversation: %w", err)
	}
	return id, nil
}

// TouchConversation records a new message on a conversation.
func (s *Store) TouchConversation(ctx context.Context, orgID, id int64, at time.Time, preview string, inbound bool) error {
	if _, err := s.exec(ctx, s.q.ConversationTouch, orgID, id, at, preview, inbound); err != nil {
		return fmt.Errorf("store: touch conversation: %w", err)
	}
	return nil
}

// Conversation returns one conversation with its contact's name and phone.
func (s *Store) Conversation(ctx context.Context, orgID, id int64) (model.Conversation, error) {
	var c model.Conversation
	if err := s.get(ctx, s.q.Conversation, &c, orgID, id); err != nil {
		return c, fmt.Errorf("store: conversation %d: %w", id, err)
	}
	return c, nil
}

// InsertMessage stores a message and returns its id; inserted is false when a message with
// the same provider id is already stored (a webhook delivered twice).
func (s *Store) InsertMessage(ctx context.Context, m model.Message) (id int64, inserted bool, err error) {
	content := m.Content
	if len(content) == 0 {
		content = json.RawMessage("{}")
	}
	var ids []int64
	err = s.sel(ctx, s.q.MessageInsert, &ids, m.OrgID, m.ConversationID, m.ChannelID, m.Direction, m.Kind, m.Body,
		[]byte(content), m.ProviderID, m.Status, m.SenderID, m.CreatedAt)
	if err != nil {
		return 0, false, fmt.Errorf("store: insert message: %w", err)
	}
	if len(ids) == 0 {
		return 0, false, nil
	}
	return ids[0], true, nil
}

// Message returns one message.
func (s *Store) Message(ctx context.Context, orgID, id int64) (model.Message, error) {
	var m model.Message
	if err := s.get(ctx, s.q.Message, &m, orgID, id); err != nil {
		return m, fmt.Errorf("store: message %d: %w", id, err)
	}
	return m, nil
}

// Messages returns a page of a thread, newest first, older than beforeID when not 0.
func (s *Store) Messages(ctx context.Context, orgID, conversationID, beforeID int64, limit int) ([]model.Message, error) {
	var ms []model.Message
	if err := s.sel(ctx, s.q.Messages, &ms, orgID, conversationID, beforeID, limit); err != nil {
		return nil, fmt.Errorf("store: messages: %w", err)
	}
	return ms, nil
}

// MarkSent records the provider's id of a queued message; false when it was not queued.
func (s *Store) MarkSent(ctx context.Context, orgID, id int64, providerID string) (bool, error) {
	n, err := s.exec(ctx, s.q.MessageSent, orgID, id, providerID)
	return n == 1, err
}

// MarkFailed records why a message could not be sent.
func (s *Store) MarkFailed(ctx context.Context, orgID, id int64, code, title string) error {
	_, err := s.exec(ctx, s.q.MessageFailed, orgID, id, code, title)
	return err
}

// StatusChange is a message whose status moved.
type StatusChange struct {
	ID             int64 `db:"id"`
	ConversationID int64 `db:"conversation_id"`
}

// ApplyStatus moves an outbound message to a provider-reported status if it is ahead of
// the current one; it returns what moved (nothing for a late or repeated report).
func (s *Store) ApplyStatus(ctx context.Context, orgID, channelID int64, providerID, status, code, title string) ([]StatusChange, error) {
	var out []StatusChange
	if err := s.sel(ctx, s.q.MessageStatus, &out, orgID, channelID, status, code, title, providerID); err != nil {
		return nil, fmt.Errorf("store: message status: %w", err)
	}
	return out, nil
}

// ConversationFilter selects conversations for the inbox list.
type ConversationFilter struct {
	Mine        bool   // assigned to the asking user
	Unassigned  bool   // assigned to nobody
	Waiting     bool   // handed over by the bot, waiting for a person
	OnlyVisible int64  // when not 0: an agent who sees only their own and unassigned ones
	Status      string // open, pending, closed; "" for all
	ChannelID   int64
	Label       string
	Query       string // contact name, phone or email contains, or message text matches
	UserID      int64  // the asking user, for Mine
}

// Conversations lists an org's conversations, most recent first, after the cursor.
func (s *Store) Conversations(ctx context.Context, orgID int64, f ConversationFilter, after string, limit int) ([]model.Conversation, string, error) {
	b := newBuilder(s.fragment("conversation-columns"), orgID)
	if f.OnlyVisible != 0 {
		b.where("(v.assignee_id = ? OR v.assignee_id IS NULL)", f.OnlyVisible)
	}
	switch {
	case f.Mine:
		b.where("v.assignee_id = ?", f.UserID)
	case f.Unassigned:
		b.where("v.assignee_id IS NULL")
	case f.Waiting:
		b.where("v.owner = ?", model.OwnerWaiting) // conversations_owner
	}
	if f.Status != "" {
		b.where("v.status = ?", f.Status)
	}
	if f.ChannelID != 0 {
		b.where("v.channel_id = ?", f.ChannelID)
	}
	if f.Label != "" {
		b.where("v.labels @> ARRAY[?]::text[]", f.Label) // conversations_labels (GIN)
	}
	q := model.CleanSearch(f.Query)
	var search conversationSearch
	if q != "" {
		var ok bool
		var err error
		if search, ok, err = s.searchConversations(ctx, orgID, q); err != nil {
			return nil, "", fmt.Errorf("store: conversations: %w", err)
		} else if !ok {
			return nil, "", nil
		}
		b.where(search.cond, search.args...)
	}
	if after != "" {
		key, id, err := decodeCursor(after)
		if err != nil {
			return nil, "", fmt.Errorf("store: conversations: %w", model.FieldError("after", "inbox.error.cursor"))
		}
		t, err := time.Parse(time.RFC3339Nano, key)
		if err != nil {
			return nil, "", fmt.Errorf("store: conversations: %w", model.FieldError("after", "inbox.error.cursor"))
		}
		b.where("(v.last_message_at, v.id) < (?, ?)", t, id)
	}
	if search.fromMatches {
		// The same order, through an expression no index provides: the planner then reads
		// the few matches by their indexes and sorts them, instead of walking the list.
		b.add(" ORDER BY ", "v.last_message_at + interval '0 s' DESC, v.id DESC LIMIT ?", limit+1)
	} else {
		b.add(" ORDER BY ", "v.last_message_at DESC, v.id DESC LIMIT ?", limit+1)
	}
	var out []model.Conversation
	if err := sqlx.SelectContext(ctx, s.queryer(), &out, b.String(), b.args...); err != nil {
		return nil, "", fmt.Errorf("store: conversations: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[len(out)-1]
		next = encodeCursor(last.LastMessageAt.Format(time.RFC3339Nano), last.ID)
	}
	if search.byText {
		if err := s.addSnippets(ctx, orgID, q, out); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

// AssignConversation sets who answers a conversation (nil: nobody).
func (s *Store) AssignConversation(ctx context.Context, orgID, id int64, userID *int64) error {
	n, err := s.exec(ctx, s.q.ConversationAssign, orgID, id, userID)
	if err != nil {
		return fmt.Errorf("store: assign conversation: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: assign conversation: %w", model.ErrNotFound)
	}
	return nil
}

// SetConversationStatus opens, parks or closes a conversation.
func (s *Store) SetConversationStatus(ctx context.Context, orgID, id int64, status string) error {
	n, err := s.exec(ctx, s.q.ConversationStatus, orgID, id, status)
	if err != nil {
		return fmt.Errorf("store: conversation status: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: conversation status: %w", model.ErrNotFound)
	}
	return nil
}

// MarkConversationRead clears a conversation's unread count; false when it was already 0.
func (s *Store) MarkConversationRead(ctx context.Context, orgID, id int64) (bool, error) {
	n, err := s.exec(ctx, s.q.ConversationRead, orgID, id)
	return n == 1, err
}

// UnreadTotal sums the unread messages a user may see (agentID 0: everything).
func (s *Store) UnreadTotal(ctx context.Context, orgID, agentID int64) (int64, error) {
	var n int64
	if err := s.get(ctx, s.q.ConversationsUnread, &n, orgID, agentID); err != nil {
		return 0, fmt.Errorf("store: unread: %w", err)
	}
	return n, nil
}

// ConversationOf returns the id of a contact's conversation on a channel, if there is one.
func (s *Store) ConversationOf(ctx context.Context, orgID, channelID, contactID int64) (int64, error) {
	var id int64
	if err := s.get(ctx, s.q.ConversationOfContact, &id, orgID, channelID, contactID); err != nil {
		return 0, fmt.Errorf("store: conversation of contact: %w", err)
	}
	return id, nil
}

// EarlyStatus is a provider's report kept until its message's id is stored.
type EarlyStatus struct {
	Status     string `db:"status"`
	ErrorCode  string `db:"error_code"`
	ErrorTitle string `db:"error_title"`
}

// TakeEarlyStatuses removes and returns the reports kept for a provider id.
func (s *Store) TakeEarlyStatuses(ctx context.Context, orgID, channelID int64, providerID string) ([]EarlyStatus, error) {
	var out []EarlyStatus
	if err := s.sel(ctx, s.q.EarlyStatusesTake, &out, orgID, channelID, providerID); err != nil {
		return nil, fmt.Errorf("store: take early statuses: %w", err)
	}
	return out, nil
}

// DeleteOldEarlyStatuses forgets reports older than a day.
func (s *Store) DeleteOldEarlyStatuses(ctx context.Context) (int64, error) {
	n, err := s.exec(ctx, s.q.EarlyStatusesDelete)
	if err != nil {
		return 0, fmt.Errorf("store: delete early statuses: %w", err)
	}
	return n, nil
}

// LastInboundID is the provider id of a conversation's latest customer message.
func (s *Store) LastInboundID(ctx context.Context, orgID, conversationID int64) (string, error) {
	var id string
	if err := s.get(ctx, s.q.LastInboundID, &id, orgID, conversationID); err != nil {
		return "", fmt.Errorf("store: last inbound: %w", err)
	}
	return id, nil
}

// InboundRow is what ReceiveInbound did with one inbound message.
type InboundRow struct {
	ContactID           int64  `db:"contact_id"` // 0: a concurrent first message created the contact; run again
	Duplicate           bool   `db:"duplicate"`  // already stored: nothing changed
	ConversationID      int64  `db:"conversation_id"`
	ConversationCreated bool   `db:"conversation_created"`
	AssigneeID          int64  `db:"assignee_id"`
	Owner               string `db:"owner"`       // who answers the conversation now (model.Owner…)
	MessageID           int64  `db:"message_id"`  // 0 with !Duplicate: a concurrent copy won; roll back
	Notified            int64  `db:"notified"`    // selecting it is what runs the NOTIFY
	RoundRobin          bool   `db:"round_robin"` // the org hands out conversations in turn
}

// ReceiveInbound stores an inbound message with its contact, conversation and event in one
// statement (see inbound-receive); m carries the message, name the contact's profile name
// for a new contact, eventType the event to write, ids the sender's other identities in the
// order they are trusted for finding the contact.
func (s *Store) ReceiveInbound(ctx context.Context, m model.Message, phone, name, preview, eventType string, ids []model.Identity) (InboundRow, error) {
	var r InboundRow
	pid := ""
	if m.ProviderID != nil {
		pid = *m.ProviderID
	}
	content := m.Content
	if len(content) == 0 {
		content = json.RawMessage("{}")
	}
	kinds, values := identityArrays(ids)
	err := s.get(ctx, s.q.InboundReceive, &r, m.OrgID, m.ChannelID, phone, name, pid, m.Kind, m.Body, []byte(content),
		m.CreatedAt, preview, eventType, kinds, values)
	if err != nil {
		return r, fmt.Errorf("store: receive inbound: %w", err)
	}
	return r, nil
}

// OpenedConversation is a contact's conversation on a channel, opened for a batch send.
type OpenedConversation struct {
	ID            int64      `db:"id"`
	ContactID     int64      `db:"contact_id"`
	LastInboundAt *time.Time `db:"last_inbound_at"`
}

// OpenConversations finds or creates the conversations of many contacts on a channel; a
// closed one stays closed.
func (s *Store) OpenConversations(ctx context.Context, orgID, channelID int64, contactIDs []int64) ([]OpenedConversation, error) {
	var out []OpenedConversation
	if err := s.sel(ctx, s.q.ConversationsOpenMany, &out, orgID, channelID, pq.Array(contactIDs)); err != nil {
		return nil, fmt.Errorf("store: open conversations: %w", err)
	}
	return out, nil
}

// QueuedMessage is an outbound message of a batch, before it is stored.
type QueuedMessage struct {
	ConversationID int64
	Kind, Body     string
	Content        json.RawMessage
}

// QueueMessages stores queued outbound messages, at most one per conversation, and returns
// their ids by conversation.
func (s *Store) QueueMessages(ctx context.Context, orgID, channelID int64, ms []QueuedMessage) (map[int64]int64, error) {
	convs, kinds, bodies, contents := make([]int64, len(ms)), make([]string, len(ms)), make([]string, len(ms)), make([]string, len(ms))
	for i, m := range ms {
		convs[i], kinds[i], bodies[i] = m.ConversationID, m.Kind, m.Body
		contents[i] = string(m.Content)
		if len(m.Content) == 0 {
			contents[i] = "{}"
		}
	}
	var rows []struct {
		ID             int64 `db:"id"`
		ConversationID int64 `db:"conversation_id"`
	}
	if err := s.sel(ctx, s.q.MessagesQueueMany, &rows, orgID, channelID, pq.Array(convs), pq.Array(kinds), pq.Array(bodies), pq.Array(contents)); err != nil {
		return nil, fmt.Errorf("store: queue messages: %w", err)
	}
	out := make(map[int64]int64, len(rows))
	for _, r := range rows {
		out[r.ConversationID] = r.ID
	}
	return out, nil
}

// MarkManySent records the provider ids of queued messages the provider took.
func (s *Store) MarkManySent(ctx context.Context, orgID int64, ids []int64, providerIDs []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.exec(ctx, s.q.MessagesSentMany, orgID, pq.Array(ids), pq.Array(providerIDs))
	return err
}

// MarkManyFailed records why queued messages could not be sent.
func (s *Store) MarkManyFailed(ctx context.Context, orgID int64, ids []int64, codes, titles []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.exec(ctx, s.q.MessagesFailedMany, orgID, pq.Array(ids), pq.Array(codes), pq.Array(titles))
	return err
}

// TouchConversations sets the time and preview of conversations after a batch.
func (s *Store) TouchConversations(ctx context.Context, orgID int64, ids []int64, previews []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.exec(ctx, s.q.ConversationsTouch, orgID, pq.Array(ids), pq.Array(previews))
	return err
}

// StatusReport is one provider report of a batch applied together.
type StatusReport struct {
	OrgID, ChannelID      int64
	ProviderID, Status    string
	ErrorCode, ErrorTitle string
	RefID                 int64 // the message the report's Ref names, 0 for none
}

// MovedMessage is a message a batch of reports moved.
type MovedMessage struct {
	ID             int64  `db:"id"`
	OrgID          int64  `db:"org_id"`
	ConversationID int64  `db:"conversation_id"`
	Status         string `db:"status"`
	ErrorCode      string `db:"error_code"`
	ErrorTitle     string `db:"error_title"`
}

// ApplyStatusReports applies many reports in a few statements (at most one per message:
// the caller keeps the furthest), after locking the messages and campaign recipients they
// may move (statuses-lock), so it never deadlocks with a campaign recording its sends.
// Reports of sends whose answer was lost are reconciled by their Ref; reports of ids no
// message has yet are kept as early statuses. It returns what moved, the reconciled sends
// first (as sent).
func (s *Store) ApplyStatusReports(ctx context.Context, rs []StatusReport) ([]MovedMessage, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	orgs, chans, pids, refs := make([]int64, len(rs)), make([]int64, len(rs)), make([]string, len(rs)), make([]int64, len(rs))
	sts, codes, titles := make([]string, len(rs)), make([]string, len(rs)), make([]string, len(rs))
	for i, r := range rs {
		orgs[i], chans[i], pids[i], refs[i] = r.OrgID, r.ChannelID, r.ProviderID, r.RefID
		sts[i], codes[i], titles[i] = r.Status, r.ErrorCode, r.ErrorTitle
	}
	// First every row the batch may write, in the one order all their writers lock them: a
	// campaign's record of its sends writes the same messages and recipients.
	if _, err := s.exec(ctx, s.q.StatusesLock, pq.Array(orgs), pq.Array(chans), pq.Array(pids), pq.Array(refs)); err != nil {
		return nil, fmt.Errorf("store: lock statuses: %w", err)
	}
	var unknown []int64
	if err := s.sel(ctx, s.q.MessagesUnknown, &unknown, pq.Array(orgs), pq.Array(chans), pq.Array(pids)); err != nil {
		return nil, fmt.Errorf("store: unknown statuses: %w", err)
	}
	var moved []MovedMessage
	if len(unknown) > 0 {
		var rOrg, rChan, rID []int64
		var rPID []string
		for _, i := range unknown {
			r := rs[i-1]
			if r.RefID > 0 {
				rOrg, rChan, rID, rPID = append(rOrg, r.OrgID), append(rChan, r.ChannelID), append(rID, r.RefID), append(rPID, r.ProviderID)
			}
		}
		reconciled := map[string]bool{}
		if len(rID) > 0 {
			var rows []struct {
				MovedMessage
				ProviderID string `db:"provider_id"`
			}
			if err := s.sel(ctx, s.q.MessagesByRefMany, &rows, pq.Array(rOrg), pq.Array(rChan), pq.Array(rID), pq.Array(rPID)); err != nil {
				return nil, fmt.Errorf("store: statuses by ref: %w", err)
			}
			for _, r := range rows {
				r.MovedMessage.Status = "sent"
				moved = append(moved, r.MovedMessage)
				reconciled[r.ProviderID] = true
			}
		}
		var eOrg, eChan []int64
		var ePID, eSt, eCode, eTitle []string
		for _, i := range unknown {
			r := rs[i-1]
			if !reconciled[r.ProviderID] {
				eOrg, eChan, ePID = append(eOrg, r.OrgID), append(eChan, r.ChannelID), append(ePID, r.ProviderID)
				eSt, eCode, eTitle = append(eSt, r.Status), append(eCode, r.ErrorCode), append(eTitle, r.ErrorTitle)
			}
		}
		if len(eOrg) > 0 {
			if _, err := s.exec(ctx, s.q.EarlyStatusesMany, pq.Array(eOrg), pq.Array(eChan), pq.Array(ePID), pq.Array(eSt), pq.Array(eCode), pq.Array(eTitle)); err != nil {
				return nil, fmt.Errorf("store: early statuses: %w", err)
			}
		}
	}
	var rows []MovedMessage
	if err := s.sel(ctx, s.q.MessagesStatusMany, &rows, pq.Array(orgs), pq.Array(chans), pq.Array(pids), pq.Array(sts), pq.Array(codes), pq.Array(titles)); err != nil {
		return nil, fmt.Errorf("store: statuses: %w", err)
	}
	return append(moved, rows...), nil
}
