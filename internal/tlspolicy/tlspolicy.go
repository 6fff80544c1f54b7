// Package tlspolicy decides which TLS guarantees a delivery to a
// destination needs: MTA-STS (RFC 8461) and DANE for SMTP (RFC 7672).
//
// The delivery engine asks a Checker for the MTA-STS policy of a
// destination domain once per attempt (STS) and, for each MX host it is
// about to try, for that host's Requirement (ForHost). Dial code then
// checks the STARTTLS session against it (Requirement.Check).
//
// Invariants and failure rules:
//   - DANE applies to an MX host when the MX RRset and the host's TLSA
//     RRset at _25._tcp.<host> both came with the AD bit from --dns. It
//     takes precedence over MTA-STS for that host (RFC 8461 §2). With
//     usable records (DANE-TA, DANE-EE) the certificate must match them;
//     with only unusable ones TLS is still required but unauthenticated
//     (RFC 7672 §2.2). A failed TLSA lookup for a host whose MX RRset is
//     secure makes that host unusable (RFC 7672 §2.2: never fall back to
//     clear text then).
//   - MTA-STS "enforce": only MX hosts the policy names, with STARTTLS
//     and a certificate valid for the MX name (PKIX, the node's roots).
//     "testing": the same checks, but failures are only reported.
//     "none" or no policy: nothing.
//   - Policies fail open, as RFC 8461 §5 asks: a domain whose TXT record
//     or policy cannot be had has no policy unless a cached one is still
//     within its max_age.
//   - A violation is always a temporary failure (Violation); nothing is
//     ever sent in clear to a host that requires TLS.
//
// Policies are cached in memory per node, by domain, for their max_age
// and refetched when the TXT record's id changes (checked at most every
// Recheck per domain) or when half of max_age has passed; Start runs that
// refresh in the background for domains with a policy.
package tlspolicy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/salvo-email/salvo/internal/dns"
)

// Names of the policy that applied to a session, as shown in events'
// delivery-status "tls-policy".
const (
	NameDANE          = "dane"
	NameMTASTSEnforce = "mta-sts enforce"
	NameMTASTSTesting = "mta-sts testing"
)

// Violation is a host or session that does not meet its policy: a
// temporary failure, with an enhanced status code (RFC 3463: 4.7.10
// encryption needed, 4.7.5 cryptographic failure).
type Violation struct {
	Policy   string
	Enhanced string
	Msg      string
}

func (v *Violation) Error() string { return v.Msg }

// Requirement is what one MX host's session must meet.
type Requirement struct {
	// Policy is the policy that applies: NameDANE, NameMTASTSEnforce,
	// NameMTASTSTesting or "" (opportunistic TLS).
	Policy string
	// Enforce: a failure refuses the host; otherwise it is only reported.
	Enforce bool
	// Refused is set when the host may not be used at all (MTA-STS
	// enforce: not in the policy; DANE: its TLSA lookup failed). In
	// testing mode it is a report instead.
	Refused *Violation
	// TLSA are the usable DANE records (DANE with none: TLS required,
	// the certificate unauthenticated).
	TLSA []*mdns.TLSA
	// Domain is the destination (a DANE-TA reference identity).
	Domain string
}

// RequiresTLS reports whether the host must not be used in clear text.
func (r Requirement) RequiresTLS() bool { return r.Enforce }

// NoTLS is the violation of a host that does not offer STARTTLS (or whose
// handshake failed).
func (r Requirement) NoTLS(host string, cause error) *Violation {
	msg := fmt.Sprintf("TLS is required by %s but %s does not offer STARTTLS", r.describe(), host)
	if cause != nil {
		msg = fmt.Sprintf("TLS is required by %s but STARTTLS with %s failed: %v", r.describe(), host, cause)
	}
	return &Violation{Policy: r.Policy, Enhanced: "4.7.10", Msg: msg}
}

func (r Requirement) describe() string {
	switch r.Policy {
	case NameDANE:
		return "DANE"
	case NameMTASTSEnforce, NameMTASTSTesting:
		return "the MTA-STS policy of " + r.Domain
	}
	return "policy"
}

// Check checks a TLS session with host against the requirement. pkix is
// whether the certificate verified against the node's roots for host.
// It returns whether the certificate counts as verified (DANE
// authentication counts) and the violation, if any (reported, not
// enforced, in testing mode).
func (r Requirement) Check(cs tls.ConnectionState, host string, pkix bool, now time.Time) (bool, *Violation) {
	switch r.Policy {
	case NameDANE:
		if len(r.TLSA) == 0 {
			return pkix, nil // RFC 7672 §2.2: TLS required, not authenticated
		}
		if err := VerifyDANE(cs.PeerCertificates, r.TLSA, []string{host, r.Domain}, now); err != nil {
			return false, &Violation{Policy: r.Policy, Enhanced: "4.7.5", Msg: fmt.Sprintf("DANE: %s of %s", err.Error(), host)}
		}
		return true, nil
	case NameMTASTSEnforce, NameMTASTSTesting:
		if !pkix {
			return false, &Violation{Policy: r.Policy, Enhanced: "4.7.5",
				Msg: fmt.Sprintf("the MTA-STS policy of %s requires a valid certificate but that of %s could not be verified", r.Domain, host)}
		}
	}
	return pkix, nil
}

