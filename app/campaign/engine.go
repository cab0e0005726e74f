package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/riverqueue/river"

	"masteria/app/campaign/compose"
	"masteria/app/channel"
	"masteria/app/events"
	"masteria/app/model"
	"masteria/app/store"
)

// RunWorker runs RunArgs.
type RunWorker struct {
	river.WorkerDefaults[RunArgs]
	Service *Service
}

// Timeout leaves a runner its slice, its last batch's sends and a margin.
func (w *RunWorker) Timeout(*river.Job[RunArgs]) time.Duration { return w.Service.runTimeout() }

// runTimeout bounds a runner job's attempt: past it the queue cancels the attempt, so it
// sends nothing more and the claims it left may be settled.
func (s *Service) runTimeout() time.Duration { return s.Slice + 2*s.SendTimeout + time.Minute }

// Work sends the campaign's due recipients for one slice of time, then yields its worker
// (snoozing) so other jobs run; it ends when the campaign is not running or nothing is left.
func (w *RunWorker) Work(ctx context.Context, job *river.Job[RunArgs]) error {
	err := w.Service.run(ctx, job.Args)
	if err != nil && !errors.Is(err, &river.JobSnoozeError{}) {
		// The queue tries the job again later; an operator wants to know why it stopped.
		slog.Warn("campaign: runner", "campaign", job.Args.CampaignID, "job", job.ID, "attempt", job.Attempt, "err", err)
	}
	return err
}

// errStop ends a runner: the campaign is not running any more.
var errStop = errors.New("campaign: stop")

// errHeld is a send kept back because the campaign stopped while it waited for its slot.
var errHeld = errors.New("campaign: held back by a pause")

// errElsewhere: another instance holds the channel's connection (a QR session); the runner
// yields, so the queue may hand it to that instance.
var errElsewhere = errors.New("campaign: the channel is connected on another instance")

