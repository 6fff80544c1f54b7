// Package smtp is the listener harness shared by the submission relay and
// the inbound MX: it binds a listener (plain with STARTTLS, or implicit
// TLS), runs go-smtp on it with Salvo's limits, gives every session a Conn
// (client address, TLS state, a context that ends with the connection or
// the server) and stops like net/http.Server: Stop closes the listener,
// lets sessions finish until its context ends, then cuts them.
//
// Invariants: a session method that panics is recovered and counted
// (obs.Metrics), and the client gets 421 4.3.0 instead of a dead
// connection; connections beyond MaxConnections, or beyond
// MaxConnectionsPerClient from one client address (an IPv6 client by its
// /64), get 421 4.7.0 before any session exists (RFC 5321 §3.8: a server
// may refuse service with 421 and close), so one client cannot take every
// slot; a client that sends nothing for FirstCommandTimeout after
// connecting is disconnected (a shorter bound than the 5 minutes RFC 5321
// §4.5.3.2 gives a command once the session is under way); replies carry
// enhanced status codes (RFC 2034), which go-smtp writes for every reply
// it makes.
package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/salvo-email/salvo/internal/obs"
	"github.com/salvo-email/salvo/internal/startstop"
)

// Config describes one listener.
type Config struct {
	// Name is the listener's name in logs ("submission", "mx").
	Name string
	Addr string
	// TLS is offered with STARTTLS, or required from the first byte when
	// ImplicitTLS is set; nil offers no TLS.
	TLS         *tls.Config
	ImplicitTLS bool
	// Hostname is the name in the greeting and EHLO reply.
	Hostname        string
	MaxMessageBytes int64
	MaxRecipients   int
	MaxConnections  int
	// MaxConnectionsPerClient bounds open connections from one client
	// address (0: no bound but MaxConnections).
	MaxConnectionsPerClient int
	// FirstCommandTimeout bounds the wait for a client's first bytes
	// (default 1m): an idle connection holds a slot for no longer.
	FirstCommandTimeout time.Duration
	ReadTimeout         time.Duration // default 5m (RFC 5321 §4.5.3.2)
	WriteTimeout        time.Duration // default 1m
	// AllowInsecureAuth lets go-smtp read AUTH without TLS. Sessions still
	// decide per connection (Conn.TLS, Conn.Loopback) whether to accept it.
	AllowInsecureAuth bool
	// SMTPUTF8 advertises RFC 6531 SMTPUTF8.
	SMTPUTF8 bool
}

// Conn is one client connection as a session sees it.
type Conn struct {
	// Ctx ends when the connection closes or the server is cut off.
	Ctx    context.Context
	Remote net.IP
	c      *gosmtp.Conn
}

// TLS reports whether the connection is encrypted now (implicit TLS or
// after STARTTLS).
func (c *Conn) TLS() bool {
	_, ok := c.c.TLSConnectionState()
	return ok
}

// Loopback reports whether the client is on this machine.
func (c *Conn) Loopback() bool { return c.Remote != nil && c.Remote.IsLoopback() }

// Helo is the name the client gave in HELO/EHLO.
func (c *Conn) Helo() string { return c.c.Hostname() }

// Backend makes a session for each connection; a session may implement
// gosmtp.AuthSession.
type Backend interface {
	NewSession(c *Conn) (gosmtp.Session, error)
}

// Server is one running listener.
type Server struct {
	cfg     Config
	backend Backend
	srv     *gosmtp.Server
	ln      net.Listener
	log     *slog.Logger
	metrics *obs.Metrics
	ctx     context.Context
	cut     context.CancelFunc
	done    chan struct{}
	life    startstop.Base
}

// Listen binds cfg.Addr; Start serves.
func Listen(cfg Config, be Backend, log *slog.Logger, m *obs.Metrics) (*Server, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = 5 * time.Minute
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = time.Minute
	}
	if cfg.FirstCommandTimeout == 0 {
		cfg.FirstCommandTimeout = time.Minute
	}
	log = log.With("listener", cfg.Name)
	ctx, cut := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, log: log, metrics: m, ctx: ctx, cut: cut, done: make(chan struct{})}
	ln = &limitListener{Listener: ln, max: cfg.MaxConnections, perClient: cfg.MaxConnectionsPerClient,
		firstCommand: cfg.FirstCommandTimeout, hostname: cfg.Hostname, log: log, clients: map[string]int{}}
	if cfg.ImplicitTLS {
		if cfg.TLS == nil {
			ln.Close()
			return nil, errors.New("implicit TLS needs a certificate")
		}
		ln = tls.NewListener(ln, cfg.TLS)
	}
	s.ln = ln
	srv := gosmtp.NewServer(gosmtp.BackendFunc(s.newSession))
	srv.Domain = cfg.Hostname
	srv.MaxMessageBytes = cfg.MaxMessageBytes
	srv.MaxRecipients = cfg.MaxRecipients
	srv.ReadTimeout, srv.WriteTimeout = cfg.ReadTimeout, cfg.WriteTimeout
	srv.AllowInsecureAuth = cfg.AllowInsecureAuth
	srv.EnableSMTPUTF8 = cfg.SMTPUTF8
	srv.ErrorLog = &errorLog{log: log}
	if !cfg.ImplicitTLS {
		srv.TLSConfig = cfg.TLS
	}
	s.srv = srv
	s.backend = be
	return s, nil
}

