package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/salvo-email/salvo/internal/store/sqlstore"
)

// RunMigrations checks sqlstore's migrations on one dialect; fresh returns
// an Opener of an empty database of t's own.
func RunMigrations(t *testing.T, fresh func(t *testing.T) Opener) {
	t.Helper()
	for _, kind := range []string{"global", "regional"} {
		t.Run(kind+"/Twice", func(t *testing.T) {
			t.Parallel()
			testMigrateTwice(t, fresh(t), kind)
		})
		t.Run(kind+"/Newer", func(t *testing.T) {
			t.Parallel()
			testMigrateNewer(t, fresh(t), kind)
		})
		t.Run(kind+"/Concurrent", func(t *testing.T) {
			t.Parallel()
			testMigrateConcurrent(t, fresh(t), kind)
		})
	}
}

// openDB opens a database and closes it when t ends.
func openDB(t *testing.T, open Opener) *sqlstore.DB {
	t.Helper()
	db, err := open(ctx)
	mustOK(t, err, "open")
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// migrated opens and migrates a database.
func migrated(t *testing.T, open Opener, kind string) *sqlstore.DB {
	t.Helper()
	db := openDB(t, open)
	mustOK(t, db.Migrate(ctx, kind), "Migrate "+kind)
	return db
}

// applied returns schema_migrations, one "version name applied_at" line a
// row, and fails t unless the versions start at 1 and increase, each once
// (gaps are allowed: parallel branches pre-assign versions).
func applied(t *testing.T, db *sqlstore.DB) []string {
	t.Helper()
	rows, err := db.Writer().QueryContext(ctx, `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	mustOK(t, err, "read schema_migrations")
	defer rows.Close()
	var out []string
	last := 0
	for rows.Next() {
		var version int
		var name string
		var at int64
		mustOK(t, rows.Scan(&version, &name, &at), "scan schema_migrations")
		if version <= last || (last == 0 && version != 1) {
			t.Fatalf("schema_migrations has version %d after version %d", version, last)
		}
		last = version
		out = append(out, fmt.Sprint(version, " ", name, " ", at))
	}
	mustOK(t, rows.Err(), "read schema_migrations")
	if len(out) == 0 {
		t.Fatal("schema_migrations is empty after Migrate")
	}
	return out
}

// testMigrateTwice checks that migrating a migrated database, through the
// same handle or a new one, changes nothing and keeps the data.
func testMigrateTwice(t *testing.T, open Opener, kind string) {
	db := migrated(t, open, kind)
	first := applied(t, db)
	kept := fullDomain("kept.example.com")
	if kind == "global" {
		_, err := (&sqlstore.Global{DB: db}).PutMetaIfAbsent(ctx, "kept", "yes")
		mustOK(t, err, "PutMetaIfAbsent")
	} else {
		createDomain(t, &sqlstore.Regional{DB: db}, kept, nil)
	}

	mustOK(t, db.Migrate(ctx, kind), "second Migrate")
	again := migrated(t, open, kind)
	for _, d := range []*sqlstore.DB{db, again} {
		mustEqual(t, "schema_migrations", first, applied(t, d))
	}
	if kind == "global" {
		v, err := (&sqlstore.Global{DB: again}).Meta(ctx, "kept")
		if err != nil || v != "yes" {
			t.Fatalf("after migrating again, Meta = %q, %v; want yes", v, err)
		}
	} else {
		mustDomain(t, &sqlstore.Regional{DB: again}, kept)
	}
}

// testMigrateNewer checks that a database migrated by a newer binary is
// refused with an error that says what to do.
func testMigrateNewer(t *testing.T, open Opener, kind string) {
	db := migrated(t, open, kind)
	_, err := db.Writer().ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`)
	mustOK(t, err, "insert a future version")

	err = openDB(t, open).Migrate(ctx, kind)
	if err == nil {
		t.Fatal("Migrate accepted a database at a newer schema version")
	}
	for _, want := range []string{kind, "9999", "newer salvo"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Migrate error %q does not mention %q", err, want)
		}
	}
}

// testMigrateConcurrent checks that nodes starting together on a fresh
// database all open and migrate it without error, and that each migration
// is recorded once (applying one twice would fail: its CREATE TABLEs have no
// IF NOT EXISTS).
func testMigrateConcurrent(t *testing.T, open Opener, kind string) {
	const n = 6
	dbs := make([]*sqlstore.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			dbs[i], errs[i] = open(ctx)
			if errs[i] == nil {
				errs[i] = dbs[i].Migrate(ctx, kind)
			}
		})
	}
	wg.Wait()
	for i, db := range dbs {
		if db != nil {
			t.Cleanup(func() { _ = db.Close() })
		}
		mustOK(t, errs[i], fmt.Sprint("concurrent open and Migrate ", i))
	}
	first := applied(t, dbs[0])
	for _, db := range dbs[1:] {
		mustEqual(t, "schema_migrations", first, applied(t, db))
	}
}
