package web

import (
	"strconv"
	"time"

	"github.com/salvo-email/salvo/internal/delivery"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/stats"
	"github.com/salvo-email/salvo/internal/store"
)

// The Overview at /dashboard/: what every domain of this region sent in
// the last 24 hours and 7 days (the counters GET /v3/stats/total reads,
// through stats.Total), with delivery, failure, open, click, complaint and
// unsubscribe rates; a chart of the 7 days; what waits in the queue
// (delivery.QueueStatus); and the domains whose DNS records are not
// verified yet.

// overviewEvents are the counted events the Overview shows.
var overviewEvents = []string{"accepted", "delivered", "failed", "opened", "clicked", "complained", "unsubscribed"}

// overviewMaxDomains bounds the domains the Overview reads.
const overviewMaxDomains = 1 << 20

// periodCounts are one period's counts and rates.
type periodCounts struct {
	Label                               string
	Accepted, Delivered                 int64
	Failed, FailedTemporary, FailedPerm int64
	Opened, Clicked                     int64
	Complained, Unsubscribed            int64
	DeliveredRate, FailedRate, OpenRate string
	ClickRate, ComplainRate, UnsubRate  string
}

type overviewData struct {
	Periods   []periodCounts
	Chart     lineChart
	Waiting   int
	Due       int
	InFlight  int
	Down      int
	Attention []store.Domain
	Domains   int
}

func (s *Server) overviewPage(rq *request) error {
	ctx := rq.r.Context()
	doms, total, err := s.Domains.AccountList(ctx, rq.tenant.Owner(), 0, overviewMaxDomains)
	if err != nil {
		return err
	}
	d := overviewData{Domains: total}
	names := make([]string, len(doms))
	for i, dom := range doms {
		names[i] = dom.Name
		if dom.State != store.DomainActive {
			d.Attention = append(d.Attention, dom)
		}
	}
	now := s.Now().UTC()
	hour := now.Truncate(time.Hour)
	today := store.BucketStart(now, store.Daily)
	day := stats.Range{Start: hour.Add(-23 * time.Hour), End: hour, Resolution: stats.Hour}
	week := stats.Range{Start: today.AddDate(0, 0, -6), End: today, Resolution: stats.Day}
	for _, p := range []struct {
		label string
		r     stats.Range
	}{{"Last 24 hours", day}, {"Last 7 days", week}} {
		t, err := stats.Total(ctx, s.Regional, p.r, names, nil, overviewEvents)
		if err != nil {
			return err
		}
		d.Periods = append(d.Periods, periodOf(p.label, t))
		if p.r.Resolution == stats.Day {
			d.Chart = weekChart(p.r, t)
		}
	}
	st, err := delivery.QueueStatus(ctx, s.Regional, "", "", now)
	if err != nil {
		return err
	}
	if s.DestinationHealth != nil {
		st.AddHealth(s.DestinationHealth())
	}
	for _, dst := range st.Destinations {
		d.Waiting += dst.Waiting
		d.Due += dst.Due
		d.InFlight += dst.InFlight
		if dst.DownUntil != nil {
			d.Down++
		}
	}
	return s.show(rq, "overview", "Overview", "overview", d)
}

// periodOf adds up a stats/total answer.
func periodOf(label string, t mgapi.Stats) periodCounts {
	p := periodCounts{Label: label}
	for _, e := range t.Stats {
		if e.Accepted != nil {
			p.Accepted += e.Accepted.Total
		}
		if e.Delivered != nil {
			p.Delivered += e.Delivered.Total
		}
		if e.Failed != nil {
			p.FailedPerm += e.Failed.Permanent.Total
			p.FailedTemporary += e.Failed.Temporary.Total
		}
		if e.Opened != nil {
			p.Opened += e.Opened.Total
		}
		if e.Clicked != nil {
			p.Clicked += e.Clicked.Total
		}
		if e.Complained != nil {
			p.Complained += e.Complained.Total
		}
		if e.Unsubscribed != nil {
			p.Unsubscribed += e.Unsubscribed.Total
		}
	}
	p.Failed = p.FailedPerm + p.FailedTemporary
	// Delivery and failure rates are of what was sent; engagement rates
	// of what was delivered, as Mailgun's control panel shows them.
	p.DeliveredRate, p.FailedRate = rate(p.Delivered, p.Accepted), rate(p.FailedPerm, p.Accepted)
	p.OpenRate, p.ClickRate = rate(p.Opened, p.Delivered), rate(p.Clicked, p.Delivered)
	p.ComplainRate, p.UnsubRate = rate(p.Complained, p.Delivered), rate(p.Unsubscribed, p.Delivered)
	return p
}

// rate is n of of in percent with one decimal, "–" when of is 0.
func rate(n, of int64) string {
	if of == 0 {
		return "–"
	}
	return formatPercent(float64(n) * 100 / float64(of))
}

// weekChart is the 7 days' accepted, delivered, failed, opened and
// clicked lines.
func weekChart(r stats.Range, t mgapi.Stats) lineChart {
	series := append([]seriesValues(nil), statsEvents...)
	days := r.Buckets()
	for i, e := range t.Stats {
		row := statsDayOf(days[i], e)
		for j := range series {
			series[j].Values = append(series[j].Values, row.value(series[j].Name))
		}
	}
	return newLineChart(days, series)
}

func formatPercent(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) + " %" }
