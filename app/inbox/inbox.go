// Package inbox routes messages between channels and conversations: an inbound message
// finds (or creates) its contact and conversation and is stored once however often the
// provider delivers it; an agent's reply is stored as queued and sent by a job through the
// channel, whose status reports then move it forward, never back.
package inbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"masteria/app/channel"
	"masteria/app/events"
	"masteria/app/jobs"
	"masteria/app/media"
	"masteria/app/model"
	"masteria/app/store"
	"masteria/app/vault"
)

// Inserter puts jobs in the queue inside a transaction (the River client).
type Inserter interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Service is the inbox.
type Service struct {
	st   *store.Store
	ring *vault.Ring
	reg  *channel.Registry
	jobs Inserter
	// hooks keeps webhook channels for a few seconds (webhookchannels.go).
	hooks channelCache
	now   func() time.Time

	media     *media.Service // files: inbound downloads and attachments (SetMedia)
	followers Hooks          // campaigns follow statuses and replies (SetHooks)
	bot       Bot            // answers the conversations it owns (SetBot)

	statuses statusBatcher // webhooks' status reports, applied in groups (statuses.go)
}

// Hooks let another area follow what the inbox records, inside the inbox's own
// transactions, without the inbox knowing it: campaigns move their recipients with their
// messages' statuses, count replies, and pause on a provider's notice.
type Hooks interface {
	// MessagesMoved: outbound messages moved to a provider-reported status.
	MessagesMoved(ctx context.Context, tx *store.Store, orgID int64, ids []int64, status, code, title string) error
	// Replied: a contact wrote to a channel at a time.
	Replied(ctx context.Context, tx *store.Store, orgID, channelID, contactID int64, at time.Time) error
	// Notice: the provider said something of the channel's account (templates, quality, limits).
	Notice(ctx context.Context, ch model.Channel, n channel.Notice) error
}

// SetHooks gives the service the hooks of other areas (set once at start); each is called
// in turn, and the first error rolls the inbox's transaction back.
func (s *Service) SetHooks(h ...Hooks) {
	if len(h) == 1 {
		s.followers = h[0]
		return
	}
	s.followers = hookList(h)
}

// hookList calls several areas' hooks in turn.
type hookList []Hooks

func (l hookList) MessagesMoved(ctx context.Context, tx *store.Store, orgID int64, ids []int64, status, code, title string) error {
	for _, h := range l {
		if err := h.MessagesMoved(ctx, tx, orgID, ids, status, code, title); err != nil {
			return err
		}
	}
	return nil
}

func (l hookList) Replied(ctx context.Context, tx *store.Store, orgID, channelID, contactID int64, at time.Time) error {
	for _, h := range l {
		if err := h.Replied(ctx, tx, orgID, channelID, contactID, at); err != nil {
			return err
		}
	}
	return nil
}

func (l hookList) Notice(ctx context.Context, ch model.Channel, n channel.Notice) error {
	for _, h := range l {
		if err := h.Notice(ctx, ch, n); err != nil {
			return err
		}
	}
	return nil
}

// Client is the provider client of a channel: the one campaigns send through.
func (s *Service) Client(ch model.Channel) (channel.Channel, error) { return s.build(ch) }

// Ref is the name a send carries to the provider and back in its status reports.
func Ref(messageID int64) string { return "m" + strconv.FormatInt(messageID, 10) }

// refMessage reads a Ref back; ok is false for one that is not ours.
func refMessage(ref string) (int64, bool) {
	if !strings.HasPrefix(ref, "m") {
		return 0, false
	}
	id, err := strconv.ParseInt(ref[1:], 10, 64)
	return id, err == nil && id > 0
}

// New returns the inbox over a store, sealing channel secrets with ring. Channels are built
// by reg, whose StatusFunc should be the service's ReportStatus (see NewRegistry).
func New(st *store.Store, ring *vault.Ring) *Service {
	s := &Service{st: st, ring: ring, now: time.Now}
	s.reg = channel.NewRegistry(s.ReportStatus)
	return s
}

// Registry is where channel kinds register their factories.
func (s *Service) Registry() *channel.Registry { return s.reg }

// SetJobs gives the service the queue its sends go through (set once at start).
func (s *Service) SetJobs(j Inserter) { s.jobs = j }

