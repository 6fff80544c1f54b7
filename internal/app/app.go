// Package app is the one place that knows every part of Salvo: it opens the
// stores the configuration names, builds the services with their
// dependencies, and starts and stops the listeners and workers in order.
//
// Start order: stores (migrated), account bootstrap, HTTP listener (API and
// dashboard), delivery, route workers and SMTP listeners (smtp.go);
// /healthz answers 200 only once everything has started. Stop reverses
// it: stop accepting (SMTP, then HTTP), drain work in flight within the
// shutdown timeout, then close the stores.
package app

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/salvo-email/salvo/internal/egress"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/api"
	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/delivery"
	"github.com/salvo-email/salvo/internal/dkim"
	"github.com/salvo-email/salvo/internal/dns"
	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/exports"
	"github.com/salvo-email/salvo/internal/inbound"
	"github.com/salvo-email/salvo/internal/ippools"
	"github.com/salvo-email/salvo/internal/ips"
	"github.com/salvo-email/salvo/internal/lists"
	"github.com/salvo-email/salvo/internal/obs"
	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/send"
	"github.com/salvo-email/salvo/internal/smtp"
	"github.com/salvo-email/salvo/internal/startstop"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/store/postgres"
	"github.com/salvo-email/salvo/internal/store/sqlite"
	"github.com/salvo-email/salvo/internal/submission"
	"github.com/salvo-email/salvo/internal/suppress"
	"github.com/salvo-email/salvo/internal/templates"
	"github.com/salvo-email/salvo/internal/tlspolicy"
	"github.com/salvo-email/salvo/internal/tracking"
	"github.com/salvo-email/salvo/internal/usage"
	"github.com/salvo-email/salvo/internal/validate"
	"github.com/salvo-email/salvo/internal/web"
	"github.com/salvo-email/salvo/internal/webhooks"
)

// Seams are the test seams; zero values mean the real thing.
type Seams struct {
	Now      func() time.Time
	KeyGen   dkim.KeyGen
	Resolver dns.Resolver
	// Stderr receives the one-time primary key banner.
	Stderr io.Writer
	// BcryptCost lowers password hashing cost in tests.
	BcryptCost int
	// RootCAs verifies receiving servers' certificates (nil: system pool).
	RootCAs *x509.CertPool
	// Dial opens outbound SMTP connections (nil: net.Dialer).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// DialFrom opens outbound SMTP connections from one of --source-ips
	// (nil: net.Dialer bound to it).
	DialFrom func(ctx context.Context, local netip.Addr, network, addr string) (net.Conn, error)
	// MXPort is the port of MX hosts (25 when empty).
	MXPort string
	// RouteHTTP posts route forwards (nil: a client with --forward-timeout).
	RouteHTTP *http.Client
	// DeliveryPoll is how long the delivery engine sleeps unless woken
	// (0: its default); tests lengthen it so only notifications wake it.
	DeliveryPoll time.Duration
}

// App is one running Salvo node.
type App struct {
	Cfg     config.Config
	Log     *slog.Logger
	Metrics *obs.Metrics

	Global   store.Global
	Regional store.Regional
	Box      *secret.Box
	Keys     *auth.Keys
	Users    *auth.Users
	Domains  *domains.Service
	Send     *send.Service
	// Templates are the stored templates, Lists the mailing lists (issue 6).
	Templates *templates.Service
	Lists     *lists.Service
	// Tracking rewrites tracked copies at delivery and serves the tracking
	// URLs on the HTTP listener (tracking.go).
	Tracking *tracking.Service
	Delivery *delivery.Engine
	// Sources are the node's source addresses (--source-ips).
	Sources *ips.Set
	// TLSPolicy is the MTA-STS and DANE checker (nil with both off).
	TLSPolicy *tlspolicy.Checker
	Webhooks  *webhooks.Dispatcher
	// Egress is where webhook and route POSTs may go.
	Egress   *egress.Policy
	Importer *suppress.Importer
	Exports  *exports.Service
	// Usage copies this region's monthly counts to the global store.
	Usage *usage.Reporter
	API   *api.Server
	// SMTP services (smtp.go).
	Credentials *auth.Credentials
	Relay       *submission.Relay
	Inbound     *inbound.Service
	// Web is the dashboard, served under /dashboard/; built by Start.
	Web http.Handler

	// GeneratedKey is the primary key created by this start, if it was
	// random (empty otherwise). Start prints it once to Stderr.
	GeneratedKey string
	// workersStarted is set once Start has started the background workers:
	// Stop waits only for workers that run (a start that failed at once,
	// e.g. on a busy port, stops at once).
	workersStarted bool

	seams   Seams
	httpLn  net.Listener
	httpSrv *http.Server
	// The janitor's run: Stop closes janitorStop, and past Stop's deadline
	// cancels janitorCtx, which its store calls run under.
	janitor       startstop.Base
	janitorStop   chan struct{}
	janitorDone   chan struct{}
	janitorCtx    context.Context
	janitorCancel context.CancelFunc

	submissionSrv, submissionTLSSrv, mxSrv *smtp.Server
	inboundStarted                         bool
}

