// Package analytics renders the analytics pages: the manager's dashboard and the metric
// definitions.
package analytics

import (
	"context"
	"strings"

	"masteria/app/i18n"
	"masteria/views/ui"
)

// DefinitionGroup is one family of metrics on the definitions page.
type DefinitionGroup struct {
	Family  string // its title is definitions.family.<Family>
	Metrics []Definition
}

// Definition is one metric as the definitions page shows it.
type Definition struct {
	Key   string
	Unit  string // count, ratio, seconds, cents
	Drill string // the list a click opens; "" for none
	Now   bool   // a figure of the present moment
	// NarrowedBy are the filters that change it (analytics.NarrowedBy); none: only the period.
	NarrowedBy []string
}

// narrowedText says which filters change a metric: "Narrowed by channel, agent and label".
func narrowedText(ctx context.Context, names []string) string {
	if len(names) == 0 {
		return ui.T(ctx, "definitions.narrowed_by_none")
	}
	return ui.T(ctx, "definitions.narrowed_by", "filters", FilterNames(ctx, names, "analytics.scope.and"))
}

// metricText is the metric's name or written definition in the reader's language; ok is
// false until it is written.
func metricText(ctx context.Context, key, part string) (string, bool) {
	k := "analytics.metric." + key + "." + part
	if !i18n.Has(ui.From(ctx).Locale, k) {
		return "", false
	}
	return ui.T(ctx, k), true
}

// metricName is the metric's name, or its key until the name is written.
func metricName(ctx context.Context, key string) string {
	if t, ok := metricText(ctx, key, "name"); ok {
		return t
	}
	return key
}

// anchor is the id of a metric on the page: a link to definitions#metric-messages-sent
// lands on it.
func anchor(key string) string {
	return "metric-" + strings.NewReplacer(".", "-", "_", "-").Replace(key)
}