// SecretsAD is what a channel's sealed secrets are bound to.
func SecretsAD(channelID int64) []byte { return fmt.Appendf(nil, "channel:%d:secrets", channelID) }

// CreateChannel stores a channel with its settings, sealing its secrets.
func (s *Service) CreateChannel(ctx context.Context, a model.Actor, kind, name string, config map[string]string, secrets map[string]string) (model.Channel, error) {
	v := model.NewValidationError()
	if !slices.Contains([]string{model.KindWhatsAppCloud, model.KindWhatsAppQR, model.KindTwilioSMS, model.KindSandbox}, kind) {
		v.Add("kind", "channels.error.kind")
	}
	name = strings.Join(strings.Fields(name), " ")
	if name == "" || len([]rune(name)) > 80 {
		v.Add("name", "channels.error.name")
	}
	if err := v.Err(); err != nil {
		return model.Channel{}, err
	}
	cfg, _ := json.Marshal(config)
	var out model.Channel
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		out, err = tx.CreateChannel(ctx, model.Channel{OrgID: a.OrgID, Kind: kind, Name: name, Config: cfg, Rate: 20})
		if err != nil {
			return err
		}
		if len(secrets) > 0 {
			b, _ := json.Marshal(secrets)
			sealed, err := s.ring.Seal(b, SecretsAD(out.ID))
			if err != nil {
				return err
			}
			if err := tx.SetChannelSecrets(ctx, a.OrgID, out.ID, sealed); err != nil {
				return err
			}
			out.Secrets = sealed
		}
		_, err = events.ChannelCreated.Publish(ctx, tx, a.OrgID, events.ChannelNew{ID: out.ID, Kind: kind, Name: name})
		if err == nil && kind == model.KindWhatsAppCloud && s.jobs != nil {
			err = s.queueSync(ctx, tx, a.OrgID, out.ID) // its templates, for the composer
		}
		return err
	})
	return out, err
}

// Secrets opens a channel's sealed secrets.
func (s *Service) Secrets(c model.Channel) (map[string]string, error) {
	out := map[string]string{}
	if c.Secrets == "" {
		return out, nil
	}
	b, err := s.ring.Open(c.Secrets, SecretsAD(c.ID))
	if err != nil {
		return nil, fmt.Errorf("inbox: channel %d secrets: %w", c.ID, err)
	}
	return out, json.Unmarshal(b, &out)
}

// build makes the sender of a stored channel, with its secrets opened.
func (s *Service) build(ch model.Channel) (channel.Channel, error) {
	secrets, err := s.Secrets(ch)
	if err != nil {
		return nil, err
	}
	return s.reg.Build(ch, secrets)
}

// Inbound is a customer's message as a channel parsed it (see channel.Inbound).
type Inbound = channel.Inbound

// lookup is the sender's identities other than the phone, the most trusted first. A
// username is only looked up when no user id came with it: usernames change hands.
func lookup(in Inbound) []model.Identity {
	var ids []model.Identity
	add := func(kind, v string) {
		if v != "" {
			ids = append(ids, model.Identity{Kind: kind, Value: v})
		}
	}
	add(model.IdentityWAUserID, in.UserID)
	add(model.IdentityWAParentUserID, in.ParentUserID)
	add(model.IdentityWAJID, in.JID)
	add(model.IdentityWALID, in.LID)
	if in.UserID == "" && in.ParentUserID == "" {
		add(model.IdentityWAUsername, in.Username)
	}
	return ids
}

// learned is every identity the message teaches about its sender's contact.
func learned(in Inbound) []model.Identity {
	ids := lookup(in)
	if in.Username != "" && (in.UserID != "" || in.ParentUserID != "") {
		ids = append(ids, model.Identity{Kind: model.IdentityWAUsername, Value: in.Username})
	}
	if in.NewUserID != "" {
		ids = append(ids, model.Identity{Kind: model.IdentityWAUserID, Value: in.NewUserID})
	}
	if in.NewParentUserID != "" {
		ids = append(ids, model.Identity{Kind: model.IdentityWAParentUserID, Value: in.NewParentUserID})
	}
	return ids
}

// ErrNoSender is an inbound message with neither a phone nor another identity.
var ErrNoSender = errors.New("inbox: an inbound message without a sender")

