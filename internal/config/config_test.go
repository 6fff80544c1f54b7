package config_test

import (
	"flag"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/config"
)

func TestDefaultIsValid(t *testing.T) {
	t.Parallel()
	c := config.Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

func TestRegionDefaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		region, wantRegion  string
		mx                  []string
		smtp, tracking, spf string
	}{
		{"us", "us", []string{"mxa.salvo.localhost", "mxb.salvo.localhost"}, "smtp.salvo.localhost", "salvo.localhost", "spf.salvo.localhost"},
		{"eu", "eu", []string{"mxa.eu.salvo.localhost", "mxb.eu.salvo.localhost"}, "smtp.eu.salvo.localhost", "eu.salvo.localhost", "spf.eu.salvo.localhost"},
		{" EU ", "eu", []string{"mxa.eu.salvo.localhost", "mxb.eu.salvo.localhost"}, "smtp.eu.salvo.localhost", "eu.salvo.localhost", "spf.eu.salvo.localhost"},
	} {
		c := config.Default()
		c.Region = tc.region
		if err := c.Validate(); err != nil {
			t.Fatalf("region %q: %v", tc.region, err)
		}
		got := []any{c.Region, c.MXHosts, c.SMTPHost, c.TrackingHost, c.SPFInclude}
		want := []any{tc.wantRegion, tc.mx, tc.smtp, tc.tracking, tc.spf}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("region %q: region, MX, SMTP, tracking, SPF = %q, want %q", tc.region, got, want)
		}
	}

	// Settings given explicitly are kept.
	c := config.Default()
	c.Region = config.RegionEU
	c.MXHosts, c.SMTPHost, c.TrackingHost, c.SPFInclude = []string{"mx.example.com"}, "smtp.example.com", "t.example.com", "spf.example.com"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	got := []any{c.MXHosts, c.SMTPHost, c.TrackingHost, c.SPFInclude}
	want := []any{[]string{"mx.example.com"}, "smtp.example.com", "t.example.com", "spf.example.com"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("explicit hosts after Validate = %q, want %q", got, want)
	}
}

func TestValidateAccepts(t *testing.T) {
	t.Parallel()
	c := config.Default()
	c.DatabaseURL = "postgresql://db.example.com/salvo"
	c.GlobalDatabaseURL = "postgres://db.example.com/global"
	c.HTTPAddr = ":8080"
	c.PublicURL = "https://mail.example.com/"
	c.APIKey, c.Secret = "0123456789abcdef", "0123456789abcdef"
	c.DNS, c.Smarthost = "127.0.0.1:53", "[::1]:25"
	c.LogFormat, c.LogLevel = "json", "debug"
	c.DKIMKeyBits = 1024
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.PublicURL != "https://mail.example.com" {
		t.Errorf("PublicURL = %q, want the trailing slash trimmed", c.PublicURL)
	}
}

// TestValidateRejects checks that every invalid setting is reported with
// both its flag and its environment variable, and without a secret's value.
func TestValidateRejects(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	registered := config.Default()
	config.Register(fs, &registered)
	for _, tc := range []struct {
		flag string
		set  func(*config.Config)
	}{
		{"region", func(c *config.Config) { c.Region = "mars" }},
		{"data-dir", func(c *config.Config) { c.DataDir = "" }},
		{"database-url", func(c *config.Config) { c.DatabaseURL = "mysql://db/salvo" }},
		{"global-database-url", func(c *config.Config) { c.GlobalDatabaseURL = "/var/lib/salvo/global.db" }},
		{"http-addr", func(c *config.Config) { c.HTTPAddr = "8080" }},
		{"public-url", func(c *config.Config) { c.PublicURL = "mail.example.com" }},
		{"public-url", func(c *config.Config) { c.PublicURL = "ftp://mail.example.com" }},
		{"api-key", func(c *config.Config) { c.APIKey = "short-key" }},
		{"secret", func(c *config.Config) { c.Secret = "short-key" }},
		{"dns", func(c *config.Config) { c.DNS = "127.0.0.1" }},
		{"smarthost", func(c *config.Config) { c.Smarthost = "mx.example.com" }},
		{"log-format", func(c *config.Config) { c.LogFormat = "xml" }},
		{"log-level", func(c *config.Config) { c.LogLevel = "trace" }},
		{"shutdown-timeout", func(c *config.Config) { c.ShutdownTimeout = 0 }},
		{"dkim-selector", func(c *config.Config) { c.DKIMSelector = "" }},
		{"dkim-selector", func(c *config.Config) { c.DKIMSelector = "a.b" }},
		{"dkim-key-bits", func(c *config.Config) { c.DKIMKeyBits = 4096 }},
		{"max-request-bytes", func(c *config.Config) { c.MaxRequestBytes = 1000 }},
		{"auth-failure-limit", func(c *config.Config) { c.AuthFailureLimit = 0 }},
		{"source-ips", func(c *config.Config) { c.SourceIPs = "192.0.2.1,mail.example.com" }},
		{"source-ips", func(c *config.Config) { c.SourceIPs = "192.0.2.1=" }},
		{"source-ips", func(c *config.Config) { c.SourceIPs = "127.0.0.2, 127.0.0.2=b.example.com" }},
		{"source-ips", func(c *config.Config) { c.SourceIPs = "127.0.0.2, 192.0.2.1" }}, // not this machine's
	} {
		if fs.Lookup(tc.flag) == nil {
			t.Fatalf("no flag --%s", tc.flag)
		}
		c := config.Default()
		tc.set(&c)
		err := c.Validate()
		if err == nil {
			t.Errorf("--%s: invalid value accepted", tc.flag)
			continue
		}
		for _, want := range []string{"--" + tc.flag + " ", config.EnvName(tc.flag)} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("--%s: error %q does not name %s", tc.flag, err, want)
			}
		}
		if strings.Contains(err.Error(), "short-key") {
			t.Errorf("--%s: error %q shows the secret", tc.flag, err)
		}
	}

	// Several problems are reported together.
	c := config.Default()
	c.Region, c.LogLevel = "mars", "loud"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "SALVO_REGION") || !strings.Contains(err.Error(), "SALVO_LOG_LEVEL") {
		t.Errorf("two bad settings: error %v, want both named", err)
	}
}

