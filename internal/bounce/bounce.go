// Package bounce reads mail that comes back after a delivery — delivery
// status notifications, feedback-loop complaints, plain-text bounces from
// MTAs that do not speak RFC 3464, and auto-replies — and says what each
// one reports, as a value.
//
// It is pure: no store, no network, no clock. Parse takes the whole
// received message and returns a *Report; deciding whose copy it concerns
// and what to record (events, suppressions, webhooks) is the caller's job.
//
// What is recognised, in this order:
//
//   - RFC 3464 delivery status notifications: a message/delivery-status
//     part (or RFC 6533 message/global-delivery-status), whatever the
//     report-type parameter says; per-message Reporting-MTA (RFC 3464
//     §2.2.2) and per-recipient Final-Recipient, Original-Recipient,
//     Action, Status, Remote-MTA and Diagnostic-Code (RFC 3464 §2.3). Field groups
//     are split on blank lines and also where a new recipient group starts
//     without one, because real MTAs omit blank lines.
//   - RFC 5965 feedback reports: a message/feedback-report part
//     (Feedback-Type, Original-Mail-From, Original-Rcpt-To: RFC 5965
//     §3.1/§3.2).
//     Feedback-Type abuse or fraud is a Complaint, any other type Feedback.
//     Microsoft's JMRP reports (Outlook.com, Hotmail), which enclose the
//     reported message without a feedback-report part, are complaints.
//   - Amazon SES notifications mailed as JSON (notificationType Bounce,
//     Complaint or Delivery).
//   - Plain-text bounces (qmail, Exim, old Sendmail, Gmail, Yahoo, ...):
//     the human-readable part before the enclosed original is searched for
//     recipient addresses and the SMTP reply code (RFC 5321 §4.2) or
//     enhanced status code (RFC 3463) given for each.
//   - Auto-replies (RFC 3834 Auto-Submitted: auto-replied, X-Autoreply,
//     X-Autorespond, Precedence: auto_reply, vacation / out-of-office
//     subjects) are AutoReply and never a bounce — except that a message
//     carrying a delivery-status part, or a plain-text bounce from a mailer
//     daemon, is a bounce whatever its Auto-Submitted field says (Exim and
//     Postfix mark their bounces auto-replied).
//
// Classification: a recipient is Hard (a permanent failure) when its
// enhanced status has class 5 (RFC 3463 §3.1), or, when there is no
// status, when its SMTP reply code is 5xx. "Action: failed" with a 4.x.x
// status is a soft failure (Hard false).
//
// Failure rules: Parse never panics and never returns an error. Input it
// cannot read, or that reports nothing usable, is Kind None. It reads at
// most MaxInput bytes and MaxParts MIME parts, so huge or deeply nested
// input costs bounded time and memory.
package bounce

import (
	"bytes"
	"strings"
)

// Limits on what Parse reads. A bounce's report is near its start; what
// lies beyond these bounds is ignored, not an error.
const (
	MaxInput      = 1 << 20 // bytes of the raw message that are read
	MaxParts      = 64      // MIME parts visited
	MaxDepth      = 6       // multipart nesting followed
	maxDiagnostic = 500     // bytes kept of a diagnostic text
	maxRecipients = 100     // recipients kept from one report
)

// Kind is what a received message reports.
type Kind int

// The kinds of report.
const (
	None      Kind = iota // not a bounce or complaint (or nothing usable): drop
	Failed                // a delivery failure report (DSN Action: failed, or plain-text bounce)
	Delayed               // delayed / relayed / delivered / expanded DSN: log only
	Complaint             // ARF feedback report with Feedback-Type abuse or fraud
	Feedback              // other ARF types (not-spam, virus, ...): change nothing
	AutoReply             // vacation / out-of-office / Auto-Submitted: auto-replied: never a bounce
)

// String names the kind for logs.
func (k Kind) String() string {
	switch k {
	case Failed:
		return "failed"
	case Delayed:
		return "delayed"
	case Complaint:
		return "complaint"
	case Feedback:
		return "feedback"
	case AutoReply:
		return "autoreply"
	}
	return "none"
}

// Original holds header fields of the enclosed original message
// (a message/rfc822 or text/rfc822-headers part, or the headers quoted
// after a plain-text bounce). MessageID and ReturnPath have their angle
// brackets removed; the others are decoded (RFC 2047) header text.
type Original struct {
	MessageID, ReturnPath, From, To, Subject string
}

