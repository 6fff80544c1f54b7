package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/salvo-email/salvo/internal/testutil"
)

// TestBrowserWebhookTestButton: on Domain Settings → Webhooks the Test
// button posts a signed sample event of the URL's kind and says what the
// URL answered (a 200, then a 503), and the eye icon shows the account's
// HTTP webhook signing key, which is on no page before.
func TestBrowserWebhookTestButton(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	signing, err := f.Keys.SigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rcv := testutil.StartWebhookReceiver(t, signing)
	b := loggedIn(t, f.dash, desktopW, desktopH)
	b.do("open the Webhooks tab", chromedp.Navigate(f.Base+"/dashboard/domains/"+testDomain+"/settings/webhooks"), chromedp.WaitVisible(chromedp.ID("hook-url")))
	if strings.Contains(b.html(), signing) {
		t.Fatal("the signing key is on the page before the eye icon is clicked")
	}
	b.do("add the receiver for clicked events", chromedp.SetValue(chromedp.ID("hook-kind"), "clicked"),
		chromedp.SendKeys(chromedp.ID("hook-url"), rcv.URL), loads(chromedp.Click(chromedp.ID("hook-add-button"))),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	test := `tr[data-kind="clicked"] button.hook-test`
	b.do("test it", loads(chromedp.Click(chromedp.CSS(test))), chromedp.WaitVisible(chromedp.ID("main")))
	if got := b.text(".notice"); !strings.Contains(got, "sample clicked event was posted to "+rcv.URL) || !strings.Contains(got, "answered HTTP 200") {
		t.Errorf("after Test: %q", got)
	}
	posts := rcv.WaitPosts(t, 1, waitTimeout)
	if p := posts[0]; p.Event != "clicked" || !p.Verified || !p.Parsed || p.Problem != "" {
		t.Fatalf("the receiver got %+v", p)
	}
	rcv.Respond(func(*http.Request, testutil.WebhookPost, int) int { return http.StatusServiceUnavailable })
	b.do("test it again", loads(chromedp.Click(chromedp.CSS(test))), chromedp.WaitVisible(chromedp.ID("form-error")))
	if got := b.text("#form-error"); !strings.Contains(got, "answered HTTP 503") || !strings.Contains(got, "would be retried") {
		t.Errorf("after a failing Test: %q", got)
	}
	if n := len(rcv.Posts()); n != 2 {
		t.Errorf("the receiver got %d posts, want 2", n)
	}

	b.do("show the signing key", chromedp.Click(chromedp.ID("signing-reveal")), chromedp.WaitVisible(chromedp.CSS("#signing-copy button")))
	if got := b.text("#signing-key"); got != signing {
		t.Fatalf("revealed %q, want the signing key", got)
	}
	if got := eval[string](b, `document.getElementById("signing-reveal").getAttribute("aria-label")`); got != "Hide signing key" {
		t.Errorf("eye icon label after reveal = %q", got)
	}
	b.snap("webhooks-desktop")
	b.do("hide it", chromedp.Click(chromedp.ID("signing-reveal")), chromedp.WaitNotVisible(chromedp.CSS("#signing-copy button")))
	if strings.Contains(b.html(), signing) {
		t.Fatal("the key stays on the page after hiding it")
	}
	b.do("phone", chromedp.EmulateViewport(phoneW, phoneH), chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("signing-reveal")))
	phoneFits(b, "the Webhooks tab")
	b.snap("webhooks-phone")
	b.noConsoleErrors()
}
