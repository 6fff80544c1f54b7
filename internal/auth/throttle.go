package auth

import (
	"net"
	"sync"
	"time"
)

// LoginThrottle slows down password guessing. It keeps three counts of
// failed logins: per (account, client address) pair, per account and per
// client address. A pair gets Free failures; an account (from all
// addresses together) and an address (for all accounts together) get the
// looser Ceiling. Beyond its allowance every further failure makes the
// key wait before its next attempt, 1 s doubling up to 15 min. So an
// attacker guessing from one address slows only himself: the owner of the
// account, from another address, is slowed only once the whole account
// is under attack (Ceiling failures), and a NAT full of users is slowed
// only once its address fails Ceiling times.
//
// Invariant: an attempt is reserved (Begin) before the slow password
// check and counted while it is in flight, so parallel guesses are
// throttled exactly like sequential ones: at most the allowance left of
// every key is checked at once, and once a key's allowance is used up,
// one attempt at a time after each wait. Refused attempts check no
// password.
//
// A key that stays quiet for an hour is forgotten, so nobody is locked out
// for good; a successful login clears its pair's and its account's
// counts. The counts live in memory: each node throttles on its own.
type LoginThrottle struct {
	// Free is the number of failures per (account, address) pair before
	// attempts wait.
	Free int
	// Ceiling is the number of failures per account and per address
	// before attempts wait (10 × Free if 0).
	Ceiling int
	Now     func() time.Time

	mu      sync.Mutex
	entries map[string]*throttleEntry
}

type throttleEntry struct {
	failures int
	inflight int
	last     time.Time
	until    time.Time
}

// Scope names the count that refused an attempt.
type Scope string

// The scopes of a refusal.
const (
	ScopePair    Scope = "pair"    // this account from this address
	ScopeAccount Scope = "account" // this account, from any address
	ScopeAddress Scope = "address" // this address, for any account
)

// Slowed is why an attempt was refused: how long to wait, and which count
// is over its allowance.
type Slowed struct {
	Wait  time.Duration
	Scope Scope
}

const (
	throttleBase   = time.Second
	throttleMax    = 15 * time.Minute
	throttleForget = time.Hour
	throttleCap    = 100_000 // entries kept before pruning
)

// Attempt is a reserved login attempt. End it with exactly one of Fail,
// Succeed or Release; later calls do nothing.
type Attempt struct {
	l     *LoginThrottle
	keys  [3]string
	frees [3]int
	once  sync.Once
}

// Begin reserves an attempt to log in to account from addr (addr as the
// caller groups addresses, e.g. an IPv6 /64). It returns the attempt, or
// why it is refused: then no password may be checked.
func (l *LoginThrottle) Begin(addr, account string) (*Attempt, *Slowed) {
	a := &Attempt{
		l:     l,
		keys:  [3]string{"pair\x00" + addr + "\x00" + account, "account\x00" + account, "address\x00" + addr},
		frees: [3]int{l.Free, l.ceiling(), l.ceiling()},
	}
	scopes := [3]Scope{ScopePair, ScopeAccount, ScopeAddress}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	var slowed *Slowed
	for i, k := range a.keys {
		e := l.live(k, now)
		if e == nil {
			continue
		}
		wait := e.until.Sub(now)
		if wait <= 0 && e.inflight >= max(1, a.frees[i]-e.failures) {
			wait = throttleBase // every allowed attempt is in flight
		}
		if wait > 0 && (slowed == nil || wait > slowed.Wait) {
			slowed = &Slowed{Wait: wait, Scope: scopes[i]}
		}
	}
	if slowed != nil {
		return nil, slowed
	}
	if l.entries == nil {
		l.entries = map[string]*throttleEntry{}
	}
	if len(l.entries) > throttleCap {
		l.prune(now)
	}
	for _, k := range a.keys {
		e := l.live(k, now)
		if e == nil {
			e = &throttleEntry{}
			l.entries[k] = e
		}
		e.inflight++
		e.last = now
	}
	return a, nil
}

// Fail ends the attempt as a failed login: it counts against every key,
// and a key beyond its allowance waits before its next attempt. It
// returns the wait the next attempt of this account from this address
// faces (0: none).
func (a *Attempt) Fail() time.Duration {
	var next time.Duration
	a.end(func(i int, e *throttleEntry, now time.Time) {
		e.failures++
		if over := e.failures - a.frees[i]; over > 0 {
			e.until = now.Add(Backoff(over))
		}
		next = max(next, e.until.Sub(now))
	})
	return next
}

// Succeed ends the attempt as a successful login: the pair's and the
// account's counts are cleared (the address's stays).
func (a *Attempt) Succeed() {
	a.end(func(i int, e *throttleEntry, _ time.Time) {
		if i < 2 {
			e.failures, e.until = 0, time.Time{}
		}
	})
}

// Release ends the attempt without an outcome (the check itself failed,
// e.g. the store was unreachable): nothing is counted.
func (a *Attempt) Release() {
	a.end(func(int, *throttleEntry, time.Time) {})
}

func (a *Attempt) end(f func(i int, e *throttleEntry, now time.Time)) {
	a.once.Do(func() {
		l := a.l
		l.mu.Lock()
		defer l.mu.Unlock()
		now := l.Now()
		for i, k := range a.keys {
			e := l.entries[k]
			if e == nil { // pruned while in flight: start afresh
				e = &throttleEntry{inflight: 1}
				l.entries[k] = e
			}
			e.inflight--
			e.last = now
			f(i, e, now)
			if e.inflight <= 0 && e.failures == 0 {
				delete(l.entries, k)
			}
		}
	})
}

func (l *LoginThrottle) ceiling() int {
	if l.Ceiling > 0 {
		return l.Ceiling
	}
	return 10 * l.Free
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

// live returns key's entry unless it is missing or forgotten (quiet for
// an hour with nothing in flight).
func (l *LoginThrottle) live(key string, now time.Time) *throttleEntry {
	e := l.entries[key]
	if e == nil {
		return nil
	}
	if e.inflight <= 0 && now.Sub(e.last) >= throttleForget {
		delete(l.entries, key)
		return nil
	}
	return e
}

func (l *LoginThrottle) prune(now time.Time) {
	for k, e := range l.entries {
		if e.inflight <= 0 && now.Sub(e.last) >= throttleForget {
			delete(l.entries, k)
		}
	}
}

// AddressKey is how the throttle groups client addresses: an IPv4 address
// alone, an IPv6 address by its /64 (one host usually holds a whole /64).
func AddressKey(ip net.IP) string {
	if ip == nil {
		return ""
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String()
	}
	return ip.String()
}
