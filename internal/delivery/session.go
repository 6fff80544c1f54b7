package delivery

import (
	"bytes"
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
	"github.com/salvo-email/salvo/internal/ips"
	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/tlspolicy"
)

// mxHost is one host to try for a destination.
type mxHost struct {
	name  string // for TLS verification and events
	addr  string // host:port to dial when direct
	viaMX bool   // resolve name through the Resolver and dial each address at MXPort
	// TLS policy (package tlspolicy; zero without Deps.TLSPolicy): the
	// destination, its MTA-STS policy, whether its MX RRset was
	// DNSSEC-validated, and (set by connect) this host's requirement.
	domain   string
	sts      *tlspolicy.Policy
	mxSecure bool
	req      tlspolicy.Requirement
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
	mxs, secure, err := e.lookupMX(ctx, domain)
	if errors.Is(err, dns.ErrNoRecords) {
		if _, ierr := e.deps.Resolver.LookupIP(ctx, domain); ierr != nil {
			if errors.Is(ierr, dns.ErrNoRecords) {
				return nil, &PermanentError{Code: 550, Enhanced: "5.1.2", Msg: "No MX or address record for domain " + domain}
			}
			return nil, fmt.Errorf("lookup %s: %w", domain, ierr)
		}
		return []mxHost{{name: domain, viaMX: true, domain: domain, sts: e.sts(ctx, domain)}}, nil
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
	sts := e.sts(ctx, domain)
	for _, mx := range mxs {
		h := strings.TrimSuffix(mx.Host, ".")
		if h == "" {
			continue
		}
		out = append(out, mxHost{name: h, viaMX: true, domain: domain, sts: sts, mxSecure: secure})
	}
	return out, nil
}

// lookupMX looks a destination's MX records up, through the TLS policy
// checker when there is one (which tells whether they were
// DNSSEC-validated, for DANE).
func (e *Engine) lookupMX(ctx context.Context, domain string) ([]*net.MX, bool, error) {
	if e.deps.TLSPolicy != nil {
		return e.deps.TLSPolicy.LookupMX(ctx, domain)
	}
	mx, err := e.deps.Resolver.LookupMX(ctx, domain)
	return mx, false, err
}

// sts is a destination's MTA-STS policy (nil: none, or no checker).
func (e *Engine) sts(ctx context.Context, domain string) *tlspolicy.Policy {
	if e.deps.TLSPolicy == nil {
		return nil
	}
	return e.deps.TLSPolicy.STS(ctx, domain)
}

// conn is one open SMTP session.
type conn struct {
	c        *smtp.Client
	g        *greetedConn
	hello    hello
	host     mxHost
	src      ips.Source // zero: the kernel chose the address
	tls      bool
	verified bool
	opened   time.Time
	// violation is how the session fails its host's TLS policy; enforced,
	// the session is refused, else (MTA-STS testing) it is reported in
	// the events as tls-policy-report.
	violation *tlspolicy.Violation
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
func (e *Engine) dial(ctx context.Context, host mxHost, src ips.Source, tryTLS bool) (*conn, error) {
	nc, err := e.open(ctx, host, src)
	if err != nil {
		return nil, err
	}
	ehlo := e.cfg.Hostname
	if !src.IsZero() {
		ehlo = src.EHLO // the name that matches the address's PTR
	}
	opened := time.Now()
	_ = nc.SetDeadline(opened.Add(e.commandTimeout(ctx)))
	rec := &recordingConn{Conn: nc}
	tp := textproto.NewConn(rec)
	ext, h, err := greetAndHello(tp, rec, ehlo)
	if err != nil {
		nc.Close()
		return nil, err
	}
	cn := &conn{host: host, src: src, opened: opened}
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
				cn.verified, cn.violation = host.req.Check(cs, host.name, cn.verified, e.deps.Now())
				if cn.violation != nil && host.req.Enforce {
					return cn.violation // RFC 8461 §5.1, RFC 7672 §2.2: not this host
				}
				return nil
			},
		})
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			if cn.violation != nil && host.req.Enforce {
				return nil, cn.violation
			}
			return nil, fmt.Errorf("%w with %s: %v", errTLSHandshake, host.name, err)
		}
		session, cn.tls = tc, true
	}
	_ = nc.SetDeadline(time.Time{})
	g := &greetedConn{Conn: session, pending: []byte("220 resumed\r\n")}
	if cn.tls {
		// After STARTTLS a new EHLO is required (RFC 3207 §4.2): the
		// client says it on the wire; its reply is kept for resets.
		g.record = true
	} else {
		// The server has had its one EHLO (RFC 5321 §4.1.4: a repeated
		// EHLO may be refused, and some servers answer it 503): the
		// client's hello is swallowed and answered with the replies
		// received above.
		g.pending, g.swallow = append(g.pending, h.reply...), h.lines
	}
	cn.c, cn.g = smtp.NewClient(g), g
	cn.c.CommandTimeout = e.cfg.CommandTimeout
	cn.c.SubmissionTimeout = e.cfg.CommandTimeout
	if err := cn.c.Hello(ehlo); err != nil {
		cn.c.Close()
		return nil, err
	}
	if g.swallow != 0 || len(g.pending) != 0 {
		cn.c.Close()
		return nil, errors.New("smtp client did not replay the opening as expected")
	}
	if cn.tls {
		h = hello{reply: g.recorded, lines: g.written}
		g.record, g.recorded = false, nil
	}
	cn.hello = h
	return cn, nil
}

