package inbound

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/salvo-email/salvo/internal/bounce"
	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/msgmeta"
	"github.com/salvo-email/salvo/internal/routes"
	"github.com/salvo-email/salvo/internal/store"
)

// Payloads of follow-up jobs (store.InboundJob.Payload).
type postPayload struct {
	URL       string         `json:"url"`
	Recipient string         `json:"recipient"`
	Route     mgapi.RouteRef `json:"route"`
	// Notify marks a store(notify=…) POST about the stored copy StoredKey.
	Notify    bool   `json:"notify,omitempty"`
	StoredKey string `json:"stored_key,omitempty"`
}

type forwardPayload struct {
	To        []string       `json:"to"`
	Recipient string         `json:"recipient"`
	Route     mgapi.RouteRef `json:"route"`
	// List marks a post to a mailing list (To is its address): sent as an
	// unauthenticated submission, so the list's access_level applies.
	List bool `json:"list,omitempty"`
}

// routesTTL is how long compiled routes are reused: a route change
// applies to messages routed at most this much later.
const routesTTL = time.Second

// routesCache holds the compiled routes for routesTTL.
type routesCache struct {
	mu sync.Mutex
	at time.Time
	rs []*routes.Compiled
}

func (c *routesCache) get(ctx context.Context, st store.RouteStore, log *slog.Logger) ([]*routes.Compiled, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < routesTTL {
		return c.rs, nil
	}
	rs, err := routes.Load(ctx, st, log)
	if err != nil {
		return nil, err
	}
	c.rs, c.at = rs, time.Now()
	return rs, nil
}

// maxHops bounds how many times a message may pass this MX (counted by
// its X-Mailgun-Incoming fields) before forwards to addresses stop: a
// route forwarding to an address that routes back would loop forever.
const maxHops = 5

// routeJob checks a received message (given on the fast path, else
// read), runs the routes for each of its recipients and returns
// everything that follows, to be written at once.
func (s *Service) routeJob(j store.InboundJob, given *store.InboundMessage) store.InboundResult {
	var m store.InboundMessage
	if given != nil {
		m = *given
	} else {
		var err error
		m, err = s.deps.Store.InboundMessage(s.ctx, j.MessageKey)
		if errors.Is(err, store.ErrNotFound) {
			return store.InboundResult{Done: true} // its domain was deleted
		}
		if err != nil {
			return s.retryLater(j, err)
		}
	}
	m.Body = append([]byte(s.checkAuth(s.ctx, m).headers(s.cfg.Hostname, m)), m.Body...)
	p, err := parse(m.Body)
	if err != nil {
		s.deps.Log.Warn("inbound message cannot be parsed; routing on its envelope only", "key", m.Key, "err", err)
		p = &parsed{}
	}
	all, err := s.routes.get(s.ctx, s.deps.Store, s.deps.Log)
	if err != nil {
		return s.retryLater(j, err)
	}
	res := store.InboundResult{Done: true}
	info := messageInfo(m, p)
	seen := map[string]bool{}
	var rep *bounce.Report
	report := func() *bounce.Report {
		if rep == nil {
			rep = bounce.Parse(m.Body)
		}
		return rep
	}
	for _, rcpt := range m.Recipients {
		if seen[strings.ToLower(rcpt)] {
			continue
		}
		seen[strings.ToLower(rcpt)] = true
		handled, err := s.returned(&res, m, rcpt, report)
		if err == nil && !handled {
			err = s.routeRecipient(&res, m, p, info, rcpt, all)
		}
		if err != nil {
			return s.retryLater(j, err)
		}
	}
	if len(res.Jobs) > 0 {
		res.Body = m.Body // the follow-up jobs read the checked message
	}
	return res
}

// retryLater reschedules a job that failed for a reason of ours (the
// store), a minute later.
func (s *Service) retryLater(j store.InboundJob, err error) store.InboundResult {
	if s.ctx.Err() == nil {
		s.deps.Log.Error("inbound job failed; retrying in a minute", "job", j.ID, "kind", j.Kind, "err", err)
	}
	return store.InboundResult{NextAttemptAt: s.deps.Now().Add(time.Minute), LastError: err.Error()}
}