func (s *Service) run(ctx context.Context, args RunArgs) error {
	if c, err := s.st.Campaign(ctx, args.OrgID, args.CampaignID); err == nil && c.Voice() {
		if c.Status != model.CampaignRunning {
			return nil
		}
		return s.runCalls(ctx, c)
	}
	r, err := s.newRun(ctx, args)
	if errors.Is(err, errStop) || errors.Is(err, model.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.slice(ctx, args.OrgID, args.CampaignID, time.Second, func() (int, time.Duration, error) {
		n, wait, err := r.batch(ctx)
		if errors.Is(err, errElsewhere) {
			return 0, 0, river.JobSnooze(2 * time.Second)
		}
		return n, wait, err
	})
}

// slice runs batches of a running campaign for one slice of time, then yields its worker
// (snoozing) so other jobs run. A batch returns how many recipients it handled, or how long
// until one is due (0: the campaign is done); a wait longer than snoozeAfter snoozes the job
// instead of holding the worker.
func (s *Service) slice(ctx context.Context, orgID, campaignID int64, snoozeAfter time.Duration, batch func() (int, time.Duration, error)) error {
	deadline := s.now().Add(s.Slice)
	for {
		status, err := s.st.CampaignStatus(ctx, orgID, campaignID)
		if errors.Is(err, model.ErrNotFound) || (err == nil && status != model.CampaignRunning) {
			return nil
		}
		if err != nil {
			return err
		}
		if s.now().After(deadline) {
			return river.JobSnooze(0)
		}
		n, wait, err := batch()
		switch {
		case errors.Is(err, errStop):
			return nil
		case err != nil:
			return err
		case n > 0:
			_ = events.CampaignProgress.Signal(ctx, s.st, orgID, events.CampaignRef{CampaignID: campaignID})
			continue
		case wait <= 0:
			return nil // done
		case wait > snoozeAfter:
			return river.JobSnooze(min(wait, 30*time.Second))
		}
		select {
		case <-ctx.Done():
			return river.JobSnooze(0)
		case <-time.After(wait):
		}
	}
}

// runner is one runner's view of a campaign: what it sends, through what, at what pace.
type runner struct {
	s         *Service
	c         model.Campaign
	ch        model.Channel
	client    channel.Channel
	templates []*model.Template // per variant; nil for a text
	// media is each variant's file as the channel sends it (nil for none), resolved once
	// per runner: a template's header media, or the file sent with a text. files are the
	// same files as the message rows list them.
	media      []*channel.Attachment
	files      []*model.File
	headerKind []string // per variant: a template's media header kind (image, video, document)
	orgZone    *time.Location
	qr         QRSettings
	limit      int64     // WhatsApp's 24-hour limit (<= 0: none known)
	portfolio  []int64   // the channels sharing it
	size       int       // recipients per batch
	checked    time.Time // when the failure rate was last checked
}

func (s *Service) newRun(ctx context.Context, args RunArgs) (*runner, error) {
	c, err := s.st.Campaign(ctx, args.OrgID, args.CampaignID)
	if err != nil {
		return nil, err
	}
	if c.Status != model.CampaignRunning {
		return nil, errStop
	}
	ch, templates, err := s.ready(ctx, c)
	var ve *model.ValidationError
	if errors.As(err, &ve) {
		// The template stopped being approved, the channel was disconnected…: a reason to pause.
		reason := model.PauseTemplateGone
		if _, ok := ve.Fields["channel"]; ok {
			reason = model.PauseChannelGone
		}
		return nil, errors.Join(errStop, s.pause(ctx, c.OrgID, c.ID, reason, ""))
	}
	if err != nil {
		return nil, err
	}
	client, err := s.out.Client(ch)
	if err != nil {
		return nil, err
	}
	r := &runner{s: s, c: c, ch: ch, client: client, orgZone: time.UTC}
	for i := range templates {
		if templates[i].ID != 0 {
			r.templates = append(r.templates, &templates[i])
		} else {
			r.templates = append(r.templates, nil)
		}
	}
	if err := r.resolveMedia(ctx); err != nil {
		return nil, err
	}
	if name, err := s.st.OrgTimeZone(ctx, c.OrgID); err == nil {
		if z, err := time.LoadLocation(name); err == nil {
			r.orgZone = z
		}
	}
	limits, err := s.st.ChannelLimits(ctx, c.OrgID, ch.ID)
	if err != nil {
		return nil, err
	}
	r.qr = qrSettings(limits.SendSettings)
	if ch.Kind == model.KindWhatsAppCloud && limits.MessagingLimit > 0 {
		r.limit = int64(limits.MessagingLimit)
		if r.portfolio, err = s.portfolio(ctx, ch); err != nil {
			return nil, err
		}
	}
	// A batch spans about half a second of sending, so a pause is seen within a second.
	r.size = int(math.Max(1, math.Min(100, ch.Rate/2)))
	if ch.Kind == model.KindWhatsAppQR {
		r.size = 1
	}
	return r, nil
}

// resolveMedia reads each variant's file once, shared by every send of the runner (one
// link serves every recipient): a template's media header, or a QR text's attachment. A
// file on a template without a media header, or on SMS, is left out.
func (r *runner) resolveMedia(ctx context.Context) error {
	n := len(r.c.Message.Variants)
	r.media, r.files, r.headerKind = make([]*channel.Attachment, n), make([]*model.File, n), make([]string, n)
	byID := map[int64]*channel.Attachment{}
	for i, vr := range r.c.Message.Variants {
		if vr.MediaID == 0 {
			continue
		}
		if t := r.templates[i]; t != nil {
			if r.headerKind[i] = t.Shape().HeaderMediaKind(); r.headerKind[i] == "" {
				continue
			}
		} else if r.ch.Kind != model.KindWhatsAppQR {
			continue
		}
		a, ok := byID[vr.MediaID]
		if !ok {
			var err error
			if a, err = r.s.out.Attachment(ctx, r.c.OrgID, vr.MediaID); err != nil {
				return fmt.Errorf("campaign: media %d: %w", vr.MediaID, err)
			}
			byID[vr.MediaID] = a
		}
		r.media[i] = a
		r.files[i] = &model.File{ID: vr.MediaID, MIME: a.MIME, Name: a.Filename, Size: a.Size}
	}
	return nil
}

// batch claims and sends one batch; it returns how many it handled, or, when none was due,
// how long until one is (0: the campaign is done).
func (r *runner) batch(ctx context.Context) (int, time.Duration, error) {
	s, c := r.s, r.c
	size := r.size
	if r.ch.Kind == model.KindWhatsAppQR {
		day := dayStart(s.now(), r.orgZone)
		sent, err := s.st.ChannelSentSince(ctx, c.OrgID, r.ch.ID, day)
		if err != nil {
			return 0, 0, err
		}
		if sent >= r.qr.dailyCap(r.ch.CreatedAt, s.now()) {
			return 0, max(time.Second, time.Until(day.AddDate(0, 0, 1))), nil
		}
	}
	var claimed []store.Claimed
	var err error
	if r.limit > 0 {
		var wait time.Duration
		if claimed, wait, err = r.claimWithinLimit(ctx, size); err != nil || wait > 0 {
			return 0, wait, err
		}
	} else if claimed, err = s.st.ClaimRecipients(ctx, c.OrgID, c.ID, size); err != nil {
		return 0, 0, err
	}
	if len(claimed) == 0 {
		return 0, r.idle(ctx), nil
	}
	return len(claimed), 0, r.send(ctx, claimed)
}

// idle is how long until the campaign's next recipient is due; when none is pending and
// none in flight the campaign is completed (0).
func (r *runner) idle(ctx context.Context) time.Duration {
	s, c := r.s, r.c
	due, ok, err := s.st.NextDue(ctx, c.OrgID, c.ID)
	if err != nil {
		return 5 * time.Second
	}
	if ok {
		if due.After(s.now().Add(365 * 24 * time.Hour)) {
			// Waiting for the A/B winner: look again soon (a release also wakes waiting
			// runners, but not one that is about to wait).
			return 2 * time.Second
		}
		return max(50*time.Millisecond, due.Sub(s.now()))
	}
	inFlight, err := s.st.InFlight(ctx, c.OrgID, c.ID)
	if err != nil || inFlight > 0 {
		return 2 * time.Second // another runner's batch, or a claim the settler will free
	}
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		ok, err := tx.MoveCampaign(ctx, c.OrgID, c.ID, model.CampaignCompleted, []string{model.CampaignRunning}, "", "")
		if err != nil || !ok {
			return err
		}
		_, err = events.CampaignCompleted.Publish(ctx, tx, c.OrgID, events.CampaignRef{CampaignID: c.ID, Name: c.Name})
		return err
	})
	if err != nil {
		slog.Warn("campaign: complete", "campaign", c.ID, "err", err)
		return 5 * time.Second
	}
	return 0
}

