package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"masteria/app/channel"
	"masteria/app/events"
	"masteria/app/media"
	"masteria/app/model"
	"masteria/app/store"
)

// SetMedia gives the service its file storage (set once at start). Without it inbound media
// is not downloaded and attachments are refused.
func (s *Service) SetMedia(m *media.Service) { s.media = m }

// Media is the file storage, for the handlers that serve files.
func (s *Service) Media() *media.Service { return s.media }

// mediaRef is one file of an inbound message as its provider names it.
type mediaRef struct {
	Ref      string // Meta media id, Twilio MediaUrl
	MIME     string
	Filename string
}

// mediaKinds are the Meta message types that carry a file.
var mediaKinds = map[string]bool{"image": true, "audio": true, "video": true, "document": true, "sticker": true}

// mediaRefs reads the files an inbound message's content names: Meta's media object
// ({"id","mime_type","filename"}) or Twilio's list ({"media":[{"URL","ContentType"}]}).
func mediaRefs(kind string, content json.RawMessage) []mediaRef {
	if len(content) == 0 {
		return nil
	}
	var c struct {
		ID       string `json:"id"`
		MIME     string `json:"mime_type"`
		Filename string `json:"filename"`
		Media    []struct {
			URL         string `json:"URL"`
			ContentType string `json:"ContentType"`
		} `json:"media"`
	}
	if json.Unmarshal(content, &c) != nil {
		return nil
	}
	var out []mediaRef
	if mediaKinds[kind] && c.ID != "" {
		out = append(out, mediaRef{Ref: c.ID, MIME: c.MIME, Filename: c.Filename})
	}
	for _, m := range c.Media {
		if m.URL != "" {
			out = append(out, mediaRef{Ref: m.URL, MIME: m.ContentType})
		}
	}
	return out
}

// FetchMediaArgs is the job that downloads an inbound message's files.
type FetchMediaArgs struct {
	OrgID     int64 `json:"org_id"`
	MessageID int64 `json:"message_id"`
}

// Kind is the job's stable name.
func (FetchMediaArgs) Kind() string { return "inbox.fetch_media" }

// queueFetch queues the download of an inbound message's files, in the transaction that
// stores it, so the webhook answers without waiting for the file.
func (s *Service) queueFetch(ctx context.Context, tx *store.Store, orgID, messageID int64, in Inbound) error {
	if s.media == nil || s.jobs == nil || len(mediaRefs(in.Kind, in.Content)) == 0 {
		return nil
	}
	_, err := s.jobs.InsertTx(ctx, tx.SQLTx(), FetchMediaArgs{OrgID: orgID, MessageID: messageID}, &river.InsertOpts{MaxAttempts: 10})
	return err
}

// FetchMediaWorker runs FetchMediaArgs.
type FetchMediaWorker struct {
	river.WorkerDefaults[FetchMediaArgs]
	Service *Service
}

// Timeout covers a 100 MB download on a slow link.
func (w *FetchMediaWorker) Timeout(*river.Job[FetchMediaArgs]) time.Duration { return 10 * time.Minute }

// Work downloads the files.
func (w *FetchMediaWorker) Work(ctx context.Context, job *river.Job[FetchMediaArgs]) error {
	err := w.Service.FetchMedia(ctx, job.Args.OrgID, job.Args.MessageID)
	var se *channel.SendError
	if errors.As(err, &se) && se.Permanent {
		slog.Warn("inbox: media download refused", "message", job.Args.MessageID, "code", se.Code, "title", se.Title)
		return river.JobCancel(err)
	}
	return err
}

// FetchMedia downloads the files of an inbound message into storage and lists them in its
// content ("files"). A message that has them already is left alone, and bytes stored by an
// earlier attempt are found again by their hash: a retry never keeps a file twice.
func (s *Service) FetchMedia(ctx context.Context, orgID, messageID int64) error {
	if s.media == nil {
		return errors.New("inbox: no media storage")
	}
	m, err := s.st.Message(ctx, orgID, messageID)
	if errors.Is(err, model.ErrNotFound) {
		return nil
	}
	if err != nil || len(m.Files()) > 0 {
		return err
	}
	refs := mediaRefs(m.Kind, m.Content)
	if len(refs) == 0 {
		return nil
	}
	ch, err := s.st.Channel(ctx, orgID, m.ChannelID)
	if err != nil {
		return err
	}
	c, err := s.build(ch)
	if err != nil {
		return err
	}
	f, ok := c.(channel.MediaFetcher)
	if !ok {
		return nil // this kind of channel cannot download: the message shows its kind only
	}
	files := make([]model.File, 0, len(refs))
	for _, r := range refs {
		file, err := s.fetchOne(ctx, f, orgID, r)
		if err != nil {
			return err
		}
		files = append(files, file)
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.AddMessageContent(ctx, orgID, m.ID, map[string]any{"files": files}); err != nil {
			return err
		}
		_, err := events.MessageUpdated.Publish(ctx, tx, orgID, events.MessageRef{MessageID: m.ID, ConversationID: m.ConversationID})
		return err
	})
}

func (s *Service) fetchOne(ctx context.Context, f channel.MediaFetcher, orgID int64, r mediaRef) (model.File, error) {
	body, mimeType, err := f.Fetch(ctx, r.Ref)
	if err != nil {
		return model.File{}, err
	}
	defer body.Close()
	if r.MIME != "" {
		mimeType = r.MIME // what the webhook said beats a CDN's generic type
	}
	stored, err := s.media.PutInbound(ctx, orgID, body, mimeType, r.Filename)
	if err != nil {
		return model.File{}, err
	}
	return fileOf(stored), nil
}

