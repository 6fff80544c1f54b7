package inbound

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/smtp"
	"github.com/salvo-email/salvo/internal/store"
)

// NewSession implements smtp.Backend: one MX session per connection.
func (s *Service) NewSession(c *smtp.Conn) (gosmtp.Session, error) {
	return &mxSession{s: s, conn: c}, nil
}

type mxSession struct {
	s      *Service
	conn   *smtp.Conn
	from   string
	rcpts  []string
	unsubs []string // unsubscribe addresses (tracking), not stored
}

func reply(code int, enhanced gosmtp.EnhancedCode, msg string) *gosmtp.SMTPError {
	return &gosmtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: msg}
}

var errTemporary = reply(451, gosmtp.EnhancedCode{4, 3, 0}, "Temporary failure; please try again")

func (m *mxSession) Reset()        { m.from, m.rcpts, m.unsubs = "", nil, nil }
func (m *mxSession) Logout() error { return nil }

func (m *mxSession) Mail(from string, _ *gosmtp.MailOptions) error {
	m.from, m.rcpts, m.unsubs = from, nil, nil
	return nil
}

// Rcpt accepts only addresses of domains this region serves (RFC 5321
// §3.6.2: an MX that is not a relay refuses the rest).
func (m *mxSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	domain := strings.ToLower(mail.Domain(to))
	if domain == "" {
		return reply(501, gosmtp.EnhancedCode{5, 1, 3}, "Bad recipient address syntax")
	}
	if len(m.rcpts)+len(m.unsubs) >= m.s.cfg.MaxRecipients {
		return reply(452, gosmtp.EnhancedCode{4, 5, 3}, "Too many recipients")
	}
	if u := m.s.deps.Unsubscribes; u != nil && u.IsUnsubscribeAddress(m.conn.Ctx, to) {
		m.unsubs = append(m.unsubs, to)
		return nil
	}
	if _, isBounce, valid := m.s.bounceAddress(to); isBounce && !valid {
		// A forged, altered or stale bounce address: refused, so it
		// causes no backscatter and no state change (returns.go).
		return reply(550, gosmtp.EnhancedCode{5, 1, 1}, "No such bounce address")
	}
	_, served, err := m.s.domains.get(m.conn.Ctx, domain)
	if err != nil {
		m.s.deps.Log.Error("mx: domain lookup", "domain", domain, "err", err)
		return errTemporary
	}
	if !served {
		return reply(550, gosmtp.EnhancedCode{5, 7, 1}, "Relaying denied: "+domain+" is not a domain of this server")
	}
	m.rcpts = append(m.rcpts, to)
	return nil
}

// Data stores the message durably with its route job, then answers 250.
// Mail to unsubscribe addresses unsubscribes whom they name, and is not
// kept.
func (m *mxSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err // 552 5.3.4 over SIZE, from go-smtp
	}
	for _, to := range m.unsubs {
		if err := m.s.deps.Unsubscribes.UnsubscribeByMail(m.conn.Ctx, to); err != nil {
			m.s.deps.Log.Error("mx: unsubscribe by mail", "err", err)
			return errTemporary
		}
	}
	if len(m.rcpts) == 0 {
		return reply(250, gosmtp.EnhancedCode{2, 0, 0}, "OK: unsubscribed")
	}
	now := m.s.deps.Now().UTC()
	msg := store.InboundMessage{Key: newKey(now), Domain: strings.ToLower(mail.Domain(m.rcpts[0])), Sender: m.from,
		Recipients: append([]string(nil), m.rcpts...), Helo: m.conn.Helo(), TLS: m.conn.TLS(), ReceivedAt: now}
	if m.conn.Remote != nil {
		msg.ClientIP = m.conn.Remote.String()
	}
	msg.Body = append([]byte(m.s.trace(msg)), raw...)
	fast := m.s.reserveFast()
	if fast {
		msg.LeaseOwner, msg.LeaseUntil = m.s.owner, now.Add(m.s.cfg.Lease)
	}
	id, err := m.s.deps.Store.ReceiveInbound(m.conn.Ctx, msg)
	if err != nil {
		if fast {
			m.s.unreserveFast()
		}
		m.s.deps.Log.Error("mx: store received message", "err", err)
		return errTemporary
	}
	if fast {
		m.s.handOver(msg, id)
	} else {
		m.s.Notify()
	}
	return reply(250, gosmtp.EnhancedCode{2, 0, 0}, "OK: queued as "+msg.Key)
}

// trace is what the MX adds on top of a received message: a Received
// field (RFC 5321 §4.4), the envelope sender and Mailgun's incoming mark.
func (s *Service) trace(m store.InboundMessage) string {
	with := "ESMTP"
	if m.TLS {
		with = "ESMTPS"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Received: from %s (%s [%s])\r\n\tby %s with %s id %s\r\n\tfor <%s>; %s\r\n",
		headerSafe(m.Helo), headerSafe(m.Helo), m.ClientIP, s.cfg.Hostname, with, m.Key,
		headerSafe(m.Recipients[0]), m.ReceivedAt.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	fmt.Fprintf(&b, "X-Envelope-From: <%s>\r\nX-Mailgun-Incoming: Yes\r\n", headerSafe(m.Sender))
	return b.String()
}

// headerSafe keeps client-given text from breaking a header line.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r < 0x20 {
			return -1
		}
		return r
	}, s)
}

// newKey returns a storage key shaped like the send path's: 27 characters
// of base64url, a time prefix then 96 random bits.
func newKey(now time.Time) string {
	b := make([]byte, 20)
	binary.BigEndian.PutUint64(b, uint64(now.UnixMicro()))
	_, _ = rand.Read(b[8:])
	return base64.RawURLEncoding.EncodeToString(b)
}

// domainCache remembers this region's domains for a few seconds, so a
// busy MX and its workers do not read the store for every recipient. A
// domain deleted meanwhile is served at most domainTTL longer; a domain
// created a moment ago is served at once (misses are not remembered).
type domainCache struct {
	st store.Regional
	mu sync.Mutex
	m  map[string]cachedDomain
}

type cachedDomain struct {
	d     store.Domain
	until time.Time
}

const domainTTL = 5 * time.Second

func newDomainCache(st store.Regional) *domainCache {
	return &domainCache{st: st, m: map[string]cachedDomain{}}
}

// get returns a domain of this region; ok is false when there is none.
func (c *domainCache) get(ctx context.Context, name string) (store.Domain, bool, error) {
	now := time.Now() // wall clock: a test's fake clock must not freeze the cache
	c.mu.Lock()
	e, hit := c.m[name]
	c.mu.Unlock()
	if hit && now.Before(e.until) {
		return e.d, true, nil
	}
	d, err := c.st.Domain(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		c.mu.Lock()
		delete(c.m, name)
		c.mu.Unlock()
		return d, false, nil
	}
	if err != nil {
		return d, false, err
	}
	c.mu.Lock()
	if len(c.m) > 10_000 {
		clear(c.m)
	}
	c.m[name] = cachedDomain{d: d, until: now.Add(domainTTL)}
	c.mu.Unlock()
	return d, true, nil
}
