package testutil

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Received is one message a FakeMX accepted.
type Received struct {
	From string
	To   []string
	Data []byte
	TLS  bool
	// RemoteIP is the address the session came from and Helo the name
	// the client gave in EHLO/HELO.
	RemoteIP string
	Helo     string
}

// MXOptions shape a FakeMX.
type MXOptions struct {
	// TLS offers STARTTLS with a certificate for Hostnames signed by a test CA.
	TLS       bool
	Hostnames []string
	// SMTPUTF8 advertises SMTPUTF8.
	SMTPUTF8 bool
	// Listen is the address to listen on (127.0.0.1:0 by default).
	Listen string
	// CA issues the STARTTLS certificate (nil: a CA of its own); with
	// NoTLSNames the certificate names none of Hostnames (only
	// "wrong.invalid"), a certificate that does not verify.
	CA         *CA
	NoTLSNames bool
}

// FakeMX is a real SMTP server (go-smtp) on 127.0.0.1. By default it
// answers RCPT by the recipient's local part: one starting with "t451"
// gets 451 4.2.0, one starting with "p550" gets 550 5.1.1, anything else
// 250; SetRcptReply changes that.
type FakeMX struct {
	Addr string
	Port string
	// RootCAs trusts the FakeMX certificate (when TLS); Leaf is that
	// certificate.
	RootCAs *x509.CertPool
	Leaf    *x509.Certificate

	srv      *smtp.Server
	mu       sync.Mutex
	received []Received
	conns    int
	rcpt     func(string) *smtp.SMTPError
	onData   func()
	notify   chan struct{}
}

// StartFakeMX starts a server that stops when t ends.
func StartFakeMX(t testing.TB, opts MXOptions) *FakeMX {
	t.Helper()
	listen := opts.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", listen)
	must(t, err, "fake MX listen")
	m := &FakeMX{Addr: ln.Addr().String(), rcpt: defaultRcpt, notify: make(chan struct{}, 1)}
	_, m.Port, _ = net.SplitHostPort(m.Addr)
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &mxSession{mx: m, conn: c}, nil
	}))
	s.Domain = "fake-mx.test"
	s.EnableSMTPUTF8 = opts.SMTPUTF8
	s.ReadTimeout, s.WriteTimeout = 30*time.Second, 30*time.Second
	s.MaxMessageBytes = 64 << 20
	if opts.TLS {
		ca := opts.CA
		if ca == nil {
			ca = NewCA(t)
		}
		names := append([]string{"localhost"}, opts.Hostnames...)
		if opts.NoTLSNames {
			names = []string{"wrong.invalid"}
		}
		cert := ca.Issue(t, names...)
		s.TLSConfig, m.RootCAs, m.Leaf = &tls.Config{Certificates: []tls.Certificate{cert}}, ca.Pool, cert.Leaf
	}
	m.srv = s
	go func() { _ = s.Serve(&countingListener{Listener: ln, mx: m}) }()
	t.Cleanup(func() { _ = s.Close() })
	return m
}

func defaultRcpt(rcpt string) *smtp.SMTPError {
	local := strings.ToLower(rcpt)
	switch {
	case strings.HasPrefix(local, "t451"):
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "Mailbox busy, try later"}
	case strings.HasPrefix(local, "p550"):
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
	}
	return nil
}

// SetRcptReply replaces how RCPT is answered (nil error = 250).
func (m *FakeMX) SetRcptReply(f func(rcpt string) *smtp.SMTPError) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rcpt = f
}

// Messages returns what was received so far.
func (m *FakeMX) Messages() []Received {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Received(nil), m.received...)
}

// Sessions is how many SMTP connections were accepted.
func (m *FakeMX) Sessions() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.conns
}

// SetDataHook makes every DATA call f after the message is read and before
// it is recorded and answered; f may block to hold the sender mid-message.
func (m *FakeMX) SetDataHook(f func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.onData = f
}

// countingListener counts the connections a FakeMX accepts.
type countingListener struct {
	net.Listener
	mx *FakeMX
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mx.mu.Lock()
		l.mx.conns++
		l.mx.mu.Unlock()
	}
	return c, err
}

// RecipientCount is how many (message, recipient) pairs were received.
func (m *FakeMX) RecipientCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, r := range m.received {
		n += len(r.To)
	}
	return n
}

// WaitRecipients waits until n recipients were received or the timeout
// passes, and returns the messages.
func (m *FakeMX) WaitRecipients(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	deadline := time.After(timeout)
	for m.RecipientCount() < n {
		select {
		case <-m.notify:
		case <-deadline:
			t.Fatalf("fake MX got %d recipients, want %d", m.RecipientCount(), n)
		}
	}
	return m.Messages()
}

type mxSession struct {
	mx   *FakeMX
	conn *smtp.Conn
	from string
	to   []string
}

func (s *mxSession) Reset()        { s.from, s.to = "", nil }
func (s *mxSession) Logout() error { return nil }

func (s *mxSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *mxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.mx.mu.Lock()
	f := s.mx.rcpt
	s.mx.mu.Unlock()
	if err := f(to); err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}

func (s *mxSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.mx.mu.Lock()
	hook := s.mx.onData
	s.mx.mu.Unlock()
	if hook != nil {
		hook()
	}
	s.mx.mu.Lock()
	remote := ""
	if a, ok := s.conn.Conn().RemoteAddr().(*net.TCPAddr); ok {
		remote = a.IP.String()
	}
	s.mx.received = append(s.mx.received, Received{From: s.from, To: append([]string(nil), s.to...), Data: b, TLS: isTLS,
		RemoteIP: remote, Helo: s.conn.Hostname()})
	s.mx.mu.Unlock()
	select {
	case s.mx.notify <- struct{}{}:
	default:
	}
	return nil
}
