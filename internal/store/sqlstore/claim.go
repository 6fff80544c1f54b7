package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/salvo-email/salvo/internal/store"
)

// Claims. A claim leases the due, unleased jobs that come first in
// (next_attempt_at, id) order, at most Limit, leaving out the destinations
// in Skip (at their connection limit, or waiting for one).
//
// Without Skip the claim walks queue_due from the earliest job and stops
// after Limit: its cost is Limit rows. With Skip that walk also reads every
// due job of the skipped destinations before it finds others' (a million
// due jobs for one busy provider: 0.2–0.6 s per claim). So a claim with
// Skip reads the queue destination by destination instead, through
// queue_destination (rcpt_domain, next_attempt_at, id): a loose index scan
// finds the queue's destinations (one seek each), and for each one not
// skipped that has a due job, at most Limit of its earliest due jobs are
// read and merged in time order. That costs one seek per destination and
// never reads a skipped destination's jobs. Past maxLooseDests
// destinations the seeks could cost more than the walk they replace (in
// BenchmarkClaimManyDestinations a seek costs about as much as 5 walked
// rows on SQLite, 50 on PostgreSQL), so the claim walks as without Skip,
// after those seeks.
//
// Either way the chosen jobs are the same: the first Limit due jobs in
// (next_attempt_at, id) order among the destinations not skipped. By
// destination, their lease is then taken with a re-check that each is
// still unleased; on PostgreSQL with SKIP LOCKED, so a concurrent claim of
// another node passes over rows this one is taking instead of waiting,
// and a job it took first is left out of this claim (which may then return
// fewer than Limit; the next claim takes the later ones).
//
// (A probe walking a bounded number of due jobs first, to spare the seeks
// when the skipped backlogs are small, was tried: on PostgreSQL its
// ORDER BY … LIMIT turned into a sequential scan and sort of the whole
// queue whenever the table's statistics were stale; docs/performance.md,
// "Claims with a deep queue", has the figures.)

// maxLooseDests bounds the destinations a claim reads one by one.
const maxLooseDests = 1000

// claimBounds holds maxLooseDests, as a field so that tests can take each
// way with a small queue.
type claimBounds struct{ maxLooseDests int }

// leaseSet is the claim's update of the rows it chose.
const leaseSet = `UPDATE queue SET lease_until = ?, lease_owner = ?, attempts = attempts + 1`

// claimQuery runs a query of the claim in tx: prepared on SQLite; on
// PostgreSQL planned afresh at every execution (Dialect.Fresh), as a plan
// made while the queue was small must not be kept once it is deep.
func (r *Regional) claimQuery(ctx context.Context, tx *Tx, query string, args ...any) (*sql.Rows, error) {
	if r.dialect.postgres() {
		return tx.rawQuery(ctx, r.q(query), r.fresh(args)...)
	}
	return tx.query(ctx, query, args...)
}

