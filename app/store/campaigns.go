package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"masteria/app/model"
)

// campaignQueries are the queries of campaigns, their recipients and the channels' pace.
type campaignQueries struct {
	CampaignInsert       *sqlx.Stmt `query:"campaign-insert"`
	Campaign             *sqlx.Stmt `query:"campaign"`
	Campaigns            *sqlx.Stmt `query:"campaigns"`
	CampaignUpdate       *sqlx.Stmt `query:"campaign-update"`
	CampaignDelete       *sqlx.Stmt `query:"campaign-delete"`
	CampaignMove         *sqlx.Stmt `query:"campaign-move"`
	CampaignStatus       *sqlx.Stmt `query:"campaign-status"`
	CampaignSetWinner    *sqlx.Stmt `query:"campaign-set-winner"`
	CampaignsDue         *sqlx.Stmt `query:"campaigns-due"`
	CampaignsRunning     *sqlx.Stmt `query:"campaigns-running"`
	CampaignProgress     *sqlx.Stmt `query:"campaign-progress"`
	CampaignPerMinute    *sqlx.Stmt `query:"campaign-per-minute"`
	CampaignVariants     *sqlx.Stmt `query:"campaign-variants"`
	ReleaseWinner        *sqlx.Stmt `query:"recipients-release-winner"`
	RecipientsClaim      *sqlx.Stmt `query:"recipients-claim"`
	RecipientsNextDue    *sqlx.Stmt `query:"recipients-next-due"`
	RecipientsInFlight   *sqlx.Stmt `query:"recipients-in-flight"`
	RecipientsDefer      *sqlx.Stmt `query:"recipients-defer"`
	RecipientsSetMessage *sqlx.Stmt `query:"recipients-set-message"`
	RecipientsSent       *sqlx.Stmt `query:"recipients-sent"`
	SendsLock            *sqlx.Stmt `query:"sends-lock"`
	RecipientsFailed     *sqlx.Stmt `query:"recipients-failed"`
	RecipientsByMessage  *sqlx.Stmt `query:"recipients-by-message"`
	RecipientsReplied    *sqlx.Stmt `query:"recipients-replied"`
	RecipientsStale      *sqlx.Stmt `query:"recipients-stale"`
	RecentFailures       *sqlx.Stmt `query:"recipients-recent-failures"`
	RetryFailed          *sqlx.Stmt `query:"recipients-retry-failed"`
	RetryCapped          *sqlx.Stmt `query:"recipients-retry-capped"`
	Recipients           *sqlx.Stmt `query:"recipients"`
	Reach24h             *sqlx.Stmt `query:"reach-24h"`
	ReachOldest          *sqlx.Stmt `query:"reach-oldest"`
	ReachLock            *sqlx.Stmt `query:"reach-lock"`
	ChannelSentSince     *sqlx.Stmt `query:"channel-sent-since"`
	PaceReserve          *sqlx.Stmt `query:"pace-reserve"`
	PaceSlowDown         *sqlx.Stmt `query:"pace-slow-down"`
	ChannelLimitsSet     *sqlx.Stmt `query:"channel-limits-set"`
	ChannelLimits        *sqlx.Stmt `query:"channel-limits"`
	ChannelSendSettings  *sqlx.Stmt `query:"channel-send-settings-set"`
	CampaignsByTemplate  *sqlx.Stmt `query:"campaigns-using-template"`
	CampaignsOfChannel   *sqlx.Stmt `query:"campaigns-of-channel"`
	Prices               *sqlx.Stmt `query:"prices"`
	PriceSet             *sqlx.Stmt `query:"price-set"`
	PriceDelete          *sqlx.Stmt `query:"price-delete"`
	OrgTimeZone          *sqlx.Stmt `query:"org-time-zone"`
	AudienceOwned        *sqlx.Stmt `query:"audience-owned"`
	MessagesStates       *sqlx.Stmt `query:"messages-states"`
	RunnersAlive         *sqlx.Stmt `query:"campaign-runners-alive"`
	RunnersWaiting       *sqlx.Stmt `query:"campaign-runners-waiting"`
}

// RunnersWaiting are the job ids of a campaign's runners that wait for a due recipient.
func (s *Store) RunnersWaiting(ctx context.Context, campaignID int64) ([]int64, error) {
	var ids []int64
	return ids, s.sel(ctx, s.q.RunnersWaiting, &ids, campaignID)
}

// RunnersAlive counts a campaign's runner jobs that wait or worked within the window.
func (s *Store) RunnersAlive(ctx context.Context, campaignID int64, window time.Duration) (int64, error) {
	var n int64
	err := s.get(ctx, s.q.RunnersAlive, &n, campaignID, fmt.Sprintf("%d milliseconds", window.Milliseconds()))
	return n, err
}

