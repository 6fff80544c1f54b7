package tlspolicy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/salvo-email/salvo/internal/dns"
)

// maxPolicyBytes bounds a policy body (RFC 8461 §3.3 suggests 64 KiB).
const maxPolicyBytes = 64 << 10

// entry is what the node knows of one domain's MTA-STS.
type entry struct {
	policy  *Policy   // nil: none known
	checked time.Time // when the TXT record was last looked up
}

type cache struct {
	mu       sync.Mutex
	entries  map[string]*entry
	inflight map[string]chan struct{}
}

// STS returns domain's MTA-STS policy, nil when it has none (or none
// could be had and none is cached; RFC 8461 §5 fails open). It looks the
// TXT record up at most every Recheck (every minute after a failed lookup
// or fetch) and fetches the policy when the id changed or half the cached
// copy's max_age has passed.
func (c *Checker) STS(ctx context.Context, domain string) *Policy {
	if !c.cfg.MTASTS {
		return nil
	}
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	for {
		now := c.deps.Now()
		c.cache.mu.Lock()
		e := c.cache.entries[domain]
		if e != nil && now.Sub(e.checked) < c.cfg.Recheck {
			p := e.policy
			c.cache.mu.Unlock()
			return live(p, now)
		}
		wait, busy := c.cache.inflight[domain]
		if !busy {
			c.cache.inflight[domain] = make(chan struct{})
		}
		c.cache.mu.Unlock()
		if !busy {
			return c.refresh(ctx, domain)
		}
		select { // another delivery is refreshing this domain
		case <-wait:
		case <-ctx.Done():
			return nil
		}
	}
}

// live is p unless it has expired.
func live(p *Policy, now time.Time) *Policy {
	if p == nil || !now.Before(p.Expires) {
		return nil
	}
	return p
}

// refresh looks domain's record up and fetches its policy as needed; the
// caller holds domain's inflight slot, which refresh frees.
func (c *Checker) refresh(ctx context.Context, domain string) *Policy {
	now := c.deps.Now()
	c.cache.mu.Lock()
	var cached *Policy
	if e := c.cache.entries[domain]; e != nil {
		cached = live(e.policy, now)
	}
	c.cache.mu.Unlock()
	p, ok := c.resolve(ctx, domain, cached, now)
	checked := now
	if !ok {
		// A lookup or fetch that failed is tried again after
		// retryFailed, not after a whole Recheck.
		checked = now.Add(min(retryFailed, c.cfg.Recheck) - c.cfg.Recheck)
	}
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	if p != nil || len(c.cache.entries) < c.cfg.MaxEntries {
		c.cache.entries[domain] = &entry{policy: p, checked: checked}
	}
	close(c.cache.inflight[domain])
	delete(c.cache.inflight, domain)
	return p
}

// retryFailed is how soon a domain whose record lookup or policy fetch
// failed is tried again.
const retryFailed = time.Minute

// resolve is the policy to use for domain given the cached one, and
// whether the answer is settled (false: a lookup or fetch failed).
func (c *Checker) resolve(ctx context.Context, domain string, cached *Policy, now time.Time) (*Policy, bool) {
	log := c.deps.Log.With("domain", domain)
	txts, err := c.deps.Resolver.LookupTXT(ctx, "_mta-sts."+domain)
	var id string
	if err == nil {
		id, err = pickRecord(txts)
	}
	switch {
	case errors.Is(err, dns.ErrNoRecords) || errors.Is(err, errNoRecord):
		// RFC 8461 §5.1: no record, but a cached policy is still used
		// until it expires (removing a policy is done with mode none).
		return cached, true
	case err != nil:
		log.Info("MTA-STS record lookup failed", "err", err)
		return cached, false
	case cached != nil && cached.ID == id && now.Before(cached.Expires.Add(-cached.MaxAge/2)):
		return cached, true
	}
	p, err := c.fetch(ctx, domain)
	if err != nil {
		log.Warn("MTA-STS policy fetch failed", "id", id, "err", err)
		return cached, false // RFC 8461 §5.1: keep a valid cached policy
	}
	p.ID, p.Expires = id, now.Add(p.MaxAge)
	if cached == nil || cached.ID != id {
		log.Info("MTA-STS policy", "id", id, "mode", p.Mode, "mx", strings.Join(p.MX, ","), "max_age", p.MaxAge)
	}
	return p, true
}

// fetch gets https://mta-sts.<domain>/.well-known/mta-sts.txt (RFC 8461
// §3.3): a certificate valid for that name, no redirects, status 200,
// at most maxPolicyBytes, within FetchTimeout. The name is resolved
// through the Resolver (--dns), as delivery's names are.
func (c *Checker) fetch(ctx context.Context, domain string) (*Policy, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.FetchTimeout)
	defer cancel()
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: c.deps.RootCAs, MinVersion: tls.VersionTLS12},
		DialContext:       c.dialResolved,
		DisableKeepAlives: true,
		Proxy:             nil,
	}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return errors.New("redirects are not followed (RFC 8461 §3.3)")
	}}
	url := "https://mta-sts." + domain + "/.well-known/mta-sts.txt"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := cl.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPolicyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if len(body) > maxPolicyBytes {
		return nil, fmt.Errorf("GET %s: policy larger than %d bytes", url, maxPolicyBytes)
	}
	p, err := ParsePolicy(body)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// dialResolved dials host:port at each address the Resolver gives host.
func (c *Checker) dialResolved(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ips, err := c.deps.Resolver.LookupIP(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("address of %s: %w", host, err)
	}
	var last error
	for _, ip := range ips {
		nc, err := c.deps.Dial(ctx, "tcp", net.JoinHostPort(ip.String(), port))
		if err == nil {
			return nc, nil
		}
		last = err
	}
	return nil, last
}

// Start refreshes cached policies in the background every Recheck:
// domains with a policy are looked up again (and refetched as STS would),
// domains without one are forgotten once stale. Stop ends it.
func (c *Checker) Start() {
	if !c.started.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer close(c.done)
		defer func() {
			if v := recover(); v != nil {
				c.deps.Log.Error("MTA-STS refresh panicked", "panic", v)
			}
		}()
		t := time.NewTicker(c.cfg.Recheck)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				c.RefreshAll(context.Background())
			}
		}
	}()
}

// Stop ends the background refresh started by Start.
func (c *Checker) Stop() {
	c.stopOnce.Do(func() { close(c.stop) })
	if c.started.Load() {
		<-c.done
	}
}

// RefreshAll refreshes every domain whose record is due for a recheck.
func (c *Checker) RefreshAll(ctx context.Context) {
	now := c.deps.Now()
	var due []string
	c.cache.mu.Lock()
	for d, e := range c.cache.entries {
		if now.Sub(e.checked) < c.cfg.Recheck {
			continue
		}
		if live(e.policy, now) == nil {
			delete(c.cache.entries, d)
			continue
		}
		if _, busy := c.cache.inflight[d]; !busy {
			c.cache.inflight[d] = make(chan struct{})
			due = append(due, d)
		}
	}
	c.cache.mu.Unlock()
	for _, d := range due {
		c.refresh(ctx, d)
	}
}
