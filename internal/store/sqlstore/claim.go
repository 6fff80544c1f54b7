package sqlstore

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/salvo-email/salvo/internal/store"
)

// Claims. A claim leases the due, unleased jobs that come first in
// (next_attempt_at, id) order, at most Limit, leaving out the destinations
// in Skip (at their connection limit, or waiting for one).
//
// Without Skip the claim walks queue_due from the earliest job and stops
// after Limit: its cost is Limit rows. With Skip that walk would also read
// every due job of the skipped destinations before it found others' (a
// million due jobs for one busy provider was about 0.2 s per claim), so it
// reads the queue destination by destination instead, through
// queue_destination (rcpt_domain, next_attempt_at, id): one index seek per
// destination with queued jobs to find them (a loose index scan), and for
// each one not skipped, at most Limit of its earliest due jobs. The cost
// follows the number of destinations and Limit, never the size of a
// skipped destination's backlog. The chosen set is the same either way:
// the first Limit due jobs in (next_attempt_at, id) order among the
// destinations not skipped.

// destinationsCTE lists the queue's distinct destinations by a loose index
// scan of queue_destination: one seek per destination, whatever its jobs.
const destinationsCTE = `WITH RECURSIVE dests(d) AS (
	SELECT MIN(rcpt_domain) FROM queue
	UNION ALL
	SELECT (SELECT MIN(rcpt_domain) FROM queue WHERE rcpt_domain > dests.d) FROM dests WHERE dests.d IS NOT NULL)
`

// leaseSet is the claim's update of the rows it chose.
const leaseSet = `UPDATE queue SET lease_until = ?, lease_owner = ?, attempts = attempts + 1`

