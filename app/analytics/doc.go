// Package analytics is the one metric engine: every figure the dashboard, its CSV exports,
// its drill-down lists and GET /api/v1/analytics/... show comes from here, so they agree.
//
// Each metric has a written definition (Definitions, shown on the definitions page and in
// the README). Figures are read from rollups kept up to date by River jobs, never from a
// scan of the raw tables per request; a drill-down lists the rows behind one figure with the
// same rules the rollup counted them with, so the list adds up to the number clicked.
//
// Periods are days in the org's time zone: a period is [From, To) in that zone, and the
// previous period is the one of the same length just before it.
package analytics
