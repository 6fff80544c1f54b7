// Package send is the submission use case shared by every edge (HTTP
// /messages and /messages.mime, SMTP submission, route forwards).
//
// Send validates a submission, builds (or checks) its MIME, and writes in
// one transaction the message body (once), one queue job per recipient and
// the accepted events. It returns only after that transaction is durable,
// so a caller that answers 200/250 after Send never loses the message.
// Nothing slow happens here: no DNS, no network, no per-recipient
// rendering (batch and list personalisation happen at delivery).
//
// Stored templates (template.go) are rendered here, once per message,
// before the accept transaction, so the stored body is the rendered one;
// recipient placeholders (%recipient.x%) survive Handlebars and are filled
// per recipient at delivery. Mail to a mailing list address (lists.go)
// fans out to the list's subscribed members in the same single accept:
// one body, one job per member carrying its personalisation.
package send

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	netmail "net/mail"
	"sort"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/ips"
	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/msgmeta"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/suppress"
	"github.com/salvo-email/salvo/internal/templates"
)

// Limits bound submissions; see config for their settings.
type Limits struct {
	MaxRecipients    int
	MaxMessageBytes  int
	MaxScheduleAhead time.Duration
	Retention        time.Duration
	IdempotencyTTL   time.Duration
}

// The stored message format moved to package msgmeta; these names remain
// for the code that still reaches it through send.
type (
	// Options are the o:* options of a submission, stored with it.
	Options = msgmeta.Options
)

// Submission is one request to send.
type Submission struct {
	Domain        store.Domain
	Method        string // "http" or "smtp"
	OriginatingIP string

	From         string
	To, Cc, Bcc  []string
	Subject      string
	Text         string
	HTML         string
	AMP          string
	Attachments  []mail.Part
	Inline       []mail.Part
	Headers      []mail.Header
	Vars         map[string]string // v:*
	RecipientVar map[string]map[string]any

	// Template is a stored template to render into the HTML (and, with
	// Text, the text) part; its headers fill From, Subject and Reply-To
	// when the submission lacks them.
	Template *TemplateRef
	// Authorized, when set, is asked just before the accept is written
	// whether the caller may still send; its error refuses the submission.
	// The HTTP API checks its key again there, after the body was read, so
	// a key deleted while its upload ran sends nothing.
	Authorized func(ctx context.Context) error
	// Unauthenticated marks a submission no credential vouches for (the
	// inbound MX): mailing lists apply their access_level to it, with
	// Poster as the address posting.
	Unauthenticated bool
	Poster          string

	// MIME is a ready message (messages.mime, SMTP); its envelope
	// recipients are To (every recipient, Cc and Bcc included).
	MIME []byte

	Tags    []string
	Options Options

	IdempotencyKey         string
	IdempotencyFingerprint string
}

// Service accepts submissions.
type Service struct {
	Store     store.MessageStore
	Templates *templates.Service
	Lists     store.ListStore
	Now       func() time.Time
	PublicURL string
	Limits    Limits
	// Notify tells the delivery engine that jobs for the destination
	// domains dests were queued for due (engine.NotifyDue); may be nil.
	Notify func(due time.Time, dests ...string)
	// Accepted hands the delivery engine a stored message whose jobs are
	// due now, so it need not read it back (engine.Accepted); may be nil.
	Accepted func(store.Message)
	// Sources are the node's source addresses and Pools its IP pools:
	// o:sending-ip and o:sending-ip-pool are checked against them
	// (sources.go).
	Sources *ips.Set
	Pools   store.IPPoolStore
	// Subaccounts tells whether a subaccount's domain may send; nil: every
	// domain is the primary account's. Every send path comes here (the
	// API's sends and resends, the dashboard's, route forwards and list
	// posts), so a disabled subaccount sends nothing, whichever way.
	Subaccounts store.SubaccountStore
}

// ErrSubaccountDisabled refuses a send for a domain of a disabled
// subaccount (the API answers 403, as auth.ErrSubaccountDisabled).
var ErrSubaccountDisabled = &fault.Error{Kind: fault.Forbidden,
	Message: "Forbidden: the subaccount is disabled and cannot send; its parent account can enable it again"}

