package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"
	"github.com/mailgun/mailgun-go/v4/events"
)

// pdf and png are attachment bytes that must arrive unchanged.
var (
	pdfBytes = append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0, 1, 2, 0xff, '\r', '\n'}, 300)...)
	pngBytes = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 100)...)
)

// plainMessage is the full-featured message of the plain send tests.
func plainMessage(subject string) *mailgun.Message {
	m := mailgun.NewMessage("Sender <sender@"+testDomain+">", subject, "plain body", "Ann <ann@dest.example>")
	m.SetHtml(`<p>html body <img src="cid:logo.png"></p>`)
	m.AddCC("cc@dest.example")
	m.AddBCC("hidden@dest.example")
	m.AddHeader("X-Campaign-Ref", "spring-42")
	_ = m.AddVariable("user-id", "u-17")
	_ = m.AddVariable("plan", map[string]any{"tier": "gold", "seats": 3})
	_ = m.AddTag("newsletter", "Spring")
	m.AddBufferAttachment("report.pdf", pdfBytes)
	m.AddReaderInline("logo.png", io.NopCloser(bytes.NewReader(pngBytes)))
	return m
}

// TestSendPlainThroughSDK sends a message with every kind of content
// through mailgun-go and checks what the MX receives and what the events
// say about it, decoded by the SDK's own event types.
func TestSendPlainThroughSDK(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	ctx := context.Background()
	msg, id, err := e.mg.Send(ctx, plainMessage("Quarterly report"))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if msg != "Queued. Thank you." || !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, ">") {
		t.Fatalf("Send = %q, %q; want Queued and an id in angle brackets", msg, id)
	}
	msgID := strings.Trim(id, "<>")

	got := e.mx.WaitRecipients(t, 3, 20*time.Second)
	rcpts := byRecipient(got)
	for _, r := range []string{"ann@dest.example", "cc@dest.example", "hidden@dest.example"} {
		if len(rcpts[r]) != 1 {
			t.Fatalf("MX got %d copies for %s, want 1 (all: %v)", len(rcpts[r]), r, rcpts)
		}
	}
	raw := rcpts["ann@dest.example"][0].Data
	checks := map[string]string{
		"Subject":        "Quarterly report",
		"To":             `"Ann" <ann@dest.example>`,
		"Cc":             "<cc@dest.example>",
		"Message-Id":     "<" + msgID + ">",
		"X-Campaign-Ref": "spring-42",
		"Bcc":            "",
	}
	for name, want := range checks {
		if h := header(raw, name); h != want && !(name == "Cc" && strings.Contains(h, "cc@dest.example")) {
			t.Errorf("delivered %s = %q, want %q", name, h, want)
		}
	}
	if bytes.Contains(raw, []byte("hidden@dest.example")) {
		t.Error("the Bcc address is visible in the delivered message")
	}
	if v := header(raw, "X-Mailgun-Variables"); !strings.Contains(v, `"user-id": "u-17"`) || !strings.Contains(v, "gold") {
		t.Errorf("X-Mailgun-Variables = %q", v)
	}
	if !strings.Contains(header(raw, "DKIM-Signature"), "d="+testDomain) {
		t.Errorf("no DKIM signature of %s: %q", testDomain, header(raw, "DKIM-Signature"))
	}
	for _, part := range []string{"Content-Id: <logo.png>", `filename=report.pdf`, "text/html", "text/plain"} {
		if !bytes.Contains(raw, []byte(part)) {
			t.Errorf("delivered message lacks %q", part)
		}
	}

	// Events, through the SDK's iterator and types.
	e.waitEvents("delivered", 3)
	accepted, delivered := map[string]*events.Accepted{}, map[string]*events.Delivered{}
	for _, ev := range listAll(t, e.mg, &mailgun.ListEventOptions{Limit: 100}) {
		switch x := ev.(type) {
		case *events.Accepted:
			accepted[x.Recipient] = x
		case *events.Delivered:
			delivered[x.Recipient] = x
		default:
			t.Errorf("unexpected event %T", ev)
		}
	}
	if len(accepted) != 3 || len(delivered) != 3 {
		t.Fatalf("accepted %d delivered %d, want 3 each", len(accepted), len(delivered))
	}
	a := accepted["ann@dest.example"]
	if a == nil {
		t.Fatalf("no accepted event for ann: %v", accepted)
	}
	checkMessageEvent(t, "accepted", a.Message, a.Tags, a.UserVariables, a.Storage, msgID, e.app.URL)
	if a.Method != "http" || a.RecipientDomain != "dest.example" || a.Envelope.Targets != "ann@dest.example" || !a.Flags.IsAuthenticated {
		t.Errorf("accepted = %+v", a)
	}
	if len(a.Message.Attachments) != 1 || a.Message.Attachments[0].FileName != "report.pdf" || a.Message.Attachments[0].Size != len(pdfBytes) {
		t.Errorf("accepted attachments = %+v", a.Message.Attachments)
	}
	d := delivered["hidden@dest.example"]
	if d == nil {
		t.Fatal("no delivered event for the Bcc recipient")
	}
	checkMessageEvent(t, "delivered", d.Message, d.Tags, d.UserVariables, d.Storage, msgID, e.app.URL)
	ds := d.DeliveryStatus
	if ds.Code != 250 || ds.AttemptNo != 1 || ds.MxHost == "" || ds.Message == "" {
		t.Errorf("delivery-status = %+v", ds)
	}
	if d.Envelope.Transport != "smtp" || d.Envelope.Sender == "" {
		t.Errorf("delivered envelope = %+v", d.Envelope)
	}
}

