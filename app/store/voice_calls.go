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

// voiceCallQueries are the queries of voice calls (queries/voice_calls.sql).
type voiceCallQueries struct {
	CallEventClaim      *sqlx.Stmt `query:"call-event-claim"`
	CallResolve         *sqlx.Stmt `query:"call-resolve"`
	CallApply           *sqlx.Stmt `query:"call-apply"`
	CallSetRecording    *sqlx.Stmt `query:"call-set-recording"`
	CallsOfConversation *sqlx.Stmt `query:"calls-of-conversation"`
	CallStatsMarks      *sqlx.Stmt `query:"call-stats-marks"`
	CallsChangedSince   *sqlx.Stmt `query:"calls-changed-since"`
	CallStatsLock       *sqlx.Stmt `query:"call-stats-lock"`
	CallStatsClear      *sqlx.Stmt `query:"call-stats-clear"`
	CallStatsCompute    *sqlx.Stmt `query:"call-stats-compute"`
	CallStats           *sqlx.Stmt `query:"call-stats"`
	CallStatsLive       *sqlx.Stmt `query:"call-stats-live"`
	CallStatsOrgs       *sqlx.Stmt `query:"call-stats-orgs"`
}

// ClaimCallEvent records that event of a call arrived; false when it had already.
func (s *Store) ClaimCallEvent(ctx context.Context, orgID int64, callID, event string) (bool, error) {
	var got string
	err := s.get(ctx, s.q.CallEventClaim, &got, orgID, callID, event)
	if err == model.ErrNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: claim call event: %w", err)
	}
	return true, nil
}

// CallLinks are a call's links to the org's records; nil where none.
type CallLinks struct {
	KnownContactID       *int64 `db:"known_contact_id"` // the contact the call already has
	ContactID            *int64 `db:"contact_id"`
	LeadID               *int64 `db:"lead_id"`
	ConversationID       *int64 `db:"conversation_id"`
	CampaignID           *int64 `db:"campaign_id"`
	NumberID             *int64 `db:"number_id"`
	PhoneContactID       *int64 `db:"phone_contact_id"`       // the contact with the other side's number
	LatestConversationID *int64 `db:"latest_conversation_id"` // of the contact found
}

// ResolveCall finds what a call event ties to: see call-resolve.
func (s *Store) ResolveCall(ctx context.Context, orgID int64, callID string, contact, lead, conv, campaign int64, ourNumber, theirNumber string) (CallLinks, error) {
	var l CallLinks
	if err := s.get(ctx, s.q.CallResolve, &l, orgID, callID, contact, lead, conv, campaign, ourNumber, theirNumber); err != nil {
		return l, fmt.Errorf("store: resolve call: %w", err)
	}
	return l, nil
}

func jsonOr(b json.RawMessage, empty string) []byte {
	if len(b) == 0 || string(b) == "null" {
		return []byte(empty)
	}
	return b
}

// ApplyCallEvent writes one event of c (rank: call_started 1, call_ended 2, call_analyzed 3)
// into the call's row, creating it, and returns the row as it now stands. See call-apply.
func (s *Store) ApplyCallEvent(ctx context.Context, c model.Call) (model.Call, error) {
	var out model.Call
	err := s.get(ctx, s.q.CallApply, &out, c.OrgID, c.CallID, c.Direction, c.FromNumber, c.ToNumber, c.AgentID, c.AgentName,
		c.Status, c.EventRank, c.DisconnectionReason, c.StartedAt, c.EndedAt, c.DurationMS, c.RecordingURL, c.Transcript,
		jsonOr(c.TranscriptObject, "[]"), c.Summary, c.Sentiment, c.Successful, c.InVoicemail, jsonOr(c.CustomAnalysis, "{}"),
		c.CostCents, jsonOr(c.Metadata, "{}"), jsonOr(c.DynamicVariables, "{}"), c.ContactID, c.LeadID, c.ConversationID,
		c.CampaignID, c.NumberID)
	if err != nil {
		return out, fmt.Errorf("store: apply call event: %w", err)
	}
	return out, nil
}

