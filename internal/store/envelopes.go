package store

import (
	"context"
	"time"
)

// EnvelopeStore drops a domain's waiting mail (DELETE /v3/{d}/envelopes).
type EnvelopeStore interface {
	// WaitingJobs returns up to limit jobs of domain with an ID above
	// afterID that no delivery holds at now (never leased, or the lease
	// ended), lowest ID first. It reads the whole queue: there is no index
	// by domain, which would cost every accept a page write.
	WaitingJobs(ctx context.Context, domain string, now time.Time, afterID int64, limit int) ([]Job, error)
	// DropJobs removes, in one transaction, each job of drops (JobID) that
	// no delivery holds at now and writes that drop's Events; a job claimed
	// meanwhile is left with its events unwritten. It returns how many
	// jobs went.
	DropJobs(ctx context.Context, drops []Outcome, now time.Time) (int, error)
}
