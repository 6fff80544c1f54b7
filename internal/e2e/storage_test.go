package e2e

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"
)

// storageURL returns the storage.url of the message's accepted events,
// checking every event of the message carries the same one.
func (e *sendEnv) storageURL(msgID string) string {
	e.t.Helper()
	evs := e.events(url.Values{"message-id": {strings.Trim(msgID, "<>")}})
	if len(evs) == 0 {
		e.t.Fatalf("no events for %s", msgID)
	}
	u := evs[0].Storage.URL
	for _, ev := range evs {
		if ev.Storage == nil || ev.Storage.URL != u {
			e.t.Fatalf("%s event storage = %+v, want url %s", ev.Event, ev.Storage, u)
		}
	}
	return u
}

// TestStoredMessages reads a sent message back through its storage URL,
// raw and through mailgun-go, fetches its attachments and resends it.
func TestStoredMessages(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	ctx := context.Background()
	_, id, err := e.mg.Send(ctx, plainMessage("Quarterly report"))
	if err != nil {
		t.Fatal(err)
	}
	e.waitEvents("delivered", 3)
	u := e.storageURL(id)
	if !strings.HasPrefix(u, e.app.URL+"/v3/domains/"+testDomain+"/messages/") {
		t.Fatalf("storage url %q is not on the public URL", u)
	}

	// The parsed JSON of docs/mailgun-contract.md §7, as it is on the wire.
	var m map[string]any
	e.getJSON(u, &m)
	want := map[string]any{
		"recipients": "ann@dest.example, cc@dest.example, hidden@dest.example",
		"subject":    "Quarterly report",
		"body-plain": "plain body",
		"body-html":  `<p>html body <img src="cid:logo.png"></p>`,
	}
	for k, v := range want {
		if got, _ := m[k].(string); strings.TrimSpace(got) != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	if from, _ := m["from"].(string); !strings.Contains(from, "sender@"+testDomain) {
		t.Errorf("from = %q", m["from"])
	}
	if sender, _ := m["sender"].(string); !strings.HasSuffix(sender, "@"+testDomain) {
		t.Errorf("sender = %q", m["sender"])
	}
	headers, ok := m["message-headers"].([]any)
	if !ok || len(headers) < 5 {
		t.Fatalf("message-headers = %#v, want an array of pairs", m["message-headers"])
	}
	found := map[string]bool{}
	for _, h := range headers {
		pair, ok := h.([]any)
		if !ok || len(pair) != 2 {
			t.Fatalf("message-headers entry %#v is not a [name, value] pair", h)
		}
		found[pair[0].(string)+": "+pair[1].(string)] = true
	}
	for _, h := range []string{"X-Campaign-Ref: spring-42", "Subject: Quarterly report", "Message-Id: " + id} {
		if !found[h] {
			t.Errorf("message-headers lack %q", h)
		}
	}

	// The same through mailgun-go, with the attachments.
	sm, err := e.mg.GetStoredMessage(ctx, u)
	if err != nil {
		t.Fatalf("GetStoredMessage: %v", err)
	}
	files := map[string][]byte{"report.pdf": pdfBytes, "logo.png": pngBytes}
	if len(sm.Attachments) != 2 {
		t.Fatalf("attachments = %+v, want report.pdf and logo.png", sm.Attachments)
	}
	for _, a := range sm.Attachments {
		if a.Size != len(files[a.Name]) || !strings.HasPrefix(a.Url, e.app.URL+"/") || a.ContentType == "" {
			t.Errorf("attachment %+v", a)
		}
		data, err := e.mg.GetStoredAttachment(ctx, a.Url)
		if err != nil || !bytes.Equal(data, files[a.Name]) {
			t.Errorf("GetStoredAttachment(%s) = %d bytes, %v; want the %d bytes sent", a.Name, len(data), err, len(files[a.Name]))
		}
	}
	cid, ok := sm.ContentIDMap["<logo.png>"]
	if !ok || cid.Name != "logo.png" || cid.Size != int64(len(pngBytes)) || cid.ContentType != "image/png" {
		t.Errorf("content-id-map = %+v", sm.ContentIDMap)
	}
	if sm.MessageUrl != u {
		t.Errorf("message-url = %q, want %q", sm.MessageUrl, u)
	}
	raw, err := e.mg.GetStoredMessageRaw(ctx, u)
	if err != nil {
		t.Fatalf("GetStoredMessageRaw: %v", err)
	}
	if !strings.Contains(raw.BodyMime, "Subject: Quarterly report") || !strings.Contains(raw.BodyMime, "Message-Id: "+id) ||
		raw.Subject != "Quarterly report" || raw.Recipients != want["recipients"] {
		t.Errorf("raw = %+v", raw)
	}

	// Resend to someone new: a new message, delivered.
	msg, newID, err := e.mg.ReSend(ctx, u, "again@dest.example", "twice@other.example")
	if err != nil || msg != "Queued. Thank you." || !strings.HasPrefix(newID, "<") || newID == id {
		t.Fatalf("ReSend = %q, %q, %v", msg, newID, err)
	}
	got := byRecipient(e.mx.WaitRecipients(t, 5, 20*time.Second))
	for _, r := range []string{"again@dest.example", "twice@other.example"} {
		if len(got[r]) != 1 || !bytes.Contains(got[r][0].Data, []byte("Subject: Quarterly report")) {
			t.Errorf("resent copy for %s: %d", r, len(got[r]))
		}
	}
	if e.storageURL(newID) == u {
		t.Error("the resent message shares the original's storage")
	}
}

// TestStoredMessageNotFound: unknown keys and messages past the retention
// period are 404 "Message not found" on every stored-message route.
func TestStoredMessageNotFound(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	id := e.send(url.Values{"from": {"sender@" + testDomain}, "to": {"a@dest.example"}, "subject": {"kept"},
		"text": {"x"}, "o:testmode": {"yes"}})
	e.waitEvents("delivered", 1)
	u := e.storageURL(id)
	unknown := u[:strings.LastIndexByte(u, '/')+1] + "AAAAAAAAAAAAAAAAAAAAAAAAAAA"
	notFound := func(when, u string) {
		t.Helper()
		for _, r := range []struct {
			method, url string
			body        reqBody
		}{
			{http.MethodGet, u, reqBody{}},
			{http.MethodGet, u + "/attachments/0", reqBody{}},
			{http.MethodPost, u, formBody(url.Values{"to": {"b@dest.example"}})},
		} {
			status, body := e.call(r.method, r.url, r.body)
			if status != http.StatusNotFound || strings.TrimSpace(string(body)) != `{"message":"Message not found"}` {
				t.Errorf("%s: %s %s = %d %s, want 404 {\"message\":\"Message not found\"}", when, r.method, r.url, status, body)
			}
		}
		if _, err := e.mg.GetStoredMessage(context.Background(), u); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
			t.Errorf("%s: GetStoredMessage: %v, want a 404", when, err)
		}
	}
	notFound("unknown key", unknown)
	if status, body := e.call(http.MethodGet, u, reqBody{}); status != http.StatusOK {
		t.Fatalf("GET %s = %d %s", u, status, body)
	}
	e.clock.Advance(e.app.Cfg.Retention - time.Minute)
	if status, _ := e.call(http.MethodGet, u, reqBody{}); status != http.StatusOK {
		t.Fatalf("GET just before the retention period ends = %d", status)
	}
	e.clock.Advance(2 * time.Minute)
	notFound("after the retention period", u)
	if n := e.mx.RecipientCount(); n != 0 {
		t.Errorf("a resend of an expired message delivered %d copies", n)
	}
}
