package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/webhooks"
)

// TestMXRouteRetries: a forward POST answered 500 is retried on the
// webhook schedule (5 minutes first) and then delivered; one answered 406
// is never retried; a slow target does not hold the SMTP reply.
func TestMXRouteRetries(t *testing.T) {
	t.Parallel()
	e := startMXEnv(t, nil)
	e.route(0, `match_recipient("flaky@mg.example.com")`, `forward("`+e.hook.URL+`/flaky")`)
	e.route(0, `match_recipient("refuses@mg.example.com")`, `forward("`+e.hook.URL+`/refuses")`)
	e.route(0, `match_recipient("slow@mg.example.com")`, `forward("`+e.hook.URL+`/slow")`)
	e.hook.respond("/flaky", http.StatusInternalServerError)
	e.hook.respond("/refuses", http.StatusNotAcceptable)
	gate := e.hook.gate("/slow")
	defer func() {
		select {
		case <-gate:
		default:
			close(gate)
		}
	}()

	body := []byte(rfcMessage("someone@elsewhere.org", "x@"+testDomain, "retry me", "hello"))
	if err := e.deliverMX("someone@elsewhere.org", []string{"flaky@" + testDomain, "refuses@" + testDomain}, body); err != nil {
		t.Fatal(err)
	}
	e.hook.waitPosts(t, "/flaky", 1)
	e.hook.waitPosts(t, "/refuses", 1)
	failed := e.waitEvents("failed", 2)
	var temporary, permanent int
	for _, ev := range failed {
		var data struct {
			Severity       string `json:"severity"`
			Recipient      string `json:"recipient"`
			DeliveryStatus struct {
				Code         int `json:"code"`
				RetrySeconds int `json:"retry-seconds"`
			} `json:"delivery-status"`
		}
		_ = json.Unmarshal(ev.Data, &data)
		switch {
		case data.Recipient == "flaky@"+testDomain && data.Severity == "temporary" && data.DeliveryStatus.Code == 500 &&
			data.DeliveryStatus.RetrySeconds == int(webhooks.Schedule[0].Seconds()):
			temporary++
		case data.Recipient == "refuses@"+testDomain && data.Severity == "permanent" && data.DeliveryStatus.Code == 406:
			permanent++
		default:
			t.Errorf("unexpected failed event %s", ev.Data)
		}
	}
	if temporary != 1 || permanent != 1 {
		t.Fatalf("failed events: %d temporary (500), %d permanent (406); want 1 and 1", temporary, permanent)
	}

	checkSlowTarget(t, e, gate, body)

	e.clock.Advance(webhooks.Schedule[0] + time.Second)
	e.app.Inbound.Notify()
	e.hook.waitPosts(t, "/flaky", 2)
	waitFor(t, 20*time.Second, func() bool { return len(e.storeEvents("delivered")) >= 2 },
		func() string { return "the retried POST and the slow one were not recorded as delivered" })
	e.clock.Advance(24 * time.Hour)
	e.app.Inbound.Notify()
	time.Sleep(200 * time.Millisecond)
	if n := len(e.hook.postsTo("/refuses")); n != 1 {
		t.Errorf("the 406 target got %d POSTs, want 1", n)
	}
	checkSDKEvents(t, e.mg, map[string]int{"accepted": 3, "delivered": 2, "failed": 2})
}

// checkSDKEvents reads the domain's events with mailgun-go, which refuses
// a page with an event name it does not know, and counts them by name.
func checkSDKEvents(t *testing.T, mg *mailgun.MailgunImpl, want map[string]int) {
	t.Helper()
	got := map[string]int{}
	it := mg.ListEvents(&mailgun.ListEventOptions{Limit: 2})
	var page []mailgun.Event
	for it.Next(context.Background(), &page) {
		for _, ev := range page {
			got[ev.GetName()]++
		}
	}
	if err := it.Err(); err != nil {
		t.Fatalf("mailgun-go ListEvents: %v", err)
	}
	for name, n := range want {
		if got[name] != n {
			t.Errorf("mailgun-go sees %d %s events, want %d (all: %v)", got[name], name, n, got)
		}
	}
}

// checkSlowTarget: the MX answers a message at once while its route
// target holds the POST; the POST is recorded once the target answers.
func checkSlowTarget(t *testing.T, e *mxEnv, gate chan struct{}, body []byte) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		c, err := smtp.DialStartTLS(e.app.MXAddr(), clientTLS())
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_, err = submit(c, "someone@elsewhere.org", []string{"slow@" + testDomain}, string(body))
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("MX with a slow route target: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the SMTP reply waited for the route target")
	}
	e.hook.waitPosts(t, "/slow", 1)
	close(gate)
	// The slow POST must be recorded before the clock jumps past its lease.
	waitFor(t, 20*time.Second, func() bool { return len(e.storeEvents("delivered")) >= 1 },
		func() string { return "the slow POST was not recorded as delivered" })
}

