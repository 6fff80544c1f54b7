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
		{"", []string{"remove"}, 2, "unknown command"},
		{"", []string{"delete"}, 2, "the user's email is required"},
		{"", []string{"passwd"}, 2, "the user's email is required"},
		{"", []string{"delete", "nobody@example.com"}, 1, "There is no user nobody@example.com."},
		{"a new long secret\n", []string{"passwd", "nobody@example.com"}, 1, "There is no user nobody@example.com."},
		{"x\n", []string{"passwd", "ops@example.com", "--password", "a new long secret"}, 2, "flag provided but not defined: -password"},
		{"short\n", []string{"passwd", "ops@example.com"}, 1, "at least 10 characters"},
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

// TestUsersPasswdDelete: `salvo users passwd EMAIL` reads the new password
// from standard input or a file and logs the user's sessions out; `salvo
// users delete EMAIL` removes a user, but never the last one.
func TestUsersPasswdDelete(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	g, err := sqlite.OpenGlobal(ctx, filepath.Join(dir, "global.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for _, email := range []string{"ops@example.com", "dev@example.com"} {
		if code, _, errOut := usersRun(t, dir, "correct horse battery\n", "create", "--email", email); code != 0 {
			t.Fatalf("create %s: %d %q", email, code, errOut)
		}
	}
	users := &auth.Users{Global: g, Now: time.Now, BcryptCost: 4}
	sessions := &auth.Sessions{Global: g, Now: time.Now, MaxAge: time.Hour, IdleTimeout: time.Hour}
	ops, err := users.Login(ctx, "ops@example.com", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	ses, err := sessions.Start(ctx, ops)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := usersRun(t, dir, "a new long secret\n", "passwd", "OPS@example.com")
	if code != 0 || out != "changed the password of ops@example.com; their sessions were logged out\n" {
		t.Fatalf("passwd from stdin: %d %q %q", code, out, errOut)
	}
	if _, err := users.Login(ctx, "ops@example.com", "correct horse battery"); err == nil {
		t.Error("the old password still logs in")
	}
	if _, err := users.Login(ctx, "ops@example.com", "a new long secret"); err != nil {
		t.Errorf("the new password does not log in: %v", err)
	}
	if _, err := sessions.Resume(ctx, ses.Token); err == nil {
		t.Error("the session survived the new password")
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("from a file 123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The flags may come before the email too.
	if code, _, errOut := usersRun(t, dir, "", "passwd", "--password-file", pwFile, "dev@example.com"); code != 0 {
		t.Fatalf("passwd from a file: %d %q", code, errOut)
	}
	if _, err := users.Login(ctx, "dev@example.com", "from a file 123"); err != nil {
		t.Errorf("the file's password does not log in: %v", err)
	}
	code, out, errOut = usersRun(t, dir, "", "delete", "dev@example.com")
	if code != 0 || out != "deleted user dev@example.com; their sessions were logged out\n" {
		t.Fatalf("delete: %d %q %q", code, out, errOut)
	}
	if _, err := users.Login(ctx, "dev@example.com", "from a file 123"); err == nil {
		t.Error("the deleted user still logs in")
	}
	code, _, errOut = usersRun(t, dir, "", "delete", "ops@example.com")
	if code != 1 || !strings.Contains(errOut, "This is the only user") {
		t.Fatalf("delete the last user: %d %q", code, errOut)
	}
	if _, err := users.Login(ctx, "ops@example.com", "a new long secret"); err != nil {
		t.Errorf("the last user went: %v", err)
	}
}
