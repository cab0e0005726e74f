package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// analyticsConversationQueries are the queries of the metric engine's conversations family
// (queries/analytics_conversations.sql).
type analyticsConversationQueries struct {
	AnalyticsCaseConversations *sqlx.Stmt `query:"analytics-case-conversations"`
	AnalyticsCaseMessages      *sqlx.Stmt `query:"analytics-case-messages"`
	AnalyticsCaseLog           *sqlx.Stmt `query:"analytics-case-log"`
	AnalyticsCasesDelete       *sqlx.Stmt `query:"analytics-cases-delete"`
	AnalyticsCasesInsert       *sqlx.Stmt `query:"analytics-cases-insert"`
	AnalyticsCaseBuckets       *sqlx.Stmt `query:"analytics-case-buckets"`
	AnalyticsConversationsNow  *sqlx.Stmt `query:"analytics-conversations-now"`
	AnalyticsCasesMarkAll      *sqlx.Stmt `query:"analytics-cases-mark-all"`
	AnalyticsCasesOrphans      *sqlx.Stmt `query:"analytics-cases-orphans-delete"`
}

// CaseConversation is a conversation whose cases are worked out again.
type CaseConversation struct {
	ID         int64          `db:"id"`
	ChannelID  int64          `db:"channel_id"`
	AssigneeID int64          `db:"assignee_id"`
	Labels     pq.StringArray `db:"labels"`
}

// CaseMessage is a message of a conversation as cases see it.
type CaseMessage struct {
	ConversationID int64     `db:"conversation_id"`
	ID             int64     `db:"id"`
	Direction      string    `db:"direction"`
	Source         string    `db:"source"` // person, bot, campaign, cadence, other, inbound
	CreatedAt      time.Time `db:"created_at"`
}

// CaseLogEntry is a change of a conversation's status, owner or assignee.
type CaseLogEntry struct {
	ConversationID int64     `db:"conversation_id"`
	At             time.Time `db:"at"`
	Status         string    `db:"status"`
	Owner          string    `db:"owner"`
	AssigneeID     int64     `db:"assignee_id"`
	OldStatus      string    `db:"old_status"`
	OldOwner       string    `db:"old_owner"`
}

// CaseSources are what the cases of conversations are made of: the conversations (all of
// the org's when ids is empty), their messages and their log, each in order.
func (s *Store) CaseSources(ctx context.Context, orgID int64, ids []int64) ([]CaseConversation, []CaseMessage, []CaseLogEntry, error) {
	var convs []CaseConversation
	if err := s.sel(ctx, s.q.AnalyticsCaseConversations, &convs, orgID, pq.Array(ids)); err != nil {
		return nil, nil, nil, fmt.Errorf("store: case conversations: %w", err)
	}
	if len(convs) == 0 {
		return nil, nil, nil, nil
	}
	found := make([]int64, len(convs))
	for i, c := range convs {
		found[i] = c.ID
	}
	var msgs []CaseMessage
	if err := s.sel(ctx, s.q.AnalyticsCaseMessages, &msgs, orgID, pq.Array(found)); err != nil {
		return nil, nil, nil, fmt.Errorf("store: case messages: %w", err)
	}
	var log []CaseLogEntry
	if err := s.sel(ctx, s.q.AnalyticsCaseLog, &log, orgID, pq.Array(found)); err != nil {
		return nil, nil, nil, fmt.Errorf("store: case log: %w", err)
	}
	return convs, msgs, log, nil
}

// MarkAllCases marks every conversation of the org for its cases to be worked out again,
// and drops the cases of conversations that are gone.
func (s *Store) MarkAllCases(ctx context.Context, orgID int64) error {
	if _, err := s.stmt(ctx, s.q.AnalyticsCasesOrphans).ExecContext(ctx, orgID); err != nil {
		return fmt.Errorf("store: drop orphan cases: %w", err)
	}
	if _, err := s.stmt(ctx, s.q.AnalyticsCasesMarkAll).ExecContext(ctx, orgID); err != nil {
		return fmt.Errorf("store: mark every case: %w", err)
	}
	return nil
}

// Case is one case of a conversation: from a customer's message that found no case open to
// the close that ended it.
type Case struct {
	ConversationID  int64
	StartedAt       time.Time
	ChannelID       int64
	AssigneeID      int64
	FirstReplyAt    *time.Time
	FirstResponseS  *int
	FirstResponseBS *int
	ResolvedAt      *time.Time
	ResolutionS     *int
	ResolutionBS    *int
	BotReplied      bool
	PersonReplies   int
	HandoverAt      *time.Time
}

