package inbound

import (
	"encoding/json"
	"errors"
	"log/slog"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/bounce"
	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/msgmeta"
	"github.com/salvo-email/salvo/internal/send"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/verp"
)

// Mail that comes back. Every copy Salvo sends has its own bounce address
// as MAIL FROM (package verp). The MX accepts RCPT for such an address
// only when its MAC verifies (550 5.1.1 otherwise, so forged or random
// bounce addresses cause no backscatter and no state change), and stores
// the message with its route job like any other: it is durable before
// the 250, and a crash before it is processed loses nothing. The route
// job then treats it here, never running routes or lists for it:
//
//   - a delivery failure report (RFC 3464 DSN, or a null-sender plain-text
//     bounce with a 5xx reply or 5.x.x status) is a failure of the
//     recipient the token names, not of whatever address the report
//     claims: a failed event flagged is-delayed-bounce, and for a hard
//     failure severity permanent, reason bounce and a bounce suppression
//     (unless allowlisted) — the same record path (event, suppression,
//     stats, permanent_fail webhook through the outbox) as a 5xx in the
//     session. A soft failure (Action: failed with 4.x.x: the remote gave
//     up) is a failed event, severity permanent, reason generic, and no
//     suppression.
//   - a feedback report (RFC 5965) of type abuse or fraud, sent to a
//     bounce address or to fbl@ / abuse@ of a served domain, is a
//     complaint: a complained event and a complaint suppression.
//   - delayed/relayed/delivered DSNs, other feedback types, auto-replies
//     and anything unreadable change nothing; each is a log line.

// feedbackLocals are the local parts registered with mailbox providers'
// feedback loops whose ARF reports are complaints.
var feedbackLocals = map[string]bool{"fbl": true, "abuse": true}

// maxScanPages bounds how many pages of a message's accepted events are
// read to find the recipient a token names when the report does not say.
const maxScanPages = 100

// bounceAddress reports whether rcpt is a bounce address, and if so
// whether it verifies.
func (s *Service) bounceAddress(rcpt string) (tok verp.Token, isBounce, valid bool) {
	if s.bounces == nil || !verp.IsCandidate(rcpt) {
		return verp.Token{}, false, false
	}
	tok, valid = s.bounces.Parse(rcpt)
	return tok, true, valid
}

// returned handles rcpt when it is a bounce or feedback-loop address and
// reports whether it did; the rest are routed.
func (s *Service) returned(res *store.InboundResult, m store.InboundMessage, rcpt string, rep func() *bounce.Report) (bool, error) {
	if tok, isBounce, valid := s.bounceAddress(rcpt); isBounce {
		if !valid {
			s.deps.Log.Info("mail to an invalid bounce address dropped", "key", m.Key)
			return true, nil
		}
		return true, s.fromBounceAddress(res, m, tok, rep())
	}
	local, _, _ := strings.Cut(strings.ToLower(rcpt), "@")
	if !feedbackLocals[local] {
		return false, nil
	}
	r := rep()
	if r.Format != "arf" {
		return false, nil // ordinary mail to abuse@: routes decide
	}
	return true, s.feedback(res, m, strings.ToLower(mail.Domain(rcpt)), r)
}

// fromBounceAddress records what a message sent to a bounce address reports.
func (s *Service) fromBounceAddress(res *store.InboundResult, m store.InboundMessage, tok verp.Token, r *bounce.Report) error {
	log := s.deps.Log.With("key", m.Key, "domain", tok.Domain, "report", r.Kind.String(), "format", r.Format)
	switch r.Kind {
	case bounce.Failed:
		if r.Format == "text" && m.Sender != "" {
			log.Info("plain-text report from a non-null sender is not taken as a bounce", "sender", m.Sender)
			return nil
		}
		return s.recordBounce(res, tok, r, log)
	case bounce.Complaint:
		return s.recordComplaint(res, tok, r, log)
	default:
		log.Info("returned mail changes nothing")
		return nil
	}
}

