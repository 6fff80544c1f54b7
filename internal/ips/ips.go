// Package ips knows the local addresses this node may send from
// (--source-ips / SALVO_SOURCE_IPS) and picks the one a copy leaves from.
//
// Invariants: a Set holds only addresses the operator listed, each once, in
// the order given; every source has an EHLO name (its own, else the node's
// host name), which in production must match the address's PTR record
// (RFC 5321 §4.1.4 lets a server check the EHLO name; many receivers compare
// it with the reverse DNS of the connecting address). An empty Set means
// "the kernel's choice", as before source addresses existed.
//
// Failure rules: Parse refuses anything that is not an IP address or
// ip=name with a clear error, CheckLocal an address the machine does not
// have; Pick never fails: with no usable address it
// returns the zero Source (the kernel chooses).
//
// This package imports only the standard library, so config can use it.
package ips

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
)

// Source is one local address to send from and the name said in EHLO.
type Source struct {
	Addr netip.Addr
	EHLO string
}

// IsZero reports whether s is "no address chosen".
func (s Source) IsZero() bool { return !s.Addr.IsValid() }

// Parse reads a comma list of "ip" or "ip=ehlo-name". Blank items are
// skipped; a repeated address is an error.
func Parse(list string) ([]Source, error) {
	var out []Source
	seen := map[netip.Addr]bool{}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		ip, name, _ := strings.Cut(item, "=")
		addr, err := netip.ParseAddr(strings.TrimSpace(ip))
		if err != nil || addr.Zone() != "" {
			return nil, fmt.Errorf("%q is not an IP address (want ip or ip=ehlo-name)", item)
		}
		addr = addr.Unmap()
		name = strings.TrimSpace(name)
		if strings.ContainsAny(name, " \t\r\n<>") || (name == "" && strings.Contains(item, "=")) {
			return nil, fmt.Errorf("%q: the EHLO name after = must be a host name", item)
		}
		if seen[addr] {
			return nil, fmt.Errorf("%s is listed twice", addr)
		}
		seen[addr] = true
		out = append(out, Source{Addr: addr, EHLO: name})
	}
	return out, nil
}

// CheckLocal reports the first source that is not an address of this
// machine (it cannot be bound): sending from it would fail on every
// connection, which delivery would take for the destination being down.
func CheckLocal(list []Source) error {
	for _, src := range list {
		ln, err := net.Listen("tcp", net.JoinHostPort(src.Addr.String(), "0"))
		if err != nil {
			return fmt.Errorf("%s is not an address of this machine: %w", src.Addr, err)
		}
		ln.Close()
	}
	return nil
}

// Set is the node's source addresses. The zero Set and a nil *Set are
// empty. Safe for concurrent use.
type Set struct {
	list []Source
	by   map[netip.Addr]Source
	next atomic.Uint64 // rotation
}

// NewSet makes a Set of list; sources without an EHLO name get hostname.
func NewSet(list []Source, hostname string) *Set {
	s := &Set{by: map[netip.Addr]Source{}}
	for _, src := range list {
		if src.EHLO == "" {
			src.EHLO = hostname
		}
		s.list = append(s.list, src)
		s.by[src.Addr] = src
	}
	return s
}

// Len is the number of source addresses.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.list)
}

// List returns the sources in the order configured.
func (s *Set) List() []Source {
	if s == nil {
		return nil
	}
	return append([]Source(nil), s.list...)
}

// Lookup finds ip (textual, IPv4-mapped forms included) among the sources.
func (s *Set) Lookup(ip string) (Source, bool) {
	if s == nil {
		return Source{}, false
	}
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return Source{}, false
	}
	src, ok := s.by[a.Unmap()]
	return src, ok
}

// Normalize returns ip in canonical form when it is one of the sources.
func (s *Set) Normalize(ip string) (string, bool) {
	src, ok := s.Lookup(ip)
	if !ok {
		return "", false
	}
	return src.Addr.String(), true
}

// Candidates returns the sources among ips (unknown addresses are
// dropped: an address removed from --source-ips is no longer used).
func (s *Set) Candidates(ips []string) []Source {
	var out []Source
	for _, ip := range ips {
		if src, ok := s.Lookup(ip); ok {
			out = append(out, src)
		}
	}
	return out
}

// Pick chooses among candidates: current when it is one of them (a
// session already open from it is reused), else the next in rotation.
// With no candidates it returns the zero Source.
func (s *Set) Pick(candidates []Source, current Source) Source {
	if len(candidates) == 0 {
		return Source{}
	}
	for _, c := range candidates {
		if c.Addr == current.Addr {
			return c
		}
	}
	n := s.next.Add(1) - 1
	return candidates[n%uint64(len(candidates))]
}

// Canonical is ip in canonical textual form, or ip trimmed when it is not
// an address.
func Canonical(ip string) string {
	ip = strings.TrimSpace(ip)
	if a, err := netip.ParseAddr(ip); err == nil {
		return a.Unmap().String()
	}
	return ip
}

// SplitList splits a stored comma list of addresses.
func SplitList(s string) []string {
	var out []string
	for _, ip := range strings.Split(s, ",") {
		if ip = strings.TrimSpace(ip); ip != "" {
			out = append(out, ip)
		}
	}
	return out
}
