package config_test

import (
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/config"
)

// TestDashboardSettings checks the dashboard's settings, their environment
// twins and their validation.
func TestDashboardSettings(t *testing.T) {
	t.Parallel()
	parse := func(env map[string]string, args ...string) (config.Config, error) {
		c := config.Default()
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		config.Register(fs, &c)
		if err := config.ApplyEnv(fs, func(k string) string { return env[k] }); err != nil {
			return c, err
		}
		if err := fs.Parse(args); err != nil {
			return c, err
		}
		return c, c.Validate()
	}
	c, err := parse(nil)
	if err != nil || c.SessionIdleTimeout != time.Hour || c.SessionMaxAge != 12*time.Hour || c.LoginFailureLimit != 5 {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	c, err = parse(map[string]string{"SALVO_SESSION_IDLE_TIMEOUT": "15m", "SALVO_SESSION_MAX_AGE": "8h", "SALVO_LOGIN_FAILURE_LIMIT": "3"},
		"--session-max-age", "4h")
	if err != nil || c.SessionIdleTimeout != 15*time.Minute || c.SessionMaxAge != 4*time.Hour || c.LoginFailureLimit != 3 {
		t.Fatalf("env and flags: %+v, %v", c, err)
	}
	for _, bad := range [][]string{
		{"--session-idle-timeout", "30s"},
		{"--session-idle-timeout", "2h", "--session-max-age", "1h"},
		{"--login-failure-limit", "0"},
	} {
		if _, err := parse(nil, bad...); err == nil || !strings.Contains(err.Error(), bad[len(bad)-2]) {
			t.Errorf("%v: %v", bad, err)
		}
	}
}