// Received says where an inbound message went.
type Received = channel.Received

var _ channel.Receiver = (*Service)(nil)

// Status applies a provider's status report (channel.Receiver).
func (s *Service) Status(ctx context.Context, ch model.Channel, st channel.StatusUpdate) error {
	return s.applyBatched(ctx, ch, st)
}

// Notice passes a provider's notice on the channel's account to the hooks (campaigns), after
// recording what the inbox keeps of it: a template's new status.
func (s *Service) Notice(ctx context.Context, ch model.Channel, n channel.Notice) error {
	if n.Kind == channel.NoticeTemplateStatus && n.Template != "" && n.Event != "" {
		if err := s.st.SetTemplateStatus(ctx, ch.OrgID, ch.ID, n.Template, n.Language, n.Event); err != nil {
			return err
		}
	}
	if s.followers == nil {
		return nil
	}
	return s.followers.Notice(ctx, ch, n)
}

// Receive stores an inbound message: its contact (found by phone or another identity, or
// created), its conversation (created or reopened) and the message, once per provider id.
// Text is cleaned first (no NUL bytes, valid UTF-8): PostgreSQL refuses both.
func (s *Service) Receive(ctx context.Context, ch model.Channel, in Inbound) (Received, error) {
	if in.At.IsZero() {
		in.At = s.now()
	}
	if in.Kind == "" {
		in.Kind = "text"
	}
	in = clean(in)
	ids := lookup(in)
	if in.From == "" && len(ids) == 0 {
		return Received{}, ErrNoSender
	}
	m := model.Message{OrgID: ch.OrgID, ChannelID: ch.ID, Kind: in.Kind, Body: in.Body, Content: in.Content, CreatedAt: in.At}
	if in.ProviderID != "" {
		m.ProviderID = &in.ProviderID
	}
	name := strings.TrimSpace(in.Name)
	if name == "" && in.From == "" && in.Username != "" {
		name = in.Username // known by a username only: better than no name
	}
	// One statement does the work (the webhook answers fast and many arrive at once); a
	// lost race with a concurrent first message of the same new person runs it again.
	for attempt := 0; ; attempt++ {
		var row store.InboundRow
		err := s.st.Tx(ctx, func(tx *store.Store) error {
			var err error
			if row, err = tx.ReceiveInbound(ctx, m, in.From, name, model.Preview(in.Kind, in.Body), events.MessageReceived.Name(), ids); err != nil {
				return err
			}
			if row.Duplicate || row.ContactID == 0 || row.MessageID == 0 {
				return errDuplicate // nothing to keep: roll back whatever the statement did
			}
			if err := s.learn(ctx, tx, ch.OrgID, row.ContactID, in); err != nil {
				return err
			}
			// An SMS STOP or START, a WhatsApp opt-out word or button, changes the contact's opt-out.
			if kw, source := optOutKeyword(ch, in); kw != "" {
				if err := keyword(ctx, tx, ch, row.ContactID, kw == "stop", source); err != nil {
					return err
				}
			}
			if s.followers != nil { // a campaign's recipient who writes back has replied
				if err := s.followers.Replied(ctx, tx, ch.OrgID, ch.ID, row.ContactID, in.At); err != nil {
					return err
				}
			}
			// Nobody on it: the next one in turn, unless the bot answers it (its hand-over
			// assigns a person).
			if row.AssigneeID == 0 && row.RoundRobin && (row.Owner != model.OwnerBot || s.bot == nil) {
				if err := s.autoAssign(ctx, tx, ch.OrgID, row.ConversationID); err != nil {
					return err
				}
			}
			if s.bot != nil {
				if err := s.bot.Inbound(ctx, tx, BotInbound{OrgID: ch.OrgID, ChannelID: ch.ID, ConversationID: row.ConversationID,
					ContactID: row.ContactID, MessageID: row.MessageID, Owner: row.Owner, At: in.At}); err != nil {
					return err
				}
			}
			return s.queueFetch(ctx, tx, ch.OrgID, row.MessageID, in)
		})
		switch {
		case err == nil:
			return Received{MessageID: row.MessageID, ConversationID: row.ConversationID, ContactID: row.ContactID}, nil
		case !errors.Is(err, errDuplicate):
			return Received{}, err
		case row.ContactID == 0 && !row.Duplicate && attempt < 3:
			continue
		case row.ContactID == 0 && !row.Duplicate:
			return Received{}, fmt.Errorf("inbox: contact %s kept changing", in.From)
		}
		return Received{ContactID: row.ContactID, ConversationID: row.ConversationID, Duplicate: true}, nil
	}
}

