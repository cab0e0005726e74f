package analytics

import (
	"math"
	"strconv"
	"strings"

	"masteria/app/i18n"
)

// Unknown is how a figure with nothing to measure is written.
const Unknown = "—"

// Format writes a figure the way the dashboard shows it; its CSV exports write the very same
// text, so a figure in a file reads exactly as on the screen: counts with the locale's
// thousands separator, ratios as a percentage with one decimal, durations as "3 min 20 s"
// or "1 h 05 min", cents as money in currency ("BRL", "USD"…; the metric's own when it has
// one), "—" when unknown.
func Format(l i18n.Locale, u Unit, f Figure, currency string) string {
	if !f.Known {
		return Unknown
	}
	return FormatValue(l, u, f.Value, CurrencyOf(f.Metric, currency))
}

// FormatValue is Format of a known value.
func FormatValue(l i18n.Locale, u Unit, v float64, currency string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Unknown
	}
	switch u {
	case Ratio:
		return decimal(l, v*100, 1) + "%"
	case Seconds:
		return FormatDuration(int64(math.Round(v)))
	case Cents:
		return Money(l, int64(math.Round(v)), currency)
	}
	return i18n.FormatInt(l, int64(math.Round(v)))
}

// FormatDuration writes seconds for people: "45 s", "3 min 20 s", "1 h 05 min".
func FormatDuration(s int64) string {
	sign := ""
	if s < 0 {
		sign, s = "−", -s
	}
	switch {
	case s < 60:
		return sign + strconv.FormatInt(s, 10) + " s"
	case s < 3600:
		out := sign + strconv.FormatInt(s/60, 10) + " min"
		if s%60 != 0 {
			out += " " + strconv.FormatInt(s%60, 10) + " s"
		}
		return out
	}
	m := (s + 30) / 60 // to the nearest minute
	return sign + strconv.FormatInt(m/60, 10) + " h " + pad2(m%60) + " min"
}

func pad2(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

// currencySymbols are the symbols of the currencies a pipeline may be in; another code is
// written as itself ("CHF 12.00").
var currencySymbols = map[string]string{"BRL": "R$", "USD": "US$", "EUR": "€", "GBP": "£"}

// Money writes cents in currency: "R$ 1.234,56" in Portuguese, "R$1,234.56" in English
// (currency "" is the Brazilian real).
func Money(l i18n.Locale, cents int64, currency string) string {
	if currency == "" {
		currency = "BRL"
	}
	sym, ok := currencySymbols[currency]
	if !ok {
		sym = currency + " "
	} else if l == i18n.PTBR {
		sym += " "
	}
	sign := ""
	if cents < 0 {
		sign, cents = "−", -cents
	}
	whole := i18n.FormatInt(l, cents/100)
	sep := "."
	if l == i18n.PTBR {
		sep = ","
	}
	return sign + sym + whole + sep + pad2(cents%100)
}

// decimal writes v with digits decimals and the locale's decimal mark, and a true minus sign
// (a spreadsheet reads "-" at the start of a cell as a formula).
func decimal(l i18n.Locale, v float64, digits int) string {
	s := strconv.FormatFloat(v, 'f', digits, 64)
	if strings.Trim(s, "-0.") == "" {
		s = strings.TrimPrefix(s, "-") // no "-0.0"
	}
	s = strings.Replace(s, "-", "−", 1)
	if l == i18n.PTBR {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// Change is the change of a KPI against the previous period, as a fraction (0.25 is 25%
// more); ok is false when either period is unknown or the previous one is zero (no
// percentage of nothing).
func Change(k KPI) (float64, bool) {
	if !k.Current.Known || !k.Previous.Known || k.Previous.Value == 0 {
		return 0, false
	}
	return (k.Current.Value - k.Previous.Value) / math.Abs(k.Previous.Value), true
}

// FormatChange writes a change as the dashboard shows it: "+12.5%", "−3.0%", "0.0%"; "—"
// when there is none (ok false).
func FormatChange(l i18n.Locale, change float64, ok bool) string {
	if !ok {
		return Unknown
	}
	s := decimal(l, change*100, 1)
	if !strings.HasPrefix(s, "−") && strings.Trim(s, "0.,") != "" {
		s = "+" + s
	}
	return s + "%"
}

// lowerIsBetter are the metrics whose rise is bad news: a dashboard shows their rise in red.
var lowerIsBetter = map[string]bool{
	"messages.failed": true, "messages.failure_rate": true,
	"response.first_median": true, "response.first_p90": true,
	"resolution.median": true, "resolution.p90": true,
	"conversations.waiting": true, "conversations.unassigned": true,
	"ai.handovers": true, "ai.cost": true, "ai.cost_per_resolved": true,
	"leads.lost": true, "cadence.exited": true, "calls.cost": true,
}

// LowerIsBetter tells whether a fall of the metric is good news (response time).
func LowerIsBetter(metric string) bool { return lowerIsBetter[metric] }

// Trend is how a KPI moved, for its arrow and colour: "up" or "down" (or "flat", or "" when
// unknown), and good tells whether that is good news for this metric.
func Trend(k KPI) (dir string, good bool) {
	c, ok := Change(k)
	switch {
	case !ok:
		return "", false
	case FormatChange(i18n.EN, c, true) == "0.0%":
		return "flat", true
	case c > 0:
		return "up", !LowerIsBetter(k.Metric)
	default:
		return "down", LowerIsBetter(k.Metric)
	}
}
