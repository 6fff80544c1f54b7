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
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// Dialect describes what differs between SQL engines.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// IsUnique reports whether err is a uniqueness violation.
	IsUnique func(error) bool
	// IsTransient reports whether err is worth retrying as is (a
	// deadlock or serialization failure, a busy database).
	IsTransient func(error) bool
	// Fresh, when set, goes first among a query's arguments to make the
	// driver plan that query at every execution. It is for queries on
	// the queue, whose size swings: PostgreSQL keeps a prepared
	// statement's plan, and a plan made while the queue was nearly empty
	// (a sequential scan) was kept when it held thousands of jobs.
	Fresh any
}

// transient reports whether err is a transient failure of the dialect.
func (db *DB) transient(err error) bool {
	return err != nil && db.dialect.IsTransient != nil && db.dialect.IsTransient(err)
}

func (d Dialect) postgres() bool { return d.Name == "postgres" }

// DB is an open database with its dialect.
type DB struct {
	w, r      *sql.DB
	dialect   Dialect
	rebinds   sync.Map // query text → rebound text
	committer *committer
	closers   []func() error
	closeOnce sync.Once
	// Prepared statements of the reader and writer pools, by query text,
	// and writer queries waiting to be prepared.
	rstmts, wstmts, toPrepare sync.Map
	// tagsSeen remembers the tags whose last-seen time was recently
	// written, and statShard turns the counter shards (stats.go).
	tagsSeen  sync.Map
	statShard atomic.Uint32
	// cache keeps keys, domains and lists (cache.go).
	cache cache
	// colTypes are PostgreSQL's column types by table (insertAll).
	colTypes sync.Map
	// onPanic counts a panic recovered in a write (OnPanic); writeDeadline
	// bounds a group's transaction, in nanoseconds (commit.go).
	onPanic       atomic.Pointer[func(where string, v any)]
	writeDeadline atomic.Int64
}

// OnPanic registers f to count and log a panic recovered in a write
// function (the write fails with an error; the committer keeps running).
func (db *DB) OnPanic(f func(where string, v any)) { db.onPanic.Store(&f) }

func (db *DB) panicked(where string, v any) {
	if f := db.onPanic.Load(); f != nil {
		(*f)(where, v)
	}
}

// OnClose registers f to run when the DB closes, before the pools close.
func (db *DB) OnClose(f func() error) { db.closers = append(db.closers, f) }

// NewDB wraps a writer and a reader pool (the same *sql.DB is fine) and
// starts the group committers: one on SQLite (one writer), several on
// PostgreSQL.
func NewDB(w, r *sql.DB, d Dialect) *DB {
	db := &DB{w: w, r: r, dialect: d}
	db.writeDeadline.Store(int64(defaultWriteDeadline))
	// The cache stays off until the store can hear of other processes'
	// changes (SharePeers, WatchChanges).
	n := 1
	if d.postgres() {
		// One per core, at least two (one builds its group while another
		// waits for PostgreSQL's commit). More make smaller groups, hence
		// more round trips per accept: on a 2-core VM 4 committers
		// accepted 10–15 % less than 2, and 8 a third less.
		n = max(2, runtime.GOMAXPROCS(0))
	}
	db.committer = startCommitters(db, n)
	return db
}

// Writer returns the pool that writes go through (on SQLite, its one
// connection), for tests and tools that inspect the database directly, such
// as SQLite's pragmas. Store code does not use it.
func (db *DB) Writer() *sql.DB { return db.w }

// Dialect returns the database's dialect, for tests that reach below the
// store interfaces (to provoke a failure, say) and must speak its SQL.
func (db *DB) Dialect() Dialect { return db.dialect }