// OpenGlobal opens the global store cfg names.
func OpenGlobal(ctx context.Context, cfg *config.Config) (store.Global, error) {
	if cfg.GlobalDatabaseURL != "" {
		return postgres.OpenGlobal(ctx, cfg.GlobalDatabaseURL)
	}
	if err := cfg.EnsureDataDir(); err != nil {
		return nil, err
	}
	return sqlite.OpenGlobal(ctx, cfg.SQLitePath("global"))
}

// OpenRegional opens this region's store.
func OpenRegional(ctx context.Context, cfg *config.Config) (store.Regional, error) {
	if cfg.DatabaseURL != "" {
		return postgres.OpenRegional(ctx, cfg.DatabaseURL)
	}
	if err := cfg.EnsureDataDir(); err != nil {
		return nil, err
	}
	return sqlite.OpenRegional(ctx, cfg.SQLitePath("region-"+cfg.Region))
}

// OpenBox loads the sealing secret and checks it against the one the global
// store was created with.
func OpenBox(ctx context.Context, cfg *config.Config, g store.Global) (*secret.Box, error) {
	if cfg.Secret == "" {
		if err := cfg.EnsureDataDir(); err != nil {
			return nil, err
		}
	}
	raw, err := secret.Load(cfg.DataDir, cfg.Secret)
	if err != nil {
		return nil, err
	}
	box := secret.New(raw)
	stored, err := g.PutMetaIfAbsent(ctx, "secret_check", box.Check())
	if err != nil {
		return nil, err
	}
	if stored != box.Check() {
		return nil, errors.New("the secret (--secret / SALVO_SECRET, or <data-dir>/secret.key) is not the one this global store was created with; every node must use the same secret")
	}
	return box, nil
}

