package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/mailgun/mailgun-go/v4"
)

// TestBrowserTags follows Sending → Tags: messages sent with tags through
// mailgun-go make the tags, listed with their counts; a tag's Stats link
// shows its counts only; a tag is deleted with its counters.
func TestBrowserTags(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	for _, tags := range [][]string{{"welcome"}, {"welcome", "promo"}, {"promo"}, {"promo"}} {
		m := mailgun.NewMessage("App <app@"+testDomain+">", "Tagged", "hi", "someone@dest.example")
		for _, tag := range tags {
			if err := m.AddTag(tag); err != nil {
				t.Fatal(err)
			}
		}
		f.send(t, f.sendingKey, m)
	}
	b := loggedIn(t, f.dash, desktopW, desktopH)
	confirms := b.acceptDialogs()
	b.do("open Tags", loads(chromedp.Click(chromedp.ID("nav-tags"))), chromedp.WaitVisible(chromedp.ID("tags")))
	rows := eval[[]string](b, `[...document.querySelectorAll("#tags tr.tag-row")].map(tr => tr.dataset.tag + "=" + tr.querySelector('[data-event="accepted"]').textContent)`)
	if strings.Join(rows, " ") != "promo=3 welcome=2" {
		t.Fatalf("tags listed = %q, want promo=3 welcome=2", rows)
	}
	if got := b.text(`tr[data-tag="welcome"] td[data-label="First used"]`); got == "never" || got == "" {
		t.Errorf("first used = %q", got)
	}
	b.snap("tags-desktop")

	b.do("open promo's stats", loads(chromedp.Click(chromedp.CSS(`tr[data-tag="promo"] a.tag-stats`))), chromedp.WaitVisible(chromedp.ID("stats-table")))
	if got := b.text("#stats-tag-shown"); got != "promo" {
		t.Errorf("stats heading tag = %q", got)
	}
	if got := b.text(`#stats-table tfoot td[data-event="accepted"]`); got != "3" {
		t.Errorf("promo's accepted total on the Stats page = %q, want 3", got)
	}
	b.do("back to Tags", chromedp.Navigate(f.Base+"/dashboard/tags?domain="+testDomain), chromedp.WaitVisible(chromedp.ID("tags")))
	b.do("delete welcome", loads(chromedp.Click(chromedp.CSS(`tr[data-tag="welcome"] button.danger`))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := confirms(); len(got) != 1 || got[0] != "Delete tag welcome and its counters?" {
		t.Errorf("confirmations = %q", got)
	}
	if b.exists(`tr[data-tag="welcome"]`) || !b.exists(`tr[data-tag="promo"]`) {
		t.Errorf("after delete the list is %q", b.text("#tags"))
	}
	if _, err := f.Regional.Tag(context.Background(), testDomain, "welcome"); err == nil {
		t.Error("the tag is still stored")
	}
	b.do("search by prefix", chromedp.SetValue(chromedp.ID("tags-prefix"), "zz"), loads(chromedp.Click(chromedp.ID("tags-show"))),
		chromedp.WaitVisible(chromedp.ID("no-tags")))
	b.do("phone", chromedp.EmulateViewport(phoneW, phoneH), chromedp.Navigate(f.Base+"/dashboard/tags"), chromedp.WaitVisible(chromedp.ID("tags")))
	phoneFits(b, "the Tags page")
	b.snap("tags-phone")
	b.noConsoleErrors()
}
