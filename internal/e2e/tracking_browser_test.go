package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/testutil"
)

// newChromium starts a headless Chromium (testutil.Chromium), stopped
// when t ends.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	ctx := testutil.Chromium(t, 1024, 768)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// browse runs one step in the browser within 30 s.
func browse(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.documentElement.outerHTML"))
		t.Fatalf("%s: %v\npage:\n%s", step, err, html)
	}
}

// loadsPage runs a click that leads to a new page and waits for it.
func loadsPage[T any](trigger chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.WaitEvent(cdppage.LoadEventFired, nil, trigger)(ctx, t)
		return err
	})
}

// TestTrackingInBrowser opens a delivered HTML message (as fetched from
// the fake MX) in headless Chromium: its pixel records an opened event,
// its unsubscribe link leads to a page whose button unsubscribes the
// recipient (the suppression and the unsubscribed event), and the next
// message to the recipient is not delivered (a failed event,
// suppress-unsubscribe, as internal/delivery/suppress.go and the accept
// screen do).
func TestTrackingInBrowser(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	e.app.Tracking.SetBaseURL(e.app.URL) // Chromium cannot resolve email.mg.example.com
	e.setTracking("open", url.Values{"active": {"yes"}})
	e.setTracking("unsubscribe", url.Values{"active": {"yes"}})

	const rcpt = "alice@example.org"
	e.send(url.Values{"from": {"news@" + testDomain}, "to": {rcpt}, "subject": {"Newsletter"},
		"html": {`<!doctype html><html><head><title>Newsletter</title></head><body><h1 id="title">Spring news</h1></body></html>`}})
	msg := e.delivered(1)
	unsub := links(msg.HTML, e.app.URL+"/t/u/")
	if len(unsub) != 1 || !strings.Contains(msg.HTML, `src="`+e.app.URL+`/t/o/`) {
		t.Fatalf("delivered HTML lacks the pixel or the unsubscribe footer:\n%s", msg.HTML)
	}

	// A webmail that shows the message as it was delivered.
	webmail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, msg.HTML)
	}))
	t.Cleanup(webmail.Close)

	ctx := newChromium(t)
	browse(t, ctx, "open the message", chromedp.Navigate(webmail.URL), chromedp.WaitVisible(chromedp.ID("title")))
	opened := e.waitEvents("opened", 1)
	var ev mgapi.Event
	if err := json.Unmarshal(opened[0].Data, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Recipient != rcpt || ev.ClientInfo == nil || !strings.Contains(ev.ClientInfo.UserAgent, "Chrome") {
		t.Fatalf("opened event = %+v", ev)
	}

	browse(t, ctx, "follow the unsubscribe link",
		loadsPage(chromedp.Click(chromedp.CSS(`a[href^="`+e.app.URL+`/t/u/"]`))), chromedp.WaitVisible(chromedp.ID("unsubscribe")))
	if n := len(e.storeEvents("unsubscribed")); n != 0 {
		t.Fatalf("showing the unsubscribe page unsubscribed (%d events)", n)
	}
	browse(t, ctx, "confirm", loadsPage(chromedp.Click(chromedp.ID("unsubscribe"))), chromedp.WaitVisible(chromedp.ID("done")))
	done, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("done")))
	if err != nil || !strings.Contains(done, rcpt) {
		t.Fatalf("confirmation page says %q (%v)", done, err)
	}
	sup, err := e.app.Regional.Suppression(context.Background(), testDomain, store.Unsubscribes, rcpt)
	if err != nil || len(sup.Tags) != 1 || sup.Tags[0] != "*" {
		t.Fatalf("unsubscribe record = %+v, %v", sup, err)
	}
	if n := len(e.storeEvents("unsubscribed")); n != 1 {
		t.Fatalf("%d unsubscribed events, want 1", n)
	}

	// The next message to alice is suppressed.
	e.send(url.Values{"from": {"news@" + testDomain}, "to": {rcpt}, "subject": {"Another"}, "text": {"hi"}})
	failed := e.waitEvents("failed", 1)
	var f mgapi.Event
	if err := json.Unmarshal(failed[0].Data, &f); err != nil {
		t.Fatal(err)
	}
	if f.Reason != "suppress-unsubscribe" || f.Severity != "permanent" || f.DeliveryStatus == nil || f.DeliveryStatus.Code != 605 {
		t.Fatalf("failed event = %+v", f)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(e.mx.Messages()); n != 1 {
		t.Fatalf("the fake MX got %d messages, want only the first", n)
	}
}
