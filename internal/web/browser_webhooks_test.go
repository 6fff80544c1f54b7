package web_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/testutil"
)

// hookURLs returns the URLs the Webhooks tab lists for kind.
func (b *tab) hookURLs(kind string) []string {
	return eval[[]string](b, `[...document.querySelectorAll('tr.hook-kind[data-kind="`+kind+`"] li.hook-url')].map(li => li.dataset.url)`)
}

// TestBrowserWebhooks follows Domain Settings → Webhooks: add a URL of a
// local receiver that answers 503 for the accepted events, send a
// message, and see the attempt listed with its status and next retry;
// then replace the URL and delete it; on a phone-sized screen.
func TestBrowserWebhooks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	signing, err := f.Keys.SigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rcv := testutil.StartWebhookReceiver(t, signing)
	rcv.Respond(func(*http.Request, testutil.WebhookPost, int) int { return http.StatusServiceUnavailable })
	b := loggedIn(t, f.dash, phoneW, phoneH)
	confirms := b.acceptDialogs()

	b.do("open Domain Settings", chromedp.Navigate(f.Base+"/dashboard/domains/"+testDomain),
		loads(chromedp.Click(chromedp.CSS(`a[href$="/settings/sending-keys"]`))), chromedp.WaitVisible(chromedp.ID("settings-tab-webhooks")))
	b.do("open the Webhooks tab", loads(chromedp.Click(chromedp.ID("settings-tab-webhooks"))), chromedp.WaitVisible(chromedp.ID("hook-url")))
	if got := b.text(`.tabs.sub a[aria-current="page"]`); got != "Webhooks" {
		t.Errorf("current settings tab = %q", got)
	}
	if !b.exists("#no-attempts") {
		t.Error("a domain without webhooks lists deliveries")
	}
	b.do("add the receiver for accepted events", chromedp.SetValue(chromedp.ID("hook-kind"), "accepted"),
		chromedp.SendKeys(chromedp.ID("hook-url"), rcv.URL), loads(chromedp.Click(chromedp.ID("hook-add-button"))),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := b.hookURLs("accepted"); !slices.Equal(got, []string{rcv.URL}) {
		t.Fatalf("accepted URLs = %v", got)
	}
	if set, err := f.Regional.Webhooks(context.Background(), testDomain); err != nil || !slices.Equal(set["accepted"], []string{rcv.URL}) {
		t.Fatalf("stored webhooks = %v, %v", set, err)
	}

	id := f.send(t, f.sendingKey, mailgun.NewMessage("App <app@"+testDomain+">", "Hooked", "hi", "someone@dest.example"))
	posts := rcv.WaitPosts(t, 1, waitTimeout)
	if posts[0].Event != "accepted" || !posts[0].Verified {
		t.Fatalf("the receiver got %+v", posts[0])
	}
	state := `.hook-state[data-url="` + rcv.URL + `"]`
	b.waitText("see the failed attempt", state+" .failures", "1")
	if got := b.text(state + " .last-status"); got != "HTTP 503" {
		t.Errorf("last status = %q", got)
	}
	retry := b.text(state + ` tr.retry[data-kind="accepted"]`)
	if !strings.Contains(retry, posts[0].ID) || !strings.Contains(retry, "HTTP 503") ||
		!strings.Contains(retry, "in 5m0s") && !strings.Contains(retry, "in 4m59s") && !strings.Contains(retry, "in 4m58s") {
		// The page is drawn a moment after the attempt: a busy machine may round it to a second or two less.
		t.Errorf("retry row = %q, want the event %s, its 503 and the next retry in 5 minutes", retry, posts[0].ID)
	}
	if got := f.events(t, id); len(got) == 0 {
		t.Fatal("no events of the message")
	}
	phoneFits(b, "the Webhooks tab")

	next := rcv.URL + "?v=2"
	b.do("replace the URL", chromedp.Click(chromedp.CSS(`tr[data-kind="accepted"] details.replace summary`)),
		chromedp.SetValue(chromedp.ID("replace-accepted-0"), next),
		loads(chromedp.Click(chromedp.CSS(`tr[data-kind="accepted"] details.replace button`))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := b.hookURLs("accepted"); !slices.Equal(got, []string{next}) {
		t.Fatalf("accepted URLs after replace = %v", got)
	}
	b.do("delete it", loads(chromedp.Click(chromedp.CSS(`tr[data-kind="accepted"] li.hook-url button.danger`))),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := confirms(); len(got) != 1 || got[0] != "Stop posting accepted events to "+next+"?" {
		t.Errorf("confirmations = %q", got)
	}
	if got := b.hookURLs("accepted"); len(got) != 0 {
		t.Errorf("accepted URLs after delete = %v", got)
	}
	if !b.exists("#no-attempts") {
		t.Error("deliveries of a deleted URL are still listed")
	}
	if html := b.html(); strings.Contains(html, f.Key) || strings.Contains(html, signing) {
		t.Error("the page shows the primary key or the signing key")
	}
	b.noConsoleErrors()
}

// waitText reloads the page until sel's text is want.
func (b *tab) waitText(step, sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		b.do(step, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("main")))
		if b.exists(sel) && b.text(sel) == want {
			return
		}
		if time.Now().After(deadline) {
			b.snap(step)
			b.t.Fatalf("%s: %s is not %q after %v", step, sel, want, waitTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
