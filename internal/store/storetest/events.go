package storetest

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

var eventTests = []regionalTest{
	{"RoundTrip", testEventsRoundTrip},
	{"Queries", testEventQueries},
	{"Paging", testEventPaging},
	{"Parts", testEventParts},
}

// eventFixture appends events of a.com (several sharing a timestamp,
// appended out of time order, in three transactions) and some of b.com. It
// returns a.com's events as stored: in (timestamp, seq) order, where seq
// follows the order of appending.
func eventFixture(t *testing.T, r store.Regional) []store.Event {
	t.Helper()
	m1, m2, other := message("a.com", "m1", 0), message("a.com", "m2", 0), message("b.com", "m3", 0)
	batches := [][]store.Event{
		{event(m1, "delivered", "bob@gmail.com", at(20)), event(m1, "accepted", "bob@gmail.com", at(10)),
			event(m2, "accepted", "carol@yahoo.com", at(10)), event(other, "accepted", "bob@gmail.com", at(10))},
		{event(m2, "failed", "carol@yahoo.com", at(20)), event(m1, "opened", "bob@gmail.com", at(30)),
			event(m2, "accepted", "dave@gmail.com", at(10))},
		{event(other, "delivered", "bob@gmail.com", at(20)), event(m1, "clicked", "bob@gmail.com", at(20)),
			event(m2, "delivered", "dave@gmail.com", at(40)), event(m2, "opened", "dave@gmail.com", at(40))},
	}
	var want []store.Event
	for _, b := range batches {
		mustOK(t, r.AppendEvents(ctx, b), "AppendEvents")
		for _, e := range b {
			if e.Domain == "a.com" {
				want = append(want, e)
			}
		}
	}
	slices.SortStableFunc(want, func(a, b store.Event) int { return a.Timestamp.Compare(b.Timestamp) })
	return mustEvents(t, r, store.EventQuery{Domain: "a.com", Ascending: true, Limit: 1000}, want...)
}

// wantEvents is what Events(q) must return, given all the events of
// q.Domain in (timestamp, seq) order.
func wantEvents(all []store.Event, q store.EventQuery) []store.Event {
	var out []store.Event
	for _, e := range all {
		pos := store.Cursor{TS: e.Timestamp.UnixMicro(), Seq: e.Seq}
		if !q.Begin.IsZero() && e.Timestamp.Before(q.Begin) ||
			!q.End.IsZero() && !e.Timestamp.Before(q.End) ||
			q.Type != "" && e.Type != q.Type ||
			q.Recipient != "" && e.Recipient != q.Recipient ||
			q.MessageID != "" && e.MessageID != q.MessageID ||
			q.After != nil && q.Ascending && !before(*q.After, pos) ||
			q.After != nil && !q.Ascending && !before(pos, *q.After) {
			continue
		}
		out = append(out, e)
	}
	if !q.Ascending {
		slices.Reverse(out)
	}
	return out[:min(len(out), q.Limit)]
}

// before reports whether position a comes before b in time order.
func before(a, b store.Cursor) bool {
	return a.TS < b.TS || a.TS == b.TS && a.Seq < b.Seq
}

// mustQuery fails t unless Events(q) returns what wantEvents says.
func mustQuery(t *testing.T, r store.Regional, all []store.Event, q store.EventQuery) {
	t.Helper()
	got, err := r.Events(ctx, q)
	what := fmt.Sprintf("Events(%s)", describe(q))
	mustOK(t, err, what)
	mustEqual(t, what, wantEvents(all, q), got)
}

// describe prints q with readable times.
func describe(q store.EventQuery) string {
	s := fmt.Sprintf("ascending %t, limit %d", q.Ascending, q.Limit)
	for _, b := range []struct {
		name string
		t    time.Time
	}{{"begin", q.Begin}, {"end", q.End}} {
		if !b.t.IsZero() {
			s += fmt.Sprintf(", %s +%s", b.name, b.t.Sub(t0))
		}
	}
	if q.After != nil {
		s += fmt.Sprintf(", after +%s/%d", time.UnixMicro(q.After.TS).Sub(t0), q.After.Seq)
	}
	return s + fmt.Sprintf(", type %q, recipient %q, message %q", q.Type, q.Recipient, q.MessageID)
}