// Config tunes a Checker.
type Config struct {
	// MTASTS and DANE switch each policy on.
	MTASTS, DANE bool
	// FetchTimeout bounds a policy fetch (default 20 s).
	FetchTimeout time.Duration
	// Recheck is how often a domain's TXT record is looked up again
	// (default 1 hour; RFC 8461 §10.1 suggests daily at least).
	Recheck time.Duration
	// MaxEntries bounds the cache (default 100000 domains); past it,
	// domains without a policy are not remembered.
	MaxEntries int
}

// Deps are a Checker's collaborators; each is a seam for tests.
type Deps struct {
	Resolver dns.Resolver
	// RootCAs verifies policy servers' certificates (nil: system pool).
	RootCAs *x509.CertPool
	// Dial opens the TCP connection to a policy server at an address the
	// Resolver gave (nil: net.Dialer).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	Now  func() time.Time
	Log  *slog.Logger
}

// Checker answers policy questions; it is safe for concurrent use.
type Checker struct {
	cfg   Config
	deps  Deps
	cache cache
	stop  chan struct{}
	done  chan struct{}
	// started and stopOnce make Start and Stop safe in any order.
	started  atomic.Bool
	stopOnce sync.Once
}

// New makes a Checker; Start runs its background refresh.
func New(cfg Config, deps Deps) *Checker {
	if cfg.FetchTimeout == 0 {
		cfg.FetchTimeout = 20 * time.Second
	}
	if cfg.Recheck == 0 {
		cfg.Recheck = time.Hour
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = 100000
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.Dial == nil {
		deps.Dial = (&net.Dialer{Timeout: cfg.FetchTimeout}).DialContext
	}
	if deps.Resolver == nil {
		deps.Resolver = dns.New("")
	}
	return &Checker{cfg: cfg, deps: deps, cache: cache{entries: map[string]*entry{}, inflight: map[string]chan struct{}{}},
		stop: make(chan struct{}), done: make(chan struct{})}
}

// LookupMX looks domain's MX records up, saying whether the answer was
// DNSSEC-validated (only with DANE on and a resolver that tells).
func (c *Checker) LookupMX(ctx context.Context, domain string) ([]*net.MX, bool, error) {
	if sec, ok := c.deps.Resolver.(dns.DNSSEC); ok && c.cfg.DANE {
		return sec.LookupMXSecure(ctx, domain)
	}
	mx, err := c.deps.Resolver.LookupMX(ctx, domain)
	return mx, false, err
}

// ForHost is the requirement of MX host of domain. sts is the domain's
// MTA-STS policy (nil: none); mxSecure whether its MX RRset was
// DNSSEC-validated.
func (c *Checker) ForHost(ctx context.Context, domain string, sts *Policy, mxSecure bool, host string) Requirement {
	if sec, ok := c.deps.Resolver.(dns.DNSSEC); ok && c.cfg.DANE && mxSecure {
		rrs, secure, err := sec.LookupTLSA(ctx, "_25._tcp."+host)
		switch {
		case err == nil && secure:
			return Requirement{Policy: NameDANE, Enforce: true, TLSA: Usable(rrs), Domain: domain}
		case err != nil && !errors.Is(err, dns.ErrNoRecords):
			// RFC 7672 §2.2: a secure MX host whose TLSA lookup fails
			// (SERVFAIL, timeout) must not be used, in clear or not.
			return Requirement{Policy: NameDANE, Enforce: true, Domain: domain,
				Refused: &Violation{Policy: NameDANE, Enhanced: "4.7.5", Msg: fmt.Sprintf("DANE: the TLSA lookup for %s failed: %v", host, err)}}
		}
	}
	if sts == nil || sts.Mode == ModeNone {
		return Requirement{}
	}
	r := Requirement{Policy: NameMTASTSTesting, Domain: domain}
	if sts.Mode == ModeEnforce {
		r.Policy, r.Enforce = NameMTASTSEnforce, true
	}
	if !sts.Matches(host) {
		r.Refused = &Violation{Policy: r.Policy, Enhanced: "4.7.5",
			Msg: fmt.Sprintf("the MTA-STS policy of %s does not list MX host %s", domain, host)}
	}
	return r
}
