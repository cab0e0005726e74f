package inbox

import (
	"github.com/riverqueue/river"

	"cmp"
	"context"
	"errors"
	"strings"

	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// ListInput is the inbox list's filters as the page sends them.
type ListInput struct {
	View      string // mine, unassigned, all
	Status    string // open, pending, closed, "" for any
	ChannelID int64
	Label     string
	Query     string
	After     string
	Limit     int // conversations on the page; 0 for PageSize
}

// PageSize is the number of conversations a list page shows.
const PageSize = 30

// agentOnly is the user whose visibility limits an agent: agents see their own and
// unassigned conversations when the org restricts them (see team.go); managers and above
// see all.
func agentOnly(a model.Actor) int64 {
	if a.Role.May(model.SeeAllConversations) {
		return 0
	}
	return a.UserID
}

// List returns a page of conversations and the next page's cursor.
func (s *Service) List(ctx context.Context, a model.Actor, in ListInput) ([]model.Conversation, string, error) {
	only, err := s.visibleTo(ctx, a)
	if err != nil {
		return nil, "", err
	}
	f := store.ConversationFilter{OnlyVisible: only, UserID: a.UserID, ChannelID: in.ChannelID, Label: in.Label, Query: in.Query}
	switch in.View {
	case "mine":
		f.Mine = true
	case "unassigned":
		f.Unassigned = true
	case "waiting":
		f.Waiting = true
	}
	switch in.Status {
	case "open", "pending", "closed":
		f.Status = in.Status
	}
	return s.st.Conversations(ctx, a.OrgID, f, in.After, cmp.Or(in.Limit, PageSize))
}

// Open returns a conversation the actor may see; where the org restricts agents, another
// agent's conversation is model.ErrNotFound to an agent, as if it were not there.
func (s *Service) Open(ctx context.Context, a model.Actor, id int64) (model.Conversation, error) {
	c, err := s.st.Conversation(ctx, a.OrgID, id)
	if err != nil {
		return c, err
	}
	if c.AssigneeID == nil || *c.AssigneeID == a.UserID {
		return c, nil
	}
	if only, err := s.visibleTo(ctx, a); err != nil || only != 0 {
		return model.Conversation{}, cmp.Or(err, model.ErrNotFound)
	}
	return c, nil
}

func (s *Service) changed(ctx context.Context, tx *store.Store, orgID, id int64, what string) error {
	_, err := events.ConversationChanged.Publish(ctx, tx, orgID, events.ConversationChange{ConversationID: id, Change: what})
	return err
}

// Assign gives a conversation to a member (0: nobody). Agents may take an unassigned one
// or give up their own; managers and above assign anyone.
func (s *Service) Assign(ctx context.Context, a model.Actor, id, userID int64) error {
	c, err := s.Open(ctx, a, id)
	if err != nil {
		return err
	}
	if agentOnly(a) != 0 && userID != 0 && userID != a.UserID {
		return model.ErrForbidden
	}
	var to *int64
	if userID != 0 {
		if _, err := s.st.Member(ctx, a.OrgID, userID); err != nil {
			if errors.Is(err, model.ErrNotFound) {
				return model.FieldError("assignee", "inbox.error.assignee")
			}
			return err
		}
		to = &userID
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.AssignConversation(ctx, a.OrgID, c.ID, to); err != nil {
			return err
		}
		return s.changed(ctx, tx, a.OrgID, c.ID, "assigned")
	})
}

// SetStatus opens, parks (pending) or closes a conversation.
func (s *Service) SetStatus(ctx context.Context, a model.Actor, id int64, status string) error {
	if status != "open" && status != "pending" && status != "closed" {
		return model.FieldError("status", "inbox.error.status")
	}
	c, err := s.Open(ctx, a, id)
	if err != nil {
		return err
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SetConversationStatus(ctx, a.OrgID, c.ID, status); err != nil {
			return err
		}
		return s.changed(ctx, tx, a.OrgID, c.ID, status)
	})
}

// MarkRead clears the unread count when an agent opens a conversation.
func (s *Service) MarkRead(ctx context.Context, a model.Actor, id int64) error {
	c, err := s.Open(ctx, a, id)
	if err != nil {
		return err
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		// The notes that mention the member are seen with the rest.
		if a.UserID != 0 {
			if _, err := tx.SeeNoteMentions(ctx, a.OrgID, a.UserID, c.ID); err != nil {
				return err
			}
		}
		cleared, err := tx.MarkConversationRead(ctx, a.OrgID, c.ID)
		if err != nil || !cleared {
			return err
		}
		// The customer sees the blue ticks too, where the channel can show them.
		if s.jobs != nil {
			if _, err := s.jobs.InsertTx(ctx, tx.SQLTx(), ReadReceiptArgs{OrgID: a.OrgID, ConversationID: c.ID}, nil); err != nil {
				return err
			}
		}
		return s.changed(ctx, tx, a.OrgID, c.ID, "read")
	})
}

