package store

import (
	"context"
	"time"
)

// Message is an accepted message. Its body is stored once, whatever the
// number of recipients; recipients are queue jobs.
type Message struct {
	Key       string // storage key, opaque
	Domain    string
	MessageID string // RFC 5322 Message-ID without angle brackets
	Sender    string // envelope MAIL FROM
	Size      int
	Body      []byte
	Meta      []byte // JSON owned by package send: tags, variables, options
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Job is one recipient of one message waiting for delivery.
type Job struct {
	ID            int64
	MessageKey    string
	Domain        string
	Recipient     string
	RcptDomain    string // destination: the recipient's domain
	Attempts      int    // attempts started (incremented when claimed)
	NextAttemptAt time.Time
	LeaseUntil    time.Time
	CreatedAt     time.Time
	LastError     string
	Vars          []byte // per-recipient variables (batch sends), JSON or nil
}

// Event is a message event; Data is the Events API JSON object.
type Event struct {
	Seq       int64 // commit-order cursor, assigned by the store
	ID        string
	Domain    string
	Type      string
	Severity  string
	Timestamp time.Time
	MessageID string
	Recipient string
	Data      []byte
	// Part and PartAt are set only by Events with EventQuery.Split: Data
	// is then the event's JSON without its message-level members, which
	// go back at byte PartAt (see JSON). Part is "" otherwise.
	Part   string
	PartAt int
	// Facts, when set, are what the event's counters depend on, given by
	// whoever built Data so the store need not parse it again (an event
	// of a message with many recipients can be large). Nil: the store
	// reads them from Data.
	Facts *EventFacts
}

// EventFacts are the parts of an event that stats counters depend on.
type EventFacts struct {
	Reason          string
	Tags            []string
	Transport       string // envelope.transport
	IsRouted        bool
	IsDelayedBounce bool
}

// Idempotency remembers the response to a request carrying an
// Idempotency-Key, so a retry returns it instead of sending again.
type Idempotency struct {
	Domain      string
	Key         string
	Fingerprint string
	Response    []byte
	ExpiresAt   time.Time
}

// Accept is everything one accepted submission writes, in one transaction.
type Accept struct {
	Message     Message
	Jobs        []Job
	Events      []Event
	Idempotency *Idempotency
	// Now is when the submission was made: idempotency records that
	// expired by then are ignored (the wall clock when zero).
	Now time.Time
	// Screen, when set, is called inside the accept transaction with the
	// suppressions matching each job's recipient (MatchSuppressions). When
	// it returns an event for Jobs[i], that job is not queued and the
	// event is written after Events. It may run more than once.
	Screen func(i int, hits []Suppression) *Event
}

// Outcome is the result of one delivery attempt of a job, written with its
// events in one transaction.
type Outcome struct {
	JobID int64
	// Done removes the job from the queue (delivered or failed for good);
	// otherwise it waits until NextAttemptAt.
	Done          bool
	NextAttemptAt time.Time
	LastError     string
	Events        []Event
	// Bounce, when set, is added to the bounces in the same transaction,
	// unless the address or its domain is on the allowlist.
	Bounce *Suppression
	// Stored, when set, is a message written in the same transaction:
	// capture mode's copy of what the job would have sent, kept so the
	// storage API and the dashboard's Inbox can read it back.
	Stored *Message
}

// Claim asks for due jobs.
type Claim struct {
	Now   time.Time
	Lease time.Duration
	Owner string
	Limit int
	// Skip leaves out destinations that are already at their connection limit.
	Skip []string
}

// DestinationStats describes what waits for one destination domain.
type DestinationStats struct {
	RcptDomain    string
	Waiting       int
	Due           int
	InFlight      int
	NextAttemptAt time.Time
	LastError     string
}

// EventQuery selects events of one domain in time order. Begin is
// inclusive and End exclusive; zero values are open. After continues from
// a cursor (exclusive) in the query's direction.
type EventQuery struct {
	Domain    string
	Begin     time.Time
	End       time.Time
	Ascending bool
	After     *Cursor
	Type      string // exact event type, "" for any
	Recipient string // exact recipient, "" for any
	MessageID string // exact Message-ID, "" for any
	Limit     int
	// Split lets the store return an event as Data, Part and PartAt
	// instead of joining them: a caller that only writes the JSON out
	// (the Events API) then copies each message's part once per event
	// into its output, not into a joined copy first.
	Split bool
}

// Cursor is a position in an event stream.
type Cursor struct {
	TS  int64 // microseconds
	Seq int64
}

// MessageStore is the message path's part of the regional store.
type MessageStore interface {
	// Accept writes a submission durably. When the idempotency key was
	// used before (and has not expired) nothing is written and the stored
	// record is returned instead.
	Accept(ctx context.Context, a Accept) (previous *Idempotency, err error)
	Message(ctx context.Context, domain, key string) (Message, error)
	// Messages returns the stored messages of domain among keys, in no
	// order; keys not stored are left out.
	Messages(ctx context.Context, domain string, keys []string) ([]Message, error)
	// ClaimJobs leases due jobs: their attempt count goes up and they stay
	// invisible to other claims until the lease ends. A job is due once its
	// NextAttemptAt has come and its lease, if any, has ended; the earliest
	// NextAttemptAt comes first, then the lowest ID.
	ClaimJobs(ctx context.Context, c Claim) ([]Job, error)
	// Complete records attempt outcomes.
	Complete(ctx context.Context, outcomes []Outcome) error
	// ReleaseJobs gives leased jobs back without counting an attempt
	// (shutdown), due at at. Jobs that are not leased are left alone.
	ReleaseJobs(ctx context.Context, ids []int64, at time.Time) error
	// RenewLeases extends to until the leases of the given jobs that owner
	// still holds (a job whose lease ended and went to another owner is
	// left alone).
	RenewLeases(ctx context.Context, owner string, ids []int64, until time.Time) error
	QueueStats(ctx context.Context, domain string, now time.Time) ([]DestinationStats, error)
	// ReleaseDeferred makes due at now the jobs not leased, due later,
	// whose last error starts with marker, of destination rcptDomain ("":
	// every destination), in one statement, and returns how many. The
	// delivery engine defers a dead destination's jobs with a marked
	// error and releases them when the destination answers again.
	ReleaseDeferred(ctx context.Context, rcptDomain, marker string, now time.Time) (int, error)
	JobsOfMessage(ctx context.Context, domain, messageID string) ([]Job, error)
	// NextDue is the earliest next attempt among jobs not leased, zero if none.
	NextDue(ctx context.Context) (time.Time, error)
	// Purge removes messages and idempotency records past their expiry, and
	// events older than eventsBefore. It returns how many messages went.
	Purge(ctx context.Context, now, eventsBefore time.Time) (int, error)

	AppendEvents(ctx context.Context, events []Event) error
	Events(ctx context.Context, q EventQuery) ([]Event, error)
}

// JSON is the event's JSON: Data, with Part put back when Events split it.
func (e Event) JSON() []byte {
	if e.Part == "" || e.PartAt < 0 || e.PartAt > len(e.Data) {
		return e.Data
	}
	out := make([]byte, 0, len(e.Data)+len(e.Part))
	return append(append(append(out, e.Data[:e.PartAt]...), e.Part...), e.Data[e.PartAt:]...)
}
