// Package egress decides which addresses Salvo's own outbound HTTP may
// reach: webhook POSTs, route forward() and store(notify=) POSTs. Those
// URLs are chosen by API users, so without a rule they could point Salvo
// at its own listeners, its database or a cloud metadata service
// (169.254.169.254) and read the answers back through the attempts API
// (server-side request forgery).
//
// Self-hosters legitimately post to their private network, so private
// ranges stay allowed by default. Denied by default: link-local addresses
// (169.254.0.0/16, fe80::/10: cloud metadata) and this node's own
// listeners and database addresses (host and port). An operator adds
// ranges with --outbound-deny and punches holes with --outbound-allow
// (allow wins). The check runs at dial time on the resolved address
// (Control of net.Dialer), so a host name that resolves to a denied
// address — or changes to one later (DNS rebinding) — is refused too; a
// URL whose host is a denied literal address is refused when it is saved.
package egress

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultDeny is denied unless the operator says otherwise.
const DefaultDeny = "169.254.0.0/16,fe80::/10"

// ErrDenied is the error of a refused destination.
var ErrDenied = errors.New("destination address not allowed (--outbound-deny)")

// Policy is one node's rule.
type Policy struct {
	deny, allow []netip.Prefix
	mu          sync.RWMutex // guards own and ownPorts (listeners bind after New)
	// own are this node's listeners and databases; ownPorts are ports of
	// listeners bound to every address (any local address with that port).
	own      map[netip.AddrPort]bool
	ownPorts map[uint16]bool
	local    []netip.Prefix
}

// New parses comma-separated CIDRs or addresses.
func New(deny, allow string) (*Policy, error) {
	p := &Policy{own: map[netip.AddrPort]bool{}, ownPorts: map[uint16]bool{}}
	var err error
	if p.deny, err = prefixes(deny); err != nil {
		return nil, fmt.Errorf("outbound-deny: %w", err)
	}
	if p.allow, err = prefixes(allow); err != nil {
		return nil, fmt.Errorf("outbound-allow: %w", err)
	}
	p.local = localPrefixes()
	return p, nil
}

func prefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("%q is neither a CIDR nor an address", s)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		pf, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR: %w", s, err)
		}
		out = append(out, pf.Masked())
	}
	return out, nil
}

// localPrefixes are loopback and this machine's interface addresses.
func localPrefixes() []netip.Prefix {
	out := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				ip = ip.Unmap()
				out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
			}
		}
	}
	return out
}

// DenyOwn denies a listener or database address of this node ("host:port";
// an empty or unspecified host means every local address).
func (p *Policy) DenyOwn(hostport string) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return
	}
	var pn uint16
	if _, err := fmt.Sscan(port, &pn); err != nil || pn == 0 {
		return
	}
	a, err := netip.ParseAddr(host)
	p.mu.Lock()
	defer p.mu.Unlock()
	if host == "" || (err == nil && a.IsUnspecified()) {
		p.ownPorts[pn] = true
		return
	}
	if err != nil {
		// A host name (a database URL's): its addresses now.
		ips, _ := net.LookupIP(host)
		for _, ip := range ips {
			if a, ok := netip.AddrFromSlice(ip); ok {
				p.own[netip.AddrPortFrom(a.Unmap(), pn)] = true
			}
		}
		return
	}
	p.own[netip.AddrPortFrom(a.Unmap(), pn)] = true
}

// Check says whether a connection to ip:port is allowed.
func (p *Policy) Check(ip netip.Addr, port uint16) error {
	ip = ip.Unmap()
	for _, pf := range p.allow {
		if pf.Contains(ip) {
			return nil
		}
	}
	p.mu.RLock()
	own := p.own[netip.AddrPortFrom(ip, port)] || (p.ownPorts[port] && p.isLocal(ip))
	p.mu.RUnlock()
	if own {
		return fmt.Errorf("%w: %s is this node's own listener or database", ErrDenied, netip.AddrPortFrom(ip, port))
	}
	for _, pf := range p.deny {
		if pf.Contains(ip) {
			return fmt.Errorf("%w: %s is in %s", ErrDenied, ip, pf)
		}
	}
	return nil
}

func (p *Policy) isLocal(ip netip.Addr) bool {
	for _, pf := range p.local {
		if pf.Contains(ip) {
			return true
		}
	}
	return ip.IsUnspecified()
}

// Control checks the address a dialer is about to connect to (after
// name resolution): net.Dialer.Control.
func (p *Policy) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrDenied, address)
	}
	return p.Check(ap.Addr(), ap.Port())
}

// CheckURL refuses, when it is saved, a URL whose host is a literal
// address the policy denies (names are checked when dialled).
func (p *Policy) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return nil // the caller's own validation says what is wrong
	}
	a, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]"))
	if err != nil {
		return nil
	}
	port := uint16(80)
	if strings.EqualFold(u.Scheme, "https") {
		port = 443
	}
	if ps := u.Port(); ps != "" {
		_, _ = fmt.Sscan(ps, &port)
	}
	return p.Check(a, port)
}

// Client is an HTTP client whose connections follow the policy and that
// does not follow redirects (a redirect is the receiver's answer).
func (p *Policy) Client(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: p.Control}
	t.DialContext = d.DialContext
	t.Proxy = nil // a proxy would dial for us, past the check
	t.MaxIdleConnsPerHost = 16
	return &http.Client{Transport: t, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
