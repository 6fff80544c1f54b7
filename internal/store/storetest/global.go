package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

var globalTests = []struct {
	name string
	fn   func(*testing.T, store.Global)
}{
	{"Bootstrap", testBootstrap},
	{"BootstrapConcurrent", testBootstrapConcurrent},
	{"Meta", testMeta},
	{"KeyRoundTrip", testKeyRoundTrip},
	{"Times", testTimes},
	{"KeyNotFound", testKeyNotFound},
	{"KeyConflict", testKeyConflict},
	{"Keys", testKeys},
	{"DeleteKey", testDeleteKey},
	{"ReplacePrimaryKey", testReplacePrimaryKey},
	{"ReserveDomain", testReserveDomain},
	{"ReleaseDomain", testReleaseDomain},
	{"Usage", testUsage},
}

const acctID = "acct-1"

func account() store.Account {
	return store.Account{ID: acctID, Name: "Example Inc", CreatedAt: at(0)}
}

// key is a user key of the fixture account, created n seconds after t0.
func key(id string, n int) store.Key {
	return store.Key{
		ID: id, AccountID: acctID, Kind: store.KindUser, Role: store.RoleAdmin,
		Description: "key " + id, Hash: hash(id), Requestor: "ops@example.com", UserName: "Ops",
		CreatedAt: at(n), UpdatedAt: at(n),
	}
}

// sendingKey is a domain's sending key.
func sendingKey(id, domain string, n int) store.Key {
	k := key(id, n)
	k.Kind, k.Role, k.DomainName = store.KindDomain, store.RoleSending, domain
	return k
}

// primaryKey is a primary key as Bootstrap and ReplacePrimaryKey are given
// it: without the account and the primary flag, which they set.
func primaryKey(id string) store.Key {
	k := key(id, 0)
	k.AccountID = ""
	k.Description = "Primary account API key"
	k.Sealed = []byte("sealed " + id)
	return k
}

// asStoredPrimary is what the store holds for a primaryKey.
func asStoredPrimary(k store.Key) store.Key {
	k.AccountID, k.Primary = acctID, true
	return k
}

// bootstrap creates the fixture account with primary key "primary" and
// returns the stored primary key.
func bootstrap(t *testing.T, g store.Global) store.Key {
	t.Helper()
	created, err := g.Bootstrap(ctx, account(), primaryKey("primary"))
	mustOK(t, err, "Bootstrap")
	if !created {
		t.Fatal("Bootstrap of an empty store: created = false")
	}
	return asStoredPrimary(primaryKey("primary"))
}

func createKeys(t *testing.T, g store.Global, keys ...store.Key) {
	t.Helper()
	for _, k := range keys {
		mustOK(t, g.CreateKey(ctx, k), "CreateKey "+k.ID)
	}
}

// mustKeys fails t unless Keys(f) returns exactly want, in any order (the
// contract names none).
func mustKeys(t *testing.T, g store.Global, f store.KeyFilter, want ...store.Key) {
	t.Helper()
	got, err := g.Keys(ctx, f)
	mustOK(t, err, fmt.Sprintf("Keys(%+v)", f))
	byID := func(a, b store.Key) int { return strings.Compare(a.ID, b.ID) }
	want = slices.SortedFunc(slices.Values(want), byID)
	got = slices.SortedFunc(slices.Values(got), byID)
	mustEqual(t, fmt.Sprintf("Keys(%+v)", f), want, got)
}

func mustCount(t *testing.T, g store.Global, want int) {
	t.Helper()
	n, err := g.CountKeys(ctx)
	mustOK(t, err, "CountKeys")
	if n != want {
		t.Fatalf("CountKeys = %d, want %d", n, want)
	}
}

// mustKey fails t unless both Key and KeyByHash return want.
func mustKey(t *testing.T, g store.Global, want store.Key) {
	t.Helper()
	got, err := g.Key(ctx, want.ID)
	mustOK(t, err, "Key "+want.ID)
	mustEqual(t, "Key "+want.ID, want, got)
	got, err = g.KeyByHash(ctx, want.Hash)
	mustOK(t, err, "KeyByHash "+want.ID)
	mustEqual(t, "KeyByHash "+want.ID, want, got)
}

// mustNoKey fails t unless both Key and KeyByHash say k is not found.
func mustNoKey(t *testing.T, g store.Global, k store.Key) {
	t.Helper()
	_, err := g.Key(ctx, k.ID)
	mustIs(t, err, store.ErrNotFound, "Key "+k.ID)
	_, err = g.KeyByHash(ctx, k.Hash)
	mustIs(t, err, store.ErrNotFound, "KeyByHash "+k.ID)
}

