// Package delivery moves queued messages to their recipients' mail servers.
//
// The engine claims due jobs (leasing them, which records the attempt
// before any connection is made), groups them by destination domain, and
// gives each group to a worker that opens one SMTP connection and carries
// every message of the group over it (RSET between messages). A job's
// outcome is a Result value; what happens next (delivered, retry later,
// give up, which event) is the pure function Decide of that value, the
// attempt count and the job's age. Unknown errors are temporary. A job
// whose worker died comes back when its lease ends; a lease is never
// shorter than a second, so a crash loop cannot become a hot retry loop.
//
// Each session leaves from a source address chosen per copy (sources.go:
// the message's, its pool's, its domain's, else any of --source-ips in
// rotation; the kernel's choice without them) and says that address's EHLO
// name; a copy whose address differs from the open session's gets a new
// session. Events name the address in envelope.sending-ip.
//
// In capture mode (Config.Capture, capture.go) the transport is the store
// instead of SMTP: every copy is prepared exactly as for sending and then
// kept, and nothing is dialled.
package delivery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/tlspolicy"
)

// Kind is the class of an attempt's outcome. The classes follow the reply
// codes' first digit (RFC 5321 §4.2.1): 2yz completed, 4yz transient
// ("the same command may succeed later", so retried), 5yz permanent (the
// client should not repeat it as is, so bounced and suppressed).
type Kind int

const (
	// Delivered: the receiving server accepted the message (2xx).
	Delivered Kind = iota
	// Temporary: try again later (4xx, timeouts, refused connections,
	// DNS failures, anything unknown).
	Temporary
	// Permanent: never try again (5xx, null MX, no such domain).
	Permanent
	// Throttled: the receiving server asks us to slow down (a 421 or
	// 4.7.x reply about rate or volume, throttled). The message is retried
	// as a temporary failure, and the whole destination backs off
	// (health.go), not just the message.
	Throttled
)

func (k Kind) String() string {
	return [...]string{"delivered", "temporary", "permanent", "throttled"}[k]
}

// rateWords mark a 421 / 4.7.x reply as a request to slow down rather than
// another temporary failure (greylisting, a full mailbox). 421 is "service
// not available, closing transmission channel" (RFC 5321 §4.2.3); X.7.XXX
// is the security or policy class of enhanced codes (RFC 3463 §3.8),
// where receivers put their rate limits: Gmail's "4.7.28
// unusual rate", Yahoo's "4.7.0 [TSS04] … unexpected volume", Outlook's
// "4.7.500 Server busy", and the generic "too many" and "try again later".
var rateWords = []string{"rate", "too many", "throttl", "volume", "busy", "try again later", "slow down"}

// throttling reports whether a 4xx reply asks the client to slow down.
func throttling(code int, enhanced, msg string) bool {
	if code/100 != 4 || (code != 421 && !strings.HasPrefix(enhanced, "4.7.")) {
		return false
	}
	msg = strings.ToLower(msg)
	for _, w := range rateWords {
		if strings.Contains(msg, w) {
			return true
		}
	}
	return false
}

// Result is one attempt's outcome for one recipient.
type Result struct {
	Kind         Kind
	Code         int    // SMTP reply code, RFC 5321 §4.2 (or Mailgun's codes: 605 suppressed, 650 test mode)
	EnhancedCode string // RFC 3463 class.subject.detail, "5.1.1"
	Message      string // the server's reply text, or what went wrong
	MXHost       string
	SendingIP    string // source address of the session; "" when the kernel chose
	TLS          bool
	Verified     bool
	UTF8         bool
	Reason       events.Reason // Mailgun's reason for failures
	// TLSPolicy is the TLS policy that applied to the session (tlspolicy
	// names: "dane", "mta-sts enforce", "mta-sts testing"; "" for
	// opportunistic TLS) and TLSPolicyReport how it was not met (a
	// refusal's reason, or what testing mode only reports).
	TLSPolicy       string
	TLSPolicyReport string
	// Command is the step of the session that failed: CmdConnect (opening:
	// connect, greeting, EHLO, STARTTLS), CmdMail, CmdRcpt, CmdData (the
	// DATA command) or CmdEndOfData (the reply to the message); "" when
	// no SMTP step failed.
	Command string
	Session time.Duration
	// Unreachable: no session could be opened to the destination (or it
	// is known to be down); such jobs are released when it is up again.
	Unreachable bool
}

// The SMTP steps a Result's Command names (RFC 5321 §3.3).
const (
	CmdConnect   = "connect"
	CmdMail      = "MAIL FROM"
	CmdRcpt      = "RCPT TO"
	CmdData      = "DATA"
	CmdEndOfData = "end of DATA"
)

