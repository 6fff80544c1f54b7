package sqlstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"github.com/salvo-email/salvo/internal/store"
)

// Event parts. An event's JSON repeats what its message holds: the
// message's headers (a To header of 1,000 addresses is 30 KB), tags, user
// variables, flags and storage. Every event of the message would store it
// again, so the store cuts that run of members out of the JSON when it is
// written and keeps it once, in event_parts, under (domain, message id,
// digest of the run); the event row keeps the rest and where the run was
// cut (part_at). Reading puts the run back at that byte offset, so the
// JSON read is byte for byte the JSON written, whatever the writer put in
// it. Rows written before migration 0017 have no part and hold the whole
// JSON; both read alike.
//
// The run is the members from "message" through the message-level members
// that follow it without a gap ("flags", "tags", "campaigns",
// "user-variables", "storage", in mgapi.Event's order). Two events whose
// runs are equal share one part row: all events of a message sent to many
// recipients in one To header, and most events of a single recipient.
// Events that differ (a batch send's per-recipient To and variables) get a
// part each, which costs about what the inline JSON did.

// partMin is the shortest run worth cutting out: a shorter one costs less
// inline than its part row and index entry.
const partMin = 512

// partMembers are the members a run may hold, "message" first.
var partMembers = map[string]bool{"message": true, "flags": true, "tags": true, "campaigns": true,
	"user-variables": true, "storage": true}

// eventPart is the cut-out run of an event.
type eventPart struct {
	domain, messageID, digest string
	body                      string
}

// splitEvent cuts the message-level run out of data, a compact JSON
// object. It returns data unchanged and at = -1 when there is no run worth
// cutting (or data is not what json.Marshal writes). Otherwise
// joinEvent(rest, run, at) == data.
func splitEvent(data []byte) (rest, run []byte, at int) {
	members, ok := topMembers(data)
	if !ok {
		return data, nil, -1
	}
	start, end := -1, -1
	for _, m := range members {
		switch {
		case start < 0 && m.key == "message":
			start, end = m.start, m.end
		case start >= 0 && partMembers[m.key]:
			end = m.end
		case start >= 0:
			goto cut
		}
	}
cut:
	if start < 2 || data[start-1] != ',' || end-start < partMin {
		return data, nil, -1
	}
	// Cut the run with the comma before it (message is never first: id
	// and event come before it), so that the rest stays a JSON object.
	from := start - 1
	rest = make([]byte, 0, len(data)-(end-from))
	rest = append(append(rest, data[:from]...), data[end:]...)
	return rest, data[from:end], from
}

// joinEvent puts a run back where splitEvent cut it.
func joinEvent(rest, run string, at int) []byte {
	if at < 0 || at > len(rest) {
		return []byte(rest)
	}
	out := make([]byte, 0, len(rest)+len(run))
	return append(append(append(out, rest[:at]...), run...), rest[at:]...)
}

