package testutil

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/store/postgres"
)

// TestPostgresMigratedIsolation: a schema comes back to the next test
// migrated and empty (rows and sequences reset), and one whose DDL a test
// changed is dropped, not reused. The subtests run one after the other
// (each gets what the previous one gave back); no other test of this
// package takes pool schemas.
func TestPostgresMigratedIsolation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var first string
	t.Run("Write", func(t *testing.T) {
		url := PostgresMigrated(t, "regional")
		first = SchemaOf(url)
		r, err := postgres.OpenRegional(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if err := r.CreateDomain(ctx, domain(), nil); err != nil {
			t.Fatal(err)
		}
		if n := advanceSequences(t, url); n == 0 {
			t.Fatal("a regional schema has no sequence to check the reset of")
		}
	})
	t.Run("ReusedEmpty", func(t *testing.T) {
		url := PostgresMigrated(t, "regional")
		if got := SchemaOf(url); got != first {
			t.Fatalf("got schema %s, want %s back from the pool", got, first)
		}
		r, err := postgres.OpenRegional(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if _, err := r.Domain(ctx, "pool.example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("domain of the previous test: err %v, want store.ErrNotFound", err)
		}
		db, err := sql.Open("pgx", url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var left string
		if err := db.QueryRow(`SELECT COALESCE(string_agg(sequencename, ' '), '') FROM pg_sequences
			WHERE schemaname = $1 AND last_value IS NOT NULL`, first).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != "" {
			t.Fatalf("sequences not restarted: %s", left)
		}
		if err := r.CreateDomain(ctx, domain(), nil); err != nil {
			t.Fatalf("create the same domain in the reused schema: %v", err)
		}
		// A change of DDL: the schema must not be reused.
		if _, err := db.Exec(`CREATE TABLE stray (x INT)`); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("DroppedAfterDDL", func(t *testing.T) {
		db, err := sql.Open("pgx", PostgresBaseURL())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM pg_namespace WHERE nspname = $1`, first).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("schema %s, whose DDL a test changed, is still there", first)
		}
		url := PostgresMigrated(t, "regional")
		if got := SchemaOf(url); got == first {
			t.Fatalf("got the dropped schema %s again", got)
		}
	})
}

// domain is a fixture domain.
func domain() store.Domain {
	return store.Domain{ID: "pool-1", Name: "pool.example.com", State: "active", Type: "custom",
		SpamAction: "disabled", CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
}

// advanceSequences calls nextval on every sequence of url's schema and
// returns how many there are.
func advanceSequences(t *testing.T, url string) int {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(nextval(quote_ident(schemaname) || '.' || quote_ident(sequencename)))
		FROM pg_sequences WHERE schemaname = current_schema()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
