package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/domains"
)

// TestBrowserInbox drives the Inbox of a node in capture mode: mail sent
// while the page is open shows up without a reload, newest first; a
// recipient's link shows only its mail; a row opens the captured copy on
// the message page (sandboxed preview, DKIM-signed headers) and its raw
// download is the copy as it would have been sent.
func TestBrowserInbox(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{configure: func(c *config.Config) { c.Capture = true }})
	if _, err := d.Domains.Create(context.Background(), domains.CreateRequest{Name: testDomain}); err != nil {
		t.Fatal(err)
	}
	b := loggedIn(t, d, desktopW, desktopH)
	b.do("open the Inbox", chromedp.Navigate(d.Base+"/dashboard/inbox"), chromedp.WaitVisible(chromedp.ID("inbox-empty")))
	if !b.exists("#capture-on") {
		t.Error("the Inbox does not say capture mode is on")
	}

	first := mailgun.NewMessage("App <app@"+testDomain+">", "Welcome Ann", "Hello Ann", "ann@example.org")
	first.SetHTML("<p id=\"greeting\">Hello <b>Ann</b></p>")
	d.send(t, d.Key, first)
	b.do("see it arrive without a reload", chromedp.WaitVisible(`tr.captured[data-recipient="ann@example.org"]`))
	d.send(t, d.Key, mailgun.NewMessage("App <app@"+testDomain+">", "Invoice for Bob", "Hi Bob", "bob@example.org"))
	b.do("see the second arrive", chromedp.WaitVisible(`tr.captured[data-recipient="bob@example.org"]`))
	rows := eval[[]string](b, `Array.from(document.querySelectorAll("tr.captured")).map(r => r.dataset.recipient)`)
	if strings.Join(rows, ",") != "bob@example.org,ann@example.org" {
		t.Fatalf("rows = %v, want the newest (bob) first", rows)
	}

	b.do("show only Ann's mail", loads(chromedp.Click(`#inbox-recipients a.rcpt-link[href*="ann%40example.org"]`)),
		chromedp.WaitVisible(chromedp.ID("inbox-messages")))
	rows = eval[[]string](b, `Array.from(document.querySelectorAll("tr.captured")).map(r => r.dataset.recipient)`)
	if strings.Join(rows, ",") != "ann@example.org" {
		t.Fatalf("Ann's rows = %v", rows)
	}

	b.do("open Ann's copy", loads(chromedp.Click(`tr.captured a.msg-link`)), chromedp.WaitVisible(chromedp.ID("html-preview")))
	if got := b.text("#message-subject"); got != "Welcome Ann" {
		t.Errorf("subject = %q", got)
	}
	if got := eval[string](b, `document.getElementById("html-preview").getAttribute("sandbox")`); got != "" {
		t.Errorf("preview sandbox = %q, want no permissions", got)
	}
	headers := strings.ToLower(b.text("#headers"))
	for _, h := range []string{"dkim-signature", "return-path"} {
		if !strings.Contains(headers, h) {
			t.Errorf("headers of the captured copy lack %s:\n%s", h, headers)
		}
	}

	raw := eval[string](b, `document.getElementById("raw-download").getAttribute("href")`)
	c := d.client(t)
	c.login(testEmail, testPassword)
	p := c.get(raw)
	if p.StatusCode != http.StatusOK || p.Header.Get("Content-Type") != "message/rfc822" ||
		!strings.HasPrefix(p.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("raw download: %d %s %s", p.StatusCode, p.Header.Get("Content-Type"), p.Header.Get("Content-Disposition"))
	}
	if !strings.HasPrefix(p.Body, "Return-Path: <bounce+") || !strings.Contains(p.Body, "DKIM-Signature:") ||
		!strings.Contains(p.Body, "Hello Ann") {
		t.Fatalf("raw download is not the signed copy:\n%s", p.Body)
	}
}

// TestInboxShowsOnlyCaptures: the Inbox lists captured copies only — not
// a test-mode send's delivered event (code 650, nothing kept) — and says
// whether capture mode is on.
func TestInboxShowsOnlyCaptures(t *testing.T) {
	t.Parallel()
	for _, capture := range []bool{true, false} {
		d := startDash(t, dashOptions{configure: func(c *config.Config) { c.Capture = capture }})
		if _, err := d.Domains.Create(context.Background(), domains.CreateRequest{Name: testDomain}); err != nil {
			t.Fatal(err)
		}
		test := mailgun.NewMessage("App <app@"+testDomain+">", "Test mode", "not kept", "test@example.org")
		test.EnableTestMode()
		testID := d.send(t, d.Key, test)
		d.waitEvent(t, testID, "delivered", "", "test@example.org")
		if capture {
			kept := d.send(t, d.Key, mailgun.NewMessage("App <app@"+testDomain+">", "Kept", "kept", "kept@example.org"))
			d.waitEvent(t, kept, "delivered", "", "kept@example.org")
		}
		c := d.client(t)
		c.login(testEmail, testPassword)
		p := c.get("/dashboard/inbox?domain=" + testDomain)
		if p.StatusCode != http.StatusOK || strings.Contains(p.Body, "test@example.org") ||
			strings.Contains(p.Body, `id="capture-on"`) != capture || strings.Contains(p.Body, `id="capture-off"`) == capture {
			t.Fatalf("capture %v: Inbox %d shows the test-mode send or the wrong mode:\n%s", capture, p.StatusCode, p.Body)
		}
		if got := strings.Count(p.Body, `<tr class="captured"`); got != map[bool]int{true: 1, false: 0}[capture] {
			t.Errorf("capture %v: %d rows:\n%s", capture, got, p.Body)
		}
	}
}
