// Package postgres opens Salvo's stores on PostgreSQL through pgx, for
// deployments of several nodes. Durability is PostgreSQL's: a commit returns
// after its WAL is flushed (synchronous_commit=on, the server default), and
// concurrent commits share flushes.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/salvo-email/salvo/internal/store/sqlstore"
)

// Dialect is PostgreSQL's sqlstore dialect.
var Dialect = sqlstore.Dialect{Name: "postgres", IsUnique: isUnique, IsTransient: isTransient,
	Fresh: pgx.QueryExecModeCacheDescribe}

// isTransient: deadlock detected, serialization failure, lock not
// available. Another node's transaction got in the way; trying again
// works.
func isTransient(err error) bool {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case "40P01", "40001", "55P03":
		return true
	}
	return false
}

func isUnique(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

// Open connects to url (postgres://…; search_path may be given as a query
// parameter).
//
// Its sessions run with jit=off unless url sets jit: Salvo's statements
// are short, and PostgreSQL compiles any whose estimated cost passes
// jit_above_cost, which a claim by destination over a deep queue does
// (its per-destination LIMITs are estimated, not known), and the
// compilation then costs many times the statement itself
// (docs/performance.md, "Figures moved out of code comments").
func Open(ctx context.Context, url string) (*sqlstore.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL URL: %w", err)
	}
	if _, set := cfg.RuntimeParams["jit"]; !set {
		cfg.RuntimeParams["jit"] = "off"
	}
	db := stdlib.OpenDB(*cfg)
	// As many idle connections as open ones: fewer makes a busy node
	// close and reopen connections all the time (a PostgreSQL backend
	// costs a fork and an authentication).
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	sdb := sqlstore.NewDB(db, db, Dialect)
	// A regional store caches domains and lists (sqlstore/cache.go); other
	// nodes' changes to them arrive as notifications.
	sdb.WatchChanges(func(ctx context.Context, changed func(), live func(bool)) { listen(ctx, url, changed, live) })
	return sdb, nil
}

// listen keeps a connection that LISTENs to the store's cache channel and
// calls changed for every notification. Until it listens, and whenever its
// connection fails, the cache is off (live(false)): a change could be
// missed then. It reconnects with a growing pause until ctx ends.
func listen(ctx context.Context, url string, changed func(), live func(bool)) {
	pause := 100 * time.Millisecond
	for ctx.Err() == nil {
		conn, err := pgx.Connect(ctx, url)
		if err == nil {
			if _, err = conn.Exec(ctx, "LISTEN "+sqlstore.CacheChannel); err == nil {
				// Whatever changed while not listening is stale now.
				changed()
				live(true)
				pause = 100 * time.Millisecond
				for err == nil {
					_, err = conn.WaitForNotification(ctx)
					changed()
				}
			}
			live(false)
			closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = conn.Close(closeCtx)
			cancel()
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// OpenGlobal connects to and migrates the global store.
func OpenGlobal(ctx context.Context, url string) (*sqlstore.Global, error) {
	db, err := Open(ctx, url)
	if err != nil {
		return nil, err
	}
	g, err := sqlstore.OpenGlobal(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return g, nil
}

// OpenRegional connects to and migrates a regional store.
func OpenRegional(ctx context.Context, url string) (*sqlstore.Regional, error) {
	db, err := Open(ctx, url)
	if err != nil {
		return nil, err
	}
	r, err := sqlstore.OpenRegional(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return r, nil
}