// Classify turns an error from an SMTP exchange into a Result. nil means
// delivered; *smtp.SMTPError is classified by its reply code's first digit
// (RFC 5321 §4.2.1; the enhanced code, RFC 3463 §2, only refines a 4yz
// into Throttled); errors we know are permanent say so; everything else
// is temporary, as RFC 5321 §4.5.4.1 has a sender treat a failed
// connection.
func Classify(err error) Result {
	if err == nil {
		return Result{Kind: Delivered, Code: 250, Message: "OK"}
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		r := Result{Code: se.Code, Message: se.Message}
		if se.EnhancedCode != smtp.NoEnhancedCode && se.EnhancedCode != (smtp.EnhancedCode{}) {
			r.EnhancedCode = fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
		}
		switch {
		case se.Code >= 200 && se.Code < 300:
			r.Kind = Delivered
		case se.Code >= 500 && se.Code < 600:
			r.Kind, r.Reason = Permanent, events.ReasonBounce
		case throttling(se.Code, r.EnhancedCode, se.Message):
			r.Kind, r.Reason = Throttled, events.ReasonGeneric
		default:
			r.Kind, r.Reason = Temporary, events.ReasonGeneric
		}
		return r
	}
	var v *tlspolicy.Violation
	if errors.As(err, &v) {
		return Result{Kind: Temporary, Code: 421, EnhancedCode: v.Enhanced, Message: v.Msg, Reason: events.ReasonGeneric,
			TLSPolicy: v.Policy, TLSPolicyReport: v.Msg}
	}
	var pe *PermanentError
	if errors.As(err, &pe) {
		return Result{Kind: Permanent, Code: pe.Code, EnhancedCode: pe.Enhanced, Message: pe.Msg, Reason: events.ReasonBounce}
	}
	r := Result{Kind: Temporary, Code: 421, Message: err.Error(), Reason: events.ReasonGeneric}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		r.Message = "timeout: " + err.Error()
	}
	return r
}

// sessionFailure is the outcome of an error that concerns the session or
// the whole transaction rather than one recipient: a refused greeting,
// EHLO/HELO or MAIL FROM, a refused DATA command, a failed TLS handshake,
// a dropped connection, a timeout. The recipient is not at fault, so even
// a 5xx reply is a temporary failure, retried on the schedule (and failed
// with reason "old" after the retry window), never a bounce. Only a 5xx
// answer to a recipient's RCPT TO or to the end of DATA is a permanent
// failure of that recipient.
func sessionFailure(r Result) Result {
	if r.Kind == Permanent {
		r.Kind, r.Reason = Temporary, events.ReasonGeneric
	}
	return r
}

// PermanentError is a failure of ours that retrying cannot fix.
type PermanentError struct {
	Code     int
	Enhanced string
	Msg      string
}

func (e *PermanentError) Error() string { return e.Msg }

// Retry is the retry policy: Schedule[i] is the delay after the (i+1)th
// failed attempt (the last entry repeats); no retry is scheduled past
// MaxAge after acceptance.
type Retry struct {
	Schedule []time.Duration
	MaxAge   time.Duration
}

// Decision is what to do with a job after an attempt.
type Decision struct {
	Done     bool            // remove from the queue
	Next     time.Time       // when not Done
	Event    string          // events.Delivered or events.Failed
	Severity events.Severity // for failed
	Reason   events.Reason
	Retry    time.Duration // for temporary failures: the delay
}

// Decide is the whole retry logic: a pure function of the outcome, the
// number of attempts made (this one included), the job's acceptance time
// and now.
func (p Retry) Decide(r Result, attempts int, accepted, now time.Time) Decision {
	switch r.Kind {
	case Delivered:
		return Decision{Done: true, Event: events.Delivered}
	case Permanent:
		return Decision{Done: true, Event: events.Failed, Severity: events.Permanent, Reason: cmp.Or(r.Reason, events.ReasonBounce)}
	}
	i := attempts - 1
	if i < 0 {
		i = 0
	}
	if i >= len(p.Schedule) {
		i = len(p.Schedule) - 1
	}
	delay := p.Schedule[i]
	next := now.Add(delay)
	if next.Sub(accepted) > p.MaxAge {
		return Decision{Done: true, Event: events.Failed, Severity: events.Permanent, Reason: events.ReasonOld}
	}
	return Decision{Next: next, Event: events.Failed, Severity: events.Temporary, Reason: cmp.Or(r.Reason, events.ReasonGeneric), Retry: delay}
}

// describe is the event's delivery-status description.
func describe(r Result) string {
	if r.Kind == Delivered {
		return ""
	}
	return strings.TrimSpace(r.Message)
}
