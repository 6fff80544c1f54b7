// Package sqlite opens Salvo's embedded stores: SQLite files in WAL mode
// with synchronous=FULL, so a committed transaction is on disk (fsync)
// before Commit returns. Writes use one connection with BEGIN IMMEDIATE
// (SQLite has one writer, and several processes may share the global file);
// reads use a pool of query-only connections.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/salvo-email/salvo/internal/store/sqlstore"
)

// Dialect is SQLite's sqlstore dialect.
var Dialect = sqlstore.Dialect{Name: "sqlite", IsUnique: isUnique, IsTransient: isBusy}

func isUnique(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}

// Open opens (creating it, mode 0600) the SQLite file at path.
func Open(ctx context.Context, path string) (*sqlstore.DB, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f.Close()
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"
	// WAL mode is a property of the file: the writer sets it once; other
	// connections inherit it (setting it again can fail with SQLITE_BUSY
	// while another process holds a lock). The writer never checkpoints
	// inline (that would stall every writer waiting on the group commit);
	// a background connection does.
	w, err := sql.Open("sqlite", dsn+"&_pragma=journal_mode(WAL)&_txlock=immediate&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(max(4, 2*runtime.NumCPU()))
	r.SetMaxIdleConns(max(4, 2*runtime.NumCPU()))
	if err := pingRetry(ctx, w); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db := sqlstore.NewDB(w, r, Dialect)
	// Processes sharing the file share a change counter beside it, which
	// keeps their caches of domains and lists true (sqlstore/cache.go).
	// Without it the cache stays off.
	// The page stays mapped after Close: a late lookup must not fault.
	if p, err := openPeers(path + "-cache"); err == nil {
		db.SharePeers(p)
	}
	stop, err := startCheckpointer(dsn)
	if err != nil {
		db.Close()
		return nil, err
	}
	db.OnClose(stop)
	return db, nil
}

// pingRetry opens the writer's connection, retrying while another process
// holds a lock SQLite does not wait for (switching to WAL, recovery).
func pingRetry(ctx context.Context, w *sql.DB) error {
	var err error
	for attempt := 1; attempt <= 50; attempt++ {
		if err = w.PingContext(ctx); err == nil || !isBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 10 * time.Millisecond):
		}
	}
	return err
}

func isBusy(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code()&0xff == sqlite3.SQLITE_BUSY || e.Code()&0xff == sqlite3.SQLITE_LOCKED
}

// startCheckpointer copies the WAL into the database file in the
// background (PASSIVE: never blocks writers or readers) every
// checkpointEvery, and once more when stopped.
func startCheckpointer(dsn string) (func() error, error) {
	c, err := sql.Open("sqlite", dsn+"&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		return nil, err
	}
	c.SetMaxOpenConns(1)
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_, _ = c.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
			}
		}
	}()
	return func() error {
		close(done)
		<-stopped
		_, _ = c.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		return c.Close()
	}, nil
}

const checkpointEvery = 250 * time.Millisecond

// OpenGlobal opens and migrates the global store at path.
func OpenGlobal(ctx context.Context, path string) (*sqlstore.Global, error) {
	db, err := Open(ctx, path)
	if err != nil {
		return nil, err
	}
	g, err := sqlstore.OpenGlobal(ctx, db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// OpenRegional opens and migrates a regional store at path.
func OpenRegional(ctx context.Context, path string) (*sqlstore.Regional, error) {
	db, err := Open(ctx, path)
	if err != nil {
		return nil, err
	}
	r, err := sqlstore.OpenRegional(ctx, db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}