// claimWithinLimit claims what WhatsApp's 24-hour limit leaves: the runners of every
// instance count and claim one at a time, and sends in flight count. At the limit the
// campaign waits for the oldest send to leave the window (spreading) or pauses.
func (r *runner) claimWithinLimit(ctx context.Context, size int) ([]store.Claimed, time.Duration, error) {
	s, c := r.s, r.c
	var claimed []store.Claimed
	var until time.Time
	full := false
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.LockReach(ctx, c.OrgID, r.portfolio[0]); err != nil {
			return err
		}
		reached, oldest, err := tx.Reach24h(ctx, c.OrgID, r.portfolio)
		if err != nil {
			return err
		}
		left := r.limit - reached
		if left <= 0 {
			full, until = true, oldest
			return nil
		}
		claimed, err = tx.ClaimRecipients(ctx, c.OrgID, c.ID, int(min(int64(size), left)))
		return err
	})
	if err != nil || !full {
		return claimed, 0, err
	}
	if !c.Settings.Spread {
		return nil, 0, errors.Join(errStop, s.pause(ctx, c.OrgID, c.ID, model.PauseDailyLimit, ""))
	}
	if until.IsZero() { // only sends in flight: they settle soon
		until = s.now().Add(2 * time.Second)
	}
	return nil, max(time.Second, time.Until(until)), nil
}

