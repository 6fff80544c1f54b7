package e2e

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/msgmeta"
	"github.com/salvo-email/salvo/internal/testutil"
)

// queuedID is the Message-ID (without brackets) in a relay's 250 reply.
func queuedID(t *testing.T, reply string) string {
	t.Helper()
	i, j := strings.Index(reply, "<"), strings.LastIndex(reply, ">")
	if i < 0 || j < i {
		t.Fatalf("reply %q has no <message-id>", reply)
	}
	return reply[i+1 : j]
}

// relaySubmit submits raw through a fresh authenticated session and
// returns the Message-ID.
func relaySubmit(t *testing.T, e *sendEnv, to []string, raw string) string {
	t.Helper()
	reply, err := submit(relayClient(t, e), "app@"+testDomain, to, raw)
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return queuedID(t, reply)
}

// metaOf reads what the send path stored about a message (found through
// its accepted event's storage key).
func metaOf(t *testing.T, e *sendEnv, msgID string) msgmeta.Meta {
	t.Helper()
	evs := e.events(url.Values{"event": {"accepted"}, "message-id": {msgID}})
	if len(evs) == 0 || evs[0].Storage == nil {
		t.Fatalf("no accepted event with storage for %s", msgID)
	}
	m, err := e.app.Regional.Message(context.Background(), testDomain, evs[0].Storage.Key)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := msgmeta.Decode(m.Meta)
	if err != nil {
		t.Fatal(err)
	}
	return meta
}

// TestRelayMailgunHeaders: each X-Mailgun-* header of docs/mailgun-contract.md §12.2 has
// its effect in the events, the delivery or the stored options, and none
// reaches the recipient.
func TestRelayMailgunHeaders(t *testing.T) {
	t.Parallel()
	e := startRelayEnv(t, false, nil)
	from := "app@" + testDomain
	id := relaySubmit(t, e, []string{"tags@example.org"}, rfcMessage(from, "tags@example.org", "options", "body",
		"X-Mailgun-Tag: Newsletter", "X-Mailgun-Tag: weekly", `X-Mailgun-Variables: {"user_id": 42}`,
		`x-mailgun-variables: {"plan": "pro"}`, "X-Mailgun-Dkim: no", "X-Mailgun-Track: yes",
		"X-Mailgun-Track-Clicks: htmlonly", "X-Mailgun-Track-Opens: no", "X-Mailgun-Delivery-Time-Optimize-Period: 24h",
		"X-Mailgun-Time-Zone-Localize: 09:00", "X-Mailgun-Skip-Verification: yes", "X-Other: kept"))
	got := waitReceived(t, e, 1)[0]
	if header(got.Data, "DKIM-Signature") != "" {
		t.Error("X-Mailgun-Dkim: no, but the message was signed")
	}
	if strings.Contains(strings.ToLower(string(got.Data)), "x-mailgun-") || header(got.Data, "X-Other") != "kept" {
		t.Errorf("delivered headers: X-Mailgun-* must be gone, others kept:\n%s", got.Data)
	}
	evs := e.events(url.Values{"event": {"accepted"}, "message-id": {id}})
	if len(evs) != 1 || strings.Join(evs[0].Tags, ",") != "newsletter,weekly" ||
		evs[0].UserVariables["user_id"] != "42" || evs[0].UserVariables["plan"] != "pro" {
		t.Fatalf("accepted events %+v: want tags newsletter,weekly and user-variables user_id, plan", evs)
	}
	o := metaOf(t, e, id).Options
	if o.Tracking == nil || !*o.Tracking || o.TrackingClicks != "htmlonly" || o.TrackingOpens == nil || *o.TrackingOpens ||
		!o.SkipVerification || o.DKIM {
		t.Errorf("stored options %+v: want tracking yes, clicks htmlonly, opens no, skip verification, no DKIM", o)
	}

	testRelayDropAndDeliverBy(t, e)
	testRelayRecipientVariables(t, e)
}

// testRelayDropAndDeliverBy: X-Mailgun-Drop-Message is test mode (650,
// never at the MX); X-Mailgun-Deliver-By holds the message until then.
func testRelayDropAndDeliverBy(t *testing.T, e *sendEnv) {
	from := "app@" + testDomain
	before := len(e.mx.Messages())
	drop := relaySubmit(t, e, []string{"drop@example.org"}, rfcMessage(from, "drop@example.org", "dropped", "x",
		"X-Mailgun-Drop-Message: yes"))
	waitFor(t, 20*time.Second, func() bool {
		return len(e.events(url.Values{"event": {"delivered"}, "message-id": {drop}})) == 1
	}, func() string { return "no delivered event for the dropped message" })
	ev := e.events(url.Values{"event": {"delivered"}, "message-id": {drop}})[0]
	if ev.DeliveryStatus == nil || ev.DeliveryStatus.Code != 650 || ev.Flags == nil || !ev.Flags.IsTestMode {
		t.Errorf("dropped message: %+v; want code 650 in test mode", ev)
	}
	at := e.clock.Now().Add(2 * time.Hour).Truncate(time.Second)
	later := relaySubmit(t, e, []string{"later@example.org"}, rfcMessage(from, "later@example.org", "later", "x",
		"X-Mailgun-Deliver-By: "+at.Format(time.RFC1123Z)))
	jobs, err := e.app.Regional.JobsOfMessage(context.Background(), testDomain, later)
	if err != nil || len(jobs) != 1 || !jobs[0].NextAttemptAt.Equal(at) {
		t.Fatalf("deliver-by job %+v, %v: want it due at %v", jobs, err, at)
	}
	if n := len(e.mx.Messages()); n != before {
		t.Errorf("the MX got %d messages before the delivery time", n-before)
	}
	e.clock.Advance(2*time.Hour + time.Minute)
	e.app.Delivery.Notify()
	waitReceived(t, e, before+1)
}

