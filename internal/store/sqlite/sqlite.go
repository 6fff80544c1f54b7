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
	return open(ctx, path, walRestartBytes)
}

// open is Open with the WAL's bound (walRestartBytes, smaller in tests).
func open(ctx context.Context, path string, walBound int64) (*sqlstore.DB, error) {
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
	w, err := sql.Open("sqlite", dsn+"&_pragma=journal_mode(WAL)&_txlock=immediate&_pragma=wal_autocheckpoint(0)"+
		fmt.Sprintf("&_pragma=journal_size_limit(%d)", walBound))
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
	stop, err := startCheckpointer(dsn, w, walBound)
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
//
// PASSIVE alone does not bound the WAL: SQLite starts writing the WAL
// from its beginning again only when a checkpoint has copied all of it
// and no reader still reads from it, which a busy node's overlapping
// readers never allow. The WAL then grows without end (2.2 GB with
// 700,000 messages queued to a dead destination), and with it the WAL
// index every connection maps (about 2 MB per GB). So when the WAL has
// passed walRestartBytes, the checkpointer asks for a RESTART checkpoint:
// it waits (at most walRestartWait, holding the writer lock meanwhile)
// for the readers of the WAL to finish, so that the next write starts it
// again from its beginning; journal_size_limit truncates a file that grew
// past the bound back to it.
//
// A RESTART holds writers back while it runs, so it costs accepts' tail
// latency each time it happens: with a bound of 64 MB (a restart every
// ~15 s of a 64-client load) the p99 of accepts was 44–56 ms, with 256 MB
// 25–30 ms, and 29–35 ms without restarts at all (docs/performance.md,
// "Issue 16 at a million"). The WAL file is not truncated below the
// bound: writing into blocks the file already has is cheaper than
// growing it again.
func startCheckpointer(dsn string, w *sql.DB, walBound int64) (func() error, error) {
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
				checkpoint(c, w, walBound)
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

// checkpoint runs a PASSIVE checkpoint on c and, when the WAL has grown
// past walBound, a RESTART one that waits at most walRestartWait for the
// WAL's readers. The RESTART runs on the writer's own connection (w, one
// connection), taken in turn with the writers: run on another connection
// it would poll for the write lock, which a writer committing one batch
// after another (the group committer under load) never leaves free long
// enough, and the WAL grew past 400 MB with an 8 MB bound in
// TestWALBounded.
func checkpoint(c, w *sql.DB, walBound int64) {
	var busy, frames, done int64
	if err := c.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &done); err != nil {
		return
	}
	if frames*walFrameBytes < walBound {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn, err := w.Conn(ctx)
	if err != nil {
		return
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, walRestartWait.Milliseconds())); err != nil {
		return
	}
	_, _ = conn.ExecContext(ctx, `PRAGMA wal_checkpoint(RESTART)`)
	// Not ctx: the writer's connection must get its timeout back even
	// when the checkpoint used up ctx.
	_, _ = conn.ExecContext(context.Background(), `PRAGMA busy_timeout = 10000`)
}

// WAL bounds: the size past which the checkpointer restarts the WAL (also
// the size journal_size_limit truncates it back to), how long a RESTART
// checkpoint may hold writers back waiting for readers, and the bytes of
// a WAL frame (a 4 KB page and its 24-byte header).
const (
	walRestartBytes = 256 << 20
	walRestartWait  = 100 * time.Millisecond
	walFrameBytes   = 4096 + 24
)

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
