package sqlstore_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/store/sqlstore"
)

// TestClaimSkipWays: a claim with Skip chooses the same jobs whichever way
// it reads the queue (claim.go): destination by destination, or in time
// order past too many destinations (a bound made small sends the test's
// six destinations that way). A model in Go says which jobs each claim
// must return: the first Limit due, unleased jobs in (next_attempt_at, id)
// order among the destinations not skipped.
func TestClaimSkipWays(t *testing.T) {
	for _, way := range []struct {
		name          string
		maxLooseDests int
	}{
		{"bydest", 1000},
		{"walk", 3},
	} {
		t.Run(way.name, func(t *testing.T) {
			forDialects(t, func(t *testing.T, open opener) {
				r := regional(t, open)
				r.SetClaimBounds(way.maxLooseDests)
				checkClaimsAgainstModel(t, r)
			})
		})
	}
}

// checkClaimsAgainstModel queues 120 jobs for 6 destinations at random
// times (ties included; some leased by another node, some not yet due),
// then claims with changing skips, limits and clocks until nothing is
// left, comparing each claim with the model.
func checkClaimsAgainstModel(t *testing.T, r *sqlstore.Regional) {
	t.Helper()
	rng := rand.New(rand.NewPCG(16, 1))
	base := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	a := submission("m", nil)
	a.Events = nil
	tmpl := a.Jobs[0]
	a.Jobs = a.Jobs[:0]
	dests := []string{"a.example", "b.example", "gmail.com", "outlook.com", "yahoo.com", "z.example"}
	for i := range 120 {
		j := tmpl
		j.RcptDomain = dests[rng.IntN(len(dests))]
		if i%3 == 0 {
			j.RcptDomain = "gmail.com" // the backlog
		}
		j.Recipient = fmt.Sprintf("u%d@%s", i, j.RcptDomain)
		j.NextAttemptAt = base.Add(time.Duration(rng.IntN(40)) * time.Second)
		if i%10 == 0 {
			j.Attempts, j.LeaseUntil = 1, base.Add(time.Hour) // another node's
		}
		a.Jobs = append(a.Jobs, j)
	}
	if _, err := r.Accept(ctx, a); err != nil {
		t.Fatal(err)
	}
	model, err := r.JobsOfMessage(ctx, "a.com", "m@a.com")
	if err != nil || len(model) != len(a.Jobs) {
		t.Fatalf("JobsOfMessage: %d jobs, %v", len(model), err)
	}
	for round := 0; ; round++ {
		now := base.Add(time.Duration(min(round, 45)) * time.Second)
		skip := [][]string{{"gmail.com"}, {"gmail.com", "yahoo.com"}, {"outlook.com"}, {"none.example"}}[round%4]
		if round >= 60 {
			skip = []string{"none.example"} // let the last ones go
		}
		c := store.Claim{Now: now, Lease: 10 * time.Hour, Owner: "t", Limit: 1 + round%5, Skip: skip}
		want := modelClaim(model, c)
		got, err := r.ClaimJobs(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(jobIDs(got), jobIDs(want)) {
			t.Fatalf("round %d: claim at %s, limit %d, skip %v: got jobs %v, want %v",
				round, now.Format(time.TimeOnly), c.Limit, skip, jobIDs(got), jobIDs(want))
		}
		if round > 60 && len(want) == 0 {
			return
		}
	}
}

// modelClaim is what claim c must return from jobs; it leases them there.
func modelClaim(jobs []store.Job, c store.Claim) []store.Job {
	var due []*store.Job
	for i := range jobs {
		j := &jobs[i]
		if !j.NextAttemptAt.After(c.Now) && !j.LeaseUntil.After(c.Now) && !slices.Contains(c.Skip, j.RcptDomain) {
			due = append(due, j)
		}
	}
	slices.SortFunc(due, func(a, b *store.Job) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	var out []store.Job
	for _, j := range due[:min(len(due), c.Limit)] {
		j.LeaseUntil = c.Now.Add(c.Lease)
		out = append(out, *j)
	}
	return out
}

func jobIDs(jobs []store.Job) []int64 {
	ids := make([]int64, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	return ids
}
