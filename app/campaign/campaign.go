// Package campaign sends one message to many people: drafts built in steps, a pre-launch
// check that enforces WhatsApp's limits (the governor), and an engine whose ledger — one
// recipient row per person — makes every send happen once, across crashes and instances.
package campaign

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"masteria/app/campaign/policy"
	"masteria/app/channel"
	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// Outbox is the inbox's outbound path as campaigns use it: the provider client of a
// channel, and a stored file as channels send it (another org's file is model.ErrNotFound).
type Outbox interface {
	Client(ch model.Channel) (channel.Channel, error)
	Attachment(ctx context.Context, orgID, fileID int64) (*channel.Attachment, error)
}

// Inserter puts jobs in the queue inside a transaction, and makes a waiting one run now
// (the River client).
type Inserter interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobRetryTx(ctx context.Context, tx *sql.Tx, id int64) (*rivertype.JobRow, error)
}

// Service is the campaigns area: drafts, the check, launch and control, and the engine.
type Service struct {
	st     *store.Store
	out    Outbox
	policy *policy.Policy // the contact policy every send passes
	jobs   Inserter
	now    func() time.Time
	// dialer starts the calls of call campaigns (nil: they pause).
	dialer Dialer

	// Runners is how many runner jobs send one campaign together (on any instance).
	Runners int
	// SendTimeout bounds one provider call; an answer lost past it is reconciled from the
	// provider's status report, or sent again after Lease.
	SendTimeout time.Duration
	// Lease is how long a claim may stay unanswered before it is settled: sent if a status
	// report named it meanwhile, else sent again. A claim whose runner may still send it
	// (its job attempt runs, within its timeout) is never settled, however old.
	Lease time.Duration
	// MaxAttempts is how many times a send is tried on temporary errors before it fails.
	MaxAttempts int
	// Slice is how long one runner job works before it yields its worker.
	Slice time.Duration
}

// New returns the service. SetJobs must be called before anything is launched.
func New(st *store.Store, out Outbox) *Service {
	return &Service{st: st, out: out, policy: policy.New(st), now: time.Now, Runners: 2, SendTimeout: 15 * time.Second,
		Lease: 2 * time.Minute, MaxAttempts: 8, Slice: 20 * time.Second}
}

// SetJobs gives the service its queue.
func (s *Service) SetJobs(j Inserter) { s.jobs = j }

// ErrStarted is a change to a campaign that has already started (a draft-only edit, a
// second launch).
var ErrStarted = fmt.Errorf("campaign: already launched: %w", model.ErrConflict)

// ErrNotReady is a launch of a campaign that is not complete (its fields say what is missing).
var ErrNotReady = errors.New("campaign: not ready to launch")

func mayRun(a model.Actor) error {
	if !a.Role.May(model.RunCampaigns) {
		return model.ErrForbidden
	}
	return nil
}

// Campaign returns one campaign of the actor's org.
func (s *Service) Campaign(ctx context.Context, a model.Actor, id int64) (model.Campaign, error) {
	if err := mayRun(a); err != nil {
		return model.Campaign{}, err
	}
	return s.st.Campaign(ctx, a.OrgID, id)
}

// Campaigns lists the org's campaigns, newest first.
func (s *Service) Campaigns(ctx context.Context, a model.Actor, before int64, limit int) ([]model.Campaign, error) {
	if err := mayRun(a); err != nil {
		return nil, err
	}
	return s.st.Campaigns(ctx, a.OrgID, before, limit)
}

