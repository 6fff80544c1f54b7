// Package dns is the lookup seam used by delivery (MX, A/AAAA) and domain
// verification (TXT, CNAME, MX).
//
// A Resolver either asks one configured server (SALVO_DNS; tests run their
// own with miekg/dns) or the system resolver. Lookups tell "this name has no
// such record" (ErrNoRecords: NXDOMAIN or an empty answer) apart from "the
// lookup failed" (any other error, which callers treat as temporary, as RFC
// 5321 §5.1 asks for MX lookups).
package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// ErrNoRecords means the name does not exist or has no record of the type.
var ErrNoRecords = errors.New("dns: no such record")

// DNSSEC is implemented by resolvers that report whether an answer was
// validated: the AD (authenticated data) bit of the configured server's
// reply (RFC 4035 §3.2.3, asked for with AD set in the query, RFC 6840
// §5.7). Only the client for --dns implements it; the AD bit is trusted
// as sent, so --dns must be a validating resolver reached over a trusted
// path (loopback or a private network), as RFC 7672 §1.3 assumes. Secure
// is false for the empty answers that come with ErrNoRecords too.
type DNSSEC interface {
	LookupMXSecure(ctx context.Context, name string) (mx []*net.MX, secure bool, err error)
	LookupTLSA(ctx context.Context, name string) (rrs []*mdns.TLSA, secure bool, err error)
}

// Resolver looks names up.
type Resolver interface {
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupCNAME(ctx context.Context, name string) (string, error)
	LookupIP(ctx context.Context, name string) ([]net.IP, error)
}

// New returns a Resolver that asks server (host:port), or the system
// resolver when server is empty.
func New(server string) Resolver {
	if server == "" {
		return system{r: net.DefaultResolver}
	}
	return &client{server: server, timeout: 5 * time.Second}
}

type system struct{ r *net.Resolver }

func sysErr(err error) error {
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return fmt.Errorf("%w: %v", ErrNoRecords, err)
	}
	return err
}

func (s system) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	mx, err := s.r.LookupMX(ctx, name)
	if len(mx) == 0 && err == nil {
		return nil, ErrNoRecords
	}
	return mx, sysErr(err)
}

func (s system) LookupTXT(ctx context.Context, name string) ([]string, error) {
	txt, err := s.r.LookupTXT(ctx, name)
	return txt, sysErr(err)
}

func (s system) LookupCNAME(ctx context.Context, name string) (string, error) {
	c, err := s.r.LookupCNAME(ctx, name)
	if err != nil {
		return "", sysErr(err)
	}
	c = strings.TrimSuffix(c, ".")
	if strings.EqualFold(c, strings.TrimSuffix(name, ".")) {
		return "", ErrNoRecords // the system resolver answers the name itself when there is no CNAME
	}
	return c, nil
}

func (s system) LookupIP(ctx context.Context, name string) ([]net.IP, error) {
	ips, err := s.r.LookupIP(ctx, "ip", name)
	return ips, sysErr(err)
}

// client asks one DNS server directly.
type client struct {
	server  string
	timeout time.Duration
}

func (c *client) exchange(ctx context.Context, name string, qtype uint16) ([]mdns.RR, error) {
	rrs, _, err := c.exchangeAD(ctx, name, qtype)
	return rrs, err
}

// exchangeAD asks for name's records of qtype and reports the reply's AD
// bit with them.
func (c *client) exchangeAD(ctx context.Context, name string, qtype uint16) ([]mdns.RR, bool, error) {
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), qtype)
	m.RecursionDesired = true
	m.AuthenticatedData = true // ask a validating resolver for the AD bit
	cl := &mdns.Client{Net: "udp", Timeout: c.timeout}
	in, _, err := cl.ExchangeContext(ctx, m, c.server)
	if err == nil && in.Truncated {
		cl.Net = "tcp"
		in, _, err = cl.ExchangeContext(ctx, m, c.server)
	}
	if err != nil {
		return nil, false, fmt.Errorf("dns %s %s: %w", mdns.TypeToString[qtype], name, err)
	}
	switch in.Rcode {
	case mdns.RcodeSuccess:
	case mdns.RcodeNameError:
		return nil, false, fmt.Errorf("%w: %s %s: NXDOMAIN", ErrNoRecords, mdns.TypeToString[qtype], name)
	default:
		return nil, false, fmt.Errorf("dns %s %s: %s", mdns.TypeToString[qtype], name, mdns.RcodeToString[in.Rcode])
	}
	var out []mdns.RR
	for _, rr := range in.Answer {
		if rr.Header().Rrtype == qtype {
			out = append(out, rr)
		}
	}
	if len(out) == 0 {
		return nil, false, fmt.Errorf("%w: %s %s", ErrNoRecords, mdns.TypeToString[qtype], name)
	}
	return out, in.AuthenticatedData, nil
}

func (c *client) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	rrs, err := c.exchange(ctx, name, mdns.TypeMX)
	if err != nil {
		return nil, err
	}
	out := make([]*net.MX, 0, len(rrs))
	for _, rr := range rrs {
		mx := rr.(*mdns.MX)
		out = append(out, &net.MX{Host: mx.Mx, Pref: mx.Preference})
	}
	return out, nil
}

// LookupMXSecure is LookupMX with the reply's AD bit.
func (c *client) LookupMXSecure(ctx context.Context, name string) ([]*net.MX, bool, error) {
	rrs, ad, err := c.exchangeAD(ctx, name, mdns.TypeMX)
	if err != nil {
		return nil, false, err
	}
	out := make([]*net.MX, 0, len(rrs))
	for _, rr := range rrs {
		mx := rr.(*mdns.MX)
		out = append(out, &net.MX{Host: mx.Mx, Pref: mx.Preference})
	}
	return out, ad, nil
}

// LookupTLSA returns name's TLSA records (RFC 6698 §2) and the reply's AD bit.
func (c *client) LookupTLSA(ctx context.Context, name string) ([]*mdns.TLSA, bool, error) {
	rrs, ad, err := c.exchangeAD(ctx, name, mdns.TypeTLSA)
	if err != nil {
		return nil, false, err
	}
	out := make([]*mdns.TLSA, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, rr.(*mdns.TLSA))
	}
	return out, ad, nil
}

func (c *client) LookupTXT(ctx context.Context, name string) ([]string, error) {
	rrs, err := c.exchange(ctx, name, mdns.TypeTXT)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, strings.Join(rr.(*mdns.TXT).Txt, ""))
	}
	return out, nil
}

func (c *client) LookupCNAME(ctx context.Context, name string) (string, error) {
	rrs, err := c.exchange(ctx, name, mdns.TypeCNAME)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(rrs[0].(*mdns.CNAME).Target, "."), nil
}

func (c *client) LookupIP(ctx context.Context, name string) ([]net.IP, error) {
	var out []net.IP
	var errs []error
	for _, t := range []uint16{mdns.TypeA, mdns.TypeAAAA} {
		rrs, err := c.exchange(ctx, name, t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, rr := range rrs {
			switch v := rr.(type) {
			case *mdns.A:
				out = append(out, v.A)
			case *mdns.AAAA:
				out = append(out, v.AAAA)
			}
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	if len(errs) == 2 && errors.Is(errs[0], ErrNoRecords) && errors.Is(errs[1], ErrNoRecords) {
		return nil, errs[0]
	}
	return nil, errors.Join(errs...)
}