// SetCallRecording keeps the media file of a call's recording; false when it had one.
func (s *Store) SetCallRecording(ctx context.Context, orgID, id, fileID int64) (bool, error) {
	n, err := s.exec(ctx, s.q.CallSetRecording, orgID, id, fileID)
	if err != nil {
		return false, fmt.Errorf("store: call recording: %w", err)
	}
	return n > 0, nil
}

// Call returns one call of an org by our id.
func (s *Store) Call(ctx context.Context, orgID, id int64) (model.Call, error) {
	b := newBuilder(s.fragment("call-columns"), orgID)
	b.where("c.id = ?", id)
	var c model.Call
	if err := notFound(sqlx.GetContext(ctx, s.queryer(), &c, b.String(), b.args...)); err != nil {
		return c, fmt.Errorf("store: call %d: %w", id, err)
	}
	return c, nil
}

// CallFilter narrows a list of calls; zero fields do not filter.
type CallFilter struct {
	ContactID      int64
	ConversationID int64
	Status         string
	Direction      string
	From, To       time.Time // [From, To) on the time the call was first seen
	Before         int64     // calls with a smaller id (the next page)
}

// Calls lists an org's calls, the newest first.
func (s *Store) Calls(ctx context.Context, orgID int64, f CallFilter, limit int) ([]model.Call, error) {
	b := newBuilder(s.fragment("call-columns"), orgID)
	if f.ContactID > 0 {
		b.where("c.contact_id = ?", f.ContactID)
	}
	if f.ConversationID > 0 {
		b.where("c.conversation_id = ?", f.ConversationID)
	}
	if f.Status != "" {
		b.where("c.status = ?", f.Status)
	}
	if f.Direction != "" {
		b.where("c.direction = ?", f.Direction)
	}
	if !f.From.IsZero() {
		b.where("c.created_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		b.where("c.created_at < ?", f.To)
	}
	if f.Before > 0 {
		b.where("c.id < ?", f.Before)
	}
	b.add(" ", "ORDER BY c.id DESC LIMIT ?", limit)
	out := []model.Call{}
	if err := sqlx.SelectContext(ctx, s.queryer(), &out, b.String(), b.args...); err != nil {
		return nil, fmt.Errorf("store: calls: %w", err)
	}
	return out, nil
}

// CallsOfConversation returns the calls of a conversation's thread, oldest first.
func (s *Store) CallsOfConversation(ctx context.Context, orgID, convID int64) ([]model.Call, error) {
	var out []model.Call
	if err := s.sel(ctx, s.q.CallsOfConversation, &out, orgID, convID); err != nil {
		return nil, fmt.Errorf("store: calls of conversation: %w", err)
	}
	return out, nil
}

// CallStats is one row of the calls analytics: Dim is total, day, agent, number or
// campaign, Key its value (a day, an agent id, a number or campaign id) and Label its name.
type CallStats struct {
	Dim        string  `db:"dim" json:"dim"`
	Key        string  `db:"key" json:"key"`
	Label      string  `db:"label" json:"label"`
	Calls      int64   `db:"calls" json:"calls"`
	Answered   int64   `db:"answered" json:"answered"`
	Voicemail  int64   `db:"voicemail" json:"voicemail"`
	DurationMS int64   `db:"duration_ms" json:"duration_ms"`
	Analysed   int64   `db:"analysed" json:"analysed"`
	Successful int64   `db:"successful" json:"successful"`
	Positive   int64   `db:"positive" json:"positive"`
	Neutral    int64   `db:"neutral" json:"neutral"`
	Negative   int64   `db:"negative" json:"negative"`
	CostCents  float64 `db:"cost_cents" json:"cost_cents"`
}

// dayArray is days as a date[] parameter.
func dayArray(days []time.Time) any {
	out := make([]string, len(days))
	for i, d := range days {
		out[i] = d.Format(time.DateOnly)
	}
	return pq.Array(out)
}

// CallsAnalytics returns the calls analytics of the days first to last (inclusive) in
// zone: the stored figures of the days that are up to date, and the others worked out from
// their calls. It only reads; RefreshCallStats stores the figures.
func (s *Store) CallsAnalytics(ctx context.Context, orgID int64, first, last time.Time, zone string) ([]CallStats, error) {
	stale, err := s.staleCallDays(ctx, orgID, first, last, zone)
	if err != nil {
		return nil, fmt.Errorf("store: calls analytics: %w", err)
	}
	var out []CallStats
	if err := s.sel(ctx, s.q.CallStats, &out, orgID, zone, first.Format(time.DateOnly), last.Format(time.DateOnly), dayArray(stale)); err != nil {
		return nil, fmt.Errorf("store: calls analytics: %w", err)
	}
	if len(stale) > 0 {
		var live []CallStats
		lo, hi := stale[0].AddDate(0, 0, -1), stale[len(stale)-1].AddDate(0, 0, 2)
		if err := s.sel(ctx, s.q.CallStatsLive, &live, orgID, zone, dayArray(stale), lo, hi); err != nil {
			return nil, fmt.Errorf("store: calls analytics: %w", err)
		}
		out = append(out, live...)
	}
	return out, nil
}

// RefreshCallStats stores the figures of the days of [first, last] in zone that have none
// or whose calls changed since, in one transaction per org at a time; it returns how many
// days it worked out.
func (s *Store) RefreshCallStats(ctx context.Context, orgID int64, first, last time.Time, zone string) (int, error) {
	stale, err := s.staleCallDays(ctx, orgID, first, last, zone)
	if err != nil || len(stale) == 0 {
		return 0, err
	}
	err = s.Tx(ctx, func(tx *Store) error {
		if _, err := tx.exec(ctx, tx.q.CallStatsLock, orgID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, tx.q.CallStatsClear, orgID, zone, dayArray(stale)); err != nil {
			return err
		}
		// The calls of the stale days: from the first one's start to the last one's end,
		// with a day's margin either way for the zone.
		lo, hi := stale[0].AddDate(0, 0, -1), stale[len(stale)-1].AddDate(0, 0, 2)
		_, err := tx.exec(ctx, tx.q.CallStatsCompute, orgID, zone, dayArray(stale), lo, hi)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: refresh call stats: %w", err)
	}
	return len(stale), nil
}

// CallStatsOrgs lists the orgs whose calls changed after since.
func (s *Store) CallStatsOrgs(ctx context.Context, since time.Time) ([]int64, error) {
	var out []int64
	if err := s.sel(ctx, s.q.CallStatsOrgs, &out, since); err != nil {
		return nil, fmt.Errorf("store: call stats orgs: %w", err)
	}
	return out, nil
}

// maxChanged is how many changed calls are looked at one by one; past it, every day of the
// period is worked out again.
const maxChanged = 5000

// staleCallDays are the days of [first, last] in zone without figures, or with a call
// changed since their figures were worked out.
func (s *Store) staleCallDays(ctx context.Context, orgID int64, first, last time.Time, zone string) ([]time.Time, error) {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, err
	}
	var marks []struct {
		Day        time.Time `db:"day"`
		ComputedAt time.Time `db:"computed_at"`
	}
	if err := s.sel(ctx, s.q.CallStatsMarks, &marks, orgID, zone, first.Format(time.DateOnly), last.Format(time.DateOnly)); err != nil {
		return nil, err
	}
	computed := make(map[string]time.Time, len(marks))
	since := time.Time{}
	for _, m := range marks {
		computed[m.Day.Format(time.DateOnly)] = m.ComputedAt
		if since.IsZero() || m.ComputedAt.Before(since) {
			since = m.ComputedAt
		}
	}
	staleSet := map[string]bool{}
	if len(marks) > 0 {
		var changed []struct {
			CreatedAt time.Time `db:"created_at"`
			UpdatedAt time.Time `db:"updated_at"`
		}
		if err := s.sel(ctx, s.q.CallsChangedSince, &changed, orgID, since, maxChanged+1); err != nil {
			return nil, err
		}
		if len(changed) > maxChanged {
			computed = map[string]time.Time{}
		}
		for _, c := range changed {
			day := c.CreatedAt.In(loc).Format(time.DateOnly)
			if at, ok := computed[day]; ok && c.UpdatedAt.After(at) {
				staleSet[day] = true
			}
		}
	}
	var out []time.Time
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		k := d.Format(time.DateOnly)
		if _, ok := computed[k]; !ok || staleSet[k] {
			day, _ := time.Parse(time.DateOnly, k)
			out = append(out, day)
		}
	}
	return out, nil
}
