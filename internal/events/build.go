// Package events makes event records and answers the Events API: the JSON
// of docs/mailgun-contract.md §3.4 for each event type, filter expressions (§3.2) and
// page tokens (docs/mailgun-contract.md §3.3).
//
// Events are written by the transaction that causes them (accept, delivery
// outcome), so an event is visible the moment that transaction commits and
// never before. The events table is also the webhook outbox.
package events

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// Event types.
const (
	Accepted     = "accepted"
	Rejected     = "rejected"
	Delivered    = "delivered"
	Failed       = "failed"
	Opened       = "opened"
	Clicked      = "clicked"
	Unsubscribed = "unsubscribed"
	Complained   = "complained"
	Stored       = "stored"
)

// Severity is how bad a failed event is: temporary (retried) or
// permanent (given up).
type Severity string

// Severities of failed events.
const (
	Temporary Severity = "temporary"
	Permanent Severity = "permanent"
)

// Reason is Mailgun's reason of a failed event.
type Reason string

// Reasons of failed events (docs/mailgun-contract.md §3.4). The suppress-* reasons of
// recipients dropped for a suppression are package suppress's.
const (
	// ReasonGeneric: a temporary failure, or a permanent one that is not
	// the recipient's (a route's POST refused, a mail loop).
	ReasonGeneric Reason = "generic"
	// ReasonBounce: the receiving server refused the recipient (5xx).
	ReasonBounce Reason = "bounce"
	// ReasonOld: retried until the retry window closed.
	ReasonOld Reason = "old"
)

// MessageInfo is what every event of a message repeats.
type MessageInfo struct {
	Domain        string                 `json:"domain"`
	StorageKey    string                 `json:"storage_key"`
	StorageURL    string                 `json:"storage_url"`
	MessageID     string                 `json:"message_id"`
	From          string                 `json:"from"`
	To            string                 `json:"to"`
	Subject       string                 `json:"subject"`
	Size          int                    `json:"size"`
	Attachments   []mgapi.AttachmentInfo `json:"attachments"`
	Tags          []string               `json:"tags"`
	UserVariables map[string]any         `json:"user_variables"`
	Method        string                 `json:"method"`
	Sender        string                 `json:"sender"`
	TestMode      bool                   `json:"test_mode"`
	OriginatingIP string                 `json:"originating_ip,omitempty"`
	// OwnTo is set, by whoever read the message (never stored), when each
	// recipient got a copy that names only itself in To (a batch send):
	// every event of a recipient then carries that recipient as
	// message.headers.to, as its delivered event does, instead of the
	// whole batch, which made each opened event of a large batch tens of
	// kilobytes (docs/performance.md, "Figures moved out of code comments").
	OwnTo bool `json:"-"`
	// SendingIP is the source address a delivery attempt left from, set
	// by delivery (never stored): envelope.sending-ip of delivered and
	// failed events, as Mailgun's.
	SendingIP string `json:"-"`
}

// NewID returns an event id: 22 characters of base64url, like Mailgun's.
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// base fills what all message events share for one recipient; uv are the
// recipient's user variables (per-recipient in batch sends).
func base(mi *MessageInfo, typ, rcpt string, uv map[string]any, now time.Time) mgapi.Event {
	if uv == nil {
		uv = mi.UserVariables
	}
	if uv == nil {
		uv = map[string]any{}
	}
	tags := mi.Tags
	if tags == nil {
		tags = []string{}
	}
	attachments := mi.Attachments
	if attachments == nil {
		attachments = []mgapi.AttachmentInfo{}
	}
	to := mi.To
	if mi.OwnTo {
		to = rcpt
	}
	return mgapi.Event{
		ID: NewID(), Event: typ, Timestamp: mgapi.EventTime(now), LogLevel: "info",
		Recipient: rcpt, RecipientDomain: domainOf(rcpt),
		Message: &mgapi.EventMessage{
			Headers:     mgapi.MessageHeaders{To: to, MessageID: mi.MessageID, From: mi.From, Subject: mi.Subject},
			Attachments: attachments, Size: mi.Size,
		},
		Flags: &mgapi.Flags{IsAuthenticated: true, IsTestMode: mi.TestMode},
		Tags:  tags, Campaigns: []mgapi.Campaign{}, UserVariables: uv,
		Storage: &mgapi.Storage{URL: mi.StorageURL, Key: mi.StorageKey},
	}
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}

