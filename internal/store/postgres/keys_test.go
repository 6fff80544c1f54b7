package postgres_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/store/postgres"
	"github.com/salvo-email/salvo/internal/store/sqlstore"
	"github.com/salvo-email/salvo/internal/testutil"
)

// deaf is a change counter that never moves: a node given it believes it
// hears every change and hears none, like a node whose notifications are
// late.
type deaf struct{}

func (deaf) Load() uint64 { return 0 }
func (deaf) Add()         {}

// TestRevokedKeyFailsOnADeafNode: a node that caches an API key and never
// hears that it was deleted still refuses it once the delete returned,
// because the delete waits out sqlstore.KeyTTL and cached keys expire
// after it.
func TestRevokedKeyFailsOnADeafNode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testutil.PostgresMigrated(t, "global")
	adb, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	a, err := sqlstore.OpenGlobal(ctx, adb)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	bdb := sqlstore.NewDB(raw, raw, postgres.Dialect)
	bdb.SharePeers(deaf{})
	b, err := sqlstore.OpenGlobal(ctx, bdb)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	now := time.Now().UTC().Truncate(time.Microsecond)
	if _, err := a.Bootstrap(ctx, store.Account{ID: "acct", Name: "A", CreatedAt: now},
		store.Key{ID: "primary", Kind: store.KindUser, Role: store.RoleAdmin, Hash: []byte("p"), CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte("secret"))
	k := store.Key{ID: "k1", AccountID: "acct", Kind: store.KindUser, Role: store.RoleAdmin, Hash: h[:], CreatedAt: now, UpdatedAt: now}
	if err := a.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // the second lookup comes from b's cache
		if got, err := b.KeyByHash(ctx, h[:]); err != nil || got.ID != "k1" {
			t.Fatalf("KeyByHash on b: %v, %v", got.ID, err)
		}
	}
	start := time.Now()
	if err := a.DeleteKey(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.KeyByHash(ctx, h[:]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the deleted key on a deaf node %v after the delete began: err = %v, want ErrNotFound", time.Since(start), err)
	}
}