func testBootstrap(t *testing.T, g store.Global) {
	_, err := g.Account(ctx)
	mustIs(t, err, store.ErrNotFound, "Account before Bootstrap")
	mustCount(t, g, 0)

	primary := primaryKey("primary")
	primary.ExpiresAt = at(99) // every field of the primary key is kept
	requireAllSet(t, primary, "AccountID", "DomainName", "Primary", "Disabled", "DisabledReason")
	created, err := g.Bootstrap(ctx, account(), primary)
	mustOK(t, err, "Bootstrap")
	if !created {
		t.Fatal("first Bootstrap: created = false")
	}
	acct, err := g.Account(ctx)
	mustOK(t, err, "Account")
	requireAllSet(t, account())
	mustEqual(t, "Account", account(), acct)
	mustKey(t, g, asStoredPrimary(primary))

	// A second Bootstrap, as by a second node starting, writes nothing.
	other := store.Account{ID: "acct-2", Name: "Other", CreatedAt: at(5)}
	created, err = g.Bootstrap(ctx, other, primaryKey("primary-2"))
	mustOK(t, err, "second Bootstrap")
	if created {
		t.Fatal("second Bootstrap: created = true")
	}
	acct, err = g.Account(ctx)
	mustOK(t, err, "Account")
	mustEqual(t, "Account after second Bootstrap", account(), acct)
	mustKeys(t, g, store.KeyFilter{}, asStoredPrimary(primary))
}

func testBootstrapConcurrent(t *testing.T, g store.Global) {
	const n = 8
	var wg sync.WaitGroup
	created := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			acct := store.Account{ID: fmt.Sprint("acct-", i), Name: "Racer", CreatedAt: at(i)}
			created[i], errs[i] = g.Bootstrap(ctx, acct, primaryKey(fmt.Sprint("primary-", i)))
		})
	}
	wg.Wait()
	winner := -1
	for i := range n {
		mustOK(t, errs[i], fmt.Sprint("Bootstrap ", i))
		if created[i] {
			if winner >= 0 {
				t.Fatalf("Bootstraps %d and %d both created an account", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no Bootstrap created the account")
	}
	acct, err := g.Account(ctx)
	mustOK(t, err, "Account")
	mustEqual(t, "Account", store.Account{ID: fmt.Sprint("acct-", winner), Name: "Racer", CreatedAt: at(winner)}, acct)
	want := primaryKey(fmt.Sprint("primary-", winner))
	want.AccountID, want.Primary = acct.ID, true
	mustKeys(t, g, store.KeyFilter{}, want)
}

func testMeta(t *testing.T, g store.Global) {
	_, err := g.Meta(ctx, "secret_check")
	mustIs(t, err, store.ErrNotFound, "Meta before Put")
	for _, put := range []struct{ value, want string }{{"first", "first"}, {"second", "first"}} {
		v, err := g.PutMetaIfAbsent(ctx, "secret_check", put.value)
		mustOK(t, err, "PutMetaIfAbsent")
		if v != put.want {
			t.Fatalf("PutMetaIfAbsent(%q) = %q, want %q", put.value, v, put.want)
		}
	}
	v, err := g.Meta(ctx, "secret_check")
	if err != nil || v != "first" {
		t.Fatalf("Meta = %q, %v; want first", v, err)
	}
	_, err = g.Meta(ctx, "other")
	mustIs(t, err, store.ErrNotFound, "Meta of another name")

	// Nodes starting together agree on one value.
	const n = 8
	var wg sync.WaitGroup
	got := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { got[i], errs[i] = g.PutMetaIfAbsent(ctx, "race", fmt.Sprint("v", i)) })
	}
	wg.Wait()
	for i := range n {
		mustOK(t, errs[i], "concurrent PutMetaIfAbsent")
		if got[i] != got[0] {
			t.Fatalf("concurrent PutMetaIfAbsent returned %q and %q", got[0], got[i])
		}
	}
}

