package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/testutil"
)

// addStrictMX publishes an MX for domain routed to a StrictMX.
func (e *deliveryEnv) addStrictMX(domain string, o testutil.StrictOptions) *testutil.StrictMX {
	mx := testutil.StartStrictMX(e.t, o)
	ip := e.addMXHost(domain, 10, "mx."+domain, nil)
	e.Net.RouteAddr(ip, mx.Addr)
	return mx
}

// assertNoBounce checks that addr is not on the sending domain's bounce list.
func (e *deliveryEnv) assertNoBounce(addr string) {
	e.t.Helper()
	b, err := e.MG.GetBounce(context.Background(), addr)
	if mailgun.GetStatusFromErr(err) != 404 {
		e.t.Fatalf("GetBounce(%s) = %+v, %v; want 404: a session error is not a bounce", addr, b, err)
	}
}

// TestDeliveryStrictServer: a server without STARTTLS that answers a
// repeated EHLO with 503 (Python's smtpd does) gets exactly one EHLO per
// session, and the mail is delivered. Before the fix the client's second
// EHLO drew the 503 and every recipient was bounced.
func TestDeliveryStrictServer(t *testing.T) {
	t.Parallel()
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			e := startEnv(t, envOptions{postgres: pg})
			mx := e.addStrictMX("strict.test", testutil.StrictOptions{})
			// Personalised: one transaction per recipient, RSET between them
			// on one session.
			batch := e.message()
			for _, to := range []string{"ann@strict.test", "ben@strict.test"} {
				if err := batch.AddRecipientAndVariables(to, map[string]any{"n": to}); err != nil {
					t.Fatal(err)
				}
			}
			id1 := e.send(batch)
			id2 := e.send(e.message("cat@strict.test"))
			for _, id := range []string{id1, id2} {
				o := e.waitOutcomes(id, map[string]int{id1: 2, id2: 1}[id])
				if len(o.Failed) != 0 {
					t.Fatalf("message %s: %s", id, o)
				}
			}
			if n := len(mx.Messages()); n != 3 {
				t.Fatalf("strict MX received %d messages, want 3", n)
			}
			for i, n := range mx.Hellos() {
				if n != 1 {
					t.Fatalf("session %d said EHLO/HELO %d times, want once", i, n)
				}
			}
			e.assertNoBounce("ann@strict.test")
		})
	}
}

// TestDeliverySessionErrorsAreTemporary: a refused greeting, a refused
// EHLO, a refused MAIL FROM and a dropped connection are temporary
// failures of the transaction, even when the reply is 5xx: retried, and
// after the retry window failed with reason "old", never a bounce.
func TestDeliverySessionErrorsAreTemporary(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{configure: func(c *config.Config) { c.RetryMaxAge = 20 * time.Minute }})
	cases := map[string]testutil.StrictOptions{
		"greeting.test": {Greeting: "554 5.7.1 No service for you"},
		"ehlo.test":     {Ehlo: "550 5.7.1 Not you"},
		"mailfrom.test": {Mail: "553 5.1.8 Sender domain refused"},
		"drop.test":     {Drop: true},
	}
	ids := map[string]string{}
	for domain, o := range cases {
		e.addStrictMX(domain, o)
		ids[domain] = e.send(e.message("someone@" + domain))
	}
	for domain, id := range ids {
		f := e.waitFailed(id, "temporary", "generic")
		if f.DeliveryStatus.RetrySeconds != 600 {
			t.Errorf("%s: retry-seconds %d, want 600", domain, f.DeliveryStatus.RetrySeconds)
		}
		e.assertNoBounce("someone@" + domain)
	}
	// The next attempt's retry would end past the 20-minute window.
	e.advance(10 * time.Minute)
	for domain, id := range ids {
		o := e.waitOutcomes(id, 2)
		last := o.Failed[len(o.Failed)-1]
		if len(o.Failed) != 2 || last.Severity != "permanent" || last.Reason != "old" {
			t.Fatalf("%s: outcomes after the window: %s", domain, o)
		}
		e.assertNoBounce("someone@" + domain)
	}
}
