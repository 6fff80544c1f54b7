package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/store/sqlite"
)

// usersRun runs `salvo users ...` against dir with stdin.
func usersRun(t *testing.T, dir, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append(args[:1:1], append([]string{"--data-dir", dir}, args[1:]...)...)
	code := usersMain(context.Background(), args, strings.NewReader(stdin), &out, &errOut, func(string) string { return "" }, 4)
	return code, out.String(), errOut.String()
}

func TestUsersCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The global store "salvo serve" creates.
	g0, err := sqlite.OpenGlobal(context.Background(), filepath.Join(dir, "global.db"))
	if err != nil {
		t.Fatal(err)
	}
	g0.Close()
	if code, out, errOut := usersRun(t, dir, "correct horse battery\n", "create", "--email", "Ops@Example.com", "--name", "Ops"); code != 0 || !strings.Contains(out, "created user ops@example.com") ||
		!strings.HasSuffix(out, "; they can log in at http://127.0.0.1:8080/dashboard/\n") {
		t.Fatalf("create from stdin: %d %q %q", code, out, errOut)
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("another long secret\nignored line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := usersRun(t, dir, "", "create", "--email", "dev@example.com", "--password-file", pwFile); code != 0 {
		t.Fatalf("create from file: %d %q", code, errOut)
	}
	refused := []struct {
		stdin string
		args  []string
		code  int
		msg   string
	}{
		{"x\n", []string{"create", "--email", "a@example.com", "--password", "correct horse battery"}, 2, "flag provided but not defined: -password"},
		{"correct horse battery\n", []string{"create", "--email", "a@example.com", "correct horse battery"}, 2, "never an argument"},
		{"short\n", []string{"create", "--email", "a@example.com"}, 1, "at least 10 characters"},
		{"", []string{"create", "--email", "a@example.com"}, 1, "no password given"},
		{"correct horse battery\n", []string{"create"}, 1, "--email is required"},
		{"correct horse battery\n", []string{"create", "--email", "OPS@example.com"}, 1, "already exists"},
		{"", []string{"delete"}, 2, "unknown command"},
	}
	for _, r := range refused {
		code, _, errOut := usersRun(t, dir, r.stdin, r.args...)
		if code != r.code || !strings.Contains(errOut, r.msg) {
			t.Errorf("users %v: %d %q; want %d and %q", r.args, code, errOut, r.code, r.msg)
		}
	}
	var help bytes.Buffer
	if code := run(context.Background(), []string{"users", "--help"}, &help, &help, func(string) string { return "" }); code != 0 || !strings.Contains(help.String(), "salvo users create") {
		t.Errorf("salvo users --help: %d %q", code, help.String())
	}
	code, out, _ := usersRun(t, dir, "", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[1], "dev@example.com") || !strings.HasPrefix(lines[2], "ops@example.com  Ops") {
		t.Fatalf("list: %d\n%s", code, out)
	}
	g, err := sqlite.OpenGlobal(context.Background(), filepath.Join(dir, "global.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	users := &auth.Users{Global: g, Now: time.Now, BcryptCost: 4}
	if _, err := users.Login(context.Background(), "dev@example.com", "another long secret"); err != nil {
		t.Fatalf("the password file's first line is not the password: %v", err)
	}
}