func testKeyRoundTrip(t *testing.T, g store.Global) {
	bootstrap(t, g)
	k := store.Key{
		ID: "k-full", AccountID: acctID, Kind: store.KindDomain, Role: store.RoleSending,
		DomainName: "mg.example.com", Description: "every field", Hash: hash("k-full"),
		Sealed: []byte{0, 1, 2, 0xff}, Requestor: "ops@example.com", UserName: "Ops",
		CreatedAt: at(1), UpdatedAt: at(2), ExpiresAt: at(3), Disabled: true, DisabledReason: "leaked",
	}
	requireAllSet(t, k, "Primary") // Primary is Bootstrap's and ReplacePrimaryKey's
	createKeys(t, g, k)
	mustKey(t, g, k)
}

// testTimes checks that times come back in UTC at microsecond precision,
// and the zero time as zero, in every record that has one.
func testTimes(t *testing.T, g store.Global) {
	zone := time.FixedZone("UTC+2", 2*3600)
	odd := time.Date(2025, 1, 2, 3, 4, 5, 123456789, zone)
	want := odd.Truncate(time.Microsecond).UTC()

	acct := account()
	acct.CreatedAt = odd
	primary := primaryKey("primary")
	primary.CreatedAt, primary.UpdatedAt, primary.ExpiresAt = odd, odd, odd
	_, err := g.Bootstrap(ctx, acct, primary)
	mustOK(t, err, "Bootstrap")
	got, err := g.Account(ctx)
	mustOK(t, err, "Account")
	acct.CreatedAt = want
	mustEqual(t, "Account", acct, got)
	primary.CreatedAt, primary.UpdatedAt, primary.ExpiresAt = want, want, want
	mustKey(t, g, asStoredPrimary(primary))

	zero := key("zero", 0)
	zero.CreatedAt, zero.UpdatedAt = time.Time{}, time.Time{}
	createKeys(t, g, zero)
	mustKey(t, g, zero)

	for _, d := range []store.DomainName{
		{Name: "odd.example.com", ID: "d-odd", AccountID: acctID, Region: "us", CreatedAt: odd},
		{Name: "zero.example.com", ID: "d-zero", AccountID: acctID, Region: "us"},
	} {
		mustOK(t, g.ReserveDomain(ctx, d), "ReserveDomain")
		got, err := g.DomainName(ctx, d.Name)
		mustOK(t, err, "DomainName")
		if !d.CreatedAt.IsZero() {
			d.CreatedAt = want
		}
		mustEqual(t, "DomainName", d, got)
	}
}

func testKeyNotFound(t *testing.T, g store.Global) {
	bootstrap(t, g)
	mustNoKey(t, g, key("nope", 0))
	mustIs(t, g.DeleteKey(ctx, "nope"), store.ErrNotFound, "DeleteKey of an unknown id")
}

func testKeyConflict(t *testing.T, g store.Global) {
	primary := bootstrap(t, g)
	k := key("k1", 1)
	createKeys(t, g, k)

	sameHash := key("k2", 2)
	sameHash.Hash = k.Hash
	mustIs(t, g.CreateKey(ctx, sameHash), store.ErrConflict, "CreateKey with a used hash")
	sameID := key("k1", 3)
	sameID.Hash = hash("another")
	mustIs(t, g.CreateKey(ctx, sameID), store.ErrConflict, "CreateKey with a used id")

	mustKeys(t, g, store.KeyFilter{}, primary, k)
}

func testKeys(t *testing.T, g store.Global) {
	primary := bootstrap(t, g)
	web := key("w1", 2)
	web.Kind = store.KindWeb
	user, a1, a2, b1 := key("u1", 1), sendingKey("a1", "a.com", 3), sendingKey("a2", "a.com", 4), sendingKey("b1", "b.com", 5)
	createKeys(t, g, user, web, a1, a2, b1)

	mustCount(t, g, 6)
	for _, c := range []struct {
		f    store.KeyFilter
		want []store.Key
	}{
		{store.KeyFilter{}, []store.Key{primary, user, web, a1, a2, b1}},
		{store.KeyFilter{Kind: store.KindUser}, []store.Key{primary, user}},
		{store.KeyFilter{Kind: store.KindWeb}, []store.Key{web}},
		{store.KeyFilter{Kind: store.KindDomain}, []store.Key{a1, a2, b1}},
		{store.KeyFilter{DomainName: "a.com"}, []store.Key{a1, a2}},
		{store.KeyFilter{Kind: store.KindDomain, DomainName: "b.com"}, []store.Key{b1}},
		{store.KeyFilter{Kind: store.KindUser, DomainName: "a.com"}, nil},
		{store.KeyFilter{DomainName: "c.com"}, nil},
	} {
		mustKeys(t, g, c.f, c.want...)
	}
}