// testRelayRecipientVariables: X-Mailgun-Recipient-Variables and the
// multipart/mailgun-variables container both personalise each copy.
func testRelayRecipientVariables(t *testing.T, e *sendEnv) {
	from := "app@" + testDomain
	vars := `{"ann@example.org": {"name": "Ann"}, "bob@example.org": {"name": "Bob"}}`
	relaySubmit(t, e, []string{"ann@example.org", "bob@example.org"}, rfcMessage(from, "%recipient%", "batch",
		"Hi %recipient.name%!", "X-Mailgun-Recipient-Variables: "+vars))
	inner := rfcMessage(from, "%recipient%", "container", "Hello %recipient.name%.")
	container := "From: " + from + "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mailgun-variables; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: application/json\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString([]byte(`{"cat@example.org": {"name": "Cat"}}`)) + "\r\n" +
		"--b1\r\nContent-Type: message/rfc822\r\n\r\n" + inner + "--b1--\r\n"
	relaySubmit(t, e, []string{"cat@example.org"}, container)
	waitFor(t, 20*time.Second, func() bool {
		r := byRecipient(e.mx.Messages())
		return len(r["ann@example.org"]) == 1 && len(r["bob@example.org"]) == 1 && len(r["cat@example.org"]) == 1
	}, func() string { return "personalised copies did not all arrive" })
	r := byRecipient(e.mx.Messages())
	for rcpt, want := range map[string]string{"ann@example.org": "Hi Ann!", "bob@example.org": "Hi Bob!", "cat@example.org": "Hello Cat."} {
		got := r[rcpt][0].Data
		if !strings.Contains(string(got), want) || strings.Trim(header(got, "To"), "<>") != rcpt || header(got, "Content-Type") == "multipart/mailgun-variables" {
			t.Errorf("copy for %s does not say %q to its recipient:\n%s", rcpt, want, got)
		}
	}
}

// TestRelayTLSHeaders: X-Mailgun-Require-TLS refuses a receiving server
// whose certificate cannot be verified, unless X-Mailgun-Skip-Verification
// says so.
func TestRelayTLSHeaders(t *testing.T) {
	t.Parallel()
	mx := testutil.StartFakeMX(t, testutil.MXOptions{TLS: true})
	e := startRelayEnv(t, false, func(c *config.Config) { c.Smarthost = mx.Addr })
	from := "app@" + testDomain
	c := dialSMTP(t, e.app.SubmissionAddr(), "starttls")
	if err := c.Auth(sasl.NewPlainClient("", relayLogin, relayPassword)); err != nil {
		t.Fatal(err)
	}
	refused := relaySubmit(t, e, []string{"strict@example.org"}, rfcMessage(from, "strict@example.org", "strict", "x",
		"X-Mailgun-Require-TLS: yes"))
	waitFor(t, 20*time.Second, func() bool {
		return len(e.events(url.Values{"event": {"failed"}, "message-id": {refused}})) > 0
	}, func() string { return "no failed event for the unverifiable MX" })
	ev := e.events(url.Values{"event": {"failed"}, "message-id": {refused}})[0]
	if ev.Severity != "temporary" || ev.DeliveryStatus == nil || !strings.Contains(ev.DeliveryStatus.Message, "could not be verified") {
		t.Errorf("require-tls failure: %+v", ev.DeliveryStatus)
	}
	relaySubmit(t, e, []string{"lenient@example.org"}, rfcMessage(from, "lenient@example.org", "lenient", "x",
		"X-Mailgun-Require-TLS: yes", "X-Mailgun-Skip-Verification: yes"))
	waitFor(t, 20*time.Second, func() bool { return len(byRecipient(mx.Messages())["lenient@example.org"]) == 1 },
		func() string { return "the message with skip-verification was not delivered" })
	if got := byRecipient(mx.Messages())["lenient@example.org"][0]; !got.TLS {
		t.Error("delivered without TLS")
	}
	if len(byRecipient(mx.Messages())["strict@example.org"]) != 0 {
		t.Error("the message requiring a verified certificate was delivered")
	}
}