func testEventsRoundTrip(t *testing.T, r store.Regional) {
	e := event(message("a.com", "m1", 0), "failed", "Bob@Gmail.com", at(1).Add(time.Microsecond))
	e.Severity = "permanent"
	e.Data = []byte(`{"event":"failed","delivery-status":{"code":550,"message":"unknown user ü"}}`)
	// Facts are a hint for the counters, not stored; Part and PartAt are
	// set only by split reads (testEventParts).
	requireAllSet(t, e, "Seq", "Facts", "Part", "PartAt")
	mustOK(t, r.AppendEvents(ctx, nil), "AppendEvents of nothing")
	mustOK(t, r.AppendEvents(ctx, []store.Event{e}), "AppendEvents")
	mustEvents(t, r, store.EventQuery{Domain: "a.com", Ascending: true, Limit: 10}, e)
	mustEvents(t, r, store.EventQuery{Domain: "b.com", Ascending: true, Limit: 10})
}

// testEventQueries compares Events with wantEvents for every combination
// of bounds (on, between and beyond the events' times), directions, limits
// and cursors (on each event and on either side of it), and for each
// filter.
func testEventQueries(t *testing.T, r store.Regional) {
	all := eventFixture(t, r)
	times := []time.Time{{}, at(10), at(15), at(20), at(40), at(40).Add(time.Microsecond)}
	for _, asc := range []bool{true, false} {
		for _, begin := range times {
			for _, end := range times {
				for _, limit := range []int{1000, 2} {
					mustQuery(t, r, all, store.EventQuery{Domain: "a.com", Begin: begin, End: end, Ascending: asc, Limit: limit})
				}
			}
		}
		for _, e := range all {
			ts := e.Timestamp.UnixMicro()
			for _, c := range []store.Cursor{{TS: ts, Seq: e.Seq}, {TS: ts, Seq: 0}, {TS: ts, Seq: math.MaxInt64}} {
				q := store.EventQuery{Domain: "a.com", Ascending: asc, After: &c, Limit: 1000}
				mustQuery(t, r, all, q)
				q.Begin, q.End, q.Limit = at(20), at(40), 2
				mustQuery(t, r, all, q)
			}
		}
		for _, q := range []store.EventQuery{
			{Type: "accepted"}, {Type: "opened"}, {Type: "unsubscribed"},
			{Recipient: "bob@gmail.com"}, {Recipient: "dave@gmail.com"}, {Recipient: "Bob@gmail.com"},
			{MessageID: "m1@a.com"}, {MessageID: "m2@a.com"}, {MessageID: "m3@b.com"},
			{Type: "accepted", Recipient: "dave@gmail.com", MessageID: "m2@a.com"},
			{Type: "delivered", Begin: at(20), End: at(40)},
		} {
			q.Domain, q.Ascending, q.Limit = "a.com", asc, 1000
			mustQuery(t, r, all, q)
		}
	}
}

// testEventPaging pages through the events with the cursor of each page's
// last event, across events with equal timestamps: none may be skipped or
// repeated.
func testEventPaging(t *testing.T, r store.Regional) {
	all := eventFixture(t, r)
	for _, q := range []store.EventQuery{
		{Ascending: true, Limit: 1}, {Limit: 1}, {Ascending: true, Limit: 2}, {Limit: 3},
		{Type: "accepted", Ascending: true, Limit: 1}, {Type: "accepted", Limit: 1},
	} {
		q.Domain = "a.com"
		want := wantEvents(all, store.EventQuery{Domain: q.Domain, Type: q.Type, Ascending: q.Ascending, Limit: 1000})
		var got []store.Event
		for page := 0; ; page++ {
			evs, err := r.Events(ctx, q)
			mustOK(t, err, "Events")
			if len(evs) == 0 {
				break
			}
			if len(evs) > q.Limit || page > len(all) {
				t.Fatalf("paging %s: page %d has %d events", describe(q), page, len(evs))
			}
			got = append(got, evs...)
			last := evs[len(evs)-1]
			q.After = &store.Cursor{TS: last.Timestamp.UnixMicro(), Seq: last.Seq}
		}
		q.After = nil
		mustEqual(t, "paging "+describe(q), want, got)
	}
}
