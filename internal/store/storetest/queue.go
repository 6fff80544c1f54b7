package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

var queueTests = []regionalTest{
	{"Claim", testClaim},
	{"ClaimOrderAndLimit", testClaimOrderAndLimit},
	{"ClaimSkip", testClaimSkip},
	{"ClaimSkipOrderAndLimit", testClaimSkipOrderAndLimit},
	{"ClaimConcurrent", testClaimConcurrent},
	{"Complete", testComplete},
	{"CompleteAtomic", testCompleteAtomic},
	{"CompleteStored", testCompleteStored},
	{"ReleaseJobs", testReleaseJobs},
	{"QueueStats", testQueueStats},
	{"JobsOfMessage", testJobsOfMessage},
	{"NextDue", testNextDue},
	{"ReleaseDeferred", testReleaseDeferred},
}

// claim is a claim at now of up to 100 jobs for a minute.
func claim(now time.Time) store.Claim {
	return store.Claim{Now: now, Lease: time.Minute, Owner: "node-1", Limit: 100}
}

// claimed is j as a claim c of it returns it.
func claimed(j store.Job, c store.Claim) store.Job {
	j.Attempts++
	j.LeaseUntil = c.Now.Add(c.Lease)
	return j
}

// rescheduled is j after an outcome that asks for another attempt.
func rescheduled(j store.Job, next time.Time, lastError string) store.Job {
	j.NextAttemptAt, j.LeaseUntil, j.LastError = next, time.Time{}, lastError
	return j
}

// mustClaim fails t unless ClaimJobs(c) returns want, in order.
func mustClaim(t *testing.T, r store.Regional, c store.Claim, want ...store.Job) []store.Job {
	t.Helper()
	got, err := r.ClaimJobs(ctx, c)
	what := fmt.Sprintf("ClaimJobs(now %s, limit %d, skip %v)", c.Now.Format(time.TimeOnly), c.Limit, c.Skip)
	mustOK(t, err, what)
	mustEqual(t, what, want, got)
	return got
}

func mustQueueStats(t *testing.T, r store.Regional, domain string, now time.Time, want ...store.DestinationStats) {
	t.Helper()
	got, err := r.QueueStats(ctx, domain, now)
	what := fmt.Sprintf("QueueStats(%q)", domain)
	mustOK(t, err, what)
	mustEqual(t, what, want, got)
}

func mustNextDue(t *testing.T, r store.Regional, want time.Time) {
	t.Helper()
	got, err := r.NextDue(ctx)
	mustOK(t, err, "NextDue")
	mustEqual(t, "NextDue", want, got)
}

// queued accepts m with the given jobs (no events) and returns them as
// stored.
func queued(t *testing.T, r store.Regional, m store.Message, jobs ...store.Job) []store.Job {
	t.Helper()
	accept(t, r, store.Accept{Message: m, Jobs: jobs})
	return mustJobs(t, r, m, jobs...)
}

func testClaim(t *testing.T, r store.Regional) {
	m := message("a.com", "m1", 0)
	leased := job(m, "d@gmail.com", at(5))
	leased.Attempts, leased.LeaseUntil = 1, at(100) // claimed by another node
	jobs := queued(t, r, m, job(m, "a@gmail.com", at(10)), job(m, "b@gmail.com", at(20)),
		job(m, "c@gmail.com", at(90)), leased)

	c := claim(at(25))
	first := mustClaim(t, r, c, claimed(jobs[0], c), claimed(jobs[1], c))
	mustJobs(t, r, m, first[0], first[1], jobs[2], jobs[3])
	mustClaim(t, r, c) // leased now
	mustClaim(t, r, claim(at(84)))

	// When the lease ends the jobs come back with another attempt.
	c2 := claim(at(85))
	second := mustClaim(t, r, c2, claimed(first[0], c2), claimed(first[1], c2))
	c3 := claim(at(100))
	mustClaim(t, r, c3, claimed(jobs[3], c3), claimed(jobs[2], c3))
	mustJobs(t, r, m, second[0], second[1], claimed(jobs[2], c3), claimed(jobs[3], c3))
}

