package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/mailgun/mailgun-go/v4"
	"github.com/mailgun/mailgun-go/v4/events"

	"github.com/salvo-email/salvo/internal/testutil"
)

// returnsEnv is a delivery env whose recipients' server accepts every copy
// and later mails reports back to Salvo's MX, as real servers do.
type returnsEnv struct {
	*deliveryEnv
	mx    *testutil.FakeMX
	hooks *testutil.WebhookReceiver
	// from maps each recipient to the MAIL FROM its copy arrived with.
	from map[string]string
}

func startReturnsEnv(t *testing.T, pg bool) *returnsEnv {
	e, mx := startEnvMX(t, envOptions{postgres: pg}, "far.test")
	var k struct {
		Key string `json:"http_signing_key"`
	}
	req, _ := http.NewRequest(http.MethodGet, e.App.URL+"/v5/accounts/http_signing_key", nil)
	req.SetBasicAuth("api", e.App.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&k); err != nil {
		t.Fatal(err)
	}
	hooks := testutil.StartWebhookReceiver(t, k.Key)
	ctx := context.Background()
	for _, kind := range []string{"permanent_fail", "complained"} {
		if err := e.MG.CreateWebhook(ctx, kind, []string{hooks.URL}); err != nil {
			t.Fatalf("CreateWebhook(%s): %v", kind, err)
		}
	}
	return &returnsEnv{deliveryEnv: e, mx: mx, hooks: hooks, from: map[string]string{}}
}

// sendAll sends one message to rcpts, waits until every copy arrived and
// records each copy's MAIL FROM.
func (e *returnsEnv) sendAll(rcpts ...string) string {
	e.t.Helper()
	id := e.send(e.message(rcpts...))
	if o := e.waitOutcomes(id, len(rcpts)); len(o.Delivered) != len(rcpts) {
		e.t.Fatalf("outcomes = %s", o)
	}
	for _, m := range e.mx.Messages() {
		e.from[m.To[0]] = m.From
	}
	for _, r := range rcpts {
		if !strings.HasPrefix(e.from[r], "bounce+") {
			e.t.Fatalf("copy to %s arrived from %q", r, e.from[r])
		}
	}
	return id
}

// mailBack delivers a report to Salvo's MX as the far server would.
func (e *returnsEnv) mailBack(from, to, raw string) error {
	e.t.Helper()
	c := dialSMTP(e.t, e.App.MXAddr(), "plain")
	_, err := submit(c, from, []string{to}, strings.ReplaceAll(raw, "\n", "\r\n"))
	return err
}

func dsn(final, action, status, diag, msgID string) string {
	return fmt.Sprintf(`From: Mail Delivery System <MAILER-DAEMON@mx.far.test>
To: whoever@mg.example.test
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain

This is the mail system at host mx.far.test. Your message could not be delivered.

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.far.test
Arrival-Date: Mon,  7 Dec 2026 10:00:00 +0000

Final-Recipient: rfc822; %s
Original-Recipient: rfc822;%s
Action: %s
Status: %s
Remote-MTA: dns; store.far.test
Diagnostic-Code: smtp; %s

--B1
Content-Type: text/rfc822-headers

From: Sender <sender@mg.example.test>
To: %s
Subject: Hello
Message-Id: <%s>

--B1--
`, final, final, action, status, diag, final, msgID)
}

func arf(feedbackType, mailFrom, rcptTo, msgID string) string {
	return fmt.Sprintf(`From: Feedback Loop <fbl@isp.test>
To: fbl@mg.example.test
Subject: Abuse report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F1"

--F1
Content-Type: text/plain

This is an email abuse report.

--F1
Content-Type: message/feedback-report

Feedback-Type: %s
User-Agent: isp-fbl/1.0
Version: 1
Original-Mail-From: <%s>
Original-Rcpt-To: <%s>

--F1
Content-Type: message/rfc822

From: Sender <sender@mg.example.test>
To: %s
Subject: Hello
Message-Id: <%s>

Hello there
--F1--
`, feedbackType, mailFrom, rcptTo, rcptTo, msgID)
}

