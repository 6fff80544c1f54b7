package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store/sqlite"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestStoreCommandsNeedAStore: run where no store is, each command that
// reads one exits 1 naming the folder it looked in, and creates nothing.
func TestStoreCommandsNeedAStore(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "salvo-data")
	for _, args := range [][]string{{"queue"}, {"queue", "--json"}, {"usage"}, {"users", "list"}, {"keys", "list"},
		{"keys", "create", "--role", "admin"}} {
		code, out, errOut := runSalvo(env("SALVO_DATA_DIR", dir), args...)
		if code != 1 || out != "" || !strings.Contains(errOut, "no Salvo store in "+dir) ||
			!strings.Contains(errOut, "--data-dir (SALVO_DATA_DIR)") {
			t.Errorf("salvo %v: exit %d, stdout %q, stderr %q; want 1 and the folder named", args, code, out, errOut)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("salvo %v created %s (%v)", args, dir, err)
		}
	}
}

// TestStoreCommandsNameTheirStore: with a store, a command says on
// stderr which store it reads, and stdout keeps only its output.
func TestStoreCommandsNameTheirStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	g, err := sqlite.OpenGlobal(ctx, filepath.Join(dir, "global.db"))
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
	r, err := sqlite.OpenRegional(ctx, filepath.Join(dir, "region-us.db"))
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"queue", "--json"}, "salvo queue: us store " + filepath.Join(dir, "region-us.db") + "\n"},
		{[]string{"usage"}, "salvo usage: global store " + filepath.Join(dir, "global.db") + "\n"},
		{[]string{"users", "list"}, "salvo users list: global store " + filepath.Join(dir, "global.db") + "\n"},
	} {
		code, out, errOut := runSalvo(env("SALVO_DATA_DIR", dir), c.args...)
		if code != 0 || errOut != c.want || strings.Contains(out, dir) {
			t.Errorf("salvo %v: exit %d, stderr %q, want %q; stdout %q", c.args, code, errOut, c.want, out)
		}
	}
}

// TestServeFirstRun runs the built binary as a newcomer would:
//   - a busy port ends it at once with a non-zero exit naming the setting;
//   - SALVO_API_KEY on an empty store is confirmed in the log;
//   - a different SALVO_API_KEY on that store later is loudly reported
//     (log and stderr box naming SALVO_API_KEY and the way out) while the
//     store's key keeps working;
//   - capture mode is named in the first-start banner and the log.
func TestServeFirstRun(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildSalvo(t)

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "SALVO_DATA_DIR=" + filepath.Join(t.TempDir(), "d"),
		"SALVO_HTTP_ADDR=" + busy.Addr().String(), "SALVO_SMTP_ADDR=off", "SALVO_SMTPS_ADDR=off", "SALVO_MX_ADDR=off"}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if took := time.Since(start); cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1 || took > 10*time.Second ||
		!strings.Contains(string(out), "--http-addr (SALVO_HTTP_ADDR) "+busy.Addr().String()) {
		t.Fatalf("serve on a busy port: %v after %s, want exit 1 at once:\n%s", err, took, out)
	}

	dataDir := filepath.Join(t.TempDir(), "data")
	const chosen, other = "my-long-primary-key-0123", "another-long-key-456789"
	first := startServe(t, bin, dataDir, "SALVO_API_KEY="+chosen, "SALVO_CAPTURE=true")
	testutil.Call(t, http.MethodGet, first.url, "/v3/domains", chosen, testutil.NoBody).Want(t, http.StatusOK)
	first.stop(t)
	if logs := first.stderr.String(); !strings.Contains(logs, "primary API key: the one set in SALVO_API_KEY") ||
		!strings.Contains(logs, "capture mode: outgoing mail is kept in the dashboard's Inbox") ||
		strings.Contains(logs, "WARNING") || strings.Contains(logs, chosen) {
		t.Errorf("first start with SALVO_API_KEY and SALVO_CAPTURE:\n%s", logs)
	}

	second := startServe(t, bin, dataDir, "SALVO_API_KEY="+other)
	testutil.Call(t, http.MethodGet, second.url, "/v3/domains", other, testutil.NoBody).Want(t, http.StatusUnauthorized)
	testutil.Call(t, http.MethodGet, second.url, "/v3/domains", chosen, testutil.NoBody).Want(t, http.StatusOK)
	second.stop(t)
	logs := second.stderr.String()
	for _, want := range []string{`level=WARN msg="SALVO_API_KEY (--api-key) is NOT this store's primary API key`,
		"WARNING: SALVO_API_KEY (--api-key) is not the primary API key of this store", "data dir " + dataDir,
		"rotate it there and set SALVO_API_KEY to the new key"} {
		if !strings.Contains(logs, want) {
			t.Errorf("a start with another SALVO_API_KEY does not say %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, other) || strings.Contains(logs, chosen) {
		t.Errorf("a key appears in the log:\n%s", logs)
	}

	third := startServe(t, bin, filepath.Join(t.TempDir(), "fresh"))
	third.stop(t)
	if logs := third.stderr.String(); !strings.Contains(logs, "Capture mode is OFF") ||
		!strings.Contains(logs, "start with SALVO_CAPTURE=true (or --capture)") {
		t.Errorf("the first-start banner does not say how to turn capture mode on:\n%s", logs)
	}
}

// TestUsersCreateNamesTheDashboard: `salvo users create` prints the
// dashboard's address as the node has it (SALVO_PUBLIC_URL, else the HTTP
// listener), not a placeholder.
func TestUsersCreateNamesTheDashboard(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	g, err := sqlite.OpenGlobal(context.Background(), filepath.Join(dir, "global.db"))
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
	for i, c := range []struct{ env, want string }{
		{"SALVO_PUBLIC_URL=https://mail.example.com/", "https://mail.example.com/dashboard/"},
		{"SALVO_HTTP_ADDR=:9090", "http://127.0.0.1:9090/dashboard/"},
	} {
		name, value, _ := strings.Cut(c.env, "=")
		var out, errOut strings.Builder
		args := []string{"create", "--email", fmt.Sprintf("u%d@example.com", i)}
		code := usersMain(context.Background(), args, strings.NewReader("correct horse battery\n"), &out, &errOut,
			env("SALVO_DATA_DIR", dir, name, value), 4)
		if code != 0 || !strings.HasSuffix(out.String(), "they can log in at "+c.want+"\n") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want the dashboard at %s", c.env, code, out.String(), errOut.String(), c.want)
		}
	}
}