// checkMessageEvent checks what every message event repeats.
func checkMessageEvent(t *testing.T, what string, m events.Message, tags []string, uv any, st events.Storage, msgID, base string) {
	t.Helper()
	h := m.Headers
	if h.MessageID != msgID {
		t.Errorf("%s message-id = %q, want %q (no angle brackets)", what, h.MessageID, msgID)
	}
	if h.Subject != "Quarterly report" || !strings.Contains(h.From, "sender@"+testDomain) || !strings.Contains(h.To, "ann@dest.example") {
		t.Errorf("%s headers = %+v", what, h)
	}
	if m.Size == 0 {
		t.Errorf("%s message size is 0", what)
	}
	if strings.Join(tags, ",") != "newsletter,spring" {
		t.Errorf("%s tags = %v, want [newsletter spring]", what, tags)
	}
	vars, _ := uv.(map[string]any)
	plan, _ := vars["plan"].(map[string]any)
	if vars["user-id"] != "u-17" || plan["tier"] != "gold" {
		t.Errorf("%s user-variables = %#v", what, uv)
	}
	if !strings.HasPrefix(st.URL, base+"/v3/domains/"+testDomain+"/messages/") || st.Key == "" || !strings.HasSuffix(st.URL, "/"+st.Key) {
		t.Errorf("%s storage = %+v", what, st)
	}
}

// listAll reads every page of ListEvents until the empty page.
func listAll(t *testing.T, mg *mailgun.MailgunImpl, opts *mailgun.ListEventOptions) []mailgun.Event {
	t.Helper()
	it := mg.ListEvents(opts)
	var all, page []mailgun.Event
	for it.Next(context.Background(), &page) {
		all = append(all, page...)
	}
	if it.Err() != nil {
		t.Fatalf("ListEvents: %v", it.Err())
	}
	return all
}

// TestSendMIMEThroughSDK sends a ready MIME message: the envelope is the
// `to` parameter, and the Bcc recipient gets it without being shown.
func TestSendMIMEThroughSDK(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	raw := "From: Sender <sender@" + testDomain + ">\r\n" +
		"To: Ann <ann@dest.example>\r\n" +
		"Cc: cc@dest.example\r\n" +
		"Bcc: hidden@dest.example\r\n" +
		"Subject: MIME upload\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"Hello from a raw message.\r\n"
	m := mailgun.NewMIMEMessage(io.NopCloser(strings.NewReader(raw)),
		"ann@dest.example", "cc@dest.example", "hidden@dest.example")
	_ = m.AddTag("mime")
	_, id, err := e.mg.Send(context.Background(), m)
	if err != nil {
		t.Fatalf("Send MIME: %v", err)
	}
	if !strings.HasPrefix(id, "<") {
		t.Fatalf("id = %q", id)
	}
	got := byRecipient(e.mx.WaitRecipients(t, 3, 20*time.Second))
	if len(got) != 3 {
		t.Fatalf("envelope recipients = %v, want exactly the three `to` values", got)
	}
	data := got["hidden@dest.example"][0].Data
	if header(data, "Bcc") != "" || bytes.Contains(data, []byte("hidden@dest.example")) {
		t.Errorf("the Bcc recipient is shown in the delivered message:\n%s", data)
	}
	if header(data, "Message-Id") != id || header(data, "Subject") != "MIME upload" {
		t.Errorf("delivered Message-Id %q Subject %q, want %q", header(data, "Message-Id"), header(data, "Subject"), id)
	}
	evs := e.waitEvents("delivered", 3)
	if evs[0].MessageID != strings.Trim(id, "<>") {
		t.Errorf("event message-id = %q", evs[0].MessageID)
	}
	stored, err := e.mg.GetStoredMessageRaw(context.Background(), e.storageURL(id))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stored.Recipients, "hidden@dest.example") || strings.Contains(stored.BodyMime, "hidden@") ||
		!strings.Contains(stored.BodyMime, "Hello from a raw message.") {
		t.Errorf("stored = %+v", stored)
	}
}

