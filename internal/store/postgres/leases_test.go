package postgres_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store/postgres"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestLeaseRenewalSkipsLockedRows: renewing leases must not wait for a row
// another transaction holds (a group commit completing that job). Waiting
// deadlocked with group commits under load — each deadlock stalled both
// transactions for PostgreSQL's deadlock_timeout — and a renewal has no
// need to: the holder settles the row, or the next renewal extends it.
func TestLeaseRenewalSkipsLockedRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testutil.PostgresMigrated(t, "regional")
	reg, err := postgres.OpenRegional(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	const owner, before, after = "node-a", int64(2_000_000), int64(3_000_000)
	for _, q := range []string{
		`INSERT INTO queue (message_key, domain, recipient, rcpt_domain, attempts, next_attempt_at, lease_until,
			lease_owner, created_at, last_error) SELECT 'k' || g, 'd.example', 'r@x.example', 'x.example', 1, 0, $1, $2, 0, ''
			FROM generate_series(1, 2) g`,
		`INSERT INTO inbound_jobs (kind, message_key, domain, payload, attempts, next_attempt_at, lease_until,
			lease_owner, created_at, last_error) SELECT 'route', 'k' || g, 'd.example', '{}', 1, 0, $1, $2, 0, ''
			FROM generate_series(1, 2) g`,
	} {
		if _, err := raw.ExecContext(ctx, q, before, owner); err != nil {
			t.Fatal(err)
		}
	}
	var jobs []int64
	rows, err := raw.QueryContext(ctx, `SELECT id FROM queue ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, id)
	}
	if err := rows.Err(); err != nil || len(jobs) != 2 {
		t.Fatalf("queue ids %v, err %v", jobs, err)
	}

	// Another transaction holds the first row of each table.
	holder, err := raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var held int64
	if err := holder.QueryRowContext(ctx, `SELECT id FROM queue WHERE id = $1 FOR UPDATE`, jobs[0]).Scan(&held); err != nil {
		t.Fatal(err)
	}
	if err := holder.QueryRowContext(ctx, `SELECT id FROM inbound_jobs
		WHERE id = (SELECT MIN(id) FROM inbound_jobs) FOR UPDATE`).Scan(&held); err != nil {
		t.Fatal(err)
	}
	released := false
	release := func() {
		if !released {
			released = true
			_ = holder.Rollback()
		}
	}
	defer release()

	until := time.UnixMicro(after)
	for _, renew := range []struct {
		name string
		fn   func() error
	}{
		{"RenewLeases", func() error { return reg.RenewLeases(ctx, owner, jobs, until) }},
		{"RenewInboundLeases", func() error { return reg.RenewInboundLeases(ctx, owner, until) }},
	} {
		done := make(chan error, 1)
		go func() { done <- renew.fn() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", renew.name, err)
			}
		case <-time.After(10 * time.Second):
			release() // let it finish, then fail
			<-done
			t.Fatalf("%s waited for a row another transaction holds", renew.name)
		}
	}
	release()

	for _, table := range []string{"queue", "inbound_jobs"} {
		var renewed, kept int
		if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FILTER (WHERE lease_until = $1),
			COUNT(*) FILTER (WHERE lease_until = $2) FROM `+table, after, before).Scan(&renewed, &kept); err != nil {
			t.Fatal(err)
		}
		if renewed != 1 || kept != 1 {
			t.Errorf("%s: %d leases renewed and %d kept, want the free row renewed and the held one skipped", table, renewed, kept)
		}
	}
}
