// Package config holds Salvo's one typed configuration.
//
// Every setting is a command-line flag with an environment twin: the flag
// --http-addr is also SALVO_HTTP_ADDR. Precedence is flag, then environment,
// then the built-in default. Validate turns a Config into either a usable
// value or an error a newcomer can act on; nothing else in the program reads
// flags or the environment.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Regions a node can serve.
const (
	RegionUS = "us"
	RegionEU = "eu"
)

// Config is the whole configuration of one Salvo node.
type Config struct {
	DataDir           string
	DatabaseURL       string
	GlobalDatabaseURL string
	Region            string

	HTTPAddr  string
	PublicURL string

	// APIKey is the primary key created on the first start of an empty store.
	// It is a secret: never log it.
	APIKey string
	// Secret encrypts what Salvo must be able to reveal later (the primary
	// key, signing keys, DKIM private keys). When empty, a random secret is
	// kept in DataDir/secret.key (mode 0600). It is a secret: never log it.
	Secret string

	DNS       string
	Smarthost string

	LogFormat string
	LogLevel  string

	ShutdownTimeout time.Duration

	// Names published in each domain's DNS records, per region.
	MXHosts      []string
	SMTPHost     string
	TrackingHost string
	SPFInclude   string
	DKIMSelector string
	DKIMKeyBits  int

	// MaxRequestBytes bounds any API request body (Mailgun: 52.4 MiB).
	MaxRequestBytes int64
	// AuthFailureLimit is how many failed authentications one client address
	// may make per minute before further failures get 429.
	AuthFailureLimit int

	// SessionIdleTimeout ends a dashboard login after this long without a
	// request; SessionMaxAge ends it this long after login regardless.
	SessionIdleTimeout time.Duration
	SessionMaxAge      time.Duration
	// LoginFailureLimit is how many failed dashboard logins an address or
	// an account may make before each further attempt has to wait.
	LoginFailureLimit int
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		DataDir:          "./salvo-data",
		Region:           RegionUS,
		HTTPAddr:         "127.0.0.1:8080",
		LogFormat:        "text",
		LogLevel:         "info",
		ShutdownTimeout:  30 * time.Second,
		DKIMSelector:     "salvo",
		DKIMKeyBits:      2048,
		MaxRequestBytes:  52_428_800, // Mailgun's "52.4MiB" request limit (what mailgun.js caps bodies at)
		AuthFailureLimit: 20,

		SessionIdleTimeout: time.Hour,
		SessionMaxAge:      12 * time.Hour,
		LoginFailureLimit:  5,
	}
}

// regionHost returns the local default host name of a service in a region,
// shaped like Mailgun's (mxa.mailgun.org / mxa.eu.mailgun.org).
func regionHost(service, region string) string {
	base := "salvo.localhost"
	if region != RegionUS {
		base = region + "." + base
	}
	if service == "" {
		return base
	}
	return service + "." + base
}

// Register adds every setting to fs as a flag whose default is the current
// value in c. Call ApplyEnv before fs.Parse so that flags win over the
// environment.
func Register(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "folder of the embedded store (global and regional SQLite files, secret.key)")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "postgres://… URL of this region's store; empty means the embedded store in the data dir")
	fs.StringVar(&c.GlobalDatabaseURL, "global-database-url", c.GlobalDatabaseURL, "postgres://… URL of the global store (account, users, API keys, domain names); empty means the embedded global store")
	fs.StringVar(&c.Region, "region", c.Region, "region this node serves: us or eu")
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "HTTP listener (API, dashboard, tracking); use :8080 to listen on every interface")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "absolute base URL used in links the API hands out (default http://<http-addr>)")
	fs.StringVar(&c.APIKey, "api-key", c.APIKey, "primary API key to create on the first start of an empty store (default: a random key, printed once)")
	fs.StringVar(&c.Secret, "secret", c.Secret, "secret that encrypts revealable keys (default: a random one kept in <data-dir>/secret.key); every node of a deployment needs the same")
	fs.StringVar(&c.DNS, "dns", c.DNS, "host:port of the DNS server for MX/TXT lookups (default: the system resolver)")
	fs.StringVar(&c.Smarthost, "smarthost", c.Smarthost, "host:port to deliver every outbound message to instead of looking up MX")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long SIGTERM waits for work in flight before exiting")
	fs.Var((*listValue)(&c.MXHosts), "mx-hosts", "comma-separated inbound MX host names published for every domain (default mxa.salvo.localhost,mxb.salvo.localhost; eu: mxa.eu.salvo.localhost,…)")
	fs.StringVar(&c.SMTPHost, "smtp-host", c.SMTPHost, "host name of the outgoing SMTP server shown to users (default smtp.salvo.localhost; eu: smtp.eu.salvo.localhost)")
	fs.StringVar(&c.TrackingHost, "tracking-host", c.TrackingHost, "CNAME target of each domain's tracking host (default salvo.localhost; eu: eu.salvo.localhost)")
	fs.StringVar(&c.SPFInclude, "spf-include", c.SPFInclude, "host name in the SPF record published for every domain (default spf.salvo.localhost; eu: spf.eu.salvo.localhost)")
	fs.StringVar(&c.DKIMSelector, "dkim-selector", c.DKIMSelector, "DKIM selector given to new domains")
	fs.IntVar(&c.DKIMKeyBits, "dkim-key-bits", c.DKIMKeyBits, "RSA size of new DKIM keys: 1024 or 2048")
	fs.Int64Var(&c.MaxRequestBytes, "max-request-bytes", c.MaxRequestBytes, "largest API request body accepted, in bytes")
	fs.IntVar(&c.AuthFailureLimit, "auth-failure-limit", c.AuthFailureLimit, "failed authentications per minute from one address before 429")
	fs.DurationVar(&c.SessionIdleTimeout, "session-idle-timeout", c.SessionIdleTimeout, "dashboard logins end after this long without a request")
	fs.DurationVar(&c.SessionMaxAge, "session-max-age", c.SessionMaxAge, "dashboard logins end this long after login, active or not")
	fs.IntVar(&c.LoginFailureLimit, "login-failure-limit", c.LoginFailureLimit, "failed dashboard logins per address or account before each further attempt must wait (1s, doubling up to 15m)")
}

