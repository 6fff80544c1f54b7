package sqlstore_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkAccept measures Accept throughput of a 2 KB message with one
// recipient (a message, a job and an event, durably committed) with 1, 16
// and 64 concurrent callers, on each dialect:
//
//	go test -run XXX -bench Accept -benchtime 3s ./internal/store/sqlstore
func BenchmarkAccept(b *testing.B) {
	body := make([]byte, 2048)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	for _, d := range dialects {
		for _, callers := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("%s/callers=%d", d.name, callers), func(b *testing.B) {
				r := regional(b, d.fresh(b))
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
			})
		}
	}
}