// ClaimJobs implements store.MessageStore.
func (r *Regional) ClaimJobs(ctx context.Context, c store.Claim) ([]store.Job, error) {
	var out []store.Job
	err := r.inTx(ctx, func(tx *Tx) error {
		var err error
		if len(c.Skip) == 0 {
			out, err = r.claimInTimeOrder(ctx, tx, c)
		} else {
			out, err = r.claimSkipping(ctx, tx, c)
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

// claimSkipping is the claim with Skip, as described above.
func (r *Regional) claimSkipping(ctx context.Context, tx *Tx, c store.Claim) ([]store.Job, error) {
	dests, ok, err := r.dueDestinations(ctx, tx, c)
	if err != nil {
		return nil, err
	}
	if !ok {
		return r.claimInTimeOrder(ctx, tx, c)
	}
	ids, err := r.earliestDue(ctx, tx, c, dests)
	if err != nil {
		return nil, err
	}
	return r.leaseJobs(ctx, tx, c, ids)
}

// dueDestinations lists the destinations not skipped that have a due job,
// found by a loose index scan of queue_destination (one seek per
// destination in the queue); ok is false when the queue holds more than
// maxLooseDests destinations.
func (r *Regional) dueDestinations(ctx context.Context, tx *Tx, c store.Claim) (dests []string, ok bool, err error) {
	now := c.Now.UnixMicro()
	indexed := ""
	if !r.dialect.postgres() {
		indexed = " INDEXED BY queue_destination" // not queue_due, which matches next_attempt_at <= ? too
	}
	args := []any{r.claims.maxLooseDests, r.claims.maxLooseDests}
	for _, d := range c.Skip {
		args = append(args, d)
	}
	args = append(args, now, now)
	rows, err := r.claimQuery(ctx, tx, `WITH RECURSIVE dests(d, n) AS (
			SELECT MIN(rcpt_domain), 1 FROM queue
			UNION ALL
			SELECT (SELECT MIN(rcpt_domain) FROM queue WHERE rcpt_domain > dests.d), n + 1
			FROM dests WHERE dests.d IS NOT NULL AND n <= ?)
		SELECT d, n FROM dests WHERE n > ? OR (d IS NOT NULL AND d NOT IN (`+placeholders(len(c.Skip))+`)
			AND EXISTS (SELECT 1 FROM queue`+indexed+` WHERE rcpt_domain = d AND next_attempt_at <= ? AND lease_until <= ?))`,
		args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var d sql.NullString
		var n int
		if err := rows.Scan(&d, &n); err != nil {
			return nil, false, err
		}
		switch {
		case n > r.claims.maxLooseDests && d.Valid: // a destination past the bound
			return nil, false, nil
		case d.Valid:
			dests = append(dests, d.String)
		}
	}
	return dests, true, rows.Err()
}

// candidate is a due job's place in time order.
type candidate struct{ id, next int64 }

// earliestDue returns the ids of the first Limit due jobs of dests in time
// order: each destination's first Limit, merged. INDEXED BY keeps SQLite
// on queue_destination.
func (r *Regional) earliestDue(ctx context.Context, tx *Tx, c store.Claim, dests []string) ([]int64, error) {
	now := c.Now.UnixMicro()
	scan := func(s scanner) (candidate, error) {
		var k candidate
		return k, s.Scan(&k.id, &k.next)
	}
	var cands []candidate
	if r.dialect.postgres() {
		rows, err := r.claimQuery(ctx, tx, `SELECT c.id, c.next_attempt_at FROM unnest(CAST(? AS text[])) AS dests(d)
			CROSS JOIN LATERAL (SELECT id, next_attempt_at FROM queue
				WHERE rcpt_domain = dests.d AND next_attempt_at <= ? AND lease_until <= ?
				ORDER BY next_attempt_at, id LIMIT ?) c
			ORDER BY c.next_attempt_at, c.id LIMIT ?`, dests, now, now, c.Limit, c.Limit)
		got, err := scanRows(rows, err, scan)
		if err != nil {
			return nil, err
		}
		cands = got
	} else {
		for _, d := range dests {
			rows, err := tx.query(ctx, `SELECT id, next_attempt_at FROM queue INDEXED BY queue_destination
				WHERE rcpt_domain = ? AND next_attempt_at <= ? AND lease_until <= ?
				ORDER BY next_attempt_at, id LIMIT ?`, d, now, now, c.Limit)
			got, err := scanRows(rows, err, scan)
			if err != nil {
				return nil, err
			}
			cands = append(cands, got...)
		}
		slices.SortFunc(cands, func(a, b candidate) int { return cmp.Or(cmp.Compare(a.next, b.next), cmp.Compare(a.id, b.id)) })
	}
	ids := make([]int64, 0, min(len(cands), c.Limit))
	for _, k := range cands[:min(len(cands), c.Limit)] {
		ids = append(ids, k.id)
	}
	return ids, nil
}

// leaseJobs takes the lease of the jobs ids that are still unleased and
// returns them. On PostgreSQL a job another transaction has locked is
// passed over (SKIP LOCKED), and one it claimed meanwhile fails the
// re-check of lease_until (READ COMMITTED re-reads a changed row).
func (r *Regional) leaseJobs(ctx context.Context, tx *Tx, c store.Claim, ids []int64) ([]store.Job, error) {
	now := c.Now.UnixMicro()
	until := now + c.Lease.Microseconds()
	var out []store.Job
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(len(ids), start+chunk)]
		var rows *sql.Rows
		var err error
		if r.dialect.postgres() {
			rows, err = r.claimQuery(ctx, tx, leaseSet+` WHERE id IN (SELECT id FROM queue
				WHERE id = ANY(CAST(? AS bigint[])) AND lease_until <= ? FOR UPDATE SKIP LOCKED)
				RETURNING `+jobSelect, until, c.Owner, part, now)
		} else {
			args := []any{until, c.Owner}
			for _, id := range part {
				args = append(args, id)
			}
			rows, err = tx.rawQuery(ctx, leaseSet+` WHERE id IN (`+placeholders(len(part))+`) AND lease_until <= ?
				RETURNING `+jobSelect, append(args, now)...)
		}
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
