package analytics

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"masteria/app/model"
	"masteria/app/store"
)

// The leads family: the board's leads, counted from their entries into stages
// (analytics_lead_entries, one row per lead and stage it entered, its creation included).
//
//   - leads.created: leads created in the period.
//   - leads.won, leads.lost: leads that entered a stage whose outcome is won (lost) in the
//     period, by their moves; a lead created right in a won stage counts. A lead counts once
//     however many times it entered such a stage in the period; a lead created before the
//     period and won in it counts.
//   - leads.won_value: the sum of the values (as they are now) of the leads won.
//   - leads.win_rate: won / (won + lost), unknown without either.
//   - leads.stage_conversion: over the open stages of a pipeline (the filter's, or the org's
//     first), the leads that entered a stage in the period, and of those the leads that
//     later (at any time) entered an open stage after it in the pipeline's order, or a won
//     stage (a lost stage is no step forward).
//
// The pipeline filter keeps entries into stages of that pipeline; the agent filter keeps
// leads owned by that member.
type leadsFamily struct{ st *store.Store }

// leadsNarrows are the filters the leads family follows: the pipeline and the lead's owner.
var leadsNarrows = []string{FilterAgent, FilterPipeline}

// leadsRollup keeps analytics_lead_entries: its marks are lead ids.
type leadsRollup struct{}

func (leadsRollup) Kind() string { return "crm.leads" }

func (leadsRollup) Recompute(ctx context.Context, tx *store.Store, orgID int64, _ *time.Location, marks []Mark) error {
	if ids := crmKeys(marks); len(ids) > 0 {
		return tx.RecomputeLeadEntries(ctx, orgID, ids)
	}
	return nil
}

func newLeads(s *Service) {
	s.register("leads", leadsFamily{st: s.st})
	s.addRollup(leadsRollup{})
}

// crmKeys are the positive keys of marks, once each.
func crmKeys(marks []Mark) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, m := range marks {
		if m.Key > 0 && !seen[m.Key] {
			seen[m.Key] = true
			out = append(out, m.Key)
		}
	}
	return out
}

// crmPeriod is the filter's period in the buckets of step ("" for one bucket: the figure).
func crmPeriod(f Filter, step string) store.Period {
	p := store.Period{From: f.From, To: f.To}
	if step != "" {
		p.Buckets = buckets(f, step)
	}
	return p
}

func crmCount(v int64) Figure { return Figure{Value: float64(v), Known: true} }

func crmRatio(n, d int64) Figure {
	if d == 0 {
		return Figure{}
	}
	return Figure{Value: float64(n) / float64(d), Known: true}
}

// crmSeries is key over the buckets of step, each bucket's figure from at (buckets count
// from 1; a bucket without rows gets at's answer for nothing).
func crmSeries(f Filter, key, step string, at func(bucket int) Figure) Series {
	d, _ := DefinitionOf(key)
	s := Series{Metric: key, Unit: d.Unit, Step: step, Points: []Point{}}
	for i, b := range buckets(f, step) {
		fig := at(i + 1)
		s.Points = append(s.Points, Point{Start: b, Value: fig.Value, Known: fig.Known})
	}
	return s
}

func leadsFigure(key string, c store.LeadCounts, conv [2]int64) Figure {
	switch key {
	case "leads.created":
		return crmCount(c.Created)
	case "leads.won":
		return crmCount(c.Won)
	case "leads.lost":
		return crmCount(c.Lost)
	case "leads.won_value":
		return crmCount(c.WonValue)
	case "leads.win_rate":
		return crmRatio(c.Won, c.Won+c.Lost)
	case "leads.stage_conversion":
		return crmRatio(conv[1], conv[0])
	}
	return Figure{}
}

// pipeline is the pipeline of the stage figures: the filter's, or the org's first.
func (l leadsFamily) pipeline(ctx context.Context, orgID int64, f Filter) (int64, error) {
	if f.PipelineID != 0 {
		return f.PipelineID, nil
	}
	return l.st.FirstPipeline(ctx, orgID)
}

// stageRows are the pipeline's stages and their entered / moved-on counts per bucket.
func (l leadsFamily) stageRows(ctx context.Context, orgID int64, f Filter, step string) ([]store.StageRef, []store.StageCounts, error) {
	pid, err := l.pipeline(ctx, orgID, f)
	if err != nil || pid == 0 {
		return nil, nil, err
	}
	stages, err := l.st.PipelineStages(ctx, orgID, pid)
	if err != nil {
		return nil, nil, err
	}
	rows, err := l.st.LeadsStages(ctx, orgID, crmPeriod(f, step), pid, f.AgentID)
	return stages, rows, err
}