// TestMXStoreAndNotify: store(notify=…) keeps the message for the
// domain's retention, emits a stored event with storage.url, POSTs a
// signed notification with message-url; mailgun-go retrieves the message
// (JSON with message-headers as pairs, raw MIME, attachments).
func TestMXStoreAndNotify(t *testing.T) {
	t.Parallel()
	e := startMXEnv(t, nil)
	f := newInboundFixture(t, e)
	e.route(0, `match_recipient("support@mg.example.com")`, `store(notify="`+e.hook.URL+`/notify")`)
	if err := e.deliverMX("bounce@sender.example", []string{"support@" + testDomain}, f.raw); err != nil {
		t.Fatal(err)
	}
	n := e.hook.waitPosts(t, "/notify", 1)[0]
	key, _ := e.app.Keys.SigningKey(context.Background())
	if !webhooks.Verify([]byte(key), webhooks.Signature{Timestamp: n.Form.Get("timestamp"), Token: n.Form.Get("token"),
		Signature: n.Form.Get("signature")}) {
		t.Error("notify signature does not verify")
	}
	msgURL := n.Form.Get("message-url")
	if n.Form.Get("domain") != testDomain || !strings.HasPrefix(msgURL, e.app.URL+"/v3/domains/"+testDomain+"/messages/") ||
		len(n.Files) != 0 || n.Form.Get("attachment-count") != "2" {
		t.Fatalf("notify POST: %v, %d files", n.Form, len(n.Files))
	}
	stored := e.waitEvents("stored", 1)
	var ev struct {
		Storage struct{ URL, Key string } `json:"storage"`
		Message struct {
			Recipients []string `json:"recipients"`
		} `json:"message"`
	}
	_ = json.Unmarshal(stored[0].Data, &ev)
	if ev.Storage.URL != msgURL || len(ev.Message.Recipients) != 1 {
		t.Errorf("stored event: %s; want storage.url %s", stored[0].Data, msgURL)
	}
	mg := mailgun.NewMailgun(testDomain, e.app.Key)
	checkStoredMessage(t, e, mg, msgURL, f)
	m, err := e.app.Regional.Message(context.Background(), testDomain, ev.Storage.Key)
	d, _ := e.app.Regional.Domain(context.Background(), testDomain)
	if err != nil || m.ExpiresAt.Sub(m.CreatedAt) != time.Duration(d.MessageTTL)*time.Second {
		t.Errorf("stored copy expires %v after creation, want the domain's message_ttl %ds (%v)",
			m.ExpiresAt.Sub(m.CreatedAt), d.MessageTTL, err)
	}
}

func checkStoredMessage(t *testing.T, e *mxEnv, mg *mailgun.MailgunImpl, msgURL string, f inboundFixture) {
	t.Helper()
	ctx := context.Background()
	sm, err := mg.GetStoredMessage(ctx, msgURL)
	if err != nil {
		t.Fatalf("GetStoredMessage: %v", err)
	}
	if sm.Recipients != "support@"+testDomain || sm.Sender != "bounce@sender.example" || sm.BodyPlain != f.text ||
		sm.StrippedText != "Thanks, that works." || sm.StrippedSignature != "Jane" || len(sm.Attachments) != 2 ||
		len(sm.ContentIDMap) != 1 {
		t.Errorf("stored message: %+v", sm)
	}
	found := false
	for _, h := range sm.MessageHeaders {
		found = found || (len(h) == 2 && h[0] == "X-Mailgun-Incoming" && h[1] == "Yes")
	}
	if !found {
		t.Errorf("message-headers (pairs) lack X-Mailgun-Incoming: %v", sm.MessageHeaders)
	}
	data, err := mg.GetStoredAttachment(ctx, sm.Attachments[1].Url)
	if err != nil || !bytes.Equal(data, f.attached) {
		t.Errorf("GetStoredAttachment: %d bytes, %v; want the attachment byte for byte", len(data), err)
	}
	raw, err := mg.GetStoredMessageRaw(ctx, msgURL)
	if err != nil || !strings.HasSuffix(raw.BodyMime, string(f.raw)) {
		t.Errorf("GetStoredMessageRaw: body-mime is not the received message: %v", err)
	}
}