// Record turns a Mailgun event (mgapi.Event) that happened at "at" into a store record.
func Record(domain string, e mgapi.Event, at time.Time) store.Event {
	data, err := json.Marshal(e)
	if err != nil {
		panic(err) // mgapi.Event holds only JSON-safe values
	}
	msgID := ""
	if e.Message != nil {
		msgID = e.Message.Headers.MessageID
	}
	facts := &store.EventFacts{Reason: e.Reason, Tags: e.Tags}
	if e.Envelope != nil {
		facts.Transport = e.Envelope.Transport
	}
	if e.Flags != nil {
		facts.IsRouted, facts.IsDelayedBounce = e.Flags.IsRouted, e.Flags.IsDelayedBounce
	}
	return store.Event{
		ID: e.ID, Domain: domain, Type: e.Event, Severity: e.Severity,
		Timestamp: at.UTC().Truncate(time.Microsecond), MessageID: msgID,
		Recipient: strings.ToLower(e.Recipient), Data: data, Facts: facts,
	}
}

// NewAccepted is the accepted event of one recipient.
func NewAccepted(mi *MessageInfo, rcpt string, uv map[string]any, now time.Time) store.Event {
	e := base(mi, Accepted, rcpt, uv, now)
	e.Method = mi.Method
	e.OriginatingIP = mi.OriginatingIP
	e.Envelope = &mgapi.Envelope{Sender: mi.Sender, Targets: rcpt}
	if mi.Method == "smtp" {
		e.Envelope.Transport = "smtp"
	}
	return Record(mi.Domain, e, now)
}

// NewDelivered is a delivered event.
func NewDelivered(mi *MessageInfo, rcpt string, uv map[string]any, ds mgapi.DeliveryStatus, now time.Time) store.Event {
	e := base(mi, Delivered, rcpt, uv, now)
	e.Method = mi.Method
	e.Envelope = &mgapi.Envelope{Sender: mi.Sender, Transport: "smtp", Targets: rcpt, SendingIP: mi.SendingIP}
	e.DeliveryStatus = &ds
	return Record(mi.Domain, e, now)
}

// NewFailed is a failed event; reason is Mailgun's (generic, bounce, old,
// suppress-bounce, …).
func NewFailed(mi *MessageInfo, rcpt string, uv map[string]any, severity Severity, reason Reason, ds mgapi.DeliveryStatus, now time.Time) store.Event {
	return Record(mi.Domain, failed(mi, rcpt, uv, severity, reason, ds, now), now)
}

func failed(mi *MessageInfo, rcpt string, uv map[string]any, severity Severity, reason Reason, ds mgapi.DeliveryStatus, now time.Time) mgapi.Event {
	e := base(mi, Failed, rcpt, uv, now)
	e.Method = mi.Method
	e.Severity, e.Reason = string(severity), string(reason)
	e.LogLevel = "warn"
	if severity == Permanent {
		e.LogLevel = "error"
	}
	e.Envelope = &mgapi.Envelope{Sender: mi.Sender, Transport: "smtp", Targets: rcpt, SendingIP: mi.SendingIP}
	e.DeliveryStatus = &ds
	return e
}

// NewDelayedBounce is the failed event of a bounce that came back after
// the receiving server had accepted the copy (a DSN mailed to its bounce
// address): a failed event flagged is-delayed-bounce, as Mailgun's.
func NewDelayedBounce(mi *MessageInfo, rcpt string, uv map[string]any, severity Severity, reason Reason, ds mgapi.DeliveryStatus, now time.Time) store.Event {
	e := failed(mi, rcpt, uv, severity, reason, ds, now)
	e.Flags.IsDelayedBounce = true
	return Record(mi.Domain, e, now)
}

// NewComplained is the complained event of a recipient who reported the
// message as spam (a feedback-loop report, RFC 5965).
func NewComplained(mi *MessageInfo, rcpt string, uv map[string]any, now time.Time) store.Event {
	e := base(mi, Complained, rcpt, uv, now)
	e.LogLevel = "warn"
	e.Storage = nil
	return Record(mi.Domain, e, now)
}