func testDeleteKey(t *testing.T, g store.Global) {
	primary := bootstrap(t, g)
	k1, k2 := key("k1", 1), sendingKey("k2", "a.com", 2)
	createKeys(t, g, k1, k2)

	mustOK(t, g.DeleteKey(ctx, k1.ID), "DeleteKey")
	mustNoKey(t, g, k1)
	mustCount(t, g, 2)
	mustKeys(t, g, store.KeyFilter{}, primary, k2)
	mustIs(t, g.DeleteKey(ctx, k1.ID), store.ErrNotFound, "second DeleteKey")
}

func testReplacePrimaryKey(t *testing.T, g store.Global) {
	old := bootstrap(t, g)
	k1, k2 := key("k1", 1), sendingKey("k2", "a.com", 2)
	createKeys(t, g, k1, k2)

	next := primaryKey("primary-2")
	next.AccountID = acctID
	mustOK(t, g.ReplacePrimaryKey(ctx, next), "ReplacePrimaryKey")
	mustNoKey(t, g, old)
	mustKey(t, g, asStoredPrimary(next))
	mustKeys(t, g, store.KeyFilter{}, asStoredPrimary(next), k1, k2)

	// A failed replacement keeps the old primary key (one transaction).
	clash := primaryKey("primary-3")
	clash.AccountID, clash.Hash = acctID, k1.Hash
	mustIs(t, g.ReplacePrimaryKey(ctx, clash), store.ErrConflict, "ReplacePrimaryKey with a used hash")
	mustKeys(t, g, store.KeyFilter{}, asStoredPrimary(next), k1, k2)
}

func testReserveDomain(t *testing.T, g store.Global) {
	bootstrap(t, g)
	d := store.DomainName{Name: "mg.example.com", ID: "d1", AccountID: acctID, Region: "eu", CreatedAt: at(1)}
	requireAllSet(t, d)
	mustOK(t, g.ReserveDomain(ctx, d), "ReserveDomain")
	got, err := g.DomainName(ctx, d.Name)
	mustOK(t, err, "DomainName")
	mustEqual(t, "DomainName", d, got)

	// Another region cannot take the name.
	dup := store.DomainName{Name: d.Name, ID: "d2", AccountID: acctID, Region: "us", CreatedAt: at(2)}
	mustIs(t, g.ReserveDomain(ctx, dup), store.ErrConflict, "ReserveDomain of a reserved name")
	got, err = g.DomainName(ctx, d.Name)
	mustOK(t, err, "DomainName")
	mustEqual(t, "DomainName after a clash", d, got)

	_, err = g.DomainName(ctx, "other.example.com")
	mustIs(t, err, store.ErrNotFound, "DomainName of an unknown name")
}

func testReleaseDomain(t *testing.T, g store.Global) {
	primary := bootstrap(t, g)
	a := store.DomainName{Name: "a.com", ID: "da", AccountID: acctID, Region: "us", CreatedAt: at(1)}
	b := store.DomainName{Name: "b.com", ID: "db", AccountID: acctID, Region: "us", CreatedAt: at(2)}
	mustOK(t, g.ReserveDomain(ctx, a), "ReserveDomain a")
	mustOK(t, g.ReserveDomain(ctx, b), "ReserveDomain b")
	user, a1, a2, b1 := key("u1", 1), sendingKey("a1", "a.com", 2), sendingKey("a2", "a.com", 3), sendingKey("b1", "b.com", 4)
	createKeys(t, g, user, a1, a2, b1)

	mustOK(t, g.ReleaseDomain(ctx, "a.com"), "ReleaseDomain")
	_, err := g.DomainName(ctx, "a.com")
	mustIs(t, err, store.ErrNotFound, "DomainName of a released name")
	got, err := g.DomainName(ctx, "b.com")
	mustOK(t, err, "DomainName of the other domain")
	mustEqual(t, "DomainName of the other domain", b, got)
	mustNoKey(t, g, a1)
	mustNoKey(t, g, a2)
	mustKeys(t, g, store.KeyFilter{}, primary, user, b1)

	mustIs(t, g.ReleaseDomain(ctx, "a.com"), store.ErrNotFound, "second ReleaseDomain")
	mustIs(t, g.ReleaseDomain(ctx, "c.com"), store.ErrNotFound, "ReleaseDomain of an unknown name")
	// The name is free again.
	mustOK(t, g.ReserveDomain(ctx, a), "ReserveDomain of a released name")
}