// conversion is, per bucket, the leads that entered an open stage and those that moved on.
func (l leadsFamily) conversion(ctx context.Context, orgID int64, f Filter, step string) (map[int][2]int64, error) {
	stages, rows, err := l.stageRows(ctx, orgID, f, step)
	if err != nil {
		return nil, err
	}
	open := map[int64]bool{}
	for _, s := range stages {
		open[s.ID] = s.Outcome == "open"
	}
	out := map[int][2]int64{}
	for _, r := range rows {
		if open[r.StageID] {
			c := out[r.Bucket]
			out[r.Bucket] = [2]int64{c[0] + r.Entered, c[1] + r.MovedOn}
		}
	}
	return out, nil
}

func (l leadsFamily) counts(ctx context.Context, orgID int64, f Filter, keys []string, step string) (map[int]store.LeadCounts, map[int][2]int64, error) {
	byBucket := map[int]store.LeadCounts{}
	var conv map[int][2]int64
	var needCounts, needConv bool
	for _, k := range keys {
		needConv = needConv || k == "leads.stage_conversion"
		needCounts = needCounts || k != "leads.stage_conversion"
	}
	if needConv {
		var err error
		if conv, err = l.conversion(ctx, orgID, f, step); err != nil {
			return nil, nil, err
		}
	}
	if needCounts {
		rows, err := l.st.LeadsCounts(ctx, orgID, crmPeriod(f, step), f.PipelineID, f.AgentID)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range rows {
			byBucket[r.Bucket] = r
		}
	}
	return byBucket, conv, nil
}

func (l leadsFamily) figures(ctx context.Context, orgID int64, f Filter, keys []string) (map[string]Figure, error) {
	byBucket, conv, err := l.counts(ctx, orgID, f, keys, "")
	if err != nil {
		return nil, err
	}
	out := map[string]Figure{}
	for _, k := range keys {
		out[k] = leadsFigure(k, byBucket[1], conv[1])
	}
	return out, nil
}

func (l leadsFamily) series(ctx context.Context, orgID int64, f Filter, key, step string) (Series, error) {
	byBucket, conv, err := l.counts(ctx, orgID, f, []string{key}, step)
	if err != nil {
		return Series{}, err
	}
	return crmSeries(f, key, step, func(b int) Figure { return leadsFigure(key, byBucket[b], conv[b]) }), nil
}

// table "stages": per stage of the pipeline, the leads that entered it in the period, those
// of them that moved on, and the conversion (unknown for a won or lost stage: the road ends
// there). The total is the pipeline's leads.stage_conversion.
func (l leadsFamily) table(ctx context.Context, orgID int64, f Filter, name string) (Table, error) {
	if name != "stages" {
		return Table{}, model.FieldError("table", "analytics.error.table")
	}
	t := Table{Columns: []string{"stage.entered", "stage.moved_on", "leads.stage_conversion"}, Rows: []Row{}}
	stages, rows, err := l.stageRows(ctx, orgID, f, "")
	if err != nil {
		return Table{}, err
	}
	by := map[int64]store.StageCounts{}
	for _, r := range rows {
		by[r.StageID] = r
	}
	var entered, moved int64
	for _, s := range stages {
		c := by[s.ID]
		// A won or lost stage ends the road: nothing moves on from it.
		on, conv := Figure{}, Figure{}
		if s.Outcome == "open" {
			on, conv = crmCount(c.MovedOn), crmRatio(c.MovedOn, c.Entered)
			entered, moved = entered+c.Entered, moved+c.MovedOn
		}
		t.Rows = append(t.Rows, Row{Key: strconv.FormatInt(s.ID, 10), Label: s.Name,
			Figures: []Figure{crmCount(c.Entered), on, conv}})
	}
	t.Total = &Row{Key: "", Figures: []Figure{crmCount(entered), crmCount(moved), crmRatio(moved, entered)}}
	for i, c := range t.Columns {
		for j := range t.Rows {
			t.Rows[j].Figures[i].Metric = c
		}
		t.Total.Figures[i].Metric = c
	}
	return t, nil
}

