package auth_test

import (
	"sync"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/testutil"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	want := map[int]time.Duration{
		0: 0, 1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 10: 512 * time.Second,
		11: 15 * time.Minute, 12: 15 * time.Minute, 1000: 15 * time.Minute,
	}
	for n, d := range want {
		if got := auth.Backoff(n); got != d {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, d)
		}
	}
}

// fail makes one failed attempt and fails the test if it is refused.
func fail(t *testing.T, l *auth.LoginThrottle, addr, acct string) time.Duration {
	t.Helper()
	a, s := l.Begin(addr, acct)
	if s != nil {
		t.Fatalf("attempt %s/%s refused: %+v", addr, acct, *s)
	}
	return a.Fail()
}

// wait is how long an attempt of acct from addr has to wait (0: allowed;
// the probe attempt is released).
func wait(l *auth.LoginThrottle, addr, acct string) (time.Duration, auth.Scope) {
	a, s := l.Begin(addr, acct)
	if s != nil {
		return s.Wait, s.Scope
	}
	a.Release()
	return 0, ""
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	c := testutil.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	l := &auth.LoginThrottle{Free: 3, Ceiling: 6, Now: c.Now}
	addr, acct := "192.0.2.1", "ops@example.com"
	for i := 0; i < 3; i++ {
		if next := fail(t, l, addr, acct); next != 0 {
			t.Fatalf("failure %d: next waits %v within the free failures", i+1, next)
		}
	}
	if next := fail(t, l, addr, acct); next != time.Second { // first paid failure
		t.Fatalf("after 4 failures: next waits %v, want 1s", next)
	}
	if w, s := wait(l, addr, acct); w != time.Second || s != auth.ScopePair {
		t.Fatalf("after 4 failures: wait %v (%s), want 1s (pair)", w, s)
	}
	// The owner from another address is not slowed, nor is another
	// account from the attacker's address.
	if w, _ := wait(l, "198.51.100.7", acct); w != 0 {
		t.Fatalf("account from another address: wait %v", w)
	}
	if w, _ := wait(l, addr, "other@example.com"); w != 0 {
		t.Fatalf("another account from the address: wait %v", w)
	}
	// The account's ceiling: two more failures from other addresses reach
	// 6, and the account waits from everywhere.
	fail(t, l, "198.51.100.8", acct)
	fail(t, l, "198.51.100.9", acct)
	if w, s := wait(l, "203.0.113.1", acct); w != 0 {
		t.Fatalf("account at its ceiling: wait %v (%s) before the next failure", w, s)
	}
	fail(t, l, "203.0.113.1", acct)
	if w, s := wait(l, "203.0.113.2", acct); w != time.Second || s != auth.ScopeAccount {
		t.Fatalf("account over its ceiling: wait %v (%s), want 1s (account)", w, s)
	}
	c.Advance(time.Second)
	fail(t, l, addr, acct) // pair: 5th failure, 2 s; account: 8th, 2 s
	c.Advance(time.Second)
	if w, _ := wait(l, addr, acct); w != time.Second {
		t.Fatalf("half way through the 2 s wait: %v", w)
	}
	c.Advance(time.Second)
	// A success clears the pair and the account, not the address.
	a, s := l.Begin("203.0.113.9", acct)
	if s != nil {
		t.Fatalf("owner after the wait: %+v", *s)
	}
	a.Succeed()
	a.Fail() // ending twice does nothing
	if w, _ := wait(l, addr, acct); w != 0 {
		t.Fatalf("after a success: wait %v", w)
	}
	c.Advance(time.Hour)
	if w, _ := wait(l, addr, acct); w != 0 {
		t.Fatalf("after an hour of quiet: wait %v", w)
	}
}

// TestLoginThrottleAddressCeiling: one address guessing at many accounts
// is slowed once it failed Ceiling times.
func TestLoginThrottleAddressCeiling(t *testing.T) {
	t.Parallel()
	c := testutil.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	l := &auth.LoginThrottle{Free: 2, Now: c.Now} // Ceiling 20
	for i := 0; i < 20; i++ {
		fail(t, l, "192.0.2.1", string(rune('a'+i))+"@example.com")
	}
	if w, _ := wait(l, "192.0.2.1", "fresh@example.com"); w != 0 {
		t.Fatalf("address at its ceiling: %v", w)
	}
	fail(t, l, "192.0.2.1", "fresh@example.com")
	if w, s := wait(l, "192.0.2.1", "another@example.com"); w != time.Second || s != auth.ScopeAddress {
		t.Fatalf("address over its ceiling: %v (%s)", w, s)
	}
	if w, _ := wait(l, "192.0.2.2", "another@example.com"); w != 0 {
		t.Fatalf("other address: %v", w)
	}
}

// TestLoginThrottleInFlight: attempts in flight count, so of many
// parallel attempts only the allowance is let through, and after the
// allowance one at a time.
func TestLoginThrottleInFlight(t *testing.T) {
	t.Parallel()
	c := testutil.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	l := &auth.LoginThrottle{Free: 5, Now: c.Now}
	var mu sync.Mutex
	var held []*auth.Attempt
	var wg sync.WaitGroup
	for i := 0; i < 60; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a, _ := l.Begin("192.0.2.1", "ops@example.com"); a != nil {
				mu.Lock()
				held = append(held, a)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(held) != 5 {
		t.Fatalf("%d of 60 parallel attempts let through, want 5", len(held))
	}
	if _, s := l.Begin("192.0.2.1", "ops@example.com"); s == nil || s.Wait != time.Second || s.Scope != auth.ScopePair {
		t.Fatalf("sixth attempt while five are in flight: %+v", s)
	}
	for _, a := range held[:4] {
		a.Fail()
	}
	// One allowed failure is left, and it is in flight.
	if _, s := l.Begin("192.0.2.1", "ops@example.com"); s == nil {
		t.Fatal("attempt beyond the allowance let through")
	}
	held[4].Fail()
	c.Advance(time.Second) // 5 failures: no wait yet, one attempt at a time
	a, s := l.Begin("192.0.2.1", "ops@example.com")
	if s != nil {
		t.Fatalf("attempt after the free failures: %+v", *s)
	}
	if _, s := l.Begin("192.0.2.1", "ops@example.com"); s == nil {
		t.Fatal("second attempt in flight beyond the allowance let through")
	}
	if next := a.Fail(); next != time.Second {
		t.Fatalf("sixth failure: next waits %v", next)
	}
	// Released attempts count nothing.
	c.Advance(time.Second)
	for i := 0; i < 10; i++ {
		a, s := l.Begin("192.0.2.1", "ops@example.com")
		if s != nil {
			t.Fatalf("released attempt %d counted: %+v", i, *s)
		}
		a.Release()
	}
}
