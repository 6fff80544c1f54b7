package inbound

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/send"
	"github.com/salvo-email/salvo/internal/store"
)

// subaccountRefuses reports whether d belongs to a subaccount that may
// not send (disabled, or gone). It is asked when the job runs, not when
// the message was routed: a subaccount disabled in between sends nothing.
func (s *Service) subaccountRefuses(d store.Domain) (bool, error) {
	if d.AccountID == "" || s.deps.Subaccounts == nil {
		return false, nil
	}
	sub, err := s.deps.Subaccounts.Subaccount(s.ctx, d.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return sub.Status != store.SubaccountOpen, nil
}

// forwardRefused ends a forward or list-post job of a disabled
// subaccount without sending: the message was received (its routes'
// store() and URL forwards still run, the subaccount keeps receiving),
// and a permanent "failed" event says why the copy was not sent.
func (s *Service) forwardRefused(j store.InboundJob, m store.InboundMessage, p forwardPayload) store.InboundResult {
	now := s.deps.Now().UTC()
	info := forwardInfo(j, m)
	target := strings.Join(p.To, ", ")
	what := "forward to " + target
	if p.List {
		what = "post to the mailing list " + target
	}
	msg := "the subaccount of domain " + j.Domain + " is disabled and cannot send; its parent account can enable it again"
	ds := mgapi.DeliveryStatus{Code: 550, Message: msg, AttemptNo: j.Attempts, Description: what + " not sent"}
	s.deps.Log.Info("route forward of a disabled subaccount not sent", "job", j.ID, "domain", j.Domain, "list", p.List)
	return store.InboundResult{Done: true, LastError: msg,
		Events: []store.Event{events.NewRouteFailed(&info, p.Recipient, target, p.Route, events.Permanent, events.ReasonGeneric, ds, now)}}
}

// forwardJob re-sends a received message to forward(…)'s addresses
// through the send path, as a message of the recipient's domain (DKIM,
// suppressions, queue and events like any other). The idempotency key is
// the job's, so running it again after a crash returns the first send's
// answer instead of sending twice. A refusal of the send path (a bad
// address) fails for good; anything else is retried on the schedule.
func (s *Service) forwardJob(j store.InboundJob) store.InboundResult {
	var p forwardPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		s.deps.Log.Error("route forward job with a bad payload; dropped", "job", j.ID, "err", err)
		return store.InboundResult{Done: true}
	}
	m, err := s.deps.Store.InboundMessage(s.ctx, j.MessageKey)
	if errors.Is(err, store.ErrNotFound) {
		return store.InboundResult{Done: true}
	}
	if err != nil {
		return s.retryLater(j, err)
	}
	d, err := s.deps.Store.Domain(s.ctx, j.Domain)
	if errors.Is(err, store.ErrNotFound) {
		return store.InboundResult{Done: true}
	}
	if err != nil {
		return s.retryLater(j, err)
	}
	if refused, err := s.subaccountRefuses(d); err != nil {
		return s.retryLater(j, err)
	} else if refused {
		return s.forwardRefused(j, m, p)
	}
	key := fmt.Sprintf("route-forward-%s-%d", j.MessageKey, j.ID)
	sub := &send.Submission{Domain: d, Method: "smtp", OriginatingIP: m.ClientIP, MIME: m.Body,
		To: p.To, Options: send.Options{DKIM: true, RequireTLS: d.RequireTLS, SkipVerification: d.SkipVerification},
		IdempotencyKey: key, IdempotencyFingerprint: key}
	if p.List {
		// Nobody vouches for mail from the MX: the list's access_level
		// decides, on the From address (else the envelope sender).
		sub.Unauthenticated, sub.Poster = true, m.Sender
		if pm, perr := parse(m.Body); perr == nil {
			if a, aerr := mail.ParseAddressList([]string{pm.From}); aerr == nil && len(a) == 1 {
				sub.Poster = a[0].Address
			}
		}
	}
	_, err = s.deps.Send.Send(s.ctx, sub)
	if err == nil {
		return store.InboundResult{Done: true}
	}
	now := s.deps.Now().UTC()
	info := forwardInfo(j, m)
	target := strings.Join(p.To, ", ")
	ds := mgapi.DeliveryStatus{Code: 550, Message: err.Error(), AttemptNo: j.Attempts, Description: "forward to " + target}
	// A fault the client caused (the forwarded message was refused as
	// invalid, too large, not allowed) fails for good; anything else is
	// retried, as a 4yz reply would be (RFC 5321 §4.2.1).
	if f, ok := fault.As(err); ok && f.Kind.Client() {
		ds.Message = f.Message
		return store.InboundResult{Done: true, LastError: f.Message,
			Events: []store.Event{events.NewRouteFailed(&info, p.Recipient, target, p.Route, events.Permanent, events.ReasonGeneric, ds, now)}}
	}
	next := s.retryAt(j.CreatedAt, j.Attempts)
	if next.IsZero() {
		return store.InboundResult{Done: true, LastError: err.Error(),
			Events: []store.Event{events.NewRouteFailed(&info, p.Recipient, target, p.Route, events.Permanent, events.ReasonOld, ds, now)}}
	}
	s.deps.Log.Warn("route forward failed; retrying", "job", j.ID, "err", err)
	ds.Code, ds.RetrySeconds = 451, int(next.Sub(now).Seconds())
	return store.InboundResult{NextAttemptAt: next, LastError: err.Error(),
		Events: []store.Event{events.NewRouteFailed(&info, p.Recipient, target, p.Route, events.Temporary, events.ReasonGeneric, ds, now)}}
}

// forwardInfo describes the received message for a forward's or list
// post's failed event: from its headers when they parse, else from the
// envelope alone.
func forwardInfo(j store.InboundJob, m store.InboundMessage) events.MessageInfo {
	pm, err := parse(m.Body)
	if err != nil {
		return events.MessageInfo{Domain: j.Domain, Sender: m.Sender, Method: "smtp"}
	}
	info := messageInfo(m, pm)
	info.Domain = j.Domain
	return info
}