// EnvName is the environment twin of a flag name: http-addr → SALVO_HTTP_ADDR.
func EnvName(flagName string) string {
	return "SALVO_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// ApplyEnv sets every flag of fs whose environment twin is set (getenv
// returns "" for unset). It must run before fs.Parse.
func ApplyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := EnvName(f.Name)
		v := getenv(env)
		if v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", env, redactIfSecret(f.Name, v), err))
		}
	})
	return errors.Join(errs...)
}

func redactIfSecret(name, v string) string {
	if name == "api-key" || name == "secret" {
		return "…"
	}
	return v
}

// Validate checks c and fills the defaults that depend on other settings.
// Its errors name the setting both ways so the reader can fix either.
func (c *Config) Validate() error {
	var errs []error
	bad := func(flagName, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s (%s): %s", flagName, EnvName(flagName), fmt.Sprintf(format, args...)))
	}
	c.Region = strings.ToLower(strings.TrimSpace(c.Region))
	if c.Region != RegionUS && c.Region != RegionEU {
		bad("region", "must be us or eu, not %q", c.Region)
	}
	if c.DataDir == "" {
		bad("data-dir", "must not be empty")
	}
	for _, u := range []struct{ name, v string }{{"database-url", c.DatabaseURL}, {"global-database-url", c.GlobalDatabaseURL}} {
		if u.v != "" && !strings.HasPrefix(u.v, "postgres://") && !strings.HasPrefix(u.v, "postgresql://") {
			bad(u.name, "must start with postgres:// (leave it empty for the embedded store)")
		}
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("http-addr", "must be host:port such as 127.0.0.1:8080 or :8080 (%v)", err)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if u, err := url.Parse(c.PublicURL); c.PublicURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		bad("public-url", "must be an absolute http:// or https:// URL, not %q", c.PublicURL)
	}
	if c.APIKey != "" && len(c.APIKey) < 16 {
		bad("api-key", "must be at least 16 characters so it cannot be guessed")
	}
	if c.Secret != "" && len(c.Secret) < 16 {
		bad("secret", "must be at least 16 characters")
	}
	for _, hp := range []struct{ name, v string }{{"dns", c.DNS}, {"smarthost", c.Smarthost}} {
		if hp.v == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(hp.v); err != nil {
			bad(hp.name, "must be host:port such as 127.0.0.1:53 (%v)", err)
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log-format", "must be text or json, not %q", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log-level", "must be debug, info, warn or error, not %q", c.LogLevel)
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown-timeout", "must be positive, such as 30s")
	}
	if len(c.MXHosts) == 0 {
		c.MXHosts = []string{regionHost("mxa", c.Region), regionHost("mxb", c.Region)}
	}
	if c.SMTPHost == "" {
		c.SMTPHost = regionHost("smtp", c.Region)
	}
	if c.TrackingHost == "" {
		c.TrackingHost = regionHost("", c.Region)
	}
	if c.SPFInclude == "" {
		c.SPFInclude = regionHost("spf", c.Region)
	}
	if c.DKIMSelector == "" || strings.ContainsAny(c.DKIMSelector, " ./@") {
		bad("dkim-selector", "must be one DNS label such as salvo, not %q", c.DKIMSelector)
	}
	if c.DKIMKeyBits != 1024 && c.DKIMKeyBits != 2048 {
		bad("dkim-key-bits", "must be 1024 or 2048, not %d", c.DKIMKeyBits)
	}
	if c.MaxRequestBytes < 1<<20 {
		bad("max-request-bytes", "must be at least 1048576 (1 MiB)")
	}
	if c.AuthFailureLimit < 1 {
		bad("auth-failure-limit", "must be at least 1")
	}
	if c.SessionIdleTimeout < time.Minute {
		bad("session-idle-timeout", "must be at least 1m, such as 1h")
	}
	if c.SessionMaxAge < c.SessionIdleTimeout {
		bad("session-max-age", "must be at least --session-idle-timeout (%v), such as 12h", c.SessionIdleTimeout)
	}
	if c.LoginFailureLimit < 1 {
		bad("login-failure-limit", "must be at least 1")
	}
	return errors.Join(errs...)
}

// DefaultPublicURL is the public URL used when none is configured: the
// bound HTTP address, with a wildcard host replaced by 127.0.0.1.
func DefaultPublicURL(bound net.Addr) string {
	host, port, err := net.SplitHostPort(bound.String())
	if err != nil {
		return "http://" + bound.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// SQLitePath returns where the embedded store named name ("global", or
// "region-us") lives.
func (c *Config) SQLitePath(name string) string {
	return filepath.Join(c.DataDir, name+".db")
}

// EnsureDataDir creates the data dir (0700) when the embedded store or the
// secret file needs it.
func (c *Config) EnsureDataDir() error {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("--data-dir (SALVO_DATA_DIR) %q cannot be created: %w", c.DataDir, err)
	}
	return nil
}

// listValue is a comma-separated list flag.
type listValue []string

func (l *listValue) String() string { return strings.Join(*l, ",") }

func (l *listValue) Set(s string) error {
	*l = (*l)[:0]
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}
