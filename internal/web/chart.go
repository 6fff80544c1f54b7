package web

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// A line chart drawn on the server as inline SVG: no script, no remote
// asset, and the same numbers are in the page's table for screen readers
// and for anyone who prefers reading them. Lines differ in colour and in
// dash pattern (app.css), so they can be told apart without colour.

// Chart geometry in SVG user units; the SVG scales to its box.
const (
	chartW, chartH        = 720.0, 280.0
	chartLeft, chartRight = 64.0, 700.0
	chartTop, chartBottom = 14.0, 246.0
	// chartYSteps is about how many steps the y axis has.
	chartYSteps = 4
	// chartXLabels is the most dates under the x axis.
	chartXLabels = 7
)

// chartTick is a labelled position on an axis. Anchor is the label's
// text-anchor: the first and last dates end at the plot's edges. Minor
// labels are left out on narrow screens (every other date).
type chartTick struct {
	Pos           float64
	Label, Anchor string
	Minor         bool
}

// chartPoint is one value of a series.
type chartPoint struct {
	X, Y  float64
	Day   string // 2006-01-02
	Value int64
}

// chartSeries is one line: Name is its CSS class suffix (s-<name>).
type chartSeries struct {
	Name, Label string
	Points      []chartPoint
	// Line is the polyline's points attribute.
	Line string
}

// lineChart is what the chart template draws.
type lineChart struct {
	Width, Height            float64
	Left, Right, Top, Bottom float64
	XLabelY, YLabelX         float64
	YTicks, XTicks           []chartTick
	Series                   []chartSeries
}

// seriesValues are one series' values, one per day.
type seriesValues struct {
	Name, Label string
	Values      []int64
}

// newLineChart lays out series over days (every series has one value per
// day). The y axis starts at 0 and ends at a round number above the
// largest value.
func newLineChart(days []time.Time, series []seriesValues) lineChart {
	return newLineChartAt(days, series, "Jan 2", time.DateOnly)
}

// newLineChartAt is newLineChart for buckets of any size: the x axis
// labels them with label, the points name them with key (layouts of
// time.Format).
func newLineChartAt(days []time.Time, series []seriesValues, label, key string) lineChart {
	c := lineChart{Width: chartW, Height: chartH, Left: chartLeft, Right: chartRight, Top: chartTop, Bottom: chartBottom,
		XLabelY: chartBottom + 22, YLabelX: chartLeft - 8}
	var top int64
	for _, s := range series {
		for _, v := range s.Values {
			top = max(top, v)
		}
	}
	top = max(top, chartYSteps)
	step := niceStep((top + chartYSteps - 1) / chartYSteps)
	top = step * ((top + step - 1) / step)
	y := func(v int64) float64 { return round1(chartBottom - float64(v)/float64(top)*(chartBottom-chartTop)) }
	for v := int64(0); v <= top; v += step {
		c.YTicks = append(c.YTicks, chartTick{Pos: y(v), Label: strconv.FormatInt(v, 10)})
	}
	x := func(i int) float64 {
		if len(days) < 2 {
			return round1((chartLeft + chartRight) / 2)
		}
		return round1(chartLeft + float64(i)*(chartRight-chartLeft)/float64(len(days)-1))
	}
	every := (len(days) + chartXLabels - 1) / chartXLabels
	for i, d := range days {
		if i%every != 0 {
			continue
		}
		anchor := "middle"
		switch {
		case len(days) < 2:
		case i == 0:
			anchor = "start"
		case i == len(days)-1:
			anchor = "end"
		}
		c.XTicks = append(c.XTicks, chartTick{Pos: x(i), Label: d.Format(label), Anchor: anchor, Minor: len(c.XTicks)%2 == 1})
	}
	for _, s := range series {
		cs := chartSeries{Name: s.Name, Label: s.Label}
		var line []string
		for i, v := range s.Values {
			p := chartPoint{X: x(i), Y: y(v), Day: days[i].Format(key), Value: v}
			cs.Points = append(cs.Points, p)
			line = append(line, strconv.FormatFloat(p.X, 'f', -1, 64)+","+strconv.FormatFloat(p.Y, 'f', -1, 64))
		}
		cs.Line = strings.Join(line, " ")
		c.Series = append(c.Series, cs)
	}
	return c
}

// niceStep is the smallest of 1, 2, 5 × 10ⁿ that is at least raw (and at
// least 1: counts are whole).
func niceStep(raw int64) int64 {
	if raw <= 1 {
		return 1
	}
	mag := int64(math.Pow(10, math.Floor(math.Log10(float64(raw)))))
	for _, m := range []int64{1, 2, 5, 10} {
		if m*mag >= raw {
			return m * mag
		}
	}
	return 10 * mag
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
