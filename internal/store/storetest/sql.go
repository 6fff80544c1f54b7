package storetest

import (
	"testing"

	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/store/sqlstore"
)

// Below the store interfaces: the few checks they cannot make (rows left in
// a table nothing reads back) and failures they cannot provoke.

// sqlDB returns the database under r.
func sqlDB(t *testing.T, r store.Regional) *sqlstore.DB {
	t.Helper()
	sr, ok := r.(*sqlstore.Regional)
	if !ok {
		t.Fatalf("%T is not a *sqlstore.Regional", r)
	}
	return sr.DB
}

// countRows returns how many rows table has.
func countRows(t *testing.T, r store.Regional, table string) int {
	t.Helper()
	var n int
	mustOK(t, sqlDB(t, r).Writer().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n), "count "+table)
	return n
}

// refusedType is the event type that refuseEvents makes the database refuse.
const refusedType = "storetest-refused"

// refuseEvents installs a trigger that fails every insert of an event of
// type refusedType, so a test can check that the rest of the transaction is
// rolled back with it. Nothing in the schema can fail such an insert
// otherwise.
func refuseEvents(t *testing.T, r store.Regional) {
	t.Helper()
	db := sqlDB(t, r)
	stmts := []string{`CREATE TRIGGER storetest_refuse BEFORE INSERT ON events
		WHEN NEW.type = '` + refusedType + `'
		BEGIN SELECT RAISE(ABORT, 'storetest: event refused'); END`}
	if db.Dialect().Name == "postgres" {
		stmts = []string{`CREATE FUNCTION storetest_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF NEW.type = '` + refusedType + `' THEN RAISE EXCEPTION 'storetest: event refused'; END IF;
				RETURN NEW;
			END $$`,
			`CREATE TRIGGER storetest_refuse BEFORE INSERT ON events
				FOR EACH ROW EXECUTE FUNCTION storetest_refuse()`}
	}
	for _, s := range stmts {
		_, err := db.Writer().ExecContext(ctx, s)
		mustOK(t, err, "create the refusing trigger")
	}
}
