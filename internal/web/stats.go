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

// statsEvents are the counted event types the Overview's chart shows,
// in order; the Stats page adds statsMoreEvents.
var statsEvents = []seriesValues{
	{Name: "accepted", Label: "Accepted"}, {Name: "delivered", Label: "Delivered"}, {Name: "failed", Label: "Failed"},
	{Name: "opened", Label: "Opened"}, {Name: "clicked", Label: "Clicked"},
}

var statsMoreEvents = []seriesValues{{Name: "unsubscribed", Label: "Unsubscribed"}, {Name: "complained", Label: "Complained"}}

// statsResolutions are the bucket sizes the page offers, with the longest
// range each takes (hours: 31 days, so a chart stays readable).
var statsResolutions = []struct {
	Value, Label string
	MaxDays      int
}{{stats.Hour, "Hourly", 31}, {stats.Day, "Daily", statsMaxDays}, {stats.Month, "Monthly", 5 * statsMaxDays}}

func (s *Server) statsRoutes() {
	s.page("GET "+statsPath, s.statsPage)
}

// statsDay is one row of the table.
type statsDay struct {
	Day                                      time.Time
	Accepted, Delivered, Opened, Clicked     int64
	Failed, FailedPermanent, FailedTemporary int64
	Unsubscribed, Complained                 int64
}

// statsRates are the totals as rates: delivered and failed of accepted,
// engagement of delivered (as the Overview counts them).
type statsRates struct {
	Delivered, Failed, Opened, Clicked, Unsubscribed, Complained string
}

func ratesOf(t statsDay) statsRates {
	return statsRates{Delivered: rate(t.Delivered, t.Accepted), Failed: rate(t.Failed, t.Accepted),
		Opened: rate(t.Opened, t.Delivered), Clicked: rate(t.Clicked, t.Delivered),
		Unsubscribed: rate(t.Unsubscribed, t.Delivered), Complained: rate(t.Complained, t.Delivered)}
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
	case "unsubscribed":
		return d.Unsubscribed
	case "complained":
		return d.Complained
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
	d.Unsubscribed += e.Unsubscribed
	d.Complained += e.Complained
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
	Rates  statsRates
	Chart  lineChart
	// Resolution is hour, day or month; Resolutions the choices.
	Resolution  string
	Resolutions any
	// RowLabel and RowKey are the layouts of a row's bucket.
	RowLabel, RowKey string
	// Presets link to ranges ending today.
	Presets []preset
}

// preset is a link to a common range.
type preset struct{ Label, URL string }

// statsPresets are links to the last 7, 30 and 90 days of domain.
func statsPresets(now time.Time, domain, tag, resolution string) []preset {
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
		if resolution != stats.Day {
			v.Set("resolution", resolution)
		}
		out = append(out, preset{Label: "Last " + strconv.Itoa(n) + " days", URL: statsPath + "?" + v.Encode()})
	}
	return out
}

func (s *Server) statsPage(rq *request) error {
	v := rq.r.URL.Query()
	d := statsData{Domain: strings.TrimSpace(v.Get("domain")), From: v.Get("from"), To: v.Get("to"),
		Tag: strings.ToLower(strings.TrimSpace(v.Get("tag"))), Resolution: stats.Day, Resolutions: statsResolutions}
	for _, r := range statsResolutions {
		if v.Get("resolution") == r.Value {
			d.Resolution = r.Value
		}
	}
	all := d.Domain == ""
	var err error
	if d.Domains, err = s.domainChoices(rq, &d.Domain); err != nil {
		return err
	}
	if all {
		d.Domain = ""
	}
	d.Presets = statsPresets(s.Now(), d.Domain, d.Tag, d.Resolution)
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
	r := stats.Range{Resolution: d.Resolution}
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
	}
	for _, res := range statsResolutions {
		if res.Value == d.Resolution && to.Sub(from) >= time.Duration(res.MaxDays)*24*time.Hour {
			return r, fault.Invalidf("The range is longer than %d days, the most the %s view shows; choose a shorter one or a coarser resolution.",
				res.MaxDays, strings.ToLower(res.Label))
		}
	}
	r.Start, r.End = from, to
	switch d.Resolution {
	case stats.Hour: // every hour of the last day too
		r.End = to.Add(23 * time.Hour)
	case stats.Month:
		r.Start = time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
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
		doms, _, err := s.Domains.AccountList(ctx, rq.tenant.Owner(), 0, 1<<20)
		if err != nil {
			return err
		}
		names = make([]string, len(doms))
		for i, dom := range doms {
			names[i] = dom.Name
		}
	}
	pageEvents := append(append([]seriesValues(nil), statsEvents...), statsMoreEvents...)
	events := make([]string, len(pageEvents))
	for i, e := range pageEvents {
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
	series := pageEvents
	days := r.Buckets()
	for i, e := range total.Stats {
		row := statsDayOf(days[i], e)
		d.Days = append(d.Days, row)
		d.Totals.add(row)
		for j := range series {
			series[j].Values = append(series[j].Values, row.value(series[j].Name))
		}
	}
	d.RowLabel, d.RowKey = "Jan 2", time.DateOnly
	switch d.Resolution {
	case stats.Hour:
		d.RowLabel, d.RowKey = "Jan 2 15:04", "2006-01-02T15:04"
	case stats.Month:
		d.RowLabel, d.RowKey = "Jan 2006", "2006-01"
	}
	d.Chart = newLineChartAt(days, series, d.RowLabel, d.RowKey)
	d.Rates = ratesOf(d.Totals)
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
	if e.Unsubscribed != nil {
		row.Unsubscribed = e.Unsubscribed.Total
	}
	if e.Complained != nil {
		row.Complained = e.Complained.Total
	}
	return row
}
