package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/delivery"
)

// TestCaptureMode sends through mailgun-go to a node started with
// --capture: every recipient gets a delivered event saying the copy was
// captured, its storage.url reads back that recipient's DKIM-signed copy
// (raw and parsed), nothing is dialled, and a recipient whose MX would
// refuse it is never bounced nor suppressed.
func TestCaptureMode(t *testing.T) {
	t.Parallel()
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			e := startEnv(t, envOptions{postgres: pg, configure: func(c *config.Config) { c.Capture = true }})
			ctx := context.Background()
			// A message to two recipients (one shared copy) and a batch
			// send (a personalised copy each).
			m := e.message("ann@capture.test", "nobody@nowhere.invalid")
			m.SetHTML("<p>Hi <b>there</b></p>")
			shared := e.send(m)
			b := mailgun.NewMessage("Sender <sender@"+senderDomain+">", "Hello %recipient.name%", "Dear %recipient.name%",
				"bob@capture.test", "cy@capture.test")
			for rcpt, name := range map[string]string{"bob@capture.test": "Bob", "cy@capture.test": "Cy"} {
				if err := b.AddRecipientAndVariables(rcpt, map[string]any{"name": name}); err != nil {
					t.Fatal(err)
				}
			}
			batch := e.send(b)

			copies := map[string]string{} // recipient -> raw MIME of its copy
			for _, id := range []string{shared, batch} {
				o := e.waitOutcomes(id, 2)
				if len(o.Failed) != 0 || len(o.Delivered) != 2 {
					t.Fatalf("message %s: %s", id, o)
				}
				for _, d := range o.Delivered {
					ds := d.DeliveryStatus
					if ds.Code != 250 || ds.Message != delivery.CaptureMessage || ds.MxHost != delivery.CaptureHost {
						t.Fatalf("%s: delivery-status %+v, want 250 %q from %q", d.Recipient, ds, delivery.CaptureMessage, delivery.CaptureHost)
					}
					if !strings.HasPrefix(d.Envelope.Sender, "bounce+") {
						t.Errorf("%s: envelope sender %q, want its bounce address", d.Recipient, d.Envelope.Sender)
					}
					raw, err := e.MG.GetStoredMessageRaw(ctx, d.Storage.URL)
					if err != nil {
						t.Fatalf("%s: GET storage.url %s: %v", d.Recipient, d.Storage.URL, err)
					}
					if raw.Recipients != d.Recipient {
						t.Errorf("stored copy of %s lists recipients %q", d.Recipient, raw.Recipients)
					}
					copies[d.Recipient] = raw.BodyMime
				}
			}
			if len(copies) != 4 {
				t.Fatalf("captured copies of %d recipients, want 4: %v", len(copies), copies)
			}
			for rcpt, raw := range copies {
				if !strings.HasPrefix(raw, "Return-Path: <bounce+") {
					t.Errorf("copy of %s does not start with its Return-Path:\n%s", rcpt, raw)
				}
				checkDKIM(t, e, []byte(raw))
			}
			if !strings.Contains(copies["bob@capture.test"], "Subject: Hello Bob") ||
				!strings.Contains(copies["cy@capture.test"], "Dear Cy") ||
				strings.Contains(copies["cy@capture.test"], "bob@capture.test") {
				t.Errorf("batch copies are not personalised:\n%s\n---\n%s", copies["bob@capture.test"], copies["cy@capture.test"])
			}

			// The parsed form, through mailgun-go, like any stored message.
			o := e.waitOutcomes(shared, 2)
			sm, err := e.MG.GetStoredMessage(ctx, o.Delivered[0].Storage.URL)
			if err != nil || sm.Subject != "Hello" || !strings.Contains(sm.BodyHtml, "<b>there</b>") {
				t.Fatalf("parsed stored copy = %+v, %v", sm, err)
			}
			if d := e.Net.Dials(); len(d) != 0 {
				t.Fatalf("capture mode dialled %v", d)
			}
			it := e.MG.ListBounces(nil)
			var page []mailgun.Bounce
			if it.Next(ctx, &page) && len(page) != 0 {
				t.Fatalf("capture mode added bounces: %+v", page)
			}
			if err := it.Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