// Addr is the bound address (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Start serves in a goroutine of its own (once; see startstop).
func (s *Server) Start() {
	if !s.life.StartInit() {
		return
	}
	s.metrics.Go(s.log, "smtp "+s.cfg.Name, func() {
		defer close(s.done)
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("smtp listener stopped", "err", err)
		}
	})
}

// Stop stops accepting, waits for sessions to end until ctx is done, then
// closes the ones left (their sessions' contexts end first) and returns
// ctx's error. A listener never started is closed at once; a second Stop
// waits for the first (startstop).
func (s *Server) Stop(ctx context.Context) error {
	err := s.life.Stop(ctx, s.stopServing)
	if !s.life.Started() {
		_ = s.ln.Close() // bound by Listen, never served
	}
	s.cut()
	return err
}

func (s *Server) stopServing(ctx context.Context) error {
	// Closed here too: a Serve that had not yet taken the listener when
	// Shutdown ran (Stop right after Start) returns on it.
	_ = s.ln.Close()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, net.ErrClosed) { // the listener closed above; sessions were waited for
		err = nil
	}
	if err != nil {
		s.cut()
		cerr := s.srv.Close()
		if errors.Is(cerr, gosmtp.ErrServerClosed) {
			cerr = nil
		}
		err = errors.Join(err, cerr)
	}
	s.cut()
	<-s.done
	return err
}

func (s *Server) newSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	ctx, cancel := context.WithCancel(s.ctx)
	conn := &Conn{Ctx: ctx, c: c}
	if a, ok := c.Conn().RemoteAddr().(*net.TCPAddr); ok {
		conn.Remote = a.IP
	}
	inner, err := s.backend.NewSession(conn)
	if err != nil {
		cancel()
		return nil, err
	}
	base := &session{inner: inner, cancel: cancel, s: s}
	if a, ok := inner.(gosmtp.AuthSession); ok {
		return &authSession{session: base, auth: a}, nil
	}
	return base, nil
}

// internalError is what a client gets when a session method panicked.
var internalError = &gosmtp.SMTPError{Code: 421, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0},
	Message: "Internal error; please try again later"}

// errorLog sends go-smtp's own messages (failed handshakes, broken
// connections) to the logger at debug level: they are the clients'
// problems, not the server's.
type errorLog struct{ log *slog.Logger }

func (l *errorLog) Printf(format string, v ...any) {
	l.log.Debug("smtp", "detail", strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func (l *errorLog) Println(v ...any) {
	l.log.Debug("smtp", "detail", strings.TrimSpace(fmt.Sprintln(v...)))
}

// limitListener answers 421 to connections beyond max, or beyond
// perClient from one client address, and gives each connection it lets
// through firstCommand to start talking.
type limitListener struct {
	net.Listener
	max, perClient int
	firstCommand   time.Duration
	hostname       string
	log            *slog.Logger
	mu             sync.Mutex
	open           int
	clients        map[string]int
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client := clientKey(c.RemoteAddr())
		l.mu.Lock()
		overAll := l.max > 0 && l.open >= l.max
		overClient := l.perClient > 0 && l.clients[client] >= l.perClient
		if !overAll && !overClient {
			l.open++
			l.clients[client]++
		}
		l.mu.Unlock()
		if !overAll && !overClient {
			// Until the client's first bytes arrive (countedConn lifts it).
			_ = c.SetReadDeadline(time.Now().Add(l.firstCommand))
			return &countedConn{Conn: c, l: l, client: client, idleUntil: time.Now().Add(l.firstCommand)}, nil
		}
		msg := "Too many connections, try again later"
		if overClient {
			msg = "Too many connections from your address, try again later"
			l.log.Warn("too many connections from one client; refusing one", "remote", c.RemoteAddr().String(), "max_per_client", l.perClient)
		} else {
			l.log.Warn("too many connections; refusing one", "remote", c.RemoteAddr().String(), "max", l.max)
		}
		_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, _ = fmt.Fprintf(c, "421 4.7.0 %s %s\r\n", l.hostname, msg)
		_ = c.Close()
	}
}

// clientKey is the address connections are counted by: an IPv4 address,
// or an IPv6 address's /64 (one host often holds a whole /64).
func clientKey(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if ta.IP.To4() == nil {
		return ta.IP.Mask(net.CIDRMask(64, 128)).String()
	}
	return ta.IP.String()
}

// countedConn is a connection the listener let through: closing it frees
// its slots. Until its first bytes are read, a read deadline set by the
// server is held to idleUntil.
type countedConn struct {
	net.Conn
	l         *limitListener
	client    string
	once      sync.Once
	mu        sync.Mutex
	started   bool
	idleUntil time.Time
}

func (c *countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.started = true
		c.mu.Unlock()
	}
	return n, err
}

func (c *countedConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	if !c.started && (t.IsZero() || t.After(c.idleUntil)) {
		t = c.idleUntil
	}
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}

func (c *countedConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.open--
		if c.l.clients[c.client]--; c.l.clients[c.client] <= 0 {
			delete(c.l.clients, c.client)
		}
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
