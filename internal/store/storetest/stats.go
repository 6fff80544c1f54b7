package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

var statsTests = []regionalTest{
	{"Counters", testStatCounters},
	{"CountersAtomic", testStatCountersAtomic},
	{"Uniques", testStatUniques},
	{"Tags", testTags},
	{"TagPaging", testTagPaging},
	{"Compact", testStatCompact},
}

// statEvent is an event whose JSON carries what counters depend on.
func statEvent(m store.Message, typ, severity, reason, rcpt string, when time.Time, tags ...string) store.Event {
	e := event(m, typ, rcpt, when)
	e.Severity = severity
	quoted := make([]string, len(tags))
	for i, t := range tags {
		quoted[i] = `"` + t + `"`
	}
	e.Data = []byte(fmt.Sprintf(`{"id":%q,"event":%q,"severity":%q,"reason":%q,"tags":[%s]}`,
		e.ID, typ, severity, reason, strings.Join(quoted, ",")))
	return e
}

// counts reads counters as "domain tag time name=n" lines, sorted.
func counts(t *testing.T, r store.Regional, q store.StatQuery) []string {
	t.Helper()
	got, err := r.StatCounts(ctx, q)
	mustOK(t, err, "StatCounts")
	var out []string
	for _, c := range got {
		out = append(out, fmt.Sprintf("%s %s %s %s=%d", c.Domain, c.Tag, c.Time.Format("02T15"), c.Name, c.N))
	}
	slices.Sort(out)
	return out
}

func mustCounts(t *testing.T, r store.Regional, q store.StatQuery, want ...string) {
	t.Helper()
	slices.Sort(want)
	mustEqual(t, fmt.Sprintf("StatCounts(%+v)", q), want, counts(t, r, q))
}

// testStatCounters checks that every way of writing events (Accept,
// Complete, AppendEvents) counts them per hour and day, per domain and per
// tag, and that tags are created with their first and last use.
func testStatCounters(t *testing.T, r store.Regional) {
	h := t0.Truncate(time.Hour) // 07:00 on the 6th
	m := message("a.com", "m1", 0)
	a := store.Accept{Message: m, Jobs: []store.Job{job(m, "bob@x.org", at(0)), job(m, "carol@y.org", at(0))},
		Events: []store.Event{statEvent(m, "accepted", "", "", "bob@x.org", h.Add(time.Minute), "news"),
			statEvent(m, "accepted", "", "", "carol@y.org", h.Add(time.Minute), "news")}}
	accept(t, r, a)
	jobs := mustJobs(t, r, m, a.Jobs...)
	c := claim(h.Add(time.Hour))
	cl := mustClaim(t, r, c, claimed(jobs[0], c), claimed(jobs[1], c))
	mustOK(t, r.Complete(ctx, []store.Outcome{
		{JobID: cl[0].ID, Done: true, Events: []store.Event{statEvent(m, "delivered", "", "", "bob@x.org", h.Add(61*time.Minute), "news")}},
		{JobID: cl[1].ID, Done: true, Events: []store.Event{statEvent(m, "failed", "permanent", "bounce", "carol@y.org", h.Add(62*time.Minute), "news")}},
	}), "Complete")
	other := message("b.com", "m2", 0)
	mustOK(t, r.AppendEvents(ctx, []store.Event{statEvent(other, "failed", "temporary", "generic", "dave@z.org", h.Add(24*time.Hour)),
		statEvent(other, "complained", "", "", "dave@z.org", h.Add(25*time.Hour))}), "AppendEvents")

	day := h.Add(-7 * time.Hour)
	q := store.StatQuery{Resolution: store.Hourly, Start: day, End: day.Add(48 * time.Hour)}
	mustCounts(t, r, q, "a.com  06T07 accepted.outgoing=2", "a.com  06T08 delivered.smtp=1",
		"a.com  06T08 failed.permanent.bounce=1", "b.com  07T07 failed.temporary.generic=1", "b.com  07T08 complained.all=1")
	q.Domains, q.Resolution = []string{"a.com"}, store.Daily
	mustCounts(t, r, q, "a.com  06T00 accepted.outgoing=2", "a.com  06T00 delivered.smtp=1", "a.com  06T00 failed.permanent.bounce=1")
	q.Tags = []string{"news"}
	mustCounts(t, r, q, "a.com news 06T00 accepted.outgoing=2", "a.com news 06T00 delivered.smtp=1", "a.com news 06T00 failed.permanent.bounce=1")
	q.Tags, q.AllTags, q.Domains = nil, true, nil
	q.Start, q.End = day.Add(24*time.Hour), day.Add(48*time.Hour) // End is exclusive, Start inclusive
	mustCounts(t, r, q)

	tag, err := r.Tag(ctx, "a.com", "news")
	mustOK(t, err, "Tag")
	mustEqual(t, "Tag", store.Tag{Domain: "a.com", Name: "news", FirstSeen: h.Add(time.Minute), LastSeen: h.Add(62 * time.Minute)}, tag)
}