func dayStart(t time.Time, z *time.Location) time.Time {
	t = t.In(z)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, z)
}

// item is one recipient of a batch on its way out.
type item struct {
	rec       store.Claimed
	variant   int
	msg       rendered
	messageID int64
	convID    int64
	counted   bool
	// the outcome
	providerID string
	err        error
}

// send handles a claimed batch: recipients in their quiet hours wait, the others get their
// message stored as queued (so a crash leaves a trace), go out at the channel's shared
// pace, and have their outcome recorded.
func (r *runner) send(ctx context.Context, claimed []store.Claimed) error {
	s, c := r.s, r.c
	now := s.now()
	var waits []store.Deferral
	var gone []store.FailedRecipient
	var items []*item
	var retried []int64
	for _, rec := range claimed {
		if rec.ContactID == nil {
			gone = append(gone, store.FailedRecipient{ID: rec.ID, Status: model.RecipientFailed, Code: model.SkipDeleted, Title: "The contact was deleted."})
			continue
		}
		if until, quiet := compose.QuietUntil(now, r.zone(rec), c.Settings.QuietStart, c.Settings.QuietEnd); quiet {
			waits = append(waits, store.Deferral{ID: rec.ID, At: until})
			continue
		}
		v := 0
		if rec.Variant != nil {
			v = int(*rec.Variant)
		}
		if v >= len(c.Message.Variants) {
			v = 0
		}
		it := &item{rec: rec, variant: v}
		it.msg = render(c.Message.Variants[v], r.templates[v], variantParams(rec.Params, v), rec.ID)
		if f := r.files[v]; f != nil && it.msg.Kind == "text" {
			it.msg.Kind = f.Kind() // a text with a file goes as the file, the text its caption
		}
		if rec.MessageID != nil {
			it.messageID = *rec.MessageID
			retried = append(retried, it.messageID)
		}
		items = append(items, it)
	}
	// A send tried before whose answer was lost may have been reconciled since by the
	// provider's status report: it is recorded, never sent again.
	var done []store.SentRecipient
	if len(retried) > 0 {
		states, err := s.st.MessagesStates(ctx, c.OrgID, retried)
		if err != nil {
			return err
		}
		kept := items[:0]
		for _, it := range items {
			st, ok := states[it.messageID]
			switch {
			case it.messageID != 0 && ok && st.ProviderID != nil:
				done = append(done, store.SentRecipient{ID: it.rec.ID, ProviderID: *st.ProviderID})
			case it.messageID != 0 && ok && st.Status == model.StatusFailed:
				gone = append(gone, store.FailedRecipient{ID: it.rec.ID, Status: model.RecipientFailed, Code: st.ErrorCode, Title: st.ErrorTitle})
			default:
				if !ok {
					it.messageID = 0 // the message was deleted with its conversation: a new one
				}
				kept = append(kept, it)
			}
		}
		items = kept
	}
	if err := s.st.Tx(ctx, func(tx *store.Store) error {
		admitted, held, skipped, err := r.admit(ctx, tx, items, now) // the contact policy
		if err != nil {
			return err
		}
		items = admitted
		if err := tx.DeferRecipients(ctx, c.OrgID, append(waits, held...), false); err != nil {
			return err
		}
		if err := tx.MarkRecipientsFailed(ctx, c.OrgID, append(gone, skipped...), 0); err != nil {
			return err
		}
		if err := tx.MarkRecipientsSent(ctx, c.OrgID, done); err != nil {
			return err
		}
		return r.queue(ctx, tx, items)
	}); err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	if err := r.deliver(ctx, items); err != nil {
		return err
	}
	return r.record(ctx, items)
}

