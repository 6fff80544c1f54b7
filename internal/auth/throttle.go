package auth

import (
	"sync"
	"time"
)

// LoginThrottle slows down password guessing, per client address and per
// account: each key (an address, an email) gets Free failed logins; every
// further failure makes the key wait before its next attempt, 1 s doubling
// up to 15 min. Attempts during the wait are refused before any password
// is checked. A key that stays quiet for an hour is forgotten, so nobody is
// locked out for good; a successful login clears the account's count.
//
// The counts live in memory: each node throttles on its own.
type LoginThrottle struct {
	Free int
	Now  func() time.Time

	mu      sync.Mutex
	entries map[string]*throttleEntry
}

type throttleEntry struct {
	failures int
	last     time.Time
	until    time.Time
}

const (
	throttleBase   = time.Second
	throttleMax    = 15 * time.Minute
	throttleForget = time.Hour
	throttleCap    = 100_000 // entries kept before pruning
)

// Wait is how long the caller must wait before the next attempt for keys
// (0: it may try now).
func (l *LoginThrottle) Wait(keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	var wait time.Duration
	for _, k := range keys {
		if e := l.live(k, now); e != nil && e.until.Sub(now) > wait {
			wait = e.until.Sub(now)
		}
	}
	return wait
}

// Fail records a failed login for keys.
func (l *LoginThrottle) Fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	if l.entries == nil {
		l.entries = map[string]*throttleEntry{}
	}
	if len(l.entries) > throttleCap {
		l.prune(now)
	}
	for _, k := range keys {
		e := l.live(k, now)
		if e == nil {
			e = &throttleEntry{}
			l.entries[k] = e
		}
		e.failures++
		e.last = now
		if over := e.failures - l.Free; over > 0 {
			e.until = now.Add(Backoff(over))
		}
	}
}

// Reset forgets the failures of keys.
func (l *LoginThrottle) Reset(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.entries, k)
	}
}

// Backoff is the wait after the nth failure beyond the free ones.
func Backoff(n int) time.Duration {
	if n < 1 {
		return 0
	}
	if n > 20 {
		return throttleMax
	}
	return min(throttleBase<<(n-1), throttleMax)
}

// live returns key's entry unless it is missing or forgotten.
func (l *LoginThrottle) live(key string, now time.Time) *throttleEntry {
	e := l.entries[key]
	if e == nil {
		return nil
	}
	if now.Sub(e.last) >= throttleForget {
		delete(l.entries, key)
		return nil
	}
	return e
}

func (l *LoginThrottle) prune(now time.Time) {
	for k, e := range l.entries {
		if now.Sub(e.last) >= throttleForget {
			delete(l.entries, k)
		}
	}
}