// subaccountMaySend refuses a domain whose subaccount is disabled or gone.
func (s *Service) subaccountMaySend(ctx context.Context, d store.Domain) error {
	if d.AccountID == "" || s.Subaccounts == nil {
		return nil
	}
	sub, err := s.Subaccounts.Subaccount(ctx, d.AccountID)
	if err == nil && sub.Status == store.SubaccountOpen {
		return nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return ErrSubaccountDisabled
}

// ErrIdempotencyMismatch: the key was used for a different request.
var ErrIdempotencyMismatch = &fault.Error{Kind: fault.Conflict,
	Message: "Idempotency-Key was already used for a different request"}

// Send accepts sub durably and returns the API response.
func (s *Service) Send(ctx context.Context, sub *Submission) (mgapi.SendResponse, error) {
	now := s.Now().UTC()
	if err := s.subaccountMaySend(ctx, sub.Domain); err != nil {
		return mgapi.SendResponse{}, err
	}
	if err := s.checkSources(ctx, &sub.Options); err != nil {
		return mgapi.SendResponse{}, err
	}
	if err := s.applyTemplate(ctx, sub); err != nil {
		return mgapi.SendResponse{}, err
	}
	fan, err := s.fanOut(ctx, sub)
	if err != nil {
		return mgapi.SendResponse{}, err
	}
	p, err := s.prepare(sub, fan, now)
	if err != nil {
		return mgapi.SendResponse{}, err
	}
	resp := mgapi.SendResponse{ID: "<" + p.meta.Info.MessageID + ">", Message: "Queued. Thank you."}
	acc := store.Accept{Message: p.msg, Jobs: p.jobs, Events: p.events, Now: now, Screen: p.screen(sub, now)}
	if sub.IdempotencyKey != "" {
		body, _ := json.Marshal(resp)
		acc.Idempotency = &store.Idempotency{Domain: sub.Domain.Name, Key: sub.IdempotencyKey,
			Fingerprint: sub.IdempotencyFingerprint, Response: body, ExpiresAt: now.Add(s.Limits.IdempotencyTTL)}
	}
	if sub.Authorized != nil {
		if err := sub.Authorized(ctx); err != nil {
			return mgapi.SendResponse{}, err
		}
	}
	prev, err := s.Store.Accept(ctx, acc)
	if err != nil {
		return mgapi.SendResponse{}, err
	}
	if prev != nil {
		if prev.Fingerprint != sub.IdempotencyFingerprint {
			return mgapi.SendResponse{}, ErrIdempotencyMismatch
		}
		var old mgapi.SendResponse
		if err := json.Unmarshal(prev.Response, &old); err != nil {
			return mgapi.SendResponse{}, err
		}
		return old, nil
	}
	if len(p.jobs) > 0 {
		// Every job of a submission is due at once. Only jobs due now
		// wake the engine, so only they need their destinations.
		due := p.jobs[0].NextAttemptAt
		if due.After(now) {
			if s.Notify != nil {
				s.Notify(due)
			}
		} else {
			if s.Accepted != nil {
				s.Accepted(p.msg)
			}
			if s.Notify != nil {
				s.Notify(due, destinations(p.jobs)...)
			}
		}
	}
	return resp, nil
}

// destinations are the distinct recipient domains of jobs.
func destinations(jobs []store.Job) []string {
	out := make([]string, 0, 1)
	seen := make(map[string]struct{}, 1)
	for _, j := range jobs {
		if _, ok := seen[j.RcptDomain]; !ok {
			seen[j.RcptDomain] = struct{}{}
			out = append(out, j.RcptDomain)
		}
	}
	return out
}

type prepared struct {
	meta   msgmeta.Meta
	msg    store.Message
	jobs   []store.Job
	events []store.Event
}

func (s *Service) prepare(sub *Submission, fan *fanout, now time.Time) (*prepared, error) {
	d := sub.Domain
	given, err := s.recipients(sub)
	if err != nil {
		return nil, err
	}
	// Lists expand to their members here; the message keeps the
	// recipients as given (the list address, not every member).
	rcpts := fan.expand(given)
	key := newKey(now)
	meta := msgmeta.Meta{Options: sub.Options, Batch: len(sub.RecipientVar) > 0, Lists: fan.lists(), Recipients: given, Vars: sub.Vars}
	meta.SameContent = len(meta.Lists) > 0 && !hasPlaceholders(sub)
	var raw []byte
	if sub.MIME != nil {
		raw, err = s.fromMIME(sub, &meta, now)
	} else {
		raw, err = s.build(sub, &meta, now)
	}
	if err == nil {
		err = checkHeaderSize(raw)
	}
	if err == nil {
		err = checkHeaderVars(sub)
	}
	if err != nil {
		return nil, err
	}
	if len(raw) > s.Limits.MaxMessageBytes {
		return nil, &fault.Error{Kind: fault.TooLarge,
			Message: fmt.Sprintf("message size %d bytes exceeds the %d bytes limit", len(raw), s.Limits.MaxMessageBytes)}
	}
	due := now
	if sub.Options.DeliveryTime > 0 {
		due = time.Unix(sub.Options.DeliveryTime, 0).UTC()
		if due.After(now.Add(s.Limits.MaxScheduleAhead)) {
			return nil, fault.Invalidf("o:deliverytime is more than %s in the future", s.Limits.MaxScheduleAhead)
		}
		if due.Before(now) {
			due = now
		}
	}
	mi := &meta.Info
	mi.Domain, mi.StorageKey, mi.Size = d.Name, key, len(raw)
	mi.StorageURL = s.PublicURL + "/v3/domains/" + d.Name + "/messages/" + key
	mi.Tags, mi.Method, mi.TestMode, mi.OriginatingIP = sub.Tags, sub.Method, sub.Options.TestMode, sub.OriginatingIP
	mi.Sender = "bounce+" + key[len(key)-12:] + "@" + d.Name
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	p := &prepared{meta: meta, msg: store.Message{
		Key: key, Domain: d.Name, MessageID: mi.MessageID, Sender: mi.Sender, Size: len(raw), Body: raw,
		Meta: metaJSON, CreatedAt: now, ExpiresAt: due.Add(s.Limits.Retention),
	}}
	p.jobs, p.events = make([]store.Job, 0, len(rcpts)), make([]store.Event, 0, len(rcpts))
	for _, r := range rcpts {
		per := fan.personal(r, sub.RecipientVar[strings.ToLower(r)])
		job := store.Job{MessageKey: key, Domain: d.Name, Recipient: r, RcptDomain: mail.Domain(r),
			NextAttemptAt: due, CreatedAt: now}
		switch {
		case len(meta.Lists) > 0:
			job.Vars, _ = json.Marshal(per)
		case meta.Batch:
			job.Vars, _ = json.Marshal(per.Vars)
		}
		p.jobs = append(p.jobs, job)
		p.events = append(p.events, events.NewAccepted(meta.InfoFor(r), r, meta.UserVars(r, per), now))
	}
	return p, nil
}

// screen is the accept-time check of docs/mailgun-contract.md §4.6, run by the store inside the
// accept transaction: a suppressed recipient is not queued and gets a
// failed event (after its accepted event) instead.
func (p *prepared) screen(sub *Submission, now time.Time) func(int, []store.Suppression) *store.Event {
	return func(i int, hits []store.Suppression) *store.Event {
		v := suppress.Decide(hits, p.meta.Info.Tags)
		if v.Reason == "" {
			return nil
		}
		rcpt := p.jobs[i].Recipient
		uv := p.meta.UserVarsForJob(rcpt, p.jobs[i].Vars)
		e := events.NewFailed(p.meta.InfoFor(rcpt), rcpt, uv, events.Permanent, events.Reason(v.Reason), v.Status(), now)
		return &e
	}
}

// recipients returns the envelope recipients: to, cc and bcc, each address
// once (compared case-insensitively), in order.
func (s *Service) recipients(sub *Submission) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, f := range []struct {
		name   string
		values []string
	}{{"to", sub.To}, {"cc", sub.Cc}, {"bcc", sub.Bcc}} {
		addrs, err := mail.ParseAddressList(f.values)
		if err != nil {
			return nil, badAddress(f.name, unparsable(f.values))
		}
		for _, a := range addrs {
			if !validAddress(a.Address) {
				return nil, badAddress(f.name, a.Address)
			}
			k := strings.ToLower(a.Address)
			if !seen[k] {
				seen[k] = true
				out = append(out, a.Address)
			}
		}
	}
	if len(out) == 0 {
		return nil, fault.Invalidf("to parameter is missing")
	}
	if len(out) > s.Limits.MaxRecipients {
		return nil, fault.Invalidf("Too many recipients, max is %d", s.Limits.MaxRecipients)
	}
	return out, nil
}

