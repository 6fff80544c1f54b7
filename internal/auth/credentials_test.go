package auth_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/store"
)

// memCredentials is a CredentialStore in memory.
type memCredentials struct {
	store.CredentialStore
	mu sync.Mutex
	m  map[string]store.Credential
}

func (s *memCredentials) CreateCredentials(_ context.Context, cs []store.Credential) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cs {
		s.m[c.Login] = c
	}
	return nil
}

func (s *memCredentials) Credential(_ context.Context, login string) (store.Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[login]
	if !ok {
		return c, store.ErrNotFound
	}
	return c, nil
}

func (s *memCredentials) SetCredentialHash(_ context.Context, domain, login string, hash []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.m[login]
	c.Hash = hash
	s.m[login] = c
	return nil
}

// TestVerify: right and wrong passwords, unknown logins, a remembered
// success that does not survive a password change, concurrent checks.
func TestVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &memCredentials{m: map[string]store.Credential{}}
	c := &auth.Credentials{Store: st, Now: time.Now, BcryptCost: 4}
	if _, _, err := c.Create(ctx, "d.example", []string{"Alice"}, "first-pass"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.Verify(ctx, "ALICE@d.example", "first-pass"); err != nil {
				t.Errorf("concurrent Verify: %v", err)
			}
		})
	}
	wg.Wait()
	for _, bad := range []struct{ login, password string }{
		{"alice@d.example", "first-pasS"}, {"alice@d.example", ""}, {"bob@d.example", "first-pass"},
	} {
		if _, err := c.Verify(ctx, bad.login, bad.password); !errors.Is(err, auth.ErrBadCredentials) {
			t.Errorf("Verify(%s, %q) = %v, want ErrBadCredentials", bad.login, bad.password, err)
		}
	}
	if err := c.ChangePassword(ctx, "d.example", "alice", "second-pass"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(ctx, "alice@d.example", "first-pass"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("the old password still verifies after a change: %v", err)
	}
	if cr, err := c.Verify(ctx, "alice@d.example", "second-pass"); err != nil || cr.Login != "alice@d.example" {
		t.Errorf("Verify with the new password = %+v, %v", cr, err)
	}
}
