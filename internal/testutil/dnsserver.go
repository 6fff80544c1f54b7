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
	udp    *mdns.Server
	tcp    *mdns.Server
}

// StartDNS starts a server; it stops when t ends.
func StartDNS(t testing.TB) *DNSServer {
	t.Helper()
	pc, ln := listenUDPTCP(t)
	s := &DNSServer{Addr: pc.LocalAddr().String(), rrs: map[string][]mdns.RR{}, rcodes: map[string]int{}}
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

// listenUDPTCP binds UDP and TCP on one free port. The port the kernel
// picks for UDP may be taken for TCP (parallel tests), so it tries again.
func listenUDPTCP(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		must(t, err, "dns udp listen")
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		pc.Close()
		if attempt == 20 {
			must(t, err, "dns tcp listen")
		}
	}
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