// Close stops the committers and closes both pools.
func (db *DB) Close() error {
	db.committer.close()
	var errs []error
	db.closeOnce.Do(func() {
		for _, f := range db.closers {
			errs = append(errs, f())
		}
	})
	for _, m := range []*sync.Map{&db.rstmts, &db.wstmts} {
		m.Range(func(_, v any) bool {
			v.(*sql.Stmt).Close()
			return true
		})
	}
	err := errors.Join(append(errs, db.w.Close())...)
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

// q rebinds a ? query for the dialect, caching the result.
func (db *DB) q(query string) string {
	if !db.dialect.postgres() {
		return query
	}
	if v, ok := db.rebinds.Load(query); ok {
		return v.(string)
	}
	out := db.rebind(query)
	db.rebinds.Store(query, out)
	return out
}

// rebind replaces ? placeholders with $1, $2, … (PostgreSQL).
func (db *DB) rebind(query string) string {
	if !db.dialect.postgres() {
		return query
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
	return b.String()
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is a write transaction with the dialect's rebinding. Rows given to
// later are inserted when the transaction's writes are done, as one
// multi-row INSERT per table for the whole group commit. On PostgreSQL the
// transaction begins at its first statement (see committer.tx).
type Tx struct {
	tx *sql.Tx // nil until begun
	db *DB
	// ctx, in a group commit, is the group's: its deadline bounds every
	// statement of the transaction, whatever context a write passes.
	ctx     context.Context
	pending map[string]*pendingRows
	tables  []string
	stats   *statBatch // counters of the events written (stats.go)
	// invalidates: the transaction changes rows the cache keeps.
	invalidates bool
	// screens are accepts whose jobs wait for the suppression check
	// (screenAll), run once for the whole transaction at flush.
	screens []store.Accept
	// deferUpserts makes upsertRows queue its rows in upserts, for
	// insertAll (PostgreSQL).
	deferUpserts bool
	upserts      []pendingUpsert
	// parts are the event parts the transaction's events use, each
	// once (eventparts.go): the index of its row in partRows.
	parts    map[partKey]int
	partRows [][]any
}

type pendingUpsert struct {
	table      string
	cols       []string
	rows       [][]any
	onConflict string
}

type pendingRows struct {
	cols []string
	rows [][]any
}

// later queues a row for insertion before commit. Reads in the same
// transaction do not see it, so use it only for rows nothing reads back
// before commit.
func (t *Tx) later(table string, cols []string, row []any) {
	if t.pending == nil {
		t.pending = map[string]*pendingRows{}
	}
	p := t.pending[table]
	if p == nil {
		p = &pendingRows{cols: cols}
		t.pending[table] = p
		t.tables = append(t.tables, table)
	}
	p.rows = append(p.rows, row)
}

// flush inserts the queued rows, in the order tables were first used.
func (t *Tx) flush(ctx context.Context) error {
	if len(t.screens) > 0 {
		if err := t.screenAll(ctx); err != nil {
			return err
		}
	}
	if t.db.dialect.postgres() {
		// The statistics' upserts join the rows' inserts in one statement.
		t.deferUpserts = true
		if err := t.flushStats(ctx); err != nil {
			return err
		}
		if err := t.flushParts(ctx); err != nil {
			return err
		}
		err := t.insertAll(ctx)
		t.pending, t.tables, t.upserts, t.deferUpserts = nil, nil, nil, false
		return err
	}
	for _, table := range t.tables {
		p := t.pending[table]
		if err := t.insertRows(ctx, table, p.cols, p.rows); err != nil {
			return err
		}
	}
	t.pending, t.tables = nil, nil
	if err := t.flushParts(ctx); err != nil {
		return err
	}
	return t.flushStats(ctx)
}

// begun returns the transaction, beginning it if it has not yet.
func (t *Tx) begun(ctx context.Context) (*sql.Tx, error) {
	ctx = t.bound(ctx)
	if t.tx == nil {
		tx, err := t.db.w.BeginTx(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("begin: %w", t.db.classify(err))
		}
		t.tx = tx
	}
	return t.tx, nil
}

// bound is the context a statement runs under: the group's, in a group
// commit, else ctx.
func (t *Tx) bound(ctx context.Context) context.Context {
	if t.ctx != nil {
		return t.ctx
	}
	return ctx
}

// conn is where a statement runs that needs no transaction of its own:
// the transaction if it began, else the writer pool, where the statement
// is a transaction by itself.
func (t *Tx) conn() querier {
	if t.tx != nil {
		return t.tx
	}
	return t.db.w
}

// rollback ends the transaction, if it began, without its writes.
func (t *Tx) rollback() {
	if t.tx != nil {
		_ = t.tx.Rollback()
	}
}

func (t *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = t.bound(ctx)
	tx, err := t.begun(ctx)
	if err != nil {
		return nil, err
	}
	if st := t.db.writerStmt(query); st != nil {
		res, err := tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		return res, t.db.classify(err)
	}
	res, err := tx.ExecContext(ctx, t.db.q(query), args...)
	return res, t.db.classify(err)
}

func (t *Tx) queryRow(ctx context.Context, query string, args ...any) scanner {
	ctx = t.bound(ctx)
	tx, err := t.begun(ctx)
	if err != nil {
		return errRow{err}
	}
	if st := t.db.writerStmt(query); st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, t.db.q(query), args...)
}

// rawExec, rawQuery and rawQueryRow run query as given (not prepared, not
// rebound) in the transaction.
func (t *Tx) rawExec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = t.bound(ctx)
	tx, err := t.begun(ctx)
	if err != nil {
		return nil, err
	}
	return tx.ExecContext(ctx, query, args...)
}

func (t *Tx) rawQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = t.bound(ctx)
	tx, err := t.begun(ctx)
	if err != nil {
		return nil, err
	}
	return tx.QueryContext(ctx, query, args...)
}

