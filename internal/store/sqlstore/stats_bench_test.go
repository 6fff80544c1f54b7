package sqlstore_test

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/stats"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/store/sqlstore"
)

// benchSize is n, or SALVO_BENCH_ROWS when set (for a quicker run).
func benchSize(n int) int {
	if v, err := strconv.Atoi(os.Getenv("SALVO_BENCH_ROWS")); err == nil && v > 0 {
		return v
	}
	return n
}

// inParallel runs fn(i) for i in [0, n) on 4 goroutines, so that the
// group committer batches them.
func inParallel(b *testing.B, n int, fn func(i int) error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for range 4 {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// seedEvents stores n events of 5 domains and 50 tags over 30 days before
// end, each counted by the store as it is written.
func seedEvents(b *testing.B, r *sqlstore.Regional, n int, end time.Time) {
	types := []string{"accepted", "delivered", "failed", "opened"}
	const batch = 2000
	inParallel(b, (n+batch-1)/batch, func(k int) error {
		var evs []store.Event
		for i := k * batch; i < min(n, (k+1)*batch); i++ {
			typ := types[i%len(types)]
			data := fmt.Sprintf(`{"event":%q,"severity":"permanent","reason":"bounce","tags":["tag%02d"]}`, typ, i%50)
			evs = append(evs, store.Event{ID: fmt.Sprint("e", i), Domain: fmt.Sprintf("d%d.com", i%5), Type: typ,
				Severity: "permanent", Timestamp: end.Add(-time.Duration(i%(30*24*60)) * time.Minute),
				MessageID: fmt.Sprint("m", i/3), Recipient: fmt.Sprintf("r%d@x.org", i%1000), Data: []byte(data)})
		}
		return r.AppendEvents(ctx, evs)
	})
}

// BenchmarkStatsQueries measures the stats and tag queries the API makes
// (store query plus the stats package's answer) with 1,000,000 events
// stored, and reports each kind's p50 and p99:
//
//	go test -run XXX -bench StatsQueries -benchtime 400x ./internal/store/sqlstore
func BenchmarkStatsQueries(b *testing.B) {
	end := time.Now().UTC().Truncate(time.Hour)
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			r := regional(b, d.fresh(b))
			n := benchSize(1_000_000)
			began := time.Now()
			seedEvents(b, r, n, end)
			// The janitor folds past counter shards every minute.
			if err := r.CompactStats(ctx, end); err != nil {
				b.Fatal(err)
			}
			b.Logf("%s: stored %d events in %s", d.name, n, time.Since(began).Round(time.Second))
			domains := []string{"d0.com", "d1.com", "d2.com", "d3.com", "d4.com"}
			queries := []struct {
				name string
				run  func() error
			}{
				{"domain-7d-hourly", func() error { return statsQuery(r, "7d", stats.Hour, []string{"d1.com"}, nil) }},
				{"domain-30d-daily", func() error { return statsQuery(r, "30d", stats.Day, []string{"d2.com"}, nil) }},
				{"tag-30d-daily", func() error { return statsQuery(r, "30d", stats.Day, []string{"d3.com"}, []string{"tag07"}) }},
				{"account-30d-daily", func() error { return statsQuery(r, "30d", stats.Day, domains, nil) }},
				{"tags-list-100", func() error {
					_, err := r.Tags(ctx, store.TagQuery{Domain: "d4.com", Limit: 100})
					return err
				}},
				{"tag-get", func() error {
					_, err := r.Tag(ctx, "d0.com", "tag10")
					return err
				}},
			}
			for _, q := range queries {
				b.Run(q.name, func(b *testing.B) {
					lat := make([]time.Duration, 0, b.N)
					for range b.N {
						t := time.Now()
						if err := q.run(); err != nil {
							b.Fatal(err)
						}
						lat = append(lat, time.Since(t))
					}
					reportPercentiles(b, lat)
				})
			}
		})
	}
}

func statsQuery(r *sqlstore.Regional, duration, res string, domains, tags []string) error {
	rg, err := stats.ParseRange("", "", duration, res, time.Now())
	if err != nil {
		return err
	}
	q := rg.Query()
	q.Domains, q.Tags = domains, tags
	series, err := stats.Series(ctx, r, rg, q, func(store.StatCount) string { return "" })
	if err != nil {
		return err
	}
	if a := stats.Answer(rg, series[""], stats.EventTypes); len(a.Stats) == 0 {
		return fmt.Errorf("no buckets")
	}
	return nil
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	at := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkSuppressionCheck measures MatchSuppressions, the lookup made at
// accept (inside the transaction) and before delivery, with 1,000,000
// bounces stored, for one recipient and for a batch of 1000 (one in ten
// suppressed), and reports the cost per recipient:
//
//	go test -run XXX -bench SuppressionCheck ./internal/store/sqlstore
func BenchmarkSuppressionCheck(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			r := regional(b, d.fresh(b))
			n := benchSize(1_000_000)
			began := time.Now()
			const batch = 1000
			inParallel(b, (n+batch-1)/batch, func(k int) error {
				recs := make([]store.Suppression, 0, batch)
				for i := k * batch; i < min(n, (k+1)*batch); i++ {
					recs = append(recs, store.Suppression{Domain: "a.com", List: store.Bounces,
						Address: fmt.Sprintf("user%07d@example.org", i), Code: "550", CreatedAt: time.Now()})
				}
				return r.PutSuppressions(ctx, recs)
			})
			b.Logf("%s: stored %d bounces in %s", d.name, n, time.Since(began).Round(time.Second))
			for _, size := range []int{1, 1000} {
				b.Run(fmt.Sprintf("recipients=%d", size), func(b *testing.B) {
					addrs := make([]string, size)
					lat := make([]time.Duration, 0, b.N)
					for i := range b.N {
						for j := range addrs {
							k := (i*size + j) * 7919 % (10 * n) // one in ten is stored
							addrs[j] = fmt.Sprintf("user%07d@example.org", k)
						}
						t := time.Now()
						if _, err := r.MatchSuppressions(ctx, "a.com", addrs); err != nil {
							b.Fatal(err)
						}
						lat = append(lat, time.Since(t))
					}
					var total time.Duration
					for _, l := range lat {
						total += l
					}
					b.ReportMetric(float64(total.Nanoseconds())/float64(b.N*size), "ns/recipient")
					reportPercentiles(b, lat)
				})
			}
		})
	}
}
