package delivery

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	netmail "net/mail"
	"strings"
	"sync"

	"github.com/emersion/go-msgauth/dkim"

	dkimkeys "github.com/salvo-email/salvo/internal/dkim"
	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/msgmeta"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/tracking"
)

// Tracker rewrites each recipient's copy for open, click and unsubscribe
// tracking; package tracking implements it. Rewriting happens here, per
// recipient (its tokens name the message and the recipient), before DKIM
// signing.
type Tracker interface {
	// Track returns the rewriting of each recipient's copy of m, a message
	// of d, or nil when m is not tracked. list is the mailing list a copy
	// went through.
	Track(d store.Domain, m tracking.Message) func(rcpt, list string) mail.Rewriting
}

// loaded is a message ready for delivery: its body, meta and, once
// needed, its DKIM-signed form (shared by all recipients when the content
// is the same for all).
type loaded struct {
	msg    store.Message
	meta   msgmeta.Meta
	domain store.Domain
	signer crypto.Signer // nil: do not sign
	// track rewrites a recipient's copy for tracking; nil: not tracked.
	track func(rcpt, list string) mail.Rewriting

	once   sync.Once
	signed []byte
	err    error
}

// messageCache keeps recently used messages (and their signed bodies) so
// that recipients of one message claimed in different batches share one
// signature. It is bounded by bytes (messageCacheBytes): each entry counts
// twice its body's capacity (the body handed over by the send path may have
// room to spare; and the signed copy) and entryOverhead for its metadata.
type messageCache struct {
	mu    sync.Mutex
	limit int
	size  int
	items map[string]*loaded
	order []string
}

// messageCacheBytes bounds the message cache; with the hand-over of
// accepted messages (16 MB, fresh.go) it is most of what the delivery
// engine holds, whatever the backlog.
const messageCacheBytes = 32 << 20

// entryOverhead is what a cached message holds besides its bodies
// (metadata, domain, maps), counted against the bound.
const entryOverhead = 2048

func newMessageCache(limit int) *messageCache {
	return &messageCache{limit: limit, items: map[string]*loaded{}}
}

func (c *messageCache) get(key string) *loaded {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.items[key]
}

func (c *messageCache) put(l *loaded) *loaded {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.items[l.msg.Key]; ok {
		return old
	}
	c.items[l.msg.Key] = l
	c.order = append(c.order, l.msg.Key)
	c.size += 2*cap(l.msg.Body) + entryOverhead
	for c.size > c.limit && len(c.order) > 1 {
		k := c.order[0]
		c.order = c.order[1:]
		if old, ok := c.items[k]; ok {
			c.size -= 2*cap(old.msg.Body) + entryOverhead
			delete(c.items, k)
		}
	}
	return l
}

// load returns the message of a job with its domain and signing key.
func (e *Engine) load(ctx context.Context, j store.Job) (*loaded, error) {
	if l := e.cache.get(j.MessageKey); l != nil {
		return l, nil
	}
	if m, ok := e.fresh.take(j.MessageKey); ok && m.Domain == j.Domain {
		return e.loadStored(ctx, m)
	}
	m, err := e.deps.Store.Message(ctx, j.Domain, j.MessageKey)
	if err != nil {
		return nil, fmt.Errorf("load message %s: %w", j.MessageKey, err)
	}
	return e.loadStored(ctx, m)
}

// prefetch loads the messages of jobs that are not cached yet with one
// query per domain, rather than one each (a chunk often holds many
// messages). What it cannot load, load tries again and reports.
func (e *Engine) prefetch(ctx context.Context, jobs []store.Job) {
	byDomain := map[string][]string{}
	seen := map[string]bool{}
	for _, j := range jobs {
		if seen[j.MessageKey] || e.cache.get(j.MessageKey) != nil || e.fresh.has(j.MessageKey) {
			continue
		}
		seen[j.MessageKey] = true
		byDomain[j.Domain] = append(byDomain[j.Domain], j.MessageKey)
	}
	for d, keys := range byDomain {
		if len(keys) < 2 {
			continue
		}
		ms, err := e.deps.Store.Messages(ctx, d, keys)
		if err != nil {
			continue
		}
		for _, m := range ms {
			_, _ = e.loadStored(ctx, m)
		}
	}
}

