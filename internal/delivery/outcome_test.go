package delivery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/salvo-email/salvo/internal/events"
)

// mailgunRetry is Mailgun's schedule, the configuration's default.
var mailgunRetry = Retry{
	Schedule: []time.Duration{10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour},
	MaxAge:   8 * time.Hour,
}

func TestRetryDecideSchedule(t *testing.T) {
	t.Parallel()
	accepted := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	temp := Result{Kind: Temporary, Code: 451, Reason: "generic"}
	// Each attempt is made when the previous decision said, so "now" is
	// the acceptance time plus the delays so far.
	tests := []struct {
		attempt int
		at      time.Duration // since acceptance
		delay   time.Duration // 0: give up
	}{
		{1, 0, 10 * time.Minute},
		{2, 10 * time.Minute, 15 * time.Minute},
		{3, 25 * time.Minute, 30 * time.Minute},
		{4, 55 * time.Minute, time.Hour},
		{5, time.Hour + 55*time.Minute, 2 * time.Hour},
		{6, 3*time.Hour + 55*time.Minute, 4 * time.Hour},
		// The 7th attempt at 7h55m would retry at 11h55m: past 8h.
		{7, 7*time.Hour + 55*time.Minute, 0},
		// An attempt late in the day gives up even early in the schedule.
		{2, 7*time.Hour + 51*time.Minute, 0},
		// Exactly 8h after acceptance is still allowed; a second more is not.
		{6, 4 * time.Hour, 4 * time.Hour},
		{6, 4*time.Hour + time.Second, 0},
		// Past the table the last delay repeats (a longer MaxAge elsewhere).
		{9, time.Hour, 4 * time.Hour},
		// Attempts is at least 1 in practice; 0 is treated as the first.
		{0, 0, 10 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("attempt%d_at%s", tc.attempt, tc.at), func(t *testing.T) {
			t.Parallel()
			now := accepted.Add(tc.at)
			d := mailgunRetry.Decide(temp, tc.attempt, accepted, now)
			if d.Event != "failed" {
				t.Fatalf("event = %q, want failed", d.Event)
			}
			if tc.delay == 0 {
				want := Decision{Done: true, Event: "failed", Severity: "permanent", Reason: "old"}
				if d != want {
					t.Fatalf("decision = %+v, want %+v", d, want)
				}
				return
			}
			want := Decision{Next: now.Add(tc.delay), Event: "failed", Severity: "temporary", Reason: "generic", Retry: tc.delay}
			if d != want {
				t.Fatalf("decision = %+v, want %+v", d, want)
			}
		})
	}
}