// partDigest names a run among its message's parts.
func partDigest(run []byte) string {
	sum := sha256.Sum256(run)
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

type member struct {
	key        string
	start, end int // the member's bytes: from its key's quote to its value's end
}

// topMembers lists the members of a compact JSON object (no whitespace
// between tokens, as json.Marshal writes). Keys with escapes are returned
// raw; they never name a run member.
func topMembers(data []byte) ([]member, bool) {
	if len(data) < 2 || data[0] != '{' || data[len(data)-1] != '}' {
		return nil, false
	}
	var out []member
	i := 1
	for i < len(data)-1 {
		if len(out) > 0 {
			if data[i] != ',' {
				return nil, false
			}
			i++
		}
		start := i
		keyEnd, ok := skipString(data, i)
		if !ok || keyEnd >= len(data) || data[keyEnd] != ':' {
			return nil, false
		}
		end, ok := skipValue(data, keyEnd+1)
		if !ok {
			return nil, false
		}
		out = append(out, member{key: string(data[start+1 : keyEnd-1]), start: start, end: end})
		i = end
	}
	return out, i == len(data)-1
}

// skipString returns the offset just past the JSON string starting at i.
func skipString(data []byte, i int) (int, bool) {
	if i >= len(data) || data[i] != '"' {
		return 0, false
	}
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// skipValue returns the offset just past the JSON value starting at i.
func skipValue(data []byte, i int) (int, bool) {
	depth := 0
	for j := i; j < len(data); j++ {
		c := data[j]
		switch c {
		case '"':
			e, ok := skipString(data, j)
			if !ok {
				return 0, false
			}
			j = e - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth < 0 {
				return j, j > i // the object's end: a scalar ended here
			}
		case ',':
			if depth == 0 {
				return j, j > i
			}
		case ' ', '\t', '\n', '\r':
			return 0, false // not compact
		}
		if depth == 0 && (c == '}' || c == ']' || c == '"') {
			return j + 1, true
		}
	}
	return 0, false
}

// eventCols are the columns of an event row; part and part_at say where
// its run is (NULL and -1 when inline).
var eventCols = []string{"id", "domain", "type", "severity", "ts", "message_id", "recipient", "data", "part", "part_at"}

// eventRow is e's row and the part it references, if any.
func eventRow(e store.Event) ([]any, *eventPart) {
	rest, run, at := splitEvent(e.Data)
	var part any
	var p *eventPart
	if at >= 0 {
		p = &eventPart{domain: e.Domain, messageID: e.MessageID, digest: partDigest(run), body: string(run)}
		part = p.digest
	}
	return []any{e.ID, e.Domain, e.Type, e.Severity, e.Timestamp.UnixMicro(), e.MessageID, e.Recipient,
		string(rest), part, at}, p
}

type partKey struct{ domain, messageID, digest string }

// insertEvent queues an event row and its part (once per transaction).
func (t *Tx) insertEvent(e store.Event) {
	row, p := eventRow(e)
	t.later("events", eventCols, row)
	if p == nil {
		return
	}
	k := partKey{p.domain, p.messageID, p.digest}
	if t.parts == nil {
		t.parts = map[partKey]int{}
	}
	ts := e.Timestamp.UnixMicro()
	if i, ok := t.parts[k]; ok {
		t.partRows[i][4] = max(t.partRows[i][4].(int64), ts)
		return
	}
	t.parts[k] = len(t.partRows)
	t.partRows = append(t.partRows, []any{p.domain, p.messageID, p.digest, p.body, ts})
}

var partCols = []string{"domain", "message_id", "digest", "body", "ts"}

// flushParts writes the transaction's parts. A part already stored gets
// the newer ts: it is the time of the latest event that uses it, and the
// update locks the row, so a purge running at the same time (which
// deletes only parts older than its cutoff that no event uses) cannot
// remove a part this transaction's events are about to use.
func (t *Tx) flushParts(ctx context.Context) error {
	rows := t.partRows
	t.parts, t.partRows = nil, nil
	return t.upsertRows(ctx, "event_parts", partCols, rows,
		` ON CONFLICT (domain, message_id, digest) DO UPDATE SET ts = excluded.ts WHERE event_parts.ts < excluded.ts`)
}

// storedEvent is an event row as read, before its part is put back.
type storedEvent struct {
	data   string
	part   *string
	partAt int
}

// joinParts returns the JSON of the events read, their parts put back;
// messageIDs[i] is evs[i]'s message id.
func (r *Regional) joinParts(ctx context.Context, domain string, evs []storedEvent, messageIDs []string) ([][]byte, error) {
	parts, err := r.readParts(ctx, domain, evs, messageIDs)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(evs))
	for i, e := range evs {
		if e.part == nil {
			out[i] = []byte(e.data)
			continue
		}
		// A part missing (it cannot be, bar a damaged database) leaves
		// the event without its message-level members, still JSON.
		out[i] = joinEvent(e.data, parts[i], e.partAt)
	}
	return out, nil
}

// readParts returns the part of each event read ("" for an event stored
// whole); messageIDs[i] is evs[i]'s message id.
func (r *Regional) readParts(ctx context.Context, domain string, evs []storedEvent, messageIDs []string) ([]string, error) {
	type want struct{ messageID, digest string }
	var keys []want
	bodies := map[want]string{}
	seen := map[want]bool{}
	for i, e := range evs {
		if e.part == nil {
			continue
		}
		w := want{messageIDs[i], *e.part}
		if seen[w] {
			continue
		}
		seen[w] = true
		if body, ok := r.parts.get(partCacheKey{domain, w.messageID, w.digest}); ok {
			bodies[w] = body
			continue
		}
		keys = append(keys, w)
	}
	// One query per chunk of (message id, digest) pairs: the pairs are a
	// VALUES list that drives the join, each an index seek on the primary
	// key (domain, message_id, digest). CROSS JOIN makes SQLite take the
	// list as the outer loop (PostgreSQL plans it as an inner join). An OR
	// of pairs made SQLite compare every part of the domain with every
	// pair (a batch send has a part per recipient), and a query per
	// message cost PostgreSQL a round trip per message (300 on a page of
	// recipient=X).
	const chunk = 200
	for start := 0; start < len(keys); start += chunk {
		part := keys[start:min(len(keys), start+chunk)]
		args := make([]any, 0, 1+2*len(part))
		var q strings.Builder
		q.WriteString(`WITH k(m, d) AS (VALUES `)
		for i, k := range part {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(`(CAST(? AS TEXT), CAST(? AS TEXT))`)
			args = append(args, k.messageID, k.digest)
		}
		q.WriteString(`) SELECT k.m, k.d, p.body FROM k CROSS JOIN event_parts p
			WHERE p.domain = ? AND p.message_id = k.m AND p.digest = k.d`)
		args = append(args, domain)
		rows, err := r.query(ctx, q.String(), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var w want
			var body string
			if err := rows.Scan(&w.messageID, &w.digest, &body); err != nil {
				rows.Close()
				return nil, err
			}
			bodies[w] = body
			r.parts.put(partCacheKey{domain, w.messageID, w.digest}, body)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]string, len(evs))
	for i, e := range evs {
		if e.part != nil {
			out[i] = bodies[want{messageIDs[i], *e.part}]
		}
	}
	return out, nil
}