// badAddress is Mailgun's error for an address parameter, followed by
// the value at fault so the caller need not guess which one it was.
func badAddress(param, value string) error {
	return fault.Invalidf("%s parameter is not a valid address. please check documentation (%q)", param, value)
}

// unparsable is the first of values that does not parse as an address
// list, narrowed to its first comma-separated part that does not parse
// (a display name with a comma cannot be narrowed: then the whole value).
func unparsable(values []string) string {
	for _, v := range values {
		if _, err := mail.ParseAddressList([]string{v}); err == nil {
			continue
		}
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if _, err := mail.ParseAddressList([]string{part}); err != nil && part != "" {
				return part
			}
		}
		return v
	}
	return strings.Join(values, ", ")
}

func validAddress(a string) bool {
	at := strings.LastIndexByte(a, '@')
	return at > 0 && at < len(a)-1 && !strings.ContainsAny(a, " \t\r\n<>") && validDomain(a[at+1:])
}

// validDomain reports whether d is a domain name mail can be sent to: no
// address literal ([127.0.0.1]: Mailgun refuses them too), and labels of
// 1 to 63 octets that neither start nor end with a hyphen (RFC 1035 §2.3.1,
// RFC 5321 §4.1.2; non-ASCII letters are allowed for IDNs).
func validDomain(d string) bool {
	d = strings.TrimSuffix(d, ".")
	if d == "" || len(d) > 253 || strings.HasPrefix(d, "[") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if r < 0x80 && !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
	}
	return true
}