// learn records what a message teaches about its sender: identities that came with it,
// the phone once it is known (shared on request, or given by a later message), and a
// changed number. A phone or an identity another contact holds stays with that contact.
func (s *Service) learn(ctx context.Context, tx *store.Store, orgID, contactID int64, in Inbound) error {
	phone := in.From
	if phone == "" {
		phone = in.SharedPhone
	}
	// A message from a phone alone found or made its contact by that phone: nothing to learn.
	if ids := learned(in); len(ids) > 0 || in.SharedPhone != "" {
		if err := tx.LinkIdentities(ctx, orgID, contactID, phone, ids); err != nil {
			return err
		}
	}
	if in.NewPhone != "" {
		if _, err := tx.ChangePhone(ctx, orgID, contactID, in.NewPhone); err != nil {
			return err
		}
	}
	return nil
}

var errDuplicate = errors.New("inbox: duplicate message")

// SendArgs is the job that sends one queued message.
type SendArgs struct {
	OrgID     int64 `json:"org_id"`
	MessageID int64 `json:"message_id"`
}

// Kind is the job's stable name.
func (SendArgs) Kind() string { return "inbox.send" }

// ErrWindowClosed is free text to a WhatsApp customer more than 24 hours after their last
// message: only a template may be sent.
var ErrWindowClosed = errors.New("inbox: the 24-hour window is closed")

// Send stores an agent's text reply as queued and queues its send, in one transaction.
func (s *Service) Send(ctx context.Context, a model.Actor, conversationID int64, body string) (model.Message, error) {
	body = strings.TrimSpace(body)
	if body == "" {
		return model.Message{}, model.FieldError("body", "inbox.error.empty")
	}
	if len([]rune(body)) > 4096 {
		return model.Message{}, model.FieldError("body", "inbox.error.too_long")
	}
	conv, ch, err := s.replyTarget(ctx, a, conversationID, true)
	if err != nil {
		return model.Message{}, err
	}
	m := model.Message{OrgID: a.OrgID, ConversationID: conv.ID, ChannelID: ch.ID, Direction: "out", Kind: "text", Body: body,
		Status: model.StatusQueued, SenderID: a.UserRef(), CreatedAt: s.now()}
	return s.queue(ctx, a, m)
}

// replyTarget is a conversation the actor may answer and its channel; a free-form reply
// (text, a file) to a Cloud API customer more than 24 hours after their last message is
// ErrWindowClosed.
func (s *Service) replyTarget(ctx context.Context, a model.Actor, conversationID int64, freeForm bool) (model.Conversation, model.Channel, error) {
	conv, err := s.Open(ctx, a, conversationID)
	if err != nil {
		return conv, model.Channel{}, err
	}
	ch, err := s.st.Channel(ctx, a.OrgID, conv.ChannelID)
	if err != nil {
		return conv, ch, err
	}
	if freeForm && ch.ServiceWindow() && !conv.WindowOpen(s.now()) {
		return conv, ch, ErrWindowClosed
	}
	// WhatsApp reaches a person by their user id too; SMS needs a phone.
	if !ch.ReachesWithoutPhone() && (conv.ContactPhone == nil || *conv.ContactPhone == "") {
		return conv, ch, model.FieldError("body", "contacts.no_phone_sms")
	}
	return conv, ch, nil
}

// SendWorker runs SendArgs.
type SendWorker struct {
	river.WorkerDefaults[SendArgs]
	Service *Service
}

// Work sends a queued message. A message no longer queued (sent before a crash, failed) is
// left alone, so a retry never sends twice what it can see was sent.
func (w *SendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	return w.Service.deliver(ctx, job.Args)
}

