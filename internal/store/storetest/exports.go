package storetest

import (
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

var exportTests = []regionalTest{
	{"RoundTripAndClaim", testExportRoundTripAndClaim},
	{"ListAndDelete", testExportListAndDelete},
}

var envelopeTests = []regionalTest{
	{"DropWaiting", testDropWaiting},
}

// testExportRoundTripAndClaim: an export comes back as stored; a claim
// takes the oldest queued one with a lease; an ended lease lets another
// owner claim it; only the holder finishes it, with its data.
func testExportRoundTripAndClaim(t *testing.T, r store.Regional) {
	e := store.Export{ID: "exp-1", URL: "/v3/d.example/bounces", Domain: "d.example", List: store.Bounces,
		State: store.ExportQueued, CreatedAt: at(1), UpdatedAt: at(1)}
	mustOK(t, r.CreateExport(ctx, e), "CreateExport")
	mustIs(t, r.CreateExport(ctx, e), store.ErrConflict, "CreateExport again")
	got, err := r.Export(ctx, "exp-1", false)
	mustOK(t, err, "Export")
	e.Data = nil
	mustEqual(t, "Export", e, got)
	_, err = r.Export(ctx, "nope", false)
	mustIs(t, err, store.ErrNotFound, "Export unknown")

	claimed, err := r.ClaimExport(ctx, "node-a", at(2), at(62))
	mustOK(t, err, "ClaimExport")
	if claimed == nil || claimed.ID != "exp-1" || claimed.State != store.ExportProcessing || claimed.Owner != "node-a" ||
		!claimed.LeaseUntil.Equal(at(62)) {
		t.Fatalf("ClaimExport = %+v", claimed)
	}
	if again, err := r.ClaimExport(ctx, "node-b", at(3), at(63)); err != nil || again != nil {
		t.Fatalf("ClaimExport while leased = %+v, %v; want none", again, err)
	}
	stolen, err := r.ClaimExport(ctx, "node-b", at(70), at(130))
	mustOK(t, err, "ClaimExport after the lease")
	if stolen == nil || stolen.Owner != "node-b" {
		t.Fatalf("ClaimExport after the lease = %+v", stolen)
	}
	done := *stolen
	done.State, done.Rows, done.Data, done.UpdatedAt = store.ExportComplete, 2, []byte("address\na@x\nb@x\n"), at(71)
	late := done
	late.Owner = "node-a"
	mustIs(t, r.FinishExport(ctx, late), store.ErrNotFound, "FinishExport by the old owner")
	mustOK(t, r.FinishExport(ctx, done), "FinishExport")
	got, err = r.Export(ctx, "exp-1", true)
	mustOK(t, err, "Export with data")
	done.LeaseUntil = at(130)
	mustEqual(t, "finished Export", done, got)
	mustIs(t, r.FinishExport(ctx, done), store.ErrNotFound, "FinishExport twice")
}

func testExportListAndDelete(t *testing.T, r store.Regional) {
	var all []store.Export
	for i, url := range []string{"/v3/a.example/bounces", "/v3/b.example/complaints", "/v3/a.example/bounces"} {
		e := store.Export{ID: string(rune('a' + i)), URL: url, Domain: "a.example", List: store.Bounces,
			State: store.ExportQueued, CreatedAt: at(10 * (i + 1)), UpdatedAt: at(10 * (i + 1))}
		mustOK(t, r.CreateExport(ctx, e), "CreateExport")
		all = append(all, e)
	}
	list, err := r.Exports(ctx, "", at(0), 10)
	mustOK(t, err, "Exports")
	mustEqual(t, "Exports (newest first)", []store.Export{all[2], all[1], all[0]}, list)
	list, err = r.Exports(ctx, "/v3/a.example/bounces", at(15), 10)
	mustOK(t, err, "Exports by url since")
	mustEqual(t, "Exports by url since", []store.Export{all[2]}, list)
	mustOK(t, r.DeleteExports(ctx, at(25)), "DeleteExports")
	list, err = r.Exports(ctx, "", time.Time{}, 10)
	mustOK(t, err, "Exports after delete")
	mustEqual(t, "Exports after delete", []store.Export{all[2]}, list)
}

// testDropWaiting: WaitingJobs lists a domain's jobs that no delivery
// holds; DropJobs removes those and writes their events, and leaves a job
// claimed in between with no event.
func testDropWaiting(t *testing.T, r store.Regional) {
	m := message("drop.example", "m1", 1)
	other := message("keep.example", "m2", 1)
	a := submission(m, "x@dest.example", "y@dest.example", "z@dest.example")
	for i := range a.Jobs {
		a.Jobs[i].NextAttemptAt = at(3600) // scheduled
	}
	a.Jobs[2].NextAttemptAt = at(1) // due
	accept(t, r, a)
	accept(t, r, submission(other, "w@dest.example"))
	now := at(5)
	// A delivery claims the due job.
	claimed, err := r.ClaimJobs(ctx, store.Claim{Now: now, Lease: time.Minute, Owner: "n", Limit: 10})
	mustOK(t, err, "ClaimJobs")
	if len(claimed) != 2 { // z@ of drop.example and w@ of keep.example
		t.Fatalf("claimed %d jobs, want 2", len(claimed))
	}
	waiting, err := r.WaitingJobs(ctx, "drop.example", now, 0, 10)
	mustOK(t, err, "WaitingJobs")
	if len(waiting) != 2 || waiting[0].Recipient != "x@dest.example" || waiting[1].Recipient != "y@dest.example" {
		t.Fatalf("WaitingJobs = %+v, want x@ and y@", waiting)
	}
	if more, err := r.WaitingJobs(ctx, "drop.example", now, waiting[0].ID, 10); err != nil || len(more) != 1 {
		t.Fatalf("WaitingJobs after the first = %d, %v; want 1", len(more), err)
	}
	var drops []store.Outcome
	for _, j := range append(waiting, claimed[0]) { // the claimed one must stay
		drops = append(drops, store.Outcome{JobID: j.ID, Done: true,
			Events: []store.Event{event(m, "failed", j.Recipient, now)}})
	}
	n, err := r.DropJobs(ctx, drops, now)
	mustOK(t, err, "DropJobs")
	if n != 2 {
		t.Fatalf("DropJobs removed %d, want 2", n)
	}
	left, err := r.WaitingJobs(ctx, "drop.example", at(1000), 0, 10) // the claim's lease has ended by then
	mustOK(t, err, "WaitingJobs after")
	if len(left) != 1 || left[0].Recipient != "z@dest.example" {
		t.Fatalf("left %+v, want only the claimed z@", left)
	}
	evs, err := r.Events(ctx, store.EventQuery{Domain: "drop.example", Type: "failed", Ascending: true, Limit: 10})
	mustOK(t, err, "Events")
	if len(evs) != 2 || evs[0].Recipient != "x@dest.example" || evs[1].Recipient != "y@dest.example" {
		t.Fatalf("failed events %+v, want x@ and y@ only", evs)
	}
}