// funnel "leads": the leads created in the period → those that were ever in an open stage
// after the first of their pipeline, or won → those ever won.
func (l leadsFamily) funnel(ctx context.Context, orgID int64, f Filter, name string) (Funnel, error) {
	if name != "leads" {
		return Funnel{}, model.FieldError("funnel", "analytics.error.funnel")
	}
	c, err := l.st.LeadsFunnel(ctx, orgID, f.From, f.To, f.PipelineID, f.AgentID)
	if err != nil {
		return Funnel{}, err
	}
	steps := []Figure{crmCount(c.Created), crmCount(c.PastFirst), crmCount(c.Won)}
	for i, k := range []string{"leads.created", "leads.past_first_stage", "leads.won_of_created"} {
		steps[i].Metric = k
	}
	return Funnel{Steps: steps}, nil
}

// drill lists the leads behind a figure: leads.created the leads created, leads.won and
// leads.won_value the leads won (Value: the lead's value), leads.lost the leads lost,
// leads.win_rate the leads won or lost; leads.stage_conversion each lead and open stage of
// the pipeline it entered (row: one stage; Value 1 when it moved on).
func (l leadsFamily) drill(ctx context.Context, orgID int64, f Filter, key, row, after string, limit int) (DrillPage, error) {
	stage, err := crmRowID(row)
	if err != nil {
		return DrillPage{}, err
	}
	q := store.DrillQuery{List: "leads", A: f.PipelineID, B: f.AgentID}
	switch key {
	case "leads.created":
		q.What = "created"
	case "leads.won", "leads.won_value":
		q.What = "won"
	case "leads.lost":
		q.What = "lost"
	case "leads.win_rate":
		q.What = "decided"
	case "leads.stage_conversion":
		q.What, q.C = "stage", stage
		if q.A, err = l.pipeline(ctx, orgID, f); err != nil {
			return DrillPage{}, err
		}
	}
	if stage != 0 && q.What != "stage" {
		return DrillPage{}, model.FieldError("row", "analytics.error.row")
	}
	return crmDrill(ctx, l.st, orgID, f, q, after, limit, func(r store.DrillRow) DrillItem {
		it := DrillItem{ID: r.ID, Title: r.Title, Detail: r.Detail, At: r.Shown, Path: "/board/leads/" + strconv.FormatInt(r.ID, 10)}
		if key == "leads.won_value" || key == "leads.stage_conversion" {
			it.Value = r.Value
		}
		return it
	})
}

// crmRowID is a drill's row: the id of a table's row ("" for the whole figure).
func crmRowID(row string) (int64, error) {
	if row == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(row, 10, 64)
	if err != nil || id <= 0 {
		return 0, model.FieldError("row", "analytics.error.row")
	}
	return id, nil
}

// A drill's cursor is the last row's place in the list's order, opaque to the client.
func crmCursor(r store.DrillRow) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%d.%d", r.At.UnixMicro(), r.ID, r.Sub))
}

func crmParseCursor(after string) (*store.DrillCursor, error) {
	if after == "" {
		return nil, nil
	}
	bad := model.FieldError("after", "analytics.error.cursor")
	b, err := base64.RawURLEncoding.DecodeString(after)
	if err != nil || len(after) > 100 {
		return nil, bad
	}
	parts := strings.Split(string(b), ".")
	if len(parts) != 3 {
		return nil, bad
	}
	var n [3]int64
	for i, p := range parts {
		if n[i], err = strconv.ParseInt(p, 10, 64); err != nil {
			return nil, bad
		}
	}
	return &store.DrillCursor{At: time.UnixMicro(n[0]), ID: n[1], Sub: n[2]}, nil
}

// crmDrill is one page of a drill query, each row made an item by item.
func crmDrill(ctx context.Context, st *store.Store, orgID int64, f Filter, q store.DrillQuery, after string, limit int,
	item func(store.DrillRow) DrillItem) (DrillPage, error) {
	cur, err := crmParseCursor(after)
	if err != nil {
		return DrillPage{}, err
	}
	// One row more than the page tells whether another page follows.
	total, rows, err := st.AnalyticsDrill(ctx, orgID, f.From, f.To, q, cur, limit+1)
	if err != nil {
		return DrillPage{}, err
	}
	page := DrillPage{Total: total, Items: []DrillItem{}}
	if len(rows) > limit {
		rows = rows[:limit]
		page.Next = crmCursor(rows[len(rows)-1])
	}
	for _, r := range rows {
		it := item(r)
		if it.Title == "" {
			it.Title = "#" + strconv.FormatInt(r.ID, 10)
		}
		page.Items = append(page.Items, it)
	}
	return page, nil
}
