package sqlite_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/store/sqlite"
)

// childEnv, when set, makes the test binary a child process that writes
// keys to the global store file it names (see TestSharedGlobalFile).
const childEnv = "SALVO_SQLITE_TEST_SHARED_GLOBAL"

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(runChild(path))
	}
	os.Exit(m.Run())
}

// sharedKeys is how many keys each process writes.
const sharedKeys = 50

// writer is one process's side of TestSharedGlobalFile.
type writer struct {
	g       store.Global
	name    string // "parent" or "child"
	created bool   // whether this process's Bootstrap created the account
	first   time.Time
	last    time.Time
}

// openShared opens the global store at path and bootstraps it, as every
// node starting on a shared global file does.
func openShared(ctx context.Context, path, name string) (*writer, error) {
	g, err := sqlite.OpenGlobal(ctx, path)
	if err != nil {
		return nil, err
	}
	acct := store.Account{ID: "acct-1", Name: "Shared", CreatedAt: time.Now()}
	created, err := g.Bootstrap(ctx, acct, sharedKey(name, "primary"))
	if err != nil {
		g.Close()
		return nil, fmt.Errorf("%s: Bootstrap: %w", name, err)
	}
	return &writer{g: g, name: name, created: created}, nil
}

func sharedKey(process, id string) store.Key {
	h := sha256.Sum256([]byte(process + "-" + id))
	now := time.Now()
	return store.Key{
		ID: process + "-" + id, AccountID: "acct-1", Kind: store.KindUser, Role: store.RoleAdmin,
		Hash: h[:], CreatedAt: now, UpdatedAt: now,
	}
}

// writeKeys writes sharedKeys keys, one transaction each.
func (w *writer) writeKeys(ctx context.Context) error {
	w.first = time.Now()
	for i := range sharedKeys {
		if err := w.g.CreateKey(ctx, sharedKey(w.name, fmt.Sprint(i))); err != nil {
			return fmt.Errorf("%s: CreateKey %d: %w", w.name, i, err)
		}
	}
	w.last = time.Now()
	return nil
}

// runChild is the child process: open and bootstrap, report "ready
// <created>", wait for a line on stdin, write keys, report "done <first>
// <last>" (Unix microseconds).
func runChild(path string) int {
	ctx := context.Background()
	w, err := openShared(ctx, path, "child")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer w.g.Close()
	fmt.Printf("ready %t\n", w.created)
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fmt.Fprintln(os.Stderr, "child: waiting for go:", err)
		return 1
	}
	if err := w.writeKeys(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("done %d %d\n", w.first.UnixMicro(), w.last.UnixMicro())
	return 0
}

// TestSharedGlobalFile runs two processes on one global store file, as two
// regions do locally: both open, migrate and bootstrap a fresh file at the
// same time, then write keys at the same time. The busy timeout and BEGIN
// IMMEDIATE must make every write succeed, and exactly one Bootstrap create
// the account.
func TestSharedGlobalFile(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "global.db")

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	mustOK(t, err, "stdin")
	stdout, err := cmd.StdoutPipe()
	mustOK(t, err, "stdout")
	mustOK(t, cmd.Start(), "start child")
	defer func() {
		stdin.Close()
		_ = cmd.Wait() // a no-op error when the test already waited
	}()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\nchild stderr:\n%s", append(args, stderr.String())...)
	}

	parent, err := openShared(ctx, path, "parent")
	mustOK(t, err, "parent")
	defer parent.g.Close()
	lines := bufio.NewReader(stdout)
	var childCreated bool
	if line, err := lines.ReadString('\n'); err != nil {
		fail("child did not get ready: %v", err)
	} else if _, err := fmt.Sscanf(line, "ready %t", &childCreated); err != nil {
		fail("child said %q", line)
	}
	if parent.created == childCreated {
		t.Fatalf("Bootstrap created: parent %t, child %t; want exactly one", parent.created, childCreated)
	}

	_, err = io.WriteString(stdin, "go\n")
	mustOK(t, err, "start the child's writes")
	if err := parent.writeKeys(ctx); err != nil {
		fail("%v", err)
	}
	line, err := lines.ReadString('\n')
	var childFirst, childLast int64
	if _, serr := fmt.Sscanf(line, "done %d %d", &childFirst, &childLast); err != nil || serr != nil {
		fail("child said %q (%v, %v)", line, err, serr)
	}
	if err := cmd.Wait(); err != nil {
		fail("child: %v", err)
	}
	if parent.first.UnixMicro() > childLast || childFirst > parent.last.UnixMicro() {
		t.Errorf("the two processes' writes did not overlap in time, so they were not concurrent")
	}

	mustCount(t, parent.g, 1+2*sharedKeys)
	for _, name := range []string{"parent", "child"} {
		for i := range sharedKeys {
			if _, err := parent.g.Key(ctx, fmt.Sprint(name, "-", i)); err != nil {
				t.Fatalf("key %s-%d: %v", name, i, err)
			}
		}
	}
}

func mustOK(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func mustCount(t *testing.T, g store.Global, want int) {
	t.Helper()
	n, err := g.CountKeys(context.Background())
	mustOK(t, err, "CountKeys")
	if n != want {
		t.Fatalf("CountKeys = %d, want %d", n, want)
	}
}
