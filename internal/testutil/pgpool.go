package testutil

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store/postgres"
)

// Migrated PostgreSQL schemas are reused between tests, as River's test
// helpers reuse theirs: migrating a schema costs ~25 statements of DDL
// under the migrations' advisory lock, which every schema of the database
// shares, so a suite that migrated two schemas per subtest spent most of
// its time waiting for that lock. PostgresMigrated hands a test a schema
// migrated once by this process and emptied since; when the test ends the
// schema is emptied (TRUNCATE … RESTART IDENTITY of every table but
// schema_migrations, one statement) and goes back to the pool. A schema
// whose tables, columns, indexes or functions a test changed is dropped
// instead of reused (its catalog fingerprint differs from the freshly
// migrated one's), so no test sees another's data or DDL.
//
// Pool schemas are named salvo_p_<process>_<n>. The process holds a
// session advisory lock on its number for as long as it runs; the first
// pool use of a later process drops the pool schemas of processes whose
// lock is free (they ended, or were killed, before dropping theirs).

// pgPoolLock is the advisory lock class of pool owners (the second key is
// the owner's number); 7270001 is the migrations' lock.
const pgPoolLock = 7270002

type pgPool struct {
	once  sync.Once
	err   error
	base  string
	owner int32
	conn  *sql.Conn // holds the owner's advisory lock
	db    *sql.DB

	mu    sync.Mutex
	n     int
	free  map[string][]string // by kind
	print map[string]string   // by kind: fingerprint of a freshly migrated schema
}

var thePGPool pgPool

// PostgresMigrated returns a URL whose search_path is a schema migrated as
// kind ("global" or "regional") and holding no data, for t alone until t
// ends. Opening it with postgres.OpenGlobal or OpenRegional finds it up
// to date. Tests fail (not skip) when PostgreSQL is unreachable, unless
// SALVO_TEST_SKIP_POSTGRES=1. Tests of migrations themselves want
// PostgresSchema's empty schema instead.
func PostgresMigrated(t testing.TB, kind string) string {
	t.Helper()
	if os.Getenv("SALVO_TEST_SKIP_POSTGRES") == "1" {
		t.Skip("SALVO_TEST_SKIP_POSTGRES=1")
	}
	if kind != "global" && kind != "regional" {
		t.Fatalf("PostgresMigrated: kind %q is neither global nor regional", kind)
	}
	p := &thePGPool
	p.once.Do(p.start)
	if p.err != nil {
		t.Fatalf("postgres at %s: %v (set SALVO_TEST_POSTGRES_URL, or SALVO_TEST_SKIP_POSTGRES=1 to skip)", p.base, p.err)
	}
	name, err := p.get(kind)
	if err != nil {
		t.Fatalf("postgres: a migrated %s schema: %v", kind, err)
	}
	t.Cleanup(func() { p.put(kind, name) })
	return schemaURLString(p.base, name)
}

