package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// waitTimeout bounds waits for delivery; generous for -race on a busy
// machine. Waits end as soon as their condition holds.
const waitTimeout = 60 * time.Second

// send sends m with mailgun-go, authenticated by key, and returns its
// Message-ID without angle brackets.
func (d *dash) send(t *testing.T, key string, m *mailgun.Message) string {
	t.Helper()
	mg := mailgun.NewMailgun(testDomain, key)
	mg.SetAPIBase(d.Base + "/v3")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, id, err := mg.Send(ctx, m)
	if err != nil {
		t.Fatalf("mailgun-go Send: %v", err)
	}
	return strings.Trim(id, "<>")
}

// events returns the stored events of a message, oldest first.
func (d *dash) events(t *testing.T, msgID string) []mgapi.Event {
	t.Helper()
	rows, err := d.Regional.Events(context.Background(), store.EventQuery{Domain: testDomain, MessageID: msgID, Ascending: true, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]mgapi.Event, 0, len(rows))
	for _, r := range rows {
		var e mgapi.Event
		if err := json.Unmarshal(r.Data, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// storageKey is the storage key of a sent message.
func (d *dash) storageKey(t *testing.T, msgID string) string {
	t.Helper()
	for _, e := range d.events(t, msgID) {
		if e.Storage != nil && e.Storage.Key != "" {
			return e.Storage.Key
		}
	}
	t.Fatalf("no event of %s names its storage key", msgID)
	return ""
}

// waitEvent waits until the message has an event of type typ (and
// severity, when given) for rcpt.
func (d *dash) waitEvent(t *testing.T, msgID, typ, severity, rcpt string) mgapi.Event {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		for _, e := range d.events(t, msgID) {
			if e.Event == typ && e.Recipient == rcpt && (severity == "" || e.Severity == severity) {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s %s event for %s of %s within %v; events: %+v", typ, severity, rcpt, msgID, waitTimeout, d.events(t, msgID))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fixtureMessage is the message every fixture sends: text, HTML with an
// inline image, and an attachment.
func fixtureMessage() *mailgun.Message {
	m := mailgun.NewMessage("App <app@"+testDomain+">", "Fixture message", "fixture text", "someone@example.org")
	m.SetHtml(`<p>fixture html <img src="cid:logo.png" alt="logo"></p>`)
	m.AddBufferAttachment("notes.txt", []byte("fixture attachment"))
	m.AddReaderInline("logo.png", io.NopCloser(bytes.NewReader(pngBytes)))
	return m
}

// pngBytes is a 1×1 PNG.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
	"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")

func nopCloser(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

func ptrTo[T any](v T) *T { return &v }

func itoa(n int) string { return strconv.Itoa(n) }

func jsString(s string) string { return strconv.Quote(s) }
