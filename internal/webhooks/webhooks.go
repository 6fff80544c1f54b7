// Package webhooks signs and delivers HTTP notifications: event webhooks
// (docs/mailgun-contract.md §8) and, through the same signing, route forwards (§6.4).
//
// # Signatures
//
// A signature is hex(HMAC-SHA256(signing key, timestamp + token)) with the
// account's HTTP webhook signing key, exactly what mailgun-go's
// VerifyWebhookSignature and other receivers check (sign.go).
//
// # The outbox and its pipelines
//
// Nothing calls this package when an event happens: the events table is
// the outbox. Every (domain, URL) that some webhook of the domain names is
// one pipeline, with a cursor row in the regional store: a position in the
// domain's events, read in (txid, seq) order. A node runs a pipeline only
// while it holds the cursor's lease (its manager renews the leases of
// every pipeline it runs every third of a lease, however long their steps
// take), so one pipeline runs on one node at a time and a dead node's
// pipelines come back when their leases end. A cursor's batch is written
// only by the lease holder and only from the position it read, so a
// pipeline that lost its cursor (to another node, or because the URL was
// removed and added again) stops instead of moving it.
//
// A new URL's cursor starts at the outbox's end: only events after the
// change reach it (on PostgreSQL, events of transactions still in flight
// then are after it too, and a few that committed just before may come).
//
// A pipeline repeats two steps:
//
//   - New events: read up to Batch events past the cursor, POST those whose
//     kind the URL subscribes to (up to PerURL at once, each bounded by
//     Timeout), then in one transaction move the cursor past the whole
//     batch and record, for each failed POST, a retry row. The cursor never
//     waits for a failing event: it moves on and the event waits in the
//     retries table instead, so a retried event never blocks later ones.
//   - Retries: POST the retries that are due (by the clock seam, so tests
//     run the schedule with a fake clock), then in one transaction delete
//     those that succeeded or are given up and reschedule the others.
//
// Each event reaches each subscribed URL at least once. The cursor moves
// and retries end only after their POSTs were answered, so a crash
// between a POST and its transaction repeats that POST after the restart
// (a duplicate only after a crash); in normal operation nothing is posted
// twice: one node holds a pipeline, and Stop lets the steps in flight
// finish and record what they did. Past Stop's deadline, POSTs still in
// flight are cut and recorded as due again at once (a receiver that had
// already handled one sees it again).
//
// Concurrency is limited per URL (PerURL POSTs in flight, shared by every
// domain posting to it) and every POST has a timeout, so a slow or dead
// endpoint holds only its own pipelines; the others keep flowing.
//
// Reading (txid, seq) order: on PostgreSQL seq is assigned at insert, not
// at commit, so a reader could pass a seq whose transaction commits later.
// The store therefore only returns events of transactions older than the
// oldest transaction still in flight (pg_snapshot_xmin), a set that can no
// longer grow, in txid order; an open transaction delays the outbox but
// never makes it skip an event. On SQLite txid is 0 and the single writer
// makes seq order commit order.
//
// # Failure rules (docs/mailgun-contract.md §8.5)
//
// A 2xx answer is success. 406 Not Acceptable gives the event up at once.
// Any other status, a timeout or a connection error is retried on
// Schedule (after the first failure 5 minutes, then 10, 15, 60, 120, 240)
// until MaxAge after the first attempt, except that delivered events are
// not retried (Mailgun does not retry them). Redirects are not followed.
// Retries of an event that is gone (past event retention) or of a kind the
// URL no longer subscribes to end without a POST. Each pipeline's counts,
// last attempt and retries are visible through the API (beyond Mailgun).
package webhooks

import (
	"net/url"
	"strings"

	"github.com/salvo-email/salvo/internal/fault"
)

// Webhook kinds (docs/mailgun-contract.md §8.1), in the order lists show them.
var Kinds = []string{"accepted", "delivered", "opened", "clicked", "unsubscribed", "complained",
	"permanent_fail", "temporary_fail"}

// MaxURLs is how many URLs one kind takes.
const MaxURLs = 3

// ValidKind reports whether k is a webhook kind.
func ValidKind(k string) bool {
	for _, v := range Kinds {
		if v == k {
			return true
		}
	}
	return false
}

// KindOf is the webhook kind of an event, "" when no webhook gets it:
// failed events are permanent_fail or temporary_fail by severity.
func KindOf(eventType, severity string) string {
	switch eventType {
	case "accepted", "delivered", "opened", "clicked", "unsubscribed", "complained":
		return eventType
	case "failed":
		switch severity {
		case "permanent":
			return "permanent_fail"
		case "temporary":
			return "temporary_fail"
		}
	}
	return ""
}

// reason is a 400 with the webhook endpoints' capitalised "Reason" key.
func reason(format string, args ...any) *fault.Error {
	e := fault.Invalidf(format, args...)
	e.Key = "Reason"
	return e
}

// ErrNotFound is the 404 of a webhook kind or URL the domain does not have.
var ErrNotFound = &fault.Error{Kind: fault.NotFound, Key: "Description", Message: "Webhook not found"}

// ValidateURL checks that u is an absolute http or https URL. Credentials
// in the URL are refused: they would be stored and shown in plaintext;
// receivers authenticate posts by their signature.
func ValidateURL(u string) error {
	if len(u) > 2048 {
		return reason("%s… is not a valid url: longer than 2048 characters", u[:64])
	}
	p, err := url.Parse(u)
	switch {
	case err != nil:
		return reason("%s is not a valid url: %v", u, cause(err))
	case !strings.EqualFold(p.Scheme, "http") && !strings.EqualFold(p.Scheme, "https"):
		return reason("%s is not a valid url: invalid URL scheme", u)
	case p.Host == "" || p.Hostname() == "":
		return reason("%s is not a valid url: missing host", u)
	case p.User != nil:
		return reason("%s is not a valid url: credentials in webhook URLs are not supported (receivers check the signature)", u)
	}
	return nil
}

func cause(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
