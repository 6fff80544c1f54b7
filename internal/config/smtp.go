package config

import (
	"flag"
	"fmt"
	"net"
	"strings"
	"time"
)

// SMTPSettings configure the SMTP listeners of a node: the submission relay
// ("outgoing SMTP server", STARTTLS and implicit TLS) and the inbound MX
// that runs routes. An empty address (or "off") turns a listener off.
type SMTPSettings struct {
	// SubmissionAddr is the relay with STARTTLS (Mailgun: ports 25, 587,
	// 2525); SubmissionTLSAddr the relay with implicit TLS (Mailgun: 465).
	SubmissionAddr    string
	SubmissionTLSAddr string
	// MXAddr is the inbound MX.
	MXAddr string
	// TLSCert and TLSKey are PEM files; when both are empty a self-signed
	// certificate is generated once and kept in the data dir.
	TLSCert, TLSKey string
	// InsecureAuthLoopback lets clients on 127.0.0.1/::1 authenticate
	// without TLS (development only). Elsewhere AUTH always needs TLS.
	InsecureAuthLoopback bool
	// RatePerConnection and RatePerCredential bound submitted messages per
	// second (bursts of twice that); 0 means no limit.
	RatePerConnection float64
	RatePerCredential float64
	// MaxConnections bounds open connections per listener.
	MaxConnections int
	// MaxConnectionsPerClient bounds open connections per listener from one
	// client address (an IPv6 client by its /64); 0 turns the bound off.
	MaxConnectionsPerClient int
	// AuthFailureDelay is how long a failed AUTH waits before its reply.
	AuthFailureDelay time.Duration
	// InboundWorkers run route jobs (evaluation, forward POSTs) at once.
	InboundWorkers int
	// ForwardTimeout bounds one route forward POST.
	ForwardTimeout time.Duration
}

// defaultSMTP are non-privileged loopback ports, so `salvo serve` works on
// a laptop as is; production sets :25, :587 and :465.
func defaultSMTP() SMTPSettings {
	return SMTPSettings{
		SubmissionAddr: "127.0.0.1:2587", SubmissionTLSAddr: "127.0.0.1:2465", MXAddr: "127.0.0.1:2525",
		RatePerConnection: 50, RatePerCredential: 200, MaxConnections: 1000, MaxConnectionsPerClient: 20,
		AuthFailureDelay: time.Second, InboundWorkers: 16, ForwardTimeout: 30 * time.Second,
	}
}

func registerSMTP(fs *flag.FlagSet, s *SMTPSettings) {
	fs.StringVar(&s.SubmissionAddr, "smtp-addr", s.SubmissionAddr, "SMTP submission listener with STARTTLS (the outgoing SMTP server); empty or off turns it off")
	fs.StringVar(&s.SubmissionTLSAddr, "smtps-addr", s.SubmissionTLSAddr, "SMTP submission listener with implicit TLS (like port 465); empty or off turns it off")
	fs.StringVar(&s.MXAddr, "mx-addr", s.MXAddr, "inbound SMTP listener (the MX that runs routes); empty or off turns it off")
	fs.StringVar(&s.TLSCert, "tls-cert", s.TLSCert, "PEM certificate (chain) of the SMTP listeners (default: a self-signed one kept in the data dir)")
	fs.StringVar(&s.TLSKey, "tls-key", s.TLSKey, "PEM private key of --tls-cert")
	fs.BoolVar(&s.InsecureAuthLoopback, "smtp-insecure-auth-loopback", s.InsecureAuthLoopback, "allow SMTP AUTH without TLS from 127.0.0.1 and ::1 (development only)")
	fs.Float64Var(&s.RatePerConnection, "smtp-rate-per-connection", s.RatePerConnection, "messages per second one submission connection may send (bursts of twice that); 0 for no limit")
	fs.Float64Var(&s.RatePerCredential, "smtp-rate-per-credential", s.RatePerCredential, "messages per second one SMTP credential may send over all its connections; 0 for no limit")
	fs.IntVar(&s.MaxConnections, "smtp-max-connections", s.MaxConnections, "open connections per SMTP listener before new ones get 421")
	fs.IntVar(&s.MaxConnectionsPerClient, "smtp-max-connections-per-client", s.MaxConnectionsPerClient, "open connections per SMTP listener from one client address (IPv6: its /64) before its new ones get 421; 0 for no bound")
	fs.DurationVar(&s.AuthFailureDelay, "smtp-auth-failure-delay", s.AuthFailureDelay, "how long a failed SMTP AUTH waits before its reply")
	fs.IntVar(&s.InboundWorkers, "inbound-workers", s.InboundWorkers, "route jobs (evaluation, forward POSTs, forwards) run at once")
	fs.DurationVar(&s.ForwardTimeout, "forward-timeout", s.ForwardTimeout, "timeout of one route forward POST")
}

// validate normalises the listener addresses ("off" is empty) and checks
// the rest; its errors name each setting both ways.
func (s *SMTPSettings) validate() []error {
	var errs []error
	bad := func(flagName, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s (%s): %s", flagName, EnvName(flagName), fmt.Sprintf(format, args...)))
	}
	for _, a := range []struct {
		name string
		v    *string
	}{{"smtp-addr", &s.SubmissionAddr}, {"smtps-addr", &s.SubmissionTLSAddr}, {"mx-addr", &s.MXAddr}} {
		*a.v = strings.TrimSpace(*a.v)
		if strings.EqualFold(*a.v, "off") || strings.EqualFold(*a.v, "none") {
			*a.v = ""
		}
		if *a.v == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(*a.v); err != nil {
			bad(a.name, "must be host:port such as 127.0.0.1:2525, or empty to turn the listener off (%v)", err)
		}
	}
	if (s.TLSCert == "") != (s.TLSKey == "") {
		bad("tls-cert", "--tls-cert and --tls-key go together: set both or neither")
	}
	if s.RatePerConnection < 0 {
		bad("smtp-rate-per-connection", "must not be negative")
	}
	if s.RatePerCredential < 0 {
		bad("smtp-rate-per-credential", "must not be negative")
	}
	if s.MaxConnections < 1 {
		bad("smtp-max-connections", "must be at least 1")
	}
	if s.MaxConnectionsPerClient < 0 {
		bad("smtp-max-connections-per-client", "must not be negative (0 turns the bound off)")
	}
	if s.AuthFailureDelay < 0 {
		bad("smtp-auth-failure-delay", "must not be negative")
	}
	if s.InboundWorkers < 1 {
		bad("inbound-workers", "must be at least 1")
	}
	if s.ForwardTimeout <= 0 {
		bad("forward-timeout", "must be positive, such as 30s")
	}
	return errs
}
