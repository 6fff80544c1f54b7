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
	"strconv"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/ips"
	"github.com/salvo-email/salvo/internal/shaping"
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
	// AllRegions runs a node of every region in this process, for trying
	// regions locally: us on the configured listeners, eu on each
	// listener's port + 1. Embedded stores only.
	AllRegions bool
	// OtherRegionURL is the public URL of the other region's node (the
	// dashboard links to it).
	OtherRegionURL string

	HTTPAddr  string
	PublicURL string
	// TrackingBaseURL, when set, makes tracking links <base>/t/… instead of
	// <web_scheme>://<web_prefix>.<domain>/… (local use, tests).
	TrackingBaseURL string

	// APIKey is the primary key created on the first start of an empty store.
	// It is a secret: never log it.
	APIKey string
	// Secret encrypts what Salvo must be able to reveal later (the primary
	// key, signing keys, DKIM private keys). When empty, a random secret is
	// kept in DataDir/secret.key (mode 0600). It is a secret: never log it.
	Secret string

	DNS       string
	Smarthost string
	// Capture keeps every outgoing copy in the store (the dashboard's
	// Inbox, the storage API) instead of sending it: nothing leaves the
	// machine. Off by default: the same binary runs in production, where
	// "delivered" must mean delivered.
	Capture bool
	// MTASTS and DANE switch the outbound TLS policies on (package
	// tlspolicy; both on by default). DANE needs DNS to be a validating
	// resolver that sets the AD bit.
	MTASTS, DANE bool

	LogFormat string
	LogLevel  string

	ShutdownTimeout time.Duration
	// HTTPReadTimeout bounds reading one HTTP request with its body: a slow
	// upload is cut after it (headers alone get 10 s).
	HTTPReadTimeout time.Duration

	// Names published in each domain's DNS records, per region.
	MXHosts      []string
	SMTPHost     string
	TrackingHost string
	SPFInclude   string
	DKIMSelector string
	DKIMKeyBits  int

	// MaxRequestBytes bounds any API request body (Mailgun: 52.4 MiB).
	MaxRequestBytes int64
	// Sending limits.
	MaxMessageBytes  int
	MaxRecipients    int
	MaxScheduleAhead time.Duration
	// Retention is how long accepted messages stay retrievable.
	Retention time.Duration
	// EventRetention is how long events are kept.
	EventRetention time.Duration

	// Delivery.
	Hostname string // EHLO name
	// SourceIPs are the local addresses delivery may bind, each with its
	// EHLO name (ip=name; default Hostname). Empty: the kernel's choice.
	// Validate fills SourceList from it.
	SourceIPs       string
	SourceList      []ips.Source
	DeliveryWorkers int
	PerDestination  int
	// Shaping is the path of the traffic shaping file (TOML,
	// docs/shaping.md); "" is the built-in configuration alone. Validate
	// fills ShapingConfig from it.
	Shaping           string
	ShapingConfig     *shaping.Config
	RetrySchedule     []time.Duration
	RetryMaxAge       time.Duration
	Lease             time.Duration
	ConnectTimeout    time.Duration
	RequireVerifiedTo bool
	// AuthFailureLimit is how many failed authentications one client address
	// may make per minute before further failures get 429.
	AuthFailureLimit int

	// Webhooks: how long one POST may take, and how many POSTs to one URL
	// may be in flight at once.
	WebhookTimeout     time.Duration
	WebhookConcurrency int
	// OutboundDeny and OutboundAllow are comma-separated CIDRs or addresses
	// that webhook and route forward POSTs may not / may reach (allow wins;
	// package egress); this node's listeners and databases are always
	// denied.
	OutboundDeny, OutboundAllow string

	// SessionIdleTimeout ends a dashboard login after this long without a
	// request; SessionMaxAge ends it this long after login regardless.
	SessionIdleTimeout time.Duration
	SessionMaxAge      time.Duration
	// LoginFailureLimit is how many failed logins (dashboard and SMTP AUTH)
	// an account may make from one address before each further attempt
	// has to wait; an account from all addresses, and an address for all
	// accounts, get ten times as many (auth.LoginThrottle).
	LoginFailureLimit int

	// SMTP configures the submission relay and the inbound MX (smtp.go).
	SMTP SMTPSettings
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
		HTTPReadTimeout:  2 * time.Minute,
		DKIMSelector:     "salvo",
		DKIMKeyBits:      2048,
		MaxRequestBytes:  52_428_800, // Mailgun's "52.4MiB" request limit (what mailgun.js caps bodies at)
		MaxMessageBytes:  25_000_000,
		MaxRecipients:    1000,
		MaxScheduleAhead: 72 * time.Hour,
		Retention:        72 * time.Hour,
		EventRetention:   30 * 24 * time.Hour,
		DeliveryWorkers:  32,
		PerDestination:   8,
		RetrySchedule:    []time.Duration{10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour},
		RetryMaxAge:      8 * time.Hour,
		Lease:            time.Minute,
		ConnectTimeout:   30 * time.Second,
		MTASTS:           true,
		DANE:             true,
		AuthFailureLimit: 20,

		WebhookTimeout:     10 * time.Second,
		WebhookConcurrency: 8,
		OutboundDeny:       "169.254.0.0/16,fe80::/10",

		SessionIdleTimeout: time.Hour,
		SessionMaxAge:      12 * time.Hour,
		LoginFailureLimit:  5,

		SMTP: defaultSMTP(),
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

