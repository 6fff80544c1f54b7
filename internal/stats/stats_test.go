package stats

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

func TestParseRange(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 15, 10, 30, 0, 0, time.UTC)
	r, err := ParseRange("", "", "", "", now)
	if err != nil || r.Resolution != Day || !r.End.Equal(now) || !r.Start.Equal(now.AddDate(0, 0, -7)) || len(r.Buckets()) != 8 {
		t.Fatalf("defaults = %+v (%d buckets), %v; want a week of days ending now", r, len(r.Buckets()), err)
	}
	r, err = ParseRange("1700000000", "", "3h", "hour", now)
	if err != nil || !r.Start.Equal(now.Add(-3*time.Hour)) || len(r.Buckets()) != 4 {
		t.Fatalf("duration 3h = %+v (%d buckets), %v; duration wins over start", r, len(r.Buckets()), err)
	}
	r, err = ParseRange("", "Sun, 15 Mar 2026 00:00:00 +0000", "2m", "month", now)
	if err != nil || len(r.Buckets()) != 3 || !r.Buckets()[0].Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("two months back by month = %v, %v", r.Buckets(), err)
	}
	q := r.Query()
	if q.Resolution != "day" || !q.End.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("month query = %+v, want days up to April 1st", q)
	}
	for _, bad := range [][4]string{{"", "", "", "week"}, {"", "", "3w", ""}, {"tomorrow", "", "", ""},
		{"", "", "100000h", "hour"}, {"1800000000", "1700000000", "", ""}} {
		if _, err := ParseRange(bad[0], bad[1], bad[2], bad[3], now); err == nil {
			t.Errorf("ParseRange%q accepted", bad)
		}
	}
}

func TestEntry(t *testing.T) {
	t.Parallel()
	c := Totals{"accepted.outgoing": 5, "accepted.incoming": 1, "delivered.smtp": 3, "failed.temporary.generic": 2,
		"failed.temporary.espblock": 1, "failed.permanent.bounce": 1, "failed.permanent.old": 1,
		"failed.permanent.suppress-bounce": 2, "opened.all": 4, "unique.opened": 2}
	e := Entry(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), c, []string{"accepted", "failed", "opened"})
	if e.Time != "Fri, 02 Jan 2026 00:00:00 UTC" || e.Accepted.Total != 6 || e.Delivered != nil ||
		e.Failed.Temporary.Total != 3 || e.Failed.Temporary.ESPBlock != 1 || e.Failed.Permanent.Total != 4 ||
		e.Failed.Permanent.SuppressBounce != 2 || e.Opened.Total != 4 || e.Opened.Unique != 2 {
		t.Fatalf("Entry = %+v %+v %+v", e, e.Failed, e.Opened)
	}
}

// fakeCounters is a StatsStore holding counters only; StatCounts applies
// the query's filters as the SQL store does.
type fakeCounters struct {
	store.StatsStore
	counts []store.StatCount
}

func (f fakeCounters) StatCounts(_ context.Context, q store.StatQuery) ([]store.StatCount, error) {
	var out []store.StatCount
	for _, c := range f.counts {
		switch {
		case c.Time.Before(q.Start) || !c.Time.Before(q.End),
			q.Domains != nil && !slices.Contains(q.Domains, c.Domain),
			q.AllTags && c.Tag == "", q.Tags != nil && !slices.Contains(q.Tags, c.Tag),
			!q.AllTags && q.Tags == nil && c.Tag != "":
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

func TestMetricsDimensions(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	c := func(domain, tag, name string, n int64) store.StatCount {
		return store.StatCount{Domain: domain, Tag: tag, Time: day, Name: name, N: n}
	}
	f := fakeCounters{counts: []store.StatCount{
		c("d1", "", "accepted.outgoing", 10), c("d1", "", "delivered.smtp", 8), c("d2", "", "accepted.outgoing", 5),
		c("d1", "a", "accepted.outgoing", 4), c("d1", "b", "accepted.outgoing", 6), c("d1", "b", "delivered.smtp", 3),
	}}
	req := mgapi.MetricsRequest{Dimensions: []string{"domain", "tag"}, Metrics: []string{"accepted_count", "delivered_rate"},
		Filter:     mgapi.MetricsFilter{And: []mgapi.MetricsPredicate{{Attribute: "tag", Comparator: "!="}}},
		Aggregates: true, Duration: "3d"}
	req.Filter.And[0].Values = append(req.Filter.And[0].Values, struct {
		Label string `json:"label"`
		Value string `json:"value"`
	}{"a", "a"})
	resp, err := Metrics(context.Background(), f, req, []string{"d1", "d2"}, day.Add(36*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Items) != 1 || resp.Items[0].Dimensions[0].Value != "d1" || resp.Items[0].Dimensions[1].Value != "b" ||
		resp.Items[0].Metrics["accepted_count"] != int64(6) || resp.Items[0].Metrics["delivered_rate"] != "100.00" {
		t.Fatalf("items = %+v; want d1/b alone with 6 accepted", resp.Items)
	}
	req = mgapi.MetricsRequest{Dimensions: []string{"time"}, Metrics: []string{"accepted_count"}, Resolution: "day", Duration: "3d"}
	resp, err = Metrics(context.Background(), f, req, []string{"d1", "d2"}, day.Add(36*time.Hour))
	if err != nil || len(resp.Items) != 4 || resp.Pagination.Total != 4 {
		t.Fatalf("time items = %+v, %v; want 4 days, zeros included", resp.Items, err)
	}
	if resp.Items[2].Metrics["accepted_count"] != int64(15) || resp.Items[0].Metrics["accepted_count"] != int64(0) {
		t.Fatalf("time items = %+v", resp.Items)
	}
	for _, bad := range []mgapi.MetricsRequest{{Dimensions: []string{"country"}}, {Metrics: []string{"nope_count"}},
		{Pagination: mgapi.MetricsPagination{Limit: 5000}}} {
		if _, err := Metrics(context.Background(), f, bad, nil, day); err == nil {
			t.Errorf("Metrics(%+v) accepted", bad)
		}
	}
}
