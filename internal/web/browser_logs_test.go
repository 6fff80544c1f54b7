package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestBrowserFindMessageInLogs follows the steps on a phone-sized
// screen: add a sending key, send with mailgun-go and that key to one
// recipient the MX takes and one it answers 451, find the message in Logs
// by recipient, open its page and read each delivery attempt with its
// SMTP reply and what waits now.
func TestBrowserFindMessageInLogs(t *testing.T) {
	t.Parallel()
	mx := testutil.StartFakeMX(t, testutil.MXOptions{})
	d := startDash(t, dashOptions{configure: func(c *config.Config) { c.Smarthost = mx.Addr }})
	if _, err := d.Domains.Create(context.Background(), domains.CreateRequest{Name: testDomain}); err != nil {
		t.Fatal(err)
	}
	b := loggedIn(t, d, phoneW, phoneH)
	b.do("open the sending keys", chromedp.Navigate(d.Base+"/dashboard/domains/"+testDomain+"/settings/sending-keys"),
		chromedp.WaitVisible(chromedp.ID("key-description")))
	b.do("add a sending key", chromedp.SendKeys(chromedp.ID("key-description"), "shop"),
		loads(chromedp.Click(chromedp.ID("create-key"))), chromedp.WaitVisible(chromedp.ID("new-secret")))
	key := b.text("#new-secret")

	const ann, bob = "ann@dest.example", "t451-bob@dest.example"
	m := mailgun.NewMessage("Shop <shop@"+testDomain+">", "Your order 1042", "Thanks for your order.", ann, bob)
	m.SetHtml("<h1>Thanks for your order</h1>")
	m.AddBufferAttachment("invoice.pdf", []byte("%PDF-1.4 invoice"))
	if err := m.AddTag("orders"); err != nil {
		t.Fatal(err)
	}
	id := d.send(t, key, m)
	d.waitEvent(t, id, "delivered", "", ann)
	failed := d.waitEvent(t, id, "failed", "temporary", bob)
	if got := mx.Messages(); len(got) != 1 || len(got[0].To) != 1 || got[0].To[0] != ann {
		t.Fatalf("MX received %+v, want the message for %s only", got, ann)
	}
	ds := failed.DeliveryStatus

	b.openNav()
	b.do("open Logs", loads(chromedp.Click(chromedp.CSS(`a[href="/dashboard/logs"]`))), chromedp.WaitVisible(chromedp.CSS("#logs-fold summary")))
	if eval[bool](b, `document.getElementById("logs-fold").open`) {
		t.Error("the filters are not folded on a phone")
	}
	b.do("unfold the filters", chromedp.Click(chromedp.CSS("#logs-fold summary")), chromedp.WaitVisible(chromedp.ID("logs-recipient")))
	b.do("filter by recipient", chromedp.SendKeys(chromedp.ID("logs-recipient"), bob),
		loads(chromedp.Click(chromedp.ID("search"))), chromedp.WaitVisible(chromedp.ID("events")))
	rcpts := eval[[]string](b, `[...document.querySelectorAll("#events tr.event .rcpt")].map(td => td.textContent.trim())`)
	kinds := eval[[]string](b, `[...document.querySelectorAll("#events tr.event")].map(tr => tr.dataset.event)`)
	if strings.Join(rcpts, ",") != bob+","+bob || strings.Join(kinds, ",") != "failed,accepted" {
		t.Fatalf("filtered rows: recipients %v, events %v; want the failed and accepted events of %s, newest first", rcpts, kinds, bob)
	}
	summary := b.text(`#events tr[data-event="failed"] .summary`)
	for _, want := range []string{"451", "4.2.0", "Mailbox busy", ds.MXHost, "attempt 1", "retry in"} {
		if !strings.Contains(summary, want) {
			t.Errorf("failed row summary %q lacks %q", summary, want)
		}
	}
	if !strings.Contains(b.text(`#events tr[data-event="failed"]`), "Your order 1042") {
		t.Errorf("failed row = %q, want the subject", b.text(`#events tr[data-event="failed"]`))
	}
	phoneFits(b, "the Logs page")

	b.do("open the message", loads(chromedp.Click(chromedp.CSS(`#events tr[data-event="failed"] a.msg-link`))),
		chromedp.WaitVisible(chromedp.ID("attempts")))
	if got := b.text("#message-subject"); got != "Your order 1042" {
		t.Errorf("message page subject = %q", got)
	}
	if got := b.text("#message-id"); got != id {
		t.Errorf("message page Message-ID = %q, want %q", got, id)
	}
	bobRow := b.text(`#attempts tr[data-event="failed"][data-recipient="` + bob + `"]`)
	for _, want := range []string{"temporary", "451 4.2.0 Mailbox busy", ds.MXHost, "1"} {
		if !strings.Contains(bobRow, want) {
			t.Errorf("attempt row of %s = %q, lacks %q", bob, bobRow, want)
		}
	}
	annRow := b.text(`#attempts tr[data-event="delivered"][data-recipient="` + ann + `"]`)
	if !strings.Contains(annRow, "250") {
		t.Errorf("attempt row of %s = %q, want the 250 reply", ann, annRow)
	}
	if n := eval[int](b, `document.querySelectorAll("#attempts tr[data-event=accepted]").length`); n != 2 {
		t.Errorf("%d accepted rows, want 2", n)
	}
	waiting := b.text(`#waiting tr[data-recipient="` + bob + `"]`)
	if !strings.Contains(waiting, "Mailbox busy") || !strings.Contains(waiting, "in ") {
		t.Errorf("waiting row of %s = %q", bob, waiting)
	}
	if b.exists(`#waiting tr[data-recipient="` + ann + `"]`) {
		t.Error("the delivered recipient is listed as waiting")
	}
	if got := b.text("#text-part"); got != "Thanks for your order." {
		t.Errorf("text part = %q", got)
	}
	if got := b.text("#attachments"); !strings.Contains(got, "invoice.pdf") {
		t.Errorf("attachments = %q", got)
	}
	if got := eval[string](b, `document.getElementById("html-preview").getAttribute("sandbox")`); got != "" {
		t.Errorf("preview sandbox = %q, want empty (no permissions)", got)
	}
	if html := b.html(); strings.Contains(html, d.Key) || strings.Contains(html, key) {
		t.Error("the message page shows an API key")
	}
	phoneFits(b, "the message page")

	b.do("open the queue", loads(chromedp.Click(chromedp.ID("queue-link"))), chromedp.WaitVisible(chromedp.ID("destinations")))
	if row := b.text(`#destinations tr[data-destination="dest.example"]`); !strings.Contains(row, "451 4.2.0 Mailbox busy") {
		t.Errorf("queue row of dest.example = %q", row)
	}
	phoneFits(b, "the queue page")
	b.noConsoleErrors()
}

// phoneFits fails the test if the page is wider than the screen.
func phoneFits(b *tab, what string) {
	b.t.Helper()
	if !eval[bool](b, "document.documentElement.scrollWidth <= window.innerWidth") {
		b.snap("too-wide")
		b.t.Errorf("%s is wider than a phone screen", what)
	}
}
