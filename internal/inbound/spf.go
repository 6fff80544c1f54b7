package inbound

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"

	"github.com/salvo-email/salvo/internal/dns"
)

// SPF results (RFC 7208 §2.6).
const (
	SPFNone      = "none"
	SPFNeutral   = "neutral"
	SPFPass      = "pass"
	SPFFail      = "fail"
	SPFSoftFail  = "softfail"
	SPFTempError = "temperror"
	SPFPermError = "permerror"
)

// checkSPF evaluates the SPF policy of the sender's domain for ip (RFC
// 7208 check_host). With a null sender the HELO name's policy is used
// (§2.4). This is a compact evaluator, honest about what it leaves out:
//   - mechanisms all, include, a, mx, ip4, ip6, exists and the redirect
//     modifier are evaluated; ptr (which RFC 7208 §5.5 says SHOULD NOT be used)
//     never matches; exp is ignored (no explanations are shown);
//   - macros (RFC 7208 §7) are expanded for s, l, o, d, i, v, h and p ("unknown"),
//     with digit and r transformers and delimiters;
//   - the limits of RFC 7208 §4.6.4 apply: 10 DNS-querying terms, 10 MX names per
//     mx, 2 void lookups;
//   - a DNS error is temperror, as the RFC asks.
func checkSPF(ctx context.Context, r dns.Resolver, ip net.IP, helo, sender string) string {
	if sender == "" {
		sender = "postmaster@" + helo
	}
	at := strings.LastIndexByte(sender, '@')
	if at < 0 || ip == nil {
		return SPFNone
	}
	if at == 0 {
		sender = "postmaster" + sender
		at = len("postmaster")
	}
	c := &spfCheck{r: r, ip: ip, sender: sender, local: sender[:at], helo: helo}
	return c.checkHost(ctx, strings.ToLower(sender[at+1:]), 0)
}

type spfCheck struct {
	r              dns.Resolver
	ip             net.IP
	sender, local  string
	helo           string
	lookups, voids int
}

var errPerm = errors.New("spf permerror")

func (c *spfCheck) checkHost(ctx context.Context, domain string, depth int) string {
	if depth > 10 {
		return SPFPermError
	}
	record, res := c.record(ctx, domain)
	if res != "" {
		return res
	}
	redirect := ""
	for _, term := range strings.Fields(record)[1:] {
		if name, value, ok := modifier(term); ok {
			if name == "redirect" {
				if redirect != "" {
					return SPFPermError
				}
				redirect = value
			}
			continue
		}
		q := byte('+')
		if strings.IndexByte("+-~?", term[0]) >= 0 {
			q, term = term[0], term[1:]
		}
		matched, res := c.mechanism(ctx, domain, term, depth)
		if res != "" {
			return res
		}
		if matched {
			return map[byte]string{'+': SPFPass, '-': SPFFail, '~': SPFSoftFail, '?': SPFNeutral}[q]
		}
	}
	if redirect == "" {
		return SPFNeutral
	}
	target, err := c.expand(redirect, domain)
	if err != nil || !c.count() {
		return SPFPermError
	}
	if res := c.checkHost(ctx, target, depth+1); res != SPFNone {
		return res
	}
	return SPFPermError
}

