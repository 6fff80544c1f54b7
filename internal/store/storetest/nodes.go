package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/store/sqlstore"
)

// RunNodes runs the tests of several store instances on one database, as
// several nodes share a PostgreSQL database (or processes a SQLite file):
// each instance has its own connections and committers. fresh returns an
// Opener of an empty database of t's own.
func RunNodes(t *testing.T, fresh func(t *testing.T) Opener) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, []store.Regional)
	}{
		{"ClaimRace", testNodesClaimRace},
		{"Visible", testNodesVisible},
		{"Idempotency", testNodesIdempotency},
		{"Cache", testNodesCache},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			open := fresh(t)
			nodes := make([]store.Regional, 2)
			for i := range nodes {
				r, err := sqlstore.OpenRegional(ctx, openDB(t, open))
				mustOK(t, err, fmt.Sprint("OpenRegional of node ", i))
				nodes[i] = r
			}
			tc.fn(t, nodes)
		})
	}
	t.Run("Keys", func(t *testing.T) {
		t.Parallel()
		open := fresh(t)
		nodes := make([]*sqlstore.Global, 2)
		for i := range nodes {
			g, err := sqlstore.OpenGlobal(ctx, openDB(t, open))
			mustOK(t, err, fmt.Sprint("OpenGlobal of node ", i))
			nodes[i] = g
		}
		testNodesKeys(t, nodes[0], nodes[1])
	})
}

// testNodesKeys checks that API keys, which each node caches, stop working
// on every node once their removal returned: no waiting for a notification
// (the removal itself waits, see sqlstore.KeyTTL), and that a new key works
// on every node at once.
func testNodesKeys(t *testing.T, a, b *sqlstore.Global) {
	bootstrap(t, a)
	works := func(g *sqlstore.Global, id string) bool {
		t.Helper()
		k, err := g.KeyByHash(ctx, hash(id))
		if errors.Is(err, store.ErrNotFound) {
			return false
		}
		mustOK(t, err, "KeyByHash "+id)
		if k.ID != id {
			t.Fatalf("KeyByHash(%s) returned key %s", id, k.ID)
		}
		return true
	}
	mustOK(t, a.ReserveDomain(ctx, store.DomainName{Name: "keys.example.com", ID: "dk", AccountID: acctID, Region: "us", CreatedAt: at(1)}), "ReserveDomain")
	if works(b, "k-new") {
		t.Fatal("an unknown key works")
	}
	createKeys(t, a, key("k-user", 1), sendingKey("k-send", "keys.example.com", 2), key("k-new", 3))
	// Both nodes use each key twice: the second time from their caches.
	for _, g := range []*sqlstore.Global{a, b, a, b} {
		for _, id := range []string{"k-user", "k-send", "k-new", "primary"} {
			if !works(g, id) {
				t.Fatalf("key %s does not work", id)
			}
		}
	}
	// Many requests at once with a key b has not cached share one read.
	createKeys(t, a, key("k-burst", 4))
	var wg sync.WaitGroup
	burstErrs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := b.KeyByHash(ctx, hash("k-burst"))
			if err == nil && k.ID != "k-burst" {
				err = fmt.Errorf("got key %s", k.ID)
			}
			burstErrs <- err
		}()
	}
	wg.Wait()
	close(burstErrs)
	for err := range burstErrs {
		mustOK(t, err, "KeyByHash in a burst")
	}
	mustOK(t, a.DeleteKey(ctx, "k-user"), "DeleteKey")
	if works(a, "k-user") || works(b, "k-user") {
		t.Fatal("a deleted key still works")
	}
	mustOK(t, a.ReleaseDomain(ctx, "keys.example.com"), "ReleaseDomain")
	if works(a, "k-send") || works(b, "k-send") {
		t.Fatal("the sending key of a released domain still works")
	}
	next := primaryKey("p2")
	next.AccountID = acctID
	mustOK(t, b.ReplacePrimaryKey(ctx, next), "ReplacePrimaryKey")
	if works(a, "primary") || works(b, "primary") {
		t.Fatal("the replaced primary key still works")
	}
	if !works(a, "p2") || !works(b, "p2") || !works(a, "k-new") || !works(b, "k-new") {
		t.Fatal("a remaining key stopped working")
	}
}