// Create saves a new draft with what it has so far (at least a name).
func (s *Service) Create(ctx context.Context, a model.Actor, c model.Campaign) (model.Campaign, error) {
	if err := mayRun(a); err != nil {
		return c, err
	}
	c.OrgID, c.CreatedBy = a.OrgID, a.UserRef()
	if c.Settings == (model.CampaignSettings{}) {
		c.Settings = model.DefaultCampaignSettings()
	}
	if err := s.validate(ctx, &c); err != nil {
		return c, err
	}
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		id, err := tx.CreateCampaign(ctx, c)
		if err != nil {
			return err
		}
		c.ID = id
		_, err = events.CampaignCreated.Publish(ctx, tx, a.OrgID, events.CampaignRef{CampaignID: id, Name: c.Name})
		return err
	})
	if err != nil {
		return c, err
	}
	return s.st.Campaign(ctx, a.OrgID, c.ID)
}

// Save saves a draft's steps; a campaign that started refuses (ErrStarted).
func (s *Service) Save(ctx context.Context, a model.Actor, c model.Campaign) (model.Campaign, error) {
	if err := mayRun(a); err != nil {
		return c, err
	}
	old, err := s.st.Campaign(ctx, a.OrgID, c.ID)
	if err != nil {
		return c, err
	}
	if !old.Editable() {
		return c, ErrStarted
	}
	c.OrgID = a.OrgID
	if err := s.validate(ctx, &c); err != nil {
		return c, err
	}
	if err := s.st.UpdateCampaign(ctx, c); err != nil {
		if errors.Is(err, model.ErrConflict) {
			return c, ErrStarted
		}
		return c, err
	}
	return s.st.Campaign(ctx, a.OrgID, c.ID)
}

// Delete deletes a draft or a finished campaign.
func (s *Service) Delete(ctx context.Context, a model.Actor, id int64) error {
	if err := mayRun(a); err != nil {
		return err
	}
	if _, err := s.st.Campaign(ctx, a.OrgID, id); err != nil {
		return err
	}
	ok, err := s.st.DeleteCampaign(ctx, a.OrgID, id)
	if err == nil && !ok {
		err = ErrStarted
	}
	return err
}

var customKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// contactFields are the contact fields a template variable or a text field can take.
var contactFields = map[string]bool{"name": true, "first_name": true, "phone": true, "email": true}

// maxText is the longest message text: WhatsApp's 4,096 characters; SMS stops at 1,600.
func maxText(kind string) int {
	if kind == model.KindTwilioSMS {
		return 1600
	}
	return 4096
}

