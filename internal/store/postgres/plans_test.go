package postgres_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/store/postgres"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestQueuePlansFollowGrowth: the engine's queue queries start on an empty
// queue and must not keep a plan made then. A kept sequential scan read
// the whole queue on every call once it held thousands of jobs (it was a
// third of PostgreSQL's CPU in the accept benchmark). The test calls them
// on an empty queue, fills it, calls them again, then reads the table's
// scan counters (flushed when the store's backends exit).
func TestQueuePlansFollowGrowth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testutil.PostgresMigrated(t, "regional")
	schema := testutil.SchemaOf(url)
	reg, err := postgres.OpenRegional(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	claim := func() {
		t.Helper()
		if _, err := reg.NextDue(ctx); err != nil {
			t.Fatal(err)
		}
		// Nothing is due at time 1: the claim walks the index and stops.
		if _, err := reg.ClaimJobs(ctx, store.Claim{Now: time.UnixMicro(1), Lease: time.Minute, Owner: "t", Limit: 10}); err != nil {
			t.Fatal(err)
		}
		// With a skip the claim reads destination by destination.
		if _, err := reg.ClaimJobs(ctx, store.Claim{Now: time.UnixMicro(1), Lease: time.Minute, Owner: "t", Limit: 10,
			Skip: []string{"busy.example"}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 10; i++ { // past PostgreSQL's 5 custom plans
		claim()
	}
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	const jobs = 50000
	if _, err := raw.ExecContext(ctx, `INSERT INTO queue (message_key, domain, recipient, rcpt_domain, attempts,
		next_attempt_at, lease_until, lease_owner, created_at, last_error)
		SELECT 'k' || g, 'd.example', 'r@x.example', 'x.example', 0, 1000000 + g, 0, '', 0, '' FROM generate_series(1, $1) g`, jobs); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		claim()
	}
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
	// A backend's counters reach the statistics when it exits, a moment
	// after Close; wait for the 40 calls' scans to be counted.
	var seqRead, scans int64
	for deadline := time.Now().Add(20 * time.Second); ; {
		if err := raw.QueryRowContext(ctx, `SELECT COALESCE(seq_tup_read, 0), COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0)
			FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'queue'`, schema).Scan(&seqRead, &scans); err != nil {
			t.Fatal(err)
		}
		if scans >= 40 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if scans < 40 {
		t.Fatalf("the statistics show %d scans of the queue, want the test's 40 calls", scans)
	}
	if seqRead >= jobs {
		t.Fatalf("the queue queries read %d rows by sequential scan after the queue grew to %d jobs: a plan made for the empty queue was kept", seqRead, jobs)
	}
}
