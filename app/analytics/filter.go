package analytics

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"masteria/app/model"
)

// Presets are the periods a person picks without typing dates, in the order the page shows.
var Presets = []string{"today", "yesterday", "7d", "30d", "90d", "this_month", "last_month"}

// DefaultPreset is the period of a dashboard opened without one.
const DefaultPreset = "30d"

// MaxDays is the longest period a report covers.
const MaxDays = 366

// Filter is what a dashboard, an export, a drill-down or an API call asks for: a period and
// the filters that narrow it. A zero id means "all".
type Filter struct {
	Preset     string // one of Presets, or "custom" with From and To
	From, To   time.Time
	Zone       *time.Location
	ChannelID  int64
	AgentID    int64
	CampaignID int64
	PipelineID int64
	Label      string
	// BusinessHours measures response and resolution times in the org's business hours
	// only (the clock stops outside them).
	BusinessHours bool
	// InHour narrows a one-day period to one hour of it, Hour (0–23, in the org's zone):
	// a point of a day's hourly chart opens the rows of its hour. From and To are then that
	// hour's bounds.
	InHour bool
	Hour   int
}

// Days is the number of days of the period.
func (f Filter) Days() int {
	return int(f.To.Sub(f.From).Round(time.Hour).Hours() / 24)
}

// Previous is the same filter over the period of the same length just before.
func (f Filter) Previous() Filter {
	p := f
	p.Preset = "custom"
	p.To = f.From
	p.From = startOfDay(f.From.AddDate(0, 0, -f.Days()), f.Zone)
	return p
}

// Query is the filter as URL parameters, the same that ParseFilter reads: links from the
// dashboard to a drill-down or an export carry the filter this way.
func (f Filter) Query() url.Values {
	q := url.Values{}
	switch {
	case f.Preset != "" && f.Preset != "custom":
		q.Set("period", f.Preset)
	case f.InHour:
		day := f.From.Format(time.DateOnly)
		q.Set("from", day)
		q.Set("to", day)
	default:
		q.Set("from", f.From.Format(time.DateOnly))
		q.Set("to", f.To.AddDate(0, 0, -1).Format(time.DateOnly))
	}
	setID := func(k string, id int64) {
		if id != 0 {
			q.Set(k, strconv.FormatInt(id, 10))
		}
	}
	setID("channel", f.ChannelID)
	setID("agent", f.AgentID)
	setID("campaign", f.CampaignID)
	setID("pipeline", f.PipelineID)
	if f.Label != "" {
		q.Set("label", f.Label)
	}
	if f.BusinessHours {
		q.Set("hours", "business")
	}
	if f.InHour {
		q.Set("hour", strconv.Itoa(f.Hour))
	}
	return q
}

// filterParams are the parameters ParseFilter reads; callers that take more (a metric, a
// cursor) add theirs before refusing the unknown ones.
var filterParams = []string{"period", "from", "to", "channel", "agent", "campaign", "pipeline", "label", "hours", "hour"}

// FilterParams tells whether name is a parameter of the filter.
func FilterParams(name string) bool {
	for _, p := range filterParams {
		if p == name {
			return true
		}
	}
	return false
}