func testClaimOrderAndLimit(t *testing.T, r store.Regional) {
	m := message("a.com", "m1", 0)
	// Inserted out of time order, two at the same time: claims take the
	// earliest first, ties in insertion order.
	jobs := queued(t, r, m, job(m, "a@gmail.com", at(50)), job(m, "b@yahoo.com", at(10)),
		job(m, "c@gmail.com", at(40)), job(m, "d@outlook.com", at(20)), job(m, "e@gmail.com", at(20)),
		job(m, "f@gmail.com", at(61)))
	c := claim(at(60))
	c.Limit = 2
	mustClaim(t, r, c, claimed(jobs[1], c), claimed(jobs[3], c))
	mustClaim(t, r, c, claimed(jobs[4], c), claimed(jobs[2], c))
	mustClaim(t, r, c, claimed(jobs[0], c))
	mustClaim(t, r, c)
}

func testClaimSkip(t *testing.T, r store.Regional) {
	m := message("a.com", "m1", 0)
	jobs := queued(t, r, m, job(m, "a@gmail.com", at(1)), job(m, "b@yahoo.com", at(2)),
		job(m, "c@outlook.com", at(3)), job(m, "d@gmail.com", at(4)))
	c := claim(at(10))
	c.Skip = []string{"gmail.com", "yahoo.com"}
	mustClaim(t, r, c, claimed(jobs[2], c))
	c.Skip = []string{"gmail.com"}
	mustClaim(t, r, c, claimed(jobs[1], c))
	c.Skip = nil
	mustClaim(t, r, c, claimed(jobs[0], c), claimed(jobs[3], c))
}

// testClaimSkipOrderAndLimit: a claim with Skip (read destination by
// destination) takes the same jobs in the same order as one without: the
// earliest due across all destinations not skipped, ties in insertion
// order, at most Limit, leased and future jobs left.
func testClaimSkipOrderAndLimit(t *testing.T, r store.Regional) {
	m := message("a.com", "m1", 0)
	leased := job(m, "g@outlook.com", at(2))
	leased.Attempts, leased.LeaseUntil = 1, at(100) // claimed by another node
	jobs := queued(t, r, m, job(m, "a@gmail.com", at(1)), job(m, "b@yahoo.com", at(10)),
		job(m, "c@outlook.com", at(5)), job(m, "d@yahoo.com", at(5)), job(m, "e@outlook.com", at(30)),
		job(m, "f@yahoo.com", at(70)), leased, job(m, "h@gmail.com", at(3)))
	c := claim(at(60))
	c.Limit, c.Skip = 2, []string{"gmail.com", "icloud.com"}
	mustClaim(t, r, c, claimed(jobs[2], c), claimed(jobs[3], c))
	mustClaim(t, r, c, claimed(jobs[1], c), claimed(jobs[4], c))
	mustClaim(t, r, c)
	c.Skip = []string{"outlook.com"}
	mustClaim(t, r, c, claimed(jobs[0], c), claimed(jobs[7], c))
	mustClaim(t, r, c)
}

func testClaimConcurrent(t *testing.T, r store.Regional) {
	mustRaceClaims(t, []store.Regional{r}, 8, 5)
}

