package bench

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Latencies is a histogram of latencies in fixed memory (30 KB whatever the
// number of samples), safe for concurrent use: the load generator runs in
// the process it measures, and a million samples kept one by one were 8 MB
// of its heap (16 MB while the slices grew), counted in the RSS figures.
// Below 64 ns a bucket is one nanosecond; above, each power of two is cut
// into 64 buckets, so a percentile is within 1/64 (1.6 %) of the sample
// it stands for.
type Latencies struct {
	counts [64 + 58*64]atomic.Int64
	n      atomic.Int64
	max    atomic.Int64
}

func latBucket(d time.Duration) int {
	ns := uint64(max(d, 0))
	if ns < 64 {
		return int(ns)
	}
	shift := bits.Len64(ns) - 7
	return 64 + shift*64 + int(ns>>shift&63)
}

// latUpper is the largest duration that falls in bucket i.
func latUpper(i int) time.Duration {
	if i < 64 {
		return time.Duration(i)
	}
	shift := (i - 64) / 64
	sub := uint64((i-64)%64) + 64
	return time.Duration((sub+1)<<shift - 1)
}

// Add records one latency.
func (l *Latencies) Add(d time.Duration) {
	l.counts[latBucket(d)].Add(1)
	l.n.Add(1)
	for {
		m := l.max.Load()
		if int64(d) <= m || l.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// Count is the number of latencies recorded.
func (l *Latencies) Count() int64 { return l.n.Load() }

// Percentile is the p-th percentile (0 < p ≤ 100) by nearest rank: the
// upper bound of the bucket holding the ⌈p·n/100⌉-th smallest sample, at
// most the largest sample (exact at 100).
func (l *Latencies) Percentile(p float64) time.Duration {
	n := l.n.Load()
	if n == 0 {
		return 0
	}
	rank := int64(float64(n)*p/100 + 0.999999)
	rank = max(1, min(rank, n))
	var seen int64
	for i := range l.counts {
		seen += l.counts[i].Load()
		if seen >= rank {
			return min(latUpper(i), time.Duration(l.max.Load()))
		}
	}
	return time.Duration(l.max.Load())
}
