package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestLatenciesPercentile(t *testing.T) {
	t.Parallel()
	var l Latencies
	var all []time.Duration
	for range 100000 {
		d := time.Duration(rand.Int64N(int64(2 * time.Second)))
		l.Add(d)
		all = append(all, d)
	}
	slices.Sort(all)
	for _, p := range []float64{1, 50, 90, 99, 99.9, 100} {
		want := all[int(float64(len(all))*p/100+0.999999)-1]
		got := l.Percentile(p)
		if got < want || float64(got-want) > float64(want)/64 {
			t.Errorf("p%v = %v, want %v (within 1/64 above)", p, got, want)
		}
	}
	if got := l.Percentile(100); got != all[len(all)-1] {
		t.Errorf("p100 = %v, want the largest %v", got, all[len(all)-1])
	}
	if l.Count() != int64(len(all)) {
		t.Errorf("count %d, want %d", l.Count(), len(all))
	}
	for _, d := range []time.Duration{0, 1, 63, 64, 65, 127, 128, 1000, time.Hour, 1<<62 + 12345} {
		i := latBucket(d)
		if d > latUpper(i) || (i > 0 && d <= latUpper(i-1)) {
			t.Errorf("%v in bucket %d: (%v, %v]", d, i, latUpper(i-1), latUpper(i))
		}
	}
}
