package events

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/store"
)

// LogsQuery is a page request of POST /v1/analytics/logs (Mailgun's newer
// logs API) over several domains' events, merged in time order.
type LogsQuery struct {
	Start, End time.Time
	Domains    []string
	// Types, Recipients and MessageIDs keep events with one of the
	// values (nil: any); the Not sets drop them.
	Types, Recipients, MessageIDs          map[string]bool
	NotTypes, NotRecipients, NotMessageIDs map[string]bool
	Ascending                              bool
	Limit                                  int
	After                                  *store.Cursor
}

// LogsPage is one page of logs: the events' JSON and the cursor of the
// next page (nil on the last).
type LogsPage struct {
	Items []map[string]any
	Next  *store.Cursor
}

// maxLogsScan bounds the events read for one page when filters cannot be
// pushed into the store: a page can then end early, with a next token.
const maxLogsScan = 5000

// Logs reads one page. Each round reads a batch of every domain after the
// cursor, merges them, and takes only the events before the first place
// where a domain's batch ran out, so no domain's later events are skipped.
func Logs(ctx context.Context, s store.MessageStore, q LogsQuery) (LogsPage, error) {
	var page LogsPage
	cur := q.After
	batch := min(q.Limit+1, 300)
	scanned := 0
	for {
		var merged []store.Event
		var bound *store.Cursor // the first position some full batch ends at
		for _, d := range q.Domains {
			eq := store.EventQuery{Domain: d, Begin: q.Start, End: q.End, Ascending: q.Ascending, After: cur, Limit: batch,
				Type: only(q.Types), Recipient: only(q.Recipients), MessageID: only(q.MessageIDs)}
			evs, err := s.Events(ctx, eq)
			if err != nil {
				return page, err
			}
			merged = append(merged, evs...)
			if len(evs) == batch {
				last := cursorOf(evs[len(evs)-1])
				if bound == nil || precedes(last, *bound, q.Ascending) {
					bound = &last
				}
			}
		}
		sort.Slice(merged, func(i, j int) bool { return precedes(cursorOf(merged[i]), cursorOf(merged[j]), q.Ascending) })
		for _, e := range merged {
			c := cursorOf(e)
			if bound != nil && precedes(*bound, c, q.Ascending) {
				break
			}
			cur = &c
			scanned++
			if !q.keep(e) {
				continue
			}
			item, err := logItem(e)
			if err != nil {
				return page, err
			}
			page.Items = append(page.Items, item)
			if len(page.Items) == q.Limit {
				page.Next = cur
				return page, nil
			}
		}
		if bound == nil {
			return page, nil // every domain's events are read
		}
		if scanned >= maxLogsScan {
			page.Next = cur
			return page, nil
		}
	}
}

func only(set map[string]bool) string {
	if len(set) != 1 {
		return ""
	}
	for v := range set {
		return v
	}
	return ""
}

func cursorOf(e store.Event) store.Cursor {
	return store.Cursor{TS: e.Timestamp.UnixMicro(), Seq: e.Seq}
}

// precedes reports whether a comes before b in the query's direction.
func precedes(a, b store.Cursor, asc bool) bool {
	if a.TS != b.TS {
		return (a.TS < b.TS) == asc
	}
	return (a.Seq < b.Seq) == asc
}

func (q LogsQuery) keep(e store.Event) bool {
	in := func(set map[string]bool, v string) bool { return set == nil || set[v] }
	out := func(set map[string]bool, v string) bool { return set[v] }
	return in(q.Types, e.Type) && in(q.Recipients, e.Recipient) && in(q.MessageIDs, e.MessageID) &&
		!out(q.NotTypes, e.Type) && !out(q.NotRecipients, e.Recipient) && !out(q.NotMessageIDs, e.MessageID)
}

// logItem turns a stored event (the Events API's JSON) into a logs item:
// "@timestamp" (RFC 3339, milliseconds, UTC) instead of "timestamp",
// "domain" as {"name": …} and "recipient-domain".
func logItem(e store.Event) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(e.Data, &m); err != nil {
		return nil, fmt.Errorf("event %s: %w", e.ID, err)
	}
	delete(m, "timestamp")
	m["@timestamp"] = e.Timestamp.UTC().Format("2006-01-02T15:04:05.000Z")
	m["domain"] = map[string]string{"name": e.Domain}
	if at := strings.LastIndexByte(e.Recipient, '@'); at >= 0 {
		m["recipient-domain"] = e.Recipient[at+1:]
	}
	return m, nil
}

// LogsToken writes a cursor as an opaque pagination token.
func LogsToken(c store.Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d.%d", c.TS, c.Seq)))
}

// ParseLogsToken reads a token of LogsToken.
func ParseLogsToken(tok string) (*store.Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	var c store.Cursor
	if err == nil {
		_, err = fmt.Sscanf(string(b), "%d.%d", &c.TS, &c.Seq)
	}
	if err != nil {
		return nil, fault.Invalidf("'pagination.token' is not a token this API gave")
	}
	return &c, nil
}