// loadStored makes a stored message ready to send and caches it.
func (e *Engine) loadStored(ctx context.Context, m store.Message) (*loaded, error) {
	meta, err := msgmeta.Decode(m.Meta)
	if err != nil {
		return nil, fmt.Errorf("message %s meta: %w", m.Key, err)
	}
	d, err := e.deps.Store.Domain(ctx, m.Domain)
	if err != nil {
		return nil, fmt.Errorf("domain %s: %w", m.Domain, err)
	}
	var signer crypto.Signer
	if meta.Options.DKIM {
		if signer, err = e.signer(d); err != nil {
			return nil, err
		}
	}
	// A loaded message keeps only what rendering needs of its domain: the
	// store hands each caller its own copy, and the sealed key and DNS
	// check results (kilobytes) would otherwise be held once per cached
	// message, a large share of the heap under a dead-destination load
	// (docs/performance.md, "Dead destinations and memory").
	d.DKIMPrivate, d.DNSChecks = nil, nil
	l := &loaded{msg: m, meta: meta, domain: d, signer: signer}
	if e.deps.Tracker != nil && !meta.Options.TestMode {
		o := meta.Options
		l.track = e.deps.Tracker.Track(d, tracking.Message{Key: m.Key, Body: m.Body, Tags: meta.Info.Tags,
			Options: tracking.Options{Tracking: o.Tracking, Clicks: o.TrackingClicks, Opens: o.TrackingOpens, PixelTop: o.TrackingPixelTop}})
	}
	return e.cache.put(l), nil
}

// signer returns the domain's DKIM key, opened and parsed once per key
// (keyed by its sealed bytes, so a new key is picked up at once).
func (e *Engine) signer(d store.Domain) (crypto.Signer, error) {
	id := d.Name + "\x00" + string(d.DKIMPrivate)
	if v, ok := e.signers.Load(id); ok {
		return v.(crypto.Signer), nil
	}
	pemKey, err := e.deps.Box.Open(domains.DKIMPurpose(d.Name), d.DKIMPrivate)
	if err != nil {
		return nil, fmt.Errorf("domain %s DKIM key: %w", d.Name, err)
	}
	k, err := dkimkeys.ParsePrivate(pemKey)
	if err != nil {
		return nil, fmt.Errorf("domain %s DKIM key: %w", d.Name, err)
	}
	e.signers.Store(id, k)
	return k, nil
}

// personal reports whether each recipient gets its own rendering: batch
// and list sends, and tracked messages.
func (l *loaded) personal() bool { return l.meta.Personalised() || l.track != nil }

// body returns what to send to the job's recipient, signed.
func (l *loaded) body(j store.Job) ([]byte, error) {
	if !l.personal() {
		l.once.Do(func() { l.signed, l.err = l.sign(l.msg.Body) })
		return l.signed, l.err
	}
	p, err := l.meta.JobPersonal(j.Vars)
	if err != nil {
		return nil, fmt.Errorf("recipient variables: %w", err)
	}
	// A batch copy shows only its recipient in To; a list copy keeps the
	// list's To.
	to := ""
	if l.meta.Batch && p.List == "" {
		to = l.toHeaderFor(j.Recipient)
	}
	rw := mail.Rewriting{To: to, Replace: msgmeta.PersonalReplacer(j.Recipient, p)}
	if l.track != nil {
		t := l.track(j.Recipient, p.List)
		personal := rw.Replace
		rw.Replace = func(s string) string { return t.Replace(personal(s)) }
		rw.HTML, rw.Text, rw.Headers = t.HTML, t.Text, t.Headers
	}
	raw, err := mail.Rewrite(l.msg.Body, rw)
	if err != nil {
		return nil, fmt.Errorf("personalise for %s: %w", j.Recipient, err)
	}
	return l.sign(raw)
}

// toHeaderFor is the To header of a batch copy: the recipient alone, with
// its display name from the original To when it had one.
func (l *loaded) toHeaderFor(rcpt string) string {
	if list, err := netmail.ParseAddressList(l.meta.Info.To); err == nil {
		for _, a := range list {
			if strings.EqualFold(a.Address, rcpt) {
				return a.String()
			}
		}
	}
	return (&netmail.Address{Address: rcpt}).String()
}

// signedHeaders are the header fields covered by Salvo's DKIM signatures.
var signedHeaders = []string{"From", "To", "Cc", "Subject", "Date", "Message-Id", "Reply-To",
	"Mime-Version", "Content-Type", "Content-Transfer-Encoding", "In-Reply-To", "References",
	"List-Unsubscribe", "List-Unsubscribe-Post", "X-Mailgun-Variables"}

func (l *loaded) sign(raw []byte) ([]byte, error) {
	if l.signer == nil {
		return raw, nil
	}
	var out bytes.Buffer
	out.Grow(len(raw) + 1024)
	err := dkim.Sign(&out, bytes.NewReader(raw), &dkim.SignOptions{
		Domain: l.domain.Name, Selector: l.domain.DKIMSelector, Signer: l.signer,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
		HeaderKeys: presentHeaders(raw),
	})
	if err != nil {
		return nil, fmt.Errorf("dkim sign: %w", err)
	}
	return out.Bytes(), nil
}

// presentHeaders returns the signed header names present in raw, so the
// signature does not claim absent fields.
func presentHeaders(raw []byte) []string {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(raw)
	}
	head := strings.ToLower(string(raw[:end]))
	var out []string
	for _, h := range signedHeaders {
		l := strings.ToLower(h) + ":"
		if strings.HasPrefix(head, l) || strings.Contains(head, "\n"+l) {
			out = append(out, h)
		}
	}
	return out
}