func TestEnvName(t *testing.T) {
	t.Parallel()
	for flagName, want := range map[string]string{
		"http-addr":           "SALVO_HTTP_ADDR",
		"data-dir":            "SALVO_DATA_DIR",
		"global-database-url": "SALVO_GLOBAL_DATABASE_URL",
		"region":              "SALVO_REGION",
		"dkim-key-bits":       "SALVO_DKIM_KEY_BITS",
	} {
		if got := config.EnvName(flagName); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", flagName, got, want)
		}
	}
	// Every flag has a distinct, well-formed twin.
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c := config.Default()
	config.Register(fs, &c)
	seen := map[string]string{}
	shape := regexp.MustCompile(`^SALVO_[A-Z0-9]+(_[A-Z0-9]+)*$`)
	fs.VisitAll(func(f *flag.Flag) {
		env := config.EnvName(f.Name)
		if !shape.MatchString(env) {
			t.Errorf("--%s: environment variable %q", f.Name, env)
		}
		if other, ok := seen[env]; ok {
			t.Errorf("--%s and --%s share %s", f.Name, other, env)
		}
		seen[env] = f.Name
	})
}

func TestApplyEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"SALVO_REGION":           "eu",
		"SALVO_HTTP_ADDR":        ":9090",
		"SALVO_LOG_LEVEL":        "debug",
		"SALVO_MX_HOSTS":         "mx1.example.com, mx2.example.com",
		"SALVO_SHUTDOWN_TIMEOUT": "5s",
		"SALVO_DKIM_KEY_BITS":    "1024",
		"SALVO_API_KEY":          "from-the-environment",
		"HTTP_ADDR":              "ignored: not a SALVO_ variable",
	}
	c := config.Default()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	config.Register(fs, &c)
	if err := config.ApplyEnv(fs, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	// Flags on the command line win over the environment.
	if err := fs.Parse([]string{"--http-addr", "127.0.0.1:7070", "--mx-hosts", "mx3.example.com", "--log-level=warn"}); err != nil {
		t.Fatal(err)
	}
	want := config.Default()
	want.Region, want.HTTPAddr, want.LogLevel = "eu", "127.0.0.1:7070", "warn"
	want.MXHosts = []string{"mx3.example.com"}
	want.ShutdownTimeout, want.DKIMKeyBits, want.APIKey = 5*time.Second, 1024, "from-the-environment"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("config after env and flags:\n got %+v\nwant %+v", c, want)
	}

	// A bad value names its variable.
	c = config.Default()
	fs = flag.NewFlagSet("test", flag.ContinueOnError)
	config.Register(fs, &c)
	err := config.ApplyEnv(fs, func(k string) string {
		return map[string]string{"SALVO_SHUTDOWN_TIMEOUT": "soon", "SALVO_DKIM_KEY_BITS": "many"}[k]
	})
	if err == nil || !strings.Contains(err.Error(), "SALVO_SHUTDOWN_TIMEOUT") || !strings.Contains(err.Error(), "SALVO_DKIM_KEY_BITS") {
		t.Errorf("bad environment values: error %v, want both variables named", err)
	}
}

func TestDefaultPublicURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "http://127.0.0.1:8080"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "http://127.0.0.1:8080"},
		{&net.TCPAddr{Port: 8080}, "http://127.0.0.1:8080"},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 41234}, "http://127.0.0.1:41234"},
		{&net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 80}, "http://192.0.2.7:80"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, "http://[::1]:8080"},
	} {
		if got := config.DefaultPublicURL(tc.addr); got != tc.want {
			t.Errorf("DefaultPublicURL(%s) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

func TestDataDir(t *testing.T) {
	t.Parallel()
	c := config.Default()
	c.DataDir = filepath.Join(t.TempDir(), "a", "data")
	if err := c.EnsureDataDir(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(c.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v, want a directory with mode 0700", fi.Mode())
	}
	if got, want := c.SQLitePath("region-eu"), filepath.Join(c.DataDir, "region-eu.db"); got != want {
		t.Errorf("SQLitePath = %q, want %q", got, want)
	}
}
