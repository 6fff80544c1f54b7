package stats

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// countMetrics are the counts of /v1/analytics/metrics this server keeps,
// each a function of a bucket's counters.
var countMetrics = map[string]func(Totals) int64{
	"accepted_count":                   prefix("accepted."),
	"accepted_incoming_count":          name("accepted.incoming"),
	"accepted_outgoing_count":          name("accepted.outgoing"),
	"processed_count":                  prefix("accepted."),
	"delivered_count":                  prefix("delivered."),
	"delivered_smtp_count":             name("delivered.smtp"),
	"delivered_http_count":             name("delivered.http"),
	"delivered_optimized_count":        name("delivered.optimized"),
	"sent_count":                       func(c Totals) int64 { return c.sum("delivered.") + c["failed.permanent.bounce"] },
	"stored_count":                     prefix("stored."),
	"opened_count":                     prefix("opened."),
	"clicked_count":                    prefix("clicked."),
	"unique_opened_count":              name("unique.opened"),
	"unique_clicked_count":             name("unique.clicked"),
	"unsubscribed_count":               prefix("unsubscribed."),
	"complained_count":                 prefix("complained."),
	"failed_count":                     prefix("failed."),
	"temporary_failed_count":           prefix("failed.temporary."),
	"permanent_failed_count":           prefix("failed.permanent."),
	"esp_block_count":                  func(c Totals) int64 { return c["failed.temporary.espblock"] + c["failed.permanent.espblock"] },
	"temporary_failed_esp_block_count": name("failed.temporary.espblock"),
	"permanent_failed_esp_block_count": name("failed.permanent.espblock"),
	"webhook_count":                    name("failed.permanent.webhook"),
	"permanent_failed_optimized_count": name("failed.permanent.optimized"),
	"permanent_failed_old_count":       name("failed.permanent.old"),
	"bounced_count":                    func(c Totals) int64 { return c["failed.permanent.bounce"] + c.sum("failed.temporary.") },
	"hard_bounces_count":               name("failed.permanent.bounce"),
	"soft_bounces_count":               prefix("failed.temporary."),
	"delayed_bounce_count":             name("failed.permanent.delayed-bounce"),
	"suppressed_bounces_count":         name("failed.permanent.suppress-bounce"),
	"suppressed_unsubscribed_count":    name("failed.permanent.suppress-unsubscribe"),
	"suppressed_complaints_count":      name("failed.permanent.suppress-complaint"),
}

// rateMetrics are ratios of two counts, written as percentages with two
// decimals ("66.67").
var rateMetrics = map[string][2]string{
	"delivered_rate":      {"delivered_count", "sent_count"},
	"opened_rate":         {"opened_count", "delivered_count"},
	"clicked_rate":        {"clicked_count", "delivered_count"},
	"unique_opened_rate":  {"unique_opened_count", "delivered_count"},
	"unique_clicked_rate": {"unique_clicked_count", "delivered_count"},
	"unsubscribed_rate":   {"unsubscribed_count", "delivered_count"},
	"complained_rate":     {"complained_count", "delivered_count"},
	"bounce_rate":         {"bounced_count", "processed_count"},
	"fail_rate":           {"failed_count", "processed_count"},
	"permanent_fail_rate": {"permanent_failed_count", "processed_count"},
	"temporary_fail_rate": {"temporary_failed_count", "processed_count"},
}

func prefix(p string) func(Totals) int64 { return func(c Totals) int64 { return c.sum(p) } }
func name(n string) func(Totals) int64   { return func(c Totals) int64 { return c[n] } }

// metricsQuery is a parsed metrics request.
type metricsQuery struct {
	r          Range
	dims       []string
	metrics    []string
	domains    []string
	accounts   map[string]string // domain → account id (nil: no subaccount dimension)
	tags       []string          // nil: no tag filter
	notTags    []string
	byTag      bool
	pagination mgapi.MetricsPagination
}