// zone is the recipient's time zone: stored on the contact, else from its phone's country
// and area code, else the org's.
func (r *runner) zone(rec store.Claimed) *time.Location {
	if rec.Zone != nil && *rec.Zone != "" {
		if z, err := time.LoadLocation(*rec.Zone); err == nil {
			return z
		}
	}
	if strings.HasPrefix(rec.Address, "+") {
		return compose.Zone(rec.Address, r.orgZone)
	}
	return r.orgZone
}

// queue opens the conversations of the batch's new sends and stores their messages as
// queued, linked to their recipients, in tx.
func (r *runner) queue(ctx context.Context, tx *store.Store, items []*item) error {
	c := r.c
	var fresh []*item
	var contacts []int64
	for _, it := range items {
		if it.messageID == 0 {
			fresh = append(fresh, it)
			contacts = append(contacts, *it.rec.ContactID)
		}
	}
	// In one order, so two batches that share a contact (two campaigns on one channel)
	// lock its conversation in the same order and never deadlock.
	slices.Sort(contacts)
	convs, err := tx.OpenConversations(ctx, c.OrgID, r.ch.ID, contacts)
	if err != nil {
		return err
	}
	byContact := make(map[int64]store.OpenedConversation, len(convs))
	for _, cv := range convs {
		byContact[cv.ContactID] = cv
	}
	window := s24h(r.s.now())
	for _, it := range items {
		cv := byContact[*it.rec.ContactID]
		it.convID = cv.ID
		// Outside a service window, WhatsApp counts the person toward the 24-hour limit.
		it.counted = r.ch.Kind == model.KindWhatsAppCloud && (cv.LastInboundAt == nil || cv.LastInboundAt.Before(window))
	}
	if len(fresh) == 0 {
		return nil
	}
	qs := make([]store.QueuedMessage, len(fresh))
	for i, it := range fresh {
		qs[i] = store.QueuedMessage{ConversationID: it.convID, Kind: it.msg.Kind, Body: it.msg.Body, Content: r.content(it)}
	}
	ids, err := tx.QueueMessages(ctx, c.OrgID, r.ch.ID, qs)
	if err != nil {
		return err
	}
	rids, mids, counted := make([]int64, len(fresh)), make([]int64, len(fresh)), make([]bool, len(fresh))
	for i, it := range fresh {
		it.messageID = ids[it.convID]
		rids[i], mids[i], counted[i] = it.rec.ID, it.messageID, it.counted
	}
	return tx.SetRecipientMessages(ctx, c.OrgID, rids, mids, counted)
}

func s24h(now time.Time) time.Time { return now.Add(-24 * time.Hour) }

// content is what the message row keeps: the template and its values (as the inbox keeps
// them, so the thread shows it) and the campaign it belongs to.
func (r *runner) content(it *item) json.RawMessage {
	m := map[string]any{"campaign": map[string]any{"id": r.c.ID, "name": r.c.Name, "recipient_id": it.rec.ID}}
	if t := r.templates[it.variant]; t != nil {
		params := it.msg.Params
		if params == nil {
			params = []string{}
		}
		m["template"] = map[string]any{"id": t.ID, "name": t.Name, "language": t.Language, "params": params,
			"header_params": it.msg.HeaderParams}
	}
	// The file is listed as the inbox lists an attachment's, so the thread shows it.
	if f := r.files[it.variant]; f != nil {
		m["files"] = []model.File{*f}
	}
	b, _ := json.Marshal(m)
	return b
}

