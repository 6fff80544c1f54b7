package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/salvo-email/salvo/internal/verp"
	"net/http"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/inbound"
	"github.com/salvo-email/salvo/internal/smtp"
	"github.com/salvo-email/salvo/internal/submission"
	"github.com/salvo-email/salvo/internal/webhooks"
)

// newSMTP builds the SMTP services: SMTP credentials (used by the API and
// the relay), the submission relay and the inbound MX with its route
// workers. Nothing listens until startSMTP.
func (a *App) newSMTP() {
	cfg, sc := a.Cfg, a.Cfg.SMTP
	a.Credentials = &auth.Credentials{Store: a.Regional, Now: a.seams.Now, BcryptCost: a.seams.BcryptCost}
	a.Relay = submission.New(submission.Config{
		InsecureAuthLoopback: sc.InsecureAuthLoopback, RatePerConnection: sc.RatePerConnection,
		RatePerCredential: sc.RatePerCredential, AuthFailureDelay: sc.AuthFailureDelay, MaxRecipients: cfg.MaxRecipients,
	}, submission.Deps{
		Credentials: a.Credentials, Domains: a.Regional, Send: a.Send, Now: a.seams.Now, Log: a.Log.With("part", "submission"),
		Throttle:    &auth.LoginThrottle{Free: cfg.LoginFailureLimit, Now: a.seams.Now},
		Subaccounts: a.Global,
	})
	a.Inbound = inbound.New(inbound.Config{
		Hostname: cfg.Hostname, Workers: sc.InboundWorkers, Lease: cfg.Lease, ForwardTimeout: sc.ForwardTimeout,
		Retention: cfg.Retention, Schedule: webhooks.Schedule, MaxAge: webhooks.MaxAge,
	}, inbound.Deps{
		Store: a.Regional, Send: a.Send, Keys: a.Keys, Resolver: a.seams.Resolver, Now: a.seams.Now,
		Log: a.Log.With("part", "inbound"), Metrics: a.Metrics, Unsubscribes: a.Tracking, HTTP: a.routeHTTP(),
		Bounces: verp.New(a.Box.Derive(verp.KeyPurpose)), Subaccounts: a.Global,
	})
}

// startSMTP binds the configured SMTP listeners (an empty address turns
// one off) and starts the route workers.
func (a *App) startSMTP() error {
	sc := a.Cfg.SMTP
	a.Inbound.PublicURL = a.Cfg.PublicURL
	a.Inbound.Start()
	a.inboundStarted = true
	if sc.SubmissionAddr == "" && sc.SubmissionTLSAddr == "" && sc.MXAddr == "" {
		return nil
	}
	if sc.TLSCert == "" {
		if err := a.Cfg.EnsureDataDir(); err != nil {
			return err
		}
	}
	tlsCfg, err := smtp.LoadTLS(sc.TLSCert, sc.TLSKey, a.Cfg.DataDir, a.Cfg.Hostname, a.Box)
	if err != nil {
		return fmt.Errorf("--tls-cert (SALVO_TLS_CERT): %w", err)
	}
	size := int64(a.Cfg.MaxMessageBytes)
	for _, l := range []struct {
		flag, env, name, addr string
		implicit              bool
		backend               smtp.Backend
		dst                   **smtp.Server
	}{
		{"smtp-addr", "SALVO_SMTP_ADDR", "submission", sc.SubmissionAddr, false, a.Relay, &a.submissionSrv},
		{"smtps-addr", "SALVO_SMTPS_ADDR", "submission-tls", sc.SubmissionTLSAddr, true, a.Relay, &a.submissionTLSSrv},
		{"mx-addr", "SALVO_MX_ADDR", "mx", sc.MXAddr, false, a.Inbound, &a.mxSrv},
	} {
		if l.addr == "" {
			continue
		}
		srv, err := smtp.Listen(smtp.Config{Name: l.name, Addr: l.addr, TLS: tlsCfg.Clone(), ImplicitTLS: l.implicit,
			Hostname: a.Cfg.Hostname, MaxMessageBytes: size, MaxConnections: sc.MaxConnections,
			MaxConnectionsPerClient: sc.MaxConnectionsPerClient, SMTPUTF8: true,
			AllowInsecureAuth: l.backend == a.Relay && sc.InsecureAuthLoopback}, l.backend, a.Log, a.Metrics)
		if err != nil {
			return fmt.Errorf("--%s (%s) %s: %w", l.flag, l.env, l.addr, err)
		}
		*l.dst = srv
		a.Egress.DenyOwn(addrOrEmpty(srv))
		srv.Start()
	}
	a.Log.Info("smtp listening", "submission", addrOf(a.submissionSrv), "submission_tls", addrOf(a.submissionTLSSrv),
		"mx", addrOf(a.mxSrv))
	return nil
}

func addrOf(s *smtp.Server) string {
	if s == nil {
		return "off"
	}
	return addrOrEmpty(s)
}

// stopSMTP stops accepting SMTP, lets sessions finish within ctx, then
// stops the route workers.
func (a *App) stopSMTP(ctx context.Context) error {
	var errs []error
	for _, s := range []*smtp.Server{a.submissionSrv, a.submissionTLSSrv, a.mxSrv} {
		if s != nil {
			if err := s.Stop(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				errs = append(errs, fmt.Errorf("smtp: %w", err))
			}
		}
	}
	if a.inboundStarted {
		errs = append(errs, a.Inbound.Stop(ctx))
	}
	return errors.Join(errs...)
}

// SubmissionAddr, SubmissionTLSAddr and MXAddr are the bound SMTP
// addresses ("" when the listener is off).
func (a *App) SubmissionAddr() string    { return addrOrEmpty(a.submissionSrv) }
func (a *App) SubmissionTLSAddr() string { return addrOrEmpty(a.submissionTLSSrv) }
func (a *App) MXAddr() string            { return addrOrEmpty(a.mxSrv) }

func addrOrEmpty(s *smtp.Server) string {
	if s == nil {
		return ""
	}
	return s.Addr()
}

// routeHTTP is the client of route POSTs: the seam's, else one that
// follows the egress policy.
func (a *App) routeHTTP() *http.Client {
	if a.seams.RouteHTTP != nil {
		return a.seams.RouteHTTP
	}
	return a.Egress.Client(a.Cfg.SMTP.ForwardTimeout)
}
