package sqlstore_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/store/postgres"
	"github.com/salvo-email/salvo/internal/store/sqlite"
	"github.com/salvo-email/salvo/internal/store/sqlstore"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestSubaccountUpgrade: stores written before subaccounts keep their
// data through migrations global 0010 and regional 0020, and it belongs
// to the primary account: its keys (the api_keys table is rebuilt) still
// authenticate with their account, and routes and lists get the primary
// account's owner value "".
func TestSubaccountUpgrade(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			open := func(name string) *sqlstore.DB {
				var db *sqlstore.DB
				var err error
				if dialect == "sqlite" {
					db, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), name+".db"))
				} else {
					db, err = postgres.Open(ctx, testutil.PostgresSchema(t))
				}
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = db.Close() })
				return db
			}
			gdb, rdb := open("global"), open("regional")
			if err := gdb.MigrateThrough(ctx, "global", 9); err != nil {
				t.Fatalf("global through 0009: %v", err)
			}
			if err := rdb.MigrateThrough(ctx, "regional", 19); err != nil {
				t.Fatalf("regional through 0019: %v", err)
			}
			hash := []byte("0123456789abcdef0123456789abcdef")
			if _, err := gdb.Writer().ExecContext(ctx, `INSERT INTO accounts (id, name, created_at) VALUES ('acct', 'Old', 1)`); err != nil {
				t.Fatalf("old account: %v", err)
			}
			keyInsert := `INSERT INTO api_keys (id, account_id, kind, role, hash, is_primary, created_at, updated_at)
				VALUES ('k1', 'acct', 'user', 'admin', $1, TRUE, 1, 1)`
			if dialect == "sqlite" {
				keyInsert = strings.Replace(keyInsert, "$1", "?", 1)
			}
			if _, err := gdb.Writer().ExecContext(ctx, keyInsert, hash); err != nil {
				t.Fatalf("old key: %v", err)
			}
			for _, q := range []string{
				`INSERT INTO routes (id, priority, description, expression, actions, created_at) VALUES ('r1', 0, '', 'catch_all()', '[]', 1)`,
				`INSERT INTO mailing_lists (address, name, description, access_level, reply_preference, created_at)
					VALUES ('l@x.test', '', '', 'readonly', 'list', 1)`,
			} {
				if _, err := rdb.Writer().ExecContext(ctx, q); err != nil {
					t.Fatalf("old row: %v", err)
				}
			}

			g, err := sqlstore.OpenGlobal(ctx, gdb)
			if err != nil {
				t.Fatalf("OpenGlobal (migrate 0010): %v", err)
			}
			k, err := g.KeyByHash(ctx, hash)
			if err != nil || k.ID != "k1" || k.AccountID != "acct" || !k.Primary {
				t.Fatalf("old key after 0010 = %+v, %v", k, err)
			}
			if ks, err := g.Keys(ctx, store.KeyFilter{AccountID: "acct"}); err != nil || len(ks) != 1 {
				t.Fatalf("Keys of the primary account = %+v, %v", ks, err)
			}
			// A subaccount's key needs no row in accounts now.
			sub := store.Key{ID: "k2", AccountID: "sub", Kind: store.KindUser, Role: store.RoleAdmin, Hash: []byte("another hash")}
			if err := g.CreateKey(ctx, sub); err != nil {
				t.Fatalf("CreateKey of a subaccount after 0010: %v", err)
			}

			r, err := sqlstore.OpenRegional(ctx, rdb)
			if err != nil {
				t.Fatalf("OpenRegional (migrate 0020): %v", err)
			}
			if rs, n, err := r.AccountRoutes(ctx, "", 0, 10); err != nil || n != 1 || rs[0].ID != "r1" {
				t.Fatalf("old route's owner: %+v %d %v, want the primary account's", rs, n, err)
			}
			if ls, n, err := r.AccountListsOffset(ctx, "", 0, 10); err != nil || n != 1 || ls[0].Address != "l@x.test" {
				t.Fatalf("old list's owner: %+v %d %v, want the primary account's", ls, n, err)
			}
		})
	}
}