// testNodesClaimRace checks that nodes claiming at once never get the same
// job (on PostgreSQL, FOR UPDATE SKIP LOCKED; on SQLite, one writer).
func testNodesClaimRace(t *testing.T, nodes []store.Regional) {
	mustRaceClaims(t, nodes, 4, 10)
}

// testNodesVisible checks that what one node wrote is visible to another
// as soon as the write returned.
func testNodesVisible(t *testing.T, nodes []store.Regional) {
	w, r := nodes[0], nodes[1]
	for i := range 30 {
		a := submission(message("a.com", fmt.Sprint("m", i), i), "bob@gmail.com", "carol@yahoo.com")
		accept(t, w, a)
		jobs := mustAccepted(t, r, a)
		e := event(a.Message, "delivered", "bob@gmail.com", at(i+1))
		mustOK(t, w.Complete(ctx, []store.Outcome{{JobID: jobs[0].ID, Done: true, Events: []store.Event{e}}}), "Complete")
		mustJobs(t, r, a.Message, jobs[1])
		e2 := event(a.Message, "opened", "bob@gmail.com", at(i+2))
		mustOK(t, w.AppendEvents(ctx, []store.Event{e2}), "AppendEvents")
		mustEvents(t, r, eventsOf(a.Message), append(a.Events, e, e2)...)
	}
}

func testNodesIdempotency(t *testing.T, nodes []store.Regional) {
	mustRaceIdempotency(t, nodes, 20)
}

// testNodesCache checks that the domains and lists a node keeps in memory
// follow changes: its own at once, another node's (another process on
// SQLite, at once too; on PostgreSQL, as soon as the notification arrives).
func testNodesCache(t *testing.T, nodes []store.Regional) {
	a, b := nodes[0], nodes[1]
	postgres := b.(*sqlstore.Regional).Dialect().Name == "postgres"
	// see asks cond of b until it holds: at once on SQLite, within 10 s on
	// PostgreSQL.
	see := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if !postgres || time.Now().After(deadline) {
				t.Fatalf("node b does not see %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	requireTLS := func(r store.Regional, want bool) func() bool {
		return func() bool {
			d, err := r.Domain(ctx, "cache.example.com")
			return err == nil && d.RequireTLS == want
		}
	}

	d := fullDomain("cache.example.com")
	mustOK(t, a.CreateDomain(ctx, d, nil), "CreateDomain")
	see("the new domain", requireTLS(b, true))
	see("the domain again (cached)", requireTLS(b, true))
	requireTLS(a, true)() // a caches it too

	d.RequireTLS = false
	mustOK(t, a.UpdateDomain(ctx, d), "UpdateDomain")
	if !requireTLS(a, false)() {
		t.Fatal("node a does not see its own update")
	}
	see("the update", requireTLS(b, false))

	// b's own update, then a's delete.
	d.RequireTLS = true
	mustOK(t, b.UpdateDomain(ctx, d), "UpdateDomain on b")
	if !requireTLS(b, true)() {
		t.Fatal("node b does not see its own update")
	}
	mustOK(t, a.DeleteDomain(ctx, d.Name), "DeleteDomain")
	see("the delete", func() bool {
		_, err := b.Domain(ctx, d.Name)
		return errors.Is(err, store.ErrNotFound)
	})

	// Lists: b looks an address up (none), a makes it a list, renames it,
	// deletes it.
	isList := func(addr string) func() bool {
		return func() bool {
			ls, err := b.ListsByAddress(ctx, []string{addr, "nobody@cache.example.com"})
			return err == nil && len(ls) == 1 && ls[0].Address == addr
		}
	}
	none := func() bool {
		ls, err := b.ListsByAddress(ctx, []string{"devs@cache.example.com", "team@cache.example.com"})
		return err == nil && len(ls) == 0
	}
	see("no list", none)
	mustOK(t, a.CreateList(ctx, fullList("devs@cache.example.com")), "CreateList")
	see("the new list", isList("devs@cache.example.com"))
	mustOK(t, a.UpdateList(ctx, "devs@cache.example.com", fullList("team@cache.example.com")), "UpdateList")
	see("the renamed list", isList("team@cache.example.com"))
	mustOK(t, a.DeleteList(ctx, "team@cache.example.com"), "DeleteList")
	see("the list deleted", none)
}