// testStatCountersAtomic checks that counters of a transaction that fails
// are not kept.
func testStatCountersAtomic(t *testing.T, r store.Regional) {
	refuseEvents(t, r)
	m := message("a.com", "m1", 0)
	err := r.AppendEvents(ctx, []store.Event{statEvent(m, "delivered", "", "", "bob@x.org", at(1), "news"),
		event(m, refusedType, "bob@x.org", at(1))})
	if err == nil {
		t.Fatal("AppendEvents with a refused event succeeded")
	}
	mustCounts(t, r, store.StatQuery{Resolution: store.Hourly, Start: at(-7200), End: at(7200)})
	_, err = r.Tag(ctx, "a.com", "news")
	mustIs(t, err, store.ErrNotFound, "Tag of a failed transaction")
	// The same tag is created by the next transaction that uses it.
	mustOK(t, r.AppendEvents(ctx, []store.Event{statEvent(m, "delivered", "", "", "bob@x.org", at(2), "news")}), "AppendEvents")
	_, err = r.Tag(ctx, "a.com", "news")
	mustOK(t, err, "Tag after a good transaction")
}

func testStatUniques(t *testing.T, r store.Regional) {
	m := message("a.com", "m1", 0)
	when := t0.Truncate(time.Hour)
	var evs []store.Event
	for _, rc := range []string{"bob@x.org", "bob@x.org", "carol@y.org"} {
		evs = append(evs, statEvent(m, "opened", "", "", rc, when))
	}
	mustOK(t, r.AppendEvents(ctx, evs), "AppendEvents")
	mustOK(t, r.AppendEvents(ctx, []store.Event{statEvent(m, "opened", "", "", "carol@y.org", when),
		statEvent(m, "clicked", "", "", "carol@y.org", when)}), "AppendEvents again")
	mustCounts(t, r, store.StatQuery{Resolution: store.Hourly, Start: when, End: when.Add(time.Hour)},
		"a.com  06T07 opened.all=4", "a.com  06T07 unique.opened=2", "a.com  06T07 clicked.all=1", "a.com  06T07 unique.clicked=1")
}

