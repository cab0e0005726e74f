package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"masteria/app/channel"
	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// SyncTemplatesArgs is the job that copies a WhatsApp Cloud channel's templates from its
// WhatsApp Business Account.
type SyncTemplatesArgs struct {
	OrgID     int64 `json:"org_id"`
	ChannelID int64 `json:"channel_id"`
}

// Kind is the job's stable name.
func (SyncTemplatesArgs) Kind() string { return "inbox.sync_templates" }

// InsertOpts: one sync of a channel waiting at a time is enough.
func (SyncTemplatesArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled}}}
}

// SyncTemplatesWorker runs SyncTemplatesArgs.
type SyncTemplatesWorker struct {
	river.WorkerDefaults[SyncTemplatesArgs]
	Service *Service
}

// Work syncs; a failure is recorded for the page to show, then retried.
func (w *SyncTemplatesWorker) Work(ctx context.Context, job *river.Job[SyncTemplatesArgs]) error {
	err := w.Service.SyncTemplates(ctx, job.Args.OrgID, job.Args.ChannelID)
	if errors.Is(err, model.ErrNotFound) || errors.Is(err, errNoTemplates) {
		return nil // the channel is gone, or is not a WhatsApp Cloud one
	}
	return err
}

var errNoTemplates = errors.New("inbox: this channel has no templates")

// SyncAllTemplatesArgs is the periodic job that queues a template sync of every WhatsApp
// Cloud channel: templates are approved, paused or rejected at Meta after they are created.
type SyncAllTemplatesArgs struct{}

// Kind is the job's stable name.
func (SyncAllTemplatesArgs) Kind() string { return "inbox.sync_all_templates" }

// SyncAllTemplatesWorker runs SyncAllTemplatesArgs.
type SyncAllTemplatesWorker struct {
	river.WorkerDefaults[SyncAllTemplatesArgs]
	Service *Service
}

// Work queues one sync a channel (a channel already waiting for one is not queued twice).
func (w *SyncAllTemplatesWorker) Work(ctx context.Context, _ *river.Job[SyncAllTemplatesArgs]) error {
	return w.Service.QueueAllTemplateSyncs(ctx)
}

// QueueAllTemplateSyncs queues a template sync of every org's WhatsApp Cloud channels.
func (s *Service) QueueAllTemplateSyncs(ctx context.Context) error {
	chs, err := s.st.CloudChannels(ctx)
	if err != nil {
		return err
	}
	for _, ch := range chs {
		if err := s.st.Tx(ctx, func(tx *store.Store) error { return s.queueSync(ctx, tx, ch.OrgID, ch.ID) }); err != nil {
			return err
		}
	}
	return nil
}

// QueueTemplateSync asks for a sync of a channel's templates (the settings button).
func (s *Service) QueueTemplateSync(ctx context.Context, a model.Actor, channelID int64) error {
	ch, err := s.st.Channel(ctx, a.OrgID, channelID)
	if err != nil {
		return err
	}
	if ch.Kind != model.KindWhatsAppCloud {
		return model.FieldError("channel", "templates.error.kind")
	}
	return s.st.Tx(ctx, func(tx *store.Store) error { return s.queueSync(ctx, tx, a.OrgID, channelID) })
}

func (s *Service) queueSync(ctx context.Context, tx *store.Store, orgID, channelID int64) error {
	if s.jobs == nil {
		return fmt.Errorf("inbox: no job queue")
	}
	_, err := s.jobs.InsertTx(ctx, tx.SQLTx(), SyncTemplatesArgs{OrgID: orgID, ChannelID: channelID}, nil)
	return err
}

// SyncTemplates lists the channel's templates at Meta (every page) and stores them,
// dropping those the account no longer has.
func (s *Service) SyncTemplates(ctx context.Context, orgID, channelID int64) error {
	ch, err := s.st.Channel(ctx, orgID, channelID)
	if err != nil {
		return err
	}
	if ch.Kind != model.KindWhatsAppCloud {
		return errNoTemplates
	}
	c, err := s.build(ch)
	if err != nil {
		return err
	}
	lister, ok := c.(channel.TemplateLister)
	if !ok {
		return errNoTemplates
	}
	rows, err := lister.ListTemplates(ctx)
	if err != nil {
		if serr := s.st.SetTemplateSync(ctx, orgID, channelID, nil, err.Error()); serr != nil {
			slog.Warn("inbox: template sync state", "channel", channelID, "err", serr)
		}
		return err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.ReplaceTemplates(ctx, orgID, channelID, rows, now); err != nil {
			return err
		}
		if err := tx.SetTemplateSync(ctx, orgID, channelID, &now, ""); err != nil {
			return err
		}
		_, err := events.TemplatesSynced.Publish(ctx, tx, orgID, events.TemplatesSync{ChannelID: channelID, Count: len(rows)})
		return err
	})
}

// Templates lists a channel's synced templates and when they were last synced.
func (s *Service) Templates(ctx context.Context, orgID, channelID int64) ([]model.Template, model.TemplateSync, error) {
	if _, err := s.st.Channel(ctx, orgID, channelID); err != nil {
		return nil, model.TemplateSync{}, err
	}
	list, err := s.st.Templates(ctx, orgID, channelID)
	if err != nil {
		return nil, model.TemplateSync{}, err
	}
	sync, err := s.st.TemplateSync(ctx, orgID, channelID)
	return list, sync, err
}