// New opens the stores and builds every service; nothing listens yet.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, seams Seams) (*App, error) {
	if seams.Now == nil {
		seams.Now = time.Now
	}
	if seams.KeyGen == nil {
		seams.KeyGen = dkim.GenerateKey
	}
	if seams.Resolver == nil {
		seams.Resolver = dns.New(cfg.DNS)
	}
	if seams.Stderr == nil {
		seams.Stderr = os.Stderr
	}
	a := &App{Cfg: cfg, Log: log, Metrics: obs.NewMetrics(), seams: seams}
	var err error
	if a.Global, err = OpenGlobal(ctx, &a.Cfg); err != nil {
		return nil, fmt.Errorf("global store: %w", err)
	}
	if a.Regional, err = OpenRegional(ctx, &a.Cfg); err != nil {
		a.Global.Close()
		return nil, fmt.Errorf("regional store (%s): %w", cfg.Region, err)
	}
	// A write function that panics fails its write; the stores count it.
	for _, st := range []any{a.Global, a.Regional} {
		if o, ok := st.(interface{ OnPanic(func(string, any)) }); ok {
			o.OnPanic(func(where string, v any) { a.Metrics.Recovered(log, where, v) })
		}
	}
	if a.Box, err = OpenBox(ctx, &a.Cfg, a.Global); err != nil {
		a.closeStores()
		return nil, err
	}
	a.Keys = &auth.Keys{Global: a.Global, Box: a.Box, Now: seams.Now}
	if a.GeneratedKey, err = a.Keys.Bootstrap(ctx, cfg.APIKey); err != nil {
		a.closeStores()
		return nil, fmt.Errorf("create account: %w", err)
	}
	if err = a.reportAPIKey(ctx); err != nil {
		a.closeStores()
		return nil, err
	}
	a.Users = &auth.Users{Global: a.Global, Now: seams.Now, BcryptCost: seams.BcryptCost}
	a.Domains = &domains.Service{
		Global: a.Global, Regional: a.Regional, Box: a.Box, DNS: seams.Resolver, KeyGen: seams.KeyGen,
		Now: seams.Now, BcryptCost: seams.BcryptCost,
		Settings: domains.Settings{
			Region: cfg.Region, MXHosts: cfg.MXHosts, TrackingHost: cfg.TrackingHost,
			SPFInclude: cfg.SPFInclude, DKIMSelector: cfg.DKIMSelector, DKIMKeyBits: cfg.DKIMKeyBits,
			MessageTTL: cfg.Retention,
		},
	}
	a.Lists = &lists.Service{Store: a.Regional, Now: seams.Now, Log: log.With("part", "lists"), Metrics: a.Metrics}
	a.newTracking()
	a.Sources = ips.NewSet(cfg.SourceList, cfg.Hostname)
	if cfg.MTASTS || cfg.DANE {
		// Outbound TLS policy (package tlspolicy); a smarthost relays, so
		// it gets none (the engine skips it).
		a.TLSPolicy = tlspolicy.New(tlspolicy.Config{MTASTS: cfg.MTASTS, DANE: cfg.DANE}, tlspolicy.Deps{
			Resolver: seams.Resolver, RootCAs: seams.RootCAs, Dial: seams.Dial, Now: seams.Now, Log: log.With("part", "tlspolicy"),
		})
	}
	a.Delivery = delivery.New(delivery.Config{
		Hostname: cfg.Hostname, Workers: cfg.DeliveryWorkers, PerDestination: cfg.PerDestination, Shaping: cfg.ShapingConfig,
		Retry: delivery.Retry{Schedule: cfg.RetrySchedule, MaxAge: cfg.RetryMaxAge},
		Lease: cfg.Lease, ConnectTimeout: cfg.ConnectTimeout, Smarthost: cfg.Smarthost, Capture: cfg.Capture, MXPort: seams.MXPort,
		PollInterval: seams.DeliveryPoll,
	}, delivery.Deps{
		Store: a.Regional, Resolver: seams.Resolver, Box: a.Box, Now: seams.Now, Log: log.With("part", "delivery"),
		Metrics: a.Metrics, RootCAs: seams.RootCAs, Dial: seams.Dial, Tracker: a.Tracking,
		Sources: a.Sources, DialFrom: seams.DialFrom, TLSPolicy: a.TLSPolicy,
		Prefetch: cfg.DatabaseURL != "",
	})
	// Egress: where webhook and route POSTs may go (package egress); the
	// databases now, the listeners once bound (Start).
	if a.Egress, err = egress.New(cfg.OutboundDeny, cfg.OutboundAllow); err != nil {
		a.closeStores()
		return nil, err
	}
	for _, u := range []string{cfg.DatabaseURL, cfg.GlobalDatabaseURL} {
		if pu, err := url.Parse(u); err == nil && pu.Host != "" {
			host := pu.Host
			if pu.Port() == "" {
				host = net.JoinHostPort(pu.Hostname(), "5432")
			}
			a.Egress.DenyOwn(host)
		}
	}
	// Webhooks: the dispatcher reads the events outbox and POSTs signed
	// events to the domains' webhook URLs (package webhooks).
	a.Webhooks = webhooks.New(webhooks.Config{
		Timeout: cfg.WebhookTimeout, PerURL: cfg.WebhookConcurrency, Lease: cfg.Lease,
	}, webhooks.Deps{
		Store: a.Regional, SigningKey: a.Keys.SigningKey, Now: seams.Now,
		Log: log.With("part", "webhooks"), Metrics: a.Metrics, Client: a.Egress.Client(0),
	})
	a.Send = &send.Service{
		Store: a.Regional, Now: seams.Now, Notify: a.Delivery.NotifyDue, Accepted: a.Delivery.Accepted,
		Sources: a.Sources, Pools: a.Regional, Subaccounts: a.Global,
		Limits: send.Limits{
			MaxRecipients: cfg.MaxRecipients, MaxMessageBytes: cfg.MaxMessageBytes,
			MaxScheduleAhead: cfg.MaxScheduleAhead, Retention: cfg.Retention, IdempotencyTTL: 24 * time.Hour,
		},
	}
	// Templates and mailing lists: the API manages them; sends render
	// templates and fan out to lists through them.
	a.Templates = &templates.Service{Store: a.Regional, Now: seams.Now, Limits: templates.DefaultLimits}
	a.Send.Templates, a.Send.Lists = a.Templates, a.Regional
	// Suppression CSV imports run in the background on every node.
	a.Usage = &usage.Reporter{Global: a.Global, Regional: a.Regional, Region: cfg.Region, Now: seams.Now}
	a.Importer = &suppress.Importer{Store: a.Regional, Now: seams.Now, Log: log.With("part", "imports"), Metrics: a.Metrics}
	a.Exports = &exports.Service{Store: a.Regional, Now: seams.Now, Log: log.With("part", "exports"), Metrics: a.Metrics,
		Key: a.Box.Derive("export download links")}
	a.newSMTP()
	return a, nil
}

