package auth_test

import (
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

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	c := testutil.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	l := &auth.LoginThrottle{Free: 3, Now: c.Now}
	addr, acct := "addr:192.0.2.1", "user:ops@example.com"
	for i := 0; i < 3; i++ {
		if w := l.Wait(addr, acct); w != 0 {
			t.Fatalf("attempt %d: wait %v within the free failures", i+1, w)
		}
		l.Fail(addr, acct)
	}
	if w := l.Wait(addr, acct); w != 0 {
		t.Fatalf("after the free failures: wait %v", w)
	}
	l.Fail(addr, acct) // first paid failure: 1 s
	if w := l.Wait(addr, acct); w != time.Second {
		t.Fatalf("after 4 failures: wait %v, want 1s", w)
	}
	// The account is throttled from any address; other accounts are not
	// throttled from a fresh address.
	if w := l.Wait("addr:198.51.100.7", acct); w != time.Second {
		t.Fatalf("account from another address: wait %v", w)
	}
	if w := l.Wait("addr:198.51.100.7", "user:other@example.com"); w != 0 {
		t.Fatalf("unrelated keys: wait %v", w)
	}
	c.Advance(time.Second)
	l.Fail(addr, acct) // 2 s
	c.Advance(time.Second)
	if w := l.Wait(addr, acct); w != time.Second {
		t.Fatalf("half way through the 2 s wait: %v", w)
	}
	for i := 0; i < 30; i++ {
		l.Fail(addr, acct)
	}
	if w := l.Wait(addr); w != 15*time.Minute {
		t.Fatalf("many failures: wait %v, want the 15 min cap", w)
	}
	c.Advance(15 * time.Minute)
	if w := l.Wait(addr, acct); w != 0 {
		t.Fatalf("after the cap: wait %v; nobody is locked out for good", w)
	}
	l.Fail(addr) // still counted: the address waits the cap again
	if w := l.Wait(addr); w != 15*time.Minute {
		t.Fatalf("failure after the wait: %v", w)
	}
	c.Advance(time.Hour)
	if w := l.Wait(addr); w != 0 {
		t.Fatalf("after an hour of quiet: wait %v", w)
	}
	l.Fail(addr)
	if w := l.Wait(addr); w != 0 {
		t.Fatalf("an hour of quiet forgets the count: wait %v", w)
	}
	l.Reset(acct)
	if w := l.Wait(acct); w != 0 {
		t.Fatalf("after reset: %v", w)
	}
}