// mustRaceClaims queues jobs and lets workers on each of nodes claim them,
// all at once, until none are left, in several rounds (each starting when
// the previous round's leases end). It fails t unless every job is claimed
// exactly once a round, its attempts counted each time.
func mustRaceClaims(t *testing.T, nodes []store.Regional, workers, rounds int) {
	t.Helper()
	const jobs, lease = 150, time.Hour
	m := message("a.com", "m1", 0)
	a := store.Accept{Message: m}
	for i := range jobs {
		a.Jobs = append(a.Jobs, job(m, fmt.Sprintf("r%d@d%d.example", i, i%7), at(i%10)))
	}
	accept(t, nodes[0], a)
	n := len(nodes) * workers
	for round := range rounds {
		got := make([][]store.Job, n)
		errs := make([]error, n)
		concurrently(n, func(w int) {
			c := store.Claim{Now: at(10).Add(time.Duration(round) * lease), Lease: lease, Owner: fmt.Sprint("worker-", w), Limit: 4}
			if w%2 == 1 {
				// A skip takes the claim by destination: both kinds race.
				c.Skip = []string{"busy.example"}
			}
			for {
				js, err := nodes[w%len(nodes)].ClaimJobs(ctx, c)
				if err != nil || len(js) == 0 {
					errs[w] = err
					return
				}
				got[w] = append(got[w], js...)
			}
		})
		seen := map[int64]int{}
		for w := range n {
			mustOK(t, errs[w], fmt.Sprint("ClaimJobs of worker ", w))
			for _, j := range got[w] {
				if prev, ok := seen[j.ID]; ok {
					t.Fatalf("round %d: job %d claimed by workers %d and %d", round, j.ID, prev, w)
				}
				seen[j.ID] = w
				if j.Attempts != round+1 {
					t.Fatalf("round %d: job %d claimed with %d attempts, want %d", round, j.ID, j.Attempts, round+1)
				}
			}
		}
		if len(seen) != jobs {
			t.Fatalf("round %d: %d of %d jobs claimed", round, len(seen), jobs)
		}
	}
}

func testComplete(t *testing.T, r store.Regional) {
	m := message("a.com", "m1", 0)
	jobs := queued(t, r, m, job(m, "a@gmail.com", at(10)), job(m, "b@yahoo.com", at(10)),
		job(m, "c@outlook.com", at(10)), job(m, "d@gmail.com", at(10)))
	c := claim(at(20))
	cl := mustClaim(t, r, c, claimed(jobs[0], c), claimed(jobs[1], c), claimed(jobs[2], c), claimed(jobs[3], c))

	delivered := event(m, "delivered", "a@gmail.com", at(21))
	failed := event(m, "failed", "b@yahoo.com", at(21))
	failed.Severity = "temporary"
	mustOK(t, r.Complete(ctx, []store.Outcome{
		{JobID: cl[0].ID, Done: true, Events: []store.Event{delivered}},
		{JobID: cl[1].ID, NextAttemptAt: at(600), LastError: "451 4.7.1 try again later", Events: []store.Event{failed}},
		{JobID: cl[3].ID, NextAttemptAt: at(700)}, // no event, no error text
	}), "Complete")
	retry := rescheduled(cl[1], at(600), "451 4.7.1 try again later")
	mustJobs(t, r, m, retry, cl[2], rescheduled(cl[3], at(700), ""))
	mustEvents(t, r, eventsOf(m), delivered, failed)
	mustOK(t, r.Complete(ctx, nil), "Complete of nothing")

	// The rescheduled job comes back at its time, with its last error; the
	// job whose lease ended long ago comes first, being due earlier.
	c = claim(at(600))
	mustClaim(t, r, c, claimed(cl[2], c), claimed(retry, c))
}

// testCompleteAtomic checks that when the events of outcomes cannot be
// written, neither are the jobs' new states.
func testCompleteAtomic(t *testing.T, r store.Regional) {
	refuseEvents(t, r)
	m := message("a.com", "m1", 0)
	jobs := queued(t, r, m, job(m, "a@gmail.com", at(10)), job(m, "b@yahoo.com", at(10)))
	c := claim(at(20))
	cl := mustClaim(t, r, c, claimed(jobs[0], c), claimed(jobs[1], c))

	delivered := event(m, "delivered", "a@gmail.com", at(21))
	err := r.Complete(ctx, []store.Outcome{
		{JobID: cl[0].ID, Done: true, Events: []store.Event{delivered}},
		{JobID: cl[1].ID, NextAttemptAt: at(600), LastError: "451", Events: []store.Event{event(m, refusedType, "b@yahoo.com", at(21))}},
	})
	if err == nil {
		t.Fatal("Complete with a refused event succeeded")
	}
	mustJobs(t, r, m, cl...)
	mustEvents(t, r, eventsOf(m))

	mustOK(t, r.Complete(ctx, []store.Outcome{{JobID: cl[0].ID, Done: true, Events: []store.Event{delivered}}}), "Complete")
	mustJobs(t, r, m, cl[1])
	mustEvents(t, r, eventsOf(m), delivered)
}