// feedback records an ARF report sent to a feedback-loop address: the
// original copy is found through the bounce address in the report's
// Original-Mail-From or the enclosed Return-Path, else through the
// enclosed Message-ID and Original-Rcpt-To.
func (s *Service) feedback(res *store.InboundResult, m store.InboundMessage, domain string, r *bounce.Report) error {
	log := s.deps.Log.With("key", m.Key, "domain", domain, "report", r.Kind.String(), "format", r.Format)
	if r.Kind != bounce.Complaint {
		log.Info("feedback report of another type changes nothing", "feedback_type", r.FeedbackType)
		return nil
	}
	for _, a := range []string{r.OriginalMailFrom, r.Original.ReturnPath} {
		if tok, isBounce, valid := s.bounceAddress(a); isBounce && valid {
			return s.recordComplaint(res, tok, r, log)
		}
	}
	mid := strings.Trim(r.Original.MessageID, "<> ")
	rcpt := strings.ToLower(r.OriginalRcptTo)
	if mid == "" || rcpt == "" {
		log.Info("complaint names no copy of ours: changes nothing")
		return nil
	}
	evs, err := s.deps.Store.Events(s.ctx, store.EventQuery{Domain: domain, MessageID: mid, Recipient: rcpt,
		Type: events.Accepted, Ascending: true, Limit: 1})
	if err != nil || len(evs) == 0 {
		if err == nil {
			log.Info("complaint about a message this domain did not send to that recipient: changes nothing")
		}
		return err
	}
	key := storageKey(evs[0].Data)
	mi, err := send.MessageInfo(s.ctx, s.deps.Store, domain, key)
	if errors.Is(err, store.ErrNotFound) {
		log.Info("complaint about a message no longer stored: changes nothing")
		return nil
	}
	if err != nil {
		return err
	}
	s.addComplaint(res, &mi, nil, rcpt)
	return nil
}

// original reads the message a token names; ok is false when it is gone.
func (s *Service) original(tok verp.Token) (store.Message, msgmeta.Meta, bool, error) {
	msg, err := s.deps.Store.Message(s.ctx, tok.Domain, tok.Key)
	if errors.Is(err, store.ErrNotFound) {
		return msg, msgmeta.Meta{}, false, nil
	}
	if err != nil {
		return msg, msgmeta.Meta{}, false, err
	}
	meta, err := msgmeta.Decode(msg.Meta)
	return msg, meta, err == nil, err
}

// recipientOf finds the recipient a token names among the addresses the
// report gives, the message's envelope recipients, and at last the
// message's accepted events (list members and batch recipients).
func (s *Service) recipientOf(tok verp.Token, msg store.Message, meta msgmeta.Meta, r *bounce.Report) (string, error) {
	var cands []string
	for _, rr := range r.Recipients {
		cands = append(cands, rr.Final, rr.Original)
	}
	cands = append(cands, r.RcptTo...)
	if list, err := netmail.ParseAddressList(r.Original.To); err == nil {
		for _, a := range list {
			cands = append(cands, a.Address)
		}
	}
	cands = append(cands, meta.Recipients...)
	for _, c := range cands {
		if c != "" && s.bounces.Names(tok, c) {
			return strings.ToLower(c), nil
		}
	}
	q := store.EventQuery{Domain: tok.Domain, MessageID: msg.MessageID, Type: events.Accepted, Ascending: true, Limit: 1000}
	for range maxScanPages {
		evs, err := s.deps.Store.Events(s.ctx, q)
		if err != nil {
			return "", err
		}
		for _, e := range evs {
			if s.bounces.Names(tok, e.Recipient) {
				return e.Recipient, nil
			}
		}
		if len(evs) < q.Limit {
			break
		}
		last := evs[len(evs)-1]
		q.After = &store.Cursor{TS: last.Timestamp.UnixMicro(), Seq: last.Seq}
	}
	return "", nil
}

