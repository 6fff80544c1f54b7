package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserDomainVerifyShowsDNS: a refused form keeps what was typed
// (the domain's name; a new user's email and name, never the passwords);
// after a verify each record says what DNS returned and when it was
// checked. Desktop and phone.
func TestBrowserDomainVerifyShowsDNS(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	b := loggedIn(t, d, desktopW, desktopH)
	b.do("open Domains", chromedp.Navigate(d.Base+"/dashboard/domains"), chromedp.WaitVisible(chromedp.ID("domain-name")))
	b.fill(map[string]string{"domain-name": "not a domain"})
	b.do("add a bad name", loads(chromedp.Click(chromedp.ID("add-domain"))), chromedp.WaitVisible(chromedp.ID("form-error")))
	if got := eval[string](b, `document.getElementById("domain-name").value`); got != "not a domain" {
		t.Errorf("the name field after the error = %q, want what was typed", got)
	}
	b.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("domain-name")))
	if got := eval[string](b, `document.getElementById("domain-name").value`); got != "" {
		t.Errorf("the typed name stays after a reload: %q", got)
	}

	b.do("open Users", chromedp.Navigate(d.Base+"/dashboard/account/users"), chromedp.WaitVisible(chromedp.ID("user-email")))
	b.fill(map[string]string{"user-email": "new@example.com", "user-name": "New <One>", "user-password": "first password", "user-password2": "other password"})
	b.do("add a user with two passwords", loads(chromedp.Click(chromedp.ID("add-user"))), chromedp.WaitVisible(chromedp.ID("form-error")))
	kept := eval[[]string](b, `["user-email", "user-name", "user-password", "user-password2"].map(id => document.getElementById(id).value)`)
	if strings.Join(kept, "|") != "new@example.com|New <One>||" {
		t.Errorf("the add-user fields after the error = %q, want email and name kept, passwords empty", kept)
	}
	if strings.Contains(b.html(), "first password") {
		t.Error("a typed password is on the page")
	}

	b.do("open Domains", chromedp.Navigate(d.Base+"/dashboard/domains"), chromedp.WaitVisible(chromedp.ID("domain-name")))
	b.fill(map[string]string{"domain-name": testDomain})
	b.do("add the domain", loads(chromedp.Click(chromedp.ID("add-domain"))), chromedp.WaitVisible(chromedp.ID("verify")))
	if got := b.text(`tr[data-check="spf"] .dns-found`); got != "not checked yet" {
		t.Errorf("SPF before any check: %q", got)
	}
	dom, err := d.Domains.Get(context.Background(), testDomain)
	if err != nil {
		t.Fatal(err)
	}
	const wrongSPF = "v=spf1 include:elsewhere.example -all"
	d.DNS.Add(t, fmt.Sprintf("%s. 60 IN TXT %q", testDomain, wrongSPF))
	var dkimValue string
	for _, r := range d.Domains.Records(dom) {
		if r.Check == "dkim" {
			dkimValue = r.Value
			d.DNS.Add(t, fmt.Sprintf("%s. 60 IN TXT %q", r.Name, r.Value))
		}
	}
	b.do("verify", loads(chromedp.Click(chromedp.ID("verify"))), chromedp.WaitVisible(chromedp.ID("form-error")))
	spf := b.text(`tr[data-check="spf"] .dns-found`)
	if !strings.Contains(spf, wrongSPF) || !strings.Contains(spf, "checked "+time.Now().UTC().Format("2006-01-02")) {
		t.Errorf("SPF row says %q, want what DNS returned and when", spf)
	}
	if got := b.text(`tr[data-check="spf"] .badge`); got != "invalid" {
		t.Errorf("SPF status = %q", got)
	}
	if got := b.text(`tr[data-check="dkim"] .dns-found code.found`); got != dkimValue {
		t.Errorf("DKIM found = %q, want %q", got, dkimValue)
	}
	if got := b.text(`tr[data-check="mx"] .dns-found`); !strings.HasPrefix(got, "no record") {
		t.Errorf("MX row = %q, want no record", got)
	}
	b.snap("domain-verify-desktop")
	b.noConsoleErrors()

	p := loggedIn(t, d, phoneW, phoneH)
	p.do("open the domain on a phone", chromedp.Navigate(d.Base+"/dashboard/domains/"+testDomain), chromedp.WaitVisible(chromedp.ID("verify")))
	phoneFits(p, "the domain page with what DNS returned")
	p.snap("domain-verify-phone")
	p.noConsoleErrors()
}
