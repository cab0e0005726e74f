package inbox

import (
	"context"
	"errors"
	"strings"

	"masteria/app/model"
	"masteria/app/store"
)

// StartInput is an agent's (or the API's) first message to a contact on a channel: the
// contact by id, or a phone (E.164) found or created; a text or a template, not both.
type StartInput struct {
	ChannelID int64
	ContactID int64
	Phone     string
	Text      string
	Template  *TemplateSend
	Source    string // the timeline's "created" source of a new contact: inbox, api
	// Tx, when set, is the caller's transaction the message is queued in (a cadence step
	// records its ledger and the contact policy in the same one); nil: the start's own.
	Tx *store.Store
}

// Started is where a start went.
type Started struct {
	ConversationID int64
	ContactID      int64
	Message        model.Message
}

// Start starts (or finds) the conversation with a contact on a channel and queues its
// first message. It is the one way in for the inbox's "New conversation", the contact
// page, a lead card and the API, so they all refuse the same things the same way:
// a channel or contact of another org (ErrNotFound), a contact the channel cannot reach
// or who opted out of it (a field error), another agent's conversation where the org
// restricts agents (ErrNotFound), and free text on the Cloud API with the 24-hour window
// closed (ErrWindowClosed: only a template may open it). A refused start creates nothing.
func (s *Service) Start(ctx context.Context, a model.Actor, in StartInput) (Started, error) {
	text := strings.TrimSpace(in.Text)
	switch {
	case in.Template == nil && text == "":
		return Started{}, model.FieldError("body", "inbox.error.empty")
	case in.Template != nil && text != "":
		return Started{}, model.FieldError("body", "inbox.start.error.both")
	case len([]rune(text)) > 4096:
		return Started{}, model.FieldError("body", "inbox.error.too_long")
	}
	ch, err := s.st.Channel(ctx, a.OrgID, in.ChannelID)
	if err != nil {
		return Started{}, err
	}
	if ch.Status == model.ChannelDisconnected {
		return Started{}, model.FieldError("channel", "inbox.start.error.disconnected")
	}
	contact, err := s.startContact(ctx, a, in)
	if err != nil {
		return Started{}, err
	}
	if contact.ID != 0 {
		if err := s.reachable(ctx, contact, ch); err != nil {
			return Started{}, err
		}
	}
	// The conversation this contact already has on the channel, if any: the actor must be
	// allowed to see it, and on the Cloud API its window says whether free text may go.
	var conv model.Conversation
	if contact.ID != 0 {
		id, err := s.st.ConversationOf(ctx, a.OrgID, ch.ID, contact.ID)
		switch {
		case err == nil:
			if conv, err = s.Open(ctx, a, id); err != nil {
				return Started{}, err
			}
		case !errors.Is(err, model.ErrNotFound):
			return Started{}, err
		}
	}
	var m model.Message
	if in.Template != nil {
		if m, err = s.templateMessage(ctx, a, ch, *in.Template); err != nil {
			return Started{}, err
		}
	} else {
		if ch.ServiceWindow() && (conv.ID == 0 || !conv.WindowOpen(s.now())) {
			return Started{}, ErrWindowClosed
		}
		m = model.Message{OrgID: a.OrgID, ChannelID: ch.ID, Direction: "out", Kind: "text", Body: text,
			Status: model.StatusQueued, SenderID: a.UserRef(), CreatedAt: s.now()}
	}
	out := Started{ContactID: contact.ID}
	st := s.st
	if in.Tx != nil {
		st = in.Tx
	}
	err = st.Tx(ctx, func(tx *store.Store) error {
		if out.ContactID == 0 {
			p := in.Phone
			id, err := tx.CreateContact(ctx, model.Contact{OrgID: a.OrgID, Phone: &p})
			if err != nil {
				return err
			}
			out.ContactID = id
			source := in.Source
			if source == "" {
				source = "inbox"
			}
			if err := tx.AddContactEvent(ctx, a.OrgID, id, "created", a.UserRef(), map[string]any{"source": source}); err != nil {
				return err
			}
		}
		id, err := tx.OpenConversation(ctx, a.OrgID, ch.ID, out.ContactID)
		if err != nil {
			return err
		}
		out.ConversationID = id
		// The agent who reaches out looks after the answer; a conversation someone already
		// has stays theirs.
		if a.UserID != 0 && (conv.ID == 0 || conv.AssigneeID == nil) {
			uid := a.UserID
			if err := tx.AssignConversation(ctx, a.OrgID, id, &uid); err != nil {
				return err
			}
		}
		m.ConversationID = id
		out.Message, err = s.queueIn(ctx, tx, a, m)
		return err
	})
	if err != nil {
		return Started{}, err
	}
	return out, nil
}

