package web

import (
	"fmt"
	"testing"
	"time"
)

func TestNiceStep(t *testing.T) {
	for raw, want := range map[int64]int64{0: 1, 1: 1, 2: 2, 3: 5, 5: 5, 6: 10, 10: 10, 11: 20, 26: 50, 51: 100, 199: 200, 201: 500, 1001: 2000} {
		if got := niceStep(raw); got != want {
			t.Errorf("niceStep(%d) = %d, want %d", raw, got, want)
		}
	}
}

func TestLineChart(t *testing.T) {
	day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	days := []time.Time{day, day.AddDate(0, 0, 1), day.AddDate(0, 0, 2)}
	c := newLineChart(days, []seriesValues{{Name: "accepted", Label: "Accepted", Values: []int64{0, 7, 3}}})
	// 7 rounds up to 8 in steps of 2: 0, 2, 4, 6, 8 from the bottom up.
	var ticks []string
	for _, tk := range c.YTicks {
		ticks = append(ticks, fmt.Sprintf("%s@%v", tk.Label, tk.Pos))
	}
	if got := fmt.Sprint(ticks); got != "[0@246 2@188 4@130 6@72 8@14]" {
		t.Errorf("y ticks = %s", got)
	}
	s := c.Series[0]
	if s.Line != "64,246 382,43 700,159" {
		t.Errorf("line = %q", s.Line)
	}
	if p := s.Points[1]; p.Day != "2025-03-02" || p.Value != 7 {
		t.Errorf("point = %+v", p)
	}
	var xs []string
	for _, tk := range c.XTicks {
		xs = append(xs, fmt.Sprintf("%s/%s/%v", tk.Label, tk.Anchor, tk.Minor))
	}
	if got := fmt.Sprint(xs); got != "[Mar 1/start/false Mar 2/middle/true Mar 3/end/false]" {
		t.Errorf("x ticks = %s", got)
	}
}

func TestLineChartShapes(t *testing.T) {
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	// One day: the point is in the middle; nothing sent: the axis still
	// goes to 4.
	c := newLineChart([]time.Time{day}, []seriesValues{{Name: "failed", Values: []int64{0}}})
	if p := c.Series[0].Points[0]; p.X != 382 || p.Y != 246 || len(c.YTicks) != 5 || c.XTicks[0].Anchor != "middle" {
		t.Errorf("one empty day: point %+v, %d y ticks, x ticks %+v", p, len(c.YTicks), c.XTicks)
	}
	// 90 days: at most 7 dates under the axis, every 13th day.
	days := make([]time.Time, 90)
	values := make([]int64, 90)
	for i := range days {
		days[i], values[i] = day.AddDate(0, 0, i), int64(i*1000)
	}
	c = newLineChart(days, []seriesValues{{Name: "accepted", Values: values}})
	if len(c.XTicks) != 7 || c.XTicks[1].Label != "Jan 14" {
		t.Errorf("90 days: x ticks %+v", c.XTicks)
	}
	if top := c.YTicks[len(c.YTicks)-1]; top.Label != "100000" || len(c.YTicks) != 3 { // 89000 in steps of 50000
		t.Errorf("90 days: y ticks %+v", c.YTicks)
	}
}

// TestHistogram: every time in the range lands in one bar, the bars
// cover the range, and the step is the smallest that needs at most
// histogramBars bars.
func TestHistogram(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		span time.Duration
		step string
	}{{20 * time.Second, "second"}, {10 * time.Minute, "30 seconds"}, {2 * time.Hour, "5 minutes"}, {7 * 24 * time.Hour, "12 hours"}, {400 * 24 * time.Hour, "30 days"}} {
		to := from.Add(c.span)
		var times []time.Time
		for i := range 97 {
			times = append(times, from.Add(time.Duration(i)*c.span/97))
		}
		h := newHistogram(times, from, to)
		var sum int64
		for _, b := range h.Bars {
			sum += b.Count
			if b.H < 0 || b.Y+b.H > 100.01 {
				t.Errorf("span %v: bar %+v outside the plot", c.span, b)
			}
		}
		if sum != 97 || h.Step != c.step || len(h.Bars) > histogramBars+1 || h.Bars[0].Start.After(from) ||
			h.Bars[len(h.Bars)-1].Start.Add(h.Bars[1].Start.Sub(h.Bars[0].Start)).Before(to) {
			t.Errorf("span %v: %d bars of %s summing to %d from %v to %v, want %s summing to 97", c.span, len(h.Bars), h.Step, sum,
				h.Bars[0].Start, h.Bars[len(h.Bars)-1].Start, c.step)
		}
	}
}
