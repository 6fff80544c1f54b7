package web_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/mailgun/mailgun-go/v4"
)

// TestBrowserOverview opens /dashboard/ (the brand link) after sending
// through mailgun-go: its 24-hour and 7-day counts are those of the
// Events API, the queue is summed up, and the unverified domain is listed
// as needing DNS attention; at desktop and phone width.
func TestBrowserOverview(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	f.send(t, f.sendingKey, mailgun.NewMessage("App <app@"+testDomain+">", "Second", "hi", "other@example.org"))
	b := loggedIn(t, f.dash, desktopW, desktopH)
	b.do("open the Overview", loads(chromedp.Click(chromedp.CSS(".brand"))), chromedp.WaitVisible(chromedp.ID("overview-counts")))
	if got := b.text(`a[aria-current="page"]`); got != "Overview" {
		t.Errorf("current nav = %q", got)
	}
	cell := func(row string, col int) string {
		return eval[string](b, `document.querySelectorAll('#overview-counts tr[data-row="`+row+`"] td')[`+strconv.Itoa(col)+`].textContent.trim()`)
	}
	counts := dayCounts{}
	f.eventCounts(t, counts, testDomain)
	for col := range 2 {
		if got := cell("accepted", col); got != strconv.Itoa(counts.total("accepted")) || got != "2" {
			t.Errorf("sent in column %d = %q; the Events API counts %d accepted", col, got, counts.total("accepted"))
		}
	}
	if got := cell("delivered", 0); !strings.HasPrefix(got, strconv.Itoa(counts.total("delivered"))+" ") {
		t.Errorf("delivered = %q; the Events API counts %d", got, counts.total("delivered"))
	}
	if got := cell("opened", 1); !strings.HasSuffix(got, "–") && !strings.HasSuffix(got, "%") {
		t.Errorf("opened = %q, want a rate", got)
	}
	if !b.exists(`#attention li[data-domain="` + testDomain + `"]`) {
		t.Errorf("the unverified domain is not listed for attention: %q", b.text("#attention-title + *"))
	}
	if got := b.text("#queue-waiting"); got == "" {
		t.Error("no queue count")
	}
	if n := eval[int](b, `document.querySelectorAll("#stats-chart polyline").length`); n != 5 {
		t.Errorf("%d chart lines, want 5", n)
	}
	b.snap("overview-desktop")
	b.do("phone", chromedp.EmulateViewport(phoneW, phoneH), chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("overview-counts")))
	phoneFits(b, "the Overview")
	b.snap("overview-phone")
	// On a phone the navigation folds behind the Menu button.
	navShown := func() bool { return eval[bool](b, `document.getElementById("main-nav").offsetParent !== null`) }
	if navShown() {
		t.Error("the navigation is open on a phone before Menu is clicked")
	}
	if h := eval[float64](b, `document.querySelector("header.top").getBoundingClientRect().height`); h > phoneH/6 {
		t.Errorf("the folded header is %.0f px high on a %d px screen", h, phoneH)
	}
	b.do("open the menu", chromedp.Click(chromedp.ID("nav-toggle")), chromedp.WaitVisible(chromedp.ID("nav-routes")))
	if got := eval[string](b, `document.getElementById("nav-toggle").getAttribute("aria-expanded")`); got != "true" {
		t.Errorf("Menu's aria-expanded = %q", got)
	}
	b.snap("overview-phone-menu")
	b.do("go to Routes", loads(chromedp.Click(chromedp.ID("nav-routes"))), chromedp.WaitVisible(chromedp.ID("route-test")))
	if navShown() {
		t.Error("the navigation is open on the next page")
	}
	b.do("desktop", chromedp.EmulateViewport(desktopW, desktopH), chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("route-test")))
	if !navShown() || eval[bool](b, `document.getElementById("nav-toggle").offsetParent !== null`) {
		t.Error("on a desktop the navigation is folded or Menu is shown")
	}
	b.noConsoleErrors()
}
