package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-smtp"
	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestBrowserQueueShaping: a receiving server that answers 421 4.7.0
// "slow down" pauses the destination's shaping, and the queue page shows
// it on a phone: the group, the lowered rate, paused until when, and why.
func TestBrowserQueueShaping(t *testing.T) {
	t.Parallel()
	mx := testutil.StartFakeMX(t, testutil.MXOptions{})
	mx.SetRcptReply(func(string) *smtp.SMTPError {
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Too many messages, slow down"}
	})
	d := startDash(t, dashOptions{configure: func(c *config.Config) { c.Smarthost = mx.Addr }})
	if _, err := d.Domains.Create(context.Background(), domains.CreateRequest{Name: testDomain}); err != nil {
		t.Fatal(err)
	}
	id := d.send(t, d.Key, mailgun.NewMessage("Shop <shop@"+testDomain+">", "Hello", "Hello", "ann@slow.example"))
	d.waitEvent(t, id, "failed", "temporary", "ann@slow.example")

	b := loggedIn(t, d, phoneW, phoneH)
	b.do("open the queue", chromedp.Navigate(d.Base+"/dashboard/queue"), chromedp.WaitVisible(chromedp.ID("shaping")))
	row := `#shaping tr[data-group="default"][data-destination="slow.example"]`
	if got := b.text(row + " .shaping-state"); !strings.HasPrefix(got, "paused until") ||
		!strings.Contains(got, "throttled by") || !strings.Contains(got, "421 4.7.0 Too many messages, slow down") {
		t.Errorf("shaping state = %q, want paused until …, throttled by … 421 4.7.0", got)
	}
	// Nothing was accepted before the throttle: the default group's floor.
	if got := b.text(row + " .shaping-rate"); got != "10" {
		t.Errorf("shaping rate = %q, want the 10/min floor", got)
	}
	phoneFits(b, "the queue page with shaping")
	b.noConsoleErrors()
}