// messageInfo is what the events of a received message repeat.
func messageInfo(m store.InboundMessage, p *parsed) events.MessageInfo {
	mi := events.MessageInfo{From: p.From, To: p.To, Subject: p.Subject, Size: len(m.Body), Method: "smtp",
		Sender: m.Sender, OriginatingIP: m.ClientIP,
		MessageID: strings.Trim(strings.TrimSpace(p.HeaderValue("Message-Id")), "<>")}
	for _, f := range p.Files {
		mi.Attachments = append(mi.Attachments, mgapi.AttachmentInfo{Filename: f.Filename, ContentType: f.ContentType, Size: len(f.Data)})
	}
	if mi.MessageID == "" {
		mi.MessageID = m.Key + "@" + m.Domain
	}
	return mi
}

func routeRef(r store.Route, rcpt string) mgapi.RouteRef {
	return mgapi.RouteRef{ID: r.ID, Expression: r.Expression, Priority: r.Priority, Description: r.Description,
		Match: mgapi.RouteMatch{Recipient: rcpt}}
}

// routeRecipient runs the routes for one recipient and adds their effects
// to res.
func (s *Service) routeRecipient(res *store.InboundResult, m store.InboundMessage, p *parsed, info events.MessageInfo,
	rcpt string, all []*routes.Compiled) error {
	domain := strings.ToLower(mail.Domain(rcpt))
	d, ok, err := s.domains.get(s.ctx, domain)
	if err != nil {
		return err
	}
	if !ok {
		s.deps.Log.Info("recipient's domain is gone; not routed", "key", m.Key, "domain", domain)
		return nil
	}
	now := s.deps.Now().UTC()
	info.Domain = domain
	matches := routes.Evaluate(routes.Owned(all, d.AccountID), routes.Input{Recipient: rcpt, Headers: p.Headers})
	var refs []mgapi.RouteRef
	var stored *store.Message
	for _, match := range matches {
		ref := routeRef(match.Route, rcpt)
		refs = append(refs, ref)
		for _, a := range match.Actions {
			switch a.Kind {
			case routes.Forward:
				s.forwardAction(res, m, d, rcpt, ref, a, now)
			case routes.Store:
				if stored == nil {
					stored = s.storeCopy(m, d, rcpt, info, now)
					res.Stored = append(res.Stored, *stored)
					sinfo := storedInfo(info, stored, s.PublicURL)
					res.Events = append(res.Events, events.NewStored(&sinfo, rcpt, []mgapi.RouteRef{ref}, now))
				}
				if a.Notify != "" {
					res.Jobs = append(res.Jobs, s.job(store.InboundPost, m, domain, postPayload{URL: a.Notify, Recipient: rcpt,
						Route: ref, Notify: true, StoredKey: stored.Key}, now))
				}
			}
		}
	}
	if err := s.listPost(res, m, d, rcpt, now); err != nil {
		return err
	}
	res.Events = append(res.Events, events.NewInboundAccepted(&info, rcpt, refs, now))
	return nil
}

// listPost adds a list-post job when rcpt is the address of one of this
// region's mailing lists (docs/mailgun-contract.md §5.3): the job re-sends the message
// to the list through the send path, which fans it out to the subscribed
// members after checking the list's access_level against the poster.
// Lists of the other region are not in this store, so they never see
// this region's mail.
func (s *Service) listPost(res *store.InboundResult, m store.InboundMessage, d store.Domain, rcpt string, now time.Time) error {
	addr := strings.ToLower(rcpt)
	ls, err := s.deps.Store.ListsByAddress(s.ctx, []string{addr})
	if err != nil || len(ls) == 0 || ls[0].AccountID != d.AccountID {
		return err // a list belongs to its domain's account, or is not posted to
	}
	if looping(m) {
		info := events.MessageInfo{Domain: d.Name, Sender: m.Sender, Method: "smtp"}
		res.Events = append(res.Events, events.NewRouteFailed(&info, rcpt, addr, mgapi.RouteRef{}, events.Permanent,
			events.ReasonGeneric, mgapi.DeliveryStatus{Code: 554, Message: "mail loop", Description: "the message passed this server " +
				"too many times; not posted to the list"}, now))
		return nil
	}
	res.Jobs = append(res.Jobs, s.job(store.InboundForward, m, d.Name, forwardPayload{To: []string{addr}, Recipient: rcpt, List: true}, now))
	return nil
}