// fillRegionDefaults sets the region's published host names where unset,
// shaped like Mailgun's (mxa.mailgun.org / mxa.eu.mailgun.org).
func (c *Config) fillRegionDefaults() {
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
}

// Register adds every setting to fs as a flag whose default is the current
// value in c. Call ApplyEnv before fs.Parse so that flags win over the
// environment.
func Register(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "folder of the embedded store (global and regional SQLite files, secret.key)")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "postgres://… URL of this region's store; empty means the embedded store in the data dir")
	fs.StringVar(&c.GlobalDatabaseURL, "global-database-url", c.GlobalDatabaseURL, "postgres://… URL of the global store (account, users, API keys, domain names); empty means the embedded global store")
	fs.StringVar(&c.Region, "region", c.Region, "region this node serves: us or eu")
	fs.BoolVar(&c.AllRegions, "all-regions", c.AllRegions, "run both regions in this process, for trying them locally: us on the configured listeners, eu on each listener's port + 1 (embedded stores only)")
	fs.StringVar(&c.OtherRegionURL, "other-region-url", c.OtherRegionURL, "public URL of the other region's node, linked from the dashboard")
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "HTTP listener (API, dashboard, tracking); use :8080 to listen on every interface")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "absolute base URL used in links the API hands out (default http://<http-addr>)")
	fs.StringVar(&c.TrackingBaseURL, "tracking-base-url", c.TrackingBaseURL, "absolute base URL for open, click and unsubscribe links, served under /t/ (default: each domain's tracking host <web_scheme>://<web_prefix>.<domain>); for local use, e.g. http://localhost:8080")
	fs.StringVar(&c.APIKey, "api-key", c.APIKey, "primary API key to create on the first start of an empty store (default: a random key, printed once)")
	fs.StringVar(&c.Secret, "secret", c.Secret, "secret that encrypts revealable keys (default: a random one kept in <data-dir>/secret.key); every node of a deployment needs the same")
	fs.StringVar(&c.DNS, "dns", c.DNS, "host:port of the DNS server for MX/TXT lookups (default: the system resolver)")
	fs.StringVar(&c.Smarthost, "smarthost", c.Smarthost, "host:port to deliver every outbound message to instead of looking up MX")
	fs.BoolVar(&c.MTASTS, "mta-sts", c.MTASTS, "honour recipient domains' MTA-STS policies (RFC 8461) when delivering")
	fs.BoolVar(&c.DANE, "dane", c.DANE, "honour DANE TLSA records (RFC 7672) of MX hosts when --dns is a validating resolver (AD bit)")
	fs.BoolVar(&c.Capture, "capture", c.Capture, "keep every outgoing message in the dashboard's Inbox instead of sending it: nothing leaves the machine (development)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long SIGTERM waits for work in flight before exiting")
	fs.DurationVar(&c.HTTPReadTimeout, "http-read-timeout", c.HTTPReadTimeout, "how long reading one HTTP request with its body may take; slower uploads are cut (headers alone get 10s)")
	fs.Var((*listValue)(&c.MXHosts), "mx-hosts", "comma-separated inbound MX host names published for every domain (default mxa.salvo.localhost,mxb.salvo.localhost; eu: mxa.eu.salvo.localhost,…)")
	fs.StringVar(&c.SMTPHost, "smtp-host", c.SMTPHost, "host name of the outgoing SMTP server shown to users (default smtp.salvo.localhost; eu: smtp.eu.salvo.localhost)")
	fs.StringVar(&c.TrackingHost, "tracking-host", c.TrackingHost, "CNAME target of each domain's tracking host (default salvo.localhost; eu: eu.salvo.localhost)")
	fs.StringVar(&c.SPFInclude, "spf-include", c.SPFInclude, "host name in the SPF record published for every domain (default spf.salvo.localhost; eu: spf.eu.salvo.localhost)")
	fs.StringVar(&c.DKIMSelector, "dkim-selector", c.DKIMSelector, "DKIM selector given to new domains")
	fs.IntVar(&c.DKIMKeyBits, "dkim-key-bits", c.DKIMKeyBits, "RSA size of new DKIM keys: 1024 or 2048")
	fs.Int64Var(&c.MaxRequestBytes, "max-request-bytes", c.MaxRequestBytes, "largest API request body accepted, in bytes")
	fs.IntVar(&c.AuthFailureLimit, "auth-failure-limit", c.AuthFailureLimit, "failed authentications per minute from one address before 429")
	fs.IntVar(&c.MaxMessageBytes, "max-message-bytes", c.MaxMessageBytes, "largest message accepted for sending, in bytes (Mailgun: 25 MB)")
	fs.IntVar(&c.MaxRecipients, "max-recipients", c.MaxRecipients, "most recipients (to+cc+bcc) of one send")
	fs.DurationVar(&c.MaxScheduleAhead, "max-schedule-ahead", c.MaxScheduleAhead, "how far ahead o:deliverytime may be")
	fs.DurationVar(&c.Retention, "retention", c.Retention, "how long accepted messages stay retrievable through storage URLs")
	fs.DurationVar(&c.EventRetention, "event-retention", c.EventRetention, "how long events are kept")
	fs.StringVar(&c.Hostname, "hostname", c.Hostname, "host name Salvo gives in SMTP EHLO (default: the machine's host name)")
	fs.StringVar(&c.SourceIPs, "source-ips", c.SourceIPs, "comma-separated local addresses outbound SMTP may be sent from, each ip or ip=ehlo-name (the EHLO name must match the address's PTR; default: --hostname); empty: the kernel's choice")
	fs.IntVar(&c.DeliveryWorkers, "delivery-workers", c.DeliveryWorkers, "outbound SMTP connections open at once, in all")
	fs.IntVar(&c.PerDestination, "per-destination", c.PerDestination, "outbound SMTP connections open at once to one destination domain")
	fs.StringVar(&c.Shaping, "shaping", c.Shaping, "TOML file of traffic shaping per mailbox provider (MX host patterns; per group and source address: max connections, messages per connection, per minute, per hour, connect/command timeouts, throttle back-off; docs/shaping.md), laid over the built-in groups for Gmail, Microsoft, Yahoo, iCloud, GMX/web.de, Mail.ru, Yandex, Comcast…; empty: the built-in groups alone")
	fs.Var((*durationList)(&c.RetrySchedule), "retry-schedule", "delays between delivery attempts after a temporary failure (comma-separated)")
	fs.DurationVar(&c.RetryMaxAge, "retry-max-age", c.RetryMaxAge, "give up on temporary failures this long after a message was accepted")
	fs.DurationVar(&c.Lease, "lease", c.Lease, "how long a claimed delivery job stays reserved (renewed while its delivery runs); a dead node's jobs come back after it")
	fs.DurationVar(&c.ConnectTimeout, "connect-timeout", c.ConnectTimeout, "timeout to connect to a receiving MX")
	fs.StringVar(&c.OutboundDeny, "outbound-deny", c.OutboundDeny, "comma-separated CIDRs that webhook and route forward POSTs may not reach (link-local by default: cloud metadata); this node's own listeners and databases are always refused")
	fs.StringVar(&c.OutboundAllow, "outbound-allow", c.OutboundAllow, "comma-separated CIDRs allowed even when --outbound-deny covers them")
	fs.DurationVar(&c.WebhookTimeout, "webhook-timeout", c.WebhookTimeout, "how long a webhook POST may take before it counts as failed (and is retried)")
	fs.IntVar(&c.WebhookConcurrency, "webhook-concurrency", c.WebhookConcurrency, "webhook POSTs in flight at once to one URL")
	fs.DurationVar(&c.SessionIdleTimeout, "session-idle-timeout", c.SessionIdleTimeout, "dashboard logins end after this long without a request")
	fs.DurationVar(&c.SessionMaxAge, "session-max-age", c.SessionMaxAge, "dashboard logins end this long after login, active or not")
	fs.IntVar(&c.LoginFailureLimit, "login-failure-limit", c.LoginFailureLimit, "failed logins (dashboard, SMTP AUTH) per account and client address before each further attempt must wait (1s, doubling up to 15m); per account and per address: ten times as many")
	registerSMTP(fs, &c.SMTP)
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
			errs = append(errs, fmt.Errorf("--%s (%s): cannot use %q: %w", f.Name, env, redactIfSecret(f.Name, v), err))
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
	if c.DatabaseURL != "" && c.DatabaseURL == c.GlobalDatabaseURL {
		// Both stores keep their own schema_migrations and tables: one
		// database (or schema) cannot hold both.
		bad("global-database-url", "must name another database than database-url (the global and regional stores are separate databases)")
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("http-addr", "must be host:port such as 127.0.0.1:8080 or :8080 (%v)", err)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	c.TrackingBaseURL = strings.TrimRight(c.TrackingBaseURL, "/")
	if u, err := url.Parse(c.TrackingBaseURL); c.TrackingBaseURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		bad("tracking-base-url", "must be an absolute http:// or https:// URL, not %q", c.TrackingBaseURL)
	}
	if u, err := url.Parse(c.PublicURL); c.PublicURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		bad("public-url", "must be an absolute http:// or https:// URL, not %q", c.PublicURL)
	}
	if c.APIKey != "" && len(c.APIKey) < 16 {
		bad("api-key", "must be at least 16 characters so it cannot be guessed")
	}
	if c.Secret != "" && len(c.Secret) < 16 {
		bad("secret", "must be at least 16 characters")
	}
	if c.Capture && c.Smarthost != "" {
		bad("capture", "keeps every message, so --smarthost (SALVO_SMARTHOST) %s would never be used: set only one", c.Smarthost)
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
	if c.HTTPReadTimeout < time.Second {
		bad("http-read-timeout", "must be at least 1s, such as 2m")
	}
	c.fillRegionDefaults()
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
	positive := []struct {
		name string
		ok   bool
	}{
		{"max-message-bytes", c.MaxMessageBytes >= 1024}, {"max-recipients", c.MaxRecipients >= 1},
		{"max-schedule-ahead", c.MaxScheduleAhead > 0}, {"retention", c.Retention > 0},
		{"event-retention", c.EventRetention > 0}, {"delivery-workers", c.DeliveryWorkers >= 1},
		{"per-destination", c.PerDestination >= 1}, {"retry-schedule", len(c.RetrySchedule) > 0},
		{"retry-max-age", c.RetryMaxAge > 0}, {"lease", c.Lease >= time.Second},
		{"connect-timeout", c.ConnectTimeout > 0},
		{"webhook-timeout", c.WebhookTimeout > 0}, {"webhook-concurrency", c.WebhookConcurrency >= 1},
	}
	for _, p := range positive {
		if !p.ok {
			bad(p.name, "must be positive")
		}
	}
	for _, d := range c.RetrySchedule {
		if d <= 0 {
			bad("retry-schedule", "every delay must be positive, such as 10m,15m,30m,1h,2h,4h")
		}
	}
	if c.Hostname == "" {
		c.Hostname, _ = os.Hostname()
		if c.Hostname == "" {
			c.Hostname = "localhost"
		}
	}
	if list, err := ips.Parse(c.SourceIPs); err != nil {
		bad("source-ips", "%v", err)
	} else if err := ips.CheckLocal(list); err != nil {
		bad("source-ips", "%v", err)
	} else {
		c.SourceList = list
	}
	if sc, err := shaping.Load(c.Shaping); err != nil {
		bad("shaping", "%v", err)
	} else {
		c.ShapingConfig = sc
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
	errs = append(errs, c.SMTP.validate()...)
	return errors.Join(errs...)
}

// ForRegion derives the configuration of region's node in an all-regions
// process from this (validated) one: region-dependent defaults are
// recomputed and, outside the US, every listener moves to port + 1.
func (c Config) ForRegion(region string) (Config, error) {
	if c.DatabaseURL != "" || c.GlobalDatabaseURL != "" {
		return c, fmt.Errorf("--all-regions (SALVO_ALL_REGIONS) runs the embedded stores only; with PostgreSQL run one node per region (SALVO_REGION) sharing SALVO_GLOBAL_DATABASE_URL")
	}
	if c.PublicURL != "" {
		return c, fmt.Errorf("--all-regions (SALVO_ALL_REGIONS) derives each region's public URL from its listener; leave --public-url (SALVO_PUBLIC_URL) empty")
	}
	out := c
	out.Region, out.AllRegions = region, false
	us := Config{Region: c.Region}
	us.fillRegionDefaults()
	if strings.Join(c.MXHosts, ",") == strings.Join(us.MXHosts, ",") {
		out.MXHosts = nil
	}
	if c.SMTPHost == us.SMTPHost {
		out.SMTPHost = ""
	}
	if c.TrackingHost == us.TrackingHost {
		out.TrackingHost = ""
	}
	if c.SPFInclude == us.SPFInclude {
		out.SPFInclude = ""
	}
	if region != RegionUS {
		for _, addr := range out.listeners() {
			shifted, err := nextPort(*addr)
			if err != nil {
				return c, err
			}
			*addr = shifted
		}
	}
	return out, out.Validate()
}

// listeners are the addresses this node listens on.
func (c *Config) listeners() []*string {
	return []*string{&c.HTTPAddr, &c.SMTP.SubmissionAddr, &c.SMTP.SubmissionTLSAddr, &c.SMTP.MXAddr}
}

func nextPort(addr string) (string, error) {
	if addr == "" || addr == "off" {
		return addr, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	n, err := strconv.Atoi(port)
	if err != nil || n == 0 {
		return "", fmt.Errorf("--all-regions needs fixed ports, not %q", addr)
	}
	return net.JoinHostPort(host, strconv.Itoa(n+1)), nil
}

// DefaultPublicURL is the public URL used when none is configured: the
// bound HTTP address, with a wildcard host replaced by 127.0.0.1.
func DefaultPublicURL(bound net.Addr) string { return URLOf(bound.String()) }

// URLOf is the http:// URL of a listener address (a wildcard host becomes
// 127.0.0.1).
func URLOf(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
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

// durationList is a comma-separated list of durations.
type durationList []time.Duration

func (l *durationList) String() string {
	parts := make([]string, len(*l))
	for i, d := range *l {
		parts[i] = d.String()
	}
	return strings.Join(parts, ",")
}

func (l *durationList) Set(s string) error {
	var out []time.Duration
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		d, err := time.ParseDuration(p)
		if err != nil {
			return err
		}
		out = append(out, d)
	}
	*l = out
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