// failedOf returns the failed events of rcpt for message id.
func (e *returnsEnv) failedOf(id, rcpt string) []*events.Failed {
	var out []*events.Failed
	for _, f := range e.waitOutcomes(id, 1).Failed {
		if f.Recipient == rcpt {
			out = append(out, f)
		}
	}
	return out
}

func (e *returnsEnv) waitFor(desc string, cond func() bool) {
	e.t.Helper()
	waitFor(e.t, waitTimeout, cond, func() string { return desc })
}

// TestReturnedDSN: a destination that accepted a copy and then mails an
// RFC 3464 DSN to its bounce address makes the recipient the token names
// fail permanently (reason bounce, is-delayed-bounce, the report's codes
// and reporting MTA), bounces it, posts permanent_fail and counts it in
// stats — even when the report claims another address. Forged bounce
// addresses are refused at RCPT; a delayed DSN and an auto-reply change
// nothing; a null-sender plain-text bounce counts. On both stores.
func TestReturnedDSN(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, pg bool) {
		e := startReturnsEnv(t, pg)
		ctx := context.Background()
		id := e.sendAll("gone@far.test", "stays@far.test", "away@far.test", "old@far.test")

		// The report names stays@, but arrives at gone@'s bounce address.
		if err := e.mailBack("", e.from["gone@far.test"], dsn("stays@far.test", "failed", "5.1.1",
			"550 5.1.1 <stays@far.test>: Recipient address rejected: User unknown", id)); err != nil {
			t.Fatalf("DSN refused: %v", err)
		}
		e.waitFor("a failed event for gone@", func() bool { return len(e.failedOf(id, "gone@far.test")) == 1 })
		f := e.failedOf(id, "gone@far.test")[0]
		ds := f.DeliveryStatus
		if f.Severity != "permanent" || f.Reason != "bounce" || !f.Flags.IsDelayedBounce || ds.Code != 550 ||
			ds.EnhancedCode != "5.1.1" || ds.MxHost != "mx.far.test" || !strings.Contains(ds.Message, "User unknown") ||
			f.Envelope.Sender != e.from["gone@far.test"] || f.Message.Headers.MessageID != id {
			t.Fatalf("failed event = %+v, flags %+v, envelope %+v", f, f.Flags, f.Envelope)
		}
		b, err := e.MG.GetBounce(ctx, "gone@far.test")
		if err != nil || b.Code != "550" {
			t.Fatalf("GetBounce(gone) = %+v, %v", b, err)
		}
		e.assertNoBounce("stays@far.test")
		posts := e.hooks.WaitPosts(t, 1, waitTimeout)
		if p := posts[0]; p.Event != "failed" || p.Severity != "permanent" || !p.Verified || !p.Parsed ||
			!strings.Contains(string(p.EventData), `"is-delayed-bounce":true`) {
			t.Fatalf("webhook post = %+v %s", p, p.EventData)
		}

		// Forged and random bounce addresses: refused, nothing recorded.
		forged := strings.Replace(e.from["stays@far.test"], "bounce+a", "bounce+b", 1)
		if forged == e.from["stays@far.test"] {
			forged = strings.Replace(forged, "bounce+", "bounce+z", 1)
		}
		for _, to := range []string{forged, "bounce+abc@" + senderDomain, "bounce+" + strings.Repeat("a", 52) + "@" + senderDomain} {
			err := e.mailBack("", to, dsn("stays@far.test", "failed", "5.1.1", "550 no", id))
			var se *smtp.SMTPError
			if !errors.As(err, &se) || se.Code != 550 {
				t.Fatalf("RCPT %s: %v, want 550", to, err)
			}
		}

		// A delayed DSN and an auto-reply are accepted and change nothing.
		if err := e.mailBack("", e.from["stays@far.test"], dsn("stays@far.test", "delayed", "4.4.7", "451 try later", id)); err != nil {
			t.Fatal(err)
		}
		auto := "From: away@far.test\nTo: x@mg.example.test\nSubject: Out of office\nAuto-Submitted: auto-replied\n\nI am away until Monday.\n"
		if err := e.mailBack("away@far.test", e.from["away@far.test"], auto); err != nil {
			t.Fatal(err)
		}
		// A plain-text bounce from an old MTA, null sender.
		text := "From: MAILER-DAEMON@far.test\nTo: x@mg.example.test\nSubject: failure notice\n\n" +
			"Hi. This is the qmail-send program at far.test.\nI'm afraid I wasn't able to deliver your message to the following addresses.\n\n" +
			"<old@far.test>:\nRemote host said: 550 5.1.1 mailbox unavailable\n"
		if err := e.mailBack("", e.from["old@far.test"], text); err != nil {
			t.Fatal(err)
		}
		e.waitFor("a failed event for old@", func() bool { return len(e.failedOf(id, "old@far.test")) == 1 })
		if _, err := e.MG.GetBounce(ctx, "old@far.test"); err != nil {
			t.Fatalf("GetBounce(old): %v", err)
		}
		// The delayed DSN and the auto-reply were processed and changed nothing.
		e.waitFor("two reports that change nothing", func() bool {
			return strings.Count(e.App.Logs.String(), "returned mail changes nothing") == 2
		})
		for _, r := range []string{"stays@far.test", "away@far.test"} {
			if n := len(e.failedOf(id, r)); n != 0 {
				t.Fatalf("%s has %d failed events", r, n)
			}
			e.assertNoBounce(r)
		}

		st, err := e.MG.GetStats(ctx, []string{"failed"}, &mailgun.GetStatOptions{Duration: "1d"})
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, s := range st {
			total += s.Failed.Permanent.DelayedBounce
		}
		if total != 2 {
			t.Fatalf("stats: %d delayed bounces, want 2 (%+v)", total, st)
		}
	})
}