func (t *Tx) rawQueryRow(ctx context.Context, query string, args ...any) scanner {
	ctx = t.bound(ctx)
	tx, err := t.begun(ctx)
	if err != nil {
		return errRow{err}
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// errRow is a row whose query could not run.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// writerStmt returns the writer pool's prepared statement for query, or
// nil the first time: preparing on the pool needs a free connection, and
// SQLite's only writer connection is the one this transaction holds. The
// query is prepared after the transaction (prepareQueued) instead.
func (db *DB) writerStmt(query string) *sql.Stmt {
	if v, ok := db.wstmts.Load(query); ok {
		return v.(*sql.Stmt)
	}
	db.toPrepare.Store(query, struct{}{})
	return nil
}

// prepareQueued prepares the writer statements first seen in a
// transaction; the committer calls it between transactions.
func (db *DB) prepareQueued() {
	db.toPrepare.Range(func(k, _ any) bool {
		db.toPrepare.Delete(k)
		db.prepared(db.w, &db.wstmts, k.(string))
		return true
	})
}

// prepared returns a statement for query prepared on pool, cached in
// cache; nil when it cannot be prepared (the caller runs it unprepared).
// Preparing once saves SQLite parsing the SQL on every call, which was a
// fifth of the accept path's CPU.
func (db *DB) prepared(pool *sql.DB, cache *sync.Map, query string) *sql.Stmt {
	if v, ok := cache.Load(query); ok {
		return v.(*sql.Stmt)
	}
	st, err := pool.Prepare(db.q(query))
	if err != nil {
		return nil
	}
	if v, loaded := cache.LoadOrStore(query, st); loaded {
		st.Close()
		return v.(*sql.Stmt)
	}
	return st
}

// inTx runs fn in a write transaction (shared with concurrent writers,
// see commit.go) and returns once it is durable. fn may run more than once
// if a neighbour's write fails, so it must only write to tx.
func (db *DB) inTx(ctx context.Context, fn func(tx *Tx) error) error {
	return db.committer.write(ctx, fn)
}

// exec runs one write statement as its own transaction.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := db.inTx(ctx, func(tx *Tx) error {
		var err error
		res, err = tx.exec(ctx, query, args...)
		return err
	})
	return res, err
}

func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := db.prepared(db.r, &db.rstmts, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.r.QueryRowContext(ctx, db.q(query), args...)
}

// queryRowFresh is queryRow planned afresh at every execution (see
// Dialect.Fresh).
func (db *DB) queryRowFresh(ctx context.Context, query string, args ...any) *sql.Row {
	if db.dialect.Fresh == nil {
		return db.queryRow(ctx, query, args...)
	}
	return db.r.QueryRowContext(ctx, db.q(query), db.fresh(args)...)
}

// fresh returns args with the dialect's Fresh option first, if any.
func (db *DB) fresh(args []any) []any {
	if db.dialect.Fresh == nil {
		return args
	}
	return append([]any{db.dialect.Fresh}, args...)
}

func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := db.prepared(db.r, &db.rstmts, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
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
	// CREATE TABLE IF NOT EXISTS is not safe against a concurrent one on
	// PostgreSQL (both may try to insert the table's type), so it takes the
	// lock too.
	if err := db.inTx(ctx, func(tx *Tx) error {
		if err := db.lockMigrations(ctx, tx); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`)
		return err
	}); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var newest int
	if err := db.w.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return err
	}
	known := 0
	versions := make([]int, len(files))
	for i, f := range files {
		v, err := strconv.Atoi(strings.SplitN(path.Base(f), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", path.Base(f))
		}
		versions[i], known = v, max(known, v)
	}
	if newest > known {
		return fmt.Errorf("the %s store is at schema version %d but this binary knows only %d: run a newer salvo", kind, newest, known)
	}
	for i, f := range files {
		name, version := path.Base(f), versions[i]
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
		if err := db.lockMigrations(ctx, tx); err != nil {
			return err
		}
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		for _, stmt := range splitStatements(ddl) {
			if _, err := tx.rawExec(ctx, stmt); err != nil {
				return fmt.Errorf("%w\n%s", err, stmt)
			}
		}
		_, err := tx.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			version, name, time.Now().UnixMicro())
		return err
	})
}

// lockMigrations makes concurrent migrations of one PostgreSQL database
// wait for each other until tx ends. SQLite needs nothing: its write
// transactions begin IMMEDIATE and so already exclude each other.
func (db *DB) lockMigrations(ctx context.Context, tx *Tx) error {
	if !db.dialect.postgres() {
		return nil
	}
	_, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock(7270001)`)
	return err
}

// ddl rewrites the portable schema for the dialect. {{BINARY}} makes a
// text column compare byte by byte on PostgreSQL too, as SQLite does, so
// that both sort and page it alike. {{WITHOUT ROWID}} makes a SQLite
// table one b-tree (its primary key), one page fewer to write per change.
// {{NL}} is a newline character in an expression (a literal one would be
// lost: statements are split by line).
func (db *DB) ddl(s string) string {
	if db.dialect.postgres() {
		return strings.NewReplacer(" BLOB", " BYTEA",
			"{{SERIAL}}", "BIGSERIAL PRIMARY KEY",
			"{{TXID}}", "(pg_current_xact_id()::text::bigint)", "{{BINARY}}", `COLLATE "C"`, " {{WITHOUT ROWID}}", "",
			"{{NL}}", "chr(10)").Replace(s)
	}
	return strings.NewReplacer("{{SERIAL}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{TXID}}", "0", " {{BINARY}}", "",
		"{{WITHOUT ROWID}}", "WITHOUT ROWID", "{{NL}}", "char(10)").Replace(s)
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
