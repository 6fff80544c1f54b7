// Package stats answers the statistics and metrics APIs (docs/mailgun-contract.md §10.2,
// docs/mailgun-contract.md §10.3) from the counters the store keeps as it writes events (see
// store.StatsStore): a request reads a few hundred counter rows, never the
// events themselves, whatever their number.
//
// Times are UTC; hourly and daily answers read the counters of that
// resolution, monthly ones add up daily counters. A range covers every
// bucket from the one holding its start to the one holding its end.
//
// Failure rules: bad parameters are a fault.Invalid with Mailgun's text
// where it has one.
package stats

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// Resolutions of answers.
const (
	Hour  = "hour"
	Day   = "day"
	Month = "month"
)

// maxBuckets bounds the entries of one answer.
const maxBuckets = 20000

// Range is the span and resolution of a query.
type Range struct {
	Start, End time.Time
	Resolution string
}

// ParseRange reads start, end (RFC 2822 or epoch), duration ([0-9]+[hdm],
// counted back from end; m is months) and resolution; end defaults to now
// and start to a week before end.
func ParseRange(start, end, duration, resolution string, now time.Time) (Range, error) {
	r := Range{End: now.UTC(), Resolution: Day}
	switch resolution {
	case "":
	case Hour, Day, Month:
		r.Resolution = resolution
	default:
		return r, fault.Invalidf("'resolution' parameter is invalid, valid values: 'month', 'day', 'hour'")
	}
	var err error
	if end != "" {
		if r.End, err = parseTime("end", end); err != nil {
			return r, err
		}
	}
	r.Start = r.End.AddDate(0, 0, -7)
	switch {
	case duration != "":
		if r.Start, err = back(r.End, duration); err != nil {
			return r, err
		}
	case start != "":
		if r.Start, err = parseTime("start", start); err != nil {
			return r, err
		}
	}
	if r.Start.After(r.End) {
		return r, fault.Invalidf("'start' must not be after 'end'")
	}
	if n := len(r.Buckets()); n > maxBuckets {
		return r, fault.Invalidf("the range holds %d %s buckets, more than %d; use a coarser resolution", n, r.Resolution, maxBuckets)
	}
	return r, nil
}

// parseTime reads a date; mailgun-go sends a year-1 date for "unset", which
// is treated as absent by the callers, so it is refused here only when it
// is not a date at all.
func parseTime(name, s string) (time.Time, error) {
	t, err := mgapi.ParseDate(s)
	if err != nil {
		return t, fault.Invalidf("'%s' parameter is not a valid date: %v", name, err)
	}
	return t.UTC(), nil
}

func back(end time.Time, d string) (time.Time, error) {
	n, err := strconv.Atoi(d[:len(d)-1])
	if err != nil || n < 0 || len(d) < 2 {
		return end, fault.Invalidf("'duration' parameter must look like 7d, 24h or 2m, not %q", d)
	}
	switch d[len(d)-1] {
	case 'h':
		return end.Add(-time.Duration(n) * time.Hour), nil
	case 'd':
		return end.AddDate(0, 0, -n), nil
	case 'm':
		return end.AddDate(0, -n, 0), nil
	}
	return end, fault.Invalidf("'duration' parameter must look like 7d, 24h or 2m, not %q", d)
}