// start connects, takes the owner lock and drops the schemas of pools whose
// process is gone.
func (p *pgPool) start() {
	p.base = PostgresBaseURL()
	p.free, p.print = map[string][]string{}, map[string]string{}
	var b [4]byte
	_, _ = rand.Read(b[:])
	p.owner = int32(binary.BigEndian.Uint32(b[:]) & 0x7fffffff)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if p.db, p.err = sql.Open("pgx", p.base); p.err != nil {
		return
	}
	p.db.SetMaxIdleConns(4)
	if p.conn, p.err = p.db.Conn(ctx); p.err != nil {
		return
	}
	if _, p.err = p.conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, $2)`, pgPoolLock, p.owner); p.err != nil {
		return
	}
	p.sweep(ctx)
}

// sweep drops pool schemas whose owner no longer holds its lock. A failure
// leaves them for the next process.
func (p *pgPool) sweep(ctx context.Context) {
	rows, err := p.db.QueryContext(ctx, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'salvo\_p\_%'`)
	if err != nil {
		return
	}
	byOwner := map[int64][]string{}
	for rows.Next() {
		var name string
		if rows.Scan(&name) != nil {
			continue
		}
		f := strings.Split(name, "_")
		if len(f) != 4 {
			continue
		}
		if o, err := strconv.ParseInt(f[2], 10, 32); err == nil && int32(o) != p.owner {
			byOwner[o] = append(byOwner[o], name)
		}
	}
	rows.Close()
	for o, names := range byOwner {
		c, err := p.db.Conn(ctx)
		if err != nil {
			return
		}
		var got bool
		if c.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, $2)`, pgPoolLock, o).Scan(&got) == nil && got {
			for _, n := range names {
				_, _ = c.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+n+` CASCADE`)
			}
			_, _ = c.ExecContext(ctx, `SELECT pg_advisory_unlock($1, $2)`, pgPoolLock, o)
		}
		c.Close()
	}
}

// get takes a free schema of kind, or makes and migrates a new one.
func (p *pgPool) get(kind string) (string, error) {
	p.mu.Lock()
	if free := p.free[kind]; len(free) > 0 {
		name := free[len(free)-1]
		p.free[kind] = free[:len(free)-1]
		p.mu.Unlock()
		return name, nil
	}
	p.n++
	name := fmt.Sprintf("salvo_p_%d_%d", p.owner, p.n)
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := p.db.ExecContext(ctx, `CREATE SCHEMA `+name); err != nil {
		return "", err
	}
	db, err := postgres.Open(ctx, schemaURLString(p.base, name))
	if err == nil {
		err = db.Migrate(ctx, kind)
		db.Close()
	}
	if err == nil {
		var fp string
		if fp, err = p.fingerprint(ctx, name); err == nil {
			p.mu.Lock()
			if p.print[kind] == "" {
				p.print[kind] = fp
			} else if p.print[kind] != fp {
				err = fmt.Errorf("schema %s migrated differently from an earlier one", name)
			}
			p.mu.Unlock()
		}
	}
	if err != nil {
		p.drop(name)
		return "", err
	}
	return name, nil
}

// put empties name and returns it to the pool, or drops it when a test
// changed its DDL or it cannot be emptied.
func (p *pgPool) put(kind, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fp, err := p.fingerprint(ctx, name)
	p.mu.Lock()
	same := err == nil && fp == p.print[kind]
	p.mu.Unlock()
	if !same || p.empty(ctx, name) != nil {
		p.drop(name)
		return
	}
	p.mu.Lock()
	p.free[kind] = append(p.free[kind], name)
	p.mu.Unlock()
}

// empty truncates every table of the schema but schema_migrations and
// restarts their sequences, in one statement.
func (p *pgPool) empty(ctx context.Context, name string) error {
	var tables string
	err := p.db.QueryRowContext(ctx, `SELECT COALESCE(string_agg(quote_ident(n.nspname) || '.' || quote_ident(c.relname), ', '), '')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> 'schema_migrations'`, name).Scan(&tables)
	if err != nil || tables == "" {
		return err
	}
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// A connection a test left open with a lock makes the schema unusable:
	// drop it rather than wait.
	if _, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout = '5s'`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `TRUNCATE `+tables+` RESTART IDENTITY CASCADE`); err != nil {
		return err
	}
	return tx.Commit()
}

// fingerprint describes the schema's tables, columns, constraints,
// indexes, sequences, functions and triggers.
func (p *pgPool) fingerprint(ctx context.Context, name string) (string, error) {
	var fp string
	err := p.db.QueryRowContext(ctx, `SELECT concat_ws(E'\n',
		(SELECT string_agg(c.relname || ' ' || c.relkind::text || ' ' || COALESCE(pg_get_indexdef(c.oid), ''), E'\n' ORDER BY c.relname)
			FROM pg_class c WHERE c.relnamespace = $1::regnamespace),
		(SELECT string_agg(c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || ' ' ||
				COALESCE(pg_get_expr(d.adbin, d.adrelid), ''), E'\n' ORDER BY c.relname, a.attnum)
			FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
			LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
			WHERE c.relnamespace = $1::regnamespace AND a.attnum > 0 AND NOT a.attisdropped),
		(SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), E'\n' ORDER BY conname)
			FROM pg_constraint WHERE connamespace = $1::regnamespace),
		(SELECT string_agg(proname || ' ' || md5(prosrc), E'\n' ORDER BY proname)
			FROM pg_proc WHERE pronamespace = $1::regnamespace),
		(SELECT string_agg(tgname || ' ' || pg_get_triggerdef(t.oid), E'\n' ORDER BY tgname)
			FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = $1::regnamespace AND NOT t.tgisinternal))`,
		name).Scan(&fp)
	// Index definitions and defaults name the schema; another schema of
	// the same migrations must print the same.
	return strings.ReplaceAll(fp, name+".", ""), err
}

func (p *pgPool) drop(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = p.db.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+name+` CASCADE`)
}

func schemaURLString(base, schema string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