// deliver sends the batch at the channel's pace, shared by every instance: it reserves the
// batch's sending time, then sends each message at its slot.
func (r *runner) deliver(ctx context.Context, items []*item) error {
	s, c := r.s, r.c
	offsets := make([]time.Duration, len(items))
	var span float64
	if r.ch.Kind == model.KindWhatsAppQR {
		// A person on a phone does not send on a metronome: a random pause between sends.
		for i := range items {
			offsets[i] = time.Duration(span * float64(time.Second))
			span += float64(r.qr.DelayMin) + rand.Float64()*float64(r.qr.DelayMax-r.qr.DelayMin)
		}
	} else {
		per := 1 / math.Max(r.ch.Rate, 0.1)
		for i := range items {
			offsets[i] = time.Duration(float64(i) * per * float64(time.Second))
		}
		span = float64(len(items)) * per
	}
	start, factor, err := s.st.ReservePace(ctx, c.OrgID, r.ch.ID, span)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	next := make(chan *item)
	slot := make(map[*item]time.Time, len(items))
	for i, it := range items {
		slot[it] = start.Add(time.Duration(float64(offsets[i]) / factor))
	}
	for range min(len(items), 64) {
		wg.Go(func() {
			for it := range next {
				if d := time.Until(slot[it]); d > 0 {
					select {
					case <-ctx.Done():
						it.err = ctx.Err()
						continue
					case <-time.After(d):
					}
					// At a slow pace a slot can be seconds away: a pause meanwhile keeps
					// this send back, so a pause takes effect within a second.
					if d > 250*time.Millisecond {
						if st, err := s.st.CampaignStatus(ctx, c.OrgID, c.ID); err == nil && st != model.CampaignRunning {
							it.err = errHeld
							continue
						}
					}
				}
				it.providerID, it.err = r.sendOne(ctx, it)
			}
		})
	}
	for _, it := range items {
		next <- it
	}
	close(next)
	wg.Wait()
	return nil
}

func (r *runner) sendOne(ctx context.Context, it *item) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.s.SendTimeout)
	defer cancel()
	out := channel.Outbound{Kind: it.msg.Kind, Body: it.msg.Body, Ref: "m" + fmt.Sprint(it.messageID)}
	if strings.HasPrefix(it.rec.Address, "+") {
		out.To = it.rec.Address
	} else {
		out.Recipient = it.rec.Address
	}
	if t := r.templates[it.variant]; t != nil {
		out.Template = &channel.Template{Name: t.Name, Language: t.Language, Params: it.msg.Params, HeaderParams: it.msg.HeaderParams}
		if a := r.media[it.variant]; a != nil {
			out.Template.HeaderMedia, out.Template.HeaderKind = a, r.headerKind[it.variant]
		}
	} else if a := r.media[it.variant]; a != nil {
		out.Media = a
	}
	sent, err := r.client.Send(ctx, out)
	return sent.ProviderID, err
}

// Codes on which the provider stops a whole campaign: spam or policy blocks, a paused or
// disabled template, a refused token.
var (
	spamCodes     = map[string]bool{"131048": true, "368": true, "131031": true}
	templateCodes = map[string]bool{"132015": true, "132016": true, "132001": true}
	authCodes     = map[string]bool{"190": true}
)