// startContact is the contact a start goes to: by id (of the actor's org), or by phone,
// where a phone nobody has yet is a contact to create (ID 0, Phone set).
func (s *Service) startContact(ctx context.Context, a model.Actor, in StartInput) (model.Contact, error) {
	if in.ContactID > 0 {
		return s.st.Contact(ctx, a.OrgID, in.ContactID)
	}
	if in.Phone == "" {
		return model.Contact{}, model.FieldError("to", "inbox.start.error.to")
	}
	id, err := s.st.ContactIDByPhone(ctx, a.OrgID, in.Phone)
	if errors.Is(err, model.ErrNotFound) {
		p := in.Phone
		return model.Contact{Phone: &p}, nil
	}
	if err != nil {
		return model.Contact{}, err
	}
	return s.st.Contact(ctx, a.OrgID, id)
}

// reachable says whether a channel can reach a contact: by phone, or on WhatsApp by the
// person's user id (Cloud API) or LID (QR) when no phone is known (see address); a contact
// who opted out of the channel's kind gets nothing new.
func (s *Service) reachable(ctx context.Context, c model.Contact, ch model.Channel) error {
	to, recipient, err := s.address(ctx, ch, c)
	if err != nil {
		return err
	}
	if to == "" && recipient == "" {
		if !ch.ReachesWithoutPhone() {
			return model.FieldError("contact", "contacts.no_phone_sms")
		}
		return model.FieldError("contact", "inbox.start.error.no_phone")
	}
	if c.OptedOutOf(ch.OptOutKind()) {
		return model.FieldError("contact", "inbox.start.error.opted_out")
	}
	return nil
}

// ConversationWith is the conversation a contact has on a channel, if the actor may see
// it (model.ErrNotFound otherwise), and whether free text may go in it now.
func (s *Service) ConversationWith(ctx context.Context, a model.Actor, channelID, contactID int64) (model.Conversation, bool, error) {
	id, err := s.st.ConversationOf(ctx, a.OrgID, channelID, contactID)
	if err != nil {
		return model.Conversation{}, false, err
	}
	conv, err := s.Open(ctx, a, id)
	if err != nil {
		return conv, false, err
	}
	ch, err := s.st.Channel(ctx, a.OrgID, channelID)
	return conv, err == nil && (!ch.ServiceWindow() || conv.WindowOpen(s.now())), err
}

// ContactConversations are a contact's conversations the actor may see, the latest first.
func (s *Service) ContactConversations(ctx context.Context, a model.Actor, contactID int64) ([]model.Conversation, error) {
	only, err := s.visibleTo(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.st.ContactConversations(ctx, a.OrgID, contactID, only)
}

// TimelinePage is how many lines a page of a contact's timeline shows.
const TimelinePage = 50

// ContactTimeline is a page of a contact's timeline as the actor may see it: its events,
// conversations with their last messages, and notes, newest first, before a time when set.
func (s *Service) ContactTimeline(ctx context.Context, a model.Actor, contactID int64, after model.TimelineCursor) ([]model.ContactEvent, error) {
	only, err := s.visibleTo(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.st.ContactTimeline(ctx, a.OrgID, contactID, after, TimelinePage, only)
}

// Setup is what an org has done with channels, contacts and messages (the home checklist).
func (s *Service) Setup(ctx context.Context, orgID int64) (store.OrgSetup, error) {
	return s.st.Setup(ctx, orgID)
}
