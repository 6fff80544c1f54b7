package sqlstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/store/postgres"
	"github.com/salvo-email/salvo/internal/store/sqlite"
	"github.com/salvo-email/salvo/internal/testutil"
)

// openGlobals runs fn against a fresh global store of each dialect.
func openGlobals(t *testing.T, fn func(t *testing.T, g store.Global)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		g, err := sqlite.OpenGlobal(context.Background(), filepath.Join(t.TempDir(), "global.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Close() })
		fn(t, g)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		g, err := postgres.OpenGlobal(context.Background(), testutil.PostgresMigrated(t, "global"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Close() })
		fn(t, g)
	})
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func mkUser(t *testing.T, g store.Global, id, email string) store.User {
	t.Helper()
	u := store.User{ID: id, Email: email, Name: "Name of " + id, PasswordHash: []byte("$2a$04$hash-" + id),
		CreatedAt: t0, UpdatedAt: t0.Add(time.Second)}
	if err := g.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u
}

func TestUsers(t *testing.T) {
	t.Parallel()
	openGlobals(t, func(t *testing.T, g store.Global) {
		ctx := context.Background()
		if users, err := g.ListUsers(ctx); err != nil || len(users) != 0 {
			t.Fatalf("empty store: %v, %v", users, err)
		}
		bob := mkUser(t, g, "u2", "bob@example.com")
		alice := mkUser(t, g, "u1", "alice@example.com")
		dup := store.User{ID: "u3", Email: "bob@example.com", PasswordHash: []byte("x"), CreatedAt: t0, UpdatedAt: t0}
		if err := g.CreateUser(ctx, dup); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate email: %v, want ErrConflict", err)
		}
		got, err := g.UserByEmail(ctx, "bob@example.com")
		if err != nil || !sameUser(got, bob) {
			t.Fatalf("UserByEmail = %+v, %v; want %+v", got, err, bob)
		}
		if got, err = g.User(ctx, "u1"); err != nil || !sameUser(got, alice) {
			t.Fatalf("User = %+v, %v", got, err)
		}
		if _, err := g.User(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing user: %v", err)
		}
		if _, err := g.UserByEmail(ctx, "nobody@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing email: %v", err)
		}
		users, err := g.ListUsers(ctx)
		if err != nil || len(users) != 2 || users[0].Email != "alice@example.com" || users[1].Email != "bob@example.com" {
			t.Fatalf("ListUsers = %+v, %v", users, err)
		}
	})
}

