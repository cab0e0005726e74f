package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// analyticsCRMQueries are the metric engine's leads, campaigns and cadences rollups and
// reads (queries/analytics_crm.sql).
type analyticsCRMQueries struct {
	AnalyticsLeadsClear       *sqlx.Stmt `query:"analytics-leads-clear"`
	AnalyticsLeadsCompute     *sqlx.Stmt `query:"analytics-leads-compute"`
	AnalyticsLeadsCounts      *sqlx.Stmt `query:"analytics-leads-counts"`
	AnalyticsLeadsStages      *sqlx.Stmt `query:"analytics-leads-stages"`
	AnalyticsLeadsFunnel      *sqlx.Stmt `query:"analytics-leads-funnel"`
	AnalyticsFirstPipeline    *sqlx.Stmt `query:"analytics-first-pipeline"`
	AnalyticsPipelineStages   *sqlx.Stmt `query:"analytics-pipeline-stages"`
	AnalyticsCampaignsClear   *sqlx.Stmt `query:"analytics-campaigns-clear"`
	AnalyticsCampaignsCompute *sqlx.Stmt `query:"analytics-campaigns-compute"`
	AnalyticsCampaignsCounts  *sqlx.Stmt `query:"analytics-campaigns-counts"`
	AnalyticsCadencesClear    *sqlx.Stmt `query:"analytics-cadences-clear"`
	AnalyticsCadencesCompute  *sqlx.Stmt `query:"analytics-cadences-compute"`
	AnalyticsCadencesCounts   *sqlx.Stmt `query:"analytics-cadences-counts"`
	AnalyticsCallsBuckets     *sqlx.Stmt `query:"analytics-calls-buckets"`
	AnalyticsLeadsDrill       *sqlx.Stmt `query:"analytics-leads-drill"`
	AnalyticsCampaignsDrill   *sqlx.Stmt `query:"analytics-campaigns-drill"`
	AnalyticsCadencesDrill    *sqlx.Stmt `query:"analytics-cadences-drill"`
	AnalyticsCallsDrill       *sqlx.Stmt `query:"analytics-calls-drill"`
}

// timeArray is a list of instants as a Postgres timestamptz[] parameter.
func timeArray(ts []time.Time) any {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.UTC().Format(time.RFC3339Nano)
	}
	return pq.Array(out)
}

// Period is [From, To) cut into buckets starting at Buckets (the first is From); a figure
// of the whole period has one bucket.
type Period struct {
	From, To time.Time
	Buckets  []time.Time
}

func (p Period) buckets() any {
	if len(p.Buckets) == 0 {
		return timeArray([]time.Time{p.From})
	}
	return timeArray(p.Buckets)
}

// RecomputeLeadEntries works out again the stage entries of leads ids (a lead gone loses
// its entries).
func (s *Store) RecomputeLeadEntries(ctx context.Context, orgID int64, ids []int64) error {
	if _, err := s.exec(ctx, s.q.AnalyticsLeadsClear, orgID, pq.Array(ids)); err != nil {
		return fmt.Errorf("store: clear lead entries: %w", err)
	}
	if _, err := s.exec(ctx, s.q.AnalyticsLeadsCompute, orgID, pq.Array(ids)); err != nil {
		return fmt.Errorf("store: compute lead entries: %w", err)
	}
	return nil
}

// LeadCounts are a bucket's leads figures (Bucket counts from 1).
type LeadCounts struct {
	Bucket   int   `db:"bucket"`
	Created  int64 `db:"created"`
	Won      int64 `db:"won"`
	Lost     int64 `db:"lost"`
	WonValue int64 `db:"won_value"`
}

// LeadsCounts are the leads figures of the period's buckets that have any (pipeline and
// owner 0: all).
func (s *Store) LeadsCounts(ctx context.Context, orgID int64, p Period, pipelineID, ownerID int64) ([]LeadCounts, error) {
	var out []LeadCounts
	if err := s.sel(ctx, s.q.AnalyticsLeadsCounts, &out, orgID, p.From, p.To, p.buckets(), pipelineID, ownerID); err != nil {
		return nil, fmt.Errorf("store: leads counts: %w", err)
	}
	return out, nil
}

// StageCounts are the leads that entered a stage in a bucket and, of those, the leads that
// later moved on (a later stage of the pipeline, or won).
type StageCounts struct {
	Bucket  int   `db:"bucket"`
	StageID int64 `db:"stage_id"`
	Entered int64 `db:"entered"`
	MovedOn int64 `db:"moved_on"`
}

// LeadsStages are the stage figures of pipelineID's stages over the period's buckets.
func (s *Store) LeadsStages(ctx context.Context, orgID int64, p Period, pipelineID, ownerID int64) ([]StageCounts, error) {
	var out []StageCounts
	if err := s.sel(ctx, s.q.AnalyticsLeadsStages, &out, orgID, p.From, p.To, pipelineID, p.buckets(), ownerID); err != nil {
		return nil, fmt.Errorf("store: leads stages: %w", err)
	}
	return out, nil
}