// Report is what Parse found in one message.
type Report struct {
	Kind         Kind
	Format       string      // "dsn" (RFC 3464), "arf" (RFC 5965), "jmrp" (Microsoft), "ses" (Amazon SES JSON), "text" (heuristic), "autoreply", ""
	Recipients   []Recipient // per-recipient results; may be empty for ARF
	ReportingMTA string      // Reporting-MTA (dns; name) without the type prefix

	// ARF (RFC 5965 §3.1/3.2):
	FeedbackType     string   // lower case
	OriginalMailFrom string   // Original-Mail-From, angle brackets stripped
	OriginalRcptTo   string   // Original-Rcpt-To (the first one), angle brackets stripped
	RcptTo           []string // every Original-Rcpt-To (a report may name several, RFC 5965 §3.2)

	// Headers of the enclosed original message, when present.
	Original Original
}

// Recipient is the outcome a report gives for one recipient.
//
// A plain-text bounce that names no address still yields one Recipient
// with an empty Final, carrying the status it found: the caller knows the
// recipient from the bounce address the report was sent to.
type Recipient struct {
	Final      string // Final-Recipient address (type prefix "rfc822;" stripped), lower-cased domain
	Original   string // Original-Recipient, same form
	Action     string // failed, delayed, delivered, relayed, expanded (lower case)
	Status     string // enhanced status "5.1.1"
	Code       int    // SMTP reply code from Diagnostic-Code or text (550), 0 if none
	Diagnostic string // Diagnostic-Code text without "smtp;" prefix, single line, bounded length
	RemoteMTA  string
	Hard       bool   // permanent failure: 5.x.x status, or 5xx code when no status
	Category   string // coarse cause, see Categorize; "" when unknown
}

// Severity is Mailgun's delivery-status severity for the recipient:
// "permanent" for a hard failure, "temporary" otherwise.
func (r Recipient) Severity() string {
	if r.Hard {
		return "permanent"
	}
	return "temporary"
}

// Parse reads a whole received message (headers and body, CRLF or LF) and
// says what it reports. It never panics and never returns an error for
// malformed input: unknown input is Kind None.
func Parse(raw []byte) *Report {
	if len(raw) > MaxInput {
		raw = raw[:MaxInput]
	}
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	m := walk(raw)
	if r := fromReportParts(m); r != nil {
		return finish(r, m)
	}
	if r := fromSESJSON(m); r != nil {
		return finish(r, m)
	}
	bouncy := m.fromDaemon() || bounceSubject.MatchString(m.subject)
	if !bouncy && isAutoReply(m) {
		return finish(&Report{Kind: AutoReply, Format: "autoreply"}, m)
	}
	if r := fromText(m, bouncy); r != nil {
		return finish(r, m)
	}
	return finish(&Report{}, m)
}

// finish fills what every report shares: the enclosed original's headers
// and each recipient's hard flag and category.
func finish(r *Report, m *msg) *Report {
	if m.hasOrig || r.Original == (Original{}) {
		r.Original = m.original
	}
	for i := range r.Recipients {
		rc := &r.Recipients[i]
		rc.Hard = isHard(rc.Status, rc.Code)
		rc.Category = Categorize(*rc)
	}
	return r
}

// isHard applies RFC 3463 §3.1: the status class decides; without a status
// the reply code's first digit does (RFC 5321 §4.2.1).
func isHard(status string, code int) bool {
	if status != "" {
		return status[0] == '5'
	}
	return code >= 500 && code < 600
}

// normAddr turns "rfc822; <User@Example.COM>" into "User@example.com".
func normAddr(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ';'); i >= 0 && i < 12 && !strings.Contains(s[:i], "@") {
		s = strings.TrimSpace(s[i+1:])
	}
	s = strings.TrimSpace(strings.Trim(s, "<> \t"))
	if strings.HasPrefix(s, "\"") && strings.Contains(s, "\"@") {
		s = strings.TrimRight(s, "<>.,;:()[]'") // a quoted local part (RFC 5321 §4.1.2)
	} else {
		if i := strings.IndexByte(s, ' '); i > 0 {
			s = s[:i]
		}
		s = strings.Trim(s, "<>.,;:()[]\"'")
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return ""
	}
	return s[:at] + "@" + strings.ToLower(s[at+1:])
}

// oneLine collapses whitespace and bounds the length of a diagnostic.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxDiagnostic {
		s = s[:maxDiagnostic]
		for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 { // do not cut a UTF-8 sequence
			s = s[:len(s)-1]
		}
		if len(s) > 0 && s[len(s)-1] >= 0xC0 {
			s = s[:len(s)-1]
		}
	}
	return s
}