// recordBounce adds the failed event (and, for a hard failure, the bounce)
// of the recipient the token names.
func (s *Service) recordBounce(res *store.InboundResult, tok verp.Token, r *bounce.Report, log *slog.Logger) error {
	msg, meta, ok, err := s.original(tok)
	if err != nil || !ok {
		if err == nil {
			log.Info("bounce for a message no longer stored: changes nothing")
		}
		return err
	}
	rcpt, err := s.recipientOf(tok, msg, meta, r)
	if err != nil || rcpt == "" {
		if err == nil {
			log.Warn("bounce names a recipient the message does not have: changes nothing")
		}
		return err
	}
	rr := reportFor(r, rcpt)
	now := s.deps.Now().UTC()
	ds := mgapi.DeliveryStatus{Code: rr.Code, EnhancedCode: rr.Status, Message: rr.Diagnostic,
		MXHost: firstNonEmpty(r.ReportingMTA, rr.RemoteMTA), AttemptNo: 1}
	if ds.Code == 0 {
		ds.Code = map[bool]int{true: 550, false: 450}[rr.Hard]
	}
	if ds.Message == "" {
		ds.Message = "The message was returned by the recipient's server" + statusSuffix(rr.Status)
	}
	ds.Description = ds.Message
	mi := meta.InfoFor(rcpt)
	if own := s.bounces.Address(tok.Key, tok.Domain, rcpt); own != "" {
		c := *mi
		c.Sender = own
		mi = &c
	}
	uv := meta.UserVarsForJob(rcpt, nil)
	reason := events.ReasonBounce
	if !rr.Hard {
		reason = events.ReasonGeneric
	}
	res.Returned = append(res.Returned, events.NewDelayedBounce(mi, rcpt, uv, events.Permanent, reason, ds, now))
	if rr.Hard {
		res.Suppressions = append(res.Suppressions, store.Suppression{Domain: tok.Domain, List: store.Bounces,
			Address: rcpt, Code: strconv.Itoa(ds.Code), Error: ds.Message, CreatedAt: now.Truncate(time.Microsecond)})
	}
	log.Info("bounce recorded", "hard", rr.Hard, "status", rr.Status, "code", ds.Code)
	return nil
}

// recordComplaint adds the complaint of the recipient the token names.
func (s *Service) recordComplaint(res *store.InboundResult, tok verp.Token, r *bounce.Report, log *slog.Logger) error {
	msg, meta, ok, err := s.original(tok)
	if err != nil || !ok {
		if err == nil {
			log.Info("complaint about a message no longer stored: changes nothing")
		}
		return err
	}
	rcpt, err := s.recipientOf(tok, msg, meta, r)
	if err != nil || rcpt == "" {
		if err == nil {
			log.Warn("complaint names a recipient the message does not have: changes nothing")
		}
		return err
	}
	s.addComplaint(res, meta.InfoFor(rcpt), meta.UserVarsForJob(rcpt, nil), rcpt)
	log.Info("complaint recorded", "feedback_type", r.FeedbackType)
	return nil
}

func (s *Service) addComplaint(res *store.InboundResult, mi *events.MessageInfo, uv map[string]any, rcpt string) {
	now := s.deps.Now().UTC()
	res.Returned = append(res.Returned, events.NewComplained(mi, rcpt, uv, now))
	res.Suppressions = append(res.Suppressions, store.Suppression{Domain: mi.Domain, List: store.Complaints,
		Address: strings.ToLower(rcpt), Count: 1, CreatedAt: now.Truncate(time.Microsecond)})
}

// reportFor picks the report's entry for rcpt: the one naming it, else the
// first failed one, else the first (a plain-text bounce may name nobody).
func reportFor(r *bounce.Report, rcpt string) bounce.Recipient {
	var first *bounce.Recipient
	for i := range r.Recipients {
		rr := &r.Recipients[i]
		if strings.EqualFold(rr.Final, rcpt) || strings.EqualFold(rr.Original, rcpt) {
			return *rr
		}
		if first == nil && rr.Action == "failed" {
			first = rr
		}
	}
	if first == nil && len(r.Recipients) > 0 {
		first = &r.Recipients[0]
	}
	if first == nil {
		return bounce.Recipient{Action: "failed", Hard: true}
	}
	return *first
}

func statusSuffix(status string) string {
	if status == "" {
		return ""
	}
	return " (status " + status + ")"
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// storageKey reads storage.key from an event's JSON.
func storageKey(data []byte) string {
	var e struct {
		Storage struct {
			Key string `json:"key"`
		} `json:"storage"`
	}
	_ = json.Unmarshal(data, &e)
	return e.Storage.Key
}
