package inbound

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-msgauth/authres"
	"github.com/emersion/go-msgauth/dkim"

	"github.com/salvo-email/salvo/internal/dns"
	"github.com/salvo-email/salvo/internal/store"
)

// DKIM summary results.
const (
	DKIMNone      = "none"
	DKIMPass      = "pass"
	DKIMFail      = "fail"
	DKIMTempError = "temperror"
)

// checked is what the authentication checks of a received message found.
type checked struct {
	SPF, DKIM  string
	DKIMDomain string
}

// checkAuth checks the SPF of the sender and the DKIM signatures of a
// received message (go-msgauth; at most 5 signatures are verified).
// DKIM passes when any signature verifies.
func (s *Service) checkAuth(ctx context.Context, m store.InboundMessage) checked {
	c := checked{SPF: s.spf.check(ctx, s.deps.Resolver, net.ParseIP(m.ClientIP), m.Helo, m.Sender), DKIM: DKIMNone}
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(m.Body), &dkim.VerifyOptions{
		LookupTXT:        func(d string) ([]string, error) { return s.deps.Resolver.LookupTXT(ctx, d) },
		MaxVerifications: 5,
	})
	if err != nil && len(vs) == 0 {
		c.DKIM = DKIMTempError
		if dkim.IsPermFail(err) {
			c.DKIM = DKIMFail
		}
		return c
	}
	for _, v := range vs {
		switch {
		case v.Err == nil:
			c.DKIM, c.DKIMDomain = DKIMPass, v.Domain
			return c
		case dkim.IsTempFail(v.Err) && c.DKIM != DKIMFail:
			c.DKIM, c.DKIMDomain = DKIMTempError, v.Domain
		default:
			c.DKIM, c.DKIMDomain = DKIMFail, v.Domain
		}
	}
	return c
}

// spfCache remembers SPF results for a minute by client address, HELO
// name and sender, so a sender's burst costs one evaluation.
type spfCache struct {
	mu sync.Mutex
	m  map[string]spfEntry
}

type spfEntry struct {
	result string
	until  time.Time
}

const spfTTL = time.Minute

func (c *spfCache) check(ctx context.Context, r dns.Resolver, ip net.IP, helo, sender string) string {
	key := ip.String() + "|" + strings.ToLower(helo) + "|" + strings.ToLower(sender)
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.result
	}
	res := checkSPF(ctx, r, ip, helo, sender)
	c.mu.Lock()
	if c.m == nil || len(c.m) > 10_000 {
		c.m = map[string]spfEntry{}
	}
	c.m[key] = spfEntry{result: res, until: now.Add(spfTTL)}
	c.mu.Unlock()
	return res
}

// headers are the fields recording the checks, prepended to the message:
// Authentication-Results (RFC 8601) and Mailgun's X-Mailgun-Spf and
// X-Mailgun-Dkim-Check-Result.
func (c checked) headers(hostname string, m store.InboundMessage) string {
	results := []authres.Result{
		&authres.SPFResult{Value: authres.ResultValue(c.SPF), From: m.Sender, Helo: m.Helo},
		&authres.DKIMResult{Value: authres.ResultValue(c.DKIM), Domain: c.DKIMDomain},
	}
	var b strings.Builder
	b.WriteString("Authentication-Results: " + authres.Format(hostname, results) + "\r\n")
	b.WriteString("X-Mailgun-Spf: " + title(c.SPF) + "\r\n")
	b.WriteString("X-Mailgun-Dkim-Check-Result: " + title(c.DKIM) + "\r\n")
	return b.String()
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
