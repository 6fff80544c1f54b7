package testutil

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/app"
	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/secret"
)

// TestApp is a Salvo node serving on 127.0.0.1 for one test.
type TestApp struct {
	*app.App
	// URL is the HTTP base, http://127.0.0.1:PORT.
	URL string
	// Key is the primary API key.
	Key string
	// Logs holds everything the app logged; it is printed if the test fails.
	Logs *SyncBuffer
	// ExpectedPanics is how many recovered panics the test provokes on
	// purpose (a component that panics); Stop fails the test on any other
	// count.
	ExpectedPanics int64

	stopOnce sync.Once
}

// AppOptions shape a TestApp; the zero value is an embedded-store US node.
type AppOptions struct {
	// Postgres puts both stores on fresh PostgreSQL schemas.
	Postgres bool
	// Configure edits the configuration before start.
	Configure func(*config.Config)
	Seams     app.Seams
}

// SyncBuffer is a goroutine-safe bytes.Buffer.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// StartApp starts a node and stops it when t ends. The test fails if any
// goroutine of the node panicked.
func StartApp(t testing.TB, opts AppOptions) *TestApp {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.HTTPAddr = "127.0.0.1:0"
	// SMTP listeners on ports of their own, so parallel tests never clash.
	cfg.SMTP.SubmissionAddr, cfg.SMTP.SubmissionTLSAddr, cfg.SMTP.MXAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.APIKey = "key-" + secret.Token(16)
	cfg.DKIMKeyBits = 1024
	if opts.Postgres {
		cfg.GlobalDatabaseURL = PostgresMigrated(t, "global")
		cfg.DatabaseURL = PostgresMigrated(t, "regional")
	}
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	seams := opts.Seams
	if seams.KeyGen == nil {
		seams.KeyGen = KeyGen
	}
	if seams.Stderr == nil {
		seams.Stderr = logs
	}
	if seams.BcryptCost == 0 {
		seams.BcryptCost = 4
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg, log, seams)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	if err := a.Start(ctx); err != nil {
		_ = a.Stop(ctx)
		t.Fatalf("app.Start: %v", err)
	}
	ta := &TestApp{App: a, URL: a.Cfg.PublicURL, Key: cfg.APIKey, Logs: logs}
	t.Cleanup(func() {
		ta.Stop(t)
		if t.Failed() {
			t.Logf("app logs:\n%s", logs.String())
		}
	})
	return ta
}

// Stop stops the node (once; later calls do nothing) and fails t if it
// did not stop cleanly or any of its goroutines panicked.
func (ta *TestApp) Stop(t testing.TB) {
	t.Helper()
	ta.stopOnce.Do(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := ta.App.Stop(sctx); err != nil {
			t.Errorf("app.Stop: %v", err)
		}
		if n := ta.Metrics.PanicCount(); n != ta.ExpectedPanics {
			t.Errorf("%d panic(s) recovered during the test, want %d", n, ta.ExpectedPanics)
		}
	})
}