func (s *Service) deliver(ctx context.Context, args SendArgs) error {
	m, err := s.st.Message(ctx, args.OrgID, args.MessageID)
	if errors.Is(err, model.ErrNotFound) {
		return nil // the conversation was deleted meanwhile
	}
	if err != nil || m.Status != model.StatusQueued {
		return err
	}
	conv, err := s.st.Conversation(ctx, args.OrgID, m.ConversationID)
	if err != nil {
		return err
	}
	ch, err := s.st.Channel(ctx, args.OrgID, m.ChannelID)
	if err != nil {
		return err
	}
	contact, err := s.st.Contact(ctx, args.OrgID, conv.ContactID)
	if err != nil {
		return err
	}
	fail := func(code, title string) error {
		return s.failed(ctx, m, code, title)
	}
	to, recipient, err := s.address(ctx, ch, contact)
	if err != nil {
		return err
	}
	if to == "" && recipient == "" {
		return fail(model.FailNoPhone, "The contact has no phone number.")
	}
	if contact.OptedOutOf(ch.OptOutKind()) {
		return fail(model.FailOptedOut, "The contact asked not to receive messages on this channel.")
	}
	if ch.Status == model.ChannelDisconnected {
		return fail(model.FailChannelDisconnected, "The channel was disconnected in the settings.")
	}
	c, err := s.build(ch)
	if err != nil {
		return err
	}
	if err := s.reg.Wait(ctx, ch); err != nil {
		return err
	}
	out, err := s.outbound(ctx, m, to)
	if err != nil {
		return err
	}
	out.Recipient = recipient
	out.Ref = Ref(m.ID)
	sent, err := c.Send(ctx, out)
	var thr *channel.ThrottledError
	var se *channel.SendError
	switch {
	case errors.As(err, &thr):
		s.reg.SlowDown(ch)
		slog.Info("channel throttled", "channel", ch.ID, "code", thr.Code, "retry_in", thr.RetryAfter)
		return river.JobSnooze(max(thr.RetryAfter, time.Second))
	case errors.As(err, &se) && se.Permanent:
		return fail(se.Code, se.Title)
	case errors.Is(err, channel.ErrElsewhere) && s.now().Sub(m.CreatedAt) < 10*time.Minute:
		// Another instance runs this channel's session: try again in a moment (a snooze is
		// not an attempt) rather than after a growing backoff; after ten minutes, it is one.
		return river.JobSnooze(2 * time.Second)
	case err != nil:
		return err // temporary: River retries with backoff
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		moved, err := tx.MarkSent(ctx, args.OrgID, m.ID, sent.ProviderID)
		if err != nil || !moved {
			return err
		}
		if _, err = events.MessageStatus.Publish(ctx, tx, args.OrgID, events.MessageState{
			MessageID: m.ID, ConversationID: m.ConversationID, Status: model.StatusSent}); err != nil {
			return err
		}
		// Reports that came before this id was stored apply now, in any order: statuses only
		// move forward.
		early, err := tx.TakeEarlyStatuses(ctx, args.OrgID, ch.ID, sent.ProviderID)
		if err != nil {
			return err
		}
		for _, e := range early {
			if err := s.applyStatus(ctx, tx, ch, sent.ProviderID, e.Status, e.ErrorCode, e.ErrorTitle); err != nil {
				return err
			}
		}
		return nil
	})
}

// address is how a channel reaches a contact: by phone, else (WhatsApp) by the person's
// business-scoped user id for the Cloud API or their LID/JID for a QR session. SMS needs
// a phone.
func (s *Service) address(ctx context.Context, ch model.Channel, c model.Contact) (to, recipient string, err error) {
	if c.HasPhone() {
		return *c.Phone, "", nil
	}
	kinds := ch.RecipientKinds()
	if len(kinds) == 0 {
		return "", "", nil
	}
	ids, err := s.st.Identities(ctx, c.OrgID, c.ID)
	if err != nil {
		return "", "", err
	}
	for _, k := range kinds {
		for _, id := range ids {
			if id.Kind == k {
				return "", id.Value, nil
			}
		}
	}
	return "", "", nil
}

func (s *Service) failed(ctx context.Context, m model.Message, code, title string) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.MarkFailed(ctx, m.OrgID, m.ID, code, title); err != nil {
			return err
		}
		_, err := events.MessageStatus.Publish(ctx, tx, m.OrgID, events.MessageState{
			MessageID: m.ID, ConversationID: m.ConversationID, Status: model.StatusFailed, ErrorCode: code, ErrorTitle: title})
		return err
	})
}