// validate checks what a draft has: every value well formed, every id of the actor's org
// (another org's id is model.ErrNotFound). What is missing is for ready to say.
func (s *Service) validate(ctx context.Context, c *model.Campaign) error {
	v := model.NewValidationError()
	c.Name = strings.TrimSpace(c.Name)
	if n := utf8.RuneCountInString(c.Name); n == 0 || n > 120 {
		v.Add("name", "campaigns.error.name")
	}
	var ch model.Channel
	if c.ChannelID != nil {
		var err error
		if ch, err = s.st.Channel(ctx, c.OrgID, *c.ChannelID); err != nil {
			return err
		}
	}
	if c.Voice() {
		if err := s.validateCall(ctx, c, v); err != nil {
			return err
		}
	}
	ok, err := s.st.AudienceOwned(ctx, c.OrgID, c.Audience)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("campaign: audience: %w", model.ErrNotFound)
	}
	if len(c.Audience.ContactIDs) > 100000 {
		v.Add("audience", "campaigns.error.too_many_contacts")
	}
	if len(c.Message.Variants) > model.MaxVariants {
		v.Add("message", "campaigns.error.variants")
	}
	for i := range c.Message.Variants {
		vr := &c.Message.Variants[i]
		vr.Text = strings.TrimSpace(vr.Text)
		if vr.Text != "" {
			if utf8.RuneCountInString(vr.Text) > maxText(ch.Kind) {
				v.Add("text", "campaigns.error.text_long")
			} else if err := checkText(vr.Text); err != nil {
				v.Add("text", "campaigns.error.text_syntax")
			}
		}
		for _, m := range append(append([]model.VarMap{}, vr.Vars...), vr.HeaderVars...) {
			switch {
			case m.Source == "field" && contactFields[m.Field]:
			case m.Source == "custom" && customKey.MatchString(m.Key):
			case m.Source == "text" && strings.TrimSpace(m.Text) != "":
			default:
				v.Add("vars", "campaigns.error.var")
			}
			if strings.ContainsAny(m.Text+m.Fallback, "\n\t") || utf8.RuneCountInString(m.Text+m.Fallback) > 200 {
				v.Add("vars", "campaigns.error.var_text")
			}
		}
		// The file must be the org's: another org's id is not found.
		var file model.Media
		if vr.MediaID != 0 {
			var err error
			if file, err = s.st.Media(ctx, c.OrgID, vr.MediaID); err != nil {
				return fmt.Errorf("campaign: media: %w", err)
			}
		}
		if vr.TemplateID != 0 && c.ChannelID != nil {
			t, err := s.st.Template(ctx, c.OrgID, *c.ChannelID, vr.TemplateID)
			if errors.Is(err, model.ErrNotFound) {
				v.Add("template", "campaigns.error.template")
				continue
			}
			if err != nil {
				return err
			}
			vr.Template, vr.Language = t.Name, t.Language
			if sh := t.Shape(); vr.MediaID != 0 && sh.HeaderMedia != "" && !sh.HeaderAccepts(file.MIME) {
				v.Add("media", "campaigns.error.media_type")
			}
		}
	}
	st := &c.Settings
	if st.QuietStart < 0 || st.QuietStart > 23 || st.QuietEnd < 0 || st.QuietEnd > 23 {
		v.Add("quiet", "campaigns.error.quiet")
	}
	if st.SkipRecentHours < 0 || st.SkipRecentHours > 24*30 {
		v.Add("skip_recent_hours", "campaigns.error.hours")
	}
	if st.ReplyHours < 1 || st.ReplyHours > 24*30 {
		v.Add("reply_hours", "campaigns.error.hours")
	}
	if st.CappedRetryDays < 0 || st.CappedRetryDays > 60 {
		v.Add("capped_retry_days", "campaigns.error.days")
	}
	if st.FailurePct < 0 || st.FailurePct > 100 || st.FailureWindow < 0 || st.FailureWindow > 10000 {
		v.Add("failure_pct", "campaigns.error.failure")
	}
	if st.TestPct < 0 || st.TestPct > 90 || (st.TestPct > 0 && st.TestHours < 1) || st.TestHours < 0 || st.TestHours > 168 {
		v.Add("test_pct", "campaigns.error.test")
	}
	switch st.TestMetric {
	case "", "reply", "read":
	default:
		v.Add("test_metric", "campaigns.error.test")
	}
	switch st.Category {
	case "", "marketing", "utility", "authentication":
	default:
		v.Add("category", "campaigns.error.category")
	}
	if c.ScheduledAt != nil && c.ScheduledAt.Before(s.now().Add(-time.Minute)) && c.Status != model.CampaignScheduled {
		v.Add("scheduled_at", "campaigns.error.past")
	}
	return v.Err()
}

