package sqlstore

import (
	"context"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// Hooks for the group commit tests (package sqlstore_test).

// InTx runs fn through the committers, as every store write does.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error { return db.inTx(ctx, fn) }

// Committers is how many committer goroutines run.
func (db *DB) Committers() int { return db.committer.n }

// Waiting is how many writes wait for a committer to take them.
func (db *DB) Waiting() int { return len(db.committer.reqs) }

// SetWriteDeadline changes how long a group's transaction may take.
func (db *DB) SetWriteDeadline(d time.Duration) { db.writeDeadline.Store(int64(d)) }

// QueryRow runs query (as given) in the transaction.
func (t *Tx) QueryRow(ctx context.Context, query string, args ...any) interface{ Scan(...any) error } {
	return t.rawQueryRow(ctx, query, args...)
}

// ClaimInTimeOrder is ClaimJobs by the walk of queue_due even with Skip:
// the claim as it was, for the benchmark's side-by-side comparison.
func (r *Regional) ClaimInTimeOrder(ctx context.Context, c store.Claim) ([]store.Job, error) {
	var out []store.Job
	err := r.inTx(ctx, func(tx *Tx) error {
		var err error
		out, err = r.claimInTimeOrder(ctx, tx, c)
		return err
	})
	return out, err
}

// SetClaimBounds sets how many destinations a claim with skips reads one
// by one before it walks the queue in time order instead (claim.go).
func (r *Regional) SetClaimBounds(maxLooseDests int) {
	r.claims = claimBounds{maxLooseDests: maxLooseDests}
}

// Exec runs a statement (as given) through the committers.
func (db *DB) Exec(ctx context.Context, query string) error {
	return db.inTx(ctx, func(tx *Tx) error {
		_, err := tx.rawExec(ctx, query)
		return err
	})
}

// SplitEvent and JoinEvent are the event part cut (eventparts.go).
func SplitEvent(data []byte) (rest, run []byte, at int) { return splitEvent(data) }

// JoinEvent puts a cut run back.
func JoinEvent(rest, run []byte, at int) []byte { return joinEvent(string(rest), string(run), at) }

// MigrateThrough applies kind's migrations numbered up to last only: a
// store as an older binary left it, for the upgrade tests.
func (db *DB) MigrateThrough(ctx context.Context, kind string, last int) error {
	if err := db.inTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`)
		return err
	}); err != nil {
		return err
	}
	files, err := fs.Glob(migrations, path.Join("migrations", kind, "*.sql"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		v, err := strconv.Atoi(strings.SplitN(path.Base(f), "_", 2)[0])
		if err != nil || v > last {
			continue
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		if err := db.applyMigration(ctx, v, path.Base(f), db.ddl(string(body))); err != nil {
			return err
		}
	}
	return nil
}