// ApplyStatus records a provider's status report of a sent message: statuses only move
// forward, so reports that arrive out of order or twice change nothing.
func (s *Service) ApplyStatus(ctx context.Context, ch model.Channel, providerID, status, code, title string) error {
	return s.applyReport(ctx, ch, channel.StatusUpdate{ProviderID: providerID, Status: status, ErrorCode: code, ErrorTitle: title})
}

// applyReport applies a status report. One whose provider id we do not know yet is either
// early (the send's answer is on its way: kept until it is) or, when its Ref names a
// queued message of ours, the report of a send whose answer was lost in a crash or a
// timeout: that message takes the provider's id, so it is never sent again.
func (s *Service) applyReport(ctx context.Context, ch model.Channel, st channel.StatusUpdate) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		moved, err := tx.ApplyStatusReports(ctx, []store.StatusReport{reportOf(ch, st)})
		if err != nil {
			return err
		}
		return s.announceMoved(ctx, tx, moved)
	})
}

func (s *Service) applyStatus(ctx context.Context, tx *store.Store, ch model.Channel, providerID, status, code, title string) error {
	moved, err := tx.ApplyStatus(ctx, ch.OrgID, ch.ID, providerID, status, code, title)
	if err != nil {
		return err
	}
	return s.moved(ctx, tx, ch, moved, status, code, title)
}

// moved announces messages whose status moved, and tells the hooks.
func (s *Service) moved(ctx context.Context, tx *store.Store, ch model.Channel, moved []store.StatusChange, status, code, title string) error {
	if len(moved) == 0 {
		return nil
	}
	ids := make([]int64, len(moved))
	for i, m := range moved {
		ids[i] = m.ID
		if _, err := events.MessageStatus.Publish(ctx, tx, ch.OrgID, events.MessageState{
			MessageID: m.ID, ConversationID: m.ConversationID, Status: status, ErrorCode: code, ErrorTitle: title}); err != nil {
			return err
		}
	}
	if s.followers == nil {
		return nil
	}
	return s.followers.MessagesMoved(ctx, tx, ch.OrgID, ids, status, code, title)
}

// ReportStatus is the channel.StatusFunc of channels that learn statuses themselves (the
// sandbox): it finds the channel and applies the status.
func (s *Service) ReportStatus(ctx context.Context, channelID int64, providerID, status string) {
	ch, err := s.st.ChannelForWebhook(ctx, channelID)
	if err == nil {
		err = s.ApplyStatus(ctx, ch, providerID, status, "", "")
	}
	if err != nil {
		slog.Warn("inbox: status report", "channel", channelID, "err", err)
	}
}

// Conversation returns one conversation.
func (s *Service) Conversation(ctx context.Context, orgID, id int64) (model.Conversation, error) {
	return s.st.Conversation(ctx, orgID, id)
}

// Thread returns a page of a conversation's messages, newest first.
func (s *Service) Thread(ctx context.Context, orgID, conversationID, beforeID int64) ([]model.Message, error) {
	return s.ThreadPage(ctx, orgID, conversationID, beforeID, 50)
}

// ThreadPage returns up to limit of a conversation's messages, newest first, older than
// beforeID when it is not 0.
func (s *Service) ThreadPage(ctx context.Context, orgID, conversationID, beforeID int64, limit int) ([]model.Message, error) {
	return s.st.Messages(ctx, orgID, conversationID, beforeID, limit)
}

// Register adds the inbox's job workers.
func Register(reg *jobs.Registry, s *Service) {
	river.AddWorker(reg.Workers, &SendWorker{Service: s})
	river.AddWorker(reg.Workers, &ReadReceiptWorker{Service: s})
	river.AddWorker(reg.Workers, &FetchMediaWorker{Service: s})
	river.AddWorker(reg.Workers, &SyncTemplatesWorker{Service: s})
	river.AddWorker(reg.Workers, &SyncAllTemplatesWorker{Service: s})
	// Every six hours, and at start: what `masteria dev` seeds gets its templates too.
	reg.Periodic = append(reg.Periodic, river.NewPeriodicJob(river.PeriodicInterval(6*time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return SyncAllTemplatesArgs{}, nil },
		&river.PeriodicJobOpts{ID: "inbox.sync_all_templates", RunOnStart: true}))
}