// Metrics answers POST /v1/analytics/metrics over the given domains (the
// account's, in this region) with dimensions time, domain and tag.
func Metrics(ctx context.Context, s store.StatsStore, req mgapi.MetricsRequest, domains []string, now time.Time) (mgapi.MetricsResponse, error) {
	return MetricsOf(ctx, s, req, domains, nil, now)
}

// MetricsOf is Metrics where accounts names each domain's account (the
// parent's or a subaccount's id): the value of the subaccount dimension
// and of a subaccount filter. With nil accounts neither is allowed.
func MetricsOf(ctx context.Context, s store.StatsStore, req mgapi.MetricsRequest, domains []string, accounts map[string]string,
	now time.Time) (mgapi.MetricsResponse, error) {
	q, err := parseMetrics(req, domains, accounts, now)
	if err != nil {
		return mgapi.MetricsResponse{}, err
	}
	sq := q.r.Query()
	sq.Domains = q.domains
	switch {
	case q.tags != nil:
		sq.Tags = q.tags
	case q.byTag:
		sq.AllTags = true
	}
	// skipped is a key no domain or tag can make: tags are ASCII.
	const skipped = "\xff"
	series, err := Series(ctx, s, q.r, sq, func(c store.StatCount) string {
		if slices.Contains(q.notTags, c.Tag) {
			return skipped
		}
		return q.dimValue("domain", c.Domain) + "\x00" + q.dimValue("tag", c.Tag) + "\x00" + q.dimValue("subaccount", q.accounts[c.Domain])
	})
	if err != nil {
		return mgapi.MetricsResponse{}, err
	}
	delete(series, skipped)
	items, total := q.items(series)
	resp := mgapi.MetricsResponse{Start: mgapi.FormatDate(q.r.BucketOf(q.r.Start)), End: mgapi.FormatDate(q.r.End),
		Resolution: q.r.Resolution, Duration: req.Duration, Dimensions: q.dims, Items: []mgapi.MetricsItem{}}
	if req.Aggregates {
		resp.Aggregates = &mgapi.MetricsAggregate{Metrics: q.values(total)}
	}
	p := q.pagination
	p.Total = len(items)
	resp.Pagination = p
	if p.Skip < len(items) {
		resp.Items = items[p.Skip:min(len(items), p.Skip+p.Limit)]
	}
	return resp, nil
}

func (q *metricsQuery) dimValue(dim, v string) string {
	if slices.Contains(q.dims, dim) {
		return v
	}
	return ""
}

// absentDate is how mailgun-go writes an unset date.
func absentDate(s string) string {
	if strings.Contains(s, " 0001 ") {
		return ""
	}
	return s
}

func parseMetrics(req mgapi.MetricsRequest, domains []string, accounts map[string]string, now time.Time) (*metricsQuery, error) {
	r, err := ParseRange(absentDate(req.Start), absentDate(req.End), req.Duration, req.Resolution, now)
	if err != nil {
		return nil, err
	}
	q := &metricsQuery{r: r, dims: req.Dimensions, metrics: req.Metrics, domains: domains, accounts: accounts,
		pagination: req.Pagination}
	if q.dims == nil {
		q.dims = []string{}
	}
	for _, d := range q.dims {
		if d != "time" && d != "domain" && d != "tag" && (d != "subaccount" || accounts == nil) {
			return nil, fault.Invalidf("dimension %q is not supported by this server; use time, domain, tag or subaccount", d)
		}
	}
	q.byTag = slices.Contains(q.dims, "tag")
	if len(q.metrics) == 0 {
		for m := range countMetrics {
			q.metrics = append(q.metrics, m)
		}
		sort.Strings(q.metrics)
	}
	for _, m := range q.metrics {
		if _, ok := countMetrics[m]; !ok && rateMetrics[m] == [2]string{} {
			return nil, fault.Invalidf("metric %q is not supported by this server", m)
		}
	}
	if q.pagination.Limit <= 0 {
		q.pagination.Limit = 10
	}
	if q.pagination.Limit > 1000 || q.pagination.Skip < 0 {
		return nil, fault.Invalidf("pagination limit must be at most 1000 and skip not negative")
	}
	return q, q.filter(req.Filter)
}