func testTags(t *testing.T, r store.Regional) {
	m := message("a.com", "m1", 0)
	mustOK(t, r.AppendEvents(ctx, []store.Event{statEvent(m, "accepted", "", "", "bob@x.org", at(1), "news", "promo"),
		statEvent(message("b.com", "m2", 0), "accepted", "", "", "bob@x.org", at(1), "news")}), "AppendEvents")
	n, err := r.CountTags(ctx, "a.com")
	mustOK(t, err, "CountTags")
	if n != 2 {
		t.Fatalf("CountTags = %d, want 2", n)
	}
	mustOK(t, r.UpdateTag(ctx, "a.com", "news", "The newsletter"), "UpdateTag")
	tag, err := r.Tag(ctx, "a.com", "news")
	mustOK(t, err, "Tag")
	mustEqual(t, "updated Tag", store.Tag{Domain: "a.com", Name: "news", Description: "The newsletter", FirstSeen: at(1), LastSeen: at(1)}, tag)
	mustIs(t, r.UpdateTag(ctx, "a.com", "nope", "x"), store.ErrNotFound, "UpdateTag unknown")

	mustOK(t, r.DeleteTag(ctx, "a.com", "news"), "DeleteTag")
	_, err = r.Tag(ctx, "a.com", "news")
	mustIs(t, err, store.ErrNotFound, "Tag after DeleteTag")
	mustIs(t, r.DeleteTag(ctx, "a.com", "news"), store.ErrNotFound, "DeleteTag again")
	q := store.StatQuery{Resolution: store.Hourly, Start: at(-7200), End: at(7200), Tags: []string{"news"}}
	mustCounts(t, r, q, "b.com news 06T07 accepted.outgoing=1")
	_, err = r.Tag(ctx, "b.com", "news")
	mustOK(t, err, "Tag of the other domain")

	// A deleted tag used again is created again at once.
	mustOK(t, r.AppendEvents(ctx, []store.Event{statEvent(m, "accepted", "", "", "bob@x.org", at(5), "news")}), "AppendEvents")
	tag, err = r.Tag(ctx, "a.com", "news")
	mustOK(t, err, "Tag used again")
	mustEqual(t, "recreated Tag", store.Tag{Domain: "a.com", Name: "news", FirstSeen: at(5), LastSeen: at(5)}, tag)
}

func testTagPaging(t *testing.T, r store.Regional) {
	m := message("a.com", "m1", 0)
	var evs []store.Event
	for _, tag := range []string{"b", "a", "ab", "c", "a-b"} {
		evs = append(evs, statEvent(m, "accepted", "", "", "bob@x.org", at(1), tag))
	}
	mustOK(t, r.AppendEvents(ctx, evs), "AppendEvents")
	names := func(q store.TagQuery) []string {
		t.Helper()
		tags, err := r.Tags(ctx, q)
		mustOK(t, err, "Tags")
		var out []string
		for _, tg := range tags {
			out = append(out, tg.Name)
		}
		return out
	}
	q := store.TagQuery{Domain: "a.com", Limit: 2}
	mustEqual(t, "first page", []string{"a", "a-b"}, names(q))
	q.After = "a-b"
	mustEqual(t, "next page", []string{"ab", "b"}, names(q))
	q.After, q.Last = "", true
	mustEqual(t, "last page", []string{"b", "c"}, names(q))
	mustEqual(t, "prefix", []string{"a", "a-b", "ab"}, names(store.TagQuery{Domain: "a.com", Prefix: "a", Limit: 10}))
}

// testStatCompact checks that folding the shards of past buckets keeps
// every total and leaves one row per counter.
func testStatCompact(t *testing.T, r store.Regional) {
	m := message("a.com", "m1", 0)
	for i := range 6 {
		mustOK(t, r.AppendEvents(ctx, []store.Event{statEvent(m, "delivered", "", "", "bob@x.org", at(i), "news")}), "AppendEvents")
	}
	q := store.StatQuery{Resolution: store.Hourly, Start: at(-7200), End: at(7200), AllTags: true}
	want := []string{"a.com news 06T07 delivered.smtp=6"}
	mustCounts(t, r, q, want...)
	mustOK(t, r.CompactStats(ctx, at(3*3600)), "CompactStats too early for days")
	mustOK(t, r.CompactStats(ctx, at(3*24*3600)), "CompactStats")
	mustCounts(t, r, q, want...)
	day := store.StatQuery{Resolution: store.Daily, Start: store.BucketStart(t0, store.Daily), End: at(7200), AllTags: true}
	mustCounts(t, r, day, "a.com news 06T00 delivered.smtp=6")
	var left int
	mustOK(t, sqlDB(t, r).Writer().QueryRowContext(ctx, `SELECT COUNT(*) FROM stat_counters WHERE shard > 0`).Scan(&left), "count shards")
	if left != 0 {
		t.Fatalf("%d counter rows outside shard 0 after CompactStats", left)
	}
	mustOK(t, r.AppendEvents(ctx, []store.Event{statEvent(m, "delivered", "", "", "bob@x.org", at(9), "news")}), "AppendEvents after")
	mustCounts(t, r, q, "a.com news 06T07 delivered.smtp=7")
}
