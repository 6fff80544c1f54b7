package e2e

import (
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	mdns "github.com/miekg/dns"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestDeliveryDelivered: one message over real SMTP, found by MX lookup,
// with the delivered event Mailgun clients expect.
func TestDeliveryDelivered(t *testing.T) {
	t.Parallel()
	forEachStore(t, "ok.test", func(t *testing.T, e *deliveryEnv, mx *testutil.FakeMX) {
		host := "mx.ok.test"
		id := e.send(e.message("alice@ok.test"))

		got := mx.WaitRecipients(t, 1, waitTimeout)
		if len(got) != 1 || got[0].To[0] != "alice@ok.test" || got[0].TLS {
			t.Fatalf("received %+v", got)
		}
		if want := "bounce+"; len(got[0].From) < len(want) || got[0].From[:len(want)] != want {
			t.Errorf("MAIL FROM = %q, want a bounce+ address", got[0].From)
		}
		d := e.waitDelivered(id, 1)
		ds := d.DeliveryStatus
		if ds.MxHost != host || ds.Message != "OK" || isTrue(ds.TLS) || isTrue(ds.CertificateVerified) {
			t.Fatalf("delivery-status = %+v (tls %v, verified %v)", ds, isTrue(ds.TLS), isTrue(ds.CertificateVerified))
		}
		if d.Recipient != "alice@ok.test" || d.Envelope.Transport != "smtp" || d.Message.Headers.MessageID != id {
			t.Fatalf("delivered event = %+v", d)
		}
	})
}

// TestDeliveryRetryAfter451: a 451 is a temporary failure retried on
// Mailgun's schedule; after 10 minutes of (fake) time the retry delivers.
func TestDeliveryRetryAfter451(t *testing.T) {
	t.Parallel()
	forEachStore(t, "busy.test", func(t *testing.T, e *deliveryEnv, mx *testutil.FakeMX) {
		id := e.send(e.message("bob@busy.test"))
		mx.SetRcptReply(func(string) *smtp.SMTPError {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "Mailbox busy"}
		})
		f := e.waitFailed(id, "temporary", "generic")
		ds := f.DeliveryStatus
		if ds.Code != 451 || ds.EnhancedCode != "4.2.0" || ds.RetrySeconds != 600 || ds.AttemptNo != 1 || ds.MxHost != "mx.busy.test" {
			t.Fatalf("temporary failure status = %+v", ds)
		}

		mx.SetRcptReply(func(string) *smtp.SMTPError { return nil })
		e.advance(9 * time.Minute) // not due yet: the engine claims nothing
		e.advance(time.Minute)
		mx.WaitRecipients(t, 1, waitTimeout)
		o := e.waitOutcomes(id, 2)
		if len(o.Failed) != 1 || len(o.Delivered) != 1 {
			t.Fatalf("outcomes = %s", o)
		}
		if d := o.Delivered[0].DeliveryStatus; d.AttemptNo != 2 || d.Code != 250 {
			t.Fatalf("retry status = %+v", d)
		}
		if n := len(mx.Messages()); n != 1 {
			t.Fatalf("fake MX received %d messages, want 1", n)
		}
	})
}

// TestDeliveryBounce550: a 550 is a permanent failure: reason bounce, the
// server's codes in the event, no retry.
func TestDeliveryBounce550(t *testing.T) {
	t.Parallel()
	forEachStore(t, "bounce.test", func(t *testing.T, e *deliveryEnv, mx *testutil.FakeMX) {
		id := e.send(e.message("p550-carol@bounce.test", "dave@bounce.test"))
		o := e.waitOutcomes(id, 2)
		if len(o.Failed) != 1 || len(o.Delivered) != 1 || o.Delivered[0].Recipient != "dave@bounce.test" {
			t.Fatalf("outcomes = %s", o)
		}
		f := o.Failed[0]
		ds := f.DeliveryStatus
		if f.Recipient != "p550-carol@bounce.test" || f.Severity != "permanent" || f.Reason != "bounce" ||
			ds.Code != 550 || ds.EnhancedCode != "5.1.1" || ds.RetrySeconds != 0 || ds.Message != "No such user" {
			t.Fatalf("bounce event = %s/%s %+v", f.Severity, f.Reason, ds)
		}
		if got := mx.Messages(); len(got) != 1 || len(got[0].To) != 1 || got[0].To[0] != "dave@bounce.test" {
			t.Fatalf("received %+v", got)
		}
	})
}

