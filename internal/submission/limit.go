package submission

import (
	"sync"
	"time"
)

// Limiter is a token bucket per key: Rate tokens a second, holding at
// most twice that (so a client may burst, then keeps to the rate). A zero
// rate allows everything. Buckets idle long enough to be full are
// forgotten, so memory stays bounded by the keys active in the last
// seconds.
type Limiter struct {
	rate float64
	now  func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewLimiter makes a limiter of rate per second.
func NewLimiter(rate float64, now func() time.Time) *Limiter {
	return &Limiter{rate: rate, now: now, buckets: map[string]*bucket{}}
}

func (l *Limiter) burst() float64 { return max(1, 2*l.rate) }

// Allow takes a token for key if one is left.
func (l *Limiter) Allow(key string) bool {
	if l.rate <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) > 10_000 {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst(), last: now}
		l.buckets[key] = b
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(l.burst(), b.tokens+d.Seconds()*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// prune forgets buckets that would be full by now.
func (l *Limiter) prune(now time.Time) {
	full := time.Duration(l.burst() / l.rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, k)
		}
	}
}
