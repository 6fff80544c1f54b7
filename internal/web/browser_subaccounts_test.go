package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/store"
)

// TestBrowserSubaccounts follows Account Settings → Subaccounts: none at
// first, one refused without a name, two created (one named with markup,
// shown as text), a subaccount's domain listed under it, and one disabled
// and enabled again after confirming; on a phone and a desktop.
func TestBrowserSubaccounts(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	ctx := context.Background()
	b := loggedIn(t, d, phoneW, phoneH)
	confirms := b.acceptDialogs()
	b.do("open the dashboard", chromedp.Navigate(d.Base+"/dashboard/"), chromedp.WaitVisible(chromedp.ID("main")))
	b.openNav()
	b.do("follow the navigation", loads(chromedp.Click(chromedp.ID("nav-subaccounts"))), chromedp.WaitVisible(chromedp.ID("no-subaccounts")))

	eval[bool](b, `document.getElementById("subaccount-name").removeAttribute("required") || true`)
	b.fill(map[string]string{"subaccount-name": "   "})
	b.do("create one without a name", loads(chromedp.Click(chromedp.ID("subaccount-create"))), chromedp.WaitVisible(chromedp.ID("main")))
	if got := b.text("#form-error"); !strings.Contains(got, "name") {
		t.Errorf("error for no name = %q", got)
	}
	b.fill(map[string]string{"subaccount-name": "Acme <i>Corp</i>"})
	b.do("create Acme", loads(chromedp.Click(chromedp.ID("subaccount-create"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	b.fill(map[string]string{"subaccount-name": "Beta"})
	b.do("create Beta", loads(chromedp.Click(chromedp.ID("subaccount-create"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	subs, total, err := d.Global.Subaccounts(ctx, store.SubaccountFilter{}, 0, 10)
	if err != nil || total != 2 || subs[0].Name != "Acme <i>Corp</i>" || subs[0].Status != store.SubaccountOpen || subs[1].Name != "Beta" {
		t.Fatalf("stored subaccounts = %+v, %d, %v", subs, total, err)
	}
	acme := subs[0].ID
	if _, err := d.Domains.Create(ctx, domains.CreateRequest{Name: "acme.example.com", AccountID: acme, Owner: acme}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Domains.Create(ctx, domains.CreateRequest{Name: testDomain}); err != nil {
		t.Fatal(err)
	}
	b.do("reload", chromedp.Navigate(d.Base+"/dashboard/subaccounts"), chromedp.WaitVisible(chromedp.ID("subaccounts")))
	row := `tr.subaccount[data-id="` + acme + `"]`
	if got := b.text(row + " .name"); got != "Acme <i>Corp</i>" || b.exists(row+" i") {
		t.Errorf("name cell = %q (markup must show as text)", got)
	}
	if got := b.text(row + " .domains"); got != "acme.example.com" {
		t.Errorf("Acme's domains = %q", got)
	}
	if got := b.text(`tr.subaccount:not([data-id="` + acme + `"]) .domains`); got != "none" {
		t.Errorf("Beta's domains = %q", got)
	}
	if got := b.text("#primary-domains"); !strings.Contains(got, "owns 1 domain") {
		t.Errorf("parent's domains = %q", got)
	}
	if got := b.text(row + " .status"); got != "enabled" {
		t.Errorf("status = %q", got)
	}
	phoneFits(b, "the Subaccounts page")
	b.snap("subaccounts-phone")

	b.do("disable Acme", loads(chromedp.Click(chromedp.CSS(row+" button.disable"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := b.text(row + " .status"); got != "disabled" {
		t.Errorf("status after disable = %q", got)
	}
	if a, err := d.Global.Subaccount(ctx, acme); err != nil || a.Status != store.SubaccountDisabled {
		t.Errorf("stored after disable: %+v, %v", a, err)
	}
	b.do("desktop", chromedp.EmulateViewport(desktopW, desktopH))
	b.snap("subaccounts-desktop")
	b.do("enable Acme", loads(chromedp.Click(chromedp.CSS(row+" button.enable"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if a, err := d.Global.Subaccount(ctx, acme); err != nil || a.Status != store.SubaccountOpen {
		t.Errorf("stored after enable: %+v, %v", a, err)
	}
	got := confirms()
	if len(got) != 2 || !strings.HasPrefix(got[0], "Disable subaccount Acme <i>Corp</i>?") || !strings.HasPrefix(got[1], "Enable subaccount Acme <i>Corp</i>?") {
		t.Errorf("confirmations = %q", got)
	}
	b.noConsoleErrors()
}