// filter applies the AND predicates on domain and tag.
func (q *metricsQuery) filter(f mgapi.MetricsFilter) error {
	for _, p := range f.And {
		var vals []string
		for _, v := range p.Values {
			vals = append(vals, v.Value)
		}
		eq := p.Comparator == "=" || p.Comparator == "contains"
		if !eq && p.Comparator != "!=" && p.Comparator != "not contains" {
			return fault.Invalidf("filter comparator %q is not supported; use = or !=", p.Comparator)
		}
		switch p.Attribute {
		case "domain":
			q.domains = slices.DeleteFunc(q.domains, func(d string) bool { return slices.Contains(vals, d) != eq })
		case "subaccount":
			if q.accounts == nil {
				return fault.Invalidf("filter attribute %q is not supported; use domain or tag", p.Attribute)
			}
			q.domains = slices.DeleteFunc(q.domains, func(d string) bool { return slices.Contains(vals, q.accounts[d]) != eq })
		case "tag":
			if eq {
				q.tags = append(q.tags, vals...)
			} else {
				q.notTags, q.byTag = append(q.notTags, vals...), true
			}
		default:
			return fault.Invalidf("filter attribute %q is not supported; use domain, tag or subaccount", p.Attribute)
		}
	}
	if q.tags != nil {
		q.tags = slices.DeleteFunc(q.tags, func(t string) bool { return slices.Contains(q.notTags, t) })
		if len(q.tags) == 0 {
			q.tags = []string{}
		}
	}
	return nil
}

// items turns series into sorted items, time buckets filled with zeros,
// and returns the totals of everything.
func (q *metricsQuery) items(series map[string]map[time.Time]Totals) ([]mgapi.MetricsItem, Totals) {
	byTime := slices.Contains(q.dims, "time")
	total := Totals{}
	type row struct {
		key string
		at  time.Time
		c   Totals
	}
	var rows []row
	for key, buckets := range series {
		merged := Totals{}
		for _, c := range buckets {
			for n, v := range c {
				merged[n] += v
				total[n] += v
			}
		}
		if !byTime {
			rows = append(rows, row{key: key, c: merged})
			continue
		}
		for _, b := range q.r.Buckets() {
			rows = append(rows, row{key: key, at: b, c: buckets[b]})
		}
	}
	if byTime && len(rows) == 0 && !q.byTag && !slices.Contains(q.dims, "domain") {
		for _, b := range q.r.Buckets() {
			rows = append(rows, row{key: "\x00", at: b})
		}
	}
	slices.SortFunc(rows, func(a, b row) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.key, b.key)) })
	out := make([]mgapi.MetricsItem, len(rows))
	for i, r := range rows {
		domain, rest, _ := strings.Cut(r.key, "\x00")
		tag, account, _ := strings.Cut(rest, "\x00")
		item := mgapi.MetricsItem{Dimensions: []mgapi.MetricsDimension{}, Metrics: q.values(r.c)}
		for _, d := range q.dims {
			v := map[string]string{"domain": domain, "tag": tag, "subaccount": account, "time": mgapi.FormatDate(r.at)}[d]
			item.Dimensions = append(item.Dimensions, mgapi.MetricsDimension{Dimension: d, Value: v, DisplayValue: v})
		}
		out[i] = item
	}
	return out, total
}

// values computes the requested metrics of c.
func (q *metricsQuery) values(c Totals) map[string]any {
	out := make(map[string]any, len(q.metrics))
	for _, m := range q.metrics {
		if f, ok := countMetrics[m]; ok {
			out[m] = f(c)
			continue
		}
		r := rateMetrics[m]
		num, den := countMetrics[r[0]](c), countMetrics[r[1]](c)
		out[m] = "0.00"
		if den > 0 {
			out[m] = fmt.Sprintf("%.2f", 100*float64(num)/float64(den))
		}
	}
	return out
}