// ready says what a draft still lacks before it can be checked and launched, and returns
// its channel and the templates of its variants.
func (s *Service) ready(ctx context.Context, c model.Campaign) (model.Channel, []model.Template, error) {
	v := model.NewValidationError()
	var ch model.Channel
	if c.ChannelID == nil {
		v.Add("channel", "campaigns.error.channel")
	} else {
		var err error
		if ch, err = s.st.Channel(ctx, c.OrgID, *c.ChannelID); err != nil {
			return ch, nil, err
		}
		if ch.Status == model.ChannelDisconnected {
			v.Add("channel", "campaigns.error.channel_disconnected")
		}
	}
	if c.Audience.Empty() {
		v.Add("audience", "campaigns.error.audience")
	}
	if len(c.Message.Variants) == 0 {
		v.Add("message", "campaigns.error.message")
	}
	templates := make([]model.Template, len(c.Message.Variants))
	for i, vr := range c.Message.Variants {
		switch {
		case ch.Kind == model.KindWhatsAppCloud:
			if vr.TemplateID == 0 {
				v.Add("template", "campaigns.error.template_needed")
				continue
			}
			t, err := s.st.Template(ctx, c.OrgID, ch.ID, vr.TemplateID)
			if errors.Is(err, model.ErrNotFound) || (err == nil && t.Status != "APPROVED") {
				v.Add("template", "campaigns.error.template_not_approved")
				continue
			}
			if err != nil {
				return ch, nil, err
			}
			shape := t.Shape()
			if len(vr.Vars) != shape.BodyParams || len(vr.HeaderVars) != shape.HeaderParams {
				v.Add("vars", "campaigns.error.vars_count")
			}
			// A media header needs its file (WhatsApp refuses the send without it).
			if shape.HeaderMedia != "" {
				file, err := s.variantMedia(ctx, c.OrgID, vr)
				if err != nil {
					return ch, nil, err
				}
				switch {
				case file == nil:
					v.Add("media", "campaigns.error.header_media")
				case !shape.HeaderAccepts(file.MIME):
					v.Add("media", "campaigns.error.media_type")
				}
			}
			templates[i] = t
		case vr.Text == "":
			v.Add("text", "campaigns.error.text")
		case vr.MediaID != 0 && ch.Kind != model.KindWhatsAppQR && ch.ID != 0:
			v.Add("media", "campaigns.error.media_channel") // SMS carries text only
		case vr.MediaID != 0:
			file, err := s.variantMedia(ctx, c.OrgID, vr)
			if err != nil {
				return ch, nil, err
			}
			if file == nil {
				v.Add("media", "campaigns.error.media_gone")
			} else if utf8.RuneCountInString(vr.Text) > MaxCaption {
				v.Add("text", "campaigns.error.caption_long")
			}
		}
	}
	if err := v.Err(); err != nil {
		return ch, nil, fmt.Errorf("%w: %w", ErrNotReady, err)
	}
	return ch, templates, nil
}

// segmentFilter is a saved segment's filter.
func (s *Service) segmentFilter(ctx context.Context, orgID, id int64) (model.ContactFilter, error) {
	var f model.ContactFilter
	sg, err := s.st.Segment(ctx, orgID, id)
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(sg.Filter, &f); err != nil {
		return f, fmt.Errorf("campaign: segment %d filter: %w", sg.ID, err)
	}
	return f, nil
}

// MaxCaption is the longest text that goes with a file: WhatsApp's caption limit.
const MaxCaption = 1024

// variantMedia is the stored file of a variant, nil when it has none or it was deleted.
func (s *Service) variantMedia(ctx context.Context, orgID int64, vr model.Variant) (*model.Media, error) {
	if vr.MediaID == 0 {
		return nil, nil
	}
	m, err := s.st.Media(ctx, orgID, vr.MediaID)
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// snapshot is how the store turns this campaign's audience into recipients.
func (s *Service) snapshot(ctx context.Context, c model.Campaign, ch model.Channel) (store.Snapshot, error) {
	sp := store.Snapshot{CampaignID: c.ID, ChannelID: ch.ID, Audience: c.Audience, RecipientKinds: ch.RecipientKinds(),
		SkipRecentHours: c.Settings.SkipRecentHours, TestPct: c.Settings.TestPct}
	if sp.RecipientKinds == nil {
		sp.RecipientKinds = []string{}
	}
	if c.Audience.SegmentID != 0 {
		f, err := s.segmentFilter(ctx, c.OrgID, c.Audience.SegmentID)
		if err != nil {
			return sp, err
		}
		sp.Segment = &f
	}
	for _, vr := range c.Message.Variants {
		sp.Vars = append(sp.Vars, variantVars(vr))
	}
	return sp, nil
}