// ParseFilter reads a filter from URL parameters in the org's zone: period= one of
// Presets, or from= and to= (YYYY-MM-DD, both days included); channel=, agent=, campaign=,
// pipeline= ids; label=; hours=business; hour= (0–23) narrows a one-day period to that
// hour. Bad values are field errors (model.ErrInvalid),
// never a silent default; a missing period is DefaultPreset.
func ParseFilter(q url.Values, zone string, now time.Time) (Filter, error) {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	f := Filter{Zone: loc}
	period, from, to := q.Get("period"), q.Get("from"), q.Get("to")
	switch {
	case from != "" || to != "":
		if period != "" && period != "custom" {
			return Filter{}, model.FieldError("period", "analytics.error.period_and_dates")
		}
		first, err1 := time.ParseInLocation(time.DateOnly, from, loc)
		last, err2 := time.ParseInLocation(time.DateOnly, to, loc)
		if err1 != nil {
			return Filter{}, model.FieldError("from", "analytics.error.date")
		}
		if err2 != nil {
			return Filter{}, model.FieldError("to", "analytics.error.date")
		}
		if last.Before(first) {
			return Filter{}, model.FieldError("to", "analytics.error.period_order")
		}
		f.Preset, f.From, f.To = "custom", first, last.AddDate(0, 0, 1)
	default:
		if period == "" {
			period = DefaultPreset
		}
		var ok bool
		if f.From, f.To, ok = presetPeriod(period, now.In(loc)); !ok {
			return Filter{}, model.FieldError("period", "analytics.error.period")
		}
		f.Preset = period
	}
	if f.Days() > MaxDays {
		return Filter{}, model.FieldError("from", "analytics.error.period_long")
	}
	ids := []struct {
		name string
		to   *int64
	}{{"channel", &f.ChannelID}, {"agent", &f.AgentID}, {"campaign", &f.CampaignID}, {"pipeline", &f.PipelineID}}
	for _, p := range ids {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return Filter{}, model.FieldError(p.name, "analytics.error.id")
		}
		*p.to = id
	}
	if f.Label = strings.TrimSpace(q.Get("label")); len(f.Label) > 64 || strings.ContainsRune(f.Label, 0) || !utf8.ValidString(f.Label) {
		return Filter{}, model.FieldError("label", "analytics.error.label")
	}
	switch q.Get("hours") {
	case "", "all":
	case "business":
		f.BusinessHours = true
	default:
		return Filter{}, model.FieldError("hours", "analytics.error.hours")
	}
	if v := q.Get("hour"); v != "" {
		h, err := strconv.Atoi(v)
		if err != nil || h < 0 || h > 23 || len(v) > 2 {
			return Filter{}, model.FieldError("hour", "analytics.error.hour")
		}
		if f.Days() != 1 {
			return Filter{}, model.FieldError("hour", "analytics.error.hour_day")
		}
		// The hour's bucket as the series counts it: h hours after the day's start.
		f.InHour, f.Hour = true, h
		f.From = f.From.Add(time.Duration(h) * time.Hour)
		f.To = f.From.Add(time.Hour)
	}
	return f, nil
}

// presetPeriod is the [from, to) of a preset at now (in the org's zone).
func presetPeriod(preset string, now time.Time) (from, to time.Time, ok bool) {
	today := startOfDay(now, now.Location())
	tomorrow := today.AddDate(0, 0, 1)
	switch preset {
	case "today":
		return today, tomorrow, true
	case "yesterday":
		return today.AddDate(0, 0, -1), today, true
	case "7d":
		return today.AddDate(0, 0, -6), tomorrow, true
	case "30d":
		return today.AddDate(0, 0, -29), tomorrow, true
	case "90d":
		return today.AddDate(0, 0, -89), tomorrow, true
	case "this_month":
		first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
		return first, first.AddDate(0, 1, 0), true
	case "last_month":
		first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
		return first.AddDate(0, -1, 0), first, true
	}
	return time.Time{}, time.Time{}, false
}

func startOfDay(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// String is the filter for logs and errors.
func (f Filter) String() string {
	return fmt.Sprintf("%s..%s %s", f.From.Format(time.DateOnly), f.To.Format(time.DateOnly), f.Query().Encode())
}

// Narrow is the filter over one bucket of its series (step "hour", "day" or "week", the
// bucket starting at start): the drill-down of a chart's point. A week is cut at the
// period's end; an hour is the hour of a one-day period.
func (f Filter) Narrow(step string, start time.Time) Filter {
	n := f
	n.Preset = "custom"
	switch step {
	case "hour":
		day := startOfDay(start, f.Zone)
		if f.InHour {
			day = startOfDay(f.From, f.Zone)
		}
		n.InHour, n.Hour = true, int(start.Sub(day).Round(time.Hour).Hours())
		n.From, n.To = start, start.Add(time.Hour)
	case "week":
		n.InHour = false
		n.From, n.To = start, start.AddDate(0, 0, 7)
		if n.To.After(f.To) {
			n.To = f.To
		}
	default:
		n.InHour = false
		n.From, n.To = start, start.AddDate(0, 0, 1)
	}
	return n
}