// LeadsFunnel are the leads created in [from, to), those of them that got past their
// pipeline's first stage, and those won.
type LeadsFunnel struct {
	Created   int64 `db:"created"`
	PastFirst int64 `db:"past_first"`
	Won       int64 `db:"won"`
}

// LeadsFunnel is the leads funnel of [from, to).
func (s *Store) LeadsFunnel(ctx context.Context, orgID int64, from, to time.Time, pipelineID, ownerID int64) (LeadsFunnel, error) {
	var out LeadsFunnel
	if err := s.get(ctx, s.q.AnalyticsLeadsFunnel, &out, orgID, from, to, pipelineID, ownerID); err != nil {
		return LeadsFunnel{}, fmt.Errorf("store: leads funnel: %w", err)
	}
	return out, nil
}

// FirstPipeline is the org's first pipeline (0 when it has none).
func (s *Store) FirstPipeline(ctx context.Context, orgID int64) (int64, error) {
	var id int64
	err := s.stmt(ctx, s.q.AnalyticsFirstPipeline).GetContext(ctx, &id, orgID)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: first pipeline: %w", err)
	}
	return id, nil
}

// StageRef is a stage as a table row names it.
type StageRef struct {
	ID      int64  `db:"id"`
	Name    string `db:"name"`
	Outcome string `db:"outcome"`
}

// PipelineStages are the stages of a pipeline of the org, in order (none for another
// org's pipeline).
func (s *Store) PipelineStages(ctx context.Context, orgID, pipelineID int64) ([]StageRef, error) {
	var out []StageRef
	if err := s.sel(ctx, s.q.AnalyticsPipelineStages, &out, orgID, pipelineID); err != nil {
		return nil, fmt.Errorf("store: pipeline stages: %w", err)
	}
	return out, nil
}

// RecomputeCampaignFunnels works out again the funnels of campaigns ids (one not launched,
// or gone, has none).
func (s *Store) RecomputeCampaignFunnels(ctx context.Context, orgID int64, ids []int64) error {
	if _, err := s.exec(ctx, s.q.AnalyticsCampaignsClear, orgID, pq.Array(ids)); err != nil {
		return fmt.Errorf("store: clear campaign funnels: %w", err)
	}
	if _, err := s.exec(ctx, s.q.AnalyticsCampaignsCompute, orgID, pq.Array(ids)); err != nil {
		return fmt.Errorf("store: compute campaign funnels: %w", err)
	}
	return nil
}

// CampaignCounts is a campaign funnel: of a bucket (Bucket from 1) or of one campaign
// (Key, Label).
type CampaignCounts struct {
	Bucket    int    `db:"bucket"`
	Key       int64  `db:"key"`
	Label     string `db:"label"`
	Sent      int64  `db:"sent"`
	Delivered int64  `db:"delivered"`
	Read      int64  `db:"read"`
	Replied   int64  `db:"replied"`
	Lead      int64  `db:"lead"`
	Won       int64  `db:"won"`
}

// CampaignsCounts are the funnels of the campaigns launched in the period: per bucket, or
// per campaign (the latest launched first) when perCampaign.
func (s *Store) CampaignsCounts(ctx context.Context, orgID int64, p Period, campaignID, channelID int64, perCampaign bool) ([]CampaignCounts, error) {
	var out []CampaignCounts
	if err := s.sel(ctx, s.q.AnalyticsCampaignsCounts, &out, orgID, p.From, p.To, p.buckets(), campaignID, channelID, perCampaign); err != nil {
		return nil, fmt.Errorf("store: campaigns counts: %w", err)
	}
	return out, nil
}

// RecomputeCadenceHours works out again the local hours of zone that start at hours, or
// every hour of the org (and drops other zones' rows) when hours is nil.
func (s *Store) RecomputeCadenceHours(ctx context.Context, orgID int64, zone string, hours []time.Time) error {
	var arr any
	var lo, hi time.Time
	if hours != nil {
		arr = timeArray(hours)
		lo, hi = hours[0], hours[0]
		for _, h := range hours {
			if h.Before(lo) {
				lo = h
			}
			if h.After(hi) {
				hi = h
			}
		}
		hi = hi.Add(time.Hour)
	}
	if _, err := s.exec(ctx, s.q.AnalyticsCadencesClear, orgID, zone, arr); err != nil {
		return fmt.Errorf("store: clear cadence hours: %w", err)
	}
	if _, err := s.exec(ctx, s.q.AnalyticsCadencesCompute, orgID, zone, arr, lo, hi); err != nil {
		return fmt.Errorf("store: compute cadence hours: %w", err)
	}
	return nil
}

// CadenceCounts is a cadence funnel: of a bucket or of one cadence (Key, Label).
type CadenceCounts struct {
	Bucket    int    `db:"bucket"`
	Key       int64  `db:"key"`
	Label     string `db:"label"`
	Enrolled  int64  `db:"enrolled"`
	Replied   int64  `db:"replied"`
	Completed int64  `db:"completed"`
	Exited    int64  `db:"exited"`
}

