package store

import (
	"context"
	"maps"
	"slices"
	"time"
)

// WebhookSet is a domain's webhooks (docs/mailgun-contract.md §8): for each kind
// (accepted, delivered, permanent_fail, …) its URLs in the order they were
// given. Kinds without URLs are absent.
type WebhookSet map[string][]string

// URLs returns every URL of the set once, in kind then list order.
func (s WebhookSet) URLs() []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(s)) {
		for _, u := range s[k] {
			if !seen[u] {
				seen[u] = true
				out = append(out, u)
			}
		}
	}
	return out
}

// OutboxPos is a position in the event outbox. Readers take events in
// (TxID, Seq) order: TxID is the writing transaction (PostgreSQL; always 0
// on SQLite), so that an event whose transaction commits late is never
// behind a position a reader has passed (see OutboxEvents).
type OutboxPos struct {
	TxID int64
	Seq  int64
}

// Less orders positions.
func (p OutboxPos) Less(q OutboxPos) bool {
	return p.TxID < q.TxID || p.TxID == q.TxID && p.Seq < q.Seq
}

// OutboxEvent is an event with its outbox position.
type OutboxEvent struct {
	Event
	TxID int64
}

// Pos is the event's outbox position.
func (e OutboxEvent) Pos() OutboxPos { return OutboxPos{TxID: e.TxID, Seq: e.Seq} }

// WebhookCursor is the state of one (domain, URL) webhook pipeline: how far
// it has read the outbox, who holds it, and a summary of its attempts.
type WebhookCursor struct {
	Domain     string
	URL        string
	Pos        OutboxPos
	LeaseOwner string
	LeaseUntil time.Time
	CreatedAt  time.Time
	// Posted counts POSTs answered 2xx; Failures every other attempt;
	// Dropped the events given up (406, not retried, or too old).
	Posted, Failures, Dropped int64
	LastAttemptAt             time.Time
	LastStatus                int // HTTP status, 0 when there was no answer
	LastError                 string
}

// WebhookRetry is an event waiting for another POST to one URL.
type WebhookRetry struct {
	Domain         string
	URL            string
	EventSeq       int64
	EventID        string
	Kind           string
	Attempts       int // attempts made so far
	FirstAttemptAt time.Time
	LastAttemptAt  time.Time
	NextAttemptAt  time.Time
	LastStatus     int
	LastError      string
	// Data is the event JSON, read from the events table (nil when the
	// event is gone).
	Data []byte
}

// WebhookBatch is what one step of a pipeline writes, in one transaction:
// the cursor's new position, the retries it schedules or ends, and its
// attempt counters.
type WebhookBatch struct {
	Domain, URL, Owner string
	// Advance moves the cursor from From (where the writer read it) to
	// Advance; nil keeps it. A cursor that is no longer at From (removed
	// and added again meanwhile) is not written.
	From, Advance *OutboxPos
	// Retry schedules (or reschedules) these events; Done ends the retries
	// of these event seqs.
	Retry []WebhookRetry
	Done  []int64
	// Counters to add, and the last attempt (zero LastAttemptAt: no
	// attempt was made, the summary is kept).
	Posted, Failures, Dropped int64
	LastAttemptAt             time.Time
	LastStatus                int
	LastError                 string
}

// WebhookStore is the webhooks' part of the regional store.
type WebhookStore interface {
	// Webhooks returns a domain's webhooks (an empty set when none).
	Webhooks(ctx context.Context, domain string) (WebhookSet, error)
	// UpdateWebhooks replaces a domain's webhooks by edit(current) in one
	// transaction that excludes other edits of the domain; an error from
	// edit changes nothing and is returned. A URL new to the domain gets a
	// cursor at the outbox's end (only events after the change reach it); a
	// URL the domain no longer uses loses its cursor and retries.
	// ErrNotFound when the domain does not exist. edit may run more than
	// once.
	UpdateWebhooks(ctx context.Context, domain string, now time.Time, edit func(WebhookSet) (WebhookSet, error)) (WebhookSet, error)

	// WebhookCursors lists the cursors of a domain, or of every domain when
	// domain is "", by domain and URL.
	WebhookCursors(ctx context.Context, domain string) ([]WebhookCursor, error)
	// LeaseWebhookCursor gives owner the cursor until until, if owner
	// holds it already or its lease ended by now. It reports whether owner
	// holds it; false also when the cursor does not exist.
	LeaseWebhookCursor(ctx context.Context, domain, url, owner string, now, until time.Time) (bool, error)
	// ReleaseWebhookCursor ends owner's lease, if it holds it.
	ReleaseWebhookCursor(ctx context.Context, domain, url, owner string) error

	// OutboxEvents returns up to limit events of domain after the
	// position, in (TxID, Seq) order, that no transaction still in progress
	// can precede: on PostgreSQL only events of transactions older than
	// every transaction in flight (pg_snapshot_xmin), whose set is final;
	// on SQLite, where the one writer makes Seq order commit order, every
	// committed event. A reader that moves past what it read never skips
	// an event that commits later.
	OutboxEvents(ctx context.Context, domain string, after OutboxPos, limit int) ([]OutboxEvent, error)
	// OutboxHead changes whenever OutboxEvents may return something new
	// for some cursor: the newest Seq and the in-flight horizon.
	OutboxHead(ctx context.Context) (OutboxPos, error)

	// WebhookRetries returns the retries of one URL of a domain, those due
	// by dueBy (all when dueBy is zero), earliest next attempt first.
	WebhookRetries(ctx context.Context, domain, url string, dueBy time.Time, limit int) ([]WebhookRetry, error)
	// RecordWebhookBatch writes b if b.Owner still holds the cursor (and
	// it is at b.From when b.Advance is set); ErrNotFound (and nothing
	// written) otherwise.
	RecordWebhookBatch(ctx context.Context, b WebhookBatch) error
}
