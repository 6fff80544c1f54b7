// Package tracking is open, click and unsubscribe tracking (docs/mailgun-contract.md §9).
//
// At delivery, each recipient's copy of a tracked message is rewritten
// (Track, called by package delivery through a small interface): links of
// the HTML part (and of the text part unless clicks are htmlonly) point at
// the domain's tracking host, <web_scheme>://<web_prefix>.<domain>/c/<token>;
// a 1×1 pixel /o/<token> is added for opens; %unsubscribe_url% and its
// kin become /u/<token> links, with the domain's footers and the
// List-Unsubscribe (RFC 2369) and List-Unsubscribe-Post (RFC 8058) fields
// when unsubscribe tracking is on. Per-message o:tracking* options win
// over the domain's settings.
//
// The HTTP side (Handler) is served by the node's one HTTP listener for
// requests whose Host is a domain's tracking host, and under /t/ on any
// host (local use, tests: --tracking-base-url).
//
// Invariants: a token is sealed with the node's secret (AES-256-GCM), so
// it reveals nothing and cannot be forged or altered; a click token
// redirects only to the URL it was made with, so the redirect is never an
// open redirect. Any token that does not open is a 404 that records
// nothing. Every open and every click is recorded (as Mailgun does), in
// the background and in batches (recorder.go); an unsubscribe is recorded
// before it is confirmed, once per scope, its suppression row written in
// the same transaction as its event.
//
// Failure rules: when an event cannot be written the reader still gets
// the pixel or the redirect (the error is logged); an unsubscribe that
// cannot be written is a 503 so the reader can try again.
package tracking

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/obs"
	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/startstop"
	"github.com/salvo-email/salvo/internal/store"
)

// Store is what tracking reads and writes.
type Store interface {
	Domain(ctx context.Context, name string) (store.Domain, error)
	AppendEvents(ctx context.Context, events []store.Event) error
	Unsubscribe(ctx context.Context, rec store.Suppression, ev store.Event) (bool, error)
}

// ListUnsubscriber unsubscribes a member from a mailing list
// (%mailing_list_unsubscribe_url%); package lists implements it.
type ListUnsubscriber interface {
	Unsubscribe(ctx context.Context, list, address string) error
}

// Deps are the service's collaborators.
type Deps struct {
	Box   *secret.Box
	Store Store
	// MessageInfo returns what the events of a stored message repeat;
	// store.ErrNotFound once the message is gone (events are still
	// recorded then, with less detail).
	MessageInfo func(ctx context.Context, domain, key string) (events.MessageInfo, error)
	Lists       ListUnsubscriber
	Now         func() time.Time
	Log         *slog.Logger
	Metrics     *obs.Metrics
}

// Service rewrites messages for tracking and serves the tracking URLs.
type Service struct {
	deps  Deps
	seal  sealer
	base  atomic.Pointer[string]
	infos infoCache
	hosts hostCache

	// Background event writing (recorder.go).
	queue       chan store.Event
	writersDone chan struct{}
	life        startstop.Base
	stopMu      sync.RWMutex
	stopped     bool
}

// New makes a service.
func New(d Deps) *Service {
	s := &Service{deps: d, seal: sealer{box: d.Box}}
	s.infos.items = map[string]infoEntry{}
	s.hosts.items = map[string]hostEntry{}
	return s
}

// SetBaseURL makes tracking links <base>/t/… instead of the domains'
// tracking hosts (--tracking-base-url; tests point it at their listener).
// Empty restores the tracking hosts.
func (s *Service) SetBaseURL(base string) {
	b := strings.TrimRight(base, "/")
	s.base.Store(&b)
}

// baseFor is where a domain's tracking links point, without a final slash.
func (s *Service) baseFor(d store.Domain) string {
	if b := s.base.Load(); b != nil && *b != "" {
		return *b + "/t"
	}
	return cmp.Or(d.WebScheme, "http") + "://" + trackingHost(d)
}

func trackingHost(d store.Domain) string { return cmp.Or(d.WebPrefix, "email") + "." + d.Name }

// Options are a message's o:tracking* options (nil or "": not given).
type Options struct {
	Tracking *bool
	Clicks   string // yes, no, htmlonly
	Opens    *bool
	PixelTop bool
}