func printKeyBanner(w io.Writer, key, publicURL string, capture bool) {
	line := "=========================================================================="
	fmt.Fprintf(w, "\n%s\n  Salvo created the account's primary API key. It is printed only this once:\n\n      %s\n\n  Use it as the Basic-auth password with user \"api\", e.g.\n      curl --user 'api:%s' %s/v3/domains\n  Keep it safe. Set SALVO_API_KEY before the first start to choose it yourself.\n\n%s%s\n\n",
		line, key, key, publicURL, captureNote(publicURL, capture), line)
}

// Start binds the listeners and starts serving.
func (a *App) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.Cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("--http-addr (SALVO_HTTP_ADDR) %s: %w", a.Cfg.HTTPAddr, err)
	}
	a.httpLn = ln
	a.Egress.DenyOwn(ln.Addr().String())
	if a.Cfg.PublicURL == "" {
		a.Cfg.PublicURL = config.DefaultPublicURL(ln.Addr())
	}
	a.Send.PublicURL = a.Cfg.PublicURL
	a.Tracking.SetBaseURL(a.Cfg.TrackingBaseURL)
	a.workersStarted = true // from here on Stop waits for them
	a.Delivery.Start()
	if a.TLSPolicy != nil {
		a.TLSPolicy.Start()
	}
	a.Tracking.Start()
	a.Webhooks.Start()
	a.Importer.Start()
	a.Exports.PublicURL = a.Cfg.PublicURL
	a.Exports.Start()
	a.startJanitor()
	a.API = api.New(api.Deps{
		Log: a.Log, Metrics: a.Metrics,
		Auth:    &auth.Authenticator{Global: a.Global, Now: a.seams.Now},
		Limiter: &auth.Limiter{Limit: a.Cfg.AuthFailureLimit, Now: a.seams.Now},
		Keys:    a.Keys, Domains: a.Domains, Send: a.Send, Importer: a.Importer, Templates: a.Templates, Lists: a.Lists,
		Regional: a.Regional, Credentials: a.Credentials,
		Region: a.Cfg.Region, PublicURL: a.Cfg.PublicURL, MaxBody: a.Cfg.MaxRequestBytes, Now: a.seams.Now,
		DestinationHealth: a.Delivery.Health, Shaping: a.Delivery.Shaping, Egress: a.Egress, WebhookTester: a.webhookTester(),
		Sources: a.Sources, Exports: a.Exports, Validator: &validate.Validator{Resolver: a.seams.Resolver, Load: validate.ShippedDisposable},
	})
	if a.Web, err = a.dashboard(); err != nil {
		ln.Close()
		return err
	}
	// A request's headers are read within 10 s, the whole request with its
	// body within --http-read-timeout (a slow upload is cut); an idle
	// keep-alive connection is closed after 2 min.
	a.httpSrv = &http.Server{
		Handler:           a.rootHandler(),
		ReadHeaderTimeout: min(10*time.Second, a.Cfg.HTTPReadTimeout),
		ReadTimeout:       a.Cfg.HTTPReadTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
		// net/http answers a header over its limit with a text/plain 431;
		// its limit is set past maxHeaderBytes so that rootHandler gives
		// Mailgun's JSON error shape instead (a header over this larger
		// limit still gets net/http's own answer).
		MaxHeaderBytes: 4 * maxHeaderBytes,
	}
	a.Metrics.Go(a.Log, "http server", func() {
		if err := a.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.Log.Error("http server stopped", "err", err)
		}
	})
	if err := a.startSMTP(); err != nil {
		return err
	}
	if a.GeneratedKey != "" {
		printKeyBanner(a.seams.Stderr, a.GeneratedKey, a.Cfg.PublicURL, a.Cfg.Capture)
	}
	if a.Cfg.Capture {
		a.Log.Info("capture mode: outgoing mail is kept in the dashboard's Inbox, nothing is delivered; start without --capture (SALVO_CAPTURE) to deliver",
			"inbox", a.Cfg.PublicURL+"/dashboard/inbox")
	}
	a.API.SetReady(true)
	a.Log.Info("salvo started", "region", a.Cfg.Region, "http", ln.Addr().String(), "public_url", a.Cfg.PublicURL)
	return nil
}