func fileOf(m model.Media) model.File {
	return model.File{ID: m.ID, MIME: m.MIME, Name: m.Filename, Size: m.Size}
}

// Upload is a file an agent attaches to a reply.
type Upload struct {
	Body     io.Reader
	MIME     string // as the browser sent it; the first bytes decide when it is generic
	Filename string
}

// MaxCaption is the longest caption WhatsApp shows under a file.
const MaxCaption = 1024

// SendFile stores an agent's attachment and queues it, with the caption, like Send does a
// text. The message kind follows the file: image, video, audio or document. A refused file
// (type, size, a closed window) stores nothing.
func (s *Service) SendFile(ctx context.Context, a model.Actor, conversationID int64, caption string, f Upload) (model.Message, error) {
	caption = strings.TrimSpace(caption)
	if len([]rune(caption)) > MaxCaption {
		return model.Message{}, model.FieldError("body", "media.error.caption")
	}
	if s.media == nil {
		return model.Message{}, model.FieldError("file", "media.error.unavailable")
	}
	conv, ch, err := s.replyTarget(ctx, a, conversationID, true)
	if err != nil {
		return model.Message{}, err
	}
	stored, err := s.media.Put(ctx, a.OrgID, f.Body, f.MIME, f.Filename)
	if err != nil {
		return model.Message{}, err
	}
	file := fileOf(stored)
	content, _ := json.Marshal(map[string]any{"files": []model.File{file}})
	m := model.Message{OrgID: a.OrgID, ConversationID: conv.ID, ChannelID: ch.ID, Direction: "out", Kind: file.Kind(),
		Body: caption, Content: content, Status: model.StatusQueued, SenderID: a.UserRef(), CreatedAt: s.now()}
	return s.queue(ctx, a, m)
}

// queue stores an outbound message as queued, touches its conversation and queues its send
// job, in one transaction.
func (s *Service) queue(ctx context.Context, a model.Actor, m model.Message) (model.Message, error) {
	return s.queueIn(ctx, s.st, a, m)
}

// queueIn is queue in st's transaction, if it is in one.
func (s *Service) queueIn(ctx context.Context, st *store.Store, a model.Actor, m model.Message) (model.Message, error) {
	if s.jobs == nil {
		return m, fmt.Errorf("inbox: no job queue")
	}
	err := st.Tx(ctx, func(tx *store.Store) error {
		id, _, err := tx.InsertMessage(ctx, m)
		if err != nil {
			return err
		}
		m.ID = id
		if a.Role != "" { // a person (or an integration) answers: the bot steps aside for good
			c, err := tx.Conversation(ctx, a.OrgID, m.ConversationID)
			if err != nil {
				return err
			}
			if err := s.takeOver(ctx, tx, a.OrgID, c); err != nil {
				return err
			}
		}
		if err := tx.TouchConversation(ctx, a.OrgID, m.ConversationID, m.CreatedAt, model.Preview(m.Kind, m.Body), false); err != nil {
			return err
		}
		if _, err := s.jobs.InsertTx(ctx, tx.SQLTx(), SendArgs{OrgID: a.OrgID, MessageID: id}, nil); err != nil {
			return err
		}
		_, err = events.MessageCreated.Publish(ctx, tx, a.OrgID, events.MessageNew{MessageID: id, ConversationID: m.ConversationID})
		return err
	})
	return m, err
}

// Attachment is a stored file of the org as a channel sends it: a signed link for providers
// that fetch it, and a reader for those it is uploaded to. A file of another org is
// model.ErrNotFound. Campaigns resolve their media through it.
func (s *Service) Attachment(ctx context.Context, orgID, fileID int64) (*channel.Attachment, error) {
	if s.media == nil {
		return nil, errors.New("inbox: no media storage")
	}
	stored, err := s.media.Get(ctx, orgID, fileID)
	if err != nil {
		return nil, err
	}
	link, err := s.media.SignedURL(ctx, stored)
	if err != nil {
		return nil, err
	}
	return &channel.Attachment{MIME: stored.MIME, Filename: stored.Filename, Size: stored.Size, URL: link,
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			_, rc, err := s.media.Open(ctx, orgID, stored.ID)
			return rc, err
		}}, nil
}

// outbound is what the channel gets for a stored message: its text, its file (to upload,
// or as a signed link for providers that fetch it) and its template, whose media header
// is the message's file.
func (s *Service) outbound(ctx context.Context, m model.Message, to string) (channel.Outbound, error) {
	out := channel.Outbound{To: to, Kind: m.Kind, Body: m.Body}
	if files := m.Files(); len(files) > 0 && s.media != nil {
		a, err := s.Attachment(ctx, m.OrgID, files[0].ID)
		if err != nil {
			return out, err
		}
		out.Media = a
	}
	if m.Kind == "template" {
		t, err := templateContent(m.Content)
		if err != nil {
			return out, err
		}
		out.Template = &channel.Template{Name: t.Name, Language: t.Language, Params: t.Params, HeaderParams: t.HeaderParams,
			HeaderMedia: out.Media}
	}
	return out, nil
}
