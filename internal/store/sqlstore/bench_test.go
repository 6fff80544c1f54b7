package sqlstore_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/salvo-email/salvo/internal/store/sqlstore"
)

// BenchmarkAccept measures Accept throughput of a 2 KB message with one
// recipient (a message, a job and an event, durably committed) with 1, 16
// and 64 concurrent callers, on each dialect:
//
//	go test -run XXX -bench Accept -benchtime 3s ./internal/store/sqlstore
func BenchmarkAccept(b *testing.B) {
	for _, d := range dialects {
		for _, callers := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("%s/callers=%d", d.name, callers), func(b *testing.B) {
				benchAccepts(b, regional(b, d.fresh(b)), callers)
			})
		}
	}
}

// BenchmarkAcceptIndexCost is BenchmarkAccept with 64 callers, with and
// without queue_destination (dropped for the comparison), to see what the
// claim by destination's index costs the accept path:
//
//	go test -run XXX -bench AcceptIndexCost -benchtime 20000x -count 3 ./internal/store/sqlstore
func BenchmarkAcceptIndexCost(b *testing.B) {
	for _, d := range dialects {
		for _, index := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/queue_destination=%v", d.name, index), func(b *testing.B) {
				r := regional(b, d.fresh(b))
				if !index {
					mustOK(b, r.Exec(ctx, `DROP INDEX queue_destination`), "drop index")
				}
				benchAccepts(b, r, 64)
			})
		}
	}
}

// benchAccepts accepts b.N single-recipient submissions of 2 KB from
// callers goroutines.
func benchAccepts(b *testing.B, r *sqlstore.Regional, callers int) {
	body := make([]byte, 2048)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range callers {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				if _, err := r.Accept(ctx, submission(keyOf(int(i)), body)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "accepts/s")
}
