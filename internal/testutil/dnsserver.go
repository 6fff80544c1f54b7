package testutil

import (
	"net"
	"strings"
	"sync"
	"testing"

	mdns "github.com/miekg/dns"
)

// DNSServer is an authoritative DNS server on 127.0.0.1 (UDP and TCP)
// serving records that tests add and change while it runs.
type DNSServer struct {
	Addr string

	mu     sync.Mutex
	rrs    map[string][]mdns.RR // by lower-case FQDN
	rcodes map[string]int
	secure map[string]bool // names answered with the AD bit
	udp    *mdns.Server
	tcp    *mdns.Server
}

// StartDNS starts a server; it stops when t ends.
func StartDNS(t testing.TB) *DNSServer {
	t.Helper()
	pc, ln, err := listenUDPAndTCP()
	must(t, err, "dns listen")
	s := &DNSServer{Addr: pc.LocalAddr().String(), rrs: map[string][]mdns.RR{}, rcodes: map[string]int{}, secure: map[string]bool{}}
	h := mdns.HandlerFunc(s.serve)
	s.udp = &mdns.Server{PacketConn: pc, Handler: h}
	s.tcp = &mdns.Server{Listener: ln, Handler: h}
	started := make(chan struct{}, 2)
	s.udp.NotifyStartedFunc = func() { started <- struct{}{} }
	s.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
	go func() { _ = s.udp.ActivateAndServe() }()
	go func() { _ = s.tcp.ActivateAndServe() }()
	<-started
	<-started
	t.Cleanup(func() {
		_ = s.udp.Shutdown()
		_ = s.tcp.Shutdown()
	})
	return s
}

// listenUDPAndTCP binds one port on 127.0.0.1 for both UDP and TCP. The
// UDP port is chosen by the system; its TCP twin may be taken (by another
// test's connection), so a few ports are tried.
func listenUDPAndTCP() (net.PacketConn, net.Listener, error) {
	var err error
	for range 20 {
		var pc net.PacketConn
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			return nil, nil, err
		}
		var ln net.Listener
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			return pc, ln, nil
		}
		pc.Close()
	}
	return nil, nil, err
}

// Add adds records in zone-file syntax, e.g. "example.com. 60 IN MX 10 mx.example.com.".
func (s *DNSServer) Add(t testing.TB, records ...string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range records {
		rr, err := mdns.NewRR(r)
		must(t, err, "dns record "+r)
		name := strings.ToLower(rr.Header().Name)
		s.rrs[name] = append(s.rrs[name], rr)
	}
}

// Remove drops every record of name.
func (s *DNSServer) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.rrs, strings.ToLower(mdns.Fqdn(name)))
}

// SetRcode makes queries for name answer rcode (e.g. mdns.RcodeServerFailure).
func (s *DNSServer) SetRcode(name string, rcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcodes[strings.ToLower(mdns.Fqdn(name))] = rcode
}

// SetSecure makes answers for name carry the AD bit (as a validating
// resolver's answers for DNSSEC-signed data do) or not.
func (s *DNSServer) SetSecure(name string, secure bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secure[strings.ToLower(mdns.Fqdn(name))] = secure
}

func (s *DNSServer) serve(w mdns.ResponseWriter, req *mdns.Msg) {
	m := new(mdns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) == 1 {
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		s.mu.Lock()
		rcode, hasRcode := s.rcodes[name]
		rrs, exists := s.rrs[name]
		m.AuthenticatedData = s.secure[name]
		s.mu.Unlock()
		switch {
		case hasRcode:
			m.Rcode = rcode
		case !exists:
			m.Rcode = mdns.RcodeNameError
		default:
			for _, rr := range rrs {
				t := rr.Header().Rrtype
				if t == q.Qtype || (t == mdns.TypeCNAME && q.Qtype != mdns.TypeCNAME) {
					m.Answer = append(m.Answer, rr)
				}
			}
		}
	}
	_ = w.WriteMsg(m)
}
