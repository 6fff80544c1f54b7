package delivery

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/ips"
	"github.com/salvo-email/salvo/internal/store"
)

// peer is a real SMTP server (go-smtp) on 127.0.0.1 that records where
// each session came from and the name it said in EHLO. MAIL FROM from
// "t451…" gets 451, RCPT TO to "p550…" gets 550.
type peer struct {
	addr string
	mu   sync.Mutex
	seen []string // remote IP + " " + EHLO name, per session that sent MAIL
}

func startPeer(t *testing.T) *peer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{addr: ln.Addr().String()}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &peerSession{p: p, c: c}, nil
	}))
	s.Domain, s.ReadTimeout, s.WriteTimeout = "peer.test", 10*time.Second, 10*time.Second
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { s.Close() })
	return p
}

func (p *peer) sessions() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

type peerSession struct {
	p *peer
	c *smtp.Conn
}

func (s *peerSession) Mail(from string, _ *smtp.MailOptions) error {
	s.p.mu.Lock()
	s.p.seen = append(s.p.seen, s.c.Conn().RemoteAddr().(*net.TCPAddr).IP.String()+" "+s.c.Hostname())
	s.p.mu.Unlock()
	if strings.HasPrefix(from, "t451") {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
	}
	return nil
}

func (s *peerSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "p550") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	return nil
}

func (s *peerSession) Data(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }
func (s *peerSession) Reset()                 {}
func (s *peerSession) Logout() error          { return nil }

// TestSessionSourceAndCommand: a session opened from a source address
// binds it (the peer sees it as the remote address) and says its EHLO
// name; each result names its source address and the step that failed.
func TestSessionSourceAndCommand(t *testing.T) {
	t.Parallel()
	p := startPeer(t)
	list, err := ips.Parse("127.0.0.2=mta2.node.test")
	if err != nil {
		t.Fatal(err)
	}
	e := New(Config{Hostname: "node.test", ConnectTimeout: 5 * time.Second, CommandTimeout: 10 * time.Second},
		Deps{Log: slog.New(slog.DiscardHandler), Sources: ips.NewSet(list, "node.test")})
	host := mxHost{name: "localhost", addr: p.addr}
	cn, err := e.connect(context.Background(), []mxHost{host}, e.deps.Sources.List()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer cn.close()
	body := []byte("Subject: x\r\n\r\nhi\r\n")
	res, usable := cn.send(&txn{from: "a@x.test", body: body,
		jobs: []store.Job{{Recipient: "ok@y.test"}, {Recipient: "p550@y.test"}}})
	if !usable || res[0].Kind != Delivered || res[0].Command != "" || res[0].SendingIP != "127.0.0.2" {
		t.Fatalf("accepted recipient: %+v (usable %v), want delivered from 127.0.0.2 with no failed step", res[0], usable)
	}
	if res[1].Kind != Permanent || res[1].Command != CmdRcpt || res[1].Reason != events.ReasonBounce {
		t.Fatalf("refused recipient: %+v, want a permanent bounce at %s", res[1], CmdRcpt)
	}
	res, _ = cn.send(&txn{from: "t451@x.test", body: body, jobs: []store.Job{{Recipient: "ok@y.test"}}})
	if res[0].Kind != Temporary || res[0].Command != CmdMail || res[0].Code != 451 {
		t.Fatalf("refused MAIL FROM: %+v, want temporary 451 at %s", res[0], CmdMail)
	}
	seen := p.sessions()
	for _, s := range seen {
		if s != "127.0.0.2 mta2.node.test" {
			t.Fatalf("the peer saw %q, want 127.0.0.2 saying EHLO mta2.node.test", s)
		}
	}
	if len(seen) != 2 {
		t.Fatalf("the peer saw %d transactions, want 2", len(seen))
	}

	// Without a source the kernel chooses and the node's name is said.
	cn2, err := e.connect(context.Background(), []mxHost{host}, ips.Source{})
	if err != nil {
		t.Fatal(err)
	}
	defer cn2.close()
	if res, _ := cn2.send(&txn{from: "a@x.test", body: body, jobs: []store.Job{{Recipient: "ok@y.test"}}}); res[0].SendingIP != "127.0.0.1" {
		t.Fatalf("kernel's choice: sending IP %q, want the bound local address 127.0.0.1", res[0].SendingIP)
	}
	if seen := p.sessions(); seen[len(seen)-1] != "127.0.0.1 node.test" {
		last := seen[len(seen)-1]
		t.Fatalf("without a source the peer saw %q, want 127.0.0.1 saying EHLO node.test", last)
	}
}