// BucketOf is the start of the bucket holding t.
func (r Range) BucketOf(t time.Time) time.Time {
	switch r.Resolution {
	case Hour:
		return store.BucketStart(t, store.Hourly)
	case Month:
		t = t.UTC()
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return store.BucketStart(t, store.Daily)
}

func (r Range) next(b time.Time) time.Time {
	switch r.Resolution {
	case Hour:
		return b.Add(time.Hour)
	case Month:
		return b.AddDate(0, 1, 0)
	}
	return b.AddDate(0, 0, 1)
}

// Buckets are the starts of the range's buckets, in order.
func (r Range) Buckets() []time.Time {
	var out []time.Time
	for b := r.BucketOf(r.Start); !b.After(r.End) && len(out) <= maxBuckets; b = r.next(b) {
		out = append(out, b)
	}
	return out
}

// Query is the counter query of the range.
func (r Range) Query() store.StatQuery {
	res := store.Daily
	if r.Resolution == Hour {
		res = store.Hourly
	}
	return store.StatQuery{Resolution: res, Start: r.BucketOf(r.Start), End: r.next(r.BucketOf(r.End))}
}

// Totals are counter values by name (store.StatsStore names).
type Totals map[string]int64

// sum adds the counters whose names start with prefix.
func (c Totals) sum(prefix string) int64 {
	var n int64
	for k, v := range c {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}

// Series reads counters of q (with r's buckets) and adds them up per key
// and bucket; key names the group a counter belongs to.
func Series(ctx context.Context, s store.StatsStore, r Range, q store.StatQuery, key func(store.StatCount) string) (map[string]map[time.Time]Totals, error) {
	counts, err := s.StatCounts(ctx, q)
	if err != nil {
		return nil, err
	}
	out := map[string]map[time.Time]Totals{}
	for _, c := range counts {
		k := key(c)
		if out[k] == nil {
			out[k] = map[time.Time]Totals{}
		}
		b := r.BucketOf(c.Time)
		if out[k][b] == nil {
			out[k][b] = Totals{}
		}
		out[k][b][c.Name] += c.N
	}
	return out, nil
}

// Total is the stats/total answer (docs/mailgun-contract.md §10.2) of domains over r: their
// totals when tags is nil, else those of the tags. The API's stats
// endpoints and the dashboard's Stats page both answer through it.
func Total(ctx context.Context, s store.StatsStore, r Range, domains, tags, events []string) (mgapi.Stats, error) {
	q := r.Query()
	q.Domains, q.Tags = domains, tags
	series, err := Series(ctx, s, r, q, func(store.StatCount) string { return "" })
	if err != nil {
		return mgapi.Stats{}, err
	}
	return Answer(r, series[""], events), nil
}

// EventTypes are the event types stats count.
var EventTypes = []string{"accepted", "delivered", "failed", "stored", "opened", "clicked", "unsubscribed", "complained"}

// ParseEvents checks the requested event types.
func ParseEvents(events []string) ([]string, error) {
	var out []string
	for _, e := range events {
		for _, v := range strings.Split(e, ",") {
			v = strings.ToLower(strings.TrimSpace(v))
			if v == "" {
				continue
			}
			if !contains(EventTypes, v) {
				return nil, fault.Invalidf("'event' parameter is invalid: %q is not one of %s", v, strings.Join(EventTypes, ", "))
			}
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil, fault.Invalidf("please provide at least one event: Missing mandatory parameter: event")
	}
	return out, nil
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// Answer is the stats/total response of one series.
func Answer(r Range, series map[time.Time]Totals, events []string) mgapi.Stats {
	out := mgapi.Stats{Start: formatTime(r.BucketOf(r.Start)), End: formatTime(r.End), Resolution: r.Resolution,
		Stats: []mgapi.StatsEntry{}}
	for _, b := range r.Buckets() {
		out.Stats = append(out.Stats, Entry(b, series[b], events))
	}
	return out
}

// formatTime is how stats write times: "Tue, 14 Feb 2012 00:00:00 UTC".
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC1123) }

// Entry is one bucket with the requested event types only.
func Entry(at time.Time, c Totals, events []string) mgapi.StatsEntry {
	e := mgapi.StatsEntry{Time: formatTime(at)}
	for _, ev := range events {
		switch ev {
		case "accepted":
			e.Accepted = &mgapi.AcceptedStats{Incoming: c["accepted.incoming"], Outgoing: c["accepted.outgoing"],
				Total: c.sum("accepted.")}
		case "delivered":
			e.Delivered = &mgapi.DeliveredStats{SMTP: c["delivered.smtp"], HTTP: c["delivered.http"], Total: c.sum("delivered.")}
		case "failed":
			p := "failed.permanent."
			e.Failed = &mgapi.FailedStats{
				Temporary: mgapi.TemporaryStats{ESPBlock: c["failed.temporary.espblock"], Total: c.sum("failed.temporary.")},
				Permanent: mgapi.PermanentStats{SuppressBounce: c[p+"suppress-bounce"], SuppressUnsubscribe: c[p+"suppress-unsubscribe"],
					SuppressComplaint: c[p+"suppress-complaint"], Bounce: c[p+"bounce"], DelayedBounce: c[p+"delayed-bounce"],
					Webhook: c[p+"webhook"], Total: c.sum(p)},
			}
		case "stored":
			e.Stored = &mgapi.TotalStat{Total: c.sum("stored.")}
		case "opened":
			e.Opened = &mgapi.UniqueStat{Total: c.sum("opened."), Unique: c["unique.opened"]}
		case "clicked":
			e.Clicked = &mgapi.UniqueStat{Total: c.sum("clicked."), Unique: c["unique.clicked"]}
		case "unsubscribed":
			e.Unsubscribed = &mgapi.TotalStat{Total: c.sum("unsubscribed.")}
		case "complained":
			e.Complained = &mgapi.TotalStat{Total: c.sum("complained.")}
		}
	}
	return e
}
