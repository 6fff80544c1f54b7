// Package submission is the outgoing SMTP relay (docs/mailgun-contract.md §12.2): clients
// authenticate with a domain's SMTP credential and submit messages, which
// go through the same send path as the HTTP API (send.Service.Send with a
// MIME submission, method "smtp").
//
// Rules, with the RFCs they follow:
//   - AUTH PLAIN and LOGIN (RFC 4954) with the credential's full address,
//     only over TLS (STARTTLS, RFC 3207, or implicit TLS, RFC 8314) unless
//     the client is on loopback and the operator allowed it for
//     development. Failed attempts are slowed down: each waits before its
//     535 reply, and repeated failures from one address or for one login
//     make further attempts wait longer (auth.LoginThrottle).
//   - MAIL FROM needs authentication (530 5.7.0) and an address of the
//     credential's domain (553 5.7.1): a credential never sends as another
//     domain, so the relay is never open. Each MAIL FROM reads the
//     credential and the domain again: a credential deleted or given a new
//     password since AUTH gets 530 5.7.0, a deleted or disabled domain
//     550 5.7.1, from the next transaction on.
//   - The message is accepted (250) only after Send returned, that is
//     after its transaction is durable; anything but a client mistake is a
//     451 so the client tries again and nothing is lost.
//   - X-Mailgun-* headers are honoured and removed (headers.go), their
//     RFC 2047 encoded words decoded first (RFC 2047 §6.2); HTTP
//     /messages.mime reads them the same way (ReadMailgunHeaders).
//   - Messages per second are limited per connection and per credential
//     (451 4.7.1 beyond).
package submission

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/send"
	"github.com/salvo-email/salvo/internal/smtp"
	"github.com/salvo-email/salvo/internal/store"
)

// Config tunes the relay.
type Config struct {
	// InsecureAuthLoopback allows AUTH without TLS from loopback clients.
	InsecureAuthLoopback bool
	// RatePerConnection and RatePerCredential are messages per second
	// (bursts of twice that); 0 means no limit.
	RatePerConnection float64
	RatePerCredential float64
	// AuthFailureDelay is how long a failed AUTH waits before its reply.
	AuthFailureDelay time.Duration
	MaxRecipients    int
}

// Deps are the relay's collaborators.
type Deps struct {
	Credentials *auth.Credentials
	Domains     store.Regional
	Send        *send.Service
	Throttle    *auth.LoginThrottle
	// Subaccounts tells whether a subaccount's domain may send (a
	// disabled subaccount may not); nil: every domain is the primary
	// account's.
	Subaccounts store.SubaccountStore
	Now         func() time.Time
	Log         *slog.Logger
}

// Relay makes submission sessions; it is an smtp.Backend.
type Relay struct {
	cfg     Config
	deps    Deps
	perCred *Limiter
}

// New makes a relay.
func New(cfg Config, deps Deps) *Relay {
	return &Relay{cfg: cfg, deps: deps, perCred: NewLimiter(cfg.RatePerCredential, deps.Now)}
}

// NewSession implements smtp.Backend.
func (r *Relay) NewSession(c *smtp.Conn) (gosmtp.Session, error) {
	return &session{r: r, conn: c, perConn: NewLimiter(r.cfg.RatePerConnection, r.deps.Now)}, nil
}

type session struct {
	r       *Relay
	conn    *smtp.Conn
	perConn *Limiter
	cred    *store.Credential
	domain  store.Domain
	rcpts   []string
}

func reply(code int, enhanced gosmtp.EnhancedCode, msg string) *gosmtp.SMTPError {
	return &gosmtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: msg}
}

var (
	errAuthRequired = reply(530, gosmtp.EnhancedCode{5, 7, 0}, "Authentication required")
	errNeedTLS      = reply(538, gosmtp.EnhancedCode{5, 7, 11}, "Encryption required for requested authentication mechanism")
	errRateLimited  = reply(451, gosmtp.EnhancedCode{4, 7, 1}, "Sending rate limit exceeded; try again later")
	errTooManyRcpts = reply(452, gosmtp.EnhancedCode{4, 5, 3}, "Too many recipients")
	errTemporary    = reply(451, gosmtp.EnhancedCode{4, 3, 0}, "Temporary failure; please try again")
)

func (s *session) Reset() { s.rcpts = nil }

func (s *session) Logout() error { return nil }

// Mail checks the sender (RFC 5321 §4.1.1.2) against the credential.
func (s *session) Mail(from string, _ *gosmtp.MailOptions) error {
	if s.cred == nil {
		return errAuthRequired
	}
	if err := s.recheck(); err != nil {
		return err
	}
	if !strings.EqualFold(mail.Domain(from), s.cred.Domain) {
		return reply(553, gosmtp.EnhancedCode{5, 7, 1}, "Sender address <"+from+"> is not in the domain "+
			s.cred.Domain+" of login "+s.cred.Login)
	}
	d, err := s.r.deps.Domains.Domain(s.conn.Ctx, s.cred.Domain)
	if errors.Is(err, store.ErrNotFound) {
		return reply(550, gosmtp.EnhancedCode{5, 7, 1}, "Domain "+s.cred.Domain+" does not exist any more")
	} else if err != nil {
		s.r.deps.Log.Error("smtp submission: domain lookup", "domain", s.cred.Domain, "err", err)
		return errTemporary
	}
	if d.State == store.DomainDisabled {
		return reply(550, gosmtp.EnhancedCode{5, 7, 1}, "Domain "+d.Name+" is disabled")
	}
	if err := s.subaccountMaySend(d); err != nil {
		return err
	}
	if !s.perConn.Allow("") || !s.r.perCred.Allow(s.cred.Login) {
		return errRateLimited
	}
	s.domain = d
	s.rcpts = nil
	return nil
}

