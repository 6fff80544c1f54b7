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
// keys to the global store file it names (see TestSharedGlobalFile);
// claimChildEnv one that claims jobs from the regional store file it names
// (see TestSharedQueueFile).
const (
	childEnv      = "SALVO_SQLITE_TEST_SHARED_GLOBAL"
	claimChildEnv = "SALVO_SQLITE_TEST_SHARED_QUEUE"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(runChild(path))
	}
	if path := os.Getenv(claimChildEnv); path != "" {
		os.Exit(runClaimChild(path))
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

	child := startChild(t, ctx, childEnv+"="+path)
	parent, err := openShared(ctx, path, "parent")
	mustOK(t, err, "parent")
	defer parent.g.Close()
	var childCreated bool
	if line := child.read("get ready"); !scan(line, "ready %t", &childCreated) {
		child.fail("child said %q", line)
	}
	if parent.created == childCreated {
		t.Fatalf("Bootstrap created: parent %t, child %t; want exactly one", parent.created, childCreated)
	}

	child.say("go")
	if err := parent.writeKeys(ctx); err != nil {
		child.fail("%v", err)
	}
	var childFirst, childLast int64
	if line := child.read("finish"); !scan(line, "done %d %d", &childFirst, &childLast) {
		child.fail("child said %q", line)
	}
	child.wait()
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

// child is the test binary run again as a child process, which TestMain
// sends to the role its environment names. It talks in lines on stdin and
// stdout.
type child struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Reader
	stderr bytes.Buffer
}

// startChild starts the test binary with env (NAME=value) added; it is
// killed when ctx ends and waited for when t ends.
func startChild(t *testing.T, ctx context.Context, env string) *child {
	t.Helper()
	c := &child{t: t, cmd: exec.CommandContext(ctx, os.Args[0], "-test.run=^$")}
	c.cmd.Env = append(os.Environ(), env)
	c.cmd.Stderr = &c.stderr
	var err error
	c.stdin, err = c.cmd.StdinPipe()
	mustOK(t, err, "stdin")
	stdout, err := c.cmd.StdoutPipe()
	mustOK(t, err, "stdout")
	c.lines = bufio.NewReader(stdout)
	mustOK(t, c.cmd.Start(), "start child")
	t.Cleanup(func() {
		c.stdin.Close()
		_ = c.cmd.Wait() // a no-op error when the test already waited
	})
	return c
}

// fail ends the test, showing what the child wrote to stderr.
func (c *child) fail(format string, args ...any) {
	c.t.Helper()
	c.t.Fatalf(format+"\nchild stderr:\n%s", append(args, c.stderr.String())...)
}

// say sends the child a line.
func (c *child) say(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		c.fail("tell the child %q: %v", line, err)
	}
}

// read returns the child's next line; what says what it was to do.
func (c *child) read(what string) string {
	c.t.Helper()
	line, err := c.lines.ReadString('\n')
	if err != nil {
		c.fail("child did not %s: %v", what, err)
	}
	return line
}

// wait waits for the child to exit, failing unless it succeeded.
func (c *child) wait() {
	c.t.Helper()
	c.stdin.Close()
	if err := c.cmd.Wait(); err != nil {
		c.fail("child: %v", err)
	}
}

// scan parses line with format, reporting whether it matched.
func scan(line, format string, args ...any) bool {
	_, err := fmt.Sscanf(line, format, args...)
	return err == nil
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
