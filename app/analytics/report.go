package analytics

import "time"

// Figure is one metric's value. Known is false when there is nothing to measure (the
// median response time of a period without replies, a rate of zero sends): shown as "—",
// never as 0.
type Figure struct {
	Metric string  `json:"metric"`
	Value  float64 `json:"value"`
	Known  bool    `json:"known"`
	// IgnoredFilters are the filters in force that the figure does not follow (Ignored):
	// set on a figure that stands alone (the dashboard's figures of the present moment),
	// not on the figures of a card, a table or a funnel, which carry their own.
	IgnoredFilters []string `json:"ignored_filters,omitempty"`
}

// KPI is a figure of the period beside the same figure of the previous period.
type KPI struct {
	Metric   string `json:"metric"`
	Unit     Unit   `json:"unit"`
	Current  Figure `json:"current"`
	Previous Figure `json:"previous"`
	// IgnoredFilters are the filters in force that the card's figures do not follow.
	IgnoredFilters []string `json:"ignored_filters,omitempty"`
}

// Point is one bucket of a time series, starting at Start in the org's zone.
type Point struct {
	Start time.Time `json:"start"`
	Value float64   `json:"value"`
	Known bool      `json:"known"`
}

// Series is a metric over the period, bucket by bucket (an hour for a one-day period, a day
// up to 92 days, a week beyond): empty buckets are there with zero (or unknown for a rate
// or a median), so a chart never skips a day.
type Series struct {
	Metric string  `json:"metric"`
	Unit   Unit    `json:"unit"`
	Step   string  `json:"step"` // "hour", "day" or "week"
	Points []Point `json:"points"`
	// IgnoredFilters are the filters in force that the series does not follow.
	IgnoredFilters []string `json:"ignored_filters,omitempty"`
}

// Row is one line of a table: what it is about (an agent, a channel, a stage…) and its
// figures, in the table's Columns order.
type Row struct {
	Key     string   `json:"key"`
	Label   string   `json:"label"`
	Figures []Figure `json:"figures"`
}

// Table is a breakdown: Columns are metric keys; Total, when the table has one, is the
// period's figure for each column (a median is the median of everything, not of the rows).
type Table struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Rows    []Row    `json:"rows"`
	Total   *Row     `json:"total,omitempty"`
	// IgnoredFilters are the filters in force that the table does not follow (TableIgnores).
	IgnoredFilters []string `json:"ignored_filters,omitempty"`
}

// Funnel is a sequence of counts, each a subset of the one before.
type Funnel struct {
	Name  string   `json:"name"`
	Steps []Figure `json:"steps"`
	// IgnoredFilters are the filters in force that the funnel does not follow (FunnelIgnores).
	IgnoredFilters []string `json:"ignored_filters,omitempty"`
}

// DrillItem is one row behind a figure: a conversation, a message, a lead, a recipient, an
// enrolment or a call, with the link that opens it in the app.
type DrillItem struct {
	ID     int64     `json:"id"`
	Title  string    `json:"title"`
	Detail string    `json:"detail"`
	At     time.Time `json:"at"`
	// Value is the row's own part of the figure when it has one (a response time, a lead's
	// value); zero otherwise.
	Value float64 `json:"value,omitempty"`
	Path  string  `json:"path"` // the page in the app, below the org's base URL
}

// DrillPage is one page of the list behind a figure. Total is how many rows the whole list
// has: for a count it equals the figure clicked.
type DrillPage struct {
	Metric string      `json:"metric"`
	Kind   Drill       `json:"kind"`
	Total  int64       `json:"total"`
	Items  []DrillItem `json:"items"`
	Next   string      `json:"next,omitempty"`
	// IgnoredFilters are the filters in force that the figure (and so its list) does not follow.
	IgnoredFilters []string `json:"ignored_filters,omitempty"`
}