// MessageState is where a message stands.
type MessageState struct {
	ID         int64   `db:"id"`
	Status     string  `db:"status"`
	ProviderID *string `db:"provider_id"`
	ErrorCode  string  `db:"error_code"`
	ErrorTitle string  `db:"error_title"`
}

// MessagesStates returns the states of messages by id.
func (s *Store) MessagesStates(ctx context.Context, orgID int64, ids []int64) (map[int64]MessageState, error) {
	var rows []MessageState
	if err := s.sel(ctx, s.q.MessagesStates, &rows, orgID, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("store: message states: %w", err)
	}
	out := make(map[int64]MessageState, len(rows))
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// AudienceOwned says whether everything an audience names belongs to the org.
func (s *Store) AudienceOwned(ctx context.Context, orgID int64, a model.Audience) (bool, error) {
	var r struct {
		Tags     int `db:"tags"`
		Stages   int `db:"stages"`
		Contacts int `db:"contacts"`
		Segments int `db:"segments"`
		Imports  int `db:"imports"`
	}
	if err := s.get(ctx, s.q.AudienceOwned, &r, orgID, pq.Array(a.TagIDs), pq.Array(a.StageIDs), pq.Array(a.ContactIDs),
		a.SegmentID, a.ImportID); err != nil {
		return false, fmt.Errorf("store: audience: %w", err)
	}
	return r.Tags == len(uniq(a.TagIDs)) && r.Stages == len(uniq(a.StageIDs)) && r.Contacts == len(uniq(a.ContactIDs)) &&
		(a.SegmentID == 0 || r.Segments == 1) && (a.ImportID == 0 || r.Imports == 1), nil
}

func uniq(ids []int64) map[int64]bool {
	m := make(map[int64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// CreateCampaign stores a new draft and returns its id.
func (s *Store) CreateCampaign(ctx context.Context, c model.Campaign) (int64, error) {
	var id int64
	if err := s.get(ctx, s.q.CampaignInsert, &id, c.OrgID, c.Name, c.ChannelID, c.Audience, c.Message, c.Settings,
		c.ScheduledAt, c.CreatedBy, c.VoiceNumberID); err != nil {
		return 0, fmt.Errorf("store: create campaign: %w", err)
	}
	return id, nil
}

// Campaign returns one campaign.
func (s *Store) Campaign(ctx context.Context, orgID, id int64) (model.Campaign, error) {
	var c model.Campaign
	if err := s.get(ctx, s.q.Campaign, &c, orgID, id); err != nil {
		return c, fmt.Errorf("store: campaign %d: %w", id, notFound(err))
	}
	return c, nil
}

// Campaigns returns a page of an org's campaigns, newest first, before id (0: the newest).
func (s *Store) Campaigns(ctx context.Context, orgID, before int64, limit int) ([]model.Campaign, error) {
	var out []model.Campaign
	if err := s.sel(ctx, s.q.Campaigns, &out, orgID, before, limit); err != nil {
		return nil, fmt.Errorf("store: campaigns: %w", err)
	}
	return out, nil
}

// UpdateCampaign saves a draft (or a scheduled campaign not yet started); ErrConflict when
// the campaign has started.
func (s *Store) UpdateCampaign(ctx context.Context, c model.Campaign) error {
	n, err := s.exec(ctx, s.q.CampaignUpdate, c.OrgID, c.ID, c.Name, c.ChannelID, c.Audience, c.Message, c.Settings, c.ScheduledAt, c.VoiceNumberID)
	if err != nil {
		return fmt.Errorf("store: update campaign: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: update campaign %d: %w", c.ID, model.ErrConflict)
	}
	return nil
}

// DeleteCampaign deletes a draft or a finished campaign; false when it was neither.
func (s *Store) DeleteCampaign(ctx context.Context, orgID, id int64) (bool, error) {
	n, err := s.exec(ctx, s.q.CampaignDelete, orgID, id)
	return n == 1, err
}

// MoveCampaign changes a campaign's status if it is in one of from; false when it was not
// (launched twice, paused after it finished).
func (s *Store) MoveCampaign(ctx context.Context, orgID, id int64, to string, from []string, reason, detail string) (bool, error) {
	var got string
	err := s.get(ctx, s.q.CampaignMove, &got, orgID, id, to, pq.Array(from), reason, detail)
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, model.ErrNotFound) { // get maps no row to ErrNotFound
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: move campaign: %w", err)
	}
	return true, nil
}

// CampaignStatus is a campaign's status alone (the runners read it between batches).
func (s *Store) CampaignStatus(ctx context.Context, orgID, id int64) (string, error) {
	var st string
	if err := s.get(ctx, s.q.CampaignStatus, &st, orgID, id); err != nil {
		return "", fmt.Errorf("store: campaign status: %w", notFound(err))
	}
	return st, nil
}

// CampaignRef names a campaign of some org (cross-org jobs).
type CampaignRef struct {
	OrgID int64 `db:"org_id"`
	ID    int64 `db:"id"`
}

// DueCampaigns are scheduled campaigns whose time has come, of every org.
func (s *Store) DueCampaigns(ctx context.Context) ([]CampaignRef, error) {
	var out []CampaignRef
	return out, s.sel(ctx, s.q.CampaignsDue, &out)
}

// RunningCampaigns are the campaigns being sent, of every org.
func (s *Store) RunningCampaigns(ctx context.Context) ([]CampaignRef, error) {
	var out []CampaignRef
	return out, s.sel(ctx, s.q.CampaignsRunning, &out)
}

type statusCount struct {
	Key string `db:"status"`
	N   int64  `db:"n"`
}

// CampaignProgress counts a campaign's recipients by status.
func (s *Store) CampaignProgress(ctx context.Context, orgID, id int64) (model.Progress, error) {
	var rows []statusCount
	p := model.Progress{ByStatus: map[string]int64{}}
	if err := s.sel(ctx, s.q.CampaignProgress, &rows, orgID, id); err != nil {
		return p, fmt.Errorf("store: campaign progress: %w", err)
	}
	for _, r := range rows {
		p.ByStatus[r.Key] = r.N
		p.Total += r.N
	}
	return p, nil
}

// MinuteCount is how many sends one minute saw.
type MinuteCount struct {
	Minute time.Time `db:"minute"`
	N      int64     `db:"n"`
}

// CampaignPerMinute counts a campaign's sends per minute since a time.
func (s *Store) CampaignPerMinute(ctx context.Context, orgID, id int64, since time.Time) ([]MinuteCount, error) {
	var out []MinuteCount
	return out, s.sel(ctx, s.q.CampaignPerMinute, &out, orgID, id, since)
}

// VariantStats are an A/B variant's sends, reads and replies.
type VariantStats struct {
	Variant int   `db:"variant"`
	Sent    int64 `db:"sent"`
	Read    int64 `db:"read"`
	Replied int64 `db:"replied"`
}

// CampaignVariants returns each variant's figures.
func (s *Store) CampaignVariants(ctx context.Context, orgID, id int64) ([]VariantStats, error) {
	var out []VariantStats
	return out, s.sel(ctx, s.q.CampaignVariants, &out, orgID, id)
}

// ReleaseWinner records the A/B test's winner and gives it to the rest of the audience;
// false when a winner was already chosen.
func (s *Store) ReleaseWinner(ctx context.Context, orgID, id int64, variant int) (bool, error) {
	n, err := s.exec(ctx, s.q.CampaignSetWinner, orgID, id, variant)
	if err != nil || n == 0 {
		return false, err
	}
	_, err = s.exec(ctx, s.q.ReleaseWinner, orgID, id, variant)
	return err == nil, err
}

// Claimed is a recipient a runner took to send.
type Claimed struct {
	ID        int64           `db:"id"`
	ContactID *int64          `db:"contact_id"`
	Name      string          `db:"name"`
	Address   string          `db:"address"`
	Variant   *int16          `db:"variant"`
	Params    json.RawMessage `db:"params"`
	Zone      *string         `db:"zone"`
	MessageID *int64          `db:"message_id"`
	Attempts  int             `db:"attempts"`
}

// ClaimRecipients takes up to limit due recipients of a campaign for this runner alone.
func (s *Store) ClaimRecipients(ctx context.Context, orgID, campaignID int64, limit int) ([]Claimed, error) {
	var out []Claimed
	if err := s.sel(ctx, s.q.RecipientsClaim, &out, orgID, campaignID, limit); err != nil {
		return nil, fmt.Errorf("store: claim recipients: %w", err)
	}
	return out, nil
}

// NextDue is when the campaign's next pending recipient is due; ok is false when none is pending.
func (s *Store) NextDue(ctx context.Context, orgID, campaignID int64) (time.Time, bool, error) {
	var t pq.NullTime
	if err := s.get(ctx, s.q.RecipientsNextDue, &t, orgID, campaignID); err != nil {
		return time.Time{}, false, fmt.Errorf("store: next due: %w", err)
	}
	return t.Time, t.Valid, nil
}

// InFlight counts a campaign's claimed recipients.
func (s *Store) InFlight(ctx context.Context, orgID, campaignID int64) (int64, error) {
	var n int64
	return n, s.get(ctx, s.q.RecipientsInFlight, &n, orgID, campaignID)
}

// Deferral puts a claimed recipient back to wait until At, noting why.
type Deferral struct {
	ID          int64
	At          time.Time
	Code, Title string
}

// DeferRecipients puts claimed recipients back to pending; attempt says whether their
// claim counted as an attempt (a provider's error) or not (quiet hours).
func (s *Store) DeferRecipients(ctx context.Context, orgID int64, ds []Deferral, attempt bool) error {
	if len(ds) == 0 {
		return nil
	}
	ids, ats := make([]int64, len(ds)), make([]time.Time, len(ds))
	codes, titles := make([]string, len(ds)), make([]string, len(ds))
	for i, d := range ds {
		ids[i], ats[i], codes[i], titles[i] = d.ID, d.At, d.Code, d.Title
	}
	_, err := s.exec(ctx, s.q.RecipientsDefer, orgID, pq.Array(ids), pq.Array(ats), attempt, pq.Array(codes), pq.Array(titles))
	if err != nil {
		return fmt.Errorf("store: defer recipients: %w", err)
	}
	return nil
}

// SetRecipientMessages links recipients to their queued messages, and says whether each
// counts toward WhatsApp's 24-hour limit (outside a service window).
func (s *Store) SetRecipientMessages(ctx context.Context, orgID int64, ids, messageIDs []int64, counted []bool) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.exec(ctx, s.q.RecipientsSetMessage, orgID, pq.Array(ids), pq.Array(messageIDs), pq.Array(counted))
	return err
}

// SentRecipient is a send the provider took.
type SentRecipient struct {
	ID         int64
	ProviderID string
	// Counted: the person was outside a service window, so WhatsApp's 24-hour limit counts them.
	Counted bool
}

// LockSends locks, at the start of the transaction that records a batch of sends, every
// message and recipient it will write, in the order status reports lock them too (messages,
// then recipients, each by id), so the two never deadlock.
func (s *Store) LockSends(ctx context.Context, orgID int64, messageIDs, recipientIDs []int64) error {
	if len(messageIDs) == 0 && len(recipientIDs) == 0 {
		return nil
	}
	if _, err := s.exec(ctx, s.q.SendsLock, orgID, pq.Array(messageIDs), pq.Array(recipientIDs)); err != nil {
		return fmt.Errorf("store: lock sends: %w", err)
	}
	return nil
}

// MarkRecipientsSent records sends the provider took.
func (s *Store) MarkRecipientsSent(ctx context.Context, orgID int64, rs []SentRecipient) error {
	if len(rs) == 0 {
		return nil
	}
	ids, pids, counted := make([]int64, len(rs)), make([]string, len(rs)), make([]bool, len(rs))
	for i, r := range rs {
		ids[i], pids[i], counted[i] = r.ID, r.ProviderID, r.Counted
	}
	_, err := s.exec(ctx, s.q.RecipientsSent, orgID, pq.Array(ids), pq.Array(pids), pq.Array(counted))
	if err != nil {
		return fmt.Errorf("store: recipients sent: %w", err)
	}
	return nil
}

// FailedRecipient is a send that ended: failed or capped, with the provider's code and words.
type FailedRecipient struct {
	ID                  int64
	Status, Code, Title string
}

// MarkRecipientsFailed ends sends; capped ones wait cappedDays before they may go again.
func (s *Store) MarkRecipientsFailed(ctx context.Context, orgID int64, rs []FailedRecipient, cappedDays int) error {
	if len(rs) == 0 {
		return nil
	}
	ids, sts := make([]int64, len(rs)), make([]string, len(rs))
	codes, titles := make([]string, len(rs)), make([]string, len(rs))
	for i, r := range rs {
		ids[i], sts[i], codes[i], titles[i] = r.ID, r.Status, r.Code, r.Title
	}
	_, err := s.exec(ctx, s.q.RecipientsFailed, orgID, pq.Array(ids), pq.Array(sts), pq.Array(codes), pq.Array(titles), cappedDays)
	if err != nil {
		return fmt.Errorf("store: recipients failed: %w", err)
	}
	return nil
}

// RecipientChange is a recipient whose status moved.
type RecipientChange struct {
	ID         int64  `db:"id"`
	CampaignID int64  `db:"campaign_id"`
	ContactID  *int64 `db:"contact_id"`
	Status     string `db:"status"`
}

// RecipientsByMessage moves the recipients of campaign messages to a provider's status.
func (s *Store) RecipientsByMessage(ctx context.Context, orgID int64, messageIDs []int64, status, code, title string) ([]RecipientChange, error) {
	var out []RecipientChange
	if err := s.sel(ctx, s.q.RecipientsByMessage, &out, orgID, pq.Array(messageIDs), status, code, title); err != nil {
		return nil, fmt.Errorf("store: recipients by message: %w", err)
	}
	return out, nil
}

// RecipientsReplied marks a contact's recent campaign sends on a channel as replied.
func (s *Store) RecipientsReplied(ctx context.Context, orgID, channelID, contactID int64, at time.Time) ([]RecipientChange, error) {
	var out []RecipientChange
	if err := s.sel(ctx, s.q.RecipientsReplied, &out, orgID, channelID, contactID, at); err != nil {
		return nil, fmt.Errorf("store: recipients replied: %w", err)
	}
	return out, nil
}

// StaleClaim is a claim whose runner died, now settled.
type StaleClaim struct {
	OrgID      int64  `db:"org_id"`
	CampaignID int64  `db:"campaign_id"`
	ID         int64  `db:"id"`
	Status     string `db:"status"`
}

// SettleStaleClaims settles claims older than lease, of every org, whose runner cannot send
// them any more (no runner job attempt that started before the claim runs within
// runTimeout): sent when a status report reconciled them, pending again otherwise.
func (s *Store) SettleStaleClaims(ctx context.Context, lease, runTimeout time.Duration) ([]StaleClaim, error) {
	var out []StaleClaim
	if err := s.sel(ctx, s.q.RecipientsStale, &out, fmt.Sprintf("%d milliseconds", lease.Milliseconds()),
		fmt.Sprintf("%d milliseconds", runTimeout.Milliseconds())); err != nil {
		return nil, fmt.Errorf("store: stale claims: %w", err)
	}
	return out, nil
}

// RecentFailures counts the failed among a campaign's last n finished sends.
func (s *Store) RecentFailures(ctx context.Context, orgID, campaignID int64, n int) (failed, total int64, err error) {
	var r struct {
		Failed int64 `db:"failed"`
		Total  int64 `db:"total"`
	}
	err = s.get(ctx, s.q.RecentFailures, &r, orgID, campaignID, n)
	return r.Failed, r.Total, err
}

// RetryFailed puts a campaign's failed recipients back to pending, except those whose code
// is in final; it returns how many.
func (s *Store) RetryFailed(ctx context.Context, orgID, campaignID int64, final []string) (int64, error) {
	return s.exec(ctx, s.q.RetryFailed, orgID, campaignID, pq.Array(final))
}

// RetryCapped puts back recipients whose capped wait is over, of every org, and returns
// the campaigns they belong to.
func (s *Store) RetryCapped(ctx context.Context) ([]CampaignRef, error) {
	var rows []struct {
		OrgID      int64 `db:"org_id"`
		CampaignID int64 `db:"campaign_id"`
	}
	if err := s.sel(ctx, s.q.RetryCapped, &rows); err != nil {
		return nil, err
	}
	seen := map[CampaignRef]bool{}
	var out []CampaignRef
	for _, r := range rows {
		ref := CampaignRef{OrgID: r.OrgID, ID: r.CampaignID}
		if !seen[ref] {
			seen[ref] = true
			out = append(out, ref)
		}
	}
	return out, nil
}

// Recipients returns a page of a campaign's recipients in a status ("" all), after id.
func (s *Store) Recipients(ctx context.Context, orgID, campaignID int64, status string, after int64, limit int) ([]model.Recipient, error) {
	var out []model.Recipient
	if err := s.sel(ctx, s.q.Recipients, &out, orgID, campaignID, status, after, limit); err != nil {
		return nil, fmt.Errorf("store: recipients: %w", err)
	}
	return out, nil
}

// Reach24h counts the people campaigns reached outside a service window in the last 24
// hours through these channels, and when the oldest of those sends leaves the window.
func (s *Store) Reach24h(ctx context.Context, orgID int64, channelIDs []int64) (int64, time.Time, error) {
	var n int64
	if err := s.get(ctx, s.q.Reach24h, &n, orgID, pq.Array(channelIDs)); err != nil {
		return 0, time.Time{}, fmt.Errorf("store: reach: %w", err)
	}
	var t pq.NullTime
	if n > 0 {
		if err := s.get(ctx, s.q.ReachOldest, &t, orgID, pq.Array(channelIDs)); err != nil {
			return 0, time.Time{}, fmt.Errorf("store: reach: %w", err)
		}
	}
	return n, t.Time, nil
}

// LockReach holds, until the transaction ends, the right to count and claim against the
// messaging limit of the business account whose first channel is channelID.
func (s *Store) LockReach(ctx context.Context, orgID, channelID int64) error {
	_, err := s.exec(ctx, s.q.ReachLock, orgID, channelID)
	return err
}

// ChannelSentSince counts a channel's campaign sends since a time.
func (s *Store) ChannelSentSince(ctx context.Context, orgID, channelID int64, since time.Time) (int64, error) {
	var n int64
	return n, s.get(ctx, s.q.ChannelSentSince, &n, orgID, channelID, since)
}

// ReservePace reserves seconds of a channel's sending time, shared by every instance; the
// batch's sends start at start. factor is the part of the set pace throttling leaves.
func (s *Store) ReservePace(ctx context.Context, orgID, channelID int64, seconds float64) (start time.Time, factor float64, err error) {
	var r struct {
		Start  time.Time `db:"start"`
		Factor float64   `db:"factor"`
	}
	if err := s.get(ctx, s.q.PaceReserve, &r, orgID, channelID, seconds); err != nil {
		return time.Time{}, 0, fmt.Errorf("store: reserve pace: %w", err)
	}
	return r.Start, r.Factor, nil
}

// SlowDownPace halves a channel's shared pace and holds every sender back for wait.
func (s *Store) SlowDownPace(ctx context.Context, orgID, channelID int64, wait time.Duration) error {
	_, err := s.exec(ctx, s.q.PaceSlowDown, orgID, channelID, wait.Seconds())
	return err
}

// ChannelLimits are what a channel may send and its safety settings.
type ChannelLimits struct {
	MessagingLimit int             `db:"messaging_limit"`
	Quality        string          `db:"quality"`
	LimitsAt       *time.Time      `db:"limits_at"`
	SendSettings   json.RawMessage `db:"send_settings"`
}

// ChannelLimits returns a channel's limits and send settings.
func (s *Store) ChannelLimits(ctx context.Context, orgID, channelID int64) (ChannelLimits, error) {
	var l ChannelLimits
	if err := s.get(ctx, s.q.ChannelLimits, &l, orgID, channelID); err != nil {
		return l, fmt.Errorf("store: channel limits: %w", notFound(err))
	}
	return l, nil
}

// SetChannelLimits records what the provider says of a number.
func (s *Store) SetChannelLimits(ctx context.Context, orgID, channelID int64, limit int, quality string) error {
	_, err := s.exec(ctx, s.q.ChannelLimitsSet, orgID, channelID, limit, quality)
	return err
}

// SetChannelSendSettings saves a channel's pace and send settings.
func (s *Store) SetChannelSendSettings(ctx context.Context, orgID, channelID int64, settings json.RawMessage, rate float64) error {
	n, err := s.exec(ctx, s.q.ChannelSendSettings, orgID, channelID, []byte(settings), rate)
	if err == nil && n == 0 {
		err = model.ErrNotFound
	}
	return err
}

// CampaignsUsingTemplate are a channel's running or scheduled campaigns sending a template.
func (s *Store) CampaignsUsingTemplate(ctx context.Context, orgID, channelID int64, name string) ([]int64, error) {
	return s.ids(ctx, s.q.CampaignsByTemplate, orgID, channelID, name)
}

// CampaignsOfChannel are a channel's running or scheduled campaigns.
func (s *Store) CampaignsOfChannel(ctx context.Context, orgID, channelID int64) ([]int64, error) {
	return s.ids(ctx, s.q.CampaignsOfChannel, orgID, channelID)
}

// Price is what one message costs on a kind of channel in a country and category.
type Price struct {
	Kind     string  `db:"kind" json:"kind"`
	Country  string  `db:"country" json:"country"`
	Category string  `db:"category" json:"category"`
	Price    float64 `db:"price" json:"price"`
	Currency string  `db:"currency" json:"currency"`
}

// Prices returns an org's price table.
func (s *Store) Prices(ctx context.Context, orgID int64) ([]Price, error) {
	var out []Price
	return out, s.sel(ctx, s.q.Prices, &out, orgID)
}

// SetPrice saves one line of an org's price table.
func (s *Store) SetPrice(ctx context.Context, orgID int64, p Price) error {
	_, err := s.exec(ctx, s.q.PriceSet, orgID, p.Kind, p.Country, p.Category, p.Price, p.Currency)
	return err
}

// DeletePrice removes one line of an org's price table.
func (s *Store) DeletePrice(ctx context.Context, orgID int64, kind, country, category string) error {
	_, err := s.exec(ctx, s.q.PriceDelete, orgID, kind, country, category)
	return err
}

// OrgTimeZone is the org's time zone name.
func (s *Store) OrgTimeZone(ctx context.Context, orgID int64) (string, error) {
	var z string
	return z, s.get(ctx, s.q.OrgTimeZone, &z, orgID)
}

// Snapshot says how a launch turns an audience into recipient rows.
type Snapshot struct {
	CampaignID, ChannelID int64
	Audience              model.Audience
	Segment               *model.ContactFilter // the saved segment's filter, when the audience has one
	// RecipientKinds are the identities that reach a contact with no phone, best first.
	RecipientKinds []string
	// Vars are, per variant, the values each message needs (template variables, text fields).
	Vars [][]model.VarMap
	// SkipRecentHours skips people another campaign sent to within that many hours (0: off).
	SkipRecentHours int
	// TestPct of the audience is split among the variants; the rest waits for the winner.
	TestPct int
}

// snapshotSQL builds the audience query shared by the pre-launch check and the launch:
// one row per contact with its address, dedup key, values and skip reason (” to send).
func (s *Store) snapshotSQL(orgID int64, sp Snapshot) *builder {
	b := newBuilder("WITH aud AS (", orgID)
	parts := 0
	part := func() {
		if parts > 0 {
			b.add(" UNION ", "")
		}
		parts++
	}
	if sp.Segment != nil {
		part()
		b.add("", "SELECT c.id FROM contacts c WHERE c.org_id = $1")
		applyFilter(b, *sp.Segment, 0)
	}
	if len(sp.Audience.TagIDs) > 0 {
		part()
		b.add("", "SELECT c.id FROM contacts c WHERE c.org_id = $1 AND c.tag_ids && ?::bigint[]", pq.Array(sp.Audience.TagIDs))
	}
	if len(sp.Audience.StageIDs) > 0 {
		part()
		b.add("", "SELECT l.contact_id AS id FROM leads l WHERE l.org_id = $1 AND l.stage_id = ANY(?::bigint[])", pq.Array(sp.Audience.StageIDs))
	}
	if len(sp.Audience.ContactIDs) > 0 {
		part()
		b.add("", "SELECT c.id FROM contacts c WHERE c.org_id = $1 AND c.id = ANY(?::bigint[])", pq.Array(sp.Audience.ContactIDs))
	}
	if sp.Audience.ImportID > 0 {
		part()
		b.add("", "SELECT e.contact_id AS id FROM contact_events e WHERE e.org_id = $1 AND e.kind IN ('imported', 'import_updated') AND e.data ->> 'import_id' = ?",
			fmt.Sprint(sp.Audience.ImportID))
	}
	if parts == 0 {
		b.add("", "SELECT NULL::bigint AS id WHERE false")
	}
	// Materialized: each contact's address and values are computed once, not once per use.
	b.add("), cand AS MATERIALIZED (", "SELECT c.id AS contact_id, c.name, c.opted_out, c.last_activity_at, c.attributes ->> 'time_zone' AS zone, ")
	b.add("", "coalesce(c.phone, (SELECT i.value FROM contact_identities i WHERE i.org_id = c.org_id AND i.contact_id = c.id AND i.kind = ANY(?::text[]) ORDER BY array_position(?::text[], i.kind) LIMIT 1)) AS address, ",
		pq.Array(sp.RecipientKinds), pq.Array(sp.RecipientKinds))
	b.add("", "jsonb_build_array(")
	for v, vars := range sp.Vars {
		if v > 0 {
			b.add(", ", "")
		}
		b.add("", "jsonb_build_array(")
		for i, m := range vars {
			if i > 0 {
				b.add(", ", "")
			}
			varSQL(b, m)
		}
		b.add(")", "")
	}
	b.add(") AS params, ", "")
	if sp.SkipRecentHours > 0 {
		b.add("", "EXISTS (SELECT 1 FROM campaign_recipients h WHERE h.org_id = c.org_id AND h.contact_id = c.id AND h.campaign_id <> ? AND h.sent_at > now() - make_interval(hours => ?)) AS recent, ",
			sp.CampaignID, sp.SkipRecentHours)
	} else {
		b.add("", "false AS recent, ")
	}
	// The codes are those of the campaign_recipients_invalid index, so the probe uses it.
	b.add("", "EXISTS (SELECT 1 FROM campaign_recipients h WHERE h.org_id = c.org_id AND h.contact_id = c.id AND h.error_code IN ('131026', '21211', '21614')) AS invalid ")
	b.add("", "FROM contacts c WHERE c.org_id = $1 AND c.id IN (SELECT id FROM aud)")
	// Brazil's mobile numbers are the same person with or without the ninth digit.
	b.add("), keyed AS (", `SELECT cand.*, CASE WHEN address ~ '^\+55[1-9][0-9]9[0-9]{8}$' THEN substr(address, 1, 5) || substr(address, 7) ELSE address END AS dedup_key FROM cand`)
	b.add("), ranked AS (", `SELECT keyed.*, CASE WHEN cardinality(opted_out) > 0 THEN 'opted_out' WHEN address IS NULL THEN 'no_address'
		WHEN invalid THEN 'invalid_number' WHEN jsonb_path_exists(params, '$[*][*] ? (@ == null)') THEN 'missing_variable'
		WHEN recent THEN 'recently_messaged' ELSE '' END AS skip FROM keyed`)
	// Of the contacts of one person, the most recently active gets the send.
	b.add("), deduped AS (", `SELECT ranked.*, CASE WHEN skip = '' THEN first_value(contact_id) OVER (PARTITION BY dedup_key, skip = '' ORDER BY last_activity_at DESC, contact_id) END AS kept FROM ranked`)
	b.add("), final AS (", `SELECT contact_id, name, address, dedup_key, params, zone,
		CASE WHEN skip <> '' THEN skip WHEN kept <> contact_id THEN 'duplicate' ELSE '' END AS skip_reason,
		CASE WHEN skip = '' AND kept <> contact_id THEN kept END AS kept_contact_id FROM deduped`)
	b.add("", ")")
	return b
}

// varSQL writes the SQL value of one template variable or text field: the contact's value,
// else the fallback, else NULL (a missing variable).
func varSQL(b *builder, m model.VarMap) {
	src := "NULL::text"
	var args []any
	switch m.Source {
	case "field":
		switch m.Field {
		case "name":
			src = "c.name"
		case "first_name":
			src = `substring(c.name FROM '^[ \t\n\r]*([^ \t\n\r]+)')`
		case "phone":
			src = "c.phone"
		case "email":
			src = "c.email"
		}
	case "custom":
		src, args = "c.attributes ->> ?", []any{m.Key}
	case "text":
		src, args = "?::text", []any{m.Text}
	}
	// The rule of compose.Resolve: blanks trimmed, the fallback when blank, else missing.
	b.add("", "coalesce(nullif(btrim("+src+", E' \\t\\n\\r'), ''), nullif(btrim(?::text, E' \\t\\n\\r'), ''))", append(args, m.Fallback)...)
}

// Check is what a launch would do, without doing it.
type Check struct {
	Skips map[string]int64 `json:"skips"` // by reason; "" is the recipients that get the send
	// Prefixes counts the recipients to send to by the first digits of their number, for
	// the cost by country.
	Prefixes   map[string]int64 `json:"prefixes"`
	Duplicates []Duplicate      `json:"duplicates"`
}

// Duplicate is a contact skipped because another contact of the same person gets the send.
type Duplicate struct {
	ContactID int64  `json:"contact_id"`
	Name      string `json:"name"`
	Address   string `json:"address"`
	KeptID    int64  `json:"kept_contact_id"`
}

// CheckAudience runs a launch's audience query and counts what it would do.
func (s *Store) CheckAudience(ctx context.Context, orgID int64, sp Snapshot) (Check, error) {
	b := s.snapshotSQL(orgID, sp)
	b.add(" ", `SELECT (SELECT coalesce(jsonb_object_agg(skip_reason, n), '{}') FROM (SELECT skip_reason, count(*) n FROM final GROUP BY 1) s),
		(SELECT coalesce(jsonb_object_agg(p, n), '{}') FROM (SELECT substr(address, 1, 4) p, count(*) n FROM final WHERE skip_reason = '' AND address LIKE '+%' GROUP BY 1) s),
		(SELECT coalesce(jsonb_agg(d), '[]') FROM (SELECT contact_id, name, address, kept_contact_id FROM final WHERE skip_reason = 'duplicate' ORDER BY contact_id LIMIT 5) d)`)
	var skips, prefixes, dups []byte
	var c Check
	if err := s.queryer().QueryRowxContext(ctx, b.String(), b.args...).Scan(&skips, &prefixes, &dups); err != nil {
		return c, fmt.Errorf("store: check audience: %w", err)
	}
	err := errors.Join(json.Unmarshal(skips, &c.Skips), json.Unmarshal(prefixes, &c.Prefixes), json.Unmarshal(dups, &c.Duplicates))
	return c, err
}

// SnapshotAudience writes a launch's recipient rows in one statement and returns how many
// will be sent to. The rows of a campaign launched before are kept (ON CONFLICT), so a
// second launch adds nothing.
func (s *Store) SnapshotAudience(ctx context.Context, orgID int64, sp Snapshot) (int64, error) {
	b := s.snapshotSQL(orgID, sp)
	nv := max(1, len(sp.Vars))
	pct := sp.TestPct
	if nv == 1 || pct <= 0 || pct >= 100 {
		pct = 100 // no test phase: the variants split the whole audience
	}
	b.add(", numbered AS (", `SELECT final.*, row_number() OVER (PARTITION BY skip_reason = '' ORDER BY hashint8(contact_id # ?::bigint), contact_id) AS rn,
		count(*) OVER (PARTITION BY skip_reason = '') AS n FROM final)`, sp.CampaignID)
	b.add(" ", `INSERT INTO campaign_recipients (org_id, campaign_id, channel_id, contact_id, name, address, dedup_key, kept_contact_id,
		variant, params, zone, status, skip_reason, not_before)
		SELECT $1, ?, ?, contact_id, name, coalesce(address, ''), dedup_key, kept_contact_id,
		CASE WHEN skip_reason <> '' THEN NULL WHEN rn <= ceil(n * ?::numeric / 100) THEN ((rn - 1) % ?)::smallint END,
		params, zone, CASE WHEN skip_reason = '' THEN 'pending' ELSE 'skipped' END, skip_reason,
		CASE WHEN skip_reason = '' AND rn > ceil(n * ?::numeric / 100) THEN '9999-12-31'::timestamptz ELSE 'epoch'::timestamptz END
		FROM numbered ON CONFLICT (campaign_id, contact_id) DO NOTHING`, sp.CampaignID, sp.ChannelID, pct, nv, pct)
	if s.SQLTx() != nil {
		// The dedup and the split sort the whole audience: in memory, not in files.
		if _, err := s.queryer().ExecContext(ctx, "SET LOCAL work_mem = '64MB'"); err != nil {
			return 0, fmt.Errorf("store: snapshot audience: %w", err)
		}
	}
	res, err := s.queryer().ExecContext(ctx, b.String(), b.args...)
	if err != nil {
		return 0, fmt.Errorf("store: snapshot audience: %w", err)
	}
	n, _ := res.RowsAffected()
	s.ran.Add(1)
	return n, nil
}
