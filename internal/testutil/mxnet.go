package testutil

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
)

// MXNet is a dial seam (app.Seams.Dial) that routes outbound SMTP
// connections by destination IP to fake MX listeners, so a test's DNS can
// publish any address (192.0.2.x) for its MX hosts and the app still dials
// real sockets on 127.0.0.1. Addresses without a route are refused;
// loopback addresses (a smarthost) are dialled as given. It records every
// dial and how many connections to each destination were open at once,
// counted on the client side: a connection is open from dial until the
// app closes it.
type MXNet struct {
	mu      sync.Mutex
	routes  map[string]string // IP -> listener address
	dials   []string
	open    map[string]int // by listener address
	maxOpen map[string]int
}

// NewMXNet returns a network with no routes.
func NewMXNet() *MXNet {
	return &MXNet{routes: map[string]string{}, open: map[string]int{}, maxOpen: map[string]int{}}
}

// Route sends connections to ip (any port) to mx.
func (n *MXNet) Route(ip string, mx *FakeMX) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.routes[ip] = mx.Addr
}

// RouteAddr sends connections to ip (any port) to a listener address.
func (n *MXNet) RouteAddr(ip, addr string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.routes[ip] = addr
}

// Dial implements the seam.
func (n *MXNet) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	return n.DialFrom(ctx, netip.Addr{}, network, addr)
}

// DialFrom implements the source-address seam (app.Seams.DialFrom): as
// Dial, with the connection bound to local (any of 127.0.0.0/8 is a local
// address on Linux), so the fake MX sees it as the session's remote
// address.
func (n *MXNet) DialFrom(ctx context.Context, local netip.Addr, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	n.dials = append(n.dials, addr)
	target, ok := n.routes[host]
	n.mu.Unlock()
	if !ok {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("%s: %w", addr, syscall.ECONNREFUSED)}
		}
		target = addr
	}
	var d net.Dialer
	if local.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: local.AsSlice()}
	}
	c, err := d.DialContext(ctx, network, target)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	n.open[target]++
	n.maxOpen[target] = max(n.maxOpen[target], n.open[target])
	n.mu.Unlock()
	return &trackedConn{Conn: c, closed: func() {
		n.mu.Lock()
		n.open[target]--
		n.mu.Unlock()
	}}, nil
}

// Dials returns every address dialled so far, in order.
func (n *MXNet) Dials() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.dials...)
}

// MaxOpen is the most connections to mx that were open at once.
func (n *MXNet) MaxOpen(mx *FakeMX) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.maxOpen[mx.Addr]
}

type trackedConn struct {
	net.Conn
	once   sync.Once
	closed func()
}

func (c *trackedConn) Close() error {
	c.once.Do(c.closed)
	return c.Conn.Close()
}
