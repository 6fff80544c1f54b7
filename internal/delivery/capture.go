package delivery

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/msgmeta"
	"github.com/salvo-email/salvo/internal/store"
)

// Capture mode (Config.Capture, --capture) is a transport that keeps
// instead of sending. Each recipient's copy — rendered, personalised,
// tracked and DKIM-signed exactly as it would go over SMTP — is written to
// the store as a message of its own, in the same transaction as the job's
// outcome: a `delivered` event whose delivery-status says the copy was
// captured (code 250, mx-host "capture") and whose storage names the
// captured copy, so GET storage.url returns what the recipient would have
// received.
//
// Invariants: nothing is dialled and no DNS is asked; no outcome is a
// failure, so capture never adds a bounce. Suppressions that exist are
// still honoured before (screen), like a real delivery would.
const (
	// CaptureHost is the delivery-status mx-host of a captured copy.
	CaptureHost = "capture"
	// CaptureMessage is the delivery-status message of a captured copy.
	CaptureMessage = "Captured: not delivered (capture mode)"
)

// capture keeps the copies of ps, one stored message per job, and records
// each job as delivered.
func (e *Engine) capture(ps []*pending) {
	for _, p := range ps {
		now := e.deps.Now()
		outcomes := make([]store.Outcome, 0, len(p.jobs))
		for i, j := range p.jobs {
			outcomes = append(outcomes, e.captureJob(p, p.msgs[i], j, now))
			e.deps.Log.Debug("delivery captured", "msg_id", j.MessageKey, "domain", j.Domain,
				"rcpt_domain", j.RcptDomain, "attempt", j.Attempts)
		}
		e.complete(outcomes)
	}
}

// captureJob is the outcome of j's copy: its stored copy and its
// delivered event.
func (e *Engine) captureJob(p *pending, l *loaded, j store.Job, now time.Time) store.Outcome {
	key := captureKey(now)
	mi := *l.meta.InfoFor(j.Recipient)
	mi.Sender = p.from
	mi.StorageURL = strings.TrimSuffix(mi.StorageURL, mi.StorageKey) + key
	mi.StorageKey = key
	// The Return-Path a receiving MTA adds at final delivery (RFC 5321
	// docs/mailgun-contract.md §4.4), above the signature, so the envelope sender can be seen.
	body := make([]byte, 0, len(p.body)+len(p.from)+20)
	body = append(append(append(body, "Return-Path: <"...), p.from...), ">\r\n"...)
	body = append(body, p.body...)
	meta, _ := json.Marshal(msgmeta.Meta{Info: mi, Options: l.meta.Options, Recipients: []string{j.Recipient}}) // plain struct
	kept := &store.Message{Key: key, Domain: l.msg.Domain, MessageID: l.msg.MessageID, Sender: p.from,
		Size: len(body), Body: body, Meta: meta, CreatedAt: now.UTC(), ExpiresAt: l.msg.ExpiresAt}
	ds := mgapi.DeliveryStatus{Code: 250, Message: CaptureMessage, MXHost: CaptureHost, AttemptNo: j.Attempts, UTF8: p.utf8,
		Description: "Captured: the copy was stored, not sent (--capture); read it at storage.url"}
	ev := events.NewDelivered(&mi, j.Recipient, l.meta.UserVarsForJob(j.Recipient, j.Vars), ds, now)
	return store.Outcome{JobID: j.ID, Done: true, Events: []store.Event{ev}, Stored: kept}
}

// captureKey is a storage key shaped like those of accepted messages: a
// time prefix, then 96 random bits.
func captureKey(now time.Time) string {
	b := make([]byte, 20)
	binary.BigEndian.PutUint64(b, uint64(now.UnixMicro()))
	_, _ = rand.Read(b[8:])
	return base64.RawURLEncoding.EncodeToString(b)
}