// record writes the batch's outcomes: sends the provider took, refusals, throttling (the
// recipient or the whole channel waits; not an attempt), temporary errors (retried with
// backoff, then failed), and what stops the campaign.
func (r *runner) record(ctx context.Context, items []*item) error {
	s, c := r.s, r.c
	now := s.now()
	var sent []store.SentRecipient
	var sentIDs []int64
	var sentPIDs []string
	var convIDs []int64
	var previews []string
	var failed []store.FailedRecipient
	var failedMsgs []int64
	var failedCodes, failedTitles []string
	var throttled, retry []store.Deferral
	var changes []events.CampaignRecipient
	stop, stopDetail := "", ""
	slow := time.Duration(0)
	elsewhere := 0
	for _, it := range items {
		var thr *channel.ThrottledError
		var se *channel.SendError
		switch {
		case it.err == nil:
			sent = append(sent, store.SentRecipient{ID: it.rec.ID, ProviderID: it.providerID, Counted: it.counted})
			sentIDs, sentPIDs = append(sentIDs, it.messageID), append(sentPIDs, it.providerID)
			convIDs, previews = append(convIDs, it.convID), append(previews, model.Preview(it.msg.Kind, it.msg.Body))
			changes = append(changes, r.change(it, model.RecipientSent, ""))
		case errors.Is(it.err, errHeld):
			throttled = append(throttled, store.Deferral{ID: it.rec.ID, At: now, Code: "", Title: ""})
		case errors.Is(it.err, channel.ErrElsewhere):
			// A QR session another instance holds: not an attempt; the runner moves on.
			throttled = append(throttled, store.Deferral{ID: it.rec.ID, At: now.Add(2 * time.Second), Code: "elsewhere", Title: "held by another instance"})
			elsewhere++
		case errors.As(it.err, &thr):
			wait := max(thr.RetryAfter, time.Second)
			if thr.Code == "131056" {
				wait = max(wait, 6*time.Second) // one person, too often: only they wait
			} else {
				slow = max(slow, wait)
			}
			throttled = append(throttled, store.Deferral{ID: it.rec.ID, At: now.Add(wait), Code: thr.Code, Title: "throttled"})
		case errors.As(it.err, &se) && (templateCodes[se.Code] || authCodes[se.Code]):
			// Not this person's fault: they wait for the campaign to be resumed.
			throttled = append(throttled, store.Deferral{ID: it.rec.ID, At: now, Code: se.Code, Title: se.Title})
			stop, stopDetail = model.PauseTemplate, se.Code+": "+se.Title
			if se.Code == "132001" {
				stop = model.PauseTemplateGone
			}
			if authCodes[se.Code] {
				stop = model.PauseNotAuthorized
			}
		case errors.As(it.err, &se) && se.Permanent:
			status := model.RecipientFailed
			if se.Code == cappedCode {
				status = model.RecipientCapped
			}
			failed = append(failed, store.FailedRecipient{ID: it.rec.ID, Status: status, Code: se.Code, Title: se.Title})
			failedMsgs, failedCodes, failedTitles = append(failedMsgs, it.messageID), append(failedCodes, se.Code), append(failedTitles, se.Title)
			changes = append(changes, r.change(it, status, se.Code))
			if spamCodes[se.Code] {
				stop, stopDetail = model.PauseSpam, se.Code+": "+se.Title
			}
		case it.rec.Attempts >= r.s.MaxAttempts:
			code, title := errorWords(it.err)
			failed = append(failed, store.FailedRecipient{ID: it.rec.ID, Status: model.RecipientFailed, Code: code, Title: title})
			failedMsgs, failedCodes, failedTitles = append(failedMsgs, it.messageID), append(failedCodes, code), append(failedTitles, title)
			changes = append(changes, r.change(it, model.RecipientFailed, code))
		default:
			// Temporary (5xx, a timeout): again after a growing wait. A send whose answer was
			// lost (a timeout, a connection cut) may have been taken: the wait lets its status
			// report reconcile it first.
			code, title := errorWords(it.err)
			wait := time.Duration(math.Min(600, 5*math.Pow(2, float64(it.rec.Attempts-1)))) * time.Second
			if answerLost(it.err) {
				wait = max(wait, 30*time.Second)
			}
			retry = append(retry, store.Deferral{ID: it.rec.ID, At: now.Add(wait), Code: code, Title: title})
		}
	}
	// The status webhooks of the same messages and recipients write beside this transaction.
	// It first locks every row it writes, in the order the status batches lock theirs
	// (messages, then recipients, each by id), so the two wait for each other in turn, never
	// in a circle: a deadlock costs each side a second. Should PostgreSQL still choose it as
	// a deadlock's victim (another writer of these rows), it is run again, since what it holds
	// exists nowhere else. A refusal lost here would be sent again once its claim was
	// settled, and the stop it causes would be lost with it: the pause is written in the
	// same transaction.
	lockMsgs := append(append([]int64(nil), sentIDs...), failedMsgs...)
	lockRecs := make([]int64, len(items))
	for i, it := range items {
		lockRecs[i] = it.rec.ID
	}
	err := s.st.TxRetry(ctx, func(tx *store.Store) error {
		if err := tx.LockSends(ctx, c.OrgID, lockMsgs, lockRecs); err != nil {
			return err
		}
		if err := tx.MarkManySent(ctx, c.OrgID, sentIDs, sentPIDs); err != nil {
			return err
		}
		if err := tx.MarkRecipientsSent(ctx, c.OrgID, sent); err != nil {
			return err
		}
		if err := tx.TouchConversations(ctx, c.OrgID, convIDs, previews); err != nil {
			return err
		}
		if err := tx.MarkManyFailed(ctx, c.OrgID, failedMsgs, failedCodes, failedTitles); err != nil {
			return err
		}
		if err := tx.MarkRecipientsFailed(ctx, c.OrgID, failed, c.Settings.CappedRetryDays); err != nil {
			return err
		}
		if err := tx.DeferRecipients(ctx, c.OrgID, throttled, false); err != nil {
			return err
		}
		if err := tx.DeferRecipients(ctx, c.OrgID, retry, true); err != nil {
			return err
		}
		if slow > 0 {
			if err := tx.SlowDownPace(ctx, c.OrgID, r.ch.ID, slow); err != nil {
				return err
			}
		}
		if err := events.CampaignRecipientStatus.PublishMany(ctx, tx, c.OrgID, changes); err != nil {
			return err
		}
		if stop != "" {
			return s.pauseIn(ctx, tx, c.OrgID, c.ID, stop, stopDetail)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if stop != "" {
		return errStop
	}
	if elsewhere == len(items) {
		return errElsewhere
	}
	// Failures reported later by the provider count too: look every few batches.
	if len(failed) > 0 || time.Since(r.checked) > 2*time.Second {
		r.checked = time.Now()
		return r.checkFailures(ctx)
	}
	return nil
}

func (r *runner) change(it *item, status, code string) events.CampaignRecipient {
	return events.CampaignRecipient{CampaignID: r.c.ID, RecipientID: it.rec.ID, ContactID: *it.rec.ContactID, Status: status, ErrorCode: code}
}

// checkFailures pauses the campaign when too many of its last sends failed.
func (r *runner) checkFailures(ctx context.Context) error {
	st := r.c.Settings
	if st.FailurePct <= 0 || st.FailureWindow <= 0 {
		return nil
	}
	failed, total, err := r.s.st.RecentFailures(ctx, r.c.OrgID, r.c.ID, st.FailureWindow)
	if err != nil {
		return err
	}
	// A handful of sends says little: wait for half the window.
	if total*2 >= int64(st.FailureWindow) && failed*100 >= int64(st.FailurePct)*total {
		detail := fmt.Sprintf("%d/%d", failed, total)
		return errors.Join(errStop, r.s.pause(ctx, r.c.OrgID, r.c.ID, model.PauseFailureRate, detail))
	}
	return nil
}

// errorWords are a temporary error's code and words for the recipient table.
func errorWords(err error) (string, string) {
	var se *channel.SendError
	if errors.As(err, &se) {
		return se.Code, se.Title
	}
	if isTimeout(err) {
		return "timeout", "The provider did not answer in time."
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return "error", msg
}

// answerLost says whether a failed send's outcome is unknown, so the provider may have taken
// it: a timeout, but also a connection reset or closed once the request was on its way, an
// answer cut short, or a success without the message's id. A provider's answer (a refusal,
// throttling, a 5xx) or a connection never made says it was not taken.
func answerLost(err error) bool {
	var ue *url.Error
	var op *net.OpError
	switch {
	case isTimeout(err), errors.Is(err, context.Canceled), errors.Is(err, channel.ErrNoID):
		return true
	case errors.As(err, &op) && op.Op == "dial":
		return false // nothing went
	}
	return errors.As(err, &ue) || errors.As(err, &op) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