// Message is what Track needs of a stored message.
type Message struct {
	Key     string
	Body    []byte
	Tags    []string
	Options Options
}

// settings are the tracking one message gets: the domain's, overridden by
// the message's options (o:tracking for both opens and clicks, then
// o:tracking-clicks and o:tracking-opens).
type settings struct {
	clicks, htmlonly, opens, top, unsub bool
}

func decide(t store.Tracking, o Options) settings {
	s := settings{clicks: t.Click, htmlonly: t.Click && t.ClickHTMLOnly, opens: t.Open,
		top: t.OpenTop || o.PixelTop, unsub: t.Unsubscribe}
	if o.Tracking != nil {
		s.clicks, s.opens = *o.Tracking, *o.Tracking
	}
	switch o.Clicks {
	case "yes":
		s.clicks, s.htmlonly = true, false
	case "no":
		s.clicks = false
	case "htmlonly":
		s.clicks, s.htmlonly = true, true
	}
	if o.Opens != nil {
		s.opens = *o.Opens
	}
	return s
}

// hasPlaceholders reports whether a body may hold an unsubscribe
// placeholder (quoted-printable leaves '%' and letters as they are).
func hasPlaceholders(body []byte) bool {
	return bytes.Contains(body, []byte("unsubscribe_url%")) || bytes.Contains(body, []byte("unsubscribe_email%"))
}