// TemplateSend names a template, by id or by name and language, and its parameters.
type TemplateSend struct {
	ID           int64
	Name         string
	Language     string
	Params       []string // the body's {{1}}, {{2}}… in order
	HeaderParams []string // a text header's {{1}}, if it has one
	// MediaID is a stored file of the org for a media header (IMAGE, VIDEO, DOCUMENT): the
	// message lists it and the send carries it. Another org's file is not found.
	MediaID int64
}

// templateMessage is what a template message's content keeps.
type templateMessage struct {
	ID           int64    `json:"id"`
	Name         string   `json:"name"`
	Language     string   `json:"language"`
	Params       []string `json:"params"`
	HeaderParams []string `json:"header_params,omitempty"`
}

func templateContent(raw json.RawMessage) (templateMessage, error) {
	var c struct {
		Template templateMessage `json:"template"`
	}
	if err := json.Unmarshal(raw, &c); err != nil || c.Template.Name == "" {
		return c.Template, fmt.Errorf("inbox: a template message without its template: %w", errors.Join(err, model.ErrInvalid))
	}
	return c.Template, nil
}

// ErrTemplateNotFound is a template the channel does not have approved.
var ErrTemplateNotFound = errors.New("inbox: no such approved template")

// SendTemplate queues an approved template with its parameters. It may go whenever the
// 24-hour window is closed; its body, filled in, is what the thread shows.
func (s *Service) SendTemplate(ctx context.Context, a model.Actor, conversationID int64, ts TemplateSend) (model.Message, error) {
	conv, ch, err := s.replyTarget(ctx, a, conversationID, false)
	if err != nil {
		return model.Message{}, err
	}
	m, err := s.templateMessage(ctx, a, ch, ts)
	if err != nil {
		return m, err
	}
	m.ConversationID = conv.ID
	return s.queue(ctx, a, m)
}

// SendTemplateTo sends a template to a phone through a channel, creating the contact and
// its conversation when needed (Start: a refused send creates nothing).
func (s *Service) SendTemplateTo(ctx context.Context, a model.Actor, channelID int64, phone string, ts TemplateSend) (model.Message, error) {
	st, err := s.Start(ctx, a, StartInput{ChannelID: channelID, Phone: phone, Template: &ts, Source: "api"})
	return st.Message, err
}

// templateMessage checks a template send against the channel's synced template and builds
// the queued message, without its conversation.
func (s *Service) templateMessage(ctx context.Context, a model.Actor, ch model.Channel, ts TemplateSend) (model.Message, error) {
	if ch.Kind != model.KindWhatsAppCloud {
		return model.Message{}, model.FieldError("template", "templates.error.kind")
	}
	var t model.Template
	var err error
	if ts.ID > 0 {
		t, err = s.st.Template(ctx, a.OrgID, ch.ID, ts.ID)
	} else {
		t, err = s.st.TemplateByName(ctx, a.OrgID, ch.ID, strings.TrimSpace(ts.Name), strings.TrimSpace(ts.Language))
	}
	if errors.Is(err, model.ErrNotFound) || (err == nil && t.Status != "APPROVED") {
		return model.Message{}, ErrTemplateNotFound
	}
	if err != nil {
		return model.Message{}, err
	}
	shape := t.Shape()
	v := model.NewValidationError()
	checkParams(v, "params", ts.Params, shape.BodyParams)
	checkParams(v, "header_params", ts.HeaderParams, shape.HeaderParams)
	if err := v.Err(); err != nil {
		return model.Message{}, err
	}
	tm := templateMessage{ID: t.ID, Name: t.Name, Language: t.Language, Params: trimAll(ts.Params), HeaderParams: trimAll(ts.HeaderParams)}
	if tm.Params == nil {
		tm.Params = []string{}
	}
	c := map[string]any{"template": tm}
	if ts.MediaID != 0 && shape.HeaderMedia != "" && s.media != nil {
		file, err := s.media.Get(ctx, a.OrgID, ts.MediaID)
		if err != nil {
			return model.Message{}, err
		}
		if !shape.HeaderAccepts(file.MIME) {
			return model.Message{}, model.FieldError("file", "media.error.type")
		}
		c["files"] = []model.File{fileOf(file)}
	}
	content, _ := json.Marshal(c)
	body := model.Fill(shape.Body, tm.Params)
	if shape.Header != "" {
		body = model.Fill(shape.Header, tm.HeaderParams) + "\n\n" + body
	}
	return model.Message{OrgID: a.OrgID, ChannelID: ch.ID, Direction: "out", Kind: "template", Body: body,
		Content: content, Status: model.StatusQueued, SenderID: a.UserRef(), CreatedAt: s.now()}, nil
}

// checkParams wants exactly n values, none empty, on one line: WhatsApp refuses parameters
// with new lines or tabs.
func checkParams(v *model.ValidationError, field string, got []string, n int) {
	if len(got) != n {
		v.Add(field, "templates.error.params")
		return
	}
	for _, p := range got {
		p = strings.TrimSpace(p)
		if p == "" || strings.ContainsAny(p, "\n\t") || len([]rune(p)) > 1024 {
			v.Add(field, "templates.error.param")
			return
		}
	}
}

func trimAll(list []string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, p := range list {
		out[i] = strings.TrimSpace(p)
	}
	return out
}
