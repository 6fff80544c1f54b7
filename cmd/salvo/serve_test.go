package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/testutil"
)

var (
	bannerKey = regexp.MustCompile(`curl --user 'api:(\S+)' http://`)
	startedAt = regexp.MustCompile(`msg="salvo started".* public_url=(http://\S+)`)
)

// buildSalvo builds the real binary into a temporary folder.
func buildSalvo(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "salvo")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serveProcess is one running `salvo serve`.
type serveProcess struct {
	cmd            *exec.Cmd
	stdout, stderr *testutil.SyncBuffer
	url            string
}

// startServe runs the binary on dataDir with an OS-chosen port and waits
// until /healthz answers 200. extra are more NAME=value environment
// variables.
func startServe(t *testing.T, bin, dataDir string, extra ...string) *serveProcess {
	t.Helper()
	p := &serveProcess{stdout: &testutil.SyncBuffer{}, stderr: &testutil.SyncBuffer{}}
	p.cmd = exec.Command(bin, "serve")
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"SALVO_DATA_DIR=" + dataDir, "SALVO_HTTP_ADDR=127.0.0.1:0", "SALVO_DKIM_KEY_BITS=1024",
		"SALVO_SMTP_ADDR=127.0.0.1:0", "SALVO_SMTPS_ADDR=127.0.0.1:0", "SALVO_MX_ADDR=127.0.0.1:0"}
	p.cmd.Env = append(p.cmd.Env, extra...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("salvo serve stdout:\n%s\nstderr:\n%s", p.stdout.String(), p.stderr.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := startedAt.FindStringSubmatch(p.stderr.String()); m != nil && p.url == "" {
			p.url = m[1]
		}
		if p.url != "" {
			if resp, err := http.Get(p.url + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return p
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("salvo serve did not become healthy")
	return nil
}

// stop sends SIGTERM and requires a clean exit.
func (p *serveProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil || p.cmd.ProcessState.ExitCode() != 0 {
			t.Errorf("salvo serve after SIGTERM: %v, exit code %d", err, p.cmd.ProcessState.ExitCode())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("salvo serve did not exit after SIGTERM")
	}
}

// TestServeBinary runs the built binary twice on one data dir: the first
// start prints a random primary key once, which works; SIGTERM exits 0;
// the second start prints no key and the first one still works.
func TestServeBinary(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildSalvo(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	wrong, _ := auth.NewKey()

	first := startServe(t, bin, dataDir)
	logs := first.stderr.String()
	keys := bannerKey.FindAllStringSubmatch(logs, -1)
	if len(keys) != 1 || strings.Count(logs, "printed only this once") != 1 {
		t.Fatalf("want one primary key banner, got %d:\n%s", len(keys), logs)
	}
	key := keys[0][1]
	if strings.Count(logs, key) != 2 || strings.Contains(first.stdout.String(), key) { // the key line and the curl example
		t.Errorf("the key appears %d times on stderr and on stdout: %v; want only in the banner", strings.Count(logs, key), strings.Contains(first.stdout.String(), key))
	}
	for _, p := range []struct {
		key  string
		want int
	}{{key, http.StatusOK}, {wrong, http.StatusUnauthorized}, {"", http.StatusUnauthorized}} {
		testutil.Call(t, http.MethodGet, first.url, "/v3/domains", p.key, testutil.NoBody).Want(t, p.want)
	}
	first.stop(t)
	if info, err := os.Stat(dataDir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("data dir: %v, %v; want mode 0700", info, err)
	}

	second := startServe(t, bin, dataDir)
	testutil.Call(t, http.MethodGet, second.url, "/v3/domains", key, testutil.NoBody).Want(t, http.StatusOK)
	second.stop(t)
	if logs := second.stderr.String(); bannerKey.MatchString(logs) || strings.Contains(logs, key) {
		t.Errorf("the second start printed a key:\n%s", logs)
	}
}
