package events

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// Filterable fields of the Events API.
var filterFields = map[string]bool{
	"event": true, "list": true, "attachment": true, "from": true, "message-id": true, "subject": true,
	"to": true, "size": true, "recipient": true, "recipients": true, "tags": true, "severity": true,
}

// Query is a whole Events API request; page tokens encode it, so that a
// token alone (mailgun.js keeps only the last path segment) is enough to
// continue, and so that re-requesting an ascending page later returns what
// arrived since (mailgun-go's PollEvents).
type Query struct {
	Begin     int64               `json:"b,omitempty"` // µs, 0 = open
	End       int64               `json:"e,omitempty"` // µs, 0 = open
	Ascending bool                `json:"a,omitempty"`
	Limit     int                 `json:"l"`
	Filters   map[string][]string `json:"f,omitempty"`
	Cursor    *store.Cursor       `json:"c,omitempty"`
	// Reverse pages walk against the query's direction (previous, last)
	// and are turned back before they are returned.
	Reverse bool `json:"r,omitempty"`
}

const (
	defaultLimit = 100
	maxLimit     = 300
	// scanBudget bounds how many stored events one request examines when
	// filters reject most of them; the page then ends early and its next
	// link continues the scan.
	scanBudget = 5000
)

// ParseQuery reads the parameters of GET /v3/{domain}/events. Parameters
// that are neither filters nor options are ignored, as Mailgun ignores
// them, and recorded on p (mgapi.Params.Ignore); known ones with bad values
// are refused.
func ParseQuery(p *mgapi.Params) (Query, error) {
	q := Query{Limit: defaultLimit, Filters: map[string][]string{}}
	var unknown []string
	for _, name := range p.Names() {
		switch {
		case name == "begin" || name == "end" || name == "ascending" || name == "limit" || name == "pretty":
		case filterFields[name]:
			for _, v := range p.All(name) {
				if _, err := parseExpr(v); err != nil {
					return q, fault.Invalidf("invalid '%s' filter %q: %v", name, v, err)
				}
				q.Filters[name] = append(q.Filters[name], v)
			}
		default:
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		p.Ignore(unknown...)
	}
	var begin, end time.Time
	var err error
	if v := p.Get("begin"); v != "" {
		if begin, err = mgapi.ParseDate(v); err != nil {
			return q, fault.Invalidf("%v", err)
		}
	}
	if v := p.Get("end"); v != "" {
		if end, err = mgapi.ParseDate(v); err != nil {
			return q, fault.Invalidf("%v", err)
		}
	}
	if q.Limit, err = p.Int("limit", defaultLimit, 1, maxLimit); err != nil {
		return q, err
	}
	// Direction: explicit ascending wins; else end before begin means
	// descending; begin alone means ascending; nothing means newest first.
	q.Ascending = !begin.IsZero() && (end.IsZero() || !end.Before(begin))
	if p.Get("ascending") != "" {
		asc, err := p.Bool("ascending", false)
		if err != nil {
			return q, err
		}
		if !begin.IsZero() && !end.IsZero() && asc != !end.Before(begin) {
			return q, fault.Invalidf("'ascending' contradicts the order of 'begin' and 'end'")
		}
		q.Ascending = asc
	}
	// Store the range as [low, high) whatever the direction.
	low, high := begin, end
	if !end.IsZero() && !begin.IsZero() && end.Before(begin) {
		low, high = end, begin
	} else if !q.Ascending && !begin.IsZero() && end.IsZero() {
		low, high = time.Time{}, begin // descending from begin back in time
	}
	if !low.IsZero() {
		q.Begin = low.UnixMicro()
	}
	if !high.IsZero() {
		q.End = high.UnixMicro()
	}
	return q, nil
}

// Token encodes q for a page URL (base64url: no '/').
func (q Query) Token() string {
	b, _ := json.Marshal(q)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseToken decodes a page token.
func ParseToken(tok string) (Query, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return Query{}, fault.Invalidf("invalid page token")
	}
	var q Query
	if err := json.Unmarshal(b, &q); err != nil || q.Limit < 1 || q.Limit > maxLimit {
		return Query{}, fault.Invalidf("invalid page token")
	}
	for name, vs := range q.Filters {
		for _, v := range vs {
			if _, err := parseExpr(v); err != nil || !filterFields[name] {
				return Query{}, fault.Invalidf("invalid page token")
			}
		}
	}
	return q, nil
}

// Page is one page of results with the queries of its neighbours.
type Page struct {
	Items                       []json.RawMessage
	First, Last, Next, Previous Query
	// Parts is set by FetchSplit when the store split the items: item i
	// is then Items[i] with Parts[i].Part put back at Parts[i].At (no
	// part when it is "").
	Parts []Part
}

// Part is the message-level members of an item, cut out at At.
type Part struct {
	Part string
	At   int
}

// Fetch runs q against the store.
func Fetch(ctx context.Context, s store.MessageStore, domain string, q Query) (Page, error) {
	return fetch(ctx, s, domain, q, false)
}

// FetchSplit is Fetch for a caller that writes the items out and puts
// their parts back as it writes (Page.Parts), so that a page of events of
// a message with a large header holds that header once, not once per
// event. Items a filter must read are joined as Fetch joins them.
func FetchSplit(ctx context.Context, s store.MessageStore, domain string, q Query) (Page, error) {
	return fetch(ctx, s, domain, q, true)
}

func fetch(ctx context.Context, s store.MessageStore, domain string, q Query, split bool) (Page, error) {
	flt, err := compile(q.Filters)
	if err != nil {
		return Page{}, err
	}
	asc := q.Ascending != q.Reverse
	sq := store.EventQuery{Domain: domain, Ascending: asc, After: q.Cursor, Limit: q.Limit}
	if q.Begin != 0 {
		sq.Begin = time.UnixMicro(q.Begin)
	}
	if q.End != 0 {
		sq.End = time.UnixMicro(q.End)
	}
	flt = flt.pushDown(&sq)
	sq.Split = split && flt.empty()
	var items []json.RawMessage
	var parts []Part
	var firstMatch, scanPos *store.Cursor
	scanned := 0
scan:
	for len(items) < q.Limit && scanned < scanBudget {
		sq.Limit = q.Limit - len(items)
		if !flt.empty() {
			sq.Limit = max(sq.Limit, 200)
		}
		rows, err := s.Events(ctx, sq)
		if err != nil {
			return Page{}, err
		}
		for _, ev := range rows {
			scanned++
			c := &store.Cursor{TS: ev.Timestamp.UnixMicro(), Seq: ev.Seq}
			sq.After, scanPos = c, c
			if !flt.match(ev.Data) {
				continue
			}
			if firstMatch == nil {
				firstMatch = c
			}
			items = append(items, ev.Data)
			if sq.Split {
				parts = append(parts, Part{ev.Part, ev.PartAt})
			}
			if len(items) == q.Limit {
				break scan
			}
		}
		if len(rows) < sq.Limit {
			break
		}
	}
	if q.Reverse {
		slices.Reverse(items)
		slices.Reverse(parts)
	}
	p := neighbours(q, items, firstMatch, scanPos)
	p.Parts = parts
	return p, nil
}

// neighbours builds the page and its links. scanPos is where the scan
// stopped, firstMatch the first item in scan order. An empty page keeps
// the cursor it was asked with, so asking again later returns what arrived
// since (live ascending pages) and clients stop on the empty page.
func neighbours(q Query, items []json.RawMessage, firstMatch, scanPos *store.Cursor) Page {
	base := q
	base.Cursor, base.Reverse = nil, false
	p := Page{Items: items, First: base, Last: base, Next: base, Previous: base}
	p.Last.Reverse, p.Previous.Reverse = true, true
	forward, backward := scanPos, firstMatch
	if q.Reverse {
		forward, backward = firstMatch, scanPos
	}
	if len(items) == 0 && q.Cursor != nil {
		// An empty page sits just past its cursor's event, so the link
		// that turns back must include that event. Cursors are exclusive;
		// moving seq by one towards the way back makes this one inclusive
		// (seqs are integers, so no event lies in between).
		back := *q.Cursor
		if q.Ascending != q.Reverse {
			back.Seq++ // this page ascended: the way back descends
		} else {
			back.Seq--
		}
		if q.Reverse {
			forward = &back
		} else {
			backward = &back
		}
	}
	if forward == nil {
		forward = q.Cursor
	}
	if backward == nil {
		backward = q.Cursor
	}
	p.Next.Cursor, p.Previous.Cursor = forward, backward
	return p
}
