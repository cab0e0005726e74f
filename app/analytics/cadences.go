package analytics

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"masteria/app/model"
	"masteria/app/store"
)

// The cadences family: the enrolments that began in the period, by how they stand now
// (analytics_cadence_hours, per local hour of the org's zone and cadence).
//
//   - cadence.enrolled: enrolments that began in the period.
//   - cadence.replied: of those, the ones that ended because the contact replied.
//   - cadence.completed: of those, the ones that went through every step.
//   - cadence.exited: of those, the ones that ended early for another reason (opt-out, a
//     stage change, the goal reached, removed by hand, the cadence archived…).
//
// The funnel is enrolled → replied → completed, both counted among the enrolled: an
// enrolment that replied left the cadence, so the last two are apart, not nested.
type cadencesFamily struct{ st *store.Store }

// cadencesNarrows are the filters the cadences family follows: none (an enrolment has no
// channel, owner, campaign, pipeline or label of its own).
var cadencesNarrows = []string{}

// cadencesRollup keeps analytics_cadence_hours: its marks carry the UTC hour of the
// enrolments written; key -1 (a change of the org's zone) rebuilds the org.
type cadencesRollup struct{}

func (cadencesRollup) Kind() string { return "crm.cadences" }

// localHour is the start of the local hour of zone that t is in.
func localHour(t time.Time, zone *time.Location) time.Time {
	lt := t.In(zone)
	return t.Add(-time.Duration(lt.Minute())*time.Minute - time.Duration(lt.Second())*time.Second -
		time.Duration(lt.Nanosecond()))
}

func (cadencesRollup) Recompute(ctx context.Context, tx *store.Store, orgID int64, zone *time.Location, marks []Mark) error {
	seen := map[time.Time]bool{}
	var hours []time.Time
	for _, m := range marks {
		if m.Key < 0 {
			return tx.RecomputeCadenceHours(ctx, orgID, zone.String(), nil)
		}
		if m.At.IsZero() {
			continue
		}
		// A UTC hour overlaps one local hour, or two in a zone half an hour off.
		for _, h := range []time.Time{localHour(m.At, zone), localHour(m.At.Add(time.Hour-time.Nanosecond), zone)} {
			if !seen[h] {
				seen[h] = true
				hours = append(hours, h)
			}
		}
	}
	if len(hours) == 0 {
		return nil
	}
	sort.Slice(hours, func(i, j int) bool { return hours[i].Before(hours[j]) })
	return tx.RecomputeCadenceHours(ctx, orgID, zone.String(), hours)
}

func newCadences(s *Service) {
	s.register("cadences", cadencesFamily{st: s.st})
	s.addRollup(cadencesRollup{})
}

var cadenceSteps = []string{"cadence.enrolled", "cadence.replied", "cadence.completed", "cadence.exited"}

func cadenceFigure(key string, c store.CadenceCounts) Figure {
	switch key {
	case "cadence.enrolled":
		return crmCount(c.Enrolled)
	case "cadence.replied":
		return crmCount(c.Replied)
	case "cadence.completed":
		return crmCount(c.Completed)
	case "cadence.exited":
		return crmCount(c.Exited)
	}
	return Figure{}
}

// crmZone is the filter's zone (UTC for a filter built without one).
func crmZone(f Filter) *time.Location {
	if f.Zone == nil {
		return time.UTC
	}
	return f.Zone
}

func zoneName(f Filter) string { return crmZone(f).String() }

func (c cadencesFamily) byBucket(ctx context.Context, orgID int64, f Filter, step string) (map[int]store.CadenceCounts, error) {
	rows, err := c.st.CadencesCounts(ctx, orgID, zoneName(f), crmPeriod(f, step), false)
	if err != nil {
		return nil, err
	}
	out := map[int]store.CadenceCounts{}
	for _, r := range rows {
		out[r.Bucket] = r
	}
	return out, nil
}

func (c cadencesFamily) figures(ctx context.Context, orgID int64, f Filter, keys []string) (map[string]Figure, error) {
	by, err := c.byBucket(ctx, orgID, f, "")
	if err != nil {
		return nil, err
	}
	out := map[string]Figure{}
	for _, k := range keys {
		out[k] = cadenceFigure(k, by[1])
	}
	return out, nil
}

func (c cadencesFamily) series(ctx context.Context, orgID int64, f Filter, key, step string) (Series, error) {
	by, err := c.byBucket(ctx, orgID, f, step)
	if err != nil {
		return Series{}, err
	}
	return crmSeries(f, key, step, func(b int) Figure { return cadenceFigure(key, by[b]) }), nil
}

func cadenceRow(key, label string, c store.CadenceCounts, steps []string) Row {
	r := Row{Key: key, Label: label}
	for _, k := range steps {
		fig := cadenceFigure(k, c)
		fig.Metric = k
		r.Figures = append(r.Figures, fig)
	}
	return r
}

// table "cadences": one row per cadence with enrolments that began in the period (the
// most enrolled first); the total is the period's.
func (c cadencesFamily) table(ctx context.Context, orgID int64, f Filter, name string) (Table, error) {
	if name != "cadences" {
		return Table{}, model.FieldError("table", "analytics.error.table")
	}
	rows, err := c.st.CadencesCounts(ctx, orgID, zoneName(f), crmPeriod(f, ""), true)
	if err != nil {
		return Table{}, err
	}
	t := Table{Columns: cadenceSteps, Rows: []Row{}}
	var total store.CadenceCounts
	for _, r := range rows {
		t.Rows = append(t.Rows, cadenceRow(strconv.FormatInt(r.Key, 10), r.Label, r, cadenceSteps))
		total.Enrolled += r.Enrolled
		total.Replied += r.Replied
		total.Completed += r.Completed
		total.Exited += r.Exited
	}
	tr := cadenceRow("", "", total, cadenceSteps)
	t.Total = &tr
	return t, nil
}

// funnel "cadence": enrolled → replied → completed.
func (c cadencesFamily) funnel(ctx context.Context, orgID int64, f Filter, name string) (Funnel, error) {
	if name != "cadence" {
		return Funnel{}, model.FieldError("funnel", "analytics.error.funnel")
	}
	by, err := c.byBucket(ctx, orgID, f, "")
	if err != nil {
		return Funnel{}, err
	}
	return Funnel{Steps: cadenceRow("", "", by[1], cadenceSteps[:3]).Figures}, nil
}

// drill lists the enrolments behind a cadence figure (row: one cadence); each links to the
// enrolment's timeline.
func (c cadencesFamily) drill(ctx context.Context, orgID int64, f Filter, key, row, after string, limit int) (DrillPage, error) {
	id, err := crmRowID(row)
	if err != nil {
		return DrillPage{}, err
	}
	q := store.DrillQuery{List: "cadences", What: strings.TrimPrefix(key, "cadence."), A: id}
	return crmDrill(ctx, c.st, orgID, f, q, after, limit, func(r store.DrillRow) DrillItem {
		return DrillItem{ID: r.ID, Title: r.Title, Detail: r.Detail, At: r.Shown, Path: "/enrolments/" + strconv.FormatInt(r.ID, 10)}
	})
}