func testReleaseJobs(t *testing.T, r store.Regional) {
	m := message("a.com", "m1", 0)
	jobs := queued(t, r, m, job(m, "a@gmail.com", at(10)), job(m, "b@yahoo.com", at(10)), job(m, "c@gmail.com", at(90)))
	c := claim(at(20))
	cl := mustClaim(t, r, c, claimed(jobs[0], c), claimed(jobs[1], c))

	mustOK(t, r.ReleaseJobs(ctx, []int64{cl[0].ID}, at(30)), "ReleaseJobs")
	released := rescheduled(jobs[0], at(30), "")
	mustJobs(t, r, m, released, cl[1], jobs[2])
	mustNextDue(t, r, at(30))

	// Releasing what is not leased (again, never claimed, gone) changes
	// nothing.
	mustOK(t, r.ReleaseJobs(ctx, []int64{cl[0].ID, jobs[2].ID, -1}, at(40)), "ReleaseJobs again")
	mustJobs(t, r, m, released, cl[1], jobs[2])

	c = claim(at(30))
	mustClaim(t, r, c, claimed(released, c))
}

func testQueueStats(t *testing.T, r store.Regional) {
	now := at(100)
	ma, mb := message("a.com", "m1", 0), message("b.com", "m2", 0)
	withError := func(j store.Job, text string) store.Job {
		j.LastError = text
		return j
	}
	leased := func(j store.Job, until time.Time) store.Job {
		j.Attempts, j.LeaseUntil = 1, until
		return j
	}
	queued(t, r, ma,
		job(ma, "a1@gmail.com", at(10)),                              // due
		withError(job(ma, "a2@gmail.com", at(200)), "421 a's error"), // waiting
		leased(job(ma, "a3@gmail.com", at(50)), at(160)),             // in flight
		leased(job(ma, "a4@gmail.com", at(20)), now),                 // lease ended: due
		withError(job(ma, "a5@yahoo.com", at(300)), "451 greylisted"))
	queued(t, r, mb,
		job(mb, "b1@gmail.com", at(5)),
		withError(job(mb, "b2@gmail.com", at(250)), "550 b's error"),
		job(mb, "b3@outlook.com", at(90)))

	// The last error is the one of the job scheduled last.
	mustQueueStats(t, r, "a.com", now,
		store.DestinationStats{RcptDomain: "gmail.com", Waiting: 4, Due: 2, InFlight: 1, NextAttemptAt: at(10), LastError: "421 a's error"},
		store.DestinationStats{RcptDomain: "yahoo.com", Waiting: 1, NextAttemptAt: at(300), LastError: "451 greylisted"})
	mustQueueStats(t, r, "b.com", now,
		store.DestinationStats{RcptDomain: "gmail.com", Waiting: 2, Due: 1, NextAttemptAt: at(5), LastError: "550 b's error"},
		store.DestinationStats{RcptDomain: "outlook.com", Waiting: 1, Due: 1, NextAttemptAt: at(90)})
	mustQueueStats(t, r, "", now,
		store.DestinationStats{RcptDomain: "gmail.com", Waiting: 6, Due: 3, InFlight: 1, NextAttemptAt: at(5), LastError: "550 b's error"},
		store.DestinationStats{RcptDomain: "outlook.com", Waiting: 1, Due: 1, NextAttemptAt: at(90)},
		store.DestinationStats{RcptDomain: "yahoo.com", Waiting: 1, NextAttemptAt: at(300), LastError: "451 greylisted"})
	mustQueueStats(t, r, "c.com", now)
}

