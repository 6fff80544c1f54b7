package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/store/sqlite"
	"github.com/salvo-email/salvo/internal/store/sqlstore"
	"github.com/salvo-email/salvo/internal/store/storetest"
)

// openStores opens fresh store files in t's temporary folder.
func openStores(t *testing.T) (store.Global, store.Regional) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	g, err := sqlite.OpenGlobal(ctx, filepath.Join(dir, "global.db"))
	if err != nil {
		t.Fatalf("OpenGlobal: %v", err)
	}
	t.Cleanup(func() { _ = g.Close() })
	r, err := sqlite.OpenRegional(ctx, filepath.Join(dir, "region-us.db"))
	if err != nil {
		t.Fatalf("OpenRegional: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return g, r
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, openStores)
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	storetest.RunMigrations(t, freshDB)
}

// freshDB returns an Opener of a new file in t's temporary folder.
func freshDB(t *testing.T) storetest.Opener {
	path := filepath.Join(t.TempDir(), "m.db")
	return func(ctx context.Context) (*sqlstore.DB, error) { return sqlite.Open(ctx, path) }
}
