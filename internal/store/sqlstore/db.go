// Package sqlstore implements the store interfaces once, in SQL that runs on
// both SQLite and PostgreSQL.
//
// Queries are written with ? placeholders and rebound to $n for PostgreSQL;
// the schema is one set of versioned migrations in which a few type names
// are rewritten per dialect (BLOB → BYTEA). The dialect packages
// (store/sqlite, store/postgres) only open connections and classify driver
// errors. Times are stored as Unix microseconds so both dialects sort and
// compare them the same way.
//
// On SQLite all writes go through one connection (SQLite has one writer) and
// reads through a pool; on PostgreSQL both are the same pool.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// Dialect describes what differs between SQL engines.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// IsUnique reports whether err is a uniqueness violation.
	IsUnique func(error) bool
}

func (d Dialect) postgres() bool { return d.Name == "postgres" }

// DB is an open database with its dialect.
type DB struct {
	w, r    *sql.DB
	dialect Dialect
	rebinds sync.Map // query text → rebound text
}

// NewDB wraps a writer and a reader pool (the same *sql.DB is fine).
func NewDB(w, r *sql.DB, d Dialect) *DB {
	return &DB{w: w, r: r, dialect: d}
}

// Close closes both pools.
func (db *DB) Close() error {
	err := db.w.Close()
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

// q rebinds a ? query for the dialect.
func (db *DB) q(query string) string {
	if !db.dialect.postgres() {
		return query
	}
	if v, ok := db.rebinds.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	out := b.String()
	db.rebinds.Store(query, out)
	return out
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is a write transaction with the dialect's rebinding.
type Tx struct {
	tx *sql.Tx
	db *DB
}

func (t *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := t.tx.ExecContext(ctx, t.db.q(query), args...)
	return res, t.db.classify(err)
}

func (t *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.db.q(query), args...)
}

// inTx runs fn in a write transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *Tx) error) error {
	sqltx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(&Tx{tx: sqltx, db: db}); err != nil {
		_ = sqltx.Rollback()
		return err
	}
	if err := sqltx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", db.classify(err))
	}
	return nil
}

func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := db.w.ExecContext(ctx, db.q(query), args...)
	return res, db.classify(err)
}

func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return db.r.QueryRowContext(ctx, db.q(query), args...)
}

func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return db.r.QueryContext(ctx, db.q(query), args...)
}

// classify maps driver errors to store sentinels.
func (db *DB) classify(err error) error {
	if err == nil {
		return nil
	}
	if db.dialect.IsUnique != nil && db.dialect.IsUnique(err) {
		return fmt.Errorf("%w: %v", store.ErrConflict, err)
	}
	return err
}

// scanRows scans every row of a query with scan, closing the rows.
func scanRows[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// notFound maps sql.ErrNoRows to store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// affected returns ErrNotFound when an update or delete touched no row.
func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ts and fromTS convert times to stored microseconds; the zero time is 0.
func ts(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromTS(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

//go:embed migrations
var migrations embed.FS

// Migrate applies the embedded migrations of kind ("global" or "regional")
// that db has not seen, each in its own transaction, in version order. On
// PostgreSQL an advisory lock makes concurrent starts wait for each other;
// on SQLite the single writer does. A database newer than this binary is
// refused rather than silently used.
func (db *DB) Migrate(ctx context.Context, kind string) error {
	files, err := fs.Glob(migrations, path.Join("migrations", kind, "*.sql"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var newest int
	if err := db.w.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return err
	}
	if newest > len(files) {
		return fmt.Errorf("the %s store is at schema version %d but this binary knows only %d: run a newer salvo", kind, newest, len(files))
	}
	for _, f := range files {
		name := path.Base(f)
		version, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", name)
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		if err := db.applyMigration(ctx, version, name, db.ddl(string(body))); err != nil {
			return fmt.Errorf("%s migration %s: %w", kind, name, err)
		}
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, version int, name, ddl string) error {
	return db.inTx(ctx, func(tx *Tx) error {
		if db.dialect.postgres() {
			if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock(7270001)`); err != nil {
				return err
			}
		}
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		for _, stmt := range splitStatements(ddl) {
			if _, err := tx.tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("%w\n%s", err, stmt)
			}
		}
		_, err := tx.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			version, name, time.Now().UnixMicro())
		return err
	})
}

// ddl rewrites the portable schema for the dialect.
func (db *DB) ddl(s string) string {
	if db.dialect.postgres() {
		return strings.NewReplacer(" BLOB", " BYTEA").Replace(s)
	}
	return s
}

// splitStatements splits a migration on semicolons at line ends, dropping
// comments.
func splitStatements(s string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, cur.String())
	}
	return out
}