// open connects to a host from src (the kernel's choice when zero): the
// smarthost as given, an MX host at each of its addresses (looked up
// through the Resolver, so SALVO_DNS also decides where MX hosts are) in
// turn.
func (e *Engine) open(ctx context.Context, host mxHost, src ips.Source) (net.Conn, error) {
	dial := e.deps.Dial
	if !src.IsZero() {
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return e.deps.DialFrom(ctx, src.Addr, network, addr)
		}
	}
	if d := e.connectTimeout(ctx); d > 0 {
		// Each address gets the whole timeout (a group's, else --connect-timeout).
		inner := dial
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			return inner(ctx, network, addr)
		}
	}
	if !host.viaMX {
		return dial(ctx, "tcp", host.addr)
	}
	ips, err := e.deps.Resolver.LookupIP(ctx, host.name)
	if err != nil {
		return nil, fmt.Errorf("address of %s: %w", host.name, err)
	}
	var last error
	for _, ip := range ips {
		if !src.IsZero() && (ip.To4() != nil) != src.Addr.Is4() {
			last = fmt.Errorf("%s: no route from source address %s", ip, src.Addr)
			continue // an IPv4 source cannot reach an IPv6 address, nor the reverse
		}
		nc, err := dial(ctx, "tcp", net.JoinHostPort(ip.String(), e.cfg.MXPort))
		if err == nil {
			return nc, nil
		}
		last = err
	}
	return nil, last
}

// hello is what a server answered to a session's hello: the raw reply
// bytes and the number of hello commands they answer (EHLO, or EHLO and
// HELO).
type hello struct {
	reply []byte
	lines int
}

// greetAndHello reads the greeting and says EHLO (HELO if EHLO is not
// recognised, RFC 5321 §3.2), returning the extensions offered and the
// hello exchange as received through rec.
func greetAndHello(tp *textproto.Conn, rec *recordingConn, name string) (map[string]string, hello, error) {
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, hello{}, smtpErr(err)
	}
	mark := len(rec.read)
	_, msg, err := cmd(tp, 250, "EHLO %s", name)
	if err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) && (se.Code == 500 || se.Code == 502) {
			_, _, err = cmd(tp, 250, "HELO %s", name)
			return map[string]string{}, hello{reply: rec.read[mark:], lines: 2}, err
		}
		return nil, hello{}, err
	}
	ext := map[string]string{}
	for _, line := range strings.Split(msg, "\n")[1:] {
		k, v, _ := strings.Cut(line, " ")
		ext[strings.ToUpper(k)] = v
	}
	return ext, hello{reply: rec.read[mark:], lines: 1}, nil
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

// recordingConn keeps a copy of what is read through it.
type recordingConn struct {
	net.Conn
	read []byte
}

func (r *recordingConn) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.read = append(r.read, p[:n]...)
	return n, err
}

// greetedConn sits between go-smtp's client and the connection. It
// replays bytes before reading from the connection, swallows the first
// swallow command lines written (the hello commands whose replies it
// replays) and, while record is set, keeps what is read from the
// connection and counts the lines written.
type greetedConn struct {
	net.Conn
	pending []byte
	swallow int

	record   bool
	recorded []byte
	written  int
}

func (g *greetedConn) Read(p []byte) (int, error) {
	if len(g.pending) > 0 {
		n := copy(p, g.pending)
		g.pending = g.pending[n:]
		return n, nil
	}
	n, err := g.Conn.Read(p)
	if g.record {
		g.recorded = append(g.recorded, p[:n]...)
	}
	return n, err
}