// TestMXForwardToAddress: forward("address") re-sends the received
// message through the outbound path (DKIM, queue, events).
func TestMXForwardToAddress(t *testing.T) {
	t.Parallel()
	e := startMXEnv(t, func(c *config.Config) {})
	e.route(0, `match_recipient("(.*)@mg.example.com")`, `forward("copy+\1@elsewhere.test")`)
	body := rfcMessage("Sam <sam@elsewhere.org>", "team@"+testDomain, "forward me", "the body")
	if err := e.deliverMX("sam@elsewhere.org", []string{"team@" + testDomain}, []byte(body)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool { return len(byRecipient(e.mx.Messages())["copy+team@elsewhere.test"]) == 1 },
		func() string { return "the forwarded copy did not arrive" })
	got := byRecipient(e.mx.Messages())["copy+team@elsewhere.test"][0].Data
	if header(got, "Subject") != "forward me" || header(got, "DKIM-Signature") == "" || !strings.Contains(string(got), "the body") ||
		header(got, "X-Mailgun-Incoming") != "Yes" {
		t.Errorf("forwarded copy:\n%s", got)
	}
	evs := e.events(url.Values{"event": {"accepted"}, "recipient": {"copy+team@elsewhere.test"}})
	if len(evs) != 1 {
		t.Errorf("accepted events of the forwarded copy: %d, want 1", len(evs))
	}
}

// TestMXListPosting: mail arriving at the MX for a mailing list's address
// fans out to its subscribed members (docs/mailgun-contract.md §5.3), and the list's
// access_level decides who may post from outside: "members" takes a
// subscribed member's post and refuses anyone else's, "readonly" refuses
// every post from the MX; a refusal is a failed event, never a copy.
func TestMXListPosting(t *testing.T) {
	t.Parallel()
	e := startMXEnv(t, func(c *config.Config) {})
	ctx := context.Background()
	newList := func(addr, access string, members ...string) {
		if _, err := e.mg.CreateMailingList(ctx, mailgun.MailingList{Address: addr, AccessLevel: mailgun.AccessLevel(access)}); err != nil {
			t.Fatalf("CreateMailingList %s: %v", addr, err)
		}
		for i, m := range members {
			sub := i != len(members)-1 // the last member is unsubscribed
			if err := e.mg.CreateMember(ctx, true, addr, mailgun.Member{Address: m, Subscribed: &sub}); err != nil {
				t.Fatalf("CreateMember %s: %v", m, err)
			}
		}
	}
	newList("club@"+testDomain, "members", "ann@members.test", "bob@members.test", "gone@members.test")
	newList("news@"+testDomain, "readonly", "cat@readers.test", "dan@readers.test")

	post := func(from, list, subject string) {
		t.Helper()
		if err := e.deliverMX(from, []string{list}, []byte(rfcMessage(from, list, subject, "hello "+subject))); err != nil {
			t.Fatalf("MX post to %s: %v", list, err)
		}
	}
	post("ann@members.test", "club@"+testDomain, "from a member")
	post("eve@outside.test", "club@"+testDomain, "from an outsider")
	post("ann@members.test", "news@"+testDomain, "to a readonly list")

	waitFor(t, 20*time.Second, func() bool {
		rcpts := byRecipient(e.mx.Messages())
		return len(rcpts["ann@members.test"]) == 1 && len(rcpts["bob@members.test"]) == 1
	}, func() string { return "the member's post did not reach the list's members" })
	waitFor(t, 20*time.Second, func() bool {
		return len(e.events(url.Values{"event": {"failed"}, "recipient": {"news@" + testDomain}})) >= 1 &&
			len(e.events(url.Values{"event": {"failed"}, "recipient": {"club@" + testDomain}})) >= 1
	}, func() string { return "no failed events for the refused posts" })
	time.Sleep(300 * time.Millisecond) // let a wrong copy arrive before looking
	for rcpt, ms := range byRecipient(e.mx.Messages()) {
		for _, m := range ms {
			if s := header(m.Data, "Subject"); s != "from a member" || rcpt == "gone@members.test" {
				t.Errorf("%s got %q; only the subscribed members of club@ should get the member's post", rcpt, s)
			}
		}
	}
	got := byRecipient(e.mx.Messages())["bob@members.test"][0].Data
	if header(got, "Reply-To") != "club@"+testDomain || header(got, "DKIM-Signature") == "" {
		t.Errorf("list copy lacks the list's Reply-To or a DKIM signature:\n%s", got)
	}
}
