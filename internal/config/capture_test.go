package config_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/config"
)

// TestCaptureSetting: capture mode is off by default, SALVO_CAPTURE=true
// turns it on, and it cannot be combined with a smarthost it would never
// use.
func TestCaptureSetting(t *testing.T) {
	t.Parallel()
	c := config.Default()
	if c.Capture {
		t.Fatal("capture mode is on by default")
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	config.Register(fs, &c)
	if err := config.ApplyEnv(fs, func(k string) string { return map[string]string{"SALVO_CAPTURE": "true"}[k] }); err != nil || !c.Capture {
		t.Fatalf("SALVO_CAPTURE=true: capture %v, %v", c.Capture, err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("capture alone: %v", err)
	}
	c.Smarthost = "127.0.0.1:2525"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "--capture (SALVO_CAPTURE)") || !strings.Contains(err.Error(), "127.0.0.1:2525") {
		t.Fatalf("capture with a smarthost: %v", err)
	}
}
