package testutil

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver

	"github.com/salvo-email/salvo/internal/secret"
)

// PostgresBaseURL is the server tests use: SALVO_TEST_POSTGRES_URL, or the
// project machines' local server.
func PostgresBaseURL() string {
	if u := os.Getenv("SALVO_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// PostgresSchema creates a fresh schema for t and returns a URL whose
// search_path points at it; the schema is dropped when t ends. A test run
// never depends on anything left in the database. Tests fail (not skip)
// when PostgreSQL is unreachable, unless SALVO_TEST_SKIP_POSTGRES=1.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	if os.Getenv("SALVO_TEST_SKIP_POSTGRES") == "1" {
		t.Skip("SALVO_TEST_SKIP_POSTGRES=1")
	}
	base := PostgresBaseURL()
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := "salvo_t_" + secret.Token(6)
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("postgres at %s: create schema: %v (set SALVO_TEST_POSTGRES_URL, or SALVO_TEST_SKIP_POSTGRES=1 to skip)", base, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP SCHEMA " + name + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// SchemaOf returns the search_path schema of a PostgresSchema URL.
func SchemaOf(pgURL string) string {
	u, err := url.Parse(pgURL)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(u.Query().Get("search_path"))
}

// must is a tiny helper for setup code.
func must(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatal(fmt.Errorf("%s: %w", what, err))
	}
}