// CadencesCounts are the funnels of the enrolments that began in the period (rows of zone
// only): per bucket, or per cadence when perCadence.
func (s *Store) CadencesCounts(ctx context.Context, orgID int64, zone string, p Period, perCadence bool) ([]CadenceCounts, error) {
	var out []CadenceCounts
	if err := s.sel(ctx, s.q.AnalyticsCadencesCounts, &out, orgID, zone, p.From, p.To, p.buckets(), perCadence); err != nil {
		return nil, fmt.Errorf("store: cadences counts: %w", err)
	}
	return out, nil
}

// CallBucket are the calls figures of a bucket, counted as the voice analytics counts them.
type CallBucket struct {
	Bucket     int     `db:"bucket"`
	Calls      int64   `db:"calls"`
	Answered   int64   `db:"answered"`
	DurationMS int64   `db:"duration_ms"`
	Successful int64   `db:"successful"`
	CostCents  float64 `db:"cost_cents"`
}

// CallsBuckets are the calls figures of the period's buckets worked out from the calls (a
// short period's hours; days come from the voice analytics' daily figures).
func (s *Store) CallsBuckets(ctx context.Context, orgID int64, p Period, campaignID int64) ([]CallBucket, error) {
	var out []CallBucket
	if err := s.sel(ctx, s.q.AnalyticsCallsBuckets, &out, orgID, p.From, p.To, p.buckets(), campaignID); err != nil {
		return nil, fmt.Errorf("store: calls buckets: %w", err)
	}
	return out, nil
}

// DrillCursor is where a drill-down page starts: after the row of (At, ID, Sub) in the
// list's order (newest first).
type DrillCursor struct {
	At      time.Time
	ID, Sub int64
}

// DrillRow is one row behind a figure: ID (and Sub, for a list of pairs) identify it; At
// orders it; Shown is the moment it shows; Ref and Ref2 are what its link opens (a
// campaign, a conversation, a contact…), by list.
type DrillRow struct {
	ID     int64     `db:"id"`
	Sub    int64     `db:"sub"`
	At     time.Time `db:"at"`
	Shown  time.Time `db:"shown"`
	Title  string    `db:"title"`
	Detail string    `db:"detail"`
	Value  float64   `db:"value"`
	Ref    int64     `db:"ref"`
	Ref2   int64     `db:"ref2"`
}

// DrillQuery says which rows a drill lists: List is "leads", "campaigns", "cadences" or
// "calls"; What the figure's rule (see each list's query); A, B and C its narrowing ids
// (0: all).
type DrillQuery struct {
	List    string
	What    any
	A, B, C int64
}

// AnalyticsDrill is one page of the rows behind a figure of [from, to), and how many rows
// the whole list has.
func (s *Store) AnalyticsDrill(ctx context.Context, orgID int64, from, to time.Time, q DrillQuery, after *DrillCursor, limit int) (int64, []DrillRow, error) {
	st := map[string]*sqlx.Stmt{"leads": s.q.AnalyticsLeadsDrill, "campaigns": s.q.AnalyticsCampaignsDrill,
		"cadences": s.q.AnalyticsCadencesDrill, "calls": s.q.AnalyticsCallsDrill}[q.List]
	if st == nil {
		return 0, nil, fmt.Errorf("store: no drill-down of %q", q.List)
	}
	var at sql.NullTime
	var id, sub int64
	if after != nil {
		at, id, sub = sql.NullTime{Time: after.At, Valid: true}, after.ID, after.Sub
	}
	var raw []struct {
		Total  int64           `db:"total"`
		ID     sql.NullInt64   `db:"id"`
		Sub    sql.NullInt64   `db:"sub"`
		At     sql.NullTime    `db:"at"`
		Shown  sql.NullTime    `db:"shown"`
		Title  sql.NullString  `db:"title"`
		Detail sql.NullString  `db:"detail"`
		Value  sql.NullFloat64 `db:"value"`
		Ref    sql.NullInt64   `db:"ref"`
		Ref2   sql.NullInt64   `db:"ref2"`
	}
	if err := s.sel(ctx, st, &raw, orgID, from, to, q.What, q.A, q.B, at, id, sub, limit, q.C); err != nil {
		return 0, nil, fmt.Errorf("store: drill %s: %w", q.List, err)
	}
	var total int64
	var out []DrillRow
	for _, r := range raw {
		total = r.Total
		if !r.ID.Valid {
			continue
		}
		out = append(out, DrillRow{ID: r.ID.Int64, Sub: r.Sub.Int64, At: r.At.Time, Shown: r.Shown.Time, Title: r.Title.String,
			Detail: r.Detail.String, Value: r.Value.Float64, Ref: r.Ref.Int64, Ref2: r.Ref2.Int64})
	}
	return total, out, nil
}
