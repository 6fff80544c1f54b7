// The tests are an external package because testutil imports app, which
// imports this package.
package postgres_test

import (
	"context"
	"testing"

	"github.com/salvo-email/salvo/internal/store/postgres"
	"github.com/salvo-email/salvo/internal/store/sqlstore"
	"github.com/salvo-email/salvo/internal/store/storetest"
	"github.com/salvo-email/salvo/internal/testutil"
)

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, storetest.KindStores(migratedDB))
}

func TestNodes(t *testing.T) {
	t.Parallel()
	storetest.RunNodes(t, freshDB)
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	storetest.RunMigrations(t, freshDB)
}

// migratedDB returns an Opener of a schema migrated as kind and empty of
// data, from testutil's pool (emptied and reused when the test ends).
func migratedDB(t *testing.T, kind string) storetest.Opener {
	url := testutil.PostgresMigrated(t, kind)
	return func(ctx context.Context) (*sqlstore.DB, error) { return postgres.Open(ctx, url) }
}

// freshDB returns an Opener of a new schema. Like every PostgreSQL test,
// the tests fail when the server is unreachable, unless
// SALVO_TEST_SKIP_POSTGRES=1.
func freshDB(t *testing.T) storetest.Opener {
	url := testutil.PostgresSchema(t)
	return func(ctx context.Context) (*sqlstore.DB, error) { return postgres.Open(ctx, url) }
}