// dashboard builds the web dashboard on the same services as the API.
func (a *App) dashboard() (http.Handler, error) {
	w, err := web.New(web.Deps{
		Log: a.Log, Metrics: a.Metrics, Keys: a.Keys, Users: a.Users, Domains: a.Domains,
		Credentials: a.Credentials,
		Sessions: &auth.Sessions{Global: a.Global, Box: a.Box, Now: a.seams.Now,
			IdleTimeout: a.Cfg.SessionIdleTimeout, MaxAge: a.Cfg.SessionMaxAge},
		Throttle: &auth.LoginThrottle{Free: a.Cfg.LoginFailureLimit, Now: a.seams.Now},
		Region:   a.Cfg.Region, PublicURL: a.Cfg.PublicURL, OtherRegionURL: a.Cfg.OtherRegionURL,
		// Logs, message and queue pages read the regional store.
		Regional: a.Regional, Now: a.seams.Now, DestinationHealth: a.Delivery.Health, Shaping: a.Delivery.Shaping, Egress: a.Egress,
		Capture: a.Cfg.Capture,
		// Suppressions pages submit CSV imports to the shared importer.
		Importer: a.Importer,
		// Mailing lists and Templates pages work through the API's services.
		Lists: a.Lists, Templates: a.Templates, Send: a.Send,
		// IPs and pools and Subaccounts pages: the API's pool rules and store.
		Pools:       &ippools.Service{Store: a.Regional, Sources: a.Sources, Now: a.seams.Now},
		Subaccounts: a.Global,
		// The Webhooks tab's Test button posts as PUT …/webhooks/{kind}/test does.
		WebhookTester: a.webhookTester(),
		SMTPServer:    a.smtpServer,
	})
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	return w, nil
}

// smtpServer says where the SMTP relay listens, for the dashboard.
func (a *App) smtpServer() web.SMTPServer {
	port := func(addr string) string {
		if _, p, err := net.SplitHostPort(addr); err == nil {
			return p
		}
		return ""
	}
	return web.SMTPServer{Host: a.Cfg.SMTPHost, STARTTLSPort: port(a.SubmissionAddr()), TLSPort: port(a.SubmissionTLSAddr()),
		InsecureLoopback: a.Cfg.SMTP.InsecureAuthLoopback}
}

// webhookTester posts webhook tests through the egress-checked client
// and with the timeout of the dispatcher's posts.
func (a *App) webhookTester() *webhooks.Tester {
	return &webhooks.Tester{Client: a.Egress.Client(0), SigningKey: a.Keys.SigningKey, Now: a.seams.Now,
		Timeout: a.Cfg.WebhookTimeout}
}

// rootHandler routes the one HTTP listener: tracking URLs (by Host, or
// under /t/), the dashboard under /dashboard/ (and / redirects there) when
// it is built, the API for everything else.
// maxHeaderBytes bounds an HTTP request's header (net/http's default).
const maxHeaderBytes = 1 << 20