// ClaimJobs implements store.MessageStore.
func (r *Regional) ClaimJobs(ctx context.Context, c store.Claim) ([]store.Job, error) {
	var out []store.Job
	err := r.inTx(ctx, func(tx *Tx) error {
		var err error
		switch {
		case len(c.Skip) == 0:
			out, err = r.claimInTimeOrder(ctx, tx, c)
		case r.dialect.postgres():
			out, err = r.claimByDestinationPostgres(ctx, tx, c)
		default:
			out, err = r.claimByDestinationSQLite(ctx, tx, c)
		}
		return err
	})
	// RETURNING follows no order; give the jobs in the order they were
	// chosen.
	slices.SortFunc(out, func(a, b store.Job) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return out, err
}

// placeholders is n comma-separated "?".
func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// claimInTimeOrder walks queue_due from the earliest job. Skipped
// destinations' due jobs are read and passed over, so it serves claims
// without Skip (and the benchmark's side-by-side comparison).
func (r *Regional) claimInTimeOrder(ctx context.Context, tx *Tx, c store.Claim) ([]store.Job, error) {
	now := c.Now.UnixMicro()
	args := []any{now + c.Lease.Microseconds(), c.Owner, now, now}
	skip := ""
	if len(c.Skip) > 0 {
		skip = " AND rcpt_domain NOT IN (" + placeholders(len(c.Skip)) + ")"
		for _, d := range c.Skip {
			args = append(args, d)
		}
	}
	args = append(args, c.Limit)
	lock := ""
	if r.dialect.postgres() {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	query := r.rebind(leaseSet + `
		WHERE id IN (SELECT id FROM queue WHERE next_attempt_at <= ? AND lease_until <= ?` + skip + `
			ORDER BY next_attempt_at, id LIMIT ?` + lock + `)
		RETURNING ` + jobSelect)
	rows, err := tx.rawQuery(ctx, query, r.fresh(args)...)
	if err != nil {
		return nil, err
	}
	return scanJobs(rows)
}

// claimByDestinationPostgres is the claim by destination in one statement:
// a LATERAL subquery reads each destination's earliest due jobs, the first
// Limit of them all are chosen, and only those are locked, with SKIP
// LOCKED so that a concurrent claim of another node passes over them
// instead of waiting. The lock re-checks the lease (READ COMMITTED
// re-reads a row another claim changed), so no job is claimed twice; a
// job another claim holds is left out of this one, which may then return
// fewer than Limit even though later ones are due (the next claim takes
// them).
func (r *Regional) claimByDestinationPostgres(ctx context.Context, tx *Tx, c store.Claim) ([]store.Job, error) {
	now := c.Now.UnixMicro()
	args := []any{now + c.Lease.Microseconds(), c.Owner, now, now, c.Limit}
	for _, d := range c.Skip {
		args = append(args, d)
	}
	args = append(args, c.Limit, now)
	query := r.rebind(destinationsCTE + leaseSet + `
		WHERE id IN (SELECT q.id FROM queue q WHERE q.id IN (
				SELECT c.id FROM dests CROSS JOIN LATERAL (
					SELECT id, next_attempt_at FROM queue
					WHERE rcpt_domain = dests.d AND next_attempt_at <= ? AND lease_until <= ?
					ORDER BY next_attempt_at, id LIMIT ?) c
				WHERE dests.d IS NOT NULL AND dests.d NOT IN (` + placeholders(len(c.Skip)) + `)
				ORDER BY c.next_attempt_at, c.id LIMIT ?)
			AND q.lease_until <= ? FOR UPDATE OF q SKIP LOCKED)
		RETURNING ` + jobSelect)
	rows, err := tx.rawQuery(ctx, query, r.fresh(args)...)
	if err != nil {
		return nil, err
	}
	return scanJobs(rows)
}

// claimByDestinationSQLite is the claim by destination in steps (SQLite
// has no LATERAL; its single writer makes the steps one atomic claim): the
// destinations not skipped that have a due job, then each one's earliest
// due jobs, merged in Go, then the update of the chosen rows. INDEXED BY
// keeps the per-destination reads on queue_destination (queue_due also
// matches next_attempt_at <= ?, and would walk the whole due queue).
func (r *Regional) claimByDestinationSQLite(ctx context.Context, tx *Tx, c store.Claim) ([]store.Job, error) {
	now := c.Now.UnixMicro()
	args := make([]any, 0, len(c.Skip)+2)
	for _, d := range c.Skip {
		args = append(args, d)
	}
	args = append(args, now, now)
	rows, err := tx.query(ctx, destinationsCTE+`SELECT d FROM dests WHERE d IS NOT NULL AND d NOT IN (`+placeholders(len(c.Skip))+`)
		AND EXISTS (SELECT 1 FROM queue INDEXED BY queue_destination
			WHERE rcpt_domain = d AND next_attempt_at <= ? AND lease_until <= ?)`, args...)
	dests, err := scanRows(rows, err, func(s scanner) (string, error) {
		var d string
		return d, s.Scan(&d)
	})
	if err != nil || len(dests) == 0 {
		return nil, err
	}
	type candidate struct{ id, next int64 }
	var cands []candidate
	for _, d := range dests {
		rows, err := tx.query(ctx, `SELECT id, next_attempt_at FROM queue INDEXED BY queue_destination
			WHERE rcpt_domain = ? AND next_attempt_at <= ? AND lease_until <= ?
			ORDER BY next_attempt_at, id LIMIT ?`, d, now, now, c.Limit)
		got, err := scanRows(rows, err, func(s scanner) (candidate, error) {
			var k candidate
			return k, s.Scan(&k.id, &k.next)
		})
		if err != nil {
			return nil, err
		}
		cands = append(cands, got...)
	}
	slices.SortFunc(cands, func(a, b candidate) int { return cmp.Or(cmp.Compare(a.next, b.next), cmp.Compare(a.id, b.id)) })
	cands = cands[:min(len(cands), c.Limit)]
	var out []store.Job
	const chunk = 500
	for start := 0; start < len(cands); start += chunk {
		part := cands[start:min(len(cands), start+chunk)]
		args := []any{now + c.Lease.Microseconds(), c.Owner}
		for _, k := range part {
			args = append(args, k.id)
		}
		rows, err := tx.rawQuery(ctx, leaseSet+` WHERE id IN (`+placeholders(len(part))+`) RETURNING `+jobSelect, args...)
		if err != nil {
			return nil, err
		}
		jobs, err := scanJobs(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, jobs...)
	}
	return out, nil
}
