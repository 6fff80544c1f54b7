package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/stats"
	"github.com/salvo-email/salvo/internal/store"
)

// The Stats page: accepted, delivered, failed, opened and clicked per day
// (UTC) for one domain or every domain of the region, read through
// stats.Total like GET /v3/{domain}/stats/total and /v3/stats/total.

const statsPath = prefix + "/stats"

// statsDefaultDays is the default range, ending today; statsMaxDays the
// longest one.
const (
	statsDefaultDays = 7
	statsMaxDays     = 366
)

// statsEvents are the counted event types the page shows, in order.
var statsEvents = []seriesValues{
	{Name: "accepted", Label: "Accepted"}, {Name: "delivered", Label: "Delivered"}, {Name: "failed", Label: "Failed"},
	{Name: "opened", Label: "Opened"}, {Name: "clicked", Label: "Clicked"},
}

func (s *Server) statsRoutes() {
	s.page("GET "+statsPath, s.statsPage)
}

// statsDay is one row of the table.
type statsDay struct {
	Day                                      time.Time
	Accepted, Delivered, Opened, Clicked     int64
	Failed, FailedPermanent, FailedTemporary int64
}

// value is the count of one of statsEvents.
func (d statsDay) value(event string) int64 {
	switch event {
	case "accepted":
		return d.Accepted
	case "delivered":
		return d.Delivered
	case "failed":
		return d.Failed
	case "opened":
		return d.Opened
	case "clicked":
		return d.Clicked
	}
	return 0
}

func (d *statsDay) add(e statsDay) {
	d.Accepted += e.Accepted
	d.Delivered += e.Delivered
	d.Failed += e.Failed
	d.FailedPermanent += e.FailedPermanent
	d.FailedTemporary += e.FailedTemporary
	d.Opened += e.Opened
	d.Clicked += e.Clicked
}

// statsData is the Stats page.
type statsData struct {
	Domain  string // "" for every domain
	Domains []store.Domain
	// Tag limits the counts to one tag ("" for the totals).
	Tag string
	// From and To are the form's dates (2006-01-02, UTC, both included).
	From, To string
	// Error is why the form was refused.
	Error  string
	Days   []statsDay
	Totals statsDay
	Chart  lineChart
	// Presets link to ranges ending today.
	Presets []preset
}

// preset is a link to a common range.
type preset struct{ Label, URL string }

// statsPresets are links to the last 7, 30 and 90 days of domain.
func statsPresets(now time.Time, domain, tag string) []preset {
	var out []preset
	to := store.BucketStart(now, store.Daily)
	for _, n := range []int{7, 30, 90} {
		v := url.Values{"from": {to.AddDate(0, 0, 1-n).Format(time.DateOnly)}, "to": {to.Format(time.DateOnly)}}
		if domain != "" {
			v.Set("domain", domain)
		}
		if tag != "" {
			v.Set("tag", tag)
		}
		out = append(out, preset{Label: "Last " + strconv.Itoa(n) + " days", URL: statsPath + "?" + v.Encode()})
	}
	return out
}

func (s *Server) statsPage(rq *request) error {
	v := rq.r.URL.Query()
	d := statsData{Domain: strings.TrimSpace(v.Get("domain")), From: v.Get("from"), To: v.Get("to"),
		Tag: strings.ToLower(strings.TrimSpace(v.Get("tag")))}
	all := d.Domain == ""
	var err error
	if d.Domains, err = s.domainChoices(rq, &d.Domain); err != nil {
		return err
	}
	if all {
		d.Domain = ""
	}
	d.Presets = statsPresets(s.Now(), d.Domain, d.Tag)
	r, err := d.statsRange(s.Now())
	if err == nil {
		err = s.readStats(rq, r, &d)
	}
	if f, ok := fault.As(err); ok && f.Kind == fault.Invalid {
		d.Error = f.Message
		return s.showStatus(rq, http.StatusBadRequest, "stats", "Stats", "stats", d)
	}
	if err != nil {
		return err
	}
	return s.show(rq, "stats", "Stats", "stats", d)
}

// statsRange reads the form's dates; both default to the last week.
func (d *statsData) statsRange(now time.Time) (stats.Range, error) {
	r := stats.Range{Resolution: stats.Day}
	to, err := formDate(d.To, "To", store.BucketStart(now, store.Daily))
	if err != nil {
		return r, err
	}
	from, err := formDate(d.From, "From", to.AddDate(0, 0, 1-statsDefaultDays))
	if err != nil {
		return r, err
	}
	d.From, d.To = from.Format(time.DateOnly), to.Format(time.DateOnly)
	switch {
	case from.After(to):
		return r, fault.Invalidf("The range starts (%s) after it ends (%s).", d.From, d.To)
	case to.Sub(from) >= statsMaxDays*24*time.Hour:
		return r, fault.Invalidf("The range is longer than %d days; choose a shorter one.", statsMaxDays)
	}
	r.Start, r.End = from, to
	return r, nil
}

// formDate reads a date input (UTC); empty is def.
func formDate(v, label string, def time.Time) (time.Time, error) {
	if v = strings.TrimSpace(v); v == "" {
		return def, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return t, fault.Invalidf("%s %q is not a date such as 2025-01-31.", label, v)
	}
	return t, nil
}

// readStats reads the counters of the range and lays out the table and
// the chart.
func (s *Server) readStats(rq *request, r stats.Range, d *statsData) error {
	ctx := rq.r.Context()
	names := []string{d.Domain}
	if d.Domain == "" {
		doms, _, err := s.Domains.List(ctx, 0, 1<<20)
		if err != nil {
			return err
		}
		names = make([]string, len(doms))
		for i, dom := range doms {
			names[i] = dom.Name
		}
	}
	events := make([]string, len(statsEvents))
	for i, e := range statsEvents {
		events[i] = e.Name
	}
	var tags []string
	if d.Tag != "" {
		tags = []string{d.Tag}
	}
	total, err := stats.Total(ctx, s.Regional, r, names, tags, events)
	if err != nil {
		return err
	}
	series := append([]seriesValues(nil), statsEvents...)
	days := r.Buckets()
	for i, e := range total.Stats {
		row := statsDayOf(days[i], e)
		d.Days = append(d.Days, row)
		d.Totals.add(row)
		for j := range series {
			series[j].Values = append(series[j].Values, row.value(series[j].Name))
		}
	}
	d.Chart = newLineChart(days, series)
	return nil
}

// statsDayOf is one bucket of the stats/total answer as a table row.
// Failed counts temporary and permanent failures, as failed events do.
func statsDayOf(day time.Time, e mgapi.StatsEntry) statsDay {
	row := statsDay{Day: day}
	if e.Accepted != nil {
		row.Accepted = e.Accepted.Total
	}
	if e.Delivered != nil {
		row.Delivered = e.Delivered.Total
	}
	if e.Failed != nil {
		row.FailedPermanent, row.FailedTemporary = e.Failed.Permanent.Total, e.Failed.Temporary.Total
		row.Failed = row.FailedPermanent + row.FailedTemporary
	}
	if e.Opened != nil {
		row.Opened = e.Opened.Total
	}
	if e.Clicked != nil {
		row.Clicked = e.Clicked.Total
	}
	return row
}