func testJobsOfMessage(t *testing.T, r store.Regional) {
	m1, m2 := message("a.com", "m1", 0), message("a.com", "m2", 0)
	other := message("b.com", "m3", 0)
	other.MessageID = m1.MessageID // the same Message-ID in another domain
	j1 := queued(t, r, m1, job(m1, "a@gmail.com", at(1)), job(m1, "b@yahoo.com", at(2)))
	queued(t, r, m2, job(m2, "c@gmail.com", at(1)))
	queued(t, r, other, job(other, "d@gmail.com", at(1)))

	mustJobs(t, r, m1, j1...)
	mustJobs(t, r, message("a.com", "unknown", 0))
	mustJobs(t, r, message("c.com", "m1", 0))
}

func testNextDue(t *testing.T, r store.Regional) {
	mustNextDue(t, r, time.Time{})
	m := message("a.com", "m1", 0)
	leased := job(m, "a@gmail.com", at(10))
	leased.Attempts, leased.LeaseUntil = 1, at(1000)
	jobs := queued(t, r, m, leased, job(m, "b@gmail.com", at(20)), job(m, "c@gmail.com", at(30)))
	mustNextDue(t, r, at(20))

	c := claim(at(25))
	c.Limit = 1
	cl := mustClaim(t, r, c, claimed(jobs[1], c))
	mustNextDue(t, r, at(30))
	mustOK(t, r.Complete(ctx, []store.Outcome{{JobID: cl[0].ID, NextAttemptAt: at(15)}}), "Complete")
	mustNextDue(t, r, at(15))
	c.Limit = 10
	mustClaim(t, r, c, claimed(rescheduled(cl[0], at(15), ""), c))
	c = claim(at(30))
	mustClaim(t, r, c, claimed(jobs[2], c))
	mustNextDue(t, r, time.Time{})
}

func testReleaseDeferred(t *testing.T, r store.Regional) {
	m := message("a.com", "m1", 0)
	const marker = "421 4.4.1 destination unreachable"
	jobs := queued(t, r, m, job(m, "a@dead.com", at(1)), job(m, "b@dead.com", at(2)),
		job(m, "c@dead.com", at(3)), job(m, "d@other.com", at(4)), job(m, "e@dead.com", at(5)))
	c := claim(at(10))
	got := mustClaim(t, r, c, claimed(jobs[0], c), claimed(jobs[1], c), claimed(jobs[2], c), claimed(jobs[3], c), claimed(jobs[4], c))
	mustOK(t, r.Complete(ctx, []store.Outcome{
		{JobID: got[0].ID, NextAttemptAt: at(600), LastError: marker + " (connection refused)"},
		{JobID: got[1].ID, NextAttemptAt: at(600), LastError: "451 4.2.0 mailbox busy"},
		{JobID: got[2].ID, NextAttemptAt: at(5), LastError: marker}, // due before now: left alone
		{JobID: got[3].ID, NextAttemptAt: at(600), LastError: marker},
	}), "Complete")
	// got[4] stays leased: left alone.
	n, err := r.ReleaseDeferred(ctx, "dead.com", marker, at(20))
	mustOK(t, err, "ReleaseDeferred")
	mustEqual(t, "released", 1, n)
	mustJobs(t, r, m, rescheduled(got[0], at(20), marker+" (connection refused)"),
		rescheduled(got[1], at(600), "451 4.2.0 mailbox busy"), rescheduled(got[2], at(5), marker),
		rescheduled(got[3], at(600), marker), got[4])
	n, err = r.ReleaseDeferred(ctx, "", marker, at(21))
	mustOK(t, err, "ReleaseDeferred all")
	mustEqual(t, "released", 1, n) // other.com's
}