// headerSize is about what net/http counts against MaxHeaderBytes.
func headerSize(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

func (a *App) rootHandler() http.Handler {
	publicHost := publicHost(a.Cfg.PublicURL)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := headerSize(r); n > maxHeaderBytes {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusRequestHeaderFieldsTooLarge)
			fmt.Fprintf(w, "{\"message\":\"Request header fields too large: %d bytes, at most %d\"}\n", n, maxHeaderBytes)
			return
		}
		switch {
		case a.Tracking.Match(r, publicHost):
			a.Tracking.ServeHTTP(w, r)
		case a.Web == nil:
			a.API.ServeHTTP(w, r)
		case r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			http.Redirect(w, r, "/dashboard/", http.StatusFound)
		case r.URL.Path == "/dashboard" || strings.HasPrefix(r.URL.Path, "/dashboard/"):
			a.Web.ServeHTTP(w, r)
		default:
			a.API.ServeHTTP(w, r)
		}
	})
}

// HTTPAddr is the bound HTTP address (useful with :0).
func (a *App) HTTPAddr() string { return a.httpLn.Addr().String() }

// Stop drains and closes everything in reverse start order.
func (a *App) Stop(ctx context.Context) error {
	var errs []error
	if a.API != nil {
		a.API.SetReady(false)
	}
	if a.Inbound != nil {
		errs = append(errs, a.stopSMTP(ctx))
	}
	if a.httpSrv != nil {
		if err := a.httpSrv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
	}
	if a.Tracking != nil && a.workersStarted {
		if err := a.Tracking.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("tracking: %w", err))
		}
	}
	if err := a.janitor.Stop(ctx, func(ctx context.Context) error {
		close(a.janitorStop)
		defer a.janitorCancel()
		return startstop.WaitOrCut(ctx, func() { <-a.janitorDone }, a.janitorCancel)
	}); err != nil {
		errs = append(errs, fmt.Errorf("janitor: %w", err))
	}
	if a.Exports != nil && a.workersStarted {
		if err := a.Exports.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if a.Importer != nil && a.workersStarted {
		if err := a.Importer.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("imports: %w", err))
		}
	}
	if a.Delivery != nil && a.workersStarted {
		if err := a.Delivery.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("delivery: %w", err))
		}
	}
	if a.TLSPolicy != nil {
		a.TLSPolicy.Stop()
	}
	if a.Lists != nil {
		a.Lists.Close() // background list uploads stop between chunks
	}
	if a.Webhooks != nil && a.workersStarted {
		if err := a.Webhooks.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("webhooks: %w", err))
		}
	}
	errs = append(errs, a.closeStores())
	a.Log.Info("salvo stopped")
	return errors.Join(errs...)
}

// startJanitor purges expired messages, events and idempotency records,
// and compacts stats counters, every minute.
func (a *App) startJanitor() {
	if !a.janitor.StartInit() {
		return
	}
	a.janitorStop, a.janitorDone = make(chan struct{}), make(chan struct{})
	a.janitorCtx, a.janitorCancel = context.WithCancel(context.Background())
	a.Metrics.Go(a.Log, "janitor", func() {
		defer close(a.janitorDone)
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			now := a.seams.Now()
			n, err := a.Regional.Purge(a.janitorCtx, now, now.Add(-a.Cfg.EventRetention))
			if err != nil {
				a.Log.Error("purge", "err", err)
			} else if n > 0 {
				a.Log.Info("purged expired messages", "count", n)
			}
			// Fold the stats counters' shards of past hours and days.
			if err := a.Regional.CompactStats(a.janitorCtx, now); err != nil {
				a.Log.Error("compact stats", "err", err)
			}
			a.reportUsage()
			select {
			case <-a.janitorStop:
				a.reportUsage() // the last counts before stopping
				return
			case <-t.C:
			}
		}
	})
}

// reportUsage copies this region's monthly totals to the global store.
func (a *App) reportUsage() {
	if err := a.Usage.Report(context.Background()); err != nil {
		a.Log.Error("report usage", "err", err)
	}
}

func (a *App) closeStores() error {
	var errs []error
	if a.Regional != nil {
		errs = append(errs, a.Regional.Close())
	}
	if a.Global != nil {
		errs = append(errs, a.Global.Close())
	}
	return errors.Join(errs...)
}
