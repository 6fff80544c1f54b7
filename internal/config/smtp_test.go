package config_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/config"
)

// TestSMTPSettings: the listeners default to loopback ports above 1024,
// flags and environment set them, "off" (or empty) turns one off, and bad
// values name the setting both ways.
func TestSMTPSettings(t *testing.T) {
	t.Parallel()
	c := config.Default()
	if c.SMTP.SubmissionAddr != "127.0.0.1:2587" || c.SMTP.SubmissionTLSAddr != "127.0.0.1:2465" || c.SMTP.MXAddr != "127.0.0.1:2525" {
		t.Errorf("default listeners %+v", c.SMTP)
	}
	fs := flag.NewFlagSet("salvo", flag.ContinueOnError)
	config.Register(fs, &c)
	env := map[string]string{"SALVO_MX_ADDR": "off", "SALVO_SMTPS_ADDR": " 0.0.0.0:465 ", "SALVO_SMTP_INSECURE_AUTH_LOOPBACK": "true"}
	if err := config.ApplyEnv(fs, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse([]string{"--smtp-addr="}); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.SMTP.SubmissionAddr != "" || c.SMTP.MXAddr != "" || c.SMTP.SubmissionTLSAddr != "0.0.0.0:465" || !c.SMTP.InsecureAuthLoopback {
		t.Errorf("after flags and environment: %+v", c.SMTP)
	}
	for _, tc := range []struct {
		edit func(*config.Config)
		want string
	}{
		{func(c *config.Config) { c.SMTP.MXAddr = "nowhere" }, "--mx-addr (SALVO_MX_ADDR): must be host:port"},
		{func(c *config.Config) { c.SMTP.TLSCert = "cert.pem" }, "--tls-cert (SALVO_TLS_CERT): --tls-cert and --tls-key go together"},
		{func(c *config.Config) { c.SMTP.RatePerCredential = -1 }, "--smtp-rate-per-credential (SALVO_SMTP_RATE_PER_CREDENTIAL): must not be negative"},
		{func(c *config.Config) { c.SMTP.InboundWorkers = 0 }, "--inbound-workers (SALVO_INBOUND_WORKERS): must be at least 1"},
		{func(c *config.Config) { c.SMTP.ForwardTimeout = 0 }, "--forward-timeout (SALVO_FORWARD_TIMEOUT): must be positive"},
	} {
		c := config.Default()
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate = %v, want %q", err, tc.want)
		}
	}
}
