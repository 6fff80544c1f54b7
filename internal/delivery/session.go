package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/textproto"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/salvo-email/salvo/internal/dns"
	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/store"
)

// mxHost is one host to try for a destination.
type mxHost struct {
	name  string // for TLS verification and events
	addr  string // host:port to dial when direct
	viaMX bool   // resolve name through the Resolver and dial each address at MXPort
}

// resolve returns the hosts of a destination in the order to try them
// (RFC 5321 §5.1): MX by preference, equal preferences shuffled; the
// domain itself when it has no MX but has an address (implicit MX); a
// permanent error for a null MX (RFC 7505) or a domain with neither.
func (e *Engine) resolve(ctx context.Context, domain string) ([]mxHost, error) {
	if e.cfg.Smarthost != "" {
		host, _, _ := net.SplitHostPort(e.cfg.Smarthost)
		return []mxHost{{name: host, addr: e.cfg.Smarthost}}, nil
	}
	mxs, err := e.deps.Resolver.LookupMX(ctx, domain)
	if errors.Is(err, dns.ErrNoRecords) {
		if _, ierr := e.deps.Resolver.LookupIP(ctx, domain); ierr != nil {
			if errors.Is(ierr, dns.ErrNoRecords) {
				return nil, &PermanentError{Code: 550, Enhanced: "5.1.2", Msg: "No MX or address record for domain " + domain}
			}
			return nil, fmt.Errorf("lookup %s: %w", domain, ierr)
		}
		return []mxHost{{name: domain, viaMX: true}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("MX lookup for %s: %w", domain, err)
	}
	if len(mxs) == 1 && (mxs[0].Host == "." || mxs[0].Host == "") {
		return nil, &PermanentError{Code: 556, Enhanced: "5.1.10", Msg: "Domain " + domain + " does not accept mail (null MX)"}
	}
	rand.Shuffle(len(mxs), func(i, j int) { mxs[i], mxs[j] = mxs[j], mxs[i] })
	sort.SliceStable(mxs, func(i, j int) bool { return mxs[i].Pref < mxs[j].Pref })
	out := make([]mxHost, 0, len(mxs))
	for _, mx := range mxs {
		h := strings.TrimSuffix(mx.Host, ".")
		if h == "" {
			continue
		}
		out = append(out, mxHost{name: h, viaMX: true})
	}
	return out, nil
}

// conn is one open SMTP session.
type conn struct {
	c        *smtp.Client
	host     mxHost
	tls      bool
	verified bool
	opened   time.Time
}

// errTLSHandshake marks a failed STARTTLS: the session is gone, but the
// host may be tried again in clear for mail that does not require TLS.
var errTLSHandshake = errors.New("STARTTLS handshake failed")

// dial opens a session with host, using STARTTLS whenever it is offered
// unless tryTLS is false.
//
// go-smtp's client cannot send EHLO with our name and then STARTTLS, so
// the opening (greeting, EHLO, STARTTLS) is done here and the client takes
// over the (possibly encrypted) connection behind a replayed greeting.
func (e *Engine) dial(ctx context.Context, host mxHost, tryTLS bool) (*conn, error) {
	nc, err := e.open(ctx, host)
	if err != nil {
		return nil, err
	}
	opened := time.Now()
	_ = nc.SetDeadline(opened.Add(e.cfg.CommandTimeout))
	tp := textproto.NewConn(nc)
	ext, err := greetAndHello(tp, e.cfg.Hostname)
	if err != nil {
		nc.Close()
		return nil, err
	}
	cn := &conn{host: host, opened: opened}
	var session net.Conn = nc
	if _, ok := ext["STARTTLS"]; ok && tryTLS {
		if _, _, err := cmd(tp, 220, "STARTTLS"); err != nil {
			nc.Close()
			return nil, fmt.Errorf("%w with %s: %v", errTLSHandshake, host.name, err)
		}
		tc := tls.Client(nc, &tls.Config{
			ServerName:         host.name,
			InsecureSkipVerify: true, // verified below; opportunistic TLS accepts any certificate
			MinVersion:         tls.VersionTLS12,
			VerifyConnection: func(cs tls.ConnectionState) error {
				cn.verified = verifyChain(cs, host.name, e.deps.RootCAs)
				return nil
			},
		})
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("%w with %s: %v", errTLSHandshake, host.name, err)
		}
		session, cn.tls = tc, true
	}
	_ = nc.SetDeadline(time.Time{})
	cn.c = smtp.NewClient(&greetedConn{Conn: session, pending: []byte("220 resumed\r\n")})
	cn.c.CommandTimeout = e.cfg.CommandTimeout
	cn.c.SubmissionTimeout = e.cfg.CommandTimeout
	if err := cn.c.Hello(e.cfg.Hostname); err != nil {
		cn.c.Close()
		return nil, err
	}
	return cn, nil
}

// open connects to a host: the smarthost as given, an MX host at each of
// its addresses (looked up through the Resolver, so SALVO_DNS also decides
// where MX hosts are) in turn.
func (e *Engine) open(ctx context.Context, host mxHost) (net.Conn, error) {
	if !host.viaMX {
		return e.deps.Dial(ctx, "tcp", host.addr)
	}
	ips, err := e.deps.Resolver.LookupIP(ctx, host.name)
	if err != nil {
		return nil, fmt.Errorf("address of %s: %w", host.name, err)
	}
	var last error
	for _, ip := range ips {
		nc, err := e.deps.Dial(ctx, "tcp", net.JoinHostPort(ip.String(), e.cfg.MXPort))
		if err == nil {
			return nc, nil
		}
		last = err
	}
	return nil, last
}

