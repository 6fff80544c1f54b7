package delivery

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/salvo-email/salvo/internal/ips"
)

// source picks the local address a copy leaves from (issue 17 §1): the
// message's o:sending-ip, else its o:sending-ip-pool, else its domain's
// pool, else its domain's IPs, else any of the node's source addresses;
// within a choice of several, the address of the open session cn when it
// is one of them (the session is reused), otherwise the next in rotation.
// Addresses no longer among the node's sources are skipped. Without
// source addresses (--source-ips empty) the kernel chooses: zero Source.
func (e *Engine) source(ctx context.Context, l *loaded, cn *conn) ips.Source {
	set := e.deps.Sources
	if set.Len() == 0 {
		return ips.Source{}
	}
	var current ips.Source
	if cn != nil {
		current = cn.src
	}
	return set.Pick(e.candidates(ctx, l), current)
}

// candidates are the addresses l may leave from, most specific first.
func (e *Engine) candidates(ctx context.Context, l *loaded) []ips.Source {
	set := e.deps.Sources
	o := l.meta.Options
	if c := set.Candidates([]string{o.SendingIP}); o.SendingIP != "" && len(c) > 0 {
		return c
	}
	if c := e.poolSources(ctx, o.SendingIPPool); len(c) > 0 {
		return c
	}
	if d, err := e.deps.Store.Domain(ctx, l.msg.Domain); err == nil {
		if c := e.poolSources(ctx, d.PoolID); len(c) > 0 {
			return c
		}
		if c := set.Candidates(ips.SplitList(d.IPs)); len(c) > 0 {
			return c
		}
	}
	return set.List()
}

// poolSources are the node's addresses in the pool id ("" or an unknown
// pool: none; the caller falls back to the next choice).
func (e *Engine) poolSources(ctx context.Context, id string) []ips.Source {
	if id == "" {
		return nil
	}
	p, err := e.deps.Store.IPPool(ctx, id)
	if err != nil {
		return nil
	}
	return e.deps.Sources.Candidates(p.IPs)
}

// probeSource is the address a health probe leaves from: the first
// source address, so a probe tests a path real deliveries use.
func (e *Engine) probeSource() ips.Source {
	if l := e.deps.Sources.List(); len(l) > 0 {
		return l[0]
	}
	return ips.Source{}
}

// sendingIP is the session's source address for events: the chosen one,
// else the local address the kernel bound.
func (cn *conn) sendingIP() string {
	if !cn.src.IsZero() {
		return cn.src.Addr.String()
	}
	if cn.g == nil {
		return ""
	}
	if a, ok := cn.g.LocalAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	return ""
}

// bindingDialer is the default DialFrom: a net.Dialer bound to local.
func bindingDialer(timeout time.Duration) func(ctx context.Context, local netip.Addr, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, local netip.Addr, network, addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: timeout, LocalAddr: &net.TCPAddr{IP: local.AsSlice()}}
		return d.DialContext(ctx, network, addr)
	}
}
