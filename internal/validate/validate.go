// Package validate answers Mailgun's address validation locally and
// honestly: what can be known without sending mail.
//
// An address is checked for syntax (RFC 5321/5322, RFC 6531 UTF-8 local
// parts, IDNA 2008 domains), then its domain against the shipped list of
// disposable mailbox domains (data/, with its licence), then in DNS through
// the node's resolver (--dns): MX records, a null MX (RFC 7505), or, with
// no MX, an A/AAAA record (the implicit MX of RFC 5321 §5.1). Role local
// parts (postmaster, info, …) and the mailbox provider (Gmail, Microsoft,
// Yahoo…, from the domain or its MX hosts) are recognised.
//
// What it never does: connect to the domain's MX to ask whether a mailbox
// exists (SMTP probing is unreliable, gets senders' IPs listed, and is
// what Mailgun's paid product does with data Salvo does not have). So
// "deliverable" means "this domain accepts mail"; every such answer says
// so in its reasons ("no_smtp_mailbox_probe"), and "catch_all" is never
// answered. A DNS failure (not an answer of "no such name") gives
// "unknown", never "undeliverable". Check never returns an error: every
// address gets a verdict.
package validate

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/dns"
)

// Results, risks and reasons.
const (
	Deliverable   = "deliverable"
	Undeliverable = "undeliverable"
	DoNotSend     = "do_not_send"
	Unknown       = "unknown"

	RiskLow, RiskMedium, RiskHigh, RiskUnknown = "low", "medium", "high", "unknown"

	ReasonSyntax       = "invalid_syntax"
	ReasonDisposable   = "mailbox_is_disposable_address"
	ReasonRole         = "mailbox_is_role_address"
	ReasonNoDNS        = "no_mx_or_a_records"
	ReasonNullMX       = "null_mx"
	ReasonImplicitMX   = "no_mx_implicit_a_record"
	ReasonDNSFailed    = "dns_lookup_failed"
	ReasonNoLookup     = "provider_lookup_skipped"
	ReasonNoSMTPProbe  = "no_smtp_mailbox_probe"
	defaultLookupLimit = 10 * time.Second
)

// Validator checks addresses. Its fields are read-only after construction.
type Validator struct {
	Resolver dns.Resolver
	// Disposable is the disposable-domain list; when nil, Load gives it
	// (a node loads the shipped list on the first validation, not at
	// start: it takes a third of a second).
	Disposable *Disposable
	Load       func() (*Disposable, error)
	// Timeout bounds one address's DNS lookups (default 10 s).
	Timeout time.Duration
}

// Verdict is what is known about one address.
type Verdict struct {
	Address string
	// Parts is set when the syntax is valid.
	Parts       Parts
	Valid       bool
	SyntaxError string
	Result      string
	Risk        string
	Reasons     []string
	Disposable  bool
	Role        bool
	// DidYouMean is the address with a big provider's domain when the
	// given domain is one typing slip away from it.
	DidYouMean string
	// Provider is the mailbox provider ("gmail", "microsoft", …, "").
	Provider string
}

// Check judges addr. With lookup false (Mailgun's provider_lookup=false)
// no DNS query is made, and an address that syntax and the lists do not
// settle is "unknown".
func (v *Validator) Check(ctx context.Context, addr string, lookup bool) (Verdict, error) {
	vd := Verdict{Address: addr, Reasons: []string{}}
	disposable := v.Disposable
	if disposable == nil && v.Load != nil {
		var err error
		if disposable, err = v.Load(); err != nil {
			return vd, err
		}
	}
	p, err := Parse(strings.TrimSpace(addr))
	if err != nil {
		vd.SyntaxError = err.Error()
		vd.Result, vd.Risk = Undeliverable, RiskHigh
		vd.Reasons = append(vd.Reasons, ReasonSyntax+": "+err.Error())
		return vd, nil
	}
	vd.Parts, vd.Valid = p, true
	vd.Role = IsRole(p.Local)
	vd.Disposable = disposable != nil && disposable.Has(p.ASCII)
	if s := Suggest(p.ASCII); s != "" {
		vd.DidYouMean = p.Local + "@" + s
	}
	vd.Provider = ProviderOf(p.ASCII, nil)
	if vd.Disposable {
		vd.Result, vd.Risk = DoNotSend, RiskHigh
		vd.Reasons = append(vd.Reasons, ReasonDisposable)
		return vd, nil
	}
	if vd.Role {
		vd.Reasons = append(vd.Reasons, ReasonRole)
	}
	if !lookup {
		vd.Result, vd.Risk = Unknown, RiskUnknown
		vd.Reasons = append(vd.Reasons, ReasonNoLookup)
		return vd, nil
	}
	v.lookup(ctx, &vd)
	return vd, nil
}

// lookup settles a syntactically valid, non-disposable address by DNS.
func (v *Validator) lookup(ctx context.Context, vd *Verdict) {
	timeout := v.Timeout
	if timeout <= 0 {
		timeout = defaultLookupLimit
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	domain := vd.Parts.ASCII
	mxs, err := v.Resolver.LookupMX(ctx, domain)
	var hosts []string
	for _, mx := range mxs {
		hosts = append(hosts, mx.Host)
	}
	switch {
	case err == nil && nullMX(hosts):
		vd.Result, vd.Risk = Undeliverable, RiskHigh
		vd.Reasons = append(vd.Reasons, ReasonNullMX)
		return
	case err == nil:
		vd.Provider = ProviderOf(domain, hosts)
		vd.Result, vd.Risk = Deliverable, RiskLow
	case errors.Is(err, dns.ErrNoRecords):
		ips, ierr := v.Resolver.LookupIP(ctx, domain)
		switch {
		case ierr == nil && len(ips) > 0:
			vd.Result, vd.Risk = Deliverable, RiskMedium
			vd.Reasons = append(vd.Reasons, ReasonImplicitMX)
		case ierr == nil || errors.Is(ierr, dns.ErrNoRecords):
			vd.Result, vd.Risk = Undeliverable, RiskHigh
			vd.Reasons = append(vd.Reasons, ReasonNoDNS)
			return
		default:
			vd.Result, vd.Risk = Unknown, RiskUnknown
			vd.Reasons = append(vd.Reasons, ReasonDNSFailed)
			return
		}
	default:
		vd.Result, vd.Risk = Unknown, RiskUnknown
		vd.Reasons = append(vd.Reasons, ReasonDNSFailed)
		return
	}
	if vd.Role && vd.Risk == RiskLow {
		vd.Risk = RiskMedium
	}
	vd.Reasons = append(vd.Reasons, ReasonNoSMTPProbe)
}

// nullMX is RFC 7505's "this domain accepts no mail": one MX whose host
// is the root.
func nullMX(hosts []string) bool {
	return len(hosts) == 1 && (hosts[0] == "." || hosts[0] == "")
}
