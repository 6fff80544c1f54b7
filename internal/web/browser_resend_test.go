package web_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/testutil"
)

var resentRE = regexp.MustCompile(`as (\S+); follow it in Logs\.$`)

// TestBrowserResendMessage: a message one recipient refused with 550
// 5.1.1 shows the SMTP reply with its enhanced code on its page; resent
// from there to two other addresses, the same stored message goes out as
// a new message with its own Message-ID and events, and the original's
// events do not change. Desktop and phone.
func TestBrowserResendMessage(t *testing.T) {
	t.Parallel()
	mx := testutil.StartFakeMX(t, testutil.MXOptions{})
	d := startDash(t, dashOptions{configure: func(c *config.Config) { c.Smarthost = mx.Addr }})
	if _, err := d.Domains.Create(context.Background(), domains.CreateRequest{Name: testDomain}); err != nil {
		t.Fatal(err)
	}
	const ann, carl = "ann@dest.example", "p550-carl@dest.example"
	m := mailgun.NewMessage("Shop <shop@"+testDomain+">", "Receipt 77", "Your receipt.", ann, carl)
	if err := m.AddTag("receipts"); err != nil {
		t.Fatal(err)
	}
	id := d.send(t, d.Key, m)
	d.waitEvent(t, id, "delivered", "", ann)
	d.waitEvent(t, id, "failed", "permanent", carl)
	before := len(d.events(t, id))
	page := d.Base + messageURL(d.storageKey(t, id))

	phone := loggedIn(t, d, phoneW, phoneH)
	phone.do("open the message on a phone", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("attempts")))
	phone.do("unfold resend", chromedp.Click(chromedp.CSS("details.resend summary")), chromedp.WaitVisible(chromedp.ID("resend-to")))
	phoneFits(phone, "the message page with the resend form")
	phone.snap("message-resend-phone")

	b := loggedIn(t, d, desktopW, desktopH)
	b.do("open the message", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("attempts")))
	carlRow := b.text(`#attempts tr[data-event="failed"][data-recipient="` + carl + `"] .reply`)
	if !strings.HasPrefix(carlRow, "550 5.1.1 ") {
		t.Errorf("reply of %s = %q, want 550 5.1.1 and the text", carl, carlRow)
	}
	b.do("resend with no address", chromedp.Click(chromedp.CSS("details.resend summary")), chromedp.WaitVisible(chromedp.ID("resend-to")))
	b.fill(map[string]string{"resend-to": " , "})
	b.do("submit", loads(chromedp.Click(chromedp.ID("resend-button"))), chromedp.WaitVisible(chromedp.ID("form-error")))
	if got := b.text("#form-error"); got != "Enter at least one address to resend the message to." {
		t.Errorf("error = %q", got)
	}
	const dora, eve = "dora@dest.example", "eve@dest.example"
	b.fill(map[string]string{"resend-to": dora + "\n" + eve})
	b.do("resend", loads(chromedp.Click(chromedp.ID("resend-button"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	b.snap("message-resent-desktop")
	notice := b.text(".notice")
	match := resentRE.FindStringSubmatch(notice)
	if !strings.HasPrefix(notice, "Resent to "+dora+", "+eve+" as ") || match == nil {
		t.Fatalf("notice = %q", notice)
	}
	newID := strings.Trim(match[1], "<>")
	if newID == id {
		t.Fatal("the resend kept the original's Message-ID")
	}
	for _, r := range []string{dora, eve} {
		d.waitEvent(t, newID, "delivered", "", r)
	}
	var resent int
	for _, got := range mx.Messages() {
		if len(got.To) == 1 && (got.To[0] == dora || got.To[0] == eve) {
			resent++
			if !strings.Contains(string(got.Data), "Subject: Receipt 77") || !strings.Contains(string(got.Data), "Your receipt.") ||
				strings.Contains(string(got.Data), id) {
				t.Errorf("resent copy for %s is not the stored message under a new Message-ID:\n%s", got.To[0], got.Data)
			}
		}
	}
	if resent != 2 {
		t.Errorf("the MX got %d resent copies, want 2", resent)
	}
	for _, e := range d.events(t, newID) {
		if e.Event == "accepted" && (len(e.Tags) != 1 || e.Tags[0] != "receipts") {
			t.Errorf("resent accepted event tags = %v, want the original's", e.Tags)
		}
	}
	if after := len(d.events(t, id)); after != before {
		t.Errorf("the original has %d events after the resend, %d before", after, before)
	}
	b.noConsoleErrors()
	phone.noConsoleErrors()
}