// subaccountMaySend refuses a domain of a disabled subaccount (550
// 5.7.1, as the HTTP API answers 403): it keeps its data but cannot send.
func (s *session) subaccountMaySend(d store.Domain) error {
	if d.AccountID == "" || s.r.deps.Subaccounts == nil {
		return nil
	}
	sub, err := s.r.deps.Subaccounts.Subaccount(s.conn.Ctx, d.AccountID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.r.deps.Log.Error("smtp submission: subaccount lookup", "domain", d.Name, "err", err)
		return errTemporary
	}
	if err != nil || sub.Status != store.SubaccountOpen {
		return reply(550, gosmtp.EnhancedCode{5, 7, 1}, "The subaccount of domain "+d.Name+
			" is disabled and cannot send; its parent account can enable it again")
	}
	return nil
}

// errRevoked refuses a transaction of a session whose credential was
// deleted, or given a new password, after it authenticated (RFC 4954 §6:
// 530 5.7.0). AUTH cannot be repeated on a connection, so the client has
// to reconnect, where the old password fails.
var errRevoked = reply(530, gosmtp.EnhancedCode{5, 7, 0}, "Authentication credentials revoked; reconnect and authenticate again")

// recheck makes revocation bite at once: every MAIL FROM reads the
// session's credential again (one indexed read) and refuses the
// transaction, and every later one, when it is gone or its password hash
// changed since AUTH.
func (s *session) recheck() error {
	cur, err := s.r.deps.Credentials.Store.Credential(s.conn.Ctx, s.cred.Login)
	if errors.Is(err, store.ErrNotFound) || err == nil && !bytes.Equal(cur.Hash, s.cred.Hash) {
		s.r.deps.Log.Info("smtp submission: credential revoked during the session", "login", s.cred.Login,
			"remote", s.conn.Remote.String())
		s.cred = nil
		return errRevoked
	}
	if err != nil {
		s.r.deps.Log.Error("smtp submission: credential lookup", "login", s.cred.Login, "err", err)
		return errTemporary
	}
	return nil
}

func (s *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if s.cred == nil {
		return errAuthRequired
	}
	if s.r.cfg.MaxRecipients > 0 && len(s.rcpts) >= s.r.cfg.MaxRecipients {
		return errTooManyRcpts
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

// Data accepts the message through the send path and answers 250 only
// once Send returned (the message is durable).
func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err // 552 5.3.4 when over SIZE, from go-smtp
	}
	h, err := readMailgunHeaders(raw, s.domain)
	if err != nil {
		return s.smtpError(err)
	}
	sub := &send.Submission{Domain: s.domain, Method: "smtp", MIME: h.raw, To: append([]string(nil), s.rcpts...),
		Tags: h.tags, Options: h.options, Vars: h.vars, RecipientVar: h.recipientVar, Template: h.template}
	if s.conn.Remote != nil {
		sub.OriginatingIP = s.conn.Remote.String()
	}
	resp, err := s.r.deps.Send.Send(s.conn.Ctx, sub)
	if err != nil {
		return s.smtpError(err)
	}
	// go-smtp takes a DATA reply other than its fixed "OK: queued" only as
	// an *SMTPError; this one is a success.
	return reply(250, gosmtp.EnhancedCode{2, 0, 0}, "OK: queued as "+resp.ID)
}

// smtpError maps a send or header error to a reply, the one place a
// fault becomes SMTP here. A client's mistake is a permanent failure
// (RFC 5321 §4.2.1: 5yz, do not repeat it as is): TooLarge is 552 with
// 5.3.4 "message too big for system" (RFC 3463 §3.4), every other client
// kind 550 with 5.6.0 "other or undefined media error" (RFC 3463 §3.7:
// the content was refused). Anything else — Unavailable, a store failure — is 451
// temporary (4yz, try again later).
func (s *session) smtpError(err error) error {
	if f, ok := fault.As(err); ok && f.Kind.Client() {
		if f.Kind == fault.TooLarge {
			return reply(552, gosmtp.EnhancedCode{5, 3, 4}, f.Message)
		}
		return reply(550, gosmtp.EnhancedCode{5, 6, 0}, f.Message)
	}
	if errors.Is(err, context.Canceled) {
		return errTemporary
	}
	s.r.deps.Log.Error("smtp submission failed", "login", s.cred.Login, "err", err)
	return errTemporary
}

// AuthMechanisms implements gosmtp.AuthSession.
func (s *session) AuthMechanisms() []string { return []string{sasl.Plain, sasl.Login} }

// Auth implements gosmtp.AuthSession.
func (s *session) Auth(mech string) (sasl.Server, error) {
	if !s.conn.TLS() && !(s.r.cfg.InsecureAuthLoopback && s.conn.Loopback()) {
		return nil, errNeedTLS
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && !strings.EqualFold(identity, username) {
				return reply(535, gosmtp.EnhancedCode{5, 7, 8}, "Authorization identity must be the login")
			}
			return s.authenticate(username, password)
		}), nil
	case sasl.Login:
		return &loginServer{auth: s.authenticate}, nil
	}
	return nil, gosmtp.ErrAuthUnknownMechanism
}
