package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// BenchmarkClaimSkippingBacklog measures a claim that skips the one
// destination holding a backlog of due jobs (it is at its connection
// limit) and finds nothing else due: the claim the delivery engine still
// makes once a second, and when a connection frees, while a big send to
// one provider drains. 100 other destinations hold retries not yet due.
// Each size runs the claim two ways on the same database: walk is the
// walk of queue_due in time order (the claim before queue_destination),
// bydest is ClaimJobs, which reads destination by destination:
//
//	go test -run XXX -bench ClaimSkippingBacklog -benchtime 20x ./internal/store/sqlstore
func BenchmarkClaimSkippingBacklog(b *testing.B) {
	for _, d := range dialects {
		for _, backlog := range []int{100_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/backlog=%d", d.name, backlog), func(b *testing.B) {
				r := regional(b, d.fresh(b))
				fillBacklog(b, r, backlog)
				claim := store.Claim{Now: time.Now().Add(time.Second), Lease: time.Minute, Owner: "bench",
					Limit: 2400, Skip: []string{"gmail.com"}}
				for _, way := range []struct {
					name  string
					claim func(store.Claim) ([]store.Job, error)
				}{
					{"walk", func(c store.Claim) ([]store.Job, error) { return r.ClaimInTimeOrder(ctx, c) }},
					{"bydest", func(c store.Claim) ([]store.Job, error) { return r.ClaimJobs(ctx, c) }},
				} {
					b.Run(way.name, func(b *testing.B) {
						for b.Loop() {
							jobs, err := way.claim(claim)
							if err != nil || len(jobs) != 0 {
								b.Fatalf("claim: %d jobs, %v; want none", len(jobs), err)
							}
						}
					})
				}
			})
		}
	}
}

// fillBacklog queues backlog jobs due now for gmail.com, and ten retries
// due in an hour for each of 100 other destinations.
func fillBacklog(b testing.TB, r store.Regional, backlog int) {
	b.Helper()
	body := make([]byte, 512)
	const batch = 1000
	for m := range backlog / batch {
		a := submission(keyOf(m), body)
		a.Events = nil
		j := a.Jobs[0]
		a.Jobs = a.Jobs[:0]
		for i := range batch {
			j.Recipient = fmt.Sprintf("u%d@gmail.com", i)
			a.Jobs = append(a.Jobs, j)
		}
		if m == 0 {
			for i := range 1000 {
				k := j
				k.RcptDomain = fmt.Sprintf("d%d.example", i%100)
				k.Recipient = fmt.Sprintf("u%d@%s", i, k.RcptDomain)
				k.NextAttemptAt = k.NextAttemptAt.Add(time.Hour)
				a.Jobs = append(a.Jobs, k)
			}
		}
		if _, err := r.Accept(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClaimManyDestinations is the other side of the claim by
// destination: its cost follows the number of destinations with queued
// jobs. 10,000 destinations each hold a retry not yet due; the skipped
// one holds 1,000 due jobs. walk and bydest as in
// BenchmarkClaimSkippingBacklog:
//
//	go test -run XXX -bench ClaimManyDestinations -benchtime 20x ./internal/store/sqlstore
func BenchmarkClaimManyDestinations(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			r := regional(b, d.fresh(b))
			a := submission(keyOf(0), make([]byte, 512))
			a.Events = nil
			j := a.Jobs[0]
			a.Jobs = a.Jobs[:0]
			for i := range 1000 {
				j.Recipient = fmt.Sprintf("u%d@gmail.com", i)
				a.Jobs = append(a.Jobs, j)
			}
			for i := range 10_000 {
				k := j
				k.RcptDomain = fmt.Sprintf("d%d.example", i)
				k.Recipient = "u@" + k.RcptDomain
				k.NextAttemptAt = k.NextAttemptAt.Add(time.Hour)
				a.Jobs = append(a.Jobs, k)
			}
			if _, err := r.Accept(ctx, a); err != nil {
				b.Fatal(err)
			}
			claim := store.Claim{Now: time.Now().Add(time.Second), Lease: time.Minute, Owner: "bench",
				Limit: 2400, Skip: []string{"gmail.com"}}
			b.Run("walk", func(b *testing.B) {
				for b.Loop() {
					if jobs, err := r.ClaimInTimeOrder(ctx, claim); err != nil || len(jobs) != 0 {
						b.Fatalf("claim: %d jobs, %v; want none", len(jobs), err)
					}
				}
			})
			b.Run("bydest", func(b *testing.B) {
				for b.Loop() {
					if jobs, err := r.ClaimJobs(ctx, claim); err != nil || len(jobs) != 0 {
						b.Fatalf("claim: %d jobs, %v; want none", len(jobs), err)
					}
				}
			})
		})
	}
}
