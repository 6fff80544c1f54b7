package bench

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/salvo-email/salvo/internal/app"
	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/domains"
)

// SMTP benchmarks (modes "mx" and "relay"): concurrent SMTP sessions, each
// sending PerConnection messages of about Size bytes per connection (1 is
// what Postfix's smtp-source does by default), against Target or, when
// Target is empty, against an in-process node started here. An "mx" run
// sends to the node's inbound MX (accepted = durably queued for routes);
// a "relay" run authenticates over STARTTLS and submits with
// X-Mailgun-Drop-Message, so the figure is the submission path's (durable
// accept; delivery is test mode, no outbound network). The in-process node
// points DNS at a closed port so SPF/DKIM checks fail fast instead of
// reaching the network.

// benchDomain is the domain the in-process node serves.
const benchDomain = "bench.example.com"

// runSMTP runs an "mx" or "relay" benchmark.
func runSMTP(ctx context.Context, o Options) (Result, error) {
	if o.Target == "" {
		stop, err := startSMTPNode(ctx, &o)
		if err != nil {
			return Result{}, err
		}
		defer stop()
	}
	res := loadSMTP(o)
	if o.drained != nil {
		res.Drained = o.drained(5 * time.Minute)
	}
	return res, nil
}

// startSMTPNode starts a node with its SMTP listeners on free ports and
// fills o's target, addresses and credentials.
func startSMTPNode(ctx context.Context, o *Options) (func(), error) {
	cfg := config.Default()
	cfg.DataDir, cfg.HTTPAddr, cfg.APIKey = o.DataDir, "127.0.0.1:0", "bench-key-0123456789abcdef"
	cfg.LogLevel, cfg.DKIMKeyBits, cfg.DNS = "error", o.DKIMBits, "127.0.0.1:9"
	cfg.DatabaseURL, cfg.GlobalDatabaseURL = o.DatabaseURL, o.GlobalDatabaseURL
	cfg.SMTP.SubmissionAddr, cfg.SMTP.SubmissionTLSAddr, cfg.SMTP.MXAddr = "127.0.0.1:0", "", "127.0.0.1:0"
	cfg.SMTP.RatePerConnection, cfg.SMTP.RatePerCredential = 0, 0
	cfg.SMTP.MaxConnectionsPerClient = 0 // every session comes from 127.0.0.1
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	a, err := app.New(ctx, cfg, log, app.Seams{Stderr: io.Discard})
	if err != nil {
		return nil, err
	}
	if err := a.Start(ctx); err != nil {
		_ = a.Stop(context.Background())
		return nil, err
	}
	stop := func() { _ = a.Stop(context.Background()) }
	if _, err := a.Domains.Create(ctx, domains.CreateRequest{Name: benchDomain}); err != nil {
		stop()
		return nil, err
	}
	o.Login, o.Password = "bench@"+benchDomain, "bench-password"
	if _, _, err := a.Credentials.Create(ctx, benchDomain, []string{o.Login}, o.Password); err != nil {
		stop()
		return nil, err
	}
	o.From = "bench@" + benchDomain
	if o.Mode == "mx" {
		o.Target, o.To = a.MXAddr(), "user@"+benchDomain
		o.drained = func(limit time.Duration) time.Duration { return waitDrained(a, limit) }
	} else {
		o.Target, o.To, o.StartTLS = a.SubmissionAddr(), "user@dest.example.net", true
	}
	return stop, nil
}

// waitDrained waits until the inbound queue is empty and says how long
// that took from now.
func waitDrained(a *app.App, limit time.Duration) time.Duration {
	start := time.Now()
	for time.Since(start) < limit {
		next, err := a.Regional.NextInboundDue(context.Background())
		if err == nil && next.IsZero() {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return -1
}

// loadSMTP runs o.Concurrency sessions for o.Duration.
func loadSMTP(o Options) Result {
	raw := smtpMessage(o)
	return drive(o, func() (int, []time.Duration, error) { return smtpSession(o, raw) })
}

// smtpSession opens one connection and sends up to PerConnection
// messages; each latency runs from the start of its transaction (the
// first includes the connection, greeting, EHLO and AUTH).
func smtpSession(o Options, raw []byte) (int, []time.Duration, error) {
	t0 := time.Now()
	var c *smtp.Client
	var err error
	if o.StartTLS {
		c, err = smtp.DialStartTLS(o.Target, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // a self-signed server
	} else if c, err = smtp.Dial(o.Target); err == nil {
		err = c.Hello("bench.client")
	}
	if c != nil {
		defer c.Close()
	}
	if err != nil {
		return 0, nil, err
	}
	if o.Login != "" && o.Mode == "relay" {
		if err := c.Auth(sasl.NewPlainClient("", o.Login, o.Password)); err != nil {
			return 0, nil, err
		}
	}
	var lat []time.Duration
	for n := 0; n < max(1, o.PerConnection); n++ {
		if err := c.SendMail(o.From, []string{o.To}, strings.NewReader(string(raw))); err != nil {
			return n, lat, err
		}
		lat = append(lat, time.Since(t0))
		t0 = time.Now()
	}
	_ = c.Quit()
	return len(lat), lat, nil
}

// smtpMessage is a message of about o.Size bytes.
func smtpMessage(o Options) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Bench <%s>\r\nTo: <%s>\r\nSubject: Benchmark message\r\nMessage-ID: <%d@bench.client>\r\n",
		o.From, o.To, time.Now().UnixNano())
	if o.Mode == "relay" {
		b.WriteString("X-Mailgun-Drop-Message: yes\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	line := "The quick brown fox jumps over the lazy dog. 0123456789\r\n"
	for b.Len() < o.Size {
		b.WriteString(line)
	}
	return []byte(b.String())
}