func TestRetryDecideOutcomes(t *testing.T) {
	t.Parallel()
	accepted := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	late := accepted.Add(7 * time.Hour) // the schedule would give up on a temporary failure
	tests := []struct {
		name string
		r    Result
		now  time.Time
		want Decision
	}{
		{"delivered", Result{Kind: Delivered, Code: 250}, accepted,
			Decision{Done: true, Event: "delivered"}},
		{"delivered late", Result{Kind: Delivered, Code: 250}, late,
			Decision{Done: true, Event: "delivered"}},
		{"test mode", Result{Kind: Delivered, Code: 650}, accepted,
			Decision{Done: true, Event: "delivered"}},
		{"bounce", Result{Kind: Permanent, Code: 550, Reason: "bounce"}, accepted,
			Decision{Done: true, Event: "failed", Severity: "permanent", Reason: "bounce"}},
		{"permanent without reason", Result{Kind: Permanent, Code: 554}, accepted,
			Decision{Done: true, Event: "failed", Severity: "permanent", Reason: "bounce"}},
		{"permanent keeps its reason", Result{Kind: Permanent, Code: 550, Reason: "generic"}, late,
			Decision{Done: true, Event: "failed", Severity: "permanent", Reason: "generic"}},
		{"throttled is retried as temporary", Result{Kind: Throttled, Code: 421, Reason: "generic"}, accepted,
			Decision{Next: accepted.Add(10 * time.Minute), Event: "failed", Severity: "temporary", Reason: "generic", Retry: 10 * time.Minute}},
		{"temporary without reason", Result{Kind: Temporary, Code: 421}, accepted,
			Decision{Next: accepted.Add(10 * time.Minute), Event: "failed", Severity: "temporary", Reason: "generic", Retry: 10 * time.Minute}},
		{"temporary keeps its reason", Result{Kind: Temporary, Code: 450, Reason: "greylisted"}, accepted,
			Decision{Next: accepted.Add(10 * time.Minute), Event: "failed", Severity: "temporary", Reason: "greylisted", Retry: 10 * time.Minute}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := mailgunRetry.Decide(tc.r, 1, accepted, tc.now); got != tc.want {
				t.Fatalf("Decide = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// timeoutErr is a net.Error that timed out, like a read deadline.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	t.Parallel()
	smtpErr := func(code int, enh smtp.EnhancedCode, msg string) error {
		return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg}
	}
	tests := []struct {
		name     string
		err      error
		kind     Kind
		code     int
		enhanced string
		reason   events.Reason
		message  string // "" = not checked
	}{
		{"nil", nil, Delivered, 250, "", "", "OK"},
		{"250", smtpErr(250, smtp.EnhancedCode{2, 0, 0}, "Queued"), Delivered, 250, "2.0.0", "", "Queued"},
		{"451 greylist", smtpErr(451, smtp.EnhancedCode{4, 7, 1}, "Greylisted"), Temporary, 451, "4.7.1", "generic", "Greylisted"},
		{"421 no enhanced", smtpErr(421, smtp.NoEnhancedCode, "Closing"), Temporary, 421, "", "generic", "Closing"},
		{"452 zero enhanced", smtpErr(452, smtp.EnhancedCode{}, "Full"), Temporary, 452, "", "generic", "Full"},
		{"550 user unknown", smtpErr(550, smtp.EnhancedCode{5, 1, 1}, "No such user"), Permanent, 550, "5.1.1", "bounce", "No such user"},
		{"554 no enhanced", smtpErr(554, smtp.NoEnhancedCode, "Rejected"), Permanent, 554, "", "bounce", "Rejected"},
		{"wrapped 550", fmt.Errorf("rcpt: %w", smtpErr(550, smtp.EnhancedCode{5, 7, 1}, "Blocked")), Permanent, 550, "5.7.1", "bounce", "Blocked"},
		{"permanent error", &PermanentError{Code: 556, Enhanced: "5.1.10", Msg: "null MX"}, Permanent, 556, "5.1.10", "bounce", "null MX"},
		{"wrapped permanent error", fmt.Errorf("resolve: %w", &PermanentError{Code: 550, Enhanced: "5.1.2", Msg: "no such domain"}),
			Permanent, 550, "5.1.2", "bounce", "no such domain"},
		{"net timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}, Temporary, 421, "", "generic", "timeout: read tcp: i/o timeout"},
		{"deadline exceeded", fmt.Errorf("dial: %w", context.DeadlineExceeded), Temporary, 421, "", "generic", "timeout: dial: context deadline exceeded"},
		{"os deadline", os.ErrDeadlineExceeded, Temporary, 421, "", "generic", ""},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, Temporary, 421, "", "generic", "dial tcp: connection refused"},
		{"unknown", errors.New("something odd"), Temporary, 421, "", "generic", "something odd"},
		{"gmail rate", smtpErr(421, smtp.EnhancedCode{4, 7, 28}, "Our system has detected an unusual rate of unsolicited mail"),
			Throttled, 421, "4.7.28", "generic", ""},
		{"yahoo volume", smtpErr(421, smtp.EnhancedCode{4, 7, 0}, "[TSS04] Messages temporarily deferred due to unexpected volume"),
			Throttled, 421, "4.7.0", "generic", ""},
		{"outlook busy", smtpErr(451, smtp.EnhancedCode{4, 7, 500}, "Server busy. Please try again later"), Throttled, 451, "4.7.500", "generic", ""},
		{"421 too many", smtpErr(421, smtp.NoEnhancedCode, "Too many connections"), Throttled, 421, "", "generic", ""},
		{"greylisting is not throttling", smtpErr(450, smtp.EnhancedCode{4, 7, 1}, "Greylisted, please come back"), Temporary, 450, "4.7.1", "generic", ""},
		{"a full mailbox is not throttling", smtpErr(452, smtp.EnhancedCode{4, 2, 2}, "Mailbox full, rate exceeded"), Temporary, 452, "4.2.2", "generic", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := Classify(tc.err)
			if r.Kind != tc.kind || r.Code != tc.code || r.EnhancedCode != tc.enhanced || r.Reason != tc.reason {
				t.Fatalf("Classify(%v) = %+v, want kind %s code %d enhanced %q reason %q",
					tc.err, r, tc.kind, tc.code, tc.enhanced, tc.reason)
			}
			if tc.message != "" && r.Message != tc.message {
				t.Fatalf("message = %q, want %q", r.Message, tc.message)
			}
		})
	}
}
