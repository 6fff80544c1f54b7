package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/store/sqlite"
	"github.com/salvo-email/salvo/internal/testutil"
)

func openGlobal(t *testing.T) store.Global {
	t.Helper()
	g, err := sqlite.OpenGlobal(context.Background(), filepath.Join(t.TempDir(), "global.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// kind is err's fault kind, or -1 when err is not a fault.
func kind(err error) fault.Kind {
	if f, ok := fault.As(err); ok {
		return f.Kind
	}
	return -1
}

func TestUsersCreateAndLogin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	users := &auth.Users{Global: openGlobal(t), Now: time.Now, BcryptCost: 4}
	u, err := users.Create(ctx, auth.NewUser{Email: " Ops@Example.com ", Name: " Ops ", Password: "correct horse"})
	if err != nil || u.Email != "ops@example.com" || u.Name != "Ops" {
		t.Fatalf("Create = %+v, %v", u, err)
	}
	if string(u.PasswordHash) == "correct horse" || len(u.PasswordHash) < 50 {
		t.Fatalf("password stored as %q", u.PasswordHash)
	}
	bad := []auth.NewUser{
		{Email: "", Password: "correct horse"},
		{Email: "not an address", Password: "correct horse"},
		{Email: "Ops <ops2@example.com>", Password: "correct horse"},
		{Email: "ops2@example.com", Password: "short"},
		{Email: "ops2@example.com", Password: string(make([]byte, 73))},
	}
	for _, req := range bad {
		if _, err := users.Create(ctx, req); kind(err) != fault.Invalid {
			t.Errorf("Create(%q, %d-byte password) = %v, want 400", req.Email, len(req.Password), err)
		}
	}
	if _, err := users.Create(ctx, auth.NewUser{Email: "OPS@example.com", Password: "another one!"}); kind(err) != fault.Conflict {
		t.Fatalf("duplicate: %v", err)
	}
	if got, err := users.Login(ctx, "OPS@example.com", "correct horse"); err != nil || got.ID != u.ID {
		t.Fatalf("Login = %+v, %v", got, err)
	}
	for _, try := range [][2]string{{"ops@example.com", "wrong horse"}, {"nobody@example.com", "correct horse"}, {"ops@example.com", ""}} {
		if _, err := users.Login(ctx, try[0], try[1]); !errors.Is(err, auth.ErrBadLogin) {
			t.Errorf("Login(%q, %q) = %v, want ErrBadLogin", try[0], try[1], err)
		}
	}
}

func TestSessionsExpire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := openGlobal(t)
	c := testutil.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	users := &auth.Users{Global: g, Now: c.Now, BcryptCost: 4}
	u, err := users.Create(ctx, auth.NewUser{Email: "ops@example.com", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	sessions := &auth.Sessions{Global: g, Box: secret.New([]byte("0123456789abcdef")), Now: c.Now,
		IdleTimeout: 30 * time.Minute, MaxAge: 2 * time.Hour}
	ses, err := sessions.Start(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	// Activity every 20 minutes keeps it alive until the absolute limit.
	for elapsed := 20 * time.Minute; elapsed < 2*time.Hour; elapsed += 20 * time.Minute {
		c.Advance(20 * time.Minute)
		got, err := sessions.Resume(ctx, ses.Token)
		if err != nil || got.User.ID != u.ID {
			t.Fatalf("at %v: Resume = %v", elapsed, err)
		}
	}
	c.Advance(20 * time.Minute)
	if _, err := sessions.Resume(ctx, ses.Token); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("past the absolute limit: %v", err)
	}
	// Idle timeout.
	ses, err = sessions.Start(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(29 * time.Minute)
	if _, err := sessions.Resume(ctx, ses.Token); err != nil {
		t.Fatalf("29 min idle: %v", err)
	}
	c.Advance(30 * time.Minute)
	if _, err := sessions.Resume(ctx, ses.Token); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("30 min idle: %v", err)
	}
	for _, tok := range []string{"", "x", ses.Token[:10], ses.Token + "00"} {
		if _, err := sessions.Resume(ctx, tok); !errors.Is(err, auth.ErrNoSession) {
			t.Errorf("Resume(%q) = %v", tok, err)
		}
	}
}

func TestSessionCSRFAndFlash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := openGlobal(t)
	users := &auth.Users{Global: g, Now: time.Now, BcryptCost: 4}
	u, err := users.Create(ctx, auth.NewUser{Email: "ops@example.com", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	sessions := &auth.Sessions{Global: g, Box: secret.New([]byte("0123456789abcdef")), Now: time.Now,
		IdleTimeout: time.Hour, MaxAge: time.Hour}
	a, _ := sessions.Start(ctx, u)
	b, _ := sessions.Start(ctx, u)
	if a.CSRF() == b.CSRF() || !a.CheckCSRF(a.CSRF()) || a.CheckCSRF(b.CSRF()) || a.CheckCSRF("") {
		t.Fatal("CSRF tokens are not tied to their session")
	}
	if (auth.Session{}).CheckCSRF((auth.Session{}).CSRF()) {
		t.Fatal("an empty session accepted a CSRF token")
	}
	if err := sessions.SetFlash(ctx, a, []byte("new key: s3cret")); err != nil {
		t.Fatal(err)
	}
	if rec, _ := g.Session(ctx, a.Hash); len(rec.Flash) == 0 || string(rec.Flash) == "new key: s3cret" {
		t.Fatalf("flash stored as %q; want it sealed", rec.Flash)
	}
	if f, err := sessions.TakeFlash(ctx, b); err != nil || f != nil {
		t.Fatalf("other session's flash: %q, %v", f, err)
	}
	if f, err := sessions.TakeFlash(ctx, a); err != nil || string(f) != "new key: s3cret" {
		t.Fatalf("TakeFlash = %q, %v", f, err)
	}
	if f, err := sessions.TakeFlash(ctx, a); err != nil || f != nil {
		t.Fatalf("second TakeFlash = %q, %v", f, err)
	}
	if err := sessions.End(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := sessions.Resume(ctx, a.Token); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("after End: %v", err)
	}
}
