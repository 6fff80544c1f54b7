// Package testutil holds what Salvo's tests share: a running app on
// 127.0.0.1, PostgreSQL schemas made per test, a local DNS server and cheap
// DKIM keys. Production code never imports it.
package testutil

import (
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"testing"
	"time"
)

var (
	keyOnce sync.Once
	keys    map[int]*rsa.PrivateKey
)

// KeyGen is a dkim.KeyGen that returns one pre-made key per size, so tests
// do not pay for RSA generation (slow under -race) for every domain.
func KeyGen(bits int) (*rsa.PrivateKey, error) {
	keyOnce.Do(func() {
		keys = map[int]*rsa.PrivateKey{}
		for _, b := range []int{1024, 2048} {
			k, err := rsa.GenerateKey(rand.Reader, b)
			if err != nil {
				panic(err)
			}
			keys[b] = k
		}
	})
	return keys[bits], nil
}

// WaitFor polls cond every 20 ms until it holds, failing t once timeout
// has passed; desc says what was awaited (called only on failure).
func WaitFor(t testing.TB, timeout time.Duration, cond func() bool, desc func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s: %s", timeout, desc())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