// TestSendBatchThroughSDK: recipient variables make one personalised copy
// per recipient, each showing only its own address.
func TestSendBatchThroughSDK(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	m := mailgun.NewMessage("sender@"+testDomain, "Hi %recipient.name%", "Hello %recipient.name%, your id is %recipient.id%.")
	people := map[string]map[string]any{
		"alice@dest.example": {"name": "Alice", "id": 1},
		"bob@other.example":  {"name": "Bob", "id": 2},
		"carol@dest.example": {"name": "Carol", "id": 3},
	}
	for addr, vars := range people {
		if err := m.AddRecipientAndVariables(addr, vars); err != nil {
			t.Fatal(err)
		}
	}
	_ = m.AddVariable("uid", "%recipient.id%")
	if _, _, err := e.mg.Send(context.Background(), m); err != nil {
		t.Fatalf("Send batch: %v", err)
	}
	got := byRecipient(e.mx.WaitRecipients(t, 3, 20*time.Second))
	for addr, vars := range people {
		copies := got[addr]
		if len(copies) != 1 || len(copies[0].To) != 1 {
			t.Fatalf("%s: %d copies (%v), want one addressed to it alone", addr, len(copies), copies)
		}
		data := copies[0].Data
		name := vars["name"].(string)
		if to := header(data, "To"); !strings.Contains(to, addr) || strings.Contains(to, ",") {
			t.Errorf("%s: To = %q", addr, to)
		}
		if s := header(data, "Subject"); s != "Hi "+name {
			t.Errorf("%s: Subject = %q", addr, s)
		}
		if !bytes.Contains(data, []byte("Hello "+name+", your id is")) {
			t.Errorf("%s: body not personalised:\n%s", addr, data)
		}
		for other := range people {
			if other != addr && bytes.Contains(data, []byte(other)) {
				t.Errorf("%s's copy shows %s", addr, other)
			}
		}
	}
	e.waitEvents("delivered", 3)
	for _, ev := range listAll(t, e.mg, &mailgun.ListEventOptions{Filter: map[string]string{"event": "delivered"}}) {
		d := ev.(*events.Delivered)
		uv, _ := d.UserVariables.(map[string]any)
		want := fmt.Sprint(people[d.Recipient]["id"]) // v: values are text
		if uv["uid"] != want {
			t.Errorf("%s user-variables = %v, want uid %v", d.Recipient, uv, want)
		}
	}
}

// TestSendScheduledThroughSDK: o:deliverytime holds delivery until the
// (fake) clock passes it.
func TestSendScheduledThroughSDK(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	m := mailgun.NewMessage("sender@"+testDomain, "Later", "scheduled", "later@dest.example")
	m.SetDeliveryTime(e.clock.Now().Add(2 * time.Hour))
	if _, _, err := e.mg.Send(context.Background(), m); err != nil {
		t.Fatalf("Send scheduled: %v", err)
	}
	e.waitEvents("accepted", 1)
	e.app.Delivery.Notify()
	time.Sleep(1500 * time.Millisecond) // longer than the engine's poll interval
	if n := e.mx.RecipientCount(); n != 0 {
		t.Fatalf("delivered %d before the delivery time", n)
	}
	if n := e.queueLen(); n != 1 {
		t.Fatalf("queue holds %d jobs, want 1", n)
	}
	e.clock.Advance(2*time.Hour + time.Minute)
	e.app.Delivery.Notify()
	e.mx.WaitRecipients(t, 1, 20*time.Second)
	evs := e.waitEvents("delivered", 1)
	acc := e.storeEvents("accepted")
	if gap := evs[0].Timestamp.Sub(acc[0].Timestamp); gap < 2*time.Hour {
		t.Errorf("delivered %s after accept, want at least 2h", gap)
	}
}

// TestSendTestModeThroughSDK: o:testmode gives a delivered event with code
// 650 and nothing reaches the MX.
func TestSendTestModeThroughSDK(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	m := mailgun.NewMessage("sender@"+testDomain, "Test mode", "not sent", "a@dest.example", "b@dest.example")
	m.EnableTestMode()
	if _, _, err := e.mg.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	e.waitEvents("delivered", 2)
	for _, ev := range listAll(t, e.mg, &mailgun.ListEventOptions{Filter: map[string]string{"event": "delivered"}}) {
		d := ev.(*events.Delivered)
		if d.DeliveryStatus.Code != 650 || !d.Flags.IsTestMode {
			t.Errorf("test-mode delivered event: code %d is-test-mode %v", d.DeliveryStatus.Code, d.Flags.IsTestMode)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if n := e.mx.Sessions(); n != 0 {
		t.Errorf("test mode opened %d SMTP sessions", n)
	}
	if n := e.queueLen(); n != 0 {
		t.Errorf("%d jobs left queued", n)
	}
}