// ReplaceCases replaces the cases of conversations ids (every conversation of the org when
// ids is empty) by cases.
func (s *Store) ReplaceCases(ctx context.Context, orgID int64, ids []int64, cases []Case) error {
	if _, err := s.exec(ctx, s.q.AnalyticsCasesDelete, orgID, pq.Array(ids)); err != nil {
		return fmt.Errorf("store: replace cases: %w", err)
	}
	if len(cases) == 0 {
		return nil
	}
	n := len(cases)
	conv, ch, as, persons := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	started := make([]time.Time, n)
	reply, resolved, handover := make([]sql.NullTime, n), make([]sql.NullTime, n), make([]sql.NullTime, n)
	fr, frb, rs, rsb := make([]sql.NullInt64, n), make([]sql.NullInt64, n), make([]sql.NullInt64, n), make([]sql.NullInt64, n)
	bot := make([]bool, n)
	nt := func(t *time.Time) sql.NullTime {
		if t == nil {
			return sql.NullTime{}
		}
		return sql.NullTime{Time: *t, Valid: true}
	}
	ni := func(v *int) sql.NullInt64 {
		if v == nil {
			return sql.NullInt64{}
		}
		return sql.NullInt64{Int64: int64(*v), Valid: true}
	}
	for i, c := range cases {
		conv[i], started[i], ch[i], as[i] = c.ConversationID, c.StartedAt, c.ChannelID, c.AssigneeID
		reply[i], resolved[i], handover[i] = nt(c.FirstReplyAt), nt(c.ResolvedAt), nt(c.HandoverAt)
		fr[i], frb[i], rs[i], rsb[i] = ni(c.FirstResponseS), ni(c.FirstResponseBS), ni(c.ResolutionS), ni(c.ResolutionBS)
		bot[i], persons[i] = c.BotReplied, int64(c.PersonReplies)
	}
	if _, err := s.exec(ctx, s.q.AnalyticsCasesInsert, orgID, pq.Array(conv), pq.Array(started), pq.Array(ch), pq.Array(as),
		nullTimes(reply), nullInts(fr), nullInts(frb), nullTimes(resolved), nullInts(rs), nullInts(rsb), pq.Array(bot),
		pq.Array(persons), nullTimes(handover)); err != nil {
		return fmt.Errorf("store: replace cases: %w", err)
	}
	return nil
}

// nullTimes is a timestamptz[] with NULLs, as PostgreSQL's array text reads it.
func nullTimes(ts []sql.NullTime) any {
	out := make([]sql.NullString, len(ts))
	for i, t := range ts {
		if t.Valid {
			out[i] = sql.NullString{String: t.Time.UTC().Format(time.RFC3339Nano), Valid: true}
		}
	}
	return pq.Array(out)
}

func nullInts(vs []sql.NullInt64) any { return pq.Array(vs) }

// CaseBucket is the cases of one bucket of a period counted by one of their moments (By:
// "start", "resolved" or "handover"), for one assignee when asked (-1 otherwise).
type CaseBucket struct {
	By               string          `db:"by"`
	Bucket           int             `db:"bucket"`
	AssigneeID       int64           `db:"assignee_id"`
	N                int64           `db:"n"`
	Bot              int64           `db:"bot"` // start: the bot replied; resolved: the bot resolved
	Responded        int64           `db:"responded"`
	Within           int64           `db:"within"`
	FirstMedian      sql.NullFloat64 `db:"first_median"`
	FirstP90         sql.NullFloat64 `db:"first_p90"`
	ResolutionMedian sql.NullFloat64 `db:"resolution_median"`
	ResolutionP90    sql.NullFloat64 `db:"resolution_p90"`
}

// CaseBuckets are the period's case figures by bucket (starts, the first at f.From), per
// assignee when byAssignee.
func (s *Store) CaseBuckets(ctx context.Context, orgID int64, f AnalyticsFilter, starts []time.Time, byAssignee bool) ([]CaseBucket, error) {
	var out []CaseBucket
	if err := s.sel(ctx, s.q.AnalyticsCaseBuckets, &out, orgID, f.From, f.To, f.ChannelID, f.AgentID, f.Label, f.CampaignID,
		f.Business, f.TargetS, pq.Array(starts), byAssignee); err != nil {
		return nil, fmt.Errorf("store: case buckets: %w", err)
	}
	return out, nil
}

// ConversationsNow are the open conversations now, those whose customer waits and those
// with nobody on them.
type ConversationsNow struct {
	Open       int64 `db:"open"`
	Waiting    int64 `db:"waiting"`
	Unassigned int64 `db:"unassigned"`
}

// ConversationsNowOf counts the open conversations the filter narrows to (its period aside).
func (s *Store) ConversationsNowOf(ctx context.Context, orgID int64, f AnalyticsFilter) (ConversationsNow, error) {
	var out ConversationsNow
	if err := s.get(ctx, s.q.AnalyticsConversationsNow, &out, orgID, f.ChannelID, f.AgentID, f.Label, f.CampaignID); err != nil {
		return out, fmt.Errorf("store: conversations now: %w", err)
	}
	return out, nil
}