// TestReturnedComplaint: an ARF report of type abuse, sent to fbl@ of the
// domain or to a copy's bounce address, makes a complained event, a
// complaint and the complained webhook, found through the bounce address
// in Original-Mail-From or through the enclosed Message-ID and
// Original-Rcpt-To; other feedback types and unknown copies change
// nothing. On both stores.
func TestReturnedComplaint(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, pg bool) {
		e := startReturnsEnv(t, pg)
		ctx := context.Background()
		id := e.sendAll("ann@far.test", "ben@far.test", "cat@far.test", "dan@far.test")
		fbl := "fbl@" + senderDomain

		must(t, e.mailBack("fbl@isp.test", fbl, arf("abuse", e.from["ann@far.test"], "ann@far.test", id)), "ARF via token")
		must(t, e.mailBack("fbl@isp.test", "abuse@"+senderDomain, arf("abuse", "unknown@else.test", "ben@far.test", id)), "ARF via Message-ID")
		must(t, e.mailBack("fbl@isp.test", e.from["cat@far.test"], arf("fraud", "", "cat@far.test", "other@id")), "ARF to the bounce address")
		must(t, e.mailBack("fbl@isp.test", fbl, arf("not-spam", e.from["dan@far.test"], "dan@far.test", id)), "not-spam ARF")
		must(t, e.mailBack("fbl@isp.test", fbl, arf("abuse", "", "eve@far.test", "nobody@id")), "unknown ARF")

		for _, r := range []string{"ann@far.test", "ben@far.test", "cat@far.test"} {
			e.waitFor("a complaint for "+r, func() bool {
				_, err := e.MG.GetComplaint(ctx, r)
				return err == nil
			})
		}
		var complained []string
		for _, ev := range e.events(id) {
			if c, ok := ev.(*events.Complained); ok {
				complained = append(complained, c.Recipient)
			}
		}
		if len(complained) != 3 {
			t.Fatalf("complained events for %v, want ann, ben and cat", complained)
		}
		posts := e.hooks.WaitPosts(t, 3, waitTimeout)
		for _, p := range posts {
			if p.Event != "complained" || !p.Verified || !p.Parsed {
				t.Fatalf("webhook post = %+v", p)
			}
		}
		for _, r := range []string{"dan@far.test", "eve@far.test"} {
			if _, err := e.MG.GetComplaint(ctx, r); mailgun.GetStatusFromErr(err) != 404 {
				t.Fatalf("GetComplaint(%s): %v, want 404", r, err)
			}
		}
	})
}
