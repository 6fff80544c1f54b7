package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/salvo-email/salvo/internal/domains"
)

// TestBrowserDeleteDomain: a domain is deleted from its page only once
// its name is typed again; then it is gone from the list and the store.
func TestBrowserDeleteDomain(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	if _, err := d.Domains.Create(context.Background(), domains.CreateRequest{Name: testDomain}); err != nil {
		t.Fatal(err)
	}
	b := loggedIn(t, d, desktopW, desktopH)
	b.do("open the domain", chromedp.Navigate(d.Base+"/dashboard/domains/"+testDomain), chromedp.WaitVisible(chromedp.ID("domain-delete-confirm")))
	b.fill(map[string]string{"domain-delete-confirm": "other.example.com"})
	b.do("delete with another name", loads(chromedp.Click(chromedp.ID("domain-delete-button"))), chromedp.WaitVisible(chromedp.ID("form-error")))
	if got := b.text("#form-error"); !strings.Contains(got, "Type the domain's name") {
		t.Errorf("error = %q", got)
	}
	if _, err := d.Domains.Get(context.Background(), testDomain); err != nil {
		t.Fatalf("the domain went with a wrong name: %v", err)
	}
	b.fill(map[string]string{"domain-delete-confirm": testDomain})
	b.do("delete it", loads(chromedp.Click(chromedp.ID("domain-delete-button"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := b.text(".notice"); got != "Domain "+testDomain+" was deleted." {
		t.Errorf("notice = %q", got)
	}
	if b.exists(`#domains a[href="/dashboard/domains/` + testDomain + `"]`) {
		t.Error("the deleted domain is listed")
	}
	if _, err := d.Domains.Get(context.Background(), testDomain); err == nil {
		t.Error("the domain is still stored")
	}
	b.noConsoleErrors()
}
