// Package auth decides who is calling and what they may touch.
//
// API keys are random secrets shaped like Mailgun's
// (<32 hex>-<8 hex>-<8 hex>, the last two groups being the key id). Only
// their SHA-256 is stored; a presented key is hashed, looked up by hash and
// the hashes compared in constant time. A key is never logged: callers log
// the key id at most.
//
// Authorization is one pure function, Allowed, of the key and the route's
// Access class, so the full route × key matrix can be tested.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/store"
)

// NewKey returns a fresh secret and its id.
func NewKey() (secretValue, id string) {
	t := secret.Token(24)
	id = t[32:40] + "-" + t[40:48]
	return t[:32] + "-" + id, id
}

// Hash is what the store keeps of a key.
func Hash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// ErrInvalid means the presented key is unknown, disabled or expired.
var ErrInvalid = errors.New("auth: invalid key")

// Authenticator checks presented keys against the global store.
type Authenticator struct {
	Global store.Global
	Now    func() time.Time

	primary primaryCache
}

// Authenticate returns the key record for a presented secret.
func (a *Authenticator) Authenticate(ctx context.Context, presented string) (store.Key, error) {
	if presented == "" {
		return store.Key{}, ErrInvalid
	}
	h := Hash(presented)
	k, err := a.Global.KeyByHash(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return store.Key{}, ErrInvalid
	}
	if err != nil {
		return store.Key{}, err
	}
	if subtle.ConstantTimeCompare(k.Hash, h) != 1 || k.Disabled {
		return store.Key{}, ErrInvalid
	}
	if !k.ExpiresAt.IsZero() && !a.Now().Before(k.ExpiresAt) {
		return store.Key{}, ErrInvalid
	}
	return k, nil
}

// Access classifies routes for authorization.
type Access int

const (
	// Public routes need no key (health, metrics, tracking links).
	Public Access = iota
	// Account routes need an account key; read-only roles may only GET.
	Account
	// Admin routes manage keys and account secrets: admin role only.
	Admin
	// Send routes are POST /v3/{domain}/messages(.mime): account keys that
	// may write, or a sending key of that very domain.
	Send
)

func (a Access) String() string {
	return [...]string{"public", "account", "admin", "send"}[a]
}

// Allowed reports whether key k may call a route of class access with the
// given method; domain is the route's {domain} for Send routes.
func Allowed(k store.Key, access Access, method, domain string) bool {
	if access == Public {
		return true
	}
	if k.Role == store.RoleSending || k.Kind == store.KindDomain {
		return access == Send && k.Kind == store.KindDomain && k.Role == store.RoleSending &&
			k.DomainName != "" && strings.EqualFold(k.DomainName, domain)
	}
	readOnly := method == http.MethodGet || method == http.MethodHead
	switch k.Role {
	case store.RoleAdmin:
		return true
	case store.RoleDeveloper:
		return access != Admin
	case store.RoleBasic, store.RoleSupport:
		return access == Account && readOnly
	}
	return false
}

// Limiter slows clients that keep presenting wrong keys: after Limit
// failures within a minute, an address's further failures are answered 429
// until the minute is over. Valid keys are never refused by it, so an
// attacker sharing an address cannot lock a real user out.
type Limiter struct {
	Limit int
	Now   func() time.Time

	mu      sync.Mutex
	entries map[string]*window
}

type window struct {
	start    time.Time
	failures int
}

const limiterWindow = time.Minute

// Throttled reports whether addr is over its failure budget, and when it
// may try again.
func (l *Limiter) Throttled(addr string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.entries[addr]
	if w == nil {
		return false, 0
	}
	left := limiterWindow - l.Now().Sub(w.start)
	if left <= 0 {
		delete(l.entries, addr)
		return false, 0
	}
	return w.failures >= l.Limit, left
}

// Fail records a failed authentication from addr.
func (l *Limiter) Fail(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.entries == nil {
		l.entries = map[string]*window{}
	}
	now := l.Now()
	if len(l.entries) > 100_000 {
		l.pruneLocked(now)
	}
	w := l.entries[addr]
	if w == nil || now.Sub(w.start) >= limiterWindow {
		w = &window{start: now}
		l.entries[addr] = w
	}
	w.failures++
}

func (l *Limiter) pruneLocked(now time.Time) {
	for k, w := range l.entries {
		if now.Sub(w.start) >= limiterWindow {
			delete(l.entries, k)
		}
	}
}