// build makes the MIME message from the submission's fields.
func (s *Service) build(sub *Submission, meta *msgmeta.Meta, now time.Time) ([]byte, error) {
	from, err := netmail.ParseAddress(sub.From)
	if err != nil || !validAddress(from.Address) {
		return nil, badAddress("from", sub.From)
	}
	to, _ := mail.ParseAddressList(sub.To)
	cc, _ := mail.ParseAddressList(sub.Cc)
	msgID := ""
	headers := append([]mail.Header(nil), sub.Headers...)
	for _, h := range headers {
		if strings.EqualFold(h.Name, "Message-Id") {
			msgID = strings.Trim(strings.TrimSpace(h.Value), "<>")
		}
	}
	if msgID == "" {
		msgID = mail.NewMessageID(sub.Domain.Name, now)
	}
	uv, varTmpls := userVariables(sub.Vars, meta.Personalised())
	meta.Info.UserVariables, meta.VarTemplates = uv, varTmpls
	if len(sub.Vars) > 0 {
		headers = append(headers, mail.Header{Name: "X-Mailgun-Variables", Value: variablesHeader(sub.Vars)})
	}
	spec := mail.Spec{From: from, To: to, Cc: cc, Subject: sub.Subject, Text: sub.Text, HTML: sub.HTML,
		AMP: sub.AMP, Inline: sub.Inline, Attachments: sub.Attachments, Headers: headers,
		MessageID: msgID, Date: now}
	raw, err := mail.Build(spec)
	if err != nil {
		return nil, fault.Invalidf("cannot build the message: %v", err)
	}
	mi := &meta.Info
	mi.MessageID, mi.From, mi.Subject = msgID, from.String(), sub.Subject
	mi.To = joinAddresses(to)
	for _, p := range sub.Attachments {
		mi.Attachments = append(mi.Attachments, mgapi.AttachmentInfo{Filename: p.Filename,
			ContentType: contentType(p), Size: len(p.Data)})
	}
	return raw, nil
}

func contentType(p mail.Part) string {
	if p.ContentType != "" {
		return p.ContentType
	}
	return mail.ContentTypeOf(p.Filename)
}

