package storetest

import (
	"fmt"
	"testing"

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