// forwardAction turns forward(…) into a POST job per URL and one re-send
// job for its addresses.
func (s *Service) forwardAction(res *store.InboundResult, m store.InboundMessage, d store.Domain, rcpt string,
	ref mgapi.RouteRef, a routes.Action, now time.Time) {
	var addrs []string
	for _, dest := range a.Dests {
		if routes.IsURL(dest) {
			res.Jobs = append(res.Jobs, s.job(store.InboundPost, m, d.Name, postPayload{URL: dest, Recipient: rcpt, Route: ref}, now))
		} else {
			addrs = append(addrs, dest)
		}
	}
	if len(addrs) == 0 {
		return
	}
	if looping(m) {
		info := events.MessageInfo{Domain: d.Name, Sender: m.Sender, Method: "smtp"}
		res.Events = append(res.Events, events.NewRouteFailed(&info, rcpt, strings.Join(addrs, ", "), ref, events.Permanent,
			events.ReasonGeneric, mgapi.DeliveryStatus{Code: 554, Message: "mail loop", Description: "the message passed this server " +
				"too many times; forward not sent"}, now))
		return
	}
	res.Jobs = append(res.Jobs, s.job(store.InboundForward, m, d.Name, forwardPayload{To: addrs, Recipient: rcpt, Route: ref}, now))
}

// looping reports whether m has passed this MX maxHops times (counted by
// its X-Mailgun-Incoming fields): a forward or list post must then stop.
func looping(m store.InboundMessage) bool {
	return strings.Count(strings.ToLower(headerBlock(m.Body)), "\nx-mailgun-incoming:") >= maxHops
}

// headerBlock is the header of raw with a leading newline, for counting
// fields by name.
func headerBlock(raw []byte) string {
	s := string(raw)
	if i := strings.Index(s, "\r\n\r\n"); i >= 0 {
		s = s[:i]
	}
	return "\n" + strings.ReplaceAll(s, "\r\n", "\n")
}

func (s *Service) job(kind string, m store.InboundMessage, domain string, payload any, now time.Time) store.InboundJob {
	b, _ := json.Marshal(payload) // plain structs always marshal
	return store.InboundJob{Kind: kind, MessageKey: m.Key, Domain: domain, Payload: b, NextAttemptAt: now, CreatedAt: now}
}

// storeCopy is the stored copy of a store() action, kept like an
// outgoing message (so the storage endpoints serve it) for the domain's
// message_ttl.
func (s *Service) storeCopy(m store.InboundMessage, d store.Domain, rcpt string, info events.MessageInfo, now time.Time) *store.Message {
	ttl := time.Duration(d.MessageTTL) * time.Second
	if ttl <= 0 {
		ttl = s.cfg.Retention
	}
	key := newKey(now)
	sinfo := storedInfo(info, &store.Message{Key: key, Domain: d.Name}, s.PublicURL)
	meta, _ := json.Marshal(msgmeta.Meta{Info: sinfo, Recipients: []string{rcpt}, Options: msgmeta.Options{DKIM: true}}) // a resend is signed
	return &store.Message{Key: key, Domain: d.Name, MessageID: info.MessageID, Sender: m.Sender, Size: len(m.Body),
		Body: m.Body, Meta: meta, CreatedAt: now, ExpiresAt: now.Add(ttl)}
}

// storedInfo is info with the stored copy's storage key and URL.
func storedInfo(info events.MessageInfo, stored *store.Message, publicURL string) events.MessageInfo {
	info.Domain, info.StorageKey = stored.Domain, stored.Key
	info.StorageURL = publicURL + "/v3/domains/" + stored.Domain + "/messages/" + stored.Key
	return info
}
