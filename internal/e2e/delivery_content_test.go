package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/emersion/go-message"
	"github.com/mailgun/mailgun-go/v4/events"

	"github.com/salvo-email/salvo/internal/testutil"
)

// receivedFile is a file part of a received message.
type receivedFile struct {
	disposition string
	contentID   string
	data        []byte
}

// filesOf parses a received message and returns its file parts by name.
func filesOf(t *testing.T, raw []byte) map[string]receivedFile {
	t.Helper()
	ent, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse received message: %v", err)
	}
	out := map[string]receivedFile{}
	err = ent.Walk(func(_ []int, part *message.Entity, err error) error {
		if err != nil {
			return err
		}
		disp, params, _ := part.Header.ContentDisposition()
		if disp != "attachment" && disp != "inline" {
			return nil
		}
		data, err := io.ReadAll(part.Body)
		if err != nil {
			return err
		}
		out[params["filename"]] = receivedFile{disposition: disp,
			contentID: strings.Trim(part.Header.Get("Content-Id"), "<>"), data: data}
		return nil
	})
	if err != nil {
		t.Fatalf("walk received message: %v", err)
	}
	return out
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDeliveryAttachments: attachments and inline images arrive byte for
// byte, inline ones with Content-ID = filename, also in the personalised
// copies of a batch send.
func TestDeliveryAttachments(t *testing.T) {
	t.Parallel()
	forEachStore(t, "files.test", func(t *testing.T, e *deliveryEnv, mx *testutil.FakeMX) {
		attachments := map[string][]byte{
			"report.pdf":  randomBytes(t, 300_000),
			"data.bin":    randomBytes(t, 1),
			"archive.zip": randomBytes(t, 70_001),
			"empty.txt":   {},
		}
		inline := map[string][]byte{"logo.png": randomBytes(t, 40_000), "photo.jpg": randomBytes(t, 123_457)}
		m := e.message("files@files.test")
		m.SetHTML(`<p><img src="cid:logo.png"><img src="cid:photo.jpg"> %recipient.name%</p>`)
		for name, data := range attachments {
			m.AddBufferAttachment(name, data)
		}
		for name, data := range inline {
			m.AddReaderInline(name, io.NopCloser(bytes.NewReader(data)))
		}
		for _, rcpt := range []string{"batch1@files.test", "batch2@files.test"} {
			if err := m.AddRecipientAndVariables(rcpt, map[string]any{"name": rcpt}); err != nil {
				t.Fatal(err)
			}
		}
		id := e.send(m)
		if o := e.waitOutcomes(id, 3); len(o.Delivered) != 3 {
			t.Fatalf("outcomes = %s", o)
		}
		for _, rcpt := range []string{"files@files.test", "batch1@files.test", "batch2@files.test"} {
			checkFiles(t, receivedFor(t, mx, rcpt).Data, attachments, inline)
		}
	})
}

// checkFiles checks that raw carries exactly the given files, unchanged.
func checkFiles(t *testing.T, raw []byte, attachments, inline map[string][]byte) {
	t.Helper()
	got := filesOf(t, raw)
	if len(got) != len(attachments)+len(inline) {
		t.Fatalf("received %d files, want %d", len(got), len(attachments)+len(inline))
	}
	for name, data := range attachments {
		f := got[name]
		if f.disposition != "attachment" || !bytes.Equal(f.data, data) {
			t.Errorf("attachment %s: disposition %q, %d bytes (equal %v), want %d bytes",
				name, f.disposition, len(f.data), bytes.Equal(f.data, data), len(data))
		}
	}
	for name, data := range inline {
		f := got[name]
		if f.disposition != "inline" || f.contentID != name || !bytes.Equal(f.data, data) {
			t.Errorf("inline %s: disposition %q, Content-ID %q, %d bytes (equal %v), want %d bytes",
				name, f.disposition, f.contentID, len(f.data), bytes.Equal(f.data, data), len(data))
		}
	}
}

// TestDeliveryHeadersAndVariables: h: headers arrive as given; v:
// variables arrive as X-Mailgun-Variables JSON and in every event's
// user-variables.
func TestDeliveryHeadersAndVariables(t *testing.T) {
	t.Parallel()
	e, mx := startEnvMX(t, envOptions{}, "vars.test")
	m := e.message("vars@vars.test")
	m.AddHeader("X-Campaign-Id", "spring-2024")
	m.AddHeader("Reply-To", "Support <support@"+senderDomain+">")
	order := map[string]any{"id": 42.0, "items": []any{"a", "b"}}
	if err := m.AddVariable("order", order); err != nil {
		t.Fatal(err)
	}
	if err := m.AddVariable("user_id", "u-7"); err != nil {
		t.Fatal(err)
	}
	id := e.send(m)
	d := e.waitDelivered(id, 1)

	h := headerOf(t, receivedFor(t, mx, "vars@vars.test").Data)
	if got := h.Get("X-Campaign-Id"); got != "spring-2024" {
		t.Errorf("X-Campaign-Id = %q", got)
	}
	if got := h.Get("Reply-To"); got != "Support <support@"+senderDomain+">" {
		t.Errorf("Reply-To = %q", got)
	}
	var header map[string]any
	if err := json.Unmarshal([]byte(h.Get("X-Mailgun-Variables")), &header); err != nil {
		t.Fatalf("X-Mailgun-Variables %q: %v", h.Get("X-Mailgun-Variables"), err)
	}
	var orderInHeader map[string]any
	if s, _ := header["order"].(string); json.Unmarshal([]byte(s), &orderInHeader) != nil ||
		!reflect.DeepEqual(orderInHeader, order) || header["user_id"] != "u-7" || len(header) != 2 {
		t.Fatalf("X-Mailgun-Variables = %v", header)
	}

	want := map[string]any{"order": order, "user_id": "u-7"}
	if !reflect.DeepEqual(d.UserVariables, want) {
		t.Errorf("delivered user-variables = %#v, want %#v", d.UserVariables, want)
	}
	accepted := 0
	for _, ev := range e.events(id) {
		if a, ok := ev.(*events.Accepted); ok {
			accepted++
			if !reflect.DeepEqual(a.UserVariables, want) {
				t.Errorf("accepted user-variables = %#v, want %#v", a.UserVariables, want)
			}
		}
	}
	if accepted != 1 {
		t.Errorf("%d accepted events", accepted)
	}
}