// CaseDrillRow is one case (or, for a figure of the present moment, one open conversation)
// behind a figure.
type CaseDrillRow struct {
	ConversationID  int64         `db:"conversation_id"`
	StartedAt       *time.Time    `db:"started_at"`
	ResolvedAt      *time.Time    `db:"resolved_at"`
	HandoverAt      *time.Time    `db:"handover_at"`
	LastMessageAt   *time.Time    `db:"last_message_at"`
	FirstResponseS  sql.NullInt64 `db:"first_response_s"`
	FirstResponseBS sql.NullInt64 `db:"first_response_bs"`
	ResolutionS     sql.NullInt64 `db:"resolution_s"`
	ResolutionBS    sql.NullInt64 `db:"resolution_bs"`
	ContactName     string        `db:"contact_name"`
}

// CaseDrill is one page of the cases behind a figure: at is the column that places a case
// in the period (started_at, resolved_at or handover_at) and where the figure's own
// predicate over the case a, both fixed in code; the page starts after (at, conversation).
func (s *Store) CaseDrill(ctx context.Context, orgID int64, f AnalyticsFilter, at, where string, afterAt time.Time, afterID int64, limit int) ([]CaseDrillRow, int64, error) {
	narrow := func(b *builder) {
		b.where("a."+at+" >= ? AND a."+at+" < ?", f.From, f.To)
		if where != "" {
			b.where(where)
		}
		narrowConversations(b, "a", "a.conversation_id", f)
	}
	cb := newBuilder(s.fragment("analytics-case-drill-count"), orgID)
	narrow(cb)
	var total int64
	if err := sqlx.GetContext(ctx, s.queryer(), &total, cb.String(), cb.args...); err != nil {
		return nil, 0, fmt.Errorf("store: case drill: %w", err)
	}
	b := newBuilder(s.fragment("analytics-case-drill"), orgID)
	narrow(b)
	if afterID != 0 {
		b.where("(a."+at+", a.conversation_id) > (?, ?)", afterAt, afterID)
	}
	b.add(" ", "ORDER BY a."+at+", a.conversation_id LIMIT ?", limit)
	var out []CaseDrillRow
	if err := sqlx.SelectContext(ctx, s.queryer(), &out, b.String(), b.args...); err != nil {
		return nil, 0, fmt.Errorf("store: case drill: %w", err)
	}
	return out, total, nil
}

// narrowConversations adds the filter's channel, agent, label and campaign to b, over rows
// of alias (a case or a conversation: both carry channel_id, assignee_id and labels) whose
// conversation id is conv.
func narrowConversations(b *builder, alias, conv string, f AnalyticsFilter) {
	if f.ChannelID != 0 {
		b.where(alias+".channel_id = ?", f.ChannelID)
	}
	if f.AgentID != 0 {
		b.where(alias+".assignee_id = ?", f.AgentID)
	}
	if f.Label != "" {
		b.where(alias+".labels @> ARRAY[?::text]", f.Label)
	}
	if f.CampaignID != 0 {
		b.where(conv+` IN (SELECT m.conversation_id FROM campaign_recipients r
			JOIN messages m ON m.id = r.message_id AND m.org_id = r.org_id WHERE r.org_id = `+alias+`.org_id AND r.campaign_id = ?)`, f.CampaignID)
	}
}

// OpenDrill is one page of the open conversations behind a figure of the present moment
// (where: the figure's predicate over the conversation v, fixed in code), by id.
func (s *Store) OpenDrill(ctx context.Context, orgID int64, f AnalyticsFilter, where string, afterID int64, limit int) ([]CaseDrillRow, int64, error) {
	narrow := func(b *builder) {
		if where != "" {
			b.where(where)
		}
		narrowConversations(b, "v", "v.id", f)
	}
	cb := newBuilder(s.fragment("analytics-conversation-drill-count"), orgID)
	narrow(cb)
	var total int64
	if err := sqlx.GetContext(ctx, s.queryer(), &total, cb.String(), cb.args...); err != nil {
		return nil, 0, fmt.Errorf("store: open drill: %w", err)
	}
	b := newBuilder(s.fragment("analytics-conversation-drill"), orgID)
	narrow(b)
	if afterID != 0 {
		b.where("v.id > ?", afterID)
	}
	b.add(" ", "ORDER BY v.id LIMIT ?", limit)
	var out []CaseDrillRow
	if err := sqlx.SelectContext(ctx, s.queryer(), &out, b.String(), b.args...); err != nil {
		return nil, 0, fmt.Errorf("store: open drill: %w", err)
	}
	return out, total, nil
}
