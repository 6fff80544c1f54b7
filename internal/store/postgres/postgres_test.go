// The tests are an external package because testutil imports app, which
// imports this package.
package postgres_test

import (
	"context"
	"testing"

	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/store/postgres"
	"github.com/salvo-email/salvo/internal/store/sqlstore"
	"github.com/salvo-email/salvo/internal/store/storetest"
	"github.com/salvo-email/salvo/internal/testutil"
)

// openStores opens stores on fresh schemas. Like every PostgreSQL test it
// fails when the server is unreachable, unless SALVO_TEST_SKIP_POSTGRES=1.
func openStores(t *testing.T) (store.Global, store.Regional) {
	t.Helper()
	ctx := context.Background()
	g, err := postgres.OpenGlobal(ctx, testutil.PostgresSchema(t))
	if err != nil {
		t.Fatalf("OpenGlobal: %v", err)
	}
	t.Cleanup(func() { _ = g.Close() })
	r, err := postgres.OpenRegional(ctx, testutil.PostgresSchema(t))
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

// freshDB returns an Opener of a new schema.
func freshDB(t *testing.T) storetest.Opener {
	url := testutil.PostgresSchema(t)
	return func(ctx context.Context) (*sqlstore.DB, error) { return postgres.Open(ctx, url) }
}
