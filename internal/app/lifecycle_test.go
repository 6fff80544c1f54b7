package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/app"
	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestFailedStartStopsAtOnce: a start that fails on a busy port (the HTTP
// listener, before any worker started; the MX, after most had) is
// stopped at once, not after the whole shutdown timeout; stopping a
// worker again is harmless; and nothing panicked.
func TestFailedStartStopsAtOnce(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() }) // the subtests run after this function returns
	tests := []struct {
		name string
		set  func(c *config.Config)
	}{
		{"http port busy", func(c *config.Config) { c.HTTPAddr = busy.Addr().String() }},
		{"mx port busy", func(c *config.Config) { c.SMTP.MXAddr = busy.Addr().String() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := config.Default()
			cfg.DataDir, cfg.HTTPAddr, cfg.DKIMKeyBits = t.TempDir(), "127.0.0.1:0", 1024
			cfg.SMTP.SubmissionAddr, cfg.SMTP.SubmissionTLSAddr, cfg.SMTP.MXAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
			tc.set(&cfg)
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)),
				app.Seams{KeyGen: testutil.KeyGen, Stderr: io.Discard, BcryptCost: 4})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Start(ctx); err == nil {
				_ = a.Stop(ctx)
				t.Fatal("Start on a busy port succeeded")
			}
			sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			begin := time.Now()
			if err := a.Stop(sctx); err != nil {
				t.Errorf("Stop after a failed start: %v", err)
			}
			if took := time.Since(begin); took > 5*time.Second {
				t.Fatalf("Stop after a failed start took %s (the shutdown timeout is 30s)", took)
			}
			// A second Stop of each worker is harmless (it used to close a
			// closed channel).
			for name, stop := range map[string]func(context.Context) error{
				"delivery": a.Delivery.Stop, "inbound": a.Inbound.Stop, "webhooks": a.Webhooks.Stop,
				"tracking": a.Tracking.Stop, "importer": a.Importer.Stop,
			} {
				if err := stop(sctx); err != nil {
					t.Errorf("second %s Stop: %v", name, err)
				}
			}
			if n := a.Metrics.PanicCount(); n != 0 {
				t.Fatalf("%d panics", n)
			}
		})
	}
}