func joinAddresses(l []*netmail.Address) string {
	parts := make([]string, len(l))
	for i, a := range l {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

// MaxHeaderBytes bounds a message's header block at accept. Every event of
// the message repeats its subject and other header fields, so a huge one
// would multiply into every event; real header blocks are a few KB.
const MaxHeaderBytes = 256 << 10

// checkHeaderSize refuses a message whose header block is over
// MaxHeaderBytes.
func checkHeaderSize(raw []byte) error {
	n := bytes.Index(raw, []byte("\r\n\r\n"))
	if m := bytes.Index(raw, []byte("\n\n")); m >= 0 && (n < 0 || m < n) {
		n = m
	}
	if n < 0 {
		n = len(raw)
	}
	if n > MaxHeaderBytes {
		return fault.Invalidf("message headers are too large: %d bytes, at most %d (subject and h: headers included)", n, MaxHeaderBytes)
	}
	return nil
}

// fromMIME takes a ready message, adding a Message-ID and Date if missing
// and removing Bcc fields (the envelope carries those recipients).
func (s *Service) fromMIME(sub *Submission, meta *msgmeta.Meta, now time.Time) ([]byte, error) {
	raw, msgID, err := mail.EnsureHeaders(mail.StripBcc(sub.MIME), sub.Domain.Name, now)
	if err != nil {
		return nil, fault.Invalidf("message is not a valid MIME message: %v", err)
	}
	info, err := mail.Inspect(raw)
	if err != nil {
		return nil, fault.Invalidf("message is not a valid MIME message: %v", err)
	}
	mi := &meta.Info
	mi.MessageID, mi.From, mi.To, mi.Subject = msgID, info.From, info.To, info.Subject
	for _, a := range info.Attachments {
		mi.Attachments = append(mi.Attachments, mgapi.AttachmentInfo(a))
	}
	mi.UserVariables, meta.VarTemplates = userVariables(sub.Vars, meta.Personalised())
	return raw, nil
}

// userVariables turns v:* values into event user-variables: JSON objects
// and arrays are decoded, anything else stays a string. In a batch send the
// values holding %recipient…% placeholders are kept as templates.
func userVariables(vars map[string]string, batch bool) (map[string]any, map[string]string) {
	uv := map[string]any{}
	var varTmpls map[string]string
	for k, v := range vars {
		if batch && strings.Contains(v, "%recipient") {
			if varTmpls == nil {
				varTmpls = map[string]string{}
			}
			varTmpls[k] = v
		}
		uv[k] = msgmeta.DecodeVar(v)
	}
	return uv, varTmpls
}

// variablesHeader is the X-Mailgun-Variables value: a JSON object of the
// v:* variables, keys sorted.
func variablesHeader(vars map[string]string) string {
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		kj, _ := json.Marshal(k)
		vj, _ := json.Marshal(vars[k])
		b.Write(kj)
		b.WriteString(": ")
		b.Write(vj)
	}
	b.WriteByte('}')
	return b.String()
}

// newKey returns a storage key: 27 characters of base64url, a time
// prefix then 96 random bits. Keys of one period sort together, so the
// store's key index grows at its end instead of dirtying random pages.
func newKey(now time.Time) string {
	b := make([]byte, 20)
	binary.BigEndian.PutUint64(b, uint64(now.UnixMicro()))
	_, _ = rand.Read(b[8:])
	return base64.RawURLEncoding.EncodeToString(b)
}

// Fingerprint hashes the parts of a request that make it "the same
// request" for idempotency.
func Fingerprint(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// MessageInfo returns what the events of a stored message repeat (for
// events recorded after delivery: opens, clicks, unsubscribes). OwnTo is
// set for a batch send, whose copies each name only their own recipient.
func MessageInfo(ctx context.Context, st store.MessageStore, domain, key string) (events.MessageInfo, error) {
	m, err := st.Message(ctx, domain, key)
	if err != nil {
		return events.MessageInfo{}, err
	}
	meta, err := msgmeta.Decode(m.Meta)
	if err != nil {
		return events.MessageInfo{}, fmt.Errorf("message %s meta: %w", key, err)
	}
	info := meta.Info
	info.OwnTo = meta.Batch
	return info, nil
}