func sameUser(a, b store.User) bool {
	return a.ID == b.ID && a.Email == b.Email && a.Name == b.Name && bytes.Equal(a.PasswordHash, b.PasswordHash) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

// mkSession stores a user and a session of theirs.
func mkSession(t *testing.T, g store.Global) store.Session {
	t.Helper()
	u := mkUser(t, g, "u1", "alice@example.com")
	s := store.Session{Hash: hashOf("token-1"), UserID: u.ID, CreatedAt: t0, LastSeenAt: t0}
	if err := g.CreateSession(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func TestSessions(t *testing.T) {
	t.Parallel()
	openGlobals(t, func(t *testing.T, g store.Global) {
		ctx := context.Background()
		s := mkSession(t, g)
		if err := g.CreateSession(ctx, s); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("same hash twice: %v", err)
		}
		bad := store.Session{Hash: hashOf("token-x"), UserID: "no-such-user", CreatedAt: t0, LastSeenAt: t0}
		if err := g.CreateSession(ctx, bad); err == nil {
			t.Fatal("a session of an unknown user was stored")
		}
		got, err := g.Session(ctx, s.Hash)
		if err != nil || got.UserID != "u1" || !got.CreatedAt.Equal(t0) || !got.LastSeenAt.Equal(t0) || got.Flash != nil {
			t.Fatalf("Session = %+v, %v", got, err)
		}
		if _, err := g.Session(ctx, hashOf("other")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown session: %v", err)
		}
		seen := t0.Add(10 * time.Minute)
		if err := g.TouchSession(ctx, s.Hash, seen); err != nil {
			t.Fatal(err)
		}
		if got, _ := g.Session(ctx, s.Hash); !got.LastSeenAt.Equal(seen) {
			t.Fatalf("after touch last seen = %v", got.LastSeenAt)
		}
		if err := g.TouchSession(ctx, hashOf("other"), seen); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("touch unknown: %v", err)
		}
		if err := g.DeleteSession(ctx, s.Hash); err != nil {
			t.Fatal(err)
		}
		if err := g.DeleteSession(ctx, s.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete twice: %v", err)
		}
	})
}

// TestSessionFlash proves a flash is handed out once, even to concurrent
// takers.
func TestSessionFlash(t *testing.T) {
	t.Parallel()
	openGlobals(t, func(t *testing.T, g store.Global) {
		ctx := context.Background()
		s := mkSession(t, g)
		if f, err := g.TakeSessionFlash(ctx, s.Hash); err != nil || f != nil {
			t.Fatalf("no flash yet: %q, %v", f, err)
		}
		if err := g.SetSessionFlash(ctx, hashOf("other"), []byte("x")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("flash of unknown session: %v", err)
		}
		if _, err := g.TakeSessionFlash(ctx, hashOf("other")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("take from unknown session: %v", err)
		}
		for round := 0; round < 3; round++ {
			want := []byte{0, 1, 2, byte(round)}
			if err := g.SetSessionFlash(ctx, s.Hash, want); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var got [][]byte
			var wg sync.WaitGroup
			for i := 0; i < 4; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					f, err := g.TakeSessionFlash(ctx, s.Hash)
					if err != nil {
						t.Errorf("take: %v", err)
					}
					if f != nil {
						mu.Lock()
						got = append(got, f)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if len(got) != 1 || !bytes.Equal(got[0], want) {
				t.Fatalf("round %d: takers got %q, want exactly one %q", round, got, want)
			}
		}
	})
}

func TestDeleteExpiredSessions(t *testing.T) {
	t.Parallel()
	openGlobals(t, func(t *testing.T, g store.Global) {
		ctx := context.Background()
		u := mkUser(t, g, "u1", "alice@example.com")
		sessions := map[string]store.Session{
			"fresh":    {CreatedAt: t0.Add(-time.Hour), LastSeenAt: t0},
			"idle":     {CreatedAt: t0.Add(-time.Hour), LastSeenAt: t0.Add(-31 * time.Minute)},
			"too-old":  {CreatedAt: t0.Add(-13 * time.Hour), LastSeenAt: t0},
			"boundary": {CreatedAt: t0.Add(-12 * time.Hour), LastSeenAt: t0.Add(-30 * time.Minute)},
		}
		for name, s := range sessions {
			s.Hash, s.UserID = hashOf(name), u.ID
			if err := g.CreateSession(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		n, err := g.DeleteExpiredSessions(ctx, t0.Add(-30*time.Minute), t0.Add(-12*time.Hour))
		if err != nil || n != 2 {
			t.Fatalf("DeleteExpiredSessions = %d, %v; want 2", n, err)
		}
		for name := range sessions {
			_, err := g.Session(ctx, hashOf(name))
			gone := errors.Is(err, store.ErrNotFound)
			if gone != (name == "idle" || name == "too-old") {
				t.Errorf("session %s: err %v", name, err)
			}
		}
	})
}

// TestDeleteUser: a user goes with their sessions; the last user stays,
// even when every user is deleted at once.
func TestDeleteUser(t *testing.T) {
	t.Parallel()
	openGlobals(t, func(t *testing.T, g store.Global) {
		ctx := context.Background()
		s := mkSession(t, g) // alice, u1
		mkUser(t, g, "u2", "bob@example.com")
		if err := g.DeleteUser(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete unknown: %v, want ErrNotFound", err)
		}
		if err := g.DeleteUser(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		if _, err := g.User(ctx, "u1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted user still there: %v", err)
		}
		if _, err := g.Session(ctx, s.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted user's session still there: %v", err)
		}
		if err := g.DeleteUser(ctx, "u2"); !errors.Is(err, store.ErrLastUser) {
			t.Fatalf("delete the last user: %v, want ErrLastUser", err)
		}
		// Many users deleted concurrently: exactly one stays.
		for i := 3; i < 9; i++ {
			mkUser(t, g, fmt.Sprintf("u%d", i), fmt.Sprintf("u%d@example.com", i))
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		refused := 0
		for i := 2; i < 9; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := g.DeleteUser(ctx, fmt.Sprintf("u%d", i))
				if errors.Is(err, store.ErrLastUser) {
					mu.Lock()
					refused++
					mu.Unlock()
				} else if err != nil {
					t.Errorf("delete u%d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		users, err := g.ListUsers(ctx)
		if err != nil || len(users) != 1 || refused != 1 {
			t.Fatalf("after deleting all at once: %d users left (%v), %d refusals; want 1 and 1", len(users), err, refused)
		}
	})
}

// TestSetUserPassword: the hash changes and every other session ends.
func TestSetUserPassword(t *testing.T) {
	t.Parallel()
	openGlobals(t, func(t *testing.T, g store.Global) {
		ctx := context.Background()
		keep := mkSession(t, g) // alice, u1
		other := store.Session{Hash: hashOf("token-2"), UserID: "u1", CreatedAt: t0, LastSeenAt: t0}
		bob := mkUser(t, g, "u2", "bob@example.com")
		bobs := store.Session{Hash: hashOf("token-3"), UserID: bob.ID, CreatedAt: t0, LastSeenAt: t0}
		for _, s := range []store.Session{other, bobs} {
			if err := g.CreateSession(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		at := t0.Add(time.Hour)
		if err := g.SetUserPassword(ctx, "u1", []byte("new-hash"), at, keep.Hash); err != nil {
			t.Fatal(err)
		}
		u, err := g.User(ctx, "u1")
		if err != nil || string(u.PasswordHash) != "new-hash" || !u.UpdatedAt.Equal(at) || !u.CreatedAt.Equal(t0) {
			t.Fatalf("after SetUserPassword: %+v, %v", u, err)
		}
		if _, err := g.Session(ctx, keep.Hash); err != nil {
			t.Fatalf("the kept session went: %v", err)
		}
		if _, err := g.Session(ctx, other.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the other session stayed: %v", err)
		}
		if _, err := g.Session(ctx, bobs.Hash); err != nil {
			t.Fatalf("another user's session went: %v", err)
		}
		if err := g.SetUserPassword(ctx, "u2", []byte("h2"), at, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := g.Session(ctx, bobs.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("keep=nil left a session: %v", err)
		}
		if err := g.SetUserPassword(ctx, "nobody", []byte("h"), at, nil); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
	})
}