// record finds the domain's one "v=spf1" TXT record; res is the result
// when there is none (none), several (permerror) or no answer (temperror).
func (c *spfCheck) record(ctx context.Context, domain string) (string, string) {
	txts, err := c.r.LookupTXT(ctx, domain)
	if errors.Is(err, dns.ErrNoRecords) {
		return "", SPFNone
	} else if err != nil {
		return "", SPFTempError
	}
	var found []string
	for _, t := range txts {
		if l := strings.ToLower(t); l == "v=spf1" || strings.HasPrefix(l, "v=spf1 ") {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		return "", SPFNone
	case 1:
		return found[0], ""
	}
	return "", SPFPermError
}

// modifier splits name=value terms (mechanisms use ':' or '/' first).
func modifier(term string) (string, string, bool) {
	eq := strings.IndexByte(term, '=')
	if eq <= 0 || strings.ContainsAny(term[:eq], ":/") {
		return "", "", false
	}
	return strings.ToLower(term[:eq]), term[eq+1:], true
}

// count takes one of the 10 DNS-querying terms; false when none is left.
func (c *spfCheck) count() bool {
	c.lookups++
	return c.lookups <= 10
}

// mechanism evaluates one mechanism; res is set for errors.
func (c *spfCheck) mechanism(ctx context.Context, domain, term string, depth int) (bool, string) {
	name, arg := term, ""
	if i := strings.IndexAny(term, ":/"); i >= 0 {
		name, arg = term[:i], term[i:]
	}
	name = strings.ToLower(name)
	switch name {
	case "all":
		return arg == "", perm(arg != "")
	case "ip4", "ip6":
		return c.matchIPArg(name, arg)
	case "include", "a", "mx", "ptr", "exists":
		if !c.count() {
			return false, SPFPermError
		}
	default:
		return false, SPFPermError
	}
	target, v4, v6, err := c.targetAndCIDR(arg, domain, name == "include" || name == "exists")
	if err != nil {
		return false, SPFPermError
	}
	switch name {
	case "include":
		switch c.checkHost(ctx, target, depth+1) {
		case SPFPass:
			return true, ""
		case SPFFail, SPFSoftFail, SPFNeutral:
			return false, ""
		case SPFTempError:
			return false, SPFTempError
		}
		return false, SPFPermError
	case "a":
		return c.matchHost(ctx, target, v4, v6)
	case "mx":
		return c.matchMX(ctx, target, v4, v6)
	case "exists":
		ips, err := c.r.LookupIP(ctx, target)
		return c.lookupResult(len(ips) > 0, err)
	}
	return false, "" // ptr: never matches (see checkSPF)
}

func perm(bad bool) string {
	if bad {
		return SPFPermError
	}
	return ""
}

// targetAndCIDR reads ":domain-spec/cidr4//cidr6" (all parts optional).
func (c *spfCheck) targetAndCIDR(arg, domain string, needSpec bool) (string, int, int, error) {
	spec, v4, v6 := "", 32, 128
	if strings.HasPrefix(arg, ":") {
		spec = arg[1:]
		if i := strings.IndexByte(spec, '/'); i >= 0 {
			spec, arg = spec[:i], spec[i:]
		} else {
			arg = ""
		}
	}
	if arg != "" {
		var err error
		if v4, v6, err = dualCIDR(arg); err != nil {
			return "", 0, 0, err
		}
	}
	if spec == "" {
		if needSpec {
			return "", 0, 0, errPerm
		}
		return domain, v4, v6, nil
	}
	t, err := c.expand(spec, domain)
	return t, v4, v6, err
}

// dualCIDR parses "/n", "//m" or "/n//m".
func dualCIDR(s string) (int, int, error) {
	v4, v6 := 32, 128
	four, six, hasSix := strings.Cut(s, "//")
	if hasSix {
		n, err := strconv.Atoi(six)
		if err != nil || n < 0 || n > 128 {
			return 0, 0, errPerm
		}
		v6 = n
	}
	if four != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(four, "/"))
		if !strings.HasPrefix(four, "/") || err != nil || n < 0 || n > 32 {
			return 0, 0, errPerm
		}
		v4 = n
	}
	return v4, v6, nil
}

func (c *spfCheck) matchIPArg(name, arg string) (bool, string) {
	if !strings.HasPrefix(arg, ":") {
		return false, SPFPermError
	}
	s := arg[1:]
	if !strings.Contains(s, "/") {
		if name == "ip4" {
			s += "/32"
		} else {
			s += "/128"
		}
	}
	_, n, err := net.ParseCIDR(s)
	if err != nil || (name == "ip4") != (n.IP.To4() != nil) {
		return false, SPFPermError
	}
	return n.Contains(c.ip), ""
}

func (c *spfCheck) matchHost(ctx context.Context, host string, v4, v6 int) (bool, string) {
	ips, err := c.r.LookupIP(ctx, host)
	if matched, res := c.lookupResult(false, err); res != "" || err != nil {
		return matched, res
	}
	return c.inAny(ips, v4, v6), ""
}

func (c *spfCheck) matchMX(ctx context.Context, host string, v4, v6 int) (bool, string) {
	mxs, err := c.r.LookupMX(ctx, host)
	if matched, res := c.lookupResult(false, err); res != "" || err != nil {
		return matched, res
	}
	if len(mxs) > 10 {
		return false, SPFPermError
	}
	for _, mx := range mxs {
		ips, err := c.r.LookupIP(ctx, strings.TrimSuffix(mx.Host, "."))
		if err != nil && !errors.Is(err, dns.ErrNoRecords) {
			return false, SPFTempError
		}
		if c.inAny(ips, v4, v6) {
			return true, ""
		}
	}
	return false, ""
}

// lookupResult turns a lookup's error into a result: no records is a
// void lookup (at most two), anything else temperror.
func (c *spfCheck) lookupResult(matched bool, err error) (bool, string) {
	if errors.Is(err, dns.ErrNoRecords) {
		c.voids++
		return false, perm(c.voids > 2)
	}
	if err != nil {
		return false, SPFTempError
	}
	return matched, ""
}

func (c *spfCheck) inAny(ips []net.IP, v4, v6 int) bool {
	for _, ip := range ips {
		bits, size := v6, 128
		if ip.To4() != nil {
			bits, size = v4, 32
		}
		if (ip.To4() != nil) != (c.ip.To4() != nil) {
			continue
		}
		if (&net.IPNet{IP: ip.Mask(net.CIDRMask(bits, size)), Mask: net.CIDRMask(bits, size)}).Contains(c.ip) {
			return true
		}
	}
	return false
}
