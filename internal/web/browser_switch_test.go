package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/store"
)

// TestBrowserAccountSwitch: the parent switches the dashboard into a
// subaccount and back. Inside it the Domains list is the subaccount's, a
// parent domain's pages are 404s, a domain added and a sending key created
// belong to the subaccount; back in the parent, the parent sees only its
// own domains and the subaccount's domain page is a 404.
func TestBrowserAccountSwitch(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	ctx := context.Background()
	if err := d.Global.CreateSubaccount(ctx, store.Subaccount{ID: "acme0123456789", Name: "Acme", Status: store.SubaccountOpen, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	const acmeID = "acme0123456789"
	const acmeDomain = "acme.example.com"
	if _, err := d.Domains.Create(ctx, domains.CreateRequest{Name: acmeDomain, AccountID: acmeID, Owner: acmeID}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Domains.Create(ctx, domains.CreateRequest{Name: testDomain}); err != nil {
		t.Fatal(err)
	}
	b := loggedIn(t, d, desktopW, desktopH)
	domainsList := func() string { return b.text("#domains") }

	b.do("open Domains", chromedp.Navigate(d.Base+"/dashboard/domains"), chromedp.WaitVisible(chromedp.ID("domains")))
	if got := domainsList(); !strings.Contains(got, testDomain) || strings.Contains(got, acmeDomain) {
		t.Errorf("parent's Domains = %q", got)
	}
	if got := b.text("#acting-in"); !strings.Contains(got, "parent account") {
		t.Errorf("parent's banner = %q", got)
	}
	b.do("open Acme's domain as the parent", chromedp.Navigate(d.Base+"/dashboard/domains/"+acmeDomain), chromedp.WaitVisible(chromedp.ID("main")))
	if got := b.text("#error-message"); got != "Domain not found" {
		t.Errorf("Acme's domain in the parent = %q", got)
	}

	b.do("choose Acme", chromedp.Navigate(d.Base+"/dashboard/domains"), chromedp.WaitVisible(chromedp.ID("account-select")),
		chromedp.SetValue(chromedp.ID("account-select"), acmeID))
	b.do("switch", loads(chromedp.Click(chromedp.ID("account-switch-go"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := b.text("#acting-in"); !strings.Contains(got, "Acme") || !strings.Contains(got, acmeID) {
		t.Errorf("Acme's banner = %q", got)
	}
	b.do("open Domains in Acme", chromedp.Navigate(d.Base+"/dashboard/domains"), chromedp.WaitVisible(chromedp.ID("domains")))
	if got := domainsList(); !strings.Contains(got, acmeDomain) || strings.Contains(got, testDomain) {
		t.Errorf("Acme's Domains = %q", got)
	}
	for _, path := range []string{"/dashboard/domains/" + testDomain, "/dashboard/domains/" + testDomain + "/settings/sending-keys",
		"/dashboard/logs?domain=" + testDomain} {
		b.do("open "+path+" in Acme", chromedp.Navigate(d.Base+path), chromedp.WaitVisible(chromedp.ID("main")))
		if got := b.text("#error-message"); got != "Domain not found" {
			t.Errorf("%s in Acme = %q", path, got)
		}
	}
	// The 404 is the status too, not only the text.
	c := d.client(t)
	c.login(testEmail, testPassword)
	if p := c.get("/dashboard/domains/" + acmeDomain); p.StatusCode != http.StatusNotFound {
		t.Errorf("another session, parent: Acme's domain = %d", p.StatusCode)
	}

	b.do("open Acme's sending keys", chromedp.Navigate(d.Base+"/dashboard/domains/"+acmeDomain+"/settings/sending-keys"), chromedp.WaitVisible(chromedp.ID("key-description")))
	b.fill(map[string]string{"key-description": "acme app"})
	b.do("create a key", loads(chromedp.Click(chromedp.ID("create-key"))), chromedp.WaitVisible(chromedp.ID("new-secret")))
	keys, err := d.Keys.List(ctx, store.KeyFilter{AccountID: acmeID})
	if err != nil || len(keys) != 1 || keys[0].Description != "acme app" || keys[0].DomainName != acmeDomain {
		t.Errorf("Acme's keys = %+v, %v", keys, err)
	}
	b.do("add a domain in Acme", chromedp.Navigate(d.Base+"/dashboard/domains"), chromedp.WaitVisible(chromedp.ID("domain-name")))
	b.fill(map[string]string{"domain-name": "second.acme.example.com"})
	b.do("add", loads(chromedp.Click(chromedp.ID("add-domain"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if dom, err := d.Regional.Domain(ctx, "second.acme.example.com"); err != nil || dom.AccountID != acmeID {
		t.Errorf("added domain's owner = %q, %v", dom.AccountID, err)
	}
	if dn, err := d.Global.DomainName(ctx, "second.acme.example.com"); err != nil || dn.AccountID != acmeID {
		t.Errorf("added domain's global account = %q, %v", dn.AccountID, err)
	}
	b.do("open API Keys in Acme", chromedp.Navigate(d.Base+"/dashboard/account/api-keys"), chromedp.WaitVisible(chromedp.ID("main")))
	if got := b.text("main"); !strings.Contains(got, keys[0].ID) {
		t.Errorf("Acme's API Keys page lacks its key %s: %q", keys[0].ID, got)
	}

	b.do("choose the parent", chromedp.WaitVisible(chromedp.ID("account-select")), chromedp.SetValue(chromedp.ID("account-select"), ""))
	b.do("switch back", loads(chromedp.Click(chromedp.ID("account-switch-go"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	b.do("open Domains in the parent", chromedp.Navigate(d.Base+"/dashboard/domains"), chromedp.WaitVisible(chromedp.ID("domains")))
	if got := domainsList(); !strings.Contains(got, testDomain) || strings.Contains(got, "acme") {
		t.Errorf("parent's Domains after switching back = %q", got)
	}
	b.do("open API Keys in the parent", chromedp.Navigate(d.Base+"/dashboard/account/api-keys"), chromedp.WaitVisible(chromedp.ID("main")))
	if got := b.text("main"); strings.Contains(got, keys[0].ID) {
		t.Errorf("parent's API Keys page shows Acme's key %s", keys[0].ID)
	}
	b.noConsoleErrors()
}
