package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// TestDeliveryThrottled: a receiving server that answers 421 4.7.0 "slow
// down" backs off the whole destination, not just the message: the
// message is retried as a temporary failure, the next message to the
// destination waits without a connection ("destination unreachable …
// throttled"), and once the backoff is over the next chunk goes, the
// destination is up again and the waiting message is delivered at once.
func TestDeliveryThrottled(t *testing.T) {
	t.Parallel()
	e, mx := startEnvMX(t, envOptions{}, "busy.test")
	mx.SetRcptReply(func(rcpt string) *smtp.SMTPError {
		if strings.HasPrefix(rcpt, "slow") {
			return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Too many messages, slow down"}
		}
		return nil
	})
	a := e.send(e.message("slow@busy.test"))
	f := e.waitFailed(a, "temporary", "generic")
	if f.DeliveryStatus.Code != 421 || f.DeliveryStatus.EnhancedCode != "4.7.0" {
		t.Fatalf("throttled status = %+v, want 421 4.7.0", f.DeliveryStatus)
	}
	sessions := mx.Sessions()

	b := e.send(e.message("ok@busy.test"))
	f = e.waitFailed(b, "temporary", "generic")
	if msg := f.DeliveryStatus.Message; !strings.HasPrefix(msg, "destination unreachable") || !strings.Contains(msg, "throttled") {
		t.Fatalf("the next message's status = %+v, want it deferred because the destination throttled", f.DeliveryStatus)
	}
	if got := mx.Sessions(); got != sessions {
		t.Fatalf("the MX had %d sessions after the throttle, want %d: the destination must back off", got, sessions)
	}

	// Past the first backoff (HealthBackoff, 30 s) a probe or the next
	// chunk finds the destination up again; the waiting mail goes at once.
	e.advance(31 * time.Second)
	c := e.send(e.message("ok2@busy.test"))
	for _, id := range []string{b, c} {
		waitFor(t, waitTimeout, func() bool { return len(e.waitOutcomes(id, 1).Delivered) == 1 },
			func() string { return "message " + id + ": " + e.waitOutcomes(id, 1).String() + ", want delivered" })
	}
}