// Note adds an internal note to a conversation: agents see it, the customer never does.
// The members it mentions ("@Ana", model.Mentions) find it in their "my day".
func (s *Service) Note(ctx context.Context, a model.Actor, id int64, body string) (model.Message, error) {
	body = strings.TrimSpace(body)
	if body == "" {
		return model.Message{}, model.FieldError("body", "inbox.error.empty")
	}
	c, err := s.Open(ctx, a, id)
	if err != nil {
		return model.Message{}, err
	}
	m := model.Message{OrgID: a.OrgID, ConversationID: c.ID, ChannelID: c.ChannelID, Direction: "note", Kind: "text", Body: body,
		Status: model.StatusReceived, SenderID: a.UserRef(), CreatedAt: s.now()}
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		m.ID, _, err = tx.InsertMessage(ctx, m)
		if err != nil {
			return err
		}
		if strings.Contains(body, "@") {
			names, err := s.memberNames(ctx, tx, a.OrgID)
			if err != nil {
				return err
			}
			if _, err := tx.AddNoteMentions(ctx, a.OrgID, m.ID, model.MentionedUsers(model.Mentions(body, names, a.UserID))); err != nil {
				return err
			}
		}
		_, err = events.MessageCreated.Publish(ctx, tx, a.OrgID, events.MessageNew{MessageID: m.ID, ConversationID: c.ID, Note: true})
		return err
	})
	return m, err
}

// memberNames maps the org's members to their names, for finding mentions.
func (s *Service) memberNames(ctx context.Context, tx *store.Store, orgID int64) (map[int64]string, error) {
	ms, err := tx.Members(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(ms))
	for _, m := range ms {
		out[m.UserID] = m.UserName
	}
	return out, nil
}

// Unread is the unread total the actor's title badge shows.
func (s *Service) Unread(ctx context.Context, a model.Actor) (int64, error) {
	only, err := s.visibleTo(ctx, a)
	if err != nil {
		return 0, err
	}
	return s.st.UnreadTotal(ctx, a.OrgID, only)
}

// Channels lists the org's channels.
func (s *Service) Channels(ctx context.Context, orgID int64) ([]model.Channel, error) {
	return s.st.Channels(ctx, orgID)
}

// ChannelsPage returns up to limit of the org's channels in the order they were made,
// after afterID when it is not 0.
func (s *Service) ChannelsPage(ctx context.Context, orgID, afterID int64, limit int) ([]model.Channel, error) {
	return s.st.ChannelsPage(ctx, orgID, afterID, limit)
}

// keyword applies a customer's STOP or START sent on a channel, inside the inbound
// message's transaction (so a failed opt-out is retried with the message rather than lost
// behind a stored duplicate): the contact is opted out of (or back into) the channel's
// kind, and the timeline says it came from a keyword or a button (source).
func keyword(ctx context.Context, tx *store.Store, ch model.Channel, contactID int64, stop bool, source string) error {
	kind := ch.OptOutKind()
	changed, err := tx.SetOptOut(ctx, ch.OrgID, contactID, kind, stop)
	if err != nil || !changed {
		return err
	}
	ev := "opted_in"
	if stop {
		ev = "opted_out"
	}
	if err := tx.AddContactEvent(ctx, ch.OrgID, contactID, ev, nil, map[string]any{"channel": kind, "source": source}); err != nil {
		return err
	}
	_, err = events.ContactUpdated.Publish(ctx, tx, ch.OrgID, events.ContactRef{ID: contactID})
	return err
}

// SendTo is the API's send: a text to a phone number through a channel, started the way
// every conversation is (Start: the contact and conversation found or created, the 24-hour
// rule included).
func (s *Service) SendTo(ctx context.Context, a model.Actor, channelID int64, phone, text string) (model.Message, error) {
	st, err := s.Start(ctx, a, StartInput{ChannelID: channelID, Phone: phone, Text: text, Source: "api"})
	return st.Message, err
}

// Channel returns one channel of an org.
func (s *Service) Channel(ctx context.Context, orgID, id int64) (model.Channel, error) {
	return s.st.Channel(ctx, orgID, id)
}

// ReadReceiptArgs is the job that tells the provider an agent read a conversation.
type ReadReceiptArgs struct {
	OrgID          int64 `json:"org_id"`
	ConversationID int64 `json:"conversation_id"`
}

// Kind is the job's stable name.
func (ReadReceiptArgs) Kind() string { return "inbox.read_receipt" }

// ReadMarker is a channel that can show the customer their messages were read.
type ReadMarker interface {
	MarkRead(ctx context.Context, providerID string) error
}

// ReadReceiptWorker runs ReadReceiptArgs. Marking read twice is harmless, so retries are.
type ReadReceiptWorker struct {
	river.WorkerDefaults[ReadReceiptArgs]
	Service *Service
}

// Work marks the conversation's latest customer message read at the provider.
func (w *ReadReceiptWorker) Work(ctx context.Context, job *river.Job[ReadReceiptArgs]) error {
	s := w.Service
	conv, err := s.st.Conversation(ctx, job.Args.OrgID, job.Args.ConversationID)
	if errors.Is(err, model.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	ch, err := s.st.Channel(ctx, job.Args.OrgID, conv.ChannelID)
	if err != nil {
		return err
	}
	id, err := s.st.LastInboundID(ctx, job.Args.OrgID, conv.ID)
	if errors.Is(err, model.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	c, err := s.build(ch)
	if err != nil {
		return err
	}
	if rm, ok := c.(ReadMarker); ok {
		return rm.MarkRead(ctx, id)
	}
	return nil
}
