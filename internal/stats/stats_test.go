package stats

import (
	"testing"
	"time"
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
