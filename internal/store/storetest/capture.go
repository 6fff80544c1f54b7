package storetest

import (
	"errors"
	"testing"

	"github.com/salvo-email/salvo/internal/store"
)

// testCompleteStored: an outcome's Stored message (capture mode's copy)
// is written with the job's new state and its event, and not when the
// outcome as a whole fails.
func testCompleteStored(t *testing.T, r store.Regional) {
	m := message("a.com", "m1", 0)
	jobs := queued(t, r, m, job(m, "a@gmail.com", at(10)), job(m, "b@yahoo.com", at(10)))
	c := claim(at(20))
	cl := mustClaim(t, r, c, claimed(jobs[0], c), claimed(jobs[1], c))

	kept := message("a.com", "copy-a", 21)
	kept.Body = append([]byte("Return-Path: <bounce+x@a.com>\r\n"), kept.Body...)
	kept.Size = len(kept.Body)
	delivered := event(m, "delivered", "a@gmail.com", at(21))
	mustOK(t, r.Complete(ctx, []store.Outcome{{JobID: cl[0].ID, Done: true, Events: []store.Event{delivered}, Stored: &kept}}), "Complete")
	mustMessage(t, r, kept)
	mustMessage(t, r, m) // the original stays
	mustJobs(t, r, m, cl[1])
	mustEvents(t, r, eventsOf(m), delivered)

	refuseEvents(t, r)
	lost := message("a.com", "copy-b", 22)
	err := r.Complete(ctx, []store.Outcome{{JobID: cl[1].ID, Done: true, Stored: &lost,
		Events: []store.Event{event(m, refusedType, "b@yahoo.com", at(22))}}})
	if err == nil {
		t.Fatal("Complete with a refused event succeeded")
	}
	if _, err := r.Message(ctx, lost.Domain, lost.Key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the copy of a failed Complete was stored (%v)", err)
	}
	mustJobs(t, r, m, cl[1])
}
