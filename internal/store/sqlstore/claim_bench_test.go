package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// BenchmarkClaimSkippingBacklog measures a claim that skips the one
// destination holding a backlog of due jobs (it is at its connection
// limit) and finds nothing else: the claim the delivery engine still makes
// once a second, and when a connection frees, while a big send to one
// provider drains:
//
//	go test -run XXX -bench ClaimSkippingBacklog ./internal/store/sqlstore
func BenchmarkClaimSkippingBacklog(b *testing.B) {
	for _, d := range dialects {
		for _, backlog := range []int{10_000, 100_000} {
			b.Run(fmt.Sprintf("%s/backlog=%d", d.name, backlog), func(b *testing.B) {
				r := regional(b, d.fresh(b))
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
					if _, err := r.Accept(ctx, a); err != nil {
						b.Fatal(err)
					}
				}
				claim := store.Claim{Now: time.Now().Add(time.Second), Lease: time.Minute, Owner: "bench",
					Limit: 2400, Skip: []string{"gmail.com"}}
				b.ResetTimer()
				for b.Loop() {
					jobs, err := r.ClaimJobs(ctx, claim)
					if err != nil || len(jobs) != 0 {
						b.Fatalf("claim: %d jobs, %v; want none", len(jobs), err)
					}
				}
			})
		}
	}
}
