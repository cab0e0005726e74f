package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"masteria/app/model"
)

// voiceCallQueries are the queries of voice calls (queries/voice_calls.sql).
type voiceCallQueries struct {
	CallIngest          *sqlx.Stmt `query:"call-ingest"`
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

// CallEvent is one Retell event to ingest: the call as the event gives it (Call, whose
// EventRank is set and whose links are empty), the event's name, the ids the call's
// metadata names (0 for none; another org's are ignored), our number and the other side's
// in E.164 (empty when it has none), and the type of the call's event to publish.
type CallEvent struct {
	Call                                  model.Call
	Event                                 string
	ContactID, LeadID, ConvID, CampaignID int64
	OurNumber, TheirNumber                string
	CallEventType                         string
}

// IngestedCall is a call's row after the events of a statement, and those of its events
// that were new (the rest were duplicates and did nothing), in their order.
type IngestedCall struct {
	model.Call
	Events pq.StringArray `db:"events"`
}

// IngestCallEvents applies call events, at most one of each event per call (several events
// of a call are folded into one change of its row), in one statement (see call-ingest);
// contactCreated is the type of the event a contact made for an inbound caller publishes.
// It returns the rows of the calls with new events, as they now stand; a call whose events
// were all applied before (duplicates) has none.
func (s *Store) IngestCallEvents(ctx context.Context, evs []CallEvent, contactCreated string) ([]IngestedCall, error) {
	n := len(evs)
	var (
		orgs, ranks, durations, contacts, leads, convs, campaigns = make([]int64, n), make([]int64, n), make([]int64, n),
			make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		costs = make([]float64, n)
		text  = make([][]string, 24) // the text columns, in the order of the statement's
	)
	for k := range text {
		text[k] = make([]string, n)
	}
	stamp := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	flag := func(b *bool) string {
		if b == nil {
			return ""
		}
		return strconv.FormatBool(*b)
	}
	for x, e := range evs {
		c := e.Call
		orgs[x], ranks[x], durations[x], costs[x] = c.OrgID, int64(c.EventRank), c.DurationMS, c.CostCents
		contacts[x], leads[x], convs[x], campaigns[x] = e.ContactID, e.LeadID, e.ConvID, e.CampaignID
		for k, v := range []string{c.CallID, e.Event, c.Direction, c.FromNumber, c.ToNumber, c.AgentID, c.AgentName, c.Status,
			c.DisconnectionReason, stamp(c.StartedAt), stamp(c.EndedAt), c.RecordingURL, c.Transcript,
			string(jsonOr(c.TranscriptObject, "[]")), c.Summary, c.Sentiment, flag(c.Successful), flag(c.InVoicemail),
			string(jsonOr(c.CustomAnalysis, "{}")), string(jsonOr(c.Metadata, "{}")), string(jsonOr(c.DynamicVariables, "{}")),
			e.OurNumber, e.TheirNumber, e.CallEventType} {
			text[k][x] = v
		}
	}
	a := func(k int) any { return pq.Array(text[k]) }
	var rows []struct {
		IngestedCall
		Announced int `db:"announced"`
	}
	err := s.sel(ctx, s.q.CallIngest, &rows, pq.Array(orgs), a(0), a(1), a(2), a(3), a(4), a(5), a(6), a(7), pq.Array(ranks), a(8),
		a(9), a(10), pq.Array(durations), a(11), a(12), a(13), a(14), a(15), a(16), a(17), a(18), pq.Array(costs), a(19), a(20),
		pq.Array(contacts), pq.Array(leads), pq.Array(convs), pq.Array(campaigns), a(21), a(22), a(23), contactCreated)
	if err != nil {
		return nil, fmt.Errorf("store: ingest call events: %w", err)
	}
	out := make([]IngestedCall, len(rows))
	for x, r := range rows {
		out[x] = r.IngestedCall
	}
	return out, nil
}

func jsonOr(b json.RawMessage, empty string) []byte {
	if len(b) == 0 || string(b) == "null" {
		return []byte(empty)
	}
	return b
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