func (g *greetedConn) Write(p []byte) (int, error) {
	skipped := 0
	for g.swallow > 0 && skipped < len(p) {
		i := bytes.IndexByte(p[skipped:], '\n')
		if i < 0 {
			return len(p), nil // the rest of a swallowed line
		}
		skipped += i + 1
		g.swallow--
	}
	if skipped == len(p) {
		return len(p), nil
	}
	if g.record {
		g.written += bytes.Count(p[skipped:], []byte("\n"))
	}
	n, err := g.Conn.Write(p[skipped:])
	return skipped + n, err
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

// connect tries the hosts in order and returns the first session. A
// host whose TLS policy refuses it, or whose session does not meet the
// policy (no STARTTLS, a certificate that fails it), is skipped like an
// unreachable one; it is never used in clear text. When no host is left,
// the error is the first policy violation if there was one (what the
// sender can act on), else the last host's error.
func (e *Engine) connect(ctx context.Context, hosts []mxHost, src ips.Source) (*conn, error) {
	var last, violation error
	for _, h := range hosts {
		cn, err := e.dialPolicy(ctx, h, src)
		if err == nil {
			return cn, nil
		}
		// Any failure to open a session, a 5xx greeting or EHLO included,
		// moves on to the next host (as Postfix's smtp_skip_5xx_greeting).
		last = err
		var v *tlspolicy.Violation
		if violation == nil && errors.As(err, &v) {
			violation = err
		}
		e.deps.Log.Info("MX unreachable", "mx", h.name, "err", err)
	}
	if violation != nil {
		return nil, violation
	}
	if last == nil {
		last = errors.New("no MX host to try")
	}
	return nil, last
}

// dialPolicy opens a session with h under its TLS policy (tlspolicy):
// STARTTLS when offered, in clear after a failed handshake only when the
// policy does not require TLS. A policy in testing mode only reports.
func (e *Engine) dialPolicy(ctx context.Context, h mxHost, src ips.Source) (*conn, error) {
	if e.deps.TLSPolicy != nil && h.domain != "" {
		h.req = e.deps.TLSPolicy.ForHost(ctx, h.domain, h.sts, h.mxSecure, h.name)
	}
	req := h.req
	if req.Refused != nil && req.Enforce {
		return nil, req.Refused
	}
	cn, err := e.dial(ctx, h, src, true)
	if errors.Is(err, errTLSHandshake) {
		if req.RequiresTLS() {
			return nil, req.NoTLS(h.name, err)
		}
		e.deps.Log.Warn("STARTTLS failed; retrying in clear", "mx", h.name, "err", err)
		failed := err
		cn, err = e.dial(ctx, h, src, false)
		if err == nil && req.Policy != "" {
			cn.violation = req.NoTLS(h.name, failed)
		}
	}
	if err != nil {
		return nil, err
	}
	if !cn.tls && req.Policy != "" {
		if req.RequiresTLS() {
			cn.close() // nothing was sent: RFC 8461 §5.1, RFC 7672 §2.2
			return nil, req.NoTLS(h.name, nil)
		}
		cn.violation = req.NoTLS(h.name, nil)
	}
	if req.Refused != nil && cn.violation == nil {
		cn.violation = req.Refused // testing mode: an MX host the policy does not list
	}
	if cn.violation != nil {
		e.deps.Log.Warn("TLS policy not met (reported, not enforced)", "mx", h.name, "domain", h.domain,
			"policy", req.Policy, "violation", cn.violation.Msg)
	}
	return cn, nil
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
		setAll(sessionFailure(cn.failed(CmdMail, err)))
		return res, isSMTPReply(err) && cn.reset()
	}
	var accepted []int
	for i, j := range t.jobs {
		if err := c.Rcpt(j.Recipient, nil); err != nil {
			res[i] = cn.failed(CmdRcpt, err)
			if !isSMTPReply(err) {
				setAll(sessionFailure(cn.failed(CmdRcpt, err)))
				return res, false
			}
			continue
		}
		accepted = append(accepted, i)
	}
	if len(accepted) == 0 {
		return res, cn.reset()
	}
	w, err := c.Data()
	atEnd := err == nil // a reply to the end of DATA, not to the DATA command
	if err == nil {
		if _, err = w.Write(t.body); err == nil {
			err = w.Close()
		} else {
			_ = w.Close()
		}
	}
	step := CmdData
	if atEnd {
		step = CmdEndOfData
	}
	for _, i := range accepted {
		res[i] = cn.failed(step, err)
		if !atEnd || !isSMTPReply(err) {
			res[i] = sessionFailure(res[i])
		}
		res[i].UTF8 = t.utf8
	}
	if err != nil && !isSMTPReply(err) {
		return res, false
	}
	return res, cn.reset()
}

// reset ends a transaction with RSET and reports whether the session is
// still usable. go-smtp's client says EHLO again after RSET; RSET does not
// undo the hello (RFC 5321 §4.1.1.5) and a strict server refuses a second
// one, so that hello is answered from the first instead of the wire.
func (cn *conn) reset() bool {
	if cn.c.Reset() != nil {
		return false
	}
	cn.g.pending, cn.g.swallow = cn.hello.reply, cn.hello.lines
	return true
}

// failed is the result of err at step (none when err is nil).
func (cn *conn) failed(step string, err error) Result {
	r := cn.result(err)
	if err != nil {
		r.Command = step
	}
	return r
}

func (cn *conn) result(err error) Result {
	r := Classify(err)
	r.MXHost, r.TLS, r.Verified, r.Session = cn.host.name, cn.tls, cn.verified, time.Since(cn.opened)
	r.TLSPolicy = cn.host.req.Policy
	if cn.violation != nil {
		r.TLSPolicyReport = cn.violation.Msg
	}
	r.SendingIP = cn.sendingIP()
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