// TestDeliveryDNS covers how destinations are found: null MX, implicit MX,
// fallback to a less preferred MX, a failing DNS server, a domain that does
// not exist.
func TestDeliveryDNS(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{})
	mx := testutil.StartFakeMX(t, testutil.MXOptions{})

	t.Run("null MX", func(t *testing.T) {
		t.Parallel()
		e.DNS.Add(t, "nullmx.test. 60 IN MX 0 .", "nullmx.test. 60 IN A 192.0.2.250")
		e.Net.Route("192.0.2.250", mx)
		id := e.send(e.message("x@nullmx.test"))
		f := e.waitFailed(id, "permanent", "bounce")
		if f.DeliveryStatus.Code != 556 || f.DeliveryStatus.EnhancedCode != "5.1.10" {
			t.Fatalf("null MX status = %+v", f.DeliveryStatus)
		}
		for _, d := range e.Net.Dials() {
			if d == "192.0.2.250:25" {
				t.Fatalf("a null MX domain was dialled: %v", e.Net.Dials())
			}
		}
	})
	t.Run("implicit MX", func(t *testing.T) {
		t.Parallel()
		e.DNS.Add(t, "implicit.test. 60 IN A 192.0.2.251")
		e.Net.Route("192.0.2.251", mx)
		id := e.send(e.message("y@implicit.test"))
		if d := e.waitDelivered(id, 1); d.DeliveryStatus.MxHost != "implicit.test" {
			t.Fatalf("mx-host = %q", d.DeliveryStatus.MxHost)
		}
	})
	t.Run("fallback", func(t *testing.T) {
		t.Parallel()
		backup := testutil.StartFakeMX(t, testutil.MXOptions{})
		down := e.addMXHost("fallback.test", 10, "mx1.fallback.test", nil)
		e.addMXHost("fallback.test", 20, "mx2.fallback.test", backup)
		id := e.send(e.message("z@fallback.test"))
		if d := e.waitDelivered(id, 1); d.DeliveryStatus.MxHost != "mx2.fallback.test" {
			t.Fatalf("mx-host = %q", d.DeliveryStatus.MxHost)
		}
		if got := backup.Messages(); len(got) != 1 {
			t.Fatalf("backup MX received %d messages", len(got))
		}
		tried := false
		for _, d := range e.Net.Dials() {
			tried = tried || d == down+":25"
		}
		if !tried {
			t.Fatalf("the preferred MX %s was never tried: %v", down, e.Net.Dials())
		}
	})
	t.Run("SERVFAIL", func(t *testing.T) {
		t.Parallel()
		e.DNS.SetRcode("servfail.test", mdns.RcodeServerFailure)
		id := e.send(e.message("w@servfail.test"))
		f := e.waitFailed(id, "temporary", "generic")
		if f.DeliveryStatus.RetrySeconds != 600 {
			t.Fatalf("status = %+v", f.DeliveryStatus)
		}
	})
	t.Run("no such domain", func(t *testing.T) {
		t.Parallel()
		id := e.send(e.message("v@nxdomain.test"))
		f := e.waitFailed(id, "permanent", "bounce")
		if f.DeliveryStatus.EnhancedCode != "5.1.2" {
			t.Fatalf("status = %+v", f.DeliveryStatus)
		}
	})
}

// TestDeliverySmarthost: with a smarthost every message goes there, whatever
// the recipient domain's DNS says.
func TestDeliverySmarthost(t *testing.T) {
	t.Parallel()
	mx := testutil.StartFakeMX(t, testutil.MXOptions{})
	e := startEnv(t, envOptions{configure: func(c *config.Config) { c.Smarthost = mx.Addr }})
	id := e.send(e.message("someone@unpublished.test"))
	got := mx.WaitRecipients(t, 1, waitTimeout)
	if got[0].To[0] != "someone@unpublished.test" {
		t.Fatalf("received %+v", got)
	}
	if d := e.waitDelivered(id, 1); d.DeliveryStatus.MxHost != "127.0.0.1" {
		t.Fatalf("mx-host = %q", d.DeliveryStatus.MxHost)
	}
}

// TestDeliveryTestMode: o:testmode is "delivered" with code 650 and never
// reaches the network.
func TestDeliveryTestMode(t *testing.T) {
	t.Parallel()
	e, mx := startEnvMX(t, envOptions{}, "testmode.test")
	m := e.message("t1@testmode.test", "t2@testmode.test")
	m.EnableTestMode()
	id := e.send(m)
	o := e.waitOutcomes(id, 2)
	if len(o.Delivered) != 2 {
		t.Fatalf("outcomes = %s", o)
	}
	for _, d := range o.Delivered {
		if d.DeliveryStatus.Code != 650 || !d.Flags.IsTestMode {
			t.Fatalf("test mode event = %+v flags %+v", d.DeliveryStatus, d.Flags)
		}
	}
	if n := mx.Sessions(); n != 0 || len(e.Net.Dials()) != 0 {
		t.Fatalf("test mode opened %d sessions, dialled %v", n, e.Net.Dials())
	}
}

// TestDeliverySMTPUTF8: an internationalised address needs SMTPUTF8 (RFC
// 6531): refused for good by a server without it, delivered by one with it.
func TestDeliverySMTPUTF8(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{})
	plain := testutil.StartFakeMX(t, testutil.MXOptions{})
	utf8 := testutil.StartFakeMX(t, testutil.MXOptions{SMTPUTF8: true})
	e.addMX("ascii-only.test", plain)
	e.addMX("utf8.test", utf8)

	id := e.send(e.message("jörg@ascii-only.test"))
	f := e.waitFailed(id, "permanent", "bounce")
	if f.DeliveryStatus.Code != 553 || f.DeliveryStatus.EnhancedCode != "5.6.7" || f.DeliveryStatus.MxHost != "mx.ascii-only.test" {
		t.Fatalf("status = %+v", f.DeliveryStatus)
	}
	if n := len(plain.Messages()); n != 0 {
		t.Fatalf("the server without SMTPUTF8 received %d messages", n)
	}

	id = e.send(e.message("jörg@utf8.test"))
	d := e.waitDelivered(id, 1)
	if !isTrue(d.DeliveryStatus.Utf8) {
		t.Errorf("utf8 flag not set: %+v", d.DeliveryStatus)
	}
	if got := utf8.Messages(); len(got) != 1 || got[0].To[0] != "jörg@utf8.test" {
		t.Fatalf("received %+v", got)
	}
}
