package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestClientsNode runs the client compatibility suite in clients/: real
// npm packages (mailgun.js, nodemailer, nodemailer-mailgun-transport and
// Ghost 6.65.0's own Mailgun modules) driving this node through `node
// --test`. The node delivers to a fake MX (the sink) that the suite
// inspects over HTTP; see clients/README.md for the environment it gets.
//
// Without clients/node_modules (run clients/setup.sh) the test skips, except
// under CI=true, where a missing suite is a failure.
func TestClientsNode(t *testing.T) {
	t.Parallel()
	dir, files := clientSuite(t)
	e := startRelayEnv(t, false, nil)
	sink := startSink(t, e)
	env := append(os.Environ(),
		"SALVO_URL="+e.app.URL,
		"SALVO_API_KEY="+e.app.Key,
		"SALVO_DOMAIN="+testDomain,
		"SALVO_SMTP_ADDR="+e.app.SubmissionAddr(),
		"SALVO_SMTPS_ADDR="+e.app.SubmissionTLSAddr(),
		"SALVO_SMTP_USER="+relayLogin,
		"SALVO_SMTP_PASS="+relayPassword,
		"SALVO_MX_ADDR="+e.app.MXAddr(),
		"SALVO_SINK_URL="+sink.URL,
	)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	args := append([]string{"--test", "--test-reporter=spec", "--test-timeout=300000"}, files...)
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test failed (%v):\n%s", err, out)
	}
	t.Logf("node --test:\n%s", out)
}

// clientSuite finds clients/ and its test files, skipping (or failing
// under CI=true) when the suite's packages are not installed.
func clientSuite(t *testing.T) (string, []string) {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "clients"))
	if err != nil {
		t.Fatal(err)
	}
	missing := func(why string) {
		msg := "client suite not set up (" + why + "): run clients/setup.sh (needs node ≥ 20 and npm)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		missing("no node on PATH")
	}
	v := strings.TrimSpace(string(out))
	major, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	if n, err := strconv.Atoi(major); err != nil || n < 20 {
		missing("node " + v + " is older than 20")
	}
	for _, p := range []string{"node_modules", "ghost/node_modules", "ghost/dist/package/package.json"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			missing(p + " is missing")
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "test", "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in %s/test (%v)", dir, err)
	}
	return dir, files
}

// sinkMessage is one message the fake MX received, as the suite sees it.
type sinkMessage struct {
	From string   `json:"from"`
	To   []string `json:"to"`
	TLS  bool     `json:"tls"`
	Data string   `json:"data"`
}

// sink serves the fake MX's received mail to the suite:
//
//	GET /messages?rcpt=ADDR  messages with ADDR among their recipients
//	                         (every message without rcpt)
//	GET /count?suffix=S      {"recipients": N}: received recipients whose
//	                         address ends with S (every one without suffix)
//	POST /hook/...           records a webhook POST
//	GET /hooks               the recorded POSTs, [{path, content_type, body}]
type sink struct {
	*httptest.Server
	mu    sync.Mutex
	hooks []map[string]string
}

func startSink(t *testing.T, e *sendEnv) *sink {
	t.Helper()
	s := &sink{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /messages", func(w http.ResponseWriter, r *http.Request) {
		rcpt := strings.ToLower(r.URL.Query().Get("rcpt"))
		out := []sinkMessage{}
		for _, m := range e.mx.Messages() {
			if rcpt == "" || containsFold(m.To, rcpt) {
				out = append(out, sinkMessage{From: m.From, To: m.To, TLS: m.TLS, Data: string(m.Data)})
			}
		}
		writeSinkJSON(w, out)
	})
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, r *http.Request) {
		suffix, n := strings.ToLower(r.URL.Query().Get("suffix")), 0
		for _, m := range e.mx.Messages() {
			for _, to := range m.To {
				if strings.HasSuffix(strings.ToLower(to), suffix) {
					n++
				}
			}
		}
		writeSinkJSON(w, map[string]int{"recipients": n})
	})
	mux.HandleFunc("POST /hook/", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.hooks = append(s.hooks, map[string]string{"path": r.URL.Path, "content_type": r.Header.Get("Content-Type"), "body": string(body)})
		s.mu.Unlock()
	})
	mux.HandleFunc("GET /hooks", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		writeSinkJSON(w, append([]map[string]string{}, s.hooks...))
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func writeSinkJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v) // a client that went away gets nothing
}
