package analytics

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"masteria/app/analytics"
	"masteria/views/ui"
)

// The chart's drawing box, in SVG units; the SVG scales to the card's width.
const (
	chartW, chartH    = 640.0, 220.0
	padLeft, padRight = 64.0, 12.0
	padTop, padBottom = 12.0, 28.0
	plotW, plotH      = chartW - padLeft - padRight, chartH - padTop - padBottom
	maxXLabels        = 8
	barGap            = 0.2 // of a bucket's width
)

// Tick is a gridline of the value axis, or a label of the time axis.
type Tick struct {
	At    float64 // y (value axis) or x (time axis), in SVG units
	Label string
}

// Mark is one point of a chart: a bar, or a dot of a line.
type Mark struct {
	X, Y, W, H float64 // a bar's box; a dot's centre is (X, Y)
	Start      time.Time
	Value      string // the figure as the screen writes it
	Known      bool
	Title      string // the tooltip: "Nov 3, 2026: 12"
	Href       string // the drill-down of the bucket
}

// Chart is a series drawn: bars for counts and money, a line for rates and durations
// (an unknown bucket breaks the line instead of falling to zero).
type Chart struct {
	Metric string
	Line   bool
	YTicks []Tick
	XTicks []Tick
	Marks  []Mark
	Path   string // the line's path ("" for bars)
}

// NiceStep is a step of the value axis that reads well (1, 2, 2.5, 5 × 10ⁿ; minutes and
// hours for durations; whole numbers for counts) so that about n steps cover max.
func NiceStep(max float64, n int, u analytics.Unit) float64 {
	if max <= 0 || n <= 0 {
		return 1
	}
	raw := max / float64(n)
	if u == analytics.Seconds {
		for _, s := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400} {
			if s >= raw {
				return s
			}
		}
		return math.Ceil(raw/86400) * 86400
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		s := m * mag
		if s >= raw*(1-1e-9) {
			if (u == analytics.Count || u == analytics.Cents) && s < 1 {
				return 1
			}
			if u == analytics.Count && s != math.Trunc(s) {
				continue // 2.5 people is not a tick
			}
			return s
		}
	}
	return 10 * mag
}

// NewChart draws s under filter f (each point's drill-down narrows f to its bucket).
func NewChart(ctx context.Context, f analytics.Filter, s analytics.Series, currency string) Chart {
	l := ui.From(ctx).Locale
	c := Chart{Metric: s.Metric, Line: s.Unit == analytics.Ratio || s.Unit == analytics.Seconds}
	top := 0.0
	for _, p := range s.Points {
		if p.Known && p.Value > top {
			top = p.Value
		}
	}
	if s.Unit == analytics.Ratio && top == 0 {
		top = 1
	}
	step := NiceStep(top, 4, s.Unit)
	ymax := step * math.Max(1, math.Ceil(top/step-1e-9))
	y := func(v float64) float64 { return padTop + plotH - v/ymax*plotH }
	for v := 0.0; v <= ymax+step/2; v += step {
		c.YTicks = append(c.YTicks, Tick{At: y(v), Label: analytics.FormatValue(l, s.Unit, v, analytics.CurrencyOf(s.Metric, currency))})
	}
	n := len(s.Points)
	if n == 0 {
		return c
	}
	bw := plotW / float64(n)
	every := int(math.Ceil(float64(n) / maxXLabels))
	var path strings.Builder
	pen := false
	for i, p := range s.Points {
		x := padLeft + bw*float64(i)
		fig := analytics.Figure{Metric: s.Metric, Value: p.Value, Known: p.Known}
		m := Mark{Start: p.Start, Known: p.Known, Value: analytics.Format(l, s.Unit, fig, currency)}
		m.Title = BucketName(ctx, p.Start, s.Step) + ": " + m.Value
		m.Href = DrillURL(ctx, f.Narrow(s.Step, p.Start), s.Metric, "")
		if c.Line {
			m.X, m.Y = x+bw/2, y(p.Value)
			if p.Known {
				if pen {
					path.WriteString(" L")
				} else {
					path.WriteString(" M")
				}
				path.WriteString(num(m.X) + " " + num(m.Y))
			}
			pen = p.Known
		} else {
			v := p.Value
			if !p.Known {
				v = 0
			}
			m.X, m.W = x+bw*barGap/2, bw*(1-barGap)
			m.Y, m.H = y(v), padTop+plotH-y(v)
			if p.Known && v > 0 && m.H < 1 {
				m.Y, m.H = padTop+plotH-1, 1 // a small figure stays visible
			}
		}
		c.Marks = append(c.Marks, m)
		if i%every == 0 {
			c.XTicks = append(c.XTicks, Tick{At: x + bw/2, Label: BucketLabel(l, p.Start, s.Step)})
		}
	}
	c.Path = strings.TrimSpace(path.String())
	return c
}

// num writes an SVG coordinate with two decimals at most.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// hitBox is the focusable area of a point: its whole bucket's column, so a small bar or a
// dot is easy to hover and tap.
func (c Chart) hitBox(i int) (x, w float64) {
	bw := plotW / float64(len(c.Marks))
	return padLeft + bw*float64(i), bw
}

// funnelWidth is a step's bar, in percent of the first step's.
func funnelWidth(steps []analytics.Figure, i int) string {
	if len(steps) == 0 || !steps[0].Known || steps[0].Value <= 0 || !steps[i].Known {
		return "0"
	}
	return num(math.Min(100, steps[i].Value/steps[0].Value*100))
}

// StepRate is step i as a share of step i-1: "62.5%", or "—".
func StepRate(ctx context.Context, steps []analytics.Figure, i int) string {
	if i == 0 || !steps[i].Known || !steps[i-1].Known || steps[i-1].Value == 0 {
		return analytics.Unknown
	}
	return analytics.FormatValue(ui.From(ctx).Locale, analytics.Ratio, steps[i].Value/steps[i-1].Value, "")
}

// tableBar is a cell's bar, in percent of its column's largest value.
func tableBar(t analytics.Table, row, col int) string {
	top := 0.0
	for _, r := range t.Rows {
		if col < len(r.Figures) && r.Figures[col].Known {
			top = math.Max(top, r.Figures[col].Value)
		}
	}
	f := t.Rows[row].Figures[col]
	if top <= 0 || !f.Known {
		return "0"
	}
	return num(f.Value / top * 100)
}

// cell is figure col of row ("—" beyond the row's figures).
func cell(r analytics.Row, col int, metric string) analytics.Figure {
	if col < len(r.Figures) {
		f := r.Figures[col]
		f.Metric = metric
		return f
	}
	return analytics.Figure{Metric: metric}
}