// Track returns how to rewrite each recipient's copy of m, a message of
// d, or nil when m gets no tracking at all. list is the mailing list a
// copy went through ("" for none).
func (s *Service) Track(d store.Domain, m Message) func(rcpt, list string) mail.Rewriting {
	set := decide(d.Tracking, m.Options)
	if !set.clicks && !set.opens && !set.unsub && !hasPlaceholders(m.Body) {
		return nil
	}
	base := s.baseFor(d)
	emailHost := trackingHost(d)
	if b := s.base.Load(); b != nil && *b != "" {
		emailHost = d.Name
	}
	keep := func(u string) bool { return strings.HasPrefix(u, base+"/") }
	tags := m.Tags
	tagEmail := bytes.Contains(m.Body, []byte("%tag_unsubscribe_email%"))
	footerHTML, footerText := d.Tracking.HTMLFooter, d.Tracking.TextFooter
	return func(rcpt, list string) mail.Rewriting {
		tok := func(t token) *token {
			t.domain, t.messageKey, t.recipient = d.Name, m.Key, rcpt
			return &t
		}
		unsub := base + "/u/" + s.seal.seal(tok(token{kind: kindUnsub, scope: scopeDomain}))
		tagUnsub := unsub
		if len(tags) > 0 {
			tagUnsub = base + "/u/" + s.seal.seal(tok(token{kind: kindUnsub, scope: scopeTags, tags: tags}))
		}
		listUnsub := ""
		if list != "" {
			listUnsub = base + "/u/" + s.seal.seal(tok(token{kind: kindUnsub, scope: scopeList, list: list}))
		}
		email := "u+" + s.seal.sealEmail(tok(token{kind: kindUnsub, scope: scopeDomain})) + "@" + emailHost
		pairs := []string{"%unsubscribe_url%", unsub, "%tag_unsubscribe_url%", tagUnsub,
			"%mailing_list_unsubscribe_url%", listUnsub, "%unsubscribe_email%", email}
		if tagEmail {
			// The mailto: twin of %tag_unsubscribe_url%: mail to it
			// unsubscribes the recipient from the message's tags, or from
			// the domain when it has none. Ghost writes it bare in
			// List-Unsubscribe ("<%recipient.list_unsubscribe%>,
			// <%tag_unsubscribe_email%>"), where RFC 2369 §2 wants a URI,
			// so it becomes a mailto: URI; one already written after
			// "mailto:" is not given a second.
			addr := email
			if len(tags) > 0 {
				addr = "u+" + s.seal.sealEmail(tok(token{kind: kindUnsub, scope: scopeTags, tags: tags})) + "@" + emailHost
			}
			pairs = append([]string{"mailto:%tag_unsubscribe_email%", "mailto:" + addr,
				"%tag_unsubscribe_email%", "mailto:" + addr}, pairs...)
		}
		replacer := strings.NewReplacer(pairs...)
		replace := func(s string) string {
			if !strings.Contains(s, "unsubscribe_") {
				return s // most texts: no scan by the replacer
			}
			return replacer.Replace(s)
		}
		rw := mail.Rewriting{Replace: replace}
		var wrap func(string) string
		if set.clicks {
			wrap = func(u string) string {
				return base + "/c/" + s.seal.seal(tok(token{kind: kindClick, url: u}))
			}
		}
		top, bottom := "", ""
		if set.unsub {
			// The footer's own links are tracked too (but not the
			// unsubscribe link, which is Salvo's).
			bottom = rewriteHTML(replace(footerHTML), wrap, keep, "", "")
		}
		if set.opens {
			pixel := `<img width="1px" height="1px" alt="" src="` + base + "/o/" + s.seal.seal(tok(token{kind: kindOpen})) + `">`
			if set.top {
				top = pixel
			} else {
				bottom += pixel
			}
		}
		rw.HTML = func(h string) string {
			if wrap == nil && top == "" && bottom == "" {
				return h
			}
			return rewriteHTML(h, wrap, keep, top, bottom)
		}
		textClicks := set.clicks && !set.htmlonly
		rw.Text = func(t string) string {
			if set.unsub {
				t += replace(footerText)
			}
			if textClicks {
				t = rewriteText(t, wrap, keep)
			}
			return t
		}
		if set.unsub {
			rw.Headers = []mail.Header{
				{Name: "List-Unsubscribe", Value: "<mailto:" + email + ">, <" + unsub + ">"},
				{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
			}
		}
		return rw
	}
}

// infoCache keeps the event details of recently tracked messages, so a
// burst of clicks on one campaign reads each message once.
type infoCache struct {
	mu    sync.Mutex
	items map[string]infoEntry
}

type infoEntry struct {
	info    events.MessageInfo
	ok      bool
	expires time.Time
}

const cacheSize, cacheTTL = 10000, 5 * time.Minute

func (s *Service) messageInfo(ctx context.Context, domain, key string) (events.MessageInfo, bool) {
	now := s.deps.Now()
	id := domain + "\x00" + key
	c := &s.infos
	c.mu.Lock()
	e, hit := c.items[id]
	c.mu.Unlock()
	if hit && now.Before(e.expires) {
		return e.info, e.ok
	}
	info, err := s.deps.MessageInfo(ctx, domain, key)
	if err != nil {
		s.deps.Log.Debug("tracked message not found; recording the event without its details",
			"domain", domain, "msg_key", key, "err", err)
		info = events.MessageInfo{Domain: domain}
	}
	c.mu.Lock()
	if len(c.items) >= cacheSize {
		clear(c.items)
	}
	c.items[id] = infoEntry{info: info, ok: err == nil, expires: now.Add(cacheTTL)}
	c.mu.Unlock()
	return info, err == nil
}

// hostCache remembers which Host values are tracking hosts.
type hostCache struct {
	mu    sync.Mutex
	items map[string]hostEntry
}

type hostEntry struct {
	domain  string // "" when the host is no tracking host
	expires time.Time
}

// trackingDomain returns the domain whose tracking host is host, or "".
func (s *Service) trackingDomain(ctx context.Context, host string) string {
	host = strings.ToLower(host)
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	prefix, name, ok := strings.Cut(host, ".")
	if !ok || !strings.Contains(name, ".") {
		return ""
	}
	now := s.deps.Now()
	c := &s.hosts
	c.mu.Lock()
	e, hit := c.items[host]
	c.mu.Unlock()
	if hit && now.Before(e.expires) {
		return e.domain
	}
	found := ""
	d, err := s.deps.Store.Domain(ctx, name)
	switch {
	case err == nil && cmp.Or(d.WebPrefix, "email") == prefix:
		found = d.Name
	case err != nil && !errors.Is(err, store.ErrNotFound):
		s.deps.Log.Error("tracking host lookup", "host", host, "err", err)
		return "" // not remembered: the next request asks again
	}
	c.mu.Lock()
	if len(c.items) >= cacheSize {
		clear(c.items)
	}
	c.items[host] = hostEntry{domain: found, expires: now.Add(time.Minute)}
	c.mu.Unlock()
	return found
}
