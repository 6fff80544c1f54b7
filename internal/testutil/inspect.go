package testutil

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // "sqlite" driver, read-only inspection
)

// StoreDump is every row of every table of a store, as text, by table.
type StoreDump map[string][]string

// DumpRegional reads every row of a node's regional store directly (not
// through Salvo's code), so tests can prove what it does and does not hold.
func (ta *TestApp) DumpRegional(t testing.TB) StoreDump {
	t.Helper()
	if ta.Cfg.DatabaseURL != "" {
		return dumpPostgres(t, ta.Cfg.DatabaseURL)
	}
	return dumpSQLite(t, ta.Cfg.SQLitePath("region-"+ta.Cfg.Region))
}

// DumpGlobal reads every row of a node's global store directly.
func (ta *TestApp) DumpGlobal(t testing.TB) StoreDump {
	t.Helper()
	if ta.Cfg.GlobalDatabaseURL != "" {
		return dumpPostgres(t, ta.Cfg.GlobalDatabaseURL)
	}
	return dumpSQLite(t, ta.Cfg.SQLitePath("global"))
}

// Find returns "table: row" for every row containing needle
// (case-insensitively).
func (d StoreDump) Find(needle string) []string {
	var out []string
	n := strings.ToLower(needle)
	for table, rows := range d {
		for _, r := range rows {
			if strings.Contains(strings.ToLower(r), n) {
				out = append(out, table+": "+r)
			}
		}
	}
	return out
}

// Tables lists the tables that have at least one row.
func (d StoreDump) Tables() []string {
	var out []string
	for table, rows := range d {
		if len(rows) > 0 {
			out = append(out, table)
		}
	}
	return out
}

func dumpSQLite(t testing.TB, path string) StoreDump {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	must(t, err, "open "+path)
	defer db.Close()
	return dump(t, db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
}

func dumpPostgres(t testing.TB, url string) StoreDump {
	t.Helper()
	db, err := sql.Open("pgx", url)
	must(t, err, "open postgres")
	defer db.Close()
	return dump(t, db, `SELECT table_name FROM information_schema.tables WHERE table_schema = '`+SchemaOf(url)+`'`)
}

func dump(t testing.TB, db *sql.DB, listTables string) StoreDump {
	t.Helper()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, listTables)
	must(t, err, "list tables")
	var tables []string
	for rows.Next() {
		var name string
		must(t, rows.Scan(&name), "scan table name")
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) == 0 {
		t.Fatal("store has no tables: wrong store?")
	}
	out := StoreDump{}
	for _, table := range tables {
		out[table] = dumpTable(t, db, table)
	}
	return out
}

func dumpTable(t testing.TB, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT * FROM ` + table)
	must(t, err, "read "+table)
	defer rows.Close()
	cols, err := rows.Columns()
	must(t, err, "columns of "+table)
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		must(t, rows.Scan(ptrs...), "scan "+table)
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteString(" | ")
			}
			switch x := v.(type) {
			case []byte:
				b.Write(x)
			default:
				fmt.Fprint(&b, x)
			}
		}
		out = append(out, b.String())
	}
	must(t, rows.Err(), "rows of "+table)
	return out
}