// greetAndHello reads the greeting and says EHLO (HELO if refused),
// returning the extensions offered.
func greetAndHello(tp *textproto.Conn, name string) (map[string]string, error) {
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, smtpErr(err)
	}
	_, msg, err := cmd(tp, 250, "EHLO %s", name)
	if err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) && (se.Code == 500 || se.Code == 502) {
			_, _, err = cmd(tp, 250, "HELO %s", name)
			return map[string]string{}, err
		}
		return nil, err
	}
	ext := map[string]string{}
	for _, line := range strings.Split(msg, "\n")[1:] {
		k, v, _ := strings.Cut(line, " ")
		ext[strings.ToUpper(k)] = v
	}
	return ext, nil
}

func cmd(tp *textproto.Conn, want int, format string, args ...any) (int, string, error) {
	if err := tp.PrintfLine(format, args...); err != nil {
		return 0, "", err
	}
	code, msg, err := tp.ReadResponse(want)
	return code, msg, smtpErr(err)
}

// smtpErr converts a textproto reply error into *smtp.SMTPError.
func smtpErr(err error) error {
	var te *textproto.Error
	if !errors.As(err, &te) {
		return err
	}
	se := &smtp.SMTPError{Code: te.Code, Message: te.Msg, EnhancedCode: smtp.NoEnhancedCode}
	if first, rest, ok := strings.Cut(te.Msg, " "); ok {
		var a, b, c int
		if n, _ := fmt.Sscanf(first, "%d.%d.%d", &a, &b, &c); n == 3 {
			se.EnhancedCode, se.Message = smtp.EnhancedCode{a, b, c}, rest
		}
	}
	return se
}

// greetedConn replays bytes before reading from the connection.
type greetedConn struct {
	net.Conn
	pending []byte
}

func (g *greetedConn) Read(p []byte) (int, error) {
	if len(g.pending) > 0 {
		n := copy(p, g.pending)
		g.pending = g.pending[n:]
		return n, nil
	}
	return g.Conn.Read(p)
}

func verifyChain(cs tls.ConnectionState, name string, roots *x509.CertPool) bool {
	if len(cs.PeerCertificates) == 0 {
		return false
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: inter})
	return err == nil
}

// connect tries the hosts in order and returns the first session.
func (e *Engine) connect(ctx context.Context, hosts []mxHost) (*conn, error) {
	var last error
	for _, h := range hosts {
		cn, err := e.dial(ctx, h, true)
		if errors.Is(err, errTLSHandshake) {
			e.deps.Log.Warn("STARTTLS failed; retrying in clear", "mx", h.name, "err", err)
			cn, err = e.dial(ctx, h, false)
		}
		if err == nil {
			return cn, nil
		}
		last = err
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code >= 500 {
			return nil, err // a 5xx greeting is the server's answer, not a reason to try another
		}
		e.deps.Log.Info("MX unreachable", "mx", h.name, "err", err)
	}
	if last == nil {
		last = errors.New("no MX host to try")
	}
	return nil, last
}

// txn is one SMTP transaction: a rendering sent to its recipients.
type txn struct {
	from  string
	jobs  []store.Job
	body  []byte
	utf8  bool
	delay time.Time
}

// send runs one transaction. It returns a Result per job and whether the
// session is still usable.
func (cn *conn) send(t *txn) ([]Result, bool) {
	res := make([]Result, len(t.jobs))
	setAll := func(r Result) {
		for i := range res {
			res[i] = r
		}
	}
	c := cn.c
	if ok, _ := c.Extension("SMTPUTF8"); t.utf8 && !ok {
		// RFC 6531 §3.2: an internationalised address must not be sent to
		// a server without SMTPUTF8, and retrying the same server cannot help.
		setAll(cn.result(&PermanentError{Code: 553, Enhanced: "5.6.7",
			Msg: cn.host.name + " does not support SMTPUTF8, needed for a non-ASCII address"}))
		return res, true
	}
	if err := c.Mail(t.from, &smtp.MailOptions{UTF8: t.utf8, Size: int64(len(t.body))}); err != nil {
		setAll(cn.result(err))
		return res, isSMTPReply(err) && c.Reset() == nil
	}
	var accepted []int
	for i, j := range t.jobs {
		if err := c.Rcpt(j.Recipient, nil); err != nil {
			res[i] = cn.result(err)
			if !isSMTPReply(err) {
				setAll(cn.result(err))
				return res, false
			}
			continue
		}
		accepted = append(accepted, i)
	}
	if len(accepted) == 0 {
		return res, c.Reset() == nil
	}
	w, err := c.Data()
	if err == nil {
		if _, err = w.Write(t.body); err == nil {
			err = w.Close()
		} else {
			_ = w.Close()
		}
	}
	for _, i := range accepted {
		res[i] = cn.result(err)
		res[i].UTF8 = t.utf8
	}
	if err != nil && !isSMTPReply(err) {
		return res, false
	}
	return res, c.Reset() == nil
}

func (cn *conn) result(err error) Result {
	r := Classify(err)
	r.MXHost, r.TLS, r.Verified, r.Session = cn.host.name, cn.tls, cn.verified, time.Since(cn.opened)
	return r
}

func isSMTPReply(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se)
}

func (cn *conn) close() {
	if err := cn.c.Quit(); err != nil {
		cn.c.Close()
	}
}

// needsUTF8 reports whether a transaction's envelope needs SMTPUTF8
// (RFC 6531). UTF-8 in headers alone is sent as is: refusing it where the
// server lacks SMTPUTF8 would bounce mail that most servers accept.
func needsUTF8(from string, jobs []store.Job) bool {
	if mail.NeedsUTF8(from) {
		return true
	}
	for _, j := range jobs {
		if mail.NeedsUTF8(j.Recipient) {
			return true
		}
	}
	return false
}
