package events

import (
	"context"
	"encoding/json"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

func TestTokenRoundTrip(t *testing.T) {
	t.Parallel()
	queries := []Query{
		{Limit: 100},
		{Begin: 1, End: 2, Ascending: true, Limit: 300, Filters: map[string][]string{
			"event": {"failed OR rejected"}, "subject": {`"a/b?c" NOT d`, "second"}}},
		{Limit: 7, Cursor: &store.Cursor{TS: 1767225600123456, Seq: 42}, Reverse: true},
	}
	for _, q := range queries {
		tok := q.Token()
		if strings.ContainsAny(tok, "/?#%+=") || url.PathEscape(tok) != tok {
			t.Errorf("token %q is not a safe path segment", tok)
		}
		got, err := ParseToken(tok)
		if err != nil {
			t.Fatalf("ParseToken(%q): %v", tok, err)
		}
		if !reflect.DeepEqual(got, q) {
			t.Errorf("round trip = %+v, want %+v", got, q)
		}
	}
}

func TestParseTokenRejects(t *testing.T) {
	t.Parallel()
	enc := func(q Query) string { return q.Token() }
	for name, tok := range map[string]string{
		"not base64":     "not a token!",
		"not JSON":       "bm90IGpzb24",
		"limit 0":        enc(Query{Limit: 0}),
		"limit 301":      enc(Query{Limit: 301}),
		"unknown filter": enc(Query{Limit: 5, Filters: map[string][]string{"colour": {"blue"}}}),
		"bad expression": enc(Query{Limit: 5, Filters: map[string][]string{"event": {"(a"}}}),
	} {
		if _, err := ParseToken(tok); err == nil {
			t.Errorf("%s: ParseToken accepted %q", name, tok)
		}
	}
}

func TestParseQuery(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	rfc := func(t time.Time) string { return t.Format("Mon, 2 Jan 2006 15:04:05 -0700") }
	cases := []struct {
		params string
		want   Query
	}{
		{"", Query{Limit: 100}},
		{"limit=300&pretty=no", Query{Limit: 300}},
		{"begin=" + url.QueryEscape(rfc(t0)), Query{Begin: t0.UnixMicro(), Ascending: true, Limit: 100}},
		{"begin=" + url.QueryEscape(rfc(t0)) + "&ascending=no", Query{End: t0.UnixMicro(), Limit: 100}},
		{"begin=1767348000&end=" + url.QueryEscape(rfc(t1)), Query{Begin: t0.UnixMicro(), End: t1.UnixMicro(), Ascending: true, Limit: 100}},
		{"begin=" + url.QueryEscape(rfc(t1)) + "&end=1767348000.5", Query{Begin: t0.UnixMicro() + 500000, End: t1.UnixMicro(), Limit: 100}},
		{"end=1767348000", Query{End: t0.UnixMicro(), Limit: 100}},
		{"ascending=yes", Query{Ascending: true, Limit: 100}},
		{"event=failed&event=NOT+rejected&tags=a", Query{Limit: 100, Filters: map[string][]string{"event": {"failed", "NOT rejected"}, "tags": {"a"}}}},
	}
	for _, c := range cases {
		v, _ := url.ParseQuery(c.params)
		got, err := ParseQuery(mgapi.NewParams(v))
		if err != nil {
			t.Errorf("ParseQuery(%s): %v", c.params, err)
			continue
		}
		if c.want.Filters == nil {
			c.want.Filters = map[string][]string{}
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseQuery(%s) = %+v, want %+v", c.params, got, c.want)
		}
	}
	for _, bad := range []string{"limit=0", "limit=301", "limit=x", "begin=soon", "end=" + url.QueryEscape("Fri, 2 Jan 2026 10:00:00 CET"),
		"begin=1767348000&end=1767351600&ascending=no", "ascending=maybe", "event=(a"} {
		v, _ := url.ParseQuery(bad)
		if _, err := ParseQuery(mgapi.NewParams(v)); err == nil {
			t.Errorf("ParseQuery(%s) succeeded", bad)
		}
	}
	// An unknown parameter is ignored and recorded, as Mailgun ignores it.
	p := mgapi.NewParams(url.Values{"colour": {"red"}, "limit": {"5"}})
	if q, err := ParseQuery(p); err != nil || q.Limit != 5 || !reflect.DeepEqual(p.Ignored(), []string{"colour"}) {
		t.Errorf("ParseQuery(colour=red&limit=5) = %+v, %v; ignored %q, want limit 5 and [colour] ignored", q, err, p.Ignored())
	}
}

// memEvents is a MessageStore whose Events behaves like the SQL one over
// a slice; nothing else is used by Fetch.
type memEvents struct {
	store.MessageStore
	evs []store.Event
}

func before(a, b store.Event) bool {
	ta, tb := a.Timestamp.UnixMicro(), b.Timestamp.UnixMicro()
	return ta < tb || (ta == tb && a.Seq < b.Seq)
}

func (m *memEvents) Events(_ context.Context, q store.EventQuery) ([]store.Event, error) {
	var out []store.Event
	for _, e := range m.evs {
		ts := e.Timestamp.UnixMicro()
		if (!q.Begin.IsZero() && ts < q.Begin.UnixMicro()) || (!q.End.IsZero() && ts >= q.End.UnixMicro()) ||
			(q.Type != "" && e.Type != q.Type) {
			continue
		}
		if c := q.After; c != nil {
			at := store.Event{Timestamp: time.UnixMicro(c.TS), Seq: c.Seq}
			if (q.Ascending && !before(at, e)) || (!q.Ascending && !before(e, at)) {
				continue
			}
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return before(out[i], out[j]) == q.Ascending })
	return out[:min(len(out), q.Limit)], nil
}

func (m *memEvents) add(typ string, tags ...string) {
	seq := int64(len(m.evs) + 1)
	mi := &MessageInfo{Domain: "d", MessageID: "m", Tags: tags}
	at := time.Unix(1767225600, 0).Add(time.Duration(seq/2) * time.Second) // pairs share a timestamp
	e := Record("d", base(mi, typ, "r@x", nil, at), at)
	e.Seq = seq
	m.evs = append(m.evs, e)
}

func eventIDs(items []json.RawMessage) string {
	var out []string
	for _, it := range items {
		var e struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(it, &e)
		out = append(out, e.ID[:4])
	}
	return strings.Join(out, ",")
}

// TestFetchWalk walks every query shape forward to the empty page and
// back again, checking that no event is skipped or repeated, including
// across the empty page at either end.
func TestFetchWalk(t *testing.T) {
	t.Parallel()
	m := &memEvents{}
	for i := range 11 {
		typ := Accepted
		if i%3 == 0 {
			typ = Delivered
		}
		m.add(typ, map[bool]string{true: "odd", false: "even"}[i%2 == 1])
	}
	ctx := context.Background()
	for _, q := range []Query{
		{Limit: 3, Ascending: true},
		{Limit: 3},
		{Limit: 4, Ascending: true, Filters: map[string][]string{"tags": {"odd"}}},
		{Limit: 2, Filters: map[string][]string{"event": {"accepted"}}},
		{Limit: 300},
	} {
		want, err := Fetch(ctx, m, "d", Query{Limit: 300, Ascending: q.Ascending, Filters: q.Filters})
		if err != nil {
			t.Fatal(err)
		}
		var forward []json.RawMessage
		p, err := Fetch(ctx, m, "d", q)
		for ; err == nil && len(p.Items) > 0; p, err = Fetch(ctx, m, "d", p.Next) {
			forward = append(forward, p.Items...)
		}
		if err != nil {
			t.Fatal(err)
		}
		if eventIDs(forward) != eventIDs(want.Items) {
			t.Errorf("%+v forward = %s, want %s", q, eventIDs(forward), eventIDs(want.Items))
		}
		// From the empty page after the end, walk previous to the start.
		var backward []json.RawMessage
		for p, err = Fetch(ctx, m, "d", p.Previous); err == nil && len(p.Items) > 0; p, err = Fetch(ctx, m, "d", p.Previous) {
			backward = append(append([]json.RawMessage(nil), p.Items...), backward...)
		}
		if err != nil {
			t.Fatal(err)
		}
		if eventIDs(backward) != eventIDs(want.Items) {
			t.Errorf("%+v backward = %s, want %s", q, eventIDs(backward), eventIDs(want.Items))
		}
		// And from the empty page before the start, next is the first page.
		first, _ := Fetch(ctx, m, "d", q)
		if again, _ := Fetch(ctx, m, "d", p.Next); eventIDs(again.Items) != eventIDs(first.Items) {
			t.Errorf("%+v next of the empty first page = %s, want %s", q, eventIDs(again.Items), eventIDs(first.Items))
		}
	}
}
